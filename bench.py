"""
Speed of every stage, each figure a ratio against a baseline measured in the same run (the machines are
shared and noisy, so absolute times mean little; DESIGN.md section 7).

    python bench.py                     # every figure this machine can measure: ~15 minutes on 2 CPU cores
    python bench.py --only=quickstart   # the README's quickstart, stage by stage: ~9 minutes on 2 CPU cores
    python bench.py --quick             # the same table on small inputs, ~3 minutes (the test suite runs it)
    python bench.py --only=gpu          # config/saycam.py at 224 px, bf16, torch.compile (needs CUDA)

Sections (--only takes a comma list of them):
  quickstart  the README's first command, each stage in a process of its own as a user runs it, in a
            temporary folder: seconds per stage and its share of the total (--quick: the tiny nursery)
  prepare   prepare.py's frame path (decode, sample, resize, write), in video seconds per wall second of one
            worker, against a decode-only PyAV pass over the same files; prepare.py's main() with 2 workers
            against 1; peak memory (RSS) of prepare.py on a recording 10x longer than a short one
  train     train.py itself (config/baby_small.py, all objectives) on the corpus prepared here: images/s,
            tokens/s, the share of step time waiting for data, and MFU against a matmul peak measured in
            this process at train.py's dtype
  scaling   train.py under torchrun with 2 CPU processes of one thread against 1 process of two threads
            with twice the accumulation: the same global batch, so the weights must match
  hf        the captioning objective side by side with the same architecture built from transformers modules
            the way BabyLLaVA does it (ViTModel, an MLP projector, GPT2LMHeadModel fed through inputs_embeds)
  evaluate  items/s of model.py's batched readouts against scoring one item at a time
  gpu       config/saycam.py's model at 224 px, bf16 autocast and torch.compile: MFU against the card's dense
            bf16 peak and against a bf16 matmul peak measured here
Every timed figure is the median of `repeats` measurements, a figure and its baseline interleaved so that a
change in the machine's load hits both. Nothing is written outside a temporary folder.
"""
import contextlib
import csv
import functools
import importlib.util
import io
import math
import os
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from configurator import configure
from kinds.readouts import Match
from model import (OBJECTIVES, TOWERS, USES, BabyVLM, ModelConfig, autocast, autocast_dtype, peak_flops,
                   text_batch, tower_of)

ROOT = Path(__file__).resolve().parent
# -----------------------------------------------------------------------------
only = ''              # comma-separated sections: quickstart,prepare,train,scaling,hf,evaluate,gpu ('' = all)
quick = False          # smaller inputs and fewer repeats: a smoke test of a few minutes
repeats = 5            # timed repetitions per figure; the table shows medians
recordings = 16        # prepare: synthetic head-camera recordings (320x240 at 10 fps, H.264 + AAC) ...
seconds = 120.0        # ... this long: starting its processes is then a small part of prepare.py's time
memory_seconds = 30.0  # prepare: peak memory on a recording this long and on one 10x longer
train_steps = 40       # train.py steps (each log window of 5 is one sample; the first is warmup)
eval_items = 256       # evaluate: items scored batched, and one at a time
gpu_steps = 10         # gpu: timed steps, after the compile's warmup
config = configure(globals())
# -----------------------------------------------------------------------------
if quick:
    repeats, recordings, seconds, memory_seconds = 3, 4, 15.0, 20.0
    train_steps, eval_items, gpu_steps = 15, 64, 5
SECTIONS = ('quickstart', 'prepare', 'train', 'scaling', 'hf', 'evaluate', 'gpu')
sections = [s for s in only.split(',') if s] or list(SECTIONS)
for s in sections:
    if s not in SECTIONS:
        raise SystemExit(f"unknown section {s!r}; sections: {', '.join(SECTIONS)}")
rows = []  # figure, value, baseline, ratio, target ('>=x' or '<=x'), as printed

def target_met(ratio, target):
    """'yes' or 'no': whether ratio meets target ('>=x' or '<=x'); '' without a target or a ratio."""
    if not target or ratio is None:
        return ''
    bound = float(target[2:])
    if target[0] == '>':
        met = ratio >= bound
    else:
        met = ratio <= bound
    return 'yes' if met else 'no'

