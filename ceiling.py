"""
The supervised ceiling: a positive control for every nursery task. A small CNN learns, from the training
recordings' frames and the nursery's ground truth (raw/truth/), what each frame shows: the kinds and places
in view (the occluding screen a kind of its own); per cell the front-most kind, its colour and which way it
faces; where each thing's centre is (a count is their sum); and where a caregiver's face looks. It learns
on windows of the frames (zoomed up to 1.5x, anywhere), mirrored half the time and under drifting camera
light, so that it reads a thing wherever it stands. evaluate.py answers the suites with it through the same
readouts as a model (kinds/readouts.py):
    Match(picture, text)     the mean log-probability of what the text claims: a kind or place in view, a
                             colour of a kind, a number of a kind, a relation of two things (on, under, in,
                             beside, bigger, smaller: from where their centres are and how much each
                             covers), or the negation of one; a kind named while a face is in view is also
                             what the face looks at. A crop box is read from the whole picture's maps
    ImageSim(a, b)           the cosine of the two pictures' attributes wherever things are in them: what is
                             there, each kind's colours, which way each kind faces, what the picture is about
                             (what a face looks at); the probes' features too
    surprise(clip)           how far the kinds seen at the clip's end are from those seen in its first
                             half, and their colours at the end from those at the start: what was there
                             should still be there, unchanged, when the screen is gone (surprise_of)
It never hears a word of speech and never sees a benchmark stimulus while it learns, so a task it passes is
solvable from 64 px frames with the skill written into its labels; a task it fails needs more than one
frame's attributes (motion, relations) or is out of the nursery's reach. It writes no captions.
    python ceiling.py                                    # out/ceiling/ckpt.pt from data/nursery and its truth
    python evaluate.py --ckpt=out/ceiling/ckpt.pt        # the ceiling's row of every nursery task
"""
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from atomic import atomic_path, hold_lock
from claims import claim_score, claims, looked_at
from configurator import require
from model import autocast, autocast_dtype

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data', 'nursery'))
from frame_labels import (CENTRES, GRID, NO_FACE, cells_in,  # noqa: E402
                          labelled_frames, paste_some, random_views, read_truths, view_labels,
                          view_pictures, vocabulary)

# -----------------------------------------------------------------------------
data_dir = 'data/nursery'       # a corpus prepared by prepare.py from the nursery
truth_dir = ''                  # the render's truth/ ('' = <prepare's input_dir>/truth)
out_dir = 'out/ceiling'
seed = 1337
max_iters = 2000
batch_size = 64
learning_rate = 2e-3
width = 32                      # channels of the first convolution; each of the 4 stride-2 stages doubles it
depth = 2                       # convolutions a stage: a stride-2 one, then residual 3x3 ones (1 to 27% val
                                # recall of things, 2 to ...)
threads = 0                     # torch threads (0: torch's default)
dtype = 'auto'                  # training's autocast: 'auto' is bf16 where the CPU has it (1.6x fp32 here),
                                # else float32; pictures are read in float32 either way
# -----------------------------------------------------------------------------

KIND = 'supervised ceiling'     # the checkpoint's 'kind': evaluate.py reads such a checkpoint with Ceiling
MAX_COUNT = 10                  # counts read 0..10 (count.Count asks "zero balls" .. "ten balls")

# ----------------------------------------------------------------------------- the network

def conv_norm(c_in, c_out, stride=1):
    conv = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)
    return nn.Sequential(conv, nn.GroupNorm(8, c_out), nn.GELU())

