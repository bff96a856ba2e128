"""
The supervised ceiling: a positive control for every nursery task. A small CNN learns, from the training
recordings' frames and the nursery's ground truth (raw/truth/), what each frame shows: the kinds and places
in view, each kind's colour, how many of each, which way each faces and where, and what a caregiver looks at.
evaluate.py answers the suites with it through the same readouts as a model (kinds/readouts.py):
    Match(picture, text)     the mean log-probability of what the text claims: a kind or place in view, a
                             colour of a kind, a number of a kind; a kind named while a face is in view is
                             also what the face looks at
    ImageSim(a, b)           the cosine of the two pictures' predicted attributes (the probes' features too)
    surprise(clip)           how far the kinds and colours seen last are from those seen first: what was
                             there should still be there, unchanged, when the screen is gone
It never hears a word of speech and never sees a benchmark stimulus while it learns, so a task it passes is
solvable from 64 px frames with the skill written into its labels; a task it fails needs more than one
frame's attributes (motion, relations) or is out of the nursery's reach. It writes no captions.
    python ceiling.py                                    # out/ceiling/ckpt.pt from data/nursery and its truth
    python evaluate.py --ckpt=out/ceiling/ckpt.pt        # the ceiling's row of every nursery task
"""
import glob
import json
import math
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from atomic import atomic_path, hold_lock
from configurator import require
from scoring import NUMBER_WORDS

# -----------------------------------------------------------------------------
data_dir = 'data/nursery'       # a corpus prepared by prepare.py from the nursery
truth_dir = ''                  # the render's truth/ ('' = <prepare's input_dir>/truth)
out_dir = 'out/ceiling'
seed = 1337
max_iters = 2000
batch_size = 64
learning_rate = 2e-3
width = 32                      # channels of the first convolution; each of the 4 stride-2 layers doubles it
threads = 0                     # torch threads (0: torch's default)
# -----------------------------------------------------------------------------

KIND = 'supervised ceiling'     # the checkpoint's 'kind': evaluate.py reads such a checkpoint with Ceiling
MAX_COUNT = 7                   # count classes 0..7, the last one "7 or more"
NEAR_SECOND = 0.11              # frames this close to a truth second (whose scene truth stores) are labelled
VISIBLE = 0.5                   # a thing is in view when half of it is (exposure.py's rule)
GRID = 4                        # cells a side of the map read for where each kind and colour is

# ----------------------------------------------------------------------------- labels from the truth

def crop_box(view_w, view_h):
    """The part of the view prepare.py keeps: the centred square of the shorter side."""
    side = min(view_w, view_h)
    return (view_w - side) / 2, (view_h - side) / 2, (view_w + side) / 2, (view_h + side) / 2

def things_in_crop(second, crop, box_of):
    """The things of a truth second that are half in view with their centre inside the crop, each with its box
    in the crop's units (0-1), front-most last (world.render_frame's drawing order)."""
    out = []
    for i, o in enumerate(second['scene']['objects']):
        if o['screen'] or second['visible'].get(o['id'], 0.0) < VISIBLE:
            continue
        x0, y0, x1, y1 = box_of(o, second['scene']['camera'])
        if not (crop[0] <= (x0 + x1) / 2 < crop[2] and crop[1] <= (y0 + y1) / 2 < crop[3]):
            continue
        side = crop[2] - crop[0]
        box = ((x0 - crop[0]) / side, (y0 - crop[1]) / side, (x1 - crop[0]) / side, (y1 - crop[1]) / side)
        out.append(dict(o, box=box, order=(o['z'], o['y'], i)))
    return sorted(out, key=lambda o: o['order'])

def vocabulary(truths):
    """The label space, from the truth itself: the kinds, places and colours of things ever in view."""
    kinds, places, colours = set(), set(), set()
    for truth in truths:
        for s in truth['seconds']:
            places.add(s['scene']['background'])
            for o in s['scene']['objects']:
                if not o['screen']:
                    kinds.add(o['category'])
                    colours.add(o['color'])
    return dict(kinds=sorted(kinds), places=sorted(places), colours=sorted(colours))

