"""
Train a baby vision-language model on a corpus prepared by prepare.py (data/<name>/).
    python train.py config/baby_small.py                                 # CPU quickstart on the nursery
    python train.py config/baby_small.py --init_from=resume              # continue out_dir/ckpt.pt exactly
    torchrun --standalone --nproc_per_node=8 train.py config/saycam.py   # 8 GPUs (several machines: README)
"""
import csv
import datetime
import io
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from functools import lru_cache

import numpy as np
import torch
from torch.distributed import destroy_process_group, init_process_group
from torch.nn.parallel import DistributedDataParallel as DDP

from configurator import configure, require
from atomic import atomic_path, atomic_write, hold_lock
from model import (DTYPES, OBJECTIVES, READOUTS, TOWERS, USES, BabyVLM, ModelConfig, autocast, autocast_dtype,
                   check_device, load_checkpoint, load_towers, peak_flops, readout_for, text_batch, tower_of)
from prepare import load_dataset, tokenizer_path
from tokenizer import corpus_text_form, load_tokenizer, normaliser, same_tokenizer, tokenizer_record

# -----------------------------------------------------------------------------
# I/O
out_dir = 'out/baby_small'
data_dir = 'data/nursery'          # a folder written by prepare.py
init_from = 'scratch'              # 'scratch', 'resume' (out_dir/ckpt.pt), or another run's ckpt.pt
init_towers = ''                   # with a ckpt path: towers to copy from it, comma-separated ('' = all)
freeze = ''                        # towers kept fixed, comma-separated (model.TOWERS)
eval_interval = 100                # steps between val losses, probe and checkpoint
eval_iters = 8                     # val batches per evaluation: fixed batches, the same at every evaluation
log_interval = 10
eval_only = False
always_save_checkpoint = True      # False: save only when the val loss improves
wandb_log = False
wandb_project = 'babyvfm'
wandb_run_name = 'baby_small'
# data
batch_size = 64                    # image-utterance pairs per micro-batch, per rank
clip_batch_size = 16               # clips per micro-batch, per rank (temporal objective)
clip_stride = 1                    # frames between the frames of a clip, at the corpus' fps
gradient_accumulation_steps = 1    # micro-batches per optimizer step, over all ranks together
order = 'shuffle'                  # 'shuffle': epochs of a permutation; 'age': developmental curriculum
curriculum_start = 0.25            # 'age': fraction of the age range open at step 0, widening linearly...
curriculum_iters = 0               # ...to all of it at this step (0: lr_decay_iters)
# objectives (weight 0 switches one off; its towers are then not trained)
contrastive_weight = 1.0
caption_weight = 1.0
temporal_weight = 1.0
# model (vocab_size and image_size come from the dataset)
patch_size = 8                     # ViT: 64 px frames -> an 8x8 grid of patches
vit_layer = 4
vit_embd = 128
vit_head = 4
block_size = 16                    # text positions: start token + up to 15 utterance tokens (longer: cut)
n_layer = 4
n_embd = 128
n_head = 4
prefix_tokens = 4                  # connector: the patch grid average-pooled to this many tokens (a square)
embed_dim = 128                    # joint image-text space, and the temporal model's prediction space
clip_len = 4                       # frames per clip of the temporal objective
temporal_layer = 2                 # the causal transformer over a clip's frame embeddings (width vit_embd)
dropout = 0.0
bias = False                       # biases in Linear and LayerNorm (GPT-2 has them; without is a bit faster)
duplicate_texts = 'mask'           # contrastive pairs with one text: 'mask', 'dedup' or 'off' (model.py)
# optimizer: AdamW, cosine schedule with linear warmup
learning_rate = 1e-3
max_iters = 1000
weight_decay = 0.1
beta1 = 0.9
beta2 = 0.95
grad_clip = 1.0                    # 0: no clipping
warmup_iters = 50
lr_decay_iters = 0                 # 0: max_iters
min_lr = 1e-4
# probe: 4-way word-to-frame on val frames (chance 25%)
probe_trials = 200
probe_words = ''                   # comma list (Labeled-S' categories, say); '': words of 1-25% of val texts
probe_readout = 'auto'             # 'similarity', 'nll' (caption likelihood), 'auto' (model.readout_for)
# system
device = 'auto'                    # 'auto', 'cpu', 'cuda', 'cuda:1', ...
dtype = 'auto'                     # 'auto', 'float32', 'bfloat16', 'float16' (fp16 adds a GradScaler)
compile = None                     # None: on for CUDA, off on CPU
ddp_timeout = 1200                 # seconds a rank waits for the others in a collective, then stops
seed = 1337
config = configure(globals())
# -----------------------------------------------------------------------------
# every setting's value checked before any work
for key in ('batch_size', 'clip_batch_size', 'clip_stride', 'clip_len', 'gradient_accumulation_steps',
            'eval_interval', 'eval_iters', 'log_interval', 'patch_size', 'vit_layer', 'vit_embd', 'vit_head',
            'n_layer', 'n_embd', 'n_head', 'prefix_tokens', 'embed_dim', 'temporal_layer', 'ddp_timeout'):
    require(key, config[key], config[key] >= 1, "at least 1")