def add(figure, value, baseline='-', ratio=None, target=''):
    shown = '-' if ratio is None else f"{ratio:.2f}"
    rows.append((figure, value, baseline, shown, target, target_met(ratio, target)))

def skip(section, why):
    print(f"{section}: skipped ({why})", flush=True)

def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t

def medians(fns, n=None):
    """Seconds per call of each function, the median of n rounds; in each round every
    function runs once, in turn."""
    times = [[] for _ in fns]
    for _ in range(n or repeats):
        for t, fn in zip(times, fns):
            t.append(timed(fn))
    return [statistics.median(t) for t in times]

@contextlib.contextmanager
def quiet():
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        yield

def matmul_peak(dtype, shape=(2048, 2048, 2048), device='cpu', inner=None):
    """FLOP/s of (n x k) @ (k x m) products in dtype: the ceiling MFU is measured against, here and now."""
    n, k, m = shape
    a, b = torch.randn(n, k, device=device).to(dtype), torch.randn(k, m, device=device).to(dtype)
    inner = inner or max(1, int(2e10 // (2 * n * k * m)) if device == 'cpu' else 20)
    sync = torch.cuda.synchronize if device != 'cpu' else (lambda: None)

    def run():
        for _ in range(inner):
            a @ b
        sync()
    run()
    return 2 * n * k * m * inner / medians([run])[0]

def random_batch(c, n_pairs, n_clips, device='cpu', seed=0):
    """A batch of train.py's shapes: uint8 frames, texts of 2-9 tokens (the nursery's median is 4), clips."""
    g = torch.Generator().manual_seed(seed)
    size = (c.image_size, c.image_size, 3)
    tokens = [torch.randint(0, c.vocab_size - 1, (int(n),), generator=g).tolist()
              for n in torch.randint(2, 10, (n_pairs,), generator=g)]
    text, text_len = text_batch(tokens, c.vocab_size - 1, c.block_size)
    images = torch.randint(0, 256, (n_pairs, *size), dtype=torch.uint8, generator=g)
    clips = torch.randint(0, 256, (n_clips, c.clip_len, *size), dtype=torch.uint8, generator=g)
    batch = dict(images=images, text=text, text_len=text_len, clips=clips)
    return {k: v.to(device) for k, v in batch.items()}

def step_fn(model, loss_fn, ctx, device_type='cpu'):
    """One optimizer step as train.py takes it: autocast forward, backward, clip, AdamW, zero_grad."""
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, betas=(0.9, 0.95), fused=device_type == 'cuda')

    def step():
        with ctx:
            loss = loss_fn()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device_type == 'cuda':
            torch.cuda.synchronize()
    return step

def machine_path():
    """Which path train.py and evaluate.py take on this machine, and why: their speed depends on it."""
    dtype = autocast_dtype('auto', 'cpu')
    why = "the CPU has AVX512-BF16 or AMX"
    if dtype == 'float32':
        why = "the CPU has no bf16 unit (torch.ops.mkldnn._is_mkldnn_bf16_supported() is False)"
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else 'no CUDA device'
    return (f"CPU kernels {torch.backends.cpu.get_cpu_capability()}, autocast {dtype} ({why}); "
            f"compile off on CPU, on for CUDA (train.py's default); {gpu}")

def autocast_ctx():
    """The CPU autocast train.py picks (dtype='auto'), and the dtype's name."""
    dtype = autocast_dtype('auto', 'cpu')
    return autocast('cpu', dtype), dtype

# ----------------------------------------------------------------------------- quickstart

def quickstart_stages(tmp):
    """The README's first command, after its pip install: (script, arguments), outputs under tmp."""
    raw, data, bench, out = tmp / 'raw', tmp / 'nursery', tmp / 'bench', tmp / 'out'
    size, train = 'default', []
    if quick:
        size = 'tiny'
        train = ['--max_iters=20', '--lr_decay_iters=20', '--warmup_iters=2', '--eval_interval=20']
    return [('data/nursery/make.py', [f'--out={raw}', f'--size={size}']),
            ('prepare.py', [f'--input_dir={raw}', f'--out_dir={data}']),
            ('train.py', ['config/baby_small.py', f'--data_dir={data}', f'--out_dir={out / "baby_small"}',
                          *train]),
            ('data/nursery/benchmarks.py', [f'--out={bench}', f'--raw={raw}', f'--size={size}']),
            ('evaluate.py', [f'--ckpt={out / "baby_small" / "ckpt.pt"}', f'--bench_dir={bench}',
                             f'--out_dir={out / "eval"}'])]

def bench_quickstart(tmp):
    """Each stage timed from its process' start to its end, as a user waits for it."""
    seconds = {}
    for script, args in quickstart_stages(tmp / 'quickstart'):
        t = time.perf_counter()
        run = subprocess.run([sys.executable, script, *args], cwd=ROOT, capture_output=True, text=True)
        seconds[script] = time.perf_counter() - t
        if run.returncode:
            raise SystemExit(f"quickstart: {script} {' '.join(args)} failed:\n{run.stderr[-3000:]}")
    total = sum(seconds.values())
    for script, s in seconds.items():
        add(f"quickstart: {script} (s)", f"{s:.0f}", f"{s / total:.0%} of the total")
    if quick:
        return add("quickstart: all stages, tiny nursery, 20 steps (s)", f"{total:.0f}")
    add("quickstart: all stages (s)", f"{total:.0f}", "600 s target", total / 600, '<=1')

# ----------------------------------------------------------------------------- prepare

WORDS = ('look at the ball dog cat cup red big little car where is it '
         'you want more juice yes no there up down').split()

def write_recording(path, seconds, seed, fps=10, width=320, height=240, sample_rate=16000):
    """A test recording in the nursery's codecs (x264 ultrafast crf 23, AAC 48 kb/s at 16 kHz) at 10 fps, so
    that prepare.py skips every other frame as it does a camera's: a textured room panned as a head turns, a
    toy crossing it, a voice-like tone; and an SRT with an utterance every 2 s."""
    import av
    rng = np.random.default_rng(seed)
    tiles = rng.integers(0, 256, (height // 8, width // 4, 3), dtype=np.uint8)
    room = np.kron(tiles, np.ones((16, 16, 1), np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), 'w', format='mp4') as out:
        video = out.add_stream('libx264', rate=fps, options={'preset': 'ultrafast', 'crf': '23'})
        video.width, video.height, video.pix_fmt, video.thread_count = width, height, 'yuv420p', 1
        sound = out.add_stream('aac', rate=sample_rate, layout='mono')
        sound.bit_rate = 48000
        for i in range(int(seconds * fps)):
            t = i / fps
            x, y = int(width / 2 * (1 + math.sin(0.3 * t))), int(height / 2 * (1 + math.sin(0.2 * t + 1)))
            rgb = room[y:y + height, x:x + width].copy()
            tx = int((width - 40) * (0.5 + 0.5 * math.sin(1.3 * t)))
            ty = int((height - 40) * (0.5 + 0.5 * math.cos(0.9 * t)))
            rgb[ty:ty + 40, tx:tx + 40] = (230, 40, 40)
            frame = av.VideoFrame.from_ndarray(rgb, format='rgb24')
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode())
        n = int(seconds * sample_rate) // 1024 * 1024
        t = np.arange(n) / sample_rate
        voice = 0.2 * np.sin(2 * np.pi * 220 * t) * (np.sin(np.pi * t) > 0)
        wave = (voice + 0.02 * rng.standard_normal(n)).astype(np.float32)
        for k in range(0, n, 1024):
            frame = av.AudioFrame.from_ndarray(wave[None, k:k + 1024], format='fltp', layout='mono')
            frame.sample_rate, frame.pts = sample_rate, k
            out.mux(sound.encode(frame))
        out.mux(sound.encode())
    stamp = lambda s: f"00:{int(s // 60):02d}:{int(s % 60):02d},{round(s % 1 * 1000):03d}"
    starts = np.arange(0.2, seconds - 2, 2.0)
    cues = [(s, s + 1.5, ' '.join(rng.choice(WORDS, rng.integers(2, 7)))) for s in starts]
    srt = ''.join(f"{i}\n{stamp(a)} --> {stamp(b)}\n{text}\n\n" for i, (a, b, text) in enumerate(cues, 1))
    path.with_suffix('.srt').write_text(srt)
    return path

def prepare_config(**overrides):
    import prepare
    return dict(configure(dict(vars(prepare)), argv=[], quiet=True), **overrides)

PREPARE = """import sys, time
import prepare
from configurator import configure
cfg = configure(vars(prepare), sys.argv[1:], quiet=True)
t = time.perf_counter()
prepare.main(cfg)
print(time.perf_counter() - t)
"""
# a small parent of its own: a process forked from this one would start with this one's peak memory (Linux)
PARENT = """import resource, subprocess, sys
out = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True).stdout
print(out.split()[-1], resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""

def run_prepare(input_dir, out_dir, *flags):
    """prepare.py's main() in a process of its own, as `python prepare.py` runs it: (seconds in main(),
    which leaves out the interpreter's start, the same for any number of workers; peak resident memory in
    bytes, of it or a worker)."""
    command = [sys.executable, '-c', PARENT, sys.executable, '-c', PREPARE, f'--input_dir={input_dir}',
               f'--out_dir={out_dir}', *flags]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)
    seconds, rss = out.stdout.split()
    return float(seconds), int(rss) * (1 if sys.platform == 'darwin' else 1024)

def corpus(tmp):
    """The recordings of the prepare figures, prepared (once) into the corpus train.py reads."""
    raw, out = tmp / 'raw', tmp / 'corpus'
    if not raw.exists():
        for i in range(recordings):
            write_recording(raw / f"rec{i}.mp4", seconds, seed=i)
    if not (out / 'meta.json').exists():
        run_prepare(raw, out)
    return raw, out

def bench_prepare(tmp):
    import av
    import prepare
    raw, out = corpus(tmp)
    # the frame path on 4 recordings (one worker's work), prepare.py on all
    files = sorted(raw.glob('*.mp4'))[:4]
    files_s = len(files) * seconds
    cfg = prepare_config(audio=False)
    # a worker runs prepare_video on one recording after another: this is one worker's work
    parts = tmp / 'frames'
    parts.mkdir()

    def decode_only():
        for f in files:
            with av.open(str(f)) as container:
                for _ in container.decode(video=0):
                    pass

    def frame_path():
        for f in files:
            prepare.prepare_video(('video', f, None, None), parts, cfg)
    frames_s, decode_s = medians([frame_path, decode_only])
    add("prepare: frame path, one worker (video s/s)", f"{files_s / frames_s:.0f}",
        f"{files_s / decode_s:.0f} decode only", decode_s / frames_s, '>=0.8')

    times = {1: [], 2: []}
    for _ in range(max(2, repeats // 2)):
        for workers in times:
            times[workers].append(run_prepare(raw, out, f'--workers={workers}', '--force')[0])
    one, two = (statistics.median(times[w]) for w in (1, 2))
    video_s = recordings * seconds
    add(f"prepare: prepare.main, {recordings} x {seconds:.0f} s, 2 workers (video s/s)",
        f"{video_s / two:.0f}", f"{video_s / one:.0f} at 1 worker", one / two, '>=1.7')

    short, long = tmp / 'short', tmp / 'long'
    write_recording(short / 'short.mp4', memory_seconds, seed=0)
    write_recording(long / 'long.mp4', 10 * memory_seconds, seed=0)
    rss_short, rss_long = (run_prepare(d, tmp / f"{d.name}_out", '--workers=1')[1] for d in (short, long))
    add(f"prepare: peak RSS, {10 * memory_seconds:.0f} s recording (MB)", f"{rss_long / 2 ** 20:.0f}",
        f"{rss_short / 2 ** 20:.0f} at {memory_seconds:.0f} s", rss_long / rss_short, '<=1.1')

# ----------------------------------------------------------------------------- train

def bench_train(tmp):
    """train.py itself, run in this process so that its steps and the matmul peak share
    the machine's state."""
    _, data = corpus(tmp)
    out, log_every = tmp / 'train', 5
    argv = ['train.py', str(ROOT / 'config' / 'baby_small.py'), f'--data_dir={data}', f'--out_dir={out}',
            f'--max_iters={train_steps}', f'--log_interval={log_every}', '--eval_iters=1', '--probe_trials=0',
            f'--eval_interval={train_steps}']
    saved_argv, sys.argv = sys.argv, argv
    try:
        with quiet():
            g = runpy.run_path(str(ROOT / 'train.py'), run_name='__main__')
    finally:
        sys.argv = saved_argv
    with open(out / 'log.csv', newline='') as f:
        # the first window holds the warmup steps
        log = [r for r in csv.DictReader(f) if r['split'] == 'train'][1:]
    dtype = getattr(torch, g['dtype'])
    peak = statistics.median([matmul_peak(dtype) for _ in range(3)])
    width = g['raw_model'].config.vit_embd
    peak_width = matmul_peak(dtype, (8192, width, 4 * width))
    step_s = statistics.median(float(r['ms_per_step']) for r in log) / 1000
    data_share = statistics.median(float(r['data_ms']) / float(r['ms_per_step']) for r in log)
    text = statistics.median(float(r['tokens_per_sec']) * float(r['ms_per_step']) / 1000 for r in log)
    patches = g['images_per_step'] * g['raw_model'].n_patches
    name = g['dtype'].replace('bfloat16', 'bf16').replace('float32', 'fp32')
    add(f"train: images/s (baby_small, {g['images_per_step']} images/step)",
        f"{g['images_per_step'] / step_s:.0f}")
    add("train: tokens/s (image patches + text)", f"{(patches + text) / step_s:.0f}",
        f"{patches / step_s:.0f} patches + {text / step_s:.0f} text")
    add("train: waiting for data (ms/step)", f"{data_share * step_s * 1000:.1f}",
        f"{step_s * 1000:.0f} ms step", data_share, '<=0.05')
    add(f"train: MFU, {name} (model GFLOP/s)", f"{g['flops_per_step'] / step_s / 1e9:.1f}",
        f"{peak / 1e9:.1f} {name} matmul 2048^3", g['flops_per_step'] / step_s / peak, '>=0.3')
    add(f"train: {name} matmul peak at width {width} (GFLOP/s)", f"{peak_width / 1e9:.1f}",
        f"{peak / 1e9:.1f} at 2048^3", peak_width / peak)

# ----------------------------------------------------------------------------- scaling

def train_run(data, out, command, threads):
    """train.py on the bench corpus, 2 x 32 pairs and 2 x 8 clips a step: (seconds per step, weights)."""
    flags = [str(ROOT / 'config' / 'baby_small.py'), f'--data_dir={data}', f'--out_dir={out}',
             f'--max_iters={train_steps}', '--log_interval=5', '--eval_iters=1', '--probe_trials=0',
             f'--eval_interval={train_steps}', '--batch_size=32', '--clip_batch_size=8',
             '--gradient_accumulation_steps=2']
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    subprocess.run([*command, 'train.py', *flags], cwd=ROOT, env=env, capture_output=True, check=True)
    with open(out / 'log.csv', newline='') as f:
        log = [r for r in csv.DictReader(f) if r['split'] == 'train'][1:]
    weights = torch.load(out / 'ckpt.pt', map_location='cpu', weights_only=True)['model']
    return statistics.median(float(r['ms_per_step']) for r in log) / 1000, weights

def bench_scaling(tmp):
    _, data = corpus(tmp)
    one_s, one = train_run(data, tmp / 'one_rank', [sys.executable], threads=2)
    torchrun = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2']
    two_s, two = train_run(data, tmp / 'two_ranks', torchrun, threads=1)
    add("scaling: torchrun, 2 CPU processes x 1 thread (images/s)", f"{128 / two_s:.0f}",
        f"{128 / one_s:.0f} 1 process x 2 threads", one_s / two_s)
    largest = max(float(w.abs().max()) for w in one.values())
    difference = max(float((one[k] - two[k]).abs().max()) for k in one)
    add(f"scaling: weights after {train_steps} steps, 2 ranks vs 1 (max abs difference)", f"{difference:.1e}",
        f"{largest:.2f} largest weight", difference / largest, '<=0.001')

# ----------------------------------------------------------------------------- hf: the transformers reference

def hf_reference(c):
    """BabyLLaVA's way: a ViT image encoder, an MLP projector, a GPT-2 LM fed [image prefix, text] as
    inputs_embeds; at our sizes, with our pooling of the patch grid to prefix_tokens and our activation,
    so the work is the same."""
    from transformers import GPT2Config, GPT2LMHeadModel, ViTConfig, ViTModel

    class Reference(nn.Module):
        def __init__(self):
            super().__init__()
            vit_config = ViTConfig(image_size=c.image_size, patch_size=c.patch_size, hidden_size=c.vit_embd,
                                   num_hidden_layers=c.vit_layer, num_attention_heads=c.vit_head,
                                   intermediate_size=4 * c.vit_embd, hidden_dropout_prob=0.0,
                                   attention_probs_dropout_prob=0.0, qkv_bias=c.bias)
            self.vit = ViTModel(vit_config, add_pooling_layer=False)
            self.projector = nn.Sequential(nn.Linear(c.vit_embd, c.n_embd), nn.GELU(),
                                           nn.Linear(c.n_embd, c.n_embd))
            lm_config = GPT2Config(vocab_size=c.vocab_size, n_positions=c.prefix_tokens + c.block_size,
                                   n_embd=c.n_embd, n_layer=c.n_layer, n_head=c.n_head, resid_pdrop=0.0,
                                   embd_pdrop=0.0, attn_pdrop=0.0, activation_function='gelu',
                                   bos_token_id=c.vocab_size - 1, eos_token_id=c.vocab_size - 1)
            self.lm = GPT2LMHeadModel(lm_config)

        def forward(self, images, text, text_len):
            pixels = images.permute(0, 3, 1, 2).float() / 127.5 - 1.0
            patches = self.vit(pixel_values=pixels).last_hidden_state[:, 1:]
            B, N, C = patches.shape
            grid = patches.transpose(1, 2).reshape(B, C, math.isqrt(N), math.isqrt(N))
            pooled = F.adaptive_avg_pool2d(grid, math.isqrt(c.prefix_tokens))
            prefix = self.projector(pooled.flatten(2).transpose(1, 2))
            embeds = torch.cat([prefix, self.lm.transformer.wte(text[:, :-1]).to(prefix.dtype)], 1)
            logits = self.lm(inputs_embeds=embeds).logits[:, c.prefix_tokens:]
            targets = text[:, 1:].masked_fill(torch.arange(text.shape[1] - 1) > text_len[:, None], -1)
            return F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), ignore_index=-1)
    return Reference()