class Residual(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return x + self.inner(x)

class AttributeNet(nn.Module):
    """Four stride-2 stages of `depth` convolutions (the first strided, the rest residual). The third's 8x8
    map is read, cell by cell, for where things' centres are (a count is a sum over it, which holds for groups
    bigger than any seen); the fourth's GRID x GRID map for each cell's kind, colour and facing; the whole
    picture, pooled, for the kinds and place in view and what a face looks at."""

    def __init__(self, vocab, width, depth, image_size):
        super().__init__()
        layers, c = [], 3
        for i in range(4):
            stage = [conv_norm(c, width * 2 ** i, stride=2)]
            stage += [Residual(conv_norm(width * 2 ** i, width * 2 ** i)) for _ in range(depth - 1)]
            layers.append(nn.Sequential(*stage))
            c = width * 2 ** i
        self.early = nn.Sequential(*layers[:3])
        self.late = nn.Sequential(*layers[3:], nn.AdaptiveAvgPool2d(GRID))
        k = len(vocab['kinds'])
        self.centres = nn.Sequential(nn.AdaptiveAvgPool2d(CENTRES), nn.Conv2d(c // 2, c // 2, 3, padding=1),
                                     nn.GELU(), nn.Conv2d(c // 2, k, 1))
        self.whole = nn.Sequential(nn.Flatten(), nn.Linear(c * GRID * GRID, 256), nn.GELU())
        self.present = nn.Linear(256, k + len(vocab['places']))
        self.gaze = nn.Linear(256, NO_FACE + 1)
        self.cell = nn.Conv2d(c, k + 1 + len(vocab['colours']) + 1, 1)  # kind or none, colour, facing
        self.k, self.n_colours = k, len(vocab['colours'])

    def forward(self, images):
        """Logits of every attribute, from uint8 pictures (B, H, W, 3); cells in reading order."""
        early = self.early(images.permute(0, 3, 1, 2).float() / 127.5 - 1)
        grid = self.late(early)
        h = self.whole(grid)
        cells = self.cell(grid).flatten(2).transpose(1, 2)  # (B, cells, outputs)
        k = self.k
        return dict(present=self.present(h), gaze=self.gaze(h), centres=self.centres(early).flatten(2),
                    cell_kind=cells[..., :k + 1], cell_colour=cells[..., k + 1:k + 1 + self.n_colours],
                    cell_flip=cells[..., -1])

def loss_of(out, labels):
    """The sum of every attribute's loss; a cell's colour and facing only where a thing covers it."""
    loss = F.binary_cross_entropy_with_logits(out['present'], labels['present'])
    # summed over a map's cells (few hold a centre, and a mean over them would teach "none anywhere"); not
    # re-weighted, so that the probabilities stay calibrated and their sum is a count
    loss = loss + CENTRES ** 2 * F.binary_cross_entropy_with_logits(out['centres'], labels['centres'])
    loss = loss + F.cross_entropy(out['gaze'], labels['gaze'])
    loss = loss + F.cross_entropy(out['cell_kind'].flatten(0, 1), labels['cell_kind'].flatten())
    covered = labels['cell_colour'] >= 0
    if covered.any():
        loss = loss + F.cross_entropy(out['cell_colour'][covered], labels['cell_colour'][covered])
        loss = loss + F.binary_cross_entropy_with_logits(out['cell_flip'][covered],
                                                         labels['cell_flip'][covered].float())
    return loss

# ----------------------------------------------------------------------------- the readouts

def is_region(key):
    """Whether an image key names a crop box of a picture (not a whole one, nor a blank's colour)."""
    return key[0] != '<blank>' and key[1] is not None

def in_region(p, box):
    """A picture's predictions narrowed to a box of it: its cells there, the things whose centres are there
    and a kind in view there where a cell there holds it. The place and the gaze stay the whole picture's."""
    cells, centres = cells_in(box, GRID), cells_in(box, CENTRES)
    out = dict(p, cell_kind=p['cell_kind'][cells], cell_colour=p['cell_colour'][cells],
               cell_flip=p['cell_flip'][cells], centres=np.zeros_like(p['centres']))
    out['centres'][:, centres] = p['centres'][:, centres]
    k = len(p['centres'])
    out['present'] = np.concatenate([out['cell_kind'][:, :k].max(0), p['present'][k:]])
    out['counts'] = count_distribution(out['centres'])
    return out

def unit(v):
    return v / (np.linalg.norm(v) + 1e-9)

def facings(p):
    """Which way each kind faces, +1 one way and -1 the other (0 where it is not seen)."""
    k = p['centres'].shape[0]
    weight = p['cell_kind'][:, :k]
    return weight.T @ (1 - 2 * p['cell_flip']) / (weight.sum(0) + 1e-6) * weight.max(0)

def attributes(p):
    """One picture's predictions as one vector, wherever in the picture things are, in four equal parts (each
    of unit length): what is there (kinds and place); each kind's colours; which way things face (facings);
    and what the picture is about (what a face in it looks at, else the kinds in view). Two pictures of the
    same things, moved, re-sized or under other light, are alike in all four."""
    k = p['centres'].shape[0]
    about = p['present'][:k]
    if p['gaze'][NO_FACE] < 0.5:
        about = looked_at(p)
    return np.concatenate([unit(p['present']), unit(kinds_and_colours(p)[len(p['present']):]),
                           unit(facings(p)), unit(about)])

def kinds_and_colours(p):
    """What is in a picture wherever it is: the kinds and place in view, and each kind's colours (the best
    cell's)."""
    k = p['centres'].shape[0]
    both = p['cell_kind'][:, :k, None] * p['cell_colour'][:, None, :]
    return np.concatenate([p['present'], both.max(0).ravel()])

def surprise_of(frames):
    """How far a clip breaks what things do, from the ceiling's predictions of its frames: the kinds seen in
    its first half (the most likely each was there: a thing comes in at the edge and goes behind a screen
    later) against those seen at its end (the last two frames), and each kind's colours at the start against
    the end. A thing gone when the screen lifts, one from nowhere, and one come out changed are surprising;
    one that crossed a gap unseen is not (continuity needs where a thing was between, which these frames'
    detections do not hold)."""
    early = np.max([seen_kinds(p) for p in frames[:max(1, len(frames) // 2)]], 0)
    late = np.mean([seen_kinds(p) for p in frames[-2:]], 0)
    n = len(frames[0]['present'])
    colours = np.abs(kinds_and_colours(frames[0])[n:] - kinds_and_colours(frames[-1])[n:])
    return float(np.abs(early - late).sum() + colours.sum())

def seen_kinds(p):
    """P(a thing of each kind is in the picture): that a centre of it is somewhere in the centres' map (which
    finds things the whole-picture head misses behind a screen's clutter)."""
    return 1 - np.prod(1 - p['centres'], axis=1)

def count_distribution(centres):
    """P(count = n), n = 0..MAX_COUNT (the last: that many or more), of each kind: the distribution of a sum
    of independent cells (Poisson-binomial), each a thing's centre with its probability. centres: (kinds,
    cells)."""
    dist = np.zeros((len(centres), MAX_COUNT + 1))
    dist[:, 0] = 1
    for q in centres.T:
        more = dist * q[:, None]
        dist = dist * (1 - q[:, None])
        dist[:, 1:] += more[:, :-1]
        dist[:, -1] += more[:, -1]
    return dist

@torch.no_grad()
def probabilities(net, images):
    """[{attribute: numpy probabilities}] of a batch of pictures; 'counts' (kinds, 0..MAX_COUNT) from the
    centres' map."""
    out = net(images)
    probs = dict(present=torch.sigmoid(out['present']), centres=torch.sigmoid(out['centres']),
                 gaze=out['gaze'].softmax(-1), cell_kind=out['cell_kind'].softmax(-1),
                 cell_colour=out['cell_colour'].softmax(-1), cell_flip=torch.sigmoid(out['cell_flip']))
    pictures = [{name: v[j].numpy() for name, v in probs.items()} for j in range(len(images))]
    for p in pictures:
        p['counts'] = count_distribution(p['centres'])
    return pictures

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
            """The predictions for each key; a crop box is read from the whole picture's maps (in_region), at
            the scale training saw, not blown up."""
            whole = [(k[0], None) if is_region(k) else k for k in keys]
            todo = list(dict.fromkeys(k for k in whole if k not in self.predicted))
            for chunk in self.batches(todo):
                self.predicted.update(zip(chunk, probabilities(self.net, self.images(chunk))))
            return [in_region(self.predicted[w], k[1]) if is_region(k) else self.predicted[w]
                    for k, w in zip(keys, whole)]

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
            return [surprise_of(self.predict([self.key(k, mode) for k in clip])) for clip in clips]

        def generate(self, keys, mode):
            raise ValueError("the supervised ceiling writes no captions")  # evaluate.py marks captions n/a

    ck = load(path)
    net = AttributeNet(ck['vocab'], ck['config']['width'], ck['config']['depth'], ck['image_size'])
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

def batches(rows, scenes, frames, vocab, rng, size):
    """Endless random batches of (views, their labels) as tensors; into half the pictures a thing of another
    picture of the batch is pasted."""
    while True:
        pick = np.sort(rng.choice(len(rows), size, replace=len(rows) < size))
        images, chosen = paste_some(frames[rows[pick]], [scenes[j] for j in pick], rng)
        windows, mirrors, gains = random_views(rng, size)
        labels = [view_labels(sc, vocab, tuple(w), bool(m)) for sc, w, m in zip(chosen, windows, mirrors)]
        images = view_pictures(torch.from_numpy(images), windows, mirrors, gains)
        yield images, {k: torch.from_numpy(np.stack([lab[k] for lab in labels])) for k in labels[0]}

def train(net, rows, scenes, frames, vocab, cfg):
    """AdamW on a cosine schedule; the last step's loss."""
    from tqdm import tqdm
    rng = np.random.default_rng(cfg['seed'])
    opt = torch.optim.AdamW(net.parameters(), lr=cfg['learning_rate'], weight_decay=0.01)
    bar = tqdm(range(cfg['max_iters']), desc='ceiling', unit='step', file=sys.stderr)
    ctx = autocast('cpu', autocast_dtype(cfg['dtype'], 'cpu'))
    for step, (images, y) in zip(bar, batches(rows, scenes, frames, vocab, rng, cfg['batch_size'])):
        lr = cfg['learning_rate'] * 0.5 * (1 + math.cos(math.pi * step / cfg['max_iters']))
        for group in opt.param_groups:
            group['lr'] = lr
        with ctx:
            out = net(images)
        loss = loss_of({k: v.float() for k, v in out.items()}, y)
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
    require('depth', cfg['depth'], cfg['depth'] >= 1, "1 or more")
    require('dtype', cfg['dtype'], cfg['dtype'] in ('auto', 'float32', 'bfloat16'),
            "auto, float32 or bfloat16")
    require('threads', cfg['threads'], cfg['threads'] >= 0, "0 (torch's default) or more")
    require('data_dir', cfg['data_dir'], os.path.isdir(cfg['data_dir']), "a corpus prepared by prepare.py")

def main(cfg):
    from prepare import load_dataset
    import world  # the nursery's drawing rules: where a truth thing lies in view
    check_settings(cfg)
    lock = hold_lock(cfg['out_dir'], 'ceiling.py')  # one writer of out_dir, from before the work
    meta, arrays = load_dataset(cfg['data_dir'])
    folder = cfg['truth_dir'] or os.path.join(meta['args']['input_dir'], 'truth')
    truths = read_truths(folder)
    vocab = vocabulary(truths)
    rows, scenes = labelled_frames(meta, arrays['frame_index'], truths, vocab, world)
    print(f"{len(rows)} labelled training frames from {folder}: {len(vocab['kinds'])} kinds, "
          f"{len(vocab['places'])} places, {len(vocab['colours'])} colours")
    torch.manual_seed(cfg['seed'])
    if cfg['threads']:
        torch.set_num_threads(cfg['threads'])
    net = AttributeNet(vocab, cfg['width'], cfg['depth'], meta['image_size'])
    t0 = time.time()
    final = train(net, rows, scenes, arrays['frames'], vocab, cfg)
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