def cell_labels(things, vocab):
    """Per cell of a GRID x GRID grid over the crop: the kind of the front-most thing covering its centre (or
    len(kinds): none), that thing's colour and whether it faces the other way (-1 where none)."""
    kind = np.full(GRID * GRID, len(vocab['kinds']), np.int64)
    colour, flip = np.full(GRID * GRID, -1, np.int64), np.full(GRID * GRID, -1, np.int64)
    for o in things:  # front-most last: it wins the cells it covers
        x0, y0, x1, y1 = o['box']
        for c in range(GRID * GRID):
            cx, cy = (c % GRID + 0.5) / GRID, (c // GRID + 0.5) / GRID
            if x0 <= cx < x1 and y0 <= cy < y1:
                kind[c] = vocab['kinds'].index(o['category'])
                colour[c] = vocab['colours'].index(o['color'])
                flip[c] = int(o['flip'])
    return kind, colour, flip

def second_labels(second, things, vocab):
    """The label arrays of one truth second (the things already narrowed to the crop)."""
    k = len(vocab['kinds'])
    present, counts = np.zeros(k + len(vocab['places']), np.float32), np.zeros(k, np.int64)
    present[k + vocab['places'].index(second['scene']['background'])] = 1
    for o in things:
        present[vocab['kinds'].index(o['category'])] = 1
        counts[vocab['kinds'].index(o['category'])] += 1
    face = second['scene']['face']
    gaze = k  # no face in view
    if face is not None:
        gaze = k + 1  # a face looking at nothing in view
        target = next((o for o in things if o['id'] == face.get('gaze_id')), None)
        if target is not None:
            gaze = vocab['kinds'].index(target['category'])
    cell_kind, cell_colour, cell_flip = cell_labels(things, vocab)
    return dict(present=present, counts=np.minimum(counts, MAX_COUNT), gaze=np.int64(gaze),
                cell_kind=cell_kind, cell_colour=cell_colour, cell_flip=cell_flip)

def labelled_frames(meta, frame_index, truths, vocab, box_of):
    """(frame rows, {label: array}) of the training split's frames that sit within NEAR_SECOND of a truth
    second of their recording."""
    by_id = {t['recording']: t for t in truths}
    rows, labels = [], []
    for rec in meta['recordings']:
        if rec['split'] != 'train' or rec['id'] not in by_id:
            continue
        truth = by_id[rec['id']]
        crop = crop_box(*truth['view'])
        first, last = rec['frames']
        if last - first != truth['frames']:  # another render's truth would label the frames wrongly
            raise SystemExit(f"{rec['id']}: the corpus holds {last - first} frames of it, its truth file "
                             f"{truth['frames']}: truth_dir is not the render that was prepared")
        times = np.asarray(frame_index['t'][first:last], float)  # one read of the recording's times
        for row, t in zip(range(first, last), times):
            s = int(round(t))
            if abs(t - s) > NEAR_SECOND or s >= len(truth['seconds']):
                continue
            second = truth['seconds'][s]
            rows.append(row)
            labels.append(second_labels(second, things_in_crop(second, crop, box_of), vocab))
    if not rows:
        raise SystemExit("no training frame of the corpus has a truth second: is truth_dir the render that "
                         "was prepared?")
    return np.array(rows), {k: np.stack([lab[k] for lab in labels]) for k in labels[0]}

def read_truths(folder):
    paths = sorted(glob.glob(os.path.join(folder, '*.json')))
    if not paths:
        raise SystemExit(f"truth_dir: {folder} holds no truth files (data/nursery/make.py writes them)")
    truths = []
    for path in paths:
        with open(path, encoding='utf-8') as f:
            truths.append(json.load(f))
    return truths

# ----------------------------------------------------------------------------- the network

class AttributeNet(nn.Module):
    """Four stride-2 convolutions: a GRID x GRID map of cells, each read for its kind, colour and facing, and
    the whole picture pooled, read for the kinds and place in view, how many of each and what a face looks
    at."""

    def __init__(self, vocab, width, image_size):
        super().__init__()
        layers, c = [], 3
        for i in range(4):
            layers += [nn.Conv2d(c, width * 2 ** i, 3, stride=2, padding=1), nn.GroupNorm(8, width * 2 ** i),
                       nn.GELU()]
            c = width * 2 ** i
        self.trunk = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(GRID))
        self.whole = nn.Sequential(nn.Flatten(), nn.Linear(c * GRID * GRID, 256), nn.GELU())
        k = len(vocab['kinds'])
        self.present = nn.Linear(256, k + len(vocab['places']))
        self.counts = nn.Linear(256, k * (MAX_COUNT + 1))
        self.gaze = nn.Linear(256, k + 2)
        self.cell = nn.Conv2d(c, k + 1 + len(vocab['colours']) + 1, 1)  # kind or none, colour, facing
        self.k, self.n_colours = k, len(vocab['colours'])

    def forward(self, images):
        """Logits of every attribute, from uint8 pictures (B, H, W, 3); cells in reading order."""
        grid = self.trunk(images.permute(0, 3, 1, 2).float() / 127.5 - 1)
        h = self.whole(grid)
        cells = self.cell(grid).flatten(2).transpose(1, 2)  # (B, cells, outputs)
        k = self.k
        return dict(present=self.present(h), counts=self.counts(h).view(-1, k, MAX_COUNT + 1),
                    gaze=self.gaze(h), cell_kind=cells[..., :k + 1],
                    cell_colour=cells[..., k + 1:k + 1 + self.n_colours], cell_flip=cells[..., -1])