def bench_hf(tmp):
    try:
        import transformers
    except ImportError:
        return skip('hf', "transformers is not installed; it is for this comparison only: "
                          "pip install transformers")
    c = ModelConfig(vocab_size=768)  # baby_small on the nursery (746 tokens, padded to a multiple of 64)
    batch, weights = random_batch(c, 64, 0), {'caption': 1.0}
    torch.manual_seed(0)
    ours = BabyVLM(c, verbose=False)
    for name, p in ours.named_parameters():
        p.requires_grad_(tower_of(name) in USES['caption'])
    theirs = hf_reference(c)
    ctx, dtype = autocast_ctx()
    ours_step = step_fn(ours, lambda: ours(batch, weights)[0], ctx)
    theirs_step = step_fn(theirs, lambda: theirs(batch['images'], batch['text'], batch['text_len']), ctx)
    for _ in range(2):
        ours_step(), theirs_step()
    t_ours, t_theirs = medians([lambda: [ours_step() for _ in range(3)],
                                lambda: [theirs_step() for _ in range(3)]])
    add(f"hf: images/s, caption objective, {dtype} (transformers {transformers.__version__})",
        f"{3 * 64 / t_ours:.0f}", f"{3 * 64 / t_theirs:.0f} transformers", t_theirs / t_ours, '>=1.5')

