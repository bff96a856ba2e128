"""
Score checkpoints (or another codebase's per-option scores) on every developmental benchmark found in a folder,
read in the benchmarks' own published file formats (../shared/formats), and write results.json and report.md.
    python evaluate.py                                            # out/baby_small/ckpt.pt on data/nursery/bench
    python evaluate.py --ckpt=[out/a/ckpt.pt,out/b/ckpt.pt]       # several: a developmental trajectory
    python evaluate.py --scores_file=cvcl.jsonl                   # score another model's outputs the same way
Found by name under bench_dir: BabyVLM v1 CSVs (labeled_s, vtwt, baby_winoground, SAYCam_caption, images as
babylmms-eval lays them out), DevCV toolbox <task>/data.json, DevBench <task>/manifest.csv (+ human.csv),
Machine-DevBench manifest_*.json, and the nursery's voe/, gaze/, joint_attention/ and probes/ data.json.
How a base model answers (readout 'nll': lowest length-normalised NLL of the text given the image; 'similarity':
image-text cosine; 'auto': similarity if the checkpoint trained the contrastive objective, else nll):
  word/phrase choices (labeled_s, vtwt, pv, devbench, Machine-DevBench, winoground): the readout per option;
  localize and NIH's composite pv: the readout of the word on each quadrant's crop; count/subitize: the most
  likely number phrase "zero balls".."ten balls" (words: the corpus says them); who-has-more: the larger of the two
  images' counts; vdr: how well the object's word matches each exit region (3x3 cells; halves or quadrants when
  2 exits are asked) over the later half of the frames, as levels: a before/after difference would let the one
  region that changes win half the time even for random weights; leftright, spatialdetails: image-image cosine with the
  reference (the question has no word in it); memory: novelty, -max cosine to every image shown before;
  joint attention: cosine of each option with the scene (does the scene's embedding favour the looked-at
  thing? the novel word is no help to a frozen model); gaze: the readout of each option ("the ball") on the scene;
  voe: mean per-frame surprise; captions: greedy generation; probes: linear (softmax regression) and 10-NN on
  image_embedding. A choice tie among t options including the gold earns 1/t (a random tie-break's expectation, so
  a control that cannot tell the options apart sits at chance); Winoground, Machine-DevBench and voe pairs compare
  with strict inequalities, as published, so there a tie fails. Controls: text_blind (every text replaced by the
  empty text) and image_blind (every image by a blank one, the task's mean colour), same readout.
Intervals (95%): Wilson for means of per-item credit; a seeded percentile bootstrap over items for the rest
(memory adjusted, Machine-DevBench bin means and summaries, METEOR, AUROC, overall).
scores_file: JSONL, one line per item {"task": key, "id": item id, "scores": [...]} (higher is better; voe:
[surprise of possible, of impossible]; 2x2 tasks [s(i0,t0), s(i0,t1), s(i1,t0), s(i1,t1)]; count: 0..10;
memory: id "record/round") or {"task", "id", "answer": text} parsed as the toolbox does (letter, number, direction
word; captions: the text); optional "control": "text_blind" | "image_blind". Item ids: trial_id / instance_id
(labeled_s, winoground), else the row or record index from 0. results.json: {eval_version, config, runs: [{ckpt,
step, age_days, readout, seconds, tasks: {key: {n, score, metric, chance, interval, readout, metrics, controls}},
leaderboard: {results: {baby_*: {...}}, overall}, machine_devbench, errors}]}.
"""
import glob
import json
import math
import os
import sys
import time
from contextlib import nullcontext

import numpy as np
import torch
from PIL import Image

from configurator import configure
from model import text_batch
from prepare import centre_crop, load_dataset, load_image, resize_crop
from scoring import (BenchError, discover, check_images, item_images, leaderboard, load_task, mdb_summary,
                     number_phrase, region, summarize)