for key in ('max_iters', 'warmup_iters', 'lr_decay_iters', 'curriculum_iters', 'probe_trials', 'weight_decay',
            'grad_clip', 'min_lr'):
    require(key, config[key], config[key] >= 0, "at least 0")
require('block_size', block_size, block_size >= 2, "at least 2 (the start token and one more)")
require('learning_rate', learning_rate, 0 < learning_rate < math.inf, "a number > 0")
for key in ('dropout', 'beta1', 'beta2'):
    require(key, config[key], 0 <= config[key] < 1, "in [0, 1)")
require('curriculum_start', curriculum_start, 0 <= curriculum_start <= 1, "a fraction in [0, 1]")
require('order', order, order in ('shuffle', 'age'), "'shuffle' or 'age'")
require('duplicate_texts', duplicate_texts, duplicate_texts in ('mask', 'dedup', 'off'),
        "'mask', 'dedup' or 'off'")
require('dtype', dtype, dtype in ('auto',) + DTYPES, f"auto or one of {', '.join(DTYPES)}")
require('probe_readout', probe_readout, probe_readout in ('auto',) + READOUTS,
        f"auto or one of {', '.join(READOUTS)}")
weights = {k: float(globals()[k + '_weight']) for k in OBJECTIVES}
require('contrastive_weight, caption_weight, temporal_weight', tuple(weights.values()),
        any(weights.values()) and min(weights.values()) >= 0, ">= 0, and not all 0")
frozen = {t for t in freeze.split(',') if t}
unknown = {t for t in (freeze + ',' + init_towers).split(',') if t} - set(TOWERS)
require('freeze/init_towers', ','.join(sorted(unknown)), not unknown, f"towers among {', '.join(TOWERS)}")
if device != 'auto':
    check_device(device)
lr_decay_iters = lr_decay_iters or max_iters

