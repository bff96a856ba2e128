"""
Score checkpoints (or another codebase's per-option scores) on every developmental benchmark found in a
folder, read in the benchmarks' own published file formats (../shared/formats), and write results.json and
report.md.
    python evaluate.py                                         # out/baby_small/ckpt.pt on data/nursery/bench
    python evaluate.py --ckpt=[out/a/ckpt.pt,out/b/ckpt.pt]    # several: a developmental trajectory
    python evaluate.py --scores_file=cvcl.jsonl                # score another model's outputs the same way

Each kind of benchmark lives in kinds/: the files it reads (BabyVLM v1 CSVs, the DevCV toolbox's data.json,
DevBench and Machine-DevBench manifests, the nursery's voe/, gaze/, joint_attention/ and probes/), how a base
model answers it through its readouts, its metric and which blind controls apply. This file opens the model,
resolves the kinds' readout requests in batches (Engine), runs every task and writes the report.

A checkpoint answers through one readout: 'nll' (the lowest length-normalised NLL of the text after the
picture) or 'similarity' (image-text cosine); 'auto' takes similarity if the contrastive objective was
trained, else nll (model.readout_for). Controls: text_blind (every text replaced by the empty text) and
image_blind (every picture by a blank one of the task's mean colour), through the same readouts. Intervals
(95%): Wilson for means of per-item credit; a seeded percentile bootstrap over items for the rest. The scores
file's format and results.json's fields: README.md, "Scores from another codebase".

Beside every score stand the skill-free baselines (baselines.py: pixel thumbnails, colour histograms, salient
area, motion energy, frame difference, the answer prior) and a verdict: evidence where the score beats the
best of them, the blind controls and chance beyond its interval. A row whose readout reads a tower that never
trained is n/a.
    python evaluate.py --baselines_only                      # the baselines alone: no checkpoint
    python evaluate.py --ckpt='out/s*/ckpt.pt' --seeds=True  # one config, several seeds: mean, sd, interval
    python evaluate.py --compare=[a/results.json,b/results.json]   # two configs: a paired test per task
"""
import difflib
import glob
import json
import math
import os
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch

from atomic import hold_lock
from configurator import require
from decode import load_image
from kinds import KINDS, check_images, discover, load_task
from kinds.formats import BenchError
import baselines as skill_free
import ceiling
from kinds.readouts import ImageSim, Match
from model import (DTYPES, OBJECTIVES, READOUTS, TOWERS, USES, autocast, bf16_supported, check_device,
                   from_checkpoint, readout_for, text_batch)
from prepare import load_dataset, tokenizer_path
from report import SHORT, comparison, table, write_results
from scoring import leaderboard, mdb_summary
from tokenizer import (corpus_text_form, load_tokenizer, normaliser, record_tokenizer, recorded_text_form,
                       same_tokenizer, tokenizer_record)

# bump whenever a loader, readout, prompt or metric changes: scores are comparable within one version
EVAL_VERSION = '1.2'
# -----------------------------------------------------------------------------
ckpt = 'out/baby_small/ckpt.pt'   # a checkpoint, or [a.pt,b.pt,...] / a glob for a developmental trajectory
bench_dir = 'data/nursery/bench'  # a folder of benchmarks (data/nursery/benchmarks.py writes the nursery's)
out_dir = 'out/eval'              # results.json, report.md, report.png
scores_file = ''                  # JSONL of per-item scores or answers from another codebase (then no ckpt)
tasks = ''                        # comma-separated task keys to run ('' = every task found)
readout = 'auto'                  # 'nll', 'similarity' or 'auto' (model.readout_for)
data_dir = ''                     # a corpus whose tokenizer must be the checkpoint's own ('': not checked)
controls = True                   # also the text-blind and image-blind controls
baselines = True                  # also the skill-free baselines (baselines.py), beside every score
baselines_only = False            # no checkpoint: the baselines alone, a model-free table of any bench_dir
image_size = 64                   # --baselines_only: the size pictures are read at (else the checkpoint's)
seeds = False                     # the checkpoints are one config trained with different seeds: mean, sd and
                                  # an interval over seeds and items together, instead of a trajectory