# ----------------------------------------------------------------------------- evaluate

CATEGORIES = 22  # Labeled-S' categories: the words of a picture-choice task

def choice_workload(n_trials, seed=0):
    """Labeled-S-shaped trials: a word and 4 pictures, no picture shown in two trials (the cache's worst
    case), the words drawn from CATEGORIES; as {key: pixels}, [(word, 4 keys)]."""
    g = np.random.default_rng(seed)
    pixels = {(f"trial{i}_{j}.png", None): g.integers(0, 256, (64, 64, 3), dtype=np.uint8)
              for i in range(n_trials) for j in range(4)}
    keys = list(pixels)
    return pixels, [(WORDS[i % CATEGORIES], keys[4 * i:4 * i + 4]) for i in range(n_trials)]

def voe_workload(n_items, frames=8, diverge_at=4, seed=0):
    """Violation-of-expectation-shaped items: a possible and an impossible clip of 8 frames that share
    their first 4 (the nursery's voe/); as {key: pixels}, [clip keys]."""
    g = np.random.default_rng(seed)
    pixels, clips = {}, []
    for i in range(n_items):
        shared = [(f"voe{i}_{f}.png", None) for f in range(diverge_at)]
        for version in ('possible', 'impossible'):
            clips.append(shared + [(f"voe{i}_{version}{f}.png", None) for f in range(diverge_at, frames)])
    for clip in clips:
        pixels.update({k: g.integers(0, 256, (64, 64, 3), dtype=np.uint8) for k in clip if k not in pixels})
    return pixels, clips