EVAL_VERSION = '1.0'  # bump whenever a loader, readout, prompt or metric changes: scores are comparable within one
# -----------------------------------------------------------------------------
ckpt = 'out/baby_small/ckpt.pt'   # a checkpoint, or [a.pt,b.pt,...] / a glob for a developmental trajectory
bench_dir = 'data/nursery/bench'  # a folder of benchmarks (python data/nursery/benchmarks.py writes the nursery's)
out_dir = 'out/eval'              # results.json, report.md, report.png
scores_file = ''                  # JSONL of per-item scores or answers from another codebase (then no ckpt is read)
tasks = ''                        # comma-separated task keys to run ('' = every task found)
readout = 'auto'                  # 'nll', 'similarity' or 'auto' (similarity if the contrastive objective was on)
data_dir = ''                     # the prepared corpus whose tokenizer the model reads ('' = the checkpoint's)
controls = True                   # also the text-blind and image-blind controls
batch_size = 256
max_new_tokens = 25               # captions (babylmms-eval generates up to 25 tokens)
bootstrap = 1000                  # resamples for bootstrap intervals (seeded)
seed = 0
dtype = 'auto'                    # 'auto' (bf16 autocast where the CPU/GPU has it), 'float32', 'bfloat16'
device = 'cpu'
_DEFAULTS = {k: v for k, v in globals().items() if not k.startswith('_') and not k.isupper() and isinstance(
    v, (bool, int, float, str, list, tuple, type(None)))}  # main() starts from these, also when called twice

# ----------------------------------------------------------------------------- the model's readouts, batched and cached