compare = ''                      # [a/results.json,b/results.json]: two configs, a paired test per task
batch_size = 256
max_new_tokens = 25               # captions (babylmms-eval generates up to 25 tokens)
bootstrap = 1000                  # resamples for bootstrap intervals (seeded)
seed = 0
dtype = 'auto'                    # 'auto' (bf16 where the CPU or GPU has it, else fp32), or a model.DTYPES
device = 'cpu'
# -----------------------------------------------------------------------------

GREY = (128, 128, 128)  # the blank picture of a task with no pictures

@dataclass(frozen=True)
class Mode:
    """What the readouts see: 'main', the task as it is; 'text_blind', every text as the empty text;
    'image_blind', every picture as a blank one of colour `blank` (the task's mean colour)."""
    name: str = 'main'
    blank: tuple = GREY

# ------------------------------------------------------------------- the model's readouts, batched and cached

def load_picture(pixels, k, size):
    """The picture of a key as the model sees it (decode.load_image, a crop box cut first), kept in pixels; a
    blank key is its colour."""
    if k not in pixels:
        path, box = k
        if path == '<blank>':
            pixels[k] = np.full((size, size, 3), box, np.uint8)
        else:
            pixels[k] = load_image(path, size, box)
    return pixels[k]

class Engine:
    """The readouts of one model over image keys ((path, crop box or None), formats.image_key) and texts, in
    batches, each result cached: every task, and each of its controls, asks through here. A picture goes
    through the ViT once (model.picture_features) for every readout, task and control that shows it."""

    def __init__(self, model, enc, form, readout, ctx, batch_size, max_new_tokens):
        self.model, self.enc, self.readout, self.ctx = model, enc, readout, ctx
        self.normalise = normaliser(form)  # every text as training heard it (tokenizer.normaliser)
        self.batch_size, self.max_new_tokens = batch_size, max_new_tokens
        self.size, self.block, self.eot = model.config.image_size, model.config.block_size, enc.eot_token
        self.pixels, self.features, self.emb, self.temb, self.nll = {}, {}, {}, {}, {}
        self.device = next(model.parameters()).device

    # ---- pictures and texts

    def key(self, k, mode):
        if mode.name == 'image_blind':
            return ('<blank>', mode.blank)
        return k

    def text(self, text, mode):
        if mode.name == 'text_blind':
            return ''
        return text

    def load(self, k):
        return load_picture(self.pixels, k, self.size)

    def mean_colour(self, keys):
        """The mean colour of (up to 200 of) the pictures: the image-blind control's blank picture."""
        keys = keys[:200]
        if not keys:
            return GREY
        return tuple(int(v) for v in np.mean([self.load(k).reshape(-1, 3).mean(0) for k in keys], 0).round())

    def batches(self, todo, n=None):
        n = n or self.batch_size
        return (todo[i:i + n] for i in range(0, len(todo), n))

    def images(self, keys):
        return torch.from_numpy(np.stack([self.load(k) for k in keys])).to(self.device)

    def tokens(self, texts):
        return self.enc.encode_ordinary_batch([self.normalise(t) for t in texts])

    def text_batch(self, texts):
        return (x.to(self.device) for x in text_batch(self.tokens(texts), self.eot, self.block))

    def encode(self, keys):
        """The pictures' features, each picture encoded once (float32 holds bf16 exactly, so a readout from
        them gives the numbers it gives from the pictures)."""
        for chunk in self.batches(list(dict.fromkeys(k for k in keys if k not in self.features))):
            with self.ctx:
                pooled, prefix = self.model.picture_features(self.images(chunk))
            self.features.update(zip(chunk, zip(pooled.float(), prefix.float())))

    def feature(self, keys, part):
        """One of the pictures' features stacked: part 0 pooled, 1 the image prefix."""
        self.encode(keys)
        return torch.stack([self.features[k][part] for k in keys])

    def pooled(self, keys):
        return self.feature(keys, 0)

    def prefixes(self, keys):
        return self.feature(keys, 1)

    def embed(self, keys):
        for chunk in self.batches(list(dict.fromkeys(k for k in keys if k not in self.emb))):
            pooled = self.pooled(chunk)
            with self.ctx:
                e = self.model.joint_embedding(pooled).float().cpu().numpy()
            self.emb.update(zip(chunk, e))

    def embed_texts(self, texts):
        for chunk in self.batches(list(dict.fromkeys(t for t in texts if t not in self.temb))):
            with self.ctx:
                e = self.model.text_embedding(*self.text_batch(chunk)).float().cpu().numpy()
            self.temb.update(zip(chunk, e))

    # ---- readouts

    def match(self, requests, mode):
        """How well each Match's text fits its picture: cosine, or minus the length-normalised NLL."""
        pairs = [(self.key(r.image, mode), self.text(r.text, mode)) for r in requests]
        if self.readout == 'similarity':
            self.embed([k for k, _ in pairs])
            self.embed_texts([t for _, t in pairs])
            return np.array([float(self.emb[k] @ self.temb[t]) for k, t in pairs])
        todo = list(dict.fromkeys(p for p in pairs if p not in self.nll))
        self.encode([k for k, _ in todo])
        for chunk in self.batches(todo):
            prefix = self.prefixes([k for k, _ in chunk])
            with self.ctx:
                nll = self.model.prefix_nll(prefix, *self.text_batch([t for _, t in chunk]))
            self.nll.update(zip(chunk, nll.float().tolist()))
        return -np.array([self.nll[p] for p in pairs])

    def imsim(self, requests, mode):
        """The cosine of each ImageSim's two pictures."""
        pairs = [(self.key(r.image, mode), self.key(r.other, mode)) for r in requests]
        self.embed([k for p in pairs for k in p])
        return np.array([float(self.emb[a] @ self.emb[b]) for a, b in pairs])

    def values(self, requests, mode):
        """The value of each request (kinds/readouts.py), the primitives of all of them scored in one
        batch."""
        needs = [r.needs() for r in requests]
        primitives = list(dict.fromkeys(p for ps in needs for p in ps))
        matches = [p for p in primitives if isinstance(p, Match)]
        sims = [p for p in primitives if isinstance(p, ImageSim)]
        scores = dict(zip(matches, self.match(matches, mode)))
        scores.update(zip(sims, self.imsim(sims, mode)))
        return np.array([r.value([scores[p] for p in ps]) for r, ps in zip(requests, needs)])

    def embeddings(self, keys, mode):
        """Unit image embeddings, one per key (the features the probes read)."""
        keys = [self.key(k, mode) for k in keys]
        self.embed(keys)
        return [self.emb[k] for k in keys]

    def surprise(self, clips, mode):
        """Mean per-frame surprise of each clip (frame keys), clips of one length batched together."""
        out, clips = [None] * len(clips), [[self.key(k, mode) for k in c] for c in clips]
        self.encode([k for c in clips for k in c])  # frames that clips share are encoded once
        for length in sorted({len(c) for c in clips}):
            idx = [i for i, c in enumerate(clips) if len(c) == length]
            for chunk in self.batches(idx, max(1, self.batch_size // length)):
                pooled = torch.stack([self.pooled(clips[i]) for i in chunk])
                with self.ctx:
                    s = self.model.pooled_surprise(pooled).float()
                for i, v in zip(chunk, torch.nanmean(s, 1).tolist()):
                    out[i] = v
        return out

    def generate(self, keys, mode):
        """Greedy captions of the pictures, decoded to text."""
        out, keys = [], [self.key(k, mode) for k in keys]
        self.encode(keys)
        for chunk in self.batches(keys):
            prefix = self.prefixes(chunk)
            with self.ctx:
                captions = self.model.prefix_generate(prefix, self.max_new_tokens, self.eot)
            out += [self.enc.decode(t).strip() for t in captions]  # the leading space is the form's
        return out

# -------------------------------------------------------------------------- answers: the model's, or a file's

def model_answers(engine):
    """answer(task, mode name) -> {item id: scores}, from the model's readouts."""
    def answer(task, mode_name):
        kind = KINDS[task['kind']]
        mode = Mode(mode_name)
        if mode_name == 'image_blind':
            keys = [k for it in task['items'] for k in kind.images(it)]
            mode = Mode(mode_name, engine.mean_colour(keys))
        return kind.answer(engine, task, mode)
    return answer

def file_answers(path):
    """(answer(task, mode name), the task keys it has lines for) from another codebase's scores file
    (README.md, "Scores from another codebase"): None where the file has no lines for the task, or for the
    control. A line that is not UTF-8 JSON, or whose scores are not finite numbers, stops it, named."""
    lines = {}
    with open(path, 'rb') as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                r = json.loads(raw.decode('utf-8'))
                v = r['scores'] if 'scores' in r else {'answer': str(r['answer'])}
                if isinstance(v, list) and not all(is_finite_number(x) for x in v):
                    raise ValueError(f"scores must be finite numbers, got {v[:8]}")
                lines.setdefault((r['task'], r.get('control', 'main')), {})[str(r['id'])] = v
            except (ValueError, KeyError, TypeError) as e:  # UnicodeDecodeError, JSONDecodeError too
                raise SystemExit(f"{path}: line {n}: not a scores line ({type(e).__name__}: {e}); "
                                 '{"task", "id", "scores": [...]} or {"task", "id", "answer": "..."}')
    return (lambda task, mode_name: lines.get((task['key'], mode_name))), {task for task, _ in lines}

def is_finite_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

# ----------------------------------------------------------------------------- the run over tasks

def towers_read(readout_name, how):
    """The towers a task's readout reads (model.USES): surprise the temporal model's, generation the caption
    decoder's, picture cosines and probes the vision tower's (the joint-space head is a fixed linear map of
    it), a text readout its objective's."""
    if readout_name == 'surprise':
        return USES['temporal']
    if readout_name == 'generation':
        return USES['caption']
    if 'image' in readout_name:
        return ('vision',)
    if how == 'similarity':
        return USES['contrastive']
    return USES['caption']

def not_answerable(task, readout_name, reason):
    """The summary of a task the checkpoint cannot answer: n/a, with the reason."""
    return dict(kind=task['kind'], n=len(task['items']), score=None, chance=None, interval=None, metric=None,
                readout=readout_name, na=reason, controls={})

def baseline_scores(task, kind, run, cfg):
    """The task's skill-free baselines (baselines.scores): once per task and picture size for all the runs of
    one evaluate.py call (seeds, a trajectory), as they read no checkpoint."""
    key = (task['key'], run['size'])
    if key not in run['baseline_cache']:
        run['baseline_cache'][key] = skill_free.scores(task, kind, run['load'], cfg['bootstrap'], cfg['seed'])
    return run['baseline_cache'][key]

def same_answers(a, b):
    """Whether two {item id: scores or a generated answer} are the same answers."""
    return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)

def same_value(x, y):
    if isinstance(x, dict) or isinstance(y, dict):
        return x == y
    try:
        return np.array_equal(np.asarray(x, float), np.asarray(y, float))
    except (TypeError, ValueError):  # ragged: compare as they are
        return x == y

def run_task(task, answer, how, cfg, run):
    """One task's summary, its blind controls and skill-free baselines beside it; None when there is nothing
    to score it by. Items whose pictures cannot be used are left out and listed in skipped_items. run: the
    checkpoint's trained towers, picture size and loader, and the baselines' cache (answer None: the
    baselines alone)."""
    kind = KINDS[task['kind']]
    task, dropped = check_images(task, cfg['bench_dir'])
    for line in dropped:
        print(f"warning: {line}", file=sys.stderr)
    readout_name = 'scores_file'
    if how is not None:
        readout_name = kind.readout(task, how)
        untrained = [t for t in towers_read(readout_name, how) if t not in run['trained']]
        if untrained:
            return not_answerable(task, readout_name, f"the {', '.join(untrained)} tower(s) never trained")
        if readout_name in run.get('refuses', {}):
            return not_answerable(task, readout_name, run['refuses'][readout_name])
    summaries, seen = {}, {}
    if answer is not None:
        for mode_name in ('main',) + (kind.CONTROLS if cfg['controls'] else ()):
            answers = answer(task, mode_name)
            if answers is None:
                continue
            # a control that changes nothing the model reads (text-blind on a task of pictures alone) is the
            # model itself, not a rival to it
            if mode_name != 'main' and same_answers(answers, seen):
                continue
            seen = seen or answers
            summaries[mode_name] = kind.score(task, answers, cfg['bootstrap'], cfg['seed'])
        if 'main' not in summaries:  # a scores file without this task
            return None
    found = {}
    if cfg['baselines'] or answer is None:
        found = baseline_scores(task, kind, run, cfg)
    if answer is None:  # --baselines_only: the best of them is the row's score
        if not found:
            return None
        best = max(found, key=lambda name: found[name]['score'])
        summaries['main'] = found[best]
        readout_name = f"baseline: {SHORT.get(best, best)}"
    out = summaries.pop('main')
    out.update(kind=task['kind'], file=os.path.relpath(task['file']), readout=readout_name,
               controls={m: dict(score=r['score'], interval=r['interval']) for m, r in summaries.items()})
    if found:
        out['baselines'] = {name: dict(score=r['score'], interval=r['interval']) for name, r in found.items()}
    if answer is not None and found:
        out.update(skill_free.judge(out))
    if dropped:
        out['skipped_items'] = dropped
    return out

def run_tasks(found, answer, how, cfg, run):
    """Every found task (tqdm over tasks); a task whose file is malformed is reported, the rest go on."""
    from tqdm import tqdm
    out, errors = {}, {}
    for key in tqdm(list(found), desc='tasks', unit='task', file=sys.stderr):
        try:
            task = load_task(key, *found[key])
            if task is None:  # no kind scores it (DevBench's RSA tasks)
                continue
            summary = run_task(task, answer, how, cfg, run)
        except BenchError as e:
            errors[key] = str(e)
            print(f"error: {e}", file=sys.stderr)
            continue
        if summary is not None:
            out[key] = summary
    return out, errors

# ----------------------------------------------------------------------------- a checkpoint

def data_age(ck):
    """Age (days) of the newest data the checkpoint has seen: stored by train.py, or, for order='age', the
    upper edge of the curriculum's window at its step; None when the data were shuffled over all ages."""
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
    reached = min(1.0, start + (1 - start) * ck.get('iter_num', 0) / horizon)
    return float(ages.min() + (ages.max() - ages.min()) * reached)

def open_model(path, cfg):
    """(Engine, run info) for a checkpoint: its own tokenizer, the readout, autocast."""
    model, ck = from_checkpoint(path, cfg['device'])
    train_cfg = ck.get('config') or {}
    enc, form, corpus = checkpoint_text(path, ck, cfg['data_dir'])
    weights = {k: float(train_cfg.get(f'{k}_weight', 1.0)) for k in OBJECTIVES}
    device_type = 'cuda' if cfg['device'].startswith('cuda') else 'cpu'
    dtype_ = cfg['dtype']
    if dtype_ == 'auto':  # bf16 where the hardware has it; else fp32: inference has no loss scaler for fp16
        dtype_ = 'bfloat16' if bf16_supported(device_type) else 'float32'
    how = readout_for(weights, cfg['readout'])
    info = dict(ckpt=path, step=ck.get('iter_num'), age_days=data_age(ck), readout=how, objectives=weights,
                dtype=dtype_, corpus=corpus, trained_towers=sorted(trained_towers(ck)))
    engine = Engine(model, enc, form, how, autocast(device_type, dtype_), cfg['batch_size'],
                    cfg['max_new_tokens'])
    return engine, info

def trained_towers(ck):
    """The towers a checkpoint's weights were trained in: train.py records them; for an older checkpoint,
    those its objectives use (model.USES) but the frozen ones, or every tower if it started from another."""
    if 'trained_towers' in ck:
        return set(ck['trained_towers'])
    cfg = ck.get('config') or {}
    if cfg.get('init_from', 'scratch') != 'scratch':
        return set(TOWERS)
    frozen = set(str(cfg.get('freeze', '')).split(','))
    return {t for k in OBJECTIVES if float(cfg.get(f'{k}_weight', 1.0)) for t in USES[k]} - frozen

def corpus_meta(data_dir, path):
    try:
        with open(os.path.join(data_dir, 'meta.json'), encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"{path}: the corpus {data_dir!r} has no readable meta.json ({e}): pass "
                         "--data_dir=<the corpus it was trained on>") from None

def checkpoint_text(path, ck, data_dir):
    """(tokenizer, text_form, corpus) that a checkpoint reads text with: the ones it carries (train.py
    saves them), refused if --data_dir's corpus has another tokenizer; an older checkpoint's, from its
    corpus."""
    data = ck.get('data') or {}
    record = data.get('tokenizer')
    try:
        if isinstance(record, dict):
            if data_dir:
                theirs = tokenizer_record(tokenizer_path(data_dir, corpus_meta(data_dir, path)))
                if not same_tokenizer(record, theirs):
                    raise SystemExit(f"{path} was trained with another tokenizer than {data_dir}'s (was it "
                                     "prepared again?); the checkpoint carries its own: evaluate without "
                                     "--data_dir")
            corpus = data_dir or data.get('data_dir')
            return record_tokenizer(record, path), checkpoint_text_form(data, path), corpus
        data_dir = data_dir or (ck.get('config') or {}).get('data_dir') or data.get('data_dir', '')
        meta = corpus_meta(data_dir, path)
        enc = load_tokenizer(tokenizer_path(data_dir, meta))
    except (OSError, ValueError, RuntimeError) as e:
        raise SystemExit(f"{path}: cannot read its tokenizer: {e}") from None
    print(f"warning: {path} is from an older train.py and does not carry its tokenizer: reading text with "
          f"{data_dir}'s, which must be the one it was trained with", file=sys.stderr)
    return enc, corpus_text_form(meta), data_dir

def checkpoint_text_form(data, path):
    """The text_form a checkpoint was trained with; one from before it was recorded trained on utterances
    encoded bare, and is scored the same way (its words would be better heard: train it again)."""
    if 'text_form' not in data:
        print(f"warning: {path} was trained on utterances encoded without a leading space (an older "
              "prepare.py): its texts are scored the same way", file=sys.stderr)
    return recorded_text_form(data.get('text_form'), data.get('lowercase', True))

# ----------------------------------------------------------------------------- settings and main

def checkpoints(spec):
    """'a.pt', '[a.pt,b.pt]', "['a.pt', 'b.pt']" or a glob -> the list of checkpoint paths."""
    paths = [p.strip().strip('\'"') for p in spec.strip().strip('[]').split(',') if p.strip()]
    return [q for p in paths for q in (sorted(glob.glob(p)) if any(c in p for c in '*?') else [p])]

def check_settings(cfg):
    """Every setting's value, before any work (configurator.require names the setting)."""
    require('readout', cfg['readout'], cfg['readout'] in ('auto',) + READOUTS, f"auto or one of {READOUTS}")
    require('dtype', cfg['dtype'], cfg['dtype'] in ('auto',) + DTYPES, f"auto or one of {DTYPES}")
    for key in ('batch_size', 'max_new_tokens', 'bootstrap', 'image_size'):
        require(key, cfg[key], cfg[key] >= 1, "at least 1")
    require('bench_dir', cfg['bench_dir'], os.path.isdir(cfg['bench_dir']), "a folder of benchmarks")
    if cfg['scores_file']:
        require('scores_file', cfg['scores_file'], os.path.isfile(cfg['scores_file']), "a file")
    check_device(cfg['device'])

def chosen_tasks(found, problems, cfg):
    """found and problems narrowed to --tasks; a name that is not a task found is an error."""
    if not cfg['tasks']:
        return found, problems
    wanted = cfg['tasks'].split(',')
    for key in wanted:
        if key not in found and key not in problems:
            close = difflib.get_close_matches(key, list(found), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; found: {', '.join(found)}"
            raise SystemExit(f"config: tasks: {key!r} is not a task in {cfg['bench_dir']}{hint}")
    return ({k: v for k, v in found.items() if k in wanted},
            {k: v for k, v in problems.items() if k in wanted})

def evaluate_one(path, found, problems, cfg, baseline_cache):
    """One run: a checkpoint's (or the scores file's) results on every found task. baseline_cache: the
    skill-free baselines' scores, shared by the runs of one evaluate.py call (baseline_scores)."""
    t0 = time.time()
    engine, answer = None, None
    run = dict(trained=set(TOWERS), size=cfg['image_size'], baseline_cache=baseline_cache)
    if cfg['baselines_only']:
        info = dict(ckpt=path, step=None, age_days=None, readout='skill-free baselines')
    elif cfg['scores_file']:
        answer, tasks_named = file_answers(path)
        info = dict(ckpt=path, step=None, age_days=None, readout='scores_file')
        unknown = sorted(tasks_named - set(found))
        # a misspelt task key would otherwise go unscored without a word; under --tasks, the file's other
        # tasks are simply not asked for
        if unknown and not cfg['tasks']:
            problems = dict(problems, scores_file=f"{path} has lines for tasks not found in "
                                                  f"{cfg['bench_dir']}: {', '.join(unknown)}")
            print(f"warning: {problems['scores_file']}", file=sys.stderr)
    elif ceiling.is_ceiling(path):  # the supervised positive control (ceiling.py)
        engine, info = ceiling.open_engine(path, cfg)
        answer = model_answers(engine)
        run.update(size=engine.size, refuses={'generation': "the supervised ceiling writes no captions"})
    else:
        engine, info = open_model(path, cfg)
        answer = model_answers(engine)
        run.update(trained=set(info['trained_towers']), size=engine.size)
    pictures = engine.pixels if engine else {}  # the baselines read the pictures the model was shown
    run['load'] = lambda k: load_picture(pictures, k, run['size'])
    with torch.no_grad():
        tasks_, errors = run_tasks(found, answer, engine.readout if engine else None, cfg, run)
    return dict(info, seconds=time.time() - t0, tasks=tasks_, leaderboard=leaderboard(tasks_),
                machine_devbench=mdb_summary(tasks_), errors=dict(problems, **errors))

def main(cfg):
    """Runs evaluate.py with a config dict (the globals above, resolved, as configure returns them); returns
    the runs, as results.json holds them."""
    check_settings(cfg)
    if cfg['compare']:
        paths = checkpoints(cfg['compare'])
        require('compare', cfg['compare'], len(paths) == 2, "two results.json files, [a,b]")
        print('\n'.join(comparison(paths, cfg['bootstrap'], cfg['seed'])))
        return None
    found, problems = chosen_tasks(*discover(cfg['bench_dir']), cfg)
    if not found and problems:  # the tasks asked for are there, but only under key@folder
        raise SystemExit('; '.join(problems.values()))
    if not found:
        raise SystemExit(f"{cfg['bench_dir']}: no benchmark files found "
                         "(the nursery's: python data/nursery/benchmarks.py)")
    for problem in problems.values():
        print(f"warning: {problem}", file=sys.stderr)
    # one evaluation writes an out_dir at a time; an unwritable one is found now, not after the work
    if cfg['baselines_only']:
        paths = ['skill-free baselines']
    elif cfg['scores_file']:
        paths = [cfg['scores_file']]
    else:
        paths = checkpoints(cfg['ckpt'])
        require('ckpt', cfg['ckpt'], paths, "a checkpoint, a list of them or a glob that matches some")
    with hold_lock(cfg['out_dir'], 'evaluate.py'):
        runs, baseline_cache = [], {}
        for path in paths:
            run = evaluate_one(path, found, problems, cfg, baseline_cache)
            runs.append(run)
            print(f"\n{path}: step {run.get('step')}, readout {run['readout']}, {run['seconds']:.1f} s")
            print(table(run))
        write_results(runs, cfg, EVAL_VERSION)
    return runs

if __name__ == '__main__':
    from configurator import configure
    main(configure(globals()))