ddp = int(os.environ.get('RANK', -1)) != -1
rank, local_rank, world_size = 0, 0, 1
if ddp:
    rank, local_rank, world_size = (int(os.environ[k]) for k in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE'))
if device == 'auto':
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
if ddp and device == 'cuda':
    device = f'cuda:{local_rank}'
device_type = 'cuda' if device.startswith('cuda') else 'cpu'
if ddp:
    if device_type == 'cuda':
        torch.cuda.set_device(device)
    timeout = datetime.timedelta(seconds=ddp_timeout)
    init_process_group(backend='nccl' if device_type == 'cuda' else 'gloo', timeout=timeout)
    # a CPU group of its own to ask, after a collective timed out, which ranks still answer
    watch_group = torch.distributed.new_group(backend='gloo', timeout=timeout)

    require('gradient_accumulation_steps', gradient_accumulation_steps,
            gradient_accumulation_steps % world_size == 0, f"a multiple of the {world_size} ranks")

def explain_stop(kind, error, tb):
    """Ctrl-C, a collective that timed out or a peer that vanished end this rank with one line (naming the
    ranks that do not answer: rank 0 asks each with gloo's monitored_barrier), not a traceback."""
    text = str(error).lower()
    lost = ddp and isinstance(error, RuntimeError) and ('timed out' in text or 'closed by peer' in text)
    resume = f"resume from {out_dir}/ckpt.pt with --init_from=resume"
    if kind is KeyboardInterrupt:
        print(f"rank {rank}: interrupted; {resume}", file=sys.stderr)
        return
    if not lost:
        sys.__excepthook__(kind, error, tb)
        return
    silent = 'another rank'
    try:
        torch.distributed.monitored_barrier(watch_group, datetime.timedelta(seconds=min(30, ddp_timeout)),
                                            wait_all_ranks=True)
    except RuntimeError as e:
        named = re.search(r'Ranks? ([\d, ]+) failed', str(e))
        silent = f"rank {named[1].strip()}" if named else silent
    print(f"rank {rank}: {silent} did not answer within ddp_timeout={ddp_timeout} s (stopped, crashed or "
          f"stuck: see its log), so this rank stops too; {resume}", file=sys.stderr)
sys.excepthook = explain_stop
total_accum, accum = gradient_accumulation_steps, gradient_accumulation_steps // world_size
master = rank == 0
dtype = autocast_dtype(dtype, device_type)
ctx = autocast(device_type, dtype)
if compile is None:
    compile = device_type == 'cuda'
torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
ckpt_path = os.path.join(out_dir, 'ckpt.pt')
if master:  # one run per out_dir: two would mix their log rows and overwrite each other's checkpoints
    lock = hold_lock(out_dir, 'train.py')

# -----------------------------------------------------------------------------
# data: memory-mapped arrays from prepare.py, nothing decoded here
try:
    meta, arrays = load_dataset(data_dir)
except (OSError, ValueError) as e:
    raise SystemExit(str(e))
frame_index, utterances = np.array(arrays['frame_index']), np.array(arrays['utterances'])  # small: in memory
frames_path, tokens_path = (os.path.join(data_dir, f"{k}.npy") for k in ('frames', 'tokens'))
frame_shape = arrays['frames'].shape
tokenizer_file = tokenizer_path(data_dir, meta)
if not (tokenizer_file == 'gpt2' or os.path.exists(tokenizer_file)):
    raise SystemExit(f"{tokenizer_file} is missing: prepare again")
try:
    corpus_tokenizer = tokenizer_record(tokenizer_file)  # the checkpoint carries it (tokenizer.py)
except (OSError, ValueError) as e:
    raise SystemExit(f"{e}: the corpus' tokenizer is damaged; prepare again")
eot = meta['eot_token']
train_utts, val_utts = (np.flatnonzero(utterances['split'] == s) for s in (0, 1))
pairs_on, clips_on = bool(weights['contrastive'] or weights['caption']), bool(weights['temporal'])
span = (clip_len - 1) * clip_stride  # a clip: clip_len frames of one recording, clip_stride apart
same_recording = frame_index['recording'][:-span or None] == frame_index['recording'][span:]
split_of_start = frame_index['split'][:len(same_recording)]
clip_starts = [np.flatnonzero(same_recording & (split_of_start == s)) for s in (0, 1)]
for split, utts in (('train', train_utts), ('val', val_utts)):
    if pairs_on and not len(utts):
        raise SystemExit(f"{data_dir}: no {split} utterances; the corpus is too small or has no {split} "
                         "split")
for split, starts in zip(('train', 'val'), clip_starts):
    if clips_on and not len(starts):
        raise SystemExit(f"{data_dir}: no {split} clips of {clip_len} frames; the corpus is too small or has "
                         f"no {split} split")
by_age = train_utts[np.argsort(utterances['age_days'][train_utts], kind='stable')]  # unknown ages (NaN) last
ages = utterances['age_days'][by_age]
if order == 'age' and pairs_on and not np.isfinite(ages).any():
    raise SystemExit(f"{data_dir}: order='age' needs ages (recordings.csv age_days or birth_date); none are "
                     "known")

@lru_cache(maxsize=2)
def epoch_permutation(epoch):
    return np.random.default_rng([seed, 7, epoch]).permutation(train_utts)

def train_utterances(step, rng, G):
    """The G utterances of train step `step`'s global batch: the shuffled epochs' next G, or G drawn from
    the developmental curriculum's window, which widens linearly from curriculum_start of the age range to
    all of it."""
    if order == 'shuffle':
        position = np.arange(step * G, (step + 1) * G)
        epoch, index = position // len(train_utts), position % len(train_utts)
        return np.concatenate([epoch_permutation(e)[index[epoch == e]] for e in np.unique(epoch)])
    horizon = curriculum_iters or lr_decay_iters
    lo, hi = np.nanmin(ages), np.nanmax(ages)
    open_until = lo + (hi - lo) * min(1.0, curriculum_start + (1 - curriculum_start) * step / horizon)
    n_open = len(ages)
    if step < horizon:
        n_open = max(min(G, len(ages)), np.searchsorted(ages, open_until, 'right'))
    return by_age[rng.choice(n_open, size=G, replace=n_open < G)]

def get_batch(split, step, micro=0):
    """Micro-batch `micro` of step `step`: a pure function of (seed, split, step). Every rank draws the
    step's global batch and takes its slice (micro * world_size + rank), so DDP sees exactly the samples
    gradient accumulation would, and resuming needs only the step. Val batch `step` is fixed (seed 0)."""
    utts = starts = None
    if split == 'train':
        G, Gc = batch_size * total_accum, clip_batch_size * total_accum
        rng, slot = np.random.default_rng([seed, step]), micro * world_size + rank
        if pairs_on:
            utts = train_utterances(step, rng, G)
        if clips_on:
            starts = clip_starts[0][rng.integers(len(clip_starts[0]), size=Gc)]
    else:
        rng, slot = np.random.default_rng([0, step]), 0
        if pairs_on:
            utts = rng.choice(val_utts, size=min(batch_size, len(val_utts)), replace=False)
        if clips_on:
            starts = clip_starts[1][rng.integers(len(clip_starts[1]), size=clip_batch_size)]
    frames = np.load(frames_path, mmap_mode='r')  # re-opened per batch, as nanoGPT does: pages are released
    batch, n_tokens = {}, 0
    if pairs_on:
        mine = slice(slot * batch_size, (slot + 1) * batch_size)
        offset = rng.random(len(utts))[mine]  # a random frame of the utterance's span (CVCL)
        u = utterances[utts[mine]]
        frame = u['frame_first'] + (offset * (u['frame_last'] - u['frame_first'] + 1)).astype(np.int64)
        tokens = np.load(tokens_path, mmap_mode='r')
        texts = [tokens[s:s + n] for s, n in zip(u['tok_start'], u['tok_len'])]
        batch['text'], batch['text_len'] = text_batch(texts, eot, block_size)
        batch['images'] = torch.from_numpy(frames[frame])
        n_tokens = int(batch['text_len'].sum()) + len(u)
    if clips_on:
        mine = starts[slot * clip_batch_size:(slot + 1) * clip_batch_size, None]
        rows = mine + np.arange(clip_len) * clip_stride
        batch['clips'] = torch.from_numpy(frames[rows.ravel()]).view(*rows.shape, *frame_shape[1:])
    if device_type == 'cuda':
        batch = {k: v.pin_memory().to(device, non_blocking=True) for k, v in batch.items()}
    return batch, n_tokens

# -----------------------------------------------------------------------------
# model: from scratch, resumed, or initialised from another run's towers
model_args = {k: config[k] for k in ModelConfig.__dataclass_fields__ if k in config}
model_args.update(image_size=frame_shape[1], vocab_size=64 * math.ceil(max(meta['vocab_size'], eot + 1) / 64))
torch.manual_seed(seed)  # the same initial weights on every rank
try:
    model = BabyVLM(ModelConfig(**model_args), verbose=master)
except ValueError as e:
    raise SystemExit(str(e))
iter_num, best_val_loss, checkpoint = 0, float('inf'), None
inherited = set()  # towers whose weights came trained from a checkpoint (evaluate.py's n/a rows read them)

def check_tokenizer(checkpoint, path):
    """A text tower only means something with the tokenizer it was trained with: a checkpoint whose corpus
    was prepared again with another one is refused."""
    trained_with = (checkpoint.get('data') or {}).get('tokenizer')
    if isinstance(trained_with, dict) and not same_tokenizer(trained_with, corpus_tokenizer):
        raise SystemExit(f"{path} was trained with another tokenizer than {tokenizer_file} (was {data_dir} "
                         "prepared again?): its token ids would mean other words; train from scratch, or "
                         "train on the corpus it was trained on")

if init_from == 'resume':
    checkpoint = load_checkpoint(ckpt_path)
    check_tokenizer(checkpoint, ckpt_path)
    differ = {k: (v, model_args.get(k)) for k, v in checkpoint['model_args'].items()
              if model_args.get(k) != v}
    if differ:
        raise SystemExit(f"{ckpt_path}: checkpoint architecture differs from this config, "
                         f"(checkpoint, config): {differ}")
    model.load_state_dict(checkpoint['model'])
    iter_num, best_val_loss = checkpoint['iter_num'], checkpoint['best_val_loss']
    inherited = set(checkpoint.get('trained_towers', ()))
elif init_from != 'scratch':
    towers = [t for t in init_towers.split(',') if t] or list(TOWERS)
    source = load_checkpoint(init_from)
    if 'text' in towers:
        check_tokenizer(source, init_from)
    load_towers(model, source, towers, init_from)
    inherited = set(towers) & set(source.get('trained_towers', towers))
    source = None
used = {t for k, w in weights.items() if w for t in USES[k]}
trainable = used - frozen
for name, p in model.named_parameters():
    p.requires_grad_(tower_of(name) in trainable)
if not trainable:
    raise SystemExit(f"nothing to train: the objectives use {sorted(used)}, all frozen")
model.to(device)
optimizer = model.configure_optimizer(weight_decay, learning_rate, (beta1, beta2), device_type)
scaler = torch.amp.GradScaler(device_type, enabled=dtype == 'float16')
if checkpoint is not None:
    try:
        optimizer.load_state_dict(checkpoint['optimizer'])
    except ValueError as e:
        raise SystemExit(f"{ckpt_path}: optimizer state does not fit (was freeze different?): {e}")
    scaler.load_state_dict(checkpoint['scaler'])
checkpoint = None  # free memory
raw_model = model  # uncompiled, unwrapped: saved, evaluated and probed
if compile:
    model = torch.compile(model)
if ddp:
    model = DDP(model, device_ids=[local_rank] if device_type == 'cuda' else None)

# -----------------------------------------------------------------------------
# evaluation: fixed val batches per objective, and the 4-way word-to-frame probe
@torch.no_grad()
def estimate_loss():
    raw_model.eval()
    out = Counter()
    for k in range(eval_iters):
        with ctx:
            loss, losses = raw_model(get_batch('val', k)[0], weights)
        out.update({name: value.item() / eval_iters for name, value in dict(loss=loss, **losses).items()})
    raw_model.train()
    return dict(out)

def probe_vocabulary(df, n_utterances):
    """probe_words that val says, or else the words in 1-25% of val utterances (frequent enough to test,
    too rare to be function words)."""
    if probe_words:
        return set(probe_words.split(',')) & set(df)
    low, high = max(3, 0.01 * n_utterances), 0.25 * n_utterances
    return {w for w, n in df.items() if len(w) > 1 and low <= n <= high}

def build_probe():
    """Labeled-S-style trials without ground truth. A trial: a probe word, the middle frame of a val
    utterance that says it, and as foils the middle frames of three val utterances that say another probe
    word but not this one. Every frame was named, so a model that ignores the word scores 25%; things in
    view but not named, or named but not in view, keep the ceiling below 100%."""
    enc, tokens, u = load_tokenizer(tokenizer_file), np.load(tokens_path, mmap_mode='r'), utterances[val_utts]
    words = [set(re.findall(r"[^\W\d_]+", enc.decode(tokens[s:s + n].tolist()).lower()))
             for s, n in zip(u['tok_start'], u['tok_len'])]
    vocab = probe_vocabulary(Counter(w for ws in words for w in ws), len(u))
    middle, named = (u['frame_first'] + u['frame_last']) // 2, [k for k, ws in enumerate(words) if ws & vocab]
    pairs = [(i, w) for i in named for w in sorted(words[i] & vocab)]
    rng, trials = np.random.default_rng(0), []
    for i, w in (pairs[j] for j in rng.permutation(len(pairs))[:probe_trials]):
        foils = [k for k in named if w not in words[k] and middle[k] != middle[i]]
        if len(foils) >= 3:
            options, where = middle[np.append(rng.choice(foils, 3, replace=False), i)], rng.permutation(4)
            trials.append((w, options[where], int(np.argmax(where == 3))))  # the target's new position
    if not trials:
        return None
    heard = normaliser(corpus_text_form(meta))  # ' ball', as the word is inside a training utterance
    text, text_len = text_batch([enc.encode_ordinary(heard(w)) for w, _, _ in trials], eot, block_size)
    return dict(frames=np.stack([t[1] for t in trials]), target=np.array([t[2] for t in trials]),
                text=text.to(device), text_len=text_len.to(device), words=len({t[0] for t in trials}))

@torch.no_grad()
def probe_accuracy():
    raw_model.eval()
    frames, n = np.load(frames_path, mmap_mode='r'), len(probe['target'])
    scores = []
    for i in range(0, n, 64):
        images = torch.from_numpy(frames[probe['frames'][i:i + 64].ravel()]).to(device)
        text, text_len = (probe[k][i:i + 64].repeat_interleave(4, 0) for k in ('text', 'text_len'))
        with ctx:
            if readout == 'similarity':
                scores.append(raw_model.pair_similarity(images, text, text_len))
            else:
                scores.append(-raw_model.text_nll(images, text, text_len))
    raw_model.train()
    return float((torch.cat(scores).float().view(n, 4).argmax(1).cpu().numpy() == probe['target']).mean())

readout = readout_for(weights, probe_readout)
probe = build_probe() if master and pairs_on and probe_trials else None
if master and probe:
    print(f"probe: {len(probe['target'])} trials over {probe['words']} words, readout {readout}")
elif master:
    print("probe: off")

def get_lr(it):  # linear warmup, then cosine decay to min_lr (nanoGPT)
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    ratio = min(1.0, (it - warmup_iters) / max(1, lr_decay_iters - warmup_iters))
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (learning_rate - min_lr)

def save_checkpoint():
    """Write then rename (atomic_path): a kill or a full disk during the write leaves the previous checkpoint
    intact. The checkpoint carries its tokenizer and text normalisation, so evaluating it needs no corpus."""
    data = dict(data_dir=data_dir, tokenizer=corpus_tokenizer, text_form=corpus_text_form(meta),
                eot_token=eot, position=iter_num, order=order, seed=seed)
    run = dict(device=device, dtype=dtype, world_size=world_size, time=time.time())
    checkpoint = dict(model=raw_model.state_dict(), optimizer=optimizer.state_dict(),
                      scaler=scaler.state_dict(), model_args=model_args, config=config, iter_num=iter_num,
                      best_val_loss=best_val_loss, rng=torch.get_rng_state(), data=data, run=run,
                      trained_towers=sorted(trainable | inherited))
    try:
        with atomic_path(ckpt_path) as tmp, open(tmp, 'wb') as f:  # a file: torch passes on the OSError
            torch.save(checkpoint, f)
    except OSError as e:
        free = shutil.disk_usage(out_dir).free / 2 ** 20
        raise SystemExit(f"step {iter_num}: cannot write {ckpt_path}: {e.strerror} ({free:.0f} MiB free on "
                         f"that disk); the previous checkpoint, if any, is intact; free space and resume "
                         "with --init_from=resume") from None

# -----------------------------------------------------------------------------
# logging: one fixed-format line, a CSV in out_dir, wandb if asked for and installed
FIELDS = ['step', 'split', 'loss', *OBJECTIVES, 'probe', 'lr', 'ms_per_step', 'data_ms', 'images_per_sec',
          'tokens_per_sec', 'mfu', 'train_seconds']
log_path = os.path.join(out_dir, 'log.csv')
if master:  # a resumed run keeps the rows before its checkpoint's step: the rest it logs again
    rows = []
    if init_from == 'resume' and os.path.exists(log_path):
        with open(log_path, newline='') as f:
            rows = [r for r in csv.DictReader(f) if int(r['step']) < iter_num or
                    (int(r['step']) == iter_num and r['split'] == 'train')]
    table = io.StringIO()
    csv.DictWriter(table, FIELDS).writeheader()
    csv.DictWriter(table, FIELDS).writerows(rows)
    atomic_write(log_path, table.getvalue())
if wandb_log and master:
    try:
        import wandb
        wandb.init(project=wandb_project, name=wandb_run_name, config=config)
    except ImportError:
        print("wandb_log=True but wandb is not installed: logging to log.csv only")
        wandb_log = False

def log(row):
    with open(log_path, 'a', newline='') as f:
        csv.DictWriter(f, FIELDS).writerow(row)
    if wandb_log:
        values = {f"{row['split']}/{k}": v for k, v in row.items()
                  if v not in ('', None) and k not in ('step', 'split')}
        wandb.log(values, step=row['step'])

n_pairs, n_clips = batch_size * total_accum * pairs_on, clip_batch_size * total_accum * clips_on
images_per_step = n_pairs + n_clips * clip_len
# text_batch ends a batch at its longest text: the FLOPs count the decoder positions a batch has on average
longest = np.minimum(utterances['tok_len'][train_utts], block_size - 1)
draws = np.random.default_rng(0).integers(len(longest), size=(200, max(1, batch_size)))
text_positions = float(longest[draws].max(1).mean()) + 1 if len(longest) else block_size
tower_flops = raw_model.flops(n_pairs, n_clips, weights, trainable, text_positions)
flops_per_step = sum(tower_flops.values())
gpu = torch.cuda.get_device_name() if device_type == 'cuda' else ''
peak = peak_flops(gpu)
if master:
    towers_text = ", ".join(f"{k} {v / 1e9:.1f}" for k, v in tower_flops.items() if v)
    peak_text = f"bf16 MFU (dense) against peak {peak / 1e12:.0f} TFLOP/s" if peak else "MFU n/a on CPU"
    print(f"{world_size} rank(s) on {device}, {dtype}, compile {compile}; per step {n_pairs} pairs, "
          f"{n_clips} clips, {images_per_step} images, {flops_per_step / 1e9:.1f} GFLOPs ({towers_text}); "
          f"{peak_text}; trains {', '.join(sorted(trainable))}")

def print_val(val, probe_acc):
    losses = " ".join(f"{k} {v:.4f}" for k, v in val.items() if k != 'loss')
    probe_text = ""
    if probe:
        probe_text = f" | probe {probe_acc:.3f} (n={len(probe['target'])}, chance 0.25)"
    print(f"val  {iter_num:6d} | loss {val['loss']:.4f} | {losses}{probe_text}")

def print_step(loss, losses, lr, step_s, tokens_per_s, mfu):
    mfu_text = f'{100 * mfu:.1f}%' if mfu else 'n/a'
    print(f"step {iter_num:6d} | loss {loss:.4f} | " + " ".join(f"{k} {v:.4f}" for k, v in losses.items())
          + f" | lr {lr:.2e} | {step_s * 1000:.0f} ms | {images_per_step / step_s:.0f} img/s | "
          f"{tokens_per_s:.0f} tok/s | bf16 MFU (dense) {mfu_text}")

# ----------------------------------------------------------------------------- training loop
t_start, start_iter, val = time.time(), iter_num, {}
train_time = steady_time = tokens_seen = 0.0
probe_acc, steady_steps, window, window_tokens, window_data = None, 0, [], 0, 0.0
batch, n_tokens = get_batch('train', iter_num)
while True:
    if master and (iter_num % eval_interval == 0 or iter_num >= max_iters or eval_only):
        val = estimate_loss()
        probe_acc = probe_accuracy() if probe else None
        print_val(val, probe_acc)
        log(dict(step=iter_num, split='val', probe=probe_acc, lr=get_lr(iter_num),
                 train_seconds=round(train_time, 2), **val))
        improved = val['loss'] < best_val_loss
        best_val_loss = min(best_val_loss, val['loss'])
        worth_saving = improved or always_save_checkpoint
        if math.isfinite(val['loss']) and iter_num > start_iter and worth_saving and not eval_only:
            save_checkpoint()
            print(f"saved {ckpt_path} at step {iter_num}")
    if iter_num >= max_iters or eval_only:
        break
    t0 = time.time()
    lr = get_lr(iter_num)
    for group in optimizer.param_groups:
        group['lr'] = lr
    # dropout's randomness a function of (seed, rank, step): exact resume
    torch.manual_seed(int(np.random.SeedSequence([seed, rank, iter_num]).generate_state(1)[0]))
    loss_sum = 0.0
    for micro in range(accum):
        if ddp:  # sync gradients on the last micro-step only
            model.require_backward_grad_sync = micro == accum - 1
        with ctx:
            loss, losses = model(batch, weights)
            loss = loss / accum
        tokens_seen += n_tokens * world_size
        window_tokens += n_tokens * world_size
        t_data = time.time()
        if micro + 1 < accum:
            batch, n_tokens = get_batch('train', iter_num, micro + 1)
        else:
            batch, n_tokens = get_batch('train', iter_num + 1, 0)
        window_data += time.time() - t_data
        scaler.scale(loss).backward()
        loss_sum = loss_sum + loss.detach()
    scaler.unscale_(optimizer)
    norm = torch.nn.utils.clip_grad_norm_(raw_model.parameters(), grad_clip if grad_clip > 0 else math.inf)
    # one sync per step, the price of never stepping on, or saving, a non-finite model; the norm is
    # computed from all-reduced gradients, so every rank stops at the same step
    if not scaler.is_enabled() and not math.isfinite(norm.item()):
        saved = "no checkpoint was written"
        if os.path.exists(ckpt_path):
            saved = f"the last good checkpoint is {ckpt_path}"
        raise SystemExit(f"step {iter_num}: non-finite loss/gradients (loss {loss_sum.item():.4g}, grad norm "
                         f"{norm.item():.4g}); stopped before updating the weights; {saved}. "
                         "Try a lower learning_rate or a warmup.")
    scaler.step(optimizer)
    scaler.update()
    optimizer.zero_grad(set_to_none=True)
    iter_num += 1
    if device_type == 'cuda' and iter_num % log_interval == 0:
        torch.cuda.synchronize()
    dt = time.time() - t0
    train_time += dt
    if iter_num - start_iter > 10 or max_iters - start_iter <= 10:  # steady state: skip warmup steps
        steady_time, steady_steps = steady_time + dt, steady_steps + 1
    window.append(dt)
    if iter_num % log_interval == 0 and master:
        step_s = sum(window) / len(window)  # .item() below syncs: only at log points
        mfu = flops_per_step / step_s / (peak * world_size) if peak else None
        values = {k: v.item() for k, v in losses.items()}
        tokens_per_s = window_tokens / sum(window)
        print_step(loss_sum.item() * accum, values, lr, step_s, tokens_per_s, mfu)
        log(dict(step=iter_num, split='train', loss=loss_sum.item() * accum, **values, lr=lr,
                 ms_per_step=step_s * 1000, data_ms=window_data / len(window) * 1000,
                 images_per_sec=images_per_step / step_s, tokens_per_sec=tokens_per_s, mfu=mfu,
                 train_seconds=round(train_time, 2)))
        window, window_tokens, window_data = [], 0, 0.0

# ----------------------------------------------------------------------------- summary
def summary():
    """The end-of-run `key: value` block (autoresearch): greppable, one figure a line."""
    steps = iter_num - start_iter
    step_s = steady_time / max(steady_steps, 1)
    git = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True)
    commit = git.stdout.strip()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # CPU: peak resident memory
    where = f"{device} x{world_size} ({torch.get_num_threads()} threads)"
    if device_type == 'cuda':
        peak_mb, where = torch.cuda.max_memory_allocated() / 2 ** 20, f"{gpu} x{world_size}"
    out = {f"val_{k}": f"{v:.4f}" for k, v in val.items()}
    out['probe_acc'] = 'n/a'
    if probe:
        out['probe_acc'] = f"{probe_acc:.4f} (n={len(probe['target'])}, chance 0.25, readout {readout})"
    out.update(training_seconds=f"{train_time:.1f}", total_seconds=f"{time.time() - t_start:.1f}",
               ms_per_step=f"{1000 * step_s:.1f}", images_per_sec='n/a', tokens_per_sec='n/a',
               mfu_percent='n/a')
    if steps:
        out['images_per_sec'] = f"{images_per_step / step_s:.1f}"
        out['tokens_per_sec'] = f"{tokens_seen / steps / step_s:.1f}"
    if steps and peak:
        out['mfu_percent'] = f"{100 * flops_per_step / step_s / (peak * world_size):.2f}"
    params = " ".join(f"{k}={v / 1e6:.3f}" for k, v in raw_model.num_params().items())
    out.update(peak_mem_mb=f"{peak_mb:.0f}", num_steps=iter_num, images_seen=iter_num * images_per_step,
               tokens_seen=int(tokens_seen), num_params_M=params, device=where, dtype=dtype,
               commit=commit or 'unknown')
    return out

if master and not eval_only:
    print("---\n" + "\n".join(f"{k}: {v}" for k, v in summary().items()))
if ddp:  # a cheap check that DDP kept every rank's weights in step
    sums = torch.stack([p.detach().double().sum() for p in raw_model.parameters()])
    gathered = [torch.zeros_like(sums) for _ in range(world_size)]
    torch.distributed.all_gather(gathered, sums)
    if master:
        same = all(torch.equal(gathered[0], g) for g in gathered)
        print(f"ddp: parameters {'identical' if same else 'DIFFER'} on all {world_size} ranks")
    # gloo aborts a rank whose peer tears down while DDP's reducer holds the group: release, meet, destroy
    del model
    torch.distributed.barrier()
    destroy_process_group()