class Engine:
    """Readouts over image keys (path, crop box or None) and texts. mode 'text_blind' reads every text as the empty
    text and 'image_blind' every picture as a blank one (the task's mean colour): the controls run the same code."""

    def __init__(self, model, enc, lowercase, readout, ctx):
        self.model, self.enc, self.lower, self.readout, self.ctx = model, enc, lowercase, readout, ctx
        self.size, self.block, self.eot = model.config.image_size, model.config.block_size, enc.eot_token
        self.pixels, self.emb, self.temb, self.nll, self.mode, self.blank = {}, {}, {}, {}, 'main', (128, 128, 128)
        self.device = next(model.parameters()).device

    def key(self, k):
        return ('<blank>', self.blank) if self.mode == 'image_blind' else k

    def load(self, k):
        if k not in self.pixels:
            path, box = k
            if path == '<blank>':
                self.pixels[k] = np.full((self.size, self.size, 3), box, np.uint8)
            elif box is None:
                self.pixels[k] = load_image(path, self.size)
            else:  # a crop gets the training preprocessing too: shorter side to size, centre crop
                with Image.open(path) as im:
                    im, (W, H) = im.convert('RGB'), im.size
                    im = im.crop((round(box[0] * W), round(box[1] * H), round(box[2] * W), round(box[3] * H)))
                    self.pixels[k] = centre_crop(np.asarray(im.resize(resize_crop(*im.size, self.size), Image.BOX)), self.size)
        return self.pixels[k]

    def batches(self, todo, n=None):
        n = n or batch_size
        return (todo[i:i + n] for i in range(0, len(todo), n))

    def images(self, keys):
        return torch.from_numpy(np.stack([self.load(k) for k in keys])).to(self.device)

    def embed(self, keys):
        for chunk in self.batches(list(dict.fromkeys(k for k in keys if k not in self.emb))):
            with self.ctx:
                e = self.model.image_embedding(self.images(chunk)).float().cpu().numpy()
            self.emb.update(zip(chunk, e))

    def tokens(self, texts):
        return self.enc.encode_ordinary_batch([t.lower() if self.lower else t for t in texts])

    def text_batch(self, texts):
        return (x.to(self.device) for x in text_batch(self.tokens(texts), self.eot, self.block))

    def texts(self, texts):
        for chunk in self.batches(list(dict.fromkeys(t for t in texts if t not in self.temb))):
            with self.ctx:
                e = self.model.text_embedding(*self.text_batch(chunk)).float().cpu().numpy()
            self.temb.update(zip(chunk, e))

    def match(self, pairs):
        """How well each text fits each image: cosine, or minus the length-normalised NLL."""
        pairs = [(self.key(k), '' if self.mode == 'text_blind' else t) for k, t in pairs]
        if self.readout == 'similarity':
            self.embed([k for k, _ in pairs])
            self.texts([t for _, t in pairs])
            return np.array([float(self.emb[k] @ self.temb[t]) for k, t in pairs])
        for chunk in self.batches(list(dict.fromkeys(p for p in pairs if p not in self.nll))):
            with self.ctx:
                nll = self.model.text_nll_aligned(self.images([k for k, _ in chunk]),
                                                  *self.text_batch([t for _, t in chunk]))
            self.nll.update(zip(chunk, nll.float().tolist()))
        return -np.array([self.nll[p] for p in pairs])

    def imsim(self, pairs):
        pairs = [(self.key(a), self.key(b)) for a, b in pairs]
        self.embed([k for p in pairs for k in p])
        return np.array([float(self.emb[a] @ self.emb[b]) for a, b in pairs])

    def values(self, ops):
        """The score of each option: ('match', image, text), ('imsim', image, image), ('count', image, noun): the
        most likely number 0-10, ('track', frames, word, exit, cells): the word's match there over the later half of the frames."""
        need = []
        for op in ops:
            need += [(op[1], op[2])] if op[0] == 'match' else [(op[1], number_phrase(n, op[2])) for n in range(11)] \
                if op[0] == 'count' else [((f[0], region(op[3], op[4])), op[2] or '') for f in op[1]] if op[0] == 'track' else []
        m = dict(zip(need, self.match(need)))
        sims = iter(self.imsim([(op[1], op[2]) for op in ops if op[0] == 'imsim']))
        out = []
        for op in ops:
            if op[0] == 'match':
                out.append(m[(op[1], op[2])])
            elif op[0] == 'imsim':
                out.append(next(sims))
            elif op[0] == 'count':
                out.append(float(np.argmax([m[(op[1], number_phrase(n, op[2]))] for n in range(11)])))
            else:
                v = [m[((f[0], region(op[3], op[4])), op[2] or '')] for f in op[1]]
                out.append(float(np.mean(v[len(v) // 2:])))
        return np.array(out)

    def surprise(self, clips):
        """Mean per-frame surprise of each clip (frame keys), clips of one length batched together."""
        out = [None] * len(clips)
        for L in sorted({len(c) for c in clips}):
            idx = [i for i, c in enumerate(clips) if len(c) == L]
            for chunk in self.batches(idx, max(1, batch_size // L)):
                x = torch.stack([self.images([self.key(k) for k in clips[i]]) for i in chunk])
                with self.ctx:
                    s = self.model.surprise(x).float()
                for i, v in zip(chunk, torch.nanmean(s, 1).tolist()):
                    out[i] = v
        return out

    def generate(self, keys):
        out = []
        for chunk in self.batches([self.key(k) for k in keys]):
            with self.ctx:
                out += [self.enc.decode(t) for t in self.model.generate(self.images(chunk), max_new_tokens, self.eot)]
        return out

def answer(E, task):
    """{item id: option scores (or {'answer': text} for captions, features for probes)} from the model."""
    kind, items, out = task['kind'], task['items'], {}
    if kind in ('choice', 'count', 'vdr'):
        v, at = E.values([op for it in items for op in it['options']]), 0
        for it in items:
            out[it['id']], at = v[at:at + len(it['options'])], at + len(it['options'])
    elif kind in ('winoground', 'grammatical', 'lexical'):
        pairs = [(i, t) for it in items for i in it['images'] for t in it['texts']]
        v = E.match(pairs).reshape(len(items), -1) if items else []
        out = {it['id']: s for it, s in zip(items, v)}
    elif kind == 'memory':
        for it in items:
            shown = []
            for r, x in enumerate(it['rounds']):
                sims = E.imsim([(o, p) for o in x['options'] for p in shown]).reshape(len(x['options']), -1)
                out[f"{it['id']}/{r}"] = -sims.max(1) if shown else np.zeros(len(x['options']))
                shown += x['options']
    elif kind == 'voe':
        s = E.surprise([c for it in items for c in it['clips']])
        out = {it['id']: s[2 * j:2 * j + 2] for j, it in enumerate(items)}
    elif kind == 'caption':
        out = {it['id']: {'answer': a} for it, a in zip(items, E.generate([it['image'] for it in items]))}
    elif kind == 'probe':
        E.embed([E.key(it['image']) for it in items])
        out = {it['id']: E.emb[E.key(it['image'])] for it in items}
    return out

def readout_of(E, task):
    if E is None:
        return 'scores_file'
    first = task['items'][0].get('options', [('match',)])[0][0] if task['items'] else 'match'
    return {'memory': 'novelty (image cosine)', 'voe': 'surprise', 'caption': 'generation', 'probe':
            'probes of image_embedding'}.get(task['kind']) or {'imsim': 'image cosine', 'count': f'counts ({E.readout})',
                                                               'track': f'tracking ({E.readout})'}.get(first, E.readout)

# ----------------------------------------------------------------------------- runs, table, report

MODES = ('main', 'text_blind', 'image_blind')

def run_tasks(found, answer_fn, E=None):
    """Evaluate every found task (tqdm over tasks); a task whose file is malformed is reported, the rest go on."""
    from tqdm import tqdm
    out, errors = {}, {}
    for key in tqdm(list(found), desc='tasks', unit='task', file=sys.stderr):
        loader, path, lkey = found[key]
        try:
            task = dict(load_task(loader, path, lkey), key=key)
            if task['kind'] == 'skip':
                continue
            check_images(task)
            res = {}
            for mode in MODES if controls else MODES[:1]:
                r = answer_fn(task, mode)
                if r is not None:
                    res[mode] = summarize(task, r, bootstrap, seed)
        except BenchError as e:
            errors[key] = str(e)
            print(f"error: {e}", file=sys.stderr)
            continue
        if 'main' not in res:  # a scores file without this task
            continue
        main_ = res.pop('main')
        main_.update(kind=task['kind'], file=os.path.relpath(path), readout=readout_of(E, task), controls={
            m: dict(score=r['score'], interval=r['interval']) for m, r in res.items()})
        out[key] = main_
    return out, errors

def model_answers(E):
    def answer_fn(task, mode):
        E.mode = mode
        if mode == 'image_blind':  # the blank picture: the mean colour of (up to 200 of) the task's pictures
            keys = [k for it in task['items'] for k in item_images(task, it)][:200]
            E.mode = 'main'
            E.blank = tuple(int(v) for v in np.mean([E.load(k).reshape(-1, 3).mean(0) for k in keys], 0).round()) if keys else (128,) * 3
            E.mode = mode
        if mode == 'text_blind' and task['kind'] in ('voe', 'caption', 'probe'):
            return None  # no text to remove
        return answer(E, task)
    return answer_fn

def file_answers(path):
    """Per-option scores or answers from another codebase (see the module docstring for the schema)."""
    lines = {}
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                r = json.loads(line)
                v = r['scores'] if 'scores' in r else {'answer': str(r['answer'])}
                lines.setdefault((r['task'], r.get('control', 'main')), {})[str(r['id'])] = v
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise SystemExit(f"{path}: line {n}: not a scores line ({type(e).__name__}: {e}); "
                                 '{"task", "id", "scores": [...]} or {"task", "id", "answer": "..."}')
    return lambda task, mode: lines.get((task['key'], mode)) if mode == 'main' or (task['key'], mode) in lines else None

def data_age(ck):
    """Age (days) of the newest data the checkpoint has seen: stored by train.py, or, for order='age', the upper
    edge of the curriculum's window at its step; None when the data were shuffled over all ages."""
    d, cfg = ck.get('data') or {}, ck.get('config') or {}
    if d.get('age_days') is not None:
        return float(d['age_days'])
    if d.get('order') != 'age':
        return None
    try:
        _, arrays = load_dataset(d['data_dir'])
    except (OSError, ValueError, KeyError):
        return None
    u = arrays['utterances']
    ages = u['age_days'][(u['split'] == 0) & np.isfinite(u['age_days'])]
    horizon = cfg.get('curriculum_iters') or cfg.get('lr_decay_iters') or cfg.get('max_iters') or 1
    start = cfg.get('curriculum_start', 0.25)
    return float(ages.min() + (ages.max() - ages.min()) * min(1.0, start + (1 - start) * ck.get('iter_num', 0) / horizon))

def open_model(path):
    """(Engine, run info) for a checkpoint: its tokenizer from the prepared corpus, the readout, autocast."""
    from model import from_checkpoint
    from tokenizer import load_tokenizer
    model, ck = from_checkpoint(path, device)
    cfg = ck.get('config') or {}
    ddir = data_dir or cfg.get('data_dir') or (ck.get('data') or {}).get('data_dir', '')
    try:
        with open(os.path.join(ddir, 'meta.json')) as f:
            meta = json.load(f)
    except OSError as e:
        raise SystemExit(f"{path}: its corpus {ddir!r} has no readable meta.json ({e.strerror}): pass --data_dir")
    enc = load_tokenizer('gpt2' if meta.get('tokenizer') == 'gpt2' else os.path.join(ddir, 'tokenizer.tiktoken'))
    weights = {k: float(cfg.get(f'{k}_weight', 1.0)) for k in ('contrastive', 'caption', 'temporal')}
    how = readout if readout != 'auto' else 'similarity' if weights['contrastive'] or not weights['caption'] else 'nll'
    if how not in ('nll', 'similarity'):
        raise SystemExit(f"readout must be 'nll', 'similarity' or 'auto', got {readout!r}")
    kind = 'cuda' if device.startswith('cuda') else 'cpu'
    bf16 = dtype == 'bfloat16' or dtype == 'auto' and (torch.cuda.is_bf16_supported() if kind == 'cuda' else
                                                     torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    ctx = torch.autocast(kind, dtype=torch.bfloat16) if bf16 else nullcontext()
    info = dict(ckpt=path, step=ck.get('iter_num'), age_days=data_age(ck), readout=how, objectives=weights,
                dtype='bfloat16' if bf16 else 'float32', corpus=ddir)
    return Engine(model, enc, meta.get('args', {}).get('lowercase', True), how, ctx), info

def fmt(x):
    return '-' if x is None else f"{x:.3f}"

def table(run):
    head = f"{'task':26s} {'n':>5s} {'score':>6s} {'chance':>6s} {'95% interval':>15s}  {'readout':24s} {'text-blind':>10s} {'image-blind':>11s}"
    rows = [head, '-' * len(head)]
    for k, t in run['tasks'].items():
        iv, c = t.get('interval'), t.get('controls', {})
        rows.append(f"{k:26s} {t['n']:5d} {fmt(t['score']):>6s} {fmt(t['chance']):>6s} "
                    f"{f'[{iv[0]:.3f}, {iv[1]:.3f}]' if iv else '-':>15s}  {t['readout'][:24]:24s} "
                    f"{fmt(c.get('text_blind', {}).get('score')):>10s} {fmt(c.get('image_blind', {}).get('score')):>11s}")
    lb = run['leaderboard']
    rows.append(f"DevCV leaderboard overall (11 tasks, a missing one counts 0): {lb['overall']:.3f}")
    if run['machine_devbench']:
        rows.append('Machine-DevBench: ' + ', '.join(f"{k} {v:.3f}" for k, v in run['machine_devbench'].items()))
    return '\n'.join(rows)

def report(runs, path):
    """report.md: the table of the last run, the trajectory over runs, and a figure (matplotlib, if installed)."""
    last, lines = runs[-1], [f"# Evaluation (EVAL_VERSION {EVAL_VERSION})", '']
    lines += [f"- {r['ckpt']}: step {r.get('step')}, age of data seen {fmt(r.get('age_days'))} days, readout "
              f"{r.get('readout')}, {r['seconds']:.0f} s" for r in runs] + ['']
    lines += ['| task | n | score | chance | 95% interval | readout | text-blind | image-blind |', '|---' * 8 + '|']
    for k, t in last['tasks'].items():
        iv, c = t.get('interval'), t.get('controls', {})
        lines.append(f"| {k} | {t['n']} | {fmt(t['score'])} | {fmt(t['chance'])} | "
                     f"{f'{iv[0]:.3f}-{iv[1]:.3f}' if iv else '-'} | {t['readout']} | "
                     f"{fmt(c.get('text_blind', {}).get('score'))} | {fmt(c.get('image_blind', {}).get('score'))} |")
    lines += ['', f"DevCV leaderboard overall: {last['leaderboard']['overall']:.3f}; Machine-DevBench: "
              + json.dumps({k: round(v, 3) for k, v in last['machine_devbench'].items()}), '']
    if len(runs) > 1:
        keys = list(dict.fromkeys(k for r in runs for k in r['tasks']))
        lines += ['## Trajectory', '', '| task | ' + ' | '.join(f"step {r.get('step')}" + (
            f" ({r['age_days']:.0f} d)" if r.get('age_days') is not None else '') for r in runs) + ' |',
            '|---' * (len(runs) + 1) + '|']
        lines += [f"| {k} | " + ' | '.join(fmt(r['tasks'].get(k, {}).get('score')) for r in runs) + ' |' for k in keys]
    try:
        figure(runs, os.path.join(os.path.dirname(path), 'report.png'))
        lines += ['', '![scores](report.png)']
    except ImportError:
        lines += ['', '(no figure: matplotlib is not installed)']
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')

def figure(runs, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    tasks_ = [k for k, t in runs[-1]['tasks'].items() if t['score'] is not None]
    if len(runs) == 1:
        fig, ax = plt.subplots(figsize=(7, 0.28 * len(tasks_) + 1))
        t = runs[0]['tasks']
        ax.barh(range(len(tasks_)), [t[k]['score'] for k in tasks_], color='tab:blue', label='score')
        ax.scatter([t[k]['chance'] if t[k]['chance'] is not None else np.nan for k in tasks_], range(len(tasks_)),
                   marker='|', s=200, color='k', label='chance', zorder=3)
        ax.set_yticks(range(len(tasks_)), tasks_, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.legend(fontsize=7)
    else:
        cols = 4
        rows = math.ceil(len(tasks_) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.2 * rows), squeeze=False)
        for ax, k in zip(axes.flat, tasks_):
            ax.plot([r.get('step') for r in runs], [r['tasks'].get(k, {}).get('score') for r in runs], 'o-')
            if runs[-1]['tasks'][k]['chance'] is not None:
                ax.axhline(runs[-1]['tasks'][k]['chance'], ls='--', color='k', lw=0.8)
            ax.set_title(k, fontsize=8)
            ax.set_xlabel('step', fontsize=7)
        for ax in axes.flat[len(tasks_):]:
            ax.axis('off')
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)

def checkpoints(spec):
    """'a.pt', '[a.pt,b.pt]', "['a.pt', 'b.pt']" or a glob -> the list of checkpoint paths."""
    paths = [p.strip().strip('\'"') for p in spec.strip().strip('[]').split(',') if p.strip()]
    return [q for p in paths for q in (sorted(glob.glob(p)) if any(c in p for c in '*?') else [p])]

def main(argv=None):
    globals().update(_DEFAULTS)
    config = configure(globals(), argv)
    found = discover(bench_dir)
    if tasks:
        found = {k: v for k, v in found.items() if k in tasks.split(',')}
    if not found:
        raise SystemExit(f"{bench_dir}: no benchmark files found (the nursery's: python data/nursery/benchmarks.py)")
    runs = []
    for path in ([scores_file] if scores_file else checkpoints(ckpt)):
        t0 = time.time()
        if scores_file:
            E, info, fn = None, dict(ckpt=scores_file, step=None, age_days=None, readout='scores_file'), file_answers(scores_file)
        else:
            E, info = open_model(path)
            fn = model_answers(E)
        with torch.no_grad():
            tasks_, errors = run_tasks(found, fn, E)
        run = dict(info, seconds=time.time() - t0, tasks=tasks_, leaderboard=leaderboard(tasks_),
                   machine_devbench=mdb_summary(tasks_), errors=errors)
        runs.append(run)
        print(f"\n{path}: step {info.get('step')}, readout {info['readout']}, {run['seconds']:.1f} s\n{table(run)}")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, 'results.json'), 'w') as f:
        json.dump(dict(eval_version=EVAL_VERSION, config=config, runs=runs), f, indent=1, default=float)
    report(runs, os.path.join(out_dir, 'report.md'))
    print(f"wrote {out_dir}/results.json and {out_dir}/report.md")
    return runs

if __name__ == '__main__':
    main()