def loss_of(out, labels):
    """The sum of every attribute's loss; a cell's colour and facing only where a thing covers it."""
    loss = F.binary_cross_entropy_with_logits(out['present'], labels['present'])
    loss = loss + F.cross_entropy(out['counts'].flatten(0, 1), labels['counts'].flatten())
    loss = loss + F.cross_entropy(out['gaze'], labels['gaze'])
    loss = loss + F.cross_entropy(out['cell_kind'].flatten(0, 1), labels['cell_kind'].flatten())
    covered = labels['cell_colour'] >= 0
    if covered.any():
        loss = loss + F.cross_entropy(out['cell_colour'][covered], labels['cell_colour'][covered])
        loss = loss + F.binary_cross_entropy_with_logits(out['cell_flip'][covered],
                                                         labels['cell_flip'][covered].float())
    return loss

# ----------------------------------------------------------------------------- the readouts

def words_of(text):
    return re.findall(r"[a-z]+", text.lower())

def singular(word, names):
    """The label name a word says ('balls' -> 'ball', 'boxes' -> 'box'), or None."""
    for name in (word, word[:-1] if word.endswith('s') else None, word[:-2] if word.endswith('es') else None):
        if name in names:
            return name
    return None

def claims(text, vocab):
    """What a text says is in a picture: [('kind', i) | ('colour', kind i, colour j) | ('count', kind i, n)],
    read word by word. A colour or a number binds to the next kind it precedes; words the labels do not know
    are left."""
    names = vocab['kinds'] + vocab['places']
    out, colour, number = [], None, None
    for w in words_of(text):
        if w in NUMBER_WORDS:
            number = NUMBER_WORDS.index(w)
            continue
        if w in vocab['colours']:
            colour = vocab['colours'].index(w)
            continue
        name = singular(w, names)
        if name is None:
            continue
        i = names.index(name)
        out.append(('kind', i))
        if colour is not None and i < len(vocab['kinds']):
            out.append(('colour', i, colour))
        if number is not None and i < len(vocab['kinds']):
            out.append(('count', i, number))
        colour, number = None, None
    return out

def claim_score(claim, p):
    """The log-probability of one claim under one picture's predictions p (numpy, from Ceiling.predict). A
    colour is the best cell's: that kind there, in that colour (any colour of any kind, so a combination never
    seen in training is read as well as a seen one)."""
    k = p['counts'].shape[0]
    if claim[0] == 'kind':
        score = math.log(p['present'][claim[1]] + 1e-6)
        if claim[1] < k and p['gaze'][k] < 0.5:  # a face is in view: what it looks at
            score += math.log(p['gaze'][claim[1]] + 1e-6)
        return score
    if claim[0] == 'colour':
        _, i, j = claim
        return math.log(float((p['cell_kind'][:, i] * p['cell_colour'][:, j]).max()) + 1e-6)
    _, i, n = claim
    if n > MAX_COUNT:
        return math.log(1e-6)
    return math.log(p['counts'][i, n] + 1e-6)

def attributes(p):
    """One picture's predictions as one vector: what is there (weighted up, as it is a few numbers beside
    many cells'), and cell by cell which kind, its colour and which way it faces."""
    thing = 1 - p['cell_kind'][:, -1:]
    return np.concatenate([3 * p['present'], p['cell_kind'][:, :-1].ravel(),
                           (thing * p['cell_colour']).ravel(), thing[:, 0] * (2 * p['cell_flip'] - 1)])