@functools.lru_cache(maxsize=1)
def bench_encoding():
    """A BPE of the bench's words, trained once: not inside the timed calls."""
    from tokenizer import encoding, train_bpe
    return encoding(train_bpe([' '.join(WORDS)] * 4, 300), 'bench')

def engine_for(model, readout, pixels, ctx):
    """evaluate.py's Engine over pictures already decoded, with a BPE of the bench's words."""
    import evaluate
    from tokenizer import text_form
    engine = evaluate.Engine(model, bench_encoding(), text_form(True), readout, ctx, evaluate.batch_size,
                             evaluate.max_new_tokens)
    engine.pixels.update(pixels)
    return engine

def choice_timings(model, readout, n_trials, ctx):
    """(seconds of evaluate.Engine, seconds one trial at a time) for n_trials trials and their text-blind and
    image-blind controls, as evaluate.py runs a task."""
    import evaluate
    pixels, trials = choice_workload(n_trials)
    blank = evaluate.Mode('image_blind', (128, 128, 128))
    modes = [evaluate.Mode(), evaluate.Mode('text_blind'), blank]
    requests = [Match(k, word) for word, keys in trials for k in keys]
    grey = torch.full((4, 64, 64, 3), 128, dtype=torch.uint8)

    def engine():
        e = engine_for(model, readout, pixels, ctx)
        for mode in modes:
            e.values(requests, mode)

    def one_at_a_time():
        e = engine_for(model, readout, {}, ctx)
        for mode in modes:
            for word, keys in trials:
                images = grey if mode is blank else torch.from_numpy(np.stack([pixels[k] for k in keys]))
                text, length = e.text_batch(['' if mode.name == 'text_blind' else word])
                if readout == 'similarity':
                    model.similarity(images, text, length)
                else:
                    model.text_nll(images, text.expand(4, -1), length.expand(4))
    with ctx:
        engine(), one_at_a_time()
        return medians([engine, one_at_a_time], max(2, repeats // 2))

def voe_timings(model, n_items, ctx):
    """The same for violation-of-expectation items and their image-blind control."""
    import evaluate
    pixels, clips = voe_workload(n_items)
    blank = evaluate.Mode('image_blind', (128, 128, 128))
    grey = torch.full((1, len(clips[0]), 64, 64, 3), 128, dtype=torch.uint8)

    def engine():
        e = engine_for(model, 'similarity', pixels, ctx)
        for mode in (evaluate.Mode(), blank):
            e.surprise(clips, mode)

    def one_at_a_time():
        for mode in (evaluate.Mode(), blank):
            for clip in clips:
                frames = grey
                if mode is not blank:
                    frames = torch.from_numpy(np.stack([pixels[k] for k in clip]))[None]
                model.surprise(frames)
    with ctx:
        engine(), one_at_a_time()
        return medians([engine, one_at_a_time], max(2, repeats // 2))

def bench_evaluate(tmp):
    """evaluate.py's Engine (batches across items; each picture encoded once for every readout, task and
    control) against a loop that scores one item at a time, each item a batch of its own pictures."""
    torch.manual_seed(0)
    model = BabyVLM(ModelConfig(vocab_size=768), verbose=False).eval()
    ctx, dtype = autocast_ctx()
    n = eval_items
    figures = {'similarity': (choice_timings(model, 'similarity', n, ctx), 3 * n, '>=10'),
               'text_nll': (choice_timings(model, 'nll', n, ctx), 3 * n, '>=10'),
               'surprise': (voe_timings(model, n // 4, ctx), 2 * n // 4, '>=5')}
    for name, ((t_engine, t_single), items, target) in figures.items():
        add(f"evaluate: {name}, with the controls, {dtype} (items/s)", f"{items / t_engine:.0f}",
            f"{items / t_single:.0f} one at a time", t_single / t_engine, target)

# ----------------------------------------------------------------------------- gpu

GPU_FIGURES = ("gpu: bf16 matmul 8192^3 (TFLOP/s)", "gpu: saycam 224px, compiled (images/s)",
               "gpu: MFU against the measured bf16 matmul peak")

def bench_gpu(tmp):
    if not torch.cuda.is_available():
        for figure in GPU_FIGURES:
            rows.append((figure, 'not measured', 'no CUDA device here', '-', '', ''))
        return skip('gpu', "no CUDA device")
    ns = {}
    exec((ROOT / 'config' / 'saycam.py').read_text(), ns)
    sizes = {k: ns[k] for k in ModelConfig.__dataclass_fields__ if k in ns}
    c = ModelConfig(**sizes, image_size=224, vocab_size=6016)
    torch.manual_seed(0)
    model = BabyVLM(c, verbose=False).cuda()
    weights = dict.fromkeys(OBJECTIVES, 1.0)
    n_pairs, n_clips = ns['batch_size'], ns['clip_batch_size']
    batch = random_batch(c, n_pairs, n_clips, 'cuda')
    ctx = autocast('cuda', 'bfloat16')
    flops = sum(model.flops(n_pairs, n_clips, weights, set(TOWERS)).values())
    images = n_pairs + n_clips * c.clip_len
    eager = step_fn(model, lambda: model(batch, weights)[0], ctx, 'cuda')
    compiled_model = torch.compile(model)
    compiled = step_fn(model, lambda: compiled_model(batch, weights)[0], ctx, 'cuda')
    t0 = time.perf_counter()
    for _ in range(3):
        eager(), compiled()
    warmup = time.perf_counter() - t0
    torch.cuda.reset_peak_memory_stats()
    t_eager, t_compiled = medians([eager, compiled], gpu_steps)
    peak = matmul_peak(torch.bfloat16, (8192, 8192, 8192), 'cuda')
    name = torch.cuda.get_device_name()
    spec = peak_flops(name)
    add(GPU_FIGURES[0], f"{peak / 1e12:.0f}",
        f"{spec / 1e12:.0f} dense spec of {name}" if spec else name, peak / spec if spec else None)
    add(GPU_FIGURES[1], f"{images / t_compiled:.0f}", f"{images / t_eager:.0f} eager, {images} images/step",
        t_eager / t_compiled)
    if spec:
        add("gpu: bf16 MFU (dense), compiled (TFLOP/s)", f"{flops / t_compiled / 1e12:.0f}",
            f"{spec / 1e12:.0f} dense spec", flops / t_compiled / spec)
    add(GPU_FIGURES[2], f"{flops / t_compiled / 1e12:.0f}", f"{peak / 1e12:.0f} measured",
        flops / t_compiled / peak, '>=0.4')
    print(f"gpu: {name}, torch {torch.__version__}, {flops / 1e12:.2f} TFLOP/step, warmup and compile "
          f"{warmup:.0f} s, peak memory {torch.cuda.max_memory_allocated() / 2 ** 30:.1f} GiB", flush=True)

# ----------------------------------------------------------------------------- run and print

NEEDS = dict.fromkeys(('quickstart', 'prepare', 'train', 'scaling'), ('av', 'soundfile', 'tiktoken'))

t_start = time.time()
print(f"bench: torch {torch.__version__}, {torch.get_num_threads()} threads, "
      f"load average {os.getloadavg()[0]:.1f}, {'quick, ' if quick else ''}sections {','.join(sections)}",
      flush=True)
print(f"path: {machine_path()}", flush=True)
with tempfile.TemporaryDirectory(prefix='bench-') as tmp:
    for section in sections:
        missing = [m for m in NEEDS.get(section, ()) if not importlib.util.find_spec(m)]
        if missing:
            skip(section, f"needs {', '.join(missing)} (pip install -r requirements.txt)")
            continue
        t0 = time.time()
        globals()[f'bench_{section}'](Path(tmp))
        print(f"{section}: {time.time() - t0:.0f} s", flush=True)

header = ('figure', 'value', 'baseline', 'ratio', 'target', 'met')
widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
print('\n'.join('| ' + ' | '.join(str(v).ljust(w) for v, w in zip(r, widths)) + ' |'
                for r in [header, tuple('-' * w for w in widths)] + rows))
print(f"total: {time.time() - t_start:.0f} s, load average now {os.getloadavg()[0]:.1f} "
      "(other processes share these cores)")