def kinds_and_colours(p):
    """What is in a picture wherever it is: the kinds and place in view, and each kind's colours (the best
    cell's)."""
    k = p['counts'].shape[0]
    both = p['cell_kind'][:, :k, None] * p['cell_colour'][:, None, :]
    return np.concatenate([p['present'], both.max(0).ravel()])

@torch.no_grad()
def probabilities(net, images):
    """[{attribute: numpy probabilities}] of a batch of pictures."""
    out = net(images)
    probs = dict(present=torch.sigmoid(out['present']), counts=out['counts'].softmax(-1),
                 gaze=out['gaze'].softmax(-1), cell_kind=out['cell_kind'].softmax(-1),
                 cell_colour=out['cell_colour'].softmax(-1), cell_flip=torch.sigmoid(out['cell_flip']))
    return [{name: v[j].numpy() for name, v in probs.items()} for j in range(len(images))]

def open_engine(path, cfg):
    """(evaluate.py's engine, run info) of a ceiling checkpoint."""
    from evaluate import Engine  # here: evaluate.py imports this module

    class Ceiling(Engine):
        """evaluate.Engine's pictures, controls and batching, its readouts answered from the predicted
        attributes (the module docstring)."""

        def __init__(self, net, vocab, size, batch_size):
            self.net, self.vocab, self.size, self.batch_size = net, vocab, size, batch_size
            self.readout, self.pixels, self.predicted, self.device = 'supervised', {}, {}, 'cpu'

        def predict(self, keys):
            todo = list(dict.fromkeys(k for k in keys if k not in self.predicted))
            for chunk in self.batches(todo):
                self.predicted.update(zip(chunk, probabilities(self.net, self.images(chunk))))
            return [self.predicted[k] for k in keys]

        def match(self, requests, mode):
            pairs = [(self.key(r.image, mode), self.text(r.text, mode)) for r in requests]
            out = []
            for (_, text), p in zip(pairs, self.predict([k for k, _ in pairs])):
                said = claims(text, self.vocab)
                out.append(float(np.mean([claim_score(c, p) for c in said])) if said else 0.0)
            return np.array(out)

        def imsim(self, requests, mode):
            a = self.embeddings([r.image for r in requests], mode)
            b = self.embeddings([r.other for r in requests], mode)
            return np.array([float(u @ v) for u, v in zip(a, b)])

        def embeddings(self, keys, mode):
            vectors = [attributes(p) for p in self.predict([self.key(k, mode) for k in keys])]
            return [v / (np.linalg.norm(v) + 1e-9) for v in vectors]

        def surprise(self, clips, mode):
            ends = self.predict([self.key(k, mode) for clip in clips for k in (clip[0], clip[-1])])
            seen = [kinds_and_colours(p) for p in ends]
            return [float(np.abs(first - last).sum()) for first, last in zip(seen[::2], seen[1::2])]

        def generate(self, keys, mode):
            raise ValueError("the supervised ceiling writes no captions")  # evaluate.py marks captions n/a

    ck = load(path)
    net = AttributeNet(ck['vocab'], ck['config']['width'], ck['image_size'])
    net.load_state_dict(ck['model'])
    engine = Ceiling(net.eval(), ck['vocab'], ck['image_size'], cfg['batch_size'])
    info = dict(ckpt=path, step=ck['iter_num'], age_days=None, readout='supervised', objectives={},
                dtype='float32', corpus=ck['config']['data_dir'], trained_towers=[])
    return engine, info

def load(path, mmap=False):
    """A ceiling checkpoint, loaded without unpickling code (mmap: tensors read only when used)."""
    try:
        return torch.load(path, map_location='cpu', weights_only=True, mmap=mmap)
    except FileNotFoundError:
        raise SystemExit(f"{path}: no such checkpoint") from None
    except Exception as e:
        raise SystemExit(f"{path}: not a readable checkpoint ({type(e).__name__}: {e})") from None

def is_ceiling(path):
    """Whether a checkpoint file is this script's (evaluate.py reads it with open_engine). Memory-mapped, so
    asking of a model's checkpoint reads its header, not its weights."""
    try:
        ck = load(path, mmap=True)
    except SystemExit:
        return False  # the model's own loader says what is wrong with it
    return isinstance(ck, dict) and ck.get('kind') == KIND

# ----------------------------------------------------------------------------- training

def mirrored(images, labels):
    """The pictures left for right, with their labels: cell columns reversed, facing the other way."""
    images = images[:, :, ::-1]
    labels = dict(labels)
    for name in ('cell_kind', 'cell_colour', 'cell_flip'):
        labels[name] = labels[name].reshape(-1, GRID, GRID)[:, :, ::-1].reshape(len(images), -1)
    labels['cell_flip'] = np.where(labels['cell_flip'] >= 0, 1 - labels['cell_flip'], -1)
    return images, labels

def batches(rows, labels, frames, rng, size):
    """Endless random batches of (pictures, labels) as tensors, half of them mirrored: the recordings'
    things face and move either way, the suites' too."""
    while True:
        pick = np.sort(rng.choice(len(rows), size, replace=len(rows) < size))
        images, y = frames[rows[pick]], {k: v[pick] for k, v in labels.items()}
        flip = rng.random(size) < 0.5
        turned, turned_y = mirrored(images[flip], {k: v[flip] for k, v in y.items()})
        images = images.copy()
        images[flip] = turned
        for k in y:
            y[k] = y[k].copy()
            y[k][flip] = turned_y[k]
        yield torch.from_numpy(np.ascontiguousarray(images)), {k: torch.from_numpy(v) for k, v in y.items()}

def train(net, rows, labels, frames, cfg):
    """AdamW on a cosine schedule; the last step's loss."""
    from tqdm import tqdm
    rng = np.random.default_rng(cfg['seed'])
    opt = torch.optim.AdamW(net.parameters(), lr=cfg['learning_rate'], weight_decay=0.01)
    bar = tqdm(range(cfg['max_iters']), desc='ceiling', unit='step', file=sys.stderr)
    for step, (images, y) in zip(bar, batches(rows, labels, frames, rng, cfg['batch_size'])):
        lr = cfg['learning_rate'] * 0.5 * (1 + math.cos(math.pi * step / cfg['max_iters']))
        for group in opt.param_groups:
            group['lr'] = lr
        loss = loss_of(net(images), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 100 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
    return loss.item()

def check_settings(cfg):
    """Every setting's value, before any work (configurator.require names the setting)."""
    for key in ('max_iters', 'batch_size', 'learning_rate'):
        require(key, cfg[key], cfg[key] > 0, "above 0")
    require('width', cfg['width'], cfg['width'] >= 8 and cfg['width'] % 8 == 0, "a multiple of 8 (GroupNorm)")
    require('threads', cfg['threads'], cfg['threads'] >= 0, "0 (torch's default) or more")
    require('data_dir', cfg['data_dir'], os.path.isdir(cfg['data_dir']), "a corpus prepared by prepare.py")

def main(cfg):
    from prepare import load_dataset
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'nursery'))
    import world  # the nursery's drawing rules: where a truth thing lies in view
    check_settings(cfg)
    lock = hold_lock(cfg['out_dir'], 'ceiling.py')  # one writer of out_dir, from before the work
    meta, arrays = load_dataset(cfg['data_dir'])
    folder = cfg['truth_dir'] or os.path.join(meta['args']['input_dir'], 'truth')
    truths = read_truths(folder)
    vocab = vocabulary(truths)
    rows, labels = labelled_frames(meta, arrays['frame_index'], truths, vocab, world.object_box)
    print(f"{len(rows)} labelled training frames from {folder}: {len(vocab['kinds'])} kinds, "
          f"{len(vocab['places'])} places, {len(vocab['colours'])} colours")
    torch.manual_seed(cfg['seed'])
    if cfg['threads']:
        torch.set_num_threads(cfg['threads'])
    net = AttributeNet(vocab, cfg['width'], meta['image_size'])
    t0 = time.time()
    final = train(net, rows, labels, arrays['frames'], cfg)
    path = os.path.join(cfg['out_dir'], 'ckpt.pt')
    checkpoint = dict(kind=KIND, model=net.state_dict(), vocab=vocab, image_size=meta['image_size'],
                      config=cfg, iter_num=cfg['max_iters'], frames=len(rows), loss=final)
    with atomic_path(path) as tmp, open(tmp, 'wb') as f:
        torch.save(checkpoint, f)
    print(f"trained {cfg['max_iters']} steps in {time.time() - t0:.0f} s, final loss {final:.3f}; "
          f"wrote {path}")
    lock.close()

if __name__ == '__main__':
    from configurator import configure
    main(configure(globals()))
