"""
Raw recordings -> data/<name>/: memory-mapped frames, tokens, audio and their indexes.

    python prepare.py                               # the nursery corpus (data/nursery/raw -> data/nursery)
    python prepare.py --input_dir=/data/saycam --out_dir=data/saycam --fps=5 --image_size=224
    python prepare.py --input_dir=... --out_dir=... --shard=3/64   # one job of a cluster array ...
    python prepare.py --input_dir=... --out_dir=... --merge        # ... then one merge job

Each video (or file of image-utterance pairs) becomes one "part" in <out_dir>/parts-<args>/, written
under a temporary name and renamed when complete, so a killed run resumes where it stopped. A part
records what it was made from (size, mtime and SHA-1 of the video and its sidecars; of a pairs file and its
images), so a unit whose inputs changed is made again, and a finished dataset whose inputs changed is
prepared again, naming them. The merge trains the tokenizer on the training split, concatenates the parts in
a fixed order and renames the final files into place, meta.json last: a folder without meta.json is not a
dataset. The format is described in DESIGN.md section 3; `load_dataset` below is how every other script
opens it.

What goes wrong: a file that cannot be read (a corrupt video, a broken transcript) is skipped and listed
in meta.json's "skipped", a bad line in "problems"; a fault of the machine (a full disk, an I/O error, no
memory, Ctrl-C) stops the run and keeps no part of the unit it was on, so the same command, run again,
redoes that unit and goes on. One process writes out_dir at a time (atomic.hold_lock); shard jobs share it.
"""
import errno
import hashlib
import json
import math
import multiprocessing
import os
import shutil
import time
import zlib
from pathlib import Path

# a worker is one core: OpenBLAS' own threads (the log-mel products) would spin on the cores the other
# workers need and cost prepare.py 1.4x the CPU time (bench.py); set before numpy loads, so it holds when
# prepare.py is the script
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')
import av
import numpy as np
from PIL import Image
from tqdm import tqdm

from atomic import atomic_write, hold_lock
from configurator import require
from decode import N_FFT, audio_chunks, load_image, log_mel, video_frames
from inputs import (as_laid_out, changed_inputs, discover, listed_units, source_name, stamp, unit_files,
                    unit_key)
from tokenizer import load_tokenizer, normaliser, save_tokenizer, text_form, train_bpe
from transcripts import TranscriptError, read_pairs, read_transcript, speaker_allowed

VERSION = 1
SPLITS = ('train', 'val', 'test')
FRAME_DTYPE = np.dtype([('recording', 'i4'), ('t', 'f4'), ('age_days', 'f4'), ('split', 'u1'), ('mel', 'i8')])
UTTERANCE_DTYPE = np.dtype([('tok_start', 'i8'), ('tok_len', 'i4'), ('frame_first', 'i8'),
                            ('frame_last', 'i8'), ('recording', 'i4'), ('speaker', 'i2'),
                            ('age_days', 'f4'), ('start', 'f4'), ('end', 'f4'), ('split', 'u1'),
                            ('mel_start', 'i8'), ('mel_len', 'i4')])

# -----------------------------------------------------------------------------
input_dir = 'data/nursery/raw'  # recordings (+ sidecar transcripts, recordings.csv) and/or pair files
out_dir = 'data/nursery'        # the prepared dataset; nothing is written outside it
fps = 5.0                       # frames sampled per second of video, by timestamp (CVCL samples 5 fps)
image_size = 64                 # stored frames: image_size x image_size (shorter side resized, centre crop)
audio = True                    # store log-mel features of each recording's audio (own track or sidecar)
n_mels = 64
tokenizer = 'bpe'               # 'bpe' trains one on the training transcripts; or 'gpt2'; or a .tiktoken path
vocab_size = 4096               # for 'bpe': a child hears a few thousand word types (CVCL's vocab: 2,350)
lowercase = True                # transcripts' case carries no meaning here; CVCL lower-cases too
keep_speakers = ''              # comma list: keep only these speakers ('' keeps all)
drop_speakers = ''              # comma list: e.g. 'child' drops the key child's own speech
split_by = 'recording'          # 'recording' or 'day': neighbouring frames never straddle splits
val_fraction = 0.1
test_fraction = 0.1
workers = min(2, os.cpu_count() or 1)
shard = ''                      # 'i/n': prepare only every n-th unit starting at i, then stop (no merge)
merge = False                   # only merge the parts that shard jobs wrote
keep_parts = False              # keep the per-recording parts after merging (they double the disk use)
force = False                   # prepare again even if out_dir holds a dataset made with these settings
# -----------------------------------------------------------------------------
PREPARE_KEYS = ('fps', 'image_size', 'audio', 'n_mels', 'keep_speakers', 'drop_speakers', 'lowercase')
MAX_FPS = 120  # above a video's own rate, sampling only repeats frames; 120 covers high-speed phone video
MAX_MELS = N_FFT // 4  # more filters than this leave some without a single FFT bin between their edges

def check_settings(cfg):
    """Every setting's value, before any work (configurator.require names the setting)."""
    fps, size = cfg['fps'], cfg['image_size']
    require('fps', fps, math.isfinite(fps) and 0 < fps <= MAX_FPS, f"frames per second in (0, {MAX_FPS}]")
    require('image_size', size, 8 <= size <= 4096, "a side in pixels from 8 to 4096")
    require('n_mels', cfg['n_mels'], 1 <= cfg['n_mels'] <= MAX_MELS, f"from 1 to {MAX_MELS}")
    require('split_by', cfg['split_by'], cfg['split_by'] in ('recording', 'day'), "'recording' or 'day'")
    for key in ('val_fraction', 'test_fraction'):
        require(key, cfg[key], 0 <= cfg[key] < 1, "a fraction in [0, 1)")
    held_out = cfg['val_fraction'] + cfg['test_fraction']
    require('val_fraction + test_fraction', held_out, held_out < 1, "below 1, leaving recordings to train on")
    require('workers', cfg['workers'], cfg['workers'] >= 1, "at least 1")
    require('shard', cfg['shard'], cfg['shard'] == '' or shard_of(cfg['shard']) is not None,
            "'i/n' with whole numbers 0 <= i < n, e.g. 3/64")
    require('merge', cfg['merge'], not (cfg['merge'] and cfg['shard']), "False in a shard job (--shard)")
    require('input_dir', cfg['input_dir'], os.path.isdir(cfg['input_dir']), "a folder of recordings")
    if cfg['tokenizer'] == 'bpe':
        require('vocab_size', cfg['vocab_size'], 256 <= cfg['vocab_size'] <= 2 ** 20,
                "from 256 (the single bytes) to 2**20")
        return
    try:  # a rank file or tiktoken's encoding: read now, not after hours of decoding
        load_tokenizer(cfg['tokenizer'])
    except (OSError, ValueError, RuntimeError) as e:
        raise SystemExit(f"config: tokenizer={cfg['tokenizer']!r} cannot be used: {e}")

def shard_of(text):
    """(i, n) of a shard setting 'i/n', or None if it is not two whole numbers with 0 <= i < n."""
    i, slash, n = text.partition('/')
    if not (slash and i.isdigit() and n.isdigit() and int(i) < int(n)):
        return None
    return int(i), int(n)

TOKENIZER_FILE = 'tokenizer.tiktoken'  # a corpus' own tokenizer, in its folder

def tokenizer_entry(setting):
    """meta.json's 'tokenizer' for the tokenizer setting: 'gpt2' (tiktoken's own), else the corpus' own rank
    file, trained ('bpe') or copied (a .tiktoken path)."""
    if setting == 'gpt2':
        return 'gpt2'
    return TOKENIZER_FILE

def tokenizer_path(data_dir, meta):
    """The tokenizer a prepared corpus was encoded with: its own rank file, or a tiktoken name ('gpt2')."""
    if meta.get('tokenizer') == 'gpt2':
        return 'gpt2'
    return os.path.join(data_dir, TOKENIZER_FILE)

# what every dataset holds, and each array's element type (the token type is meta.json's)
META_KEYS = ('version', 'files', 'vocab_size', 'eot_token', 'token_dtype', 'image_size')
ARRAY_DTYPES = dict(frames=np.uint8, frame_index=FRAME_DTYPE, utterances=UTTERANCE_DTYPE,
                    audio_mel=np.float16)

def load_dataset(data_dir):
    """Opens a prepared dataset: (meta, arrays) with every array memory-mapped and checked against meta.json
    (shape, type, whole file); an error names the file and says to prepare again."""
    data_dir = Path(data_dir)
    meta_path = data_dir / 'meta.json'
    if not meta_path.exists():
        raise FileNotFoundError(f"{meta_path} is missing: not a prepared dataset (run prepare.py)")
    try:
        meta = json.loads(meta_path.read_text(encoding='utf-8'))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{meta_path}: not readable JSON ({e}): prepare again") from None
    lacks = [k for k in META_KEYS if k not in meta]
    if lacks:
        raise ValueError(f"{meta_path} lacks {', '.join(lacks)}: written by an older prepare.py; "
                         "prepare again")
    if meta['version'] != VERSION:
        raise ValueError(f"{meta_path}: format version {meta['version']!r}, but this prepare.py reads "
                         f"version {VERSION}: prepare again with this code")
    dtypes = dict(ARRAY_DTYPES, tokens=np.dtype(meta['token_dtype']))
    arrays = {}
    for name, shape in meta['files'].items():
        path = data_dir / f"{name}.npy"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing (listed in {meta_path}): prepare again")
        try:
            arrays[name] = np.load(path, mmap_mode='r')
        except (ValueError, OSError) as e:  # a cut file: "mmap length is greater than file size"
            raise ValueError(f"{path} is damaged ({e}): prepare again") from None
        if list(arrays[name].shape) != shape:
            raise ValueError(f"{path} has shape {arrays[name].shape}, {meta_path} says {shape}: "
                             "prepare again")
        if name in dtypes and arrays[name].dtype != dtypes[name]:
            raise ValueError(f"{path} holds {arrays[name].dtype}, not {np.dtype(dtypes[name])}: "
                             "prepare again")
    check_indexes(data_dir, meta, arrays)
    return meta, arrays

def check_indexes(data_dir, meta, arrays):
    """Every index points inside the array it indexes and every token is in the vocabulary, else an error
    names the file: a damaged or hand-edited dataset is found before a model indexes out of range."""
    u, n_frames, n_tokens = arrays['utterances'], len(arrays['frames']), len(arrays['tokens'])
    problems = []
    if len(arrays['frame_index']) != n_frames:
        problems.append("frame_index.npy does not have one row per frame")
    if len(u) and (u['frame_first'].min() < 0 or u['frame_last'].max() >= n_frames):
        problems.append("utterances.npy points at frames outside frames.npy")
    if len(u) and (u['tok_start'].min() < 0 or (u['tok_start'] + u['tok_len']).max() > n_tokens):
        problems.append("utterances.npy points at tokens outside tokens.npy")
    if n_tokens and int(arrays['tokens'].max()) >= meta['vocab_size']:
        problems.append(f"tokens.npy holds ids beyond the vocabulary of {meta['vocab_size']}")
    if problems:
        raise ValueError(f"{data_dir}: {problems[0]}: the dataset is damaged; prepare again")

# ----------------------------------------------------------------------------- what a part is made from

def part_changes(parts, unit, root):
    """None if the unit has no part yet; else why its part cannot be used: how its inputs changed since it
    was made, or that its files are damaged ([]: the part is ready)."""
    folder = parts / unit_key(unit, root)
    if not (folder / 'info.json').exists():
        return None
    try:
        info = json.loads((folder / 'info.json').read_text())
        sizes = {name: (folder / name).stat().st_size for name in info.get('bytes', {})}
    except (OSError, ValueError, TypeError, AttributeError):
        return ['a damaged part']
    if 'inputs' not in info:
        return ['a part made by an older prepare.py, which did not record its inputs']
    if sizes != info['bytes']:
        return [f"a damaged part ({', '.join(n for n in sizes if sizes[n] != info['bytes'][n])} cut)"]
    return changed_inputs(info.get('inputs', {}), unit_files(unit, root), root)

# faults of the machine, not properties of an input file: they stop the run, and the unit is redone
MACHINE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.ENOMEM, errno.EFBIG, errno.EMFILE,
                  errno.ENFILE}

def machine_fault(e, out):
    """True for an error of the machine (a full disk, an I/O error, a read-only or unwritable output
    folder), which must not mark an input as skipped."""
    if isinstance(e, MemoryError):  # also PyAV's, which is an FFmpegError
        return True
    if not isinstance(e, OSError):
        return False
    if e.errno in MACHINE_ERRNOS:
        return True
    written = isinstance(e.filename, str) and Path(os.path.realpath(e.filename)).is_relative_to(
        Path(os.path.realpath(out)))
    return e.errno in (errno.EACCES, errno.EPERM) and written

# ----------------------------------------------------------------------------- one part

UNREADABLE = (av.error.FFmpegError, TranscriptError, OSError, ValueError, RuntimeError)  # RecursionError too

def prepare_unit(job):
    """Decodes one unit into parts/<key>/ (frames.u8, mel.f16, info.json), atomically. An input that cannot
    be read makes a part that says 'skipped'; a fault of the machine leaves no part and stops the run."""
    unit, root, parts, cfg = job
    key = unit_key(unit, root)
    final, tmp = parts / key, parts / f".tmp-{key}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        inputs = {source_name(p, root): stamp(p) for p in unit_files(unit, root)}
        try:
            if unit[0] == 'video':
                info = prepare_video(unit, tmp, cfg)
            else:
                info = prepare_pairs(unit, root, tmp, cfg)
        except UNREADABLE as e:
            if machine_fault(e, parts):
                raise
            shutil.rmtree(tmp)
            tmp.mkdir()
            info = dict(skipped=f"{type(e).__name__}: {e}")
        info.update(source=source_name(unit[1], root), inputs=dict(inputs, **info.get('inputs', {})))
        # meta.json names files as the user laid them out
        info['problems'] = [as_laid_out(p, root) for p in info.get('problems', [])]
        if 'skipped' in info:
            info['skipped'] = as_laid_out(info['skipped'], root)
        info['bytes'] = {f.name: f.stat().st_size for f in tmp.iterdir()}  # a part cut later is redone
        (tmp / 'info.json').write_text(json.dumps(info))
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return key

def keep_utterance(u, cfg):
    return speaker_allowed(u.speaker, cfg['keep_speakers'] or None, cfg['drop_speakers'] or None)

def prepare_video(unit, tmp, cfg):
    """A video's frames, its audio (own track or sidecar) and its transcript's utterances. A video that
    cannot be decoded raises; a sidecar that cannot be read costs only itself (reported in problems): the
    frames still serve the objectives that need no words or sound."""
    _, path, transcript, sound = unit
    times = []
    with open(tmp / 'frames.u8', 'wb') as f:
        for t, rgb in video_frames(path, cfg['fps'], cfg['image_size']):
            f.write(np.ascontiguousarray(rgb).tobytes())
            times.append(round(t, 6))
    if not times:
        raise ValueError("no video frames could be decoded")
    duration = times[-1] + 0.5 / cfg['fps']
    problems = []
    n_mel = video_audio(sound or path, tmp, cfg, problems) if cfg['audio'] else 0
    utterances = video_utterances(unit, times, duration, cfg, problems)
    return dict(recordings=[dict(id=path.stem, frames=len(times), times=times, duration=duration, mel=n_mel,
                                 utterances=utterances)], problems=problems)

def video_audio(source, tmp, cfg, problems):
    """Writes the log-mel rows of the audio into tmp/mel.f16; returns their number (0 if it cannot be
    read, which is reported)."""
    n_mel = 0
    try:
        with open(tmp / 'mel.f16', 'wb') as f:
            for rows in log_mel(audio_chunks(source), cfg['n_mels']):
                f.write(rows.tobytes())
                n_mel += len(rows)
    except (av.error.FFmpegError, RuntimeError, ValueError, OSError) as e:  # soundfile's errors: RuntimeError
        if machine_fault(e, tmp):
            raise
        (tmp / 'mel.f16').unlink(missing_ok=True)
        problems.append(f"{source.name}: audio cannot be read ({type(e).__name__}: {e}), stored without it")
        return 0
    return n_mel

def video_utterances(unit, times, duration, cfg, problems):
    """The utterances of a video's transcript sidecar, each linked to the frames it overlaps."""
    _, path, transcript, _ = unit
    if transcript is None:
        problems.append(f"{path.name}: no transcript sidecar")
        return []
    try:
        found, read_problems = read_transcript(transcript, duration=duration)
    except TranscriptError as e:
        problems.append(f"{e}: the video is kept without its transcript")
        return []
    problems += read_problems
    utterances = []
    for u in found:
        if u.start >= duration:
            problems.append(f"{transcript.name}: utterance at {u.start:.1f}s starts after the video ends")
        elif keep_utterance(u, cfg):
            end = min(u.end, duration)
            utterances.append(dict(start=u.start, end=end, text=u.text, speaker=u.speaker,
                                   frames=frame_span(times, u.start, end)))
    return utterances

def prepare_pairs(unit, root, tmp, cfg):
    """Image-utterance pairs (LLaVA JSON, EgoBabyVLM/CVCL manifests, captioned images): each group
    (recording) becomes a recording whose frames are its images, in file order. An item with an image that
    cannot be read is dropped (and reported); the rest of the file is kept."""
    items, problems = read_pairs(unit[1])
    items.sort(key=lambda item: item.group)  # stable: a recording's frames stay contiguous, in file order
    groups, inputs = {}, {}
    with open(tmp / 'frames.u8', 'wb') as f:
        for item in items:
            inputs.update({source_name(p, root): stamp(p) for p in item.images + item.missing
                           if source_name(p, root) not in inputs})  # an image several items show: once
            pictures = item_pictures(item, cfg['image_size'], problems, tmp)
            if pictures is None:
                continue
            new_group = dict(id=item.group, frames=0, times=[], mel=0, utterances=[], date=item.date,
                             child=item.child)
            group = groups.setdefault(item.group, new_group)
            first = group['frames']
            for k, picture in enumerate(pictures):
                f.write(picture.tobytes())
                group['times'].append(float(item.timestamps[k]) if item.timestamps else float(first + k))
            group['frames'] += len(pictures)
            for text, linked in zip(item.texts, item.text_images):
                linked = linked or range(len(item.images))
                first_frame, last_frame = first + min(linked), first + max(linked)
                group['utterances'].append(dict(start=group['times'][first_frame],
                                                end=group['times'][last_frame], text=text, speaker='',
                                                frames=[first_frame, last_frame]))
    return dict(recordings=list(groups.values()), problems=problems, inputs=inputs)

def item_pictures(item, size, problems, out):
    """An item's images as stored frames, or None (reported in problems) if one of them cannot be read."""
    pictures = []
    for image in item.images:
        try:
            pictures.append(load_image(image, size))
        except (OSError, ValueError, Image.DecompressionBombError) as e:
            if machine_fault(e, out):
                raise
            problems.append(f"{image}: cannot read the image ({type(e).__name__}: {e}), its item skipped")
            return None
    return pictures

def frame_span(times, start, end):
    """First and last frame (inclusive) sampled inside [start, end]; the nearest one if none is."""
    first, last = np.searchsorted(times, start), np.searchsorted(times, end, side='right') - 1
    if first > last:
        first = last = int(np.clip(np.searchsorted(times, (start + end) / 2), 0, len(times) - 1))
    return [int(first), int(last)]

# ----------------------------------------------------------------------------- merge

def assign_splits(recordings, cfg):
    """Held-out recordings (or days) are spread evenly over the child's age, so that val and test see
    every stage of development; within each stretch of ages, a hash of the name picks the one held out."""
    by_day = cfg['split_by'] == 'day'
    keys = [f"{r['child']}/{r['date']}" if by_day and r['date'] else r['id'] for r in recordings]
    order = {}
    for r, k in zip(recordings, keys):
        order.setdefault(k, (np.nan_to_num(r['age_days'], nan=np.inf), r['date'], k))
    remaining, split = sorted(order, key=order.get), dict.fromkeys(order, 0)
    for value, fraction in ((2, cfg['test_fraction']), (1, cfg['val_fraction'])):
        want = round(len(order) * fraction) or int(fraction > 0 and len(order) >= 3)
        want = min(want, len(remaining) - 1)
        stride = len(remaining) / max(want, 1)
        stretches = [remaining[round(j * stride):round((j + 1) * stride)] for j in range(want)]
        picked = [min(stretch, key=lambda k: zlib.crc32(k.encode())) for stretch in stretches]
        for k in picked:
            split[k] = value
        remaining = [k for k in remaining if k not in picked]
    for r, k in zip(recordings, keys):
        r['split'] = split[k]

def npy_writer(path, dtype, shape):
    """An open .npy file, header written, for rows written in order: unlike a memmap's, the written pages
    never count towards this process' memory, which stays flat however long the recordings (bench.py)."""
    f = open(path, 'wb')
    np.lib.format.write_array_header_1_0(f, dict(descr=np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                                 fortran_order=False, shape=tuple(shape)))
    return f

def copy_bytes(src, offset, n, dst, block=1 << 20):
    with open(src, 'rb') as f:
        f.seek(offset)
        while n > 0:
            chunk = f.read(min(block, n))
            if not chunk:
                raise ValueError(f"{src} ends {n} bytes early")
            dst.write(chunk)
            n -= len(chunk)

def read_parts(parts, units, root, table, skipped):
    """(recordings, problems, inputs) of the parts, in unit order, each recording with its part, its source
    and its recordings.csv row; a unit that was skipped is added to `skipped`; inputs: every part's input
    stamps."""
    recordings, problems, inputs = [], [], {}
    for unit in units:
        key = unit_key(unit, root)
        info = json.loads((parts / key / 'info.json').read_text())
        inputs.update(info['inputs'])
        if 'skipped' in info:
            skipped.append(dict(file=info['source'], reason=info['skipped']))
            continue
        problems += info['problems']
        for r in info['recordings']:
            row = table.get(r['id'], {})
            r.update(part=key, source=info['source'], child=row.get('child', r.get('child') or ''),
                     date=row.get('date', r.get('date') or ''), age_days=row.get('age_days', float('nan')))
            recordings.append(r)
    return recordings, problems, inputs

def write_tokenizer(recordings, tmp_dir, cfg):
    """Trains or copies the tokenizer into tmp_dir (nothing to write for 'gpt2'); returns it loaded."""
    normalise = normaliser(text_form(cfg['lowercase']))
    path = tokenizer_path(tmp_dir, dict(tokenizer=tokenizer_entry(cfg['tokenizer'])))
    if cfg['tokenizer'] == 'bpe':  # trained on the training split only, so val/test words stay unseen
        texts = (normalise(u['text']) for r in recordings if r['split'] == 0 for u in r['utterances'])
        save_tokenizer(train_bpe(texts, cfg['vocab_size']), path)
    elif cfg['tokenizer'] != 'gpt2':  # a shared .tiktoken file, e.g. to evaluate on another corpus
        shutil.copyfile(cfg['tokenizer'], path)
    return load_tokenizer(path)

def copy_media(parts, r, part_rows, frames, mels, cfg):
    """Appends a recording's frames, and its mel rows if it has any, to the merged files. part_rows holds
    the rows already taken from each part's frames.u8 / mel.f16: a part can hold several recordings."""
    size, n_mels = cfg['image_size'], cfg['n_mels']
    f0, m0 = part_rows.get(r['part'], (0, 0))
    copy_bytes(parts / r['part'] / 'frames.u8', f0 * size * size * 3, r['frames'] * size * size * 3, frames)
    if r['mel'] > 0:
        copy_bytes(parts / r['part'] / 'mel.f16', m0 * n_mels * 2, r['mel'] * n_mels * 2, mels)
    part_rows[r['part']] = (f0 + r['frames'], m0 + r['mel'])

def write_arrays(parts, tmp_dir, recordings, enc, token_dtype, speakers, cfg):
    """Writes frames, audio_mel, frame_index, tokens and utterances into tmp_dir, the recordings in order,
    and gives each recording its frame_range and n_utterances; returns (files, utterances): each file's
    shape, as meta.json lists it, and the utterance table."""
    normalise = normaliser(text_form(cfg['lowercase']))
    n_frames, n_mel = sum(r['frames'] for r in recordings), sum(r['mel'] for r in recordings)
    size = cfg['image_size']
    frames = npy_writer(tmp_dir / 'frames.npy', np.uint8, (n_frames, size, size, 3))
    mels = npy_writer(tmp_dir / 'audio_mel.npy', np.float16, (n_mel, cfg['n_mels'])) if n_mel else None
    frame_index = np.zeros(n_frames, FRAME_DTYPE)
    utterances, tokens = [], []
    frame_row, mel_row, tok_row = 0, 0, 0
    part_rows = {}
    for rec_id, r in enumerate(tqdm(recordings, desc='merge', disable=None)):
        copy_media(parts, r, part_rows, frames, mels, cfg)
        n, has_mel = r['frames'], r['mel'] > 0
        times = np.asarray(r['times'], np.float32)
        mel_of = lambda t: mel_row + np.clip((np.asarray(t) * 100).astype(np.int64), 0, r['mel'] - 1)
        frame_mel = mel_of(times) if has_mel else [-1] * n
        frame_index[frame_row:frame_row + n] = list(zip(
            [rec_id] * n, times, [r['age_days']] * n, [r['split']] * n, frame_mel))
        texts = [normalise(u['text']) for u in r['utterances']]
        for u, ids in zip(r['utterances'], enc.encode_ordinary_batch(texts, num_threads=1)):
            if not ids:
                continue
            start_mel, mel_len = -1, 0
            if has_mel:
                start_mel = int(mel_of(u['start']))
                mel_left = mel_row + r['mel'] - start_mel
                mel_len = max(int(min(round((u['end'] - u['start']) * 100), mel_left)), 1)
            utterances.append((tok_row, len(ids), frame_row + u['frames'][0], frame_row + u['frames'][1],
                               rec_id, speakers.index(u['speaker']), r['age_days'], u['start'], u['end'],
                               r['split'], start_mel, mel_len))
            tokens.append(np.asarray(ids, token_dtype))
            tok_row += len(ids)
        r.update(frame_range=[frame_row, frame_row + n], n_utterances=len(texts))
        frame_row += n
        mel_row += r['mel']
    frames.close()
    if mels:
        mels.close()
    np.save(tmp_dir / 'frame_index.npy', frame_index)
    np.save(tmp_dir / 'tokens.npy', np.concatenate(tokens) if tokens else np.zeros(0, token_dtype))
    utterances = np.array(utterances, UTTERANCE_DTYPE)
    np.save(tmp_dir / 'utterances.npy', utterances)
    files = dict(frames=[n_frames, size, size, 3], frame_index=[n_frames], tokens=[tok_row],
                 utterances=[len(utterances)])
    if n_mel:
        files['audio_mel'] = [mel_row, cfg['n_mels']]
    return files, utterances

def split_counts(recordings, utterances):
    """Recordings, frames, utterances, tokens and hours of video in each split, as meta.json counts them."""
    counts = {}
    for s, name in enumerate(SPLITS):
        rs = [r for r in recordings if r['split'] == s]
        us = utterances[utterances['split'] == s]
        seconds = sum(r['duration'] for r in rs if 'duration' in r)
        counts[name] = dict(recordings=len(rs), frames=sum(r['frames'] for r in rs), utterances=len(us),
                            tokens=int(us['tok_len'].sum()), hours=round(seconds / 3600, 4))
    return counts

def recording_entry(r):
    """A recording as meta.json lists it."""
    return dict(id=r['id'], child=r['child'], date=r['date'], age_days=r['age_days'], source=r['source'],
                duration=r.get('duration'), split=SPLITS[r['split']], frames=r['frame_range'],
                utterances=int(r['n_utterances']))

def swap_into_place(tmp_dir, out, meta):
    """Moves the merged files from tmp_dir into out and writes meta.json last."""
    # a reader sees either the old dataset, or none (no meta.json), or the new one: never a mix
    (out / 'meta.json').unlink(missing_ok=True)
    (out / 'audio_mel.npy').unlink(missing_ok=True)  # a stale one from an earlier run with audio
    for name in os.listdir(tmp_dir):
        os.replace(tmp_dir / name, out / name)
    atomic_write(out / 'meta.json', json.dumps(meta, indent=1, allow_nan=True))
    shutil.rmtree(tmp_dir)

def merge_parts(parts, out, units, root, listed, skipped, cfg):
    """Concatenates the parts into the dataset in out, by way of out/.merge-tmp (removed if anything
    fails); returns its meta. listed: recordings.csv's table, and its stamp taken before it was read."""
    table, listing = listed
    recordings, problems, inputs = read_parts(parts, units, root, table, skipped)
    if not recordings:
        raise SystemExit(f"no usable recordings in {root}; skipped: {skipped[:5]}")
    if listing is not None:
        inputs['recordings.csv'] = listing
    assign_splits(recordings, cfg)
    tmp_dir = out / '.merge-tmp'
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    try:
        enc = write_tokenizer(recordings, tmp_dir, cfg)
        token_dtype = np.uint16 if enc.n_vocab <= 2**16 else np.uint32
        speakers = sorted({u['speaker'] for r in recordings for u in r['utterances']})
        files, utterances = write_arrays(parts, tmp_dir, recordings, enc, token_dtype, speakers, cfg)
        meta = dict(version=VERSION, args=cfg, image_size=cfg['image_size'], fps=cfg['fps'],
                    n_mels=cfg['n_mels'], mel_hz=100, tokenizer=tokenizer_entry(cfg['tokenizer']),
                    text_form=text_form(cfg['lowercase']),
                    vocab_size=enc.n_vocab, eot_token=enc.eot_token, token_dtype=np.dtype(token_dtype).name,
                    files=files, counts=split_counts(recordings, utterances), speakers=speakers,
                    recordings=[recording_entry(r) for r in recordings],
                    sources=[source_name(u[1], root) for u in units],
                    skipped=skipped, problems=problems, inputs=inputs)
        swap_into_place(tmp_dir, out, meta)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return meta

# ----------------------------------------------------------------------------- main

def main(cfg):
    """Runs prepare.py with a config dict (the globals above, resolved); returns meta or None. A fault of
    the machine stops it with a message; what was finished is kept, and the same command goes on from it."""
    check_settings(cfg)
    root, out = Path(cfg['input_dir']).resolve(), Path(cfg['out_dir'])
    locks = hold_locks(out, parts_dir(out, cfg), cfg)
    resume = (f"The units finished so far are kept in {out}; run the same command again once this is "
              "fixed, and it goes on from there.")
    try:
        return prepare_dataset(root, out, cfg)
    except OSError as e:
        if not machine_fault(e, out):
            raise
        raise SystemExit(f"prepare.py stopped: {e.strerror or e}"
                         f"{f' ({e.filename})' if e.filename else ''}. {resume}") from None
    except MemoryError:
        raise SystemExit(f"prepare.py stopped: out of memory (try fewer --workers). {resume}") from None
    except KeyboardInterrupt:
        raise SystemExit(f"prepare.py interrupted. {resume}") from None
    finally:
        for lock in locks:
            lock.close()

def hold_locks(out, parts, cfg):
    """A shard job shares out_dir with the other shards and holds its own shard alone (a lock in the parts
    folder, which goes with it); any other run holds out_dir alone."""
    if not cfg['shard']:
        return [hold_lock(out, 'prepare.py')]
    i, n = shard_of(cfg['shard'])
    what = f"prepare.py --shard={cfg['shard']}"
    return [hold_lock(out, what, shared=True), hold_lock(parts, what, name=f'.lock-shard-{i}-of-{n}')]

def parts_dir(out, cfg):
    """The folder of the parts made with these settings: a changed setting never mixes with old parts."""
    fingerprint = hashlib.sha1(json.dumps([cfg[k] for k in PREPARE_KEYS]).encode()).hexdigest()[:8]
    return out / f"parts-{fingerprint}"

def prepare_dataset(root, out, cfg):
    """Discovers the units, decodes those without a ready part, and merges (main's work, under its lock)."""
    t0 = time.time()
    units, skipped = discover(root)
    listing = stamp(root / 'recordings.csv')  # before it is read: an edit during the run is a change
    table, units = listed_units(root, units, skipped)
    parts = parts_dir(out, cfg)
    # what made the data; not where it lies or how the work was spread (a moved dataset is the same one)
    settings = {k: v for k, v in cfg.items()
                if k not in ('out_dir', 'workers', 'shard', 'merge', 'keep_parts', 'force')}
    if not cfg['force'] and not cfg['shard']:
        meta = finished(out, settings, units, root)
        if meta is not None:
            remove_leftovers(out, parts, cfg)
            print(f"{out} is already prepared with these settings from these inputs (--force to prepare "
                  "again)")
            return meta
    if not cfg['merge']:
        decode_units(units, root, parts, cfg)
        if cfg['shard']:
            print(f"shard {cfg['shard']} done; run with --merge once every shard has finished")
            return None
    check_parts(parts, units, root)
    meta = merge_parts(parts, out, units, root, (table, listing), skipped, settings)
    remove_leftovers(out, parts, cfg)
    print_summary(meta, out, cfg, time.time() - t0)
    return meta

def finished(out, settings, units, root):
    """The meta.json of a dataset in out prepared with these settings from these very inputs; None if there
    is none, or if the settings or the inputs changed since, which it says (naming the inputs)."""
    if not (out / 'meta.json').exists():
        return None
    try:  # meta.json, its version and every array, as train.py will open them
        meta, _ = load_dataset(out)
    except (OSError, ValueError) as e:
        print(f"{out} cannot be used ({e}): preparing again")
        return None
    if not isinstance(meta.get('args'), dict):
        return None
    was = meta['args']
    differ = [f"{k} {was.get(k)!r} -> {v!r}" for k, v in settings.items() if was.get(k) != v]
    if differ:
        print(f"{out} was prepared with other settings ({', '.join(differ)}): preparing again")
        return None
    files = [f for u in units for f in unit_files(u, root)]
    if (root / 'recordings.csv').exists():
        files.append(root / 'recordings.csv')
    if 'inputs' not in meta:
        print(f"{out} was made by an older prepare.py, which did not record its inputs: preparing again")
        return None
    if meta.get('text_form') != text_form(settings['lowercase']):
        print(f"{out} was made by an older prepare.py, which encoded utterances without a leading space "
              "(tokenizer.normaliser): preparing again")
        return None
    changes = changed_inputs(meta.get('inputs', {}), files, root)
    if changes:
        more = f" and {len(changes) - 10} more" if len(changes) > 10 else ''
        print(f"{out}: {len(changes)} input(s) changed since it was prepared, so it is prepared again: "
              f"{', '.join(changes[:10])}{more}")
        return None
    return meta

def decode_units(units, root, parts, cfg):
    """Makes the parts of this job's units (a shard's share, or all) that are not ready: not made yet, or
    made from inputs that have changed since. --force makes them all again."""
    mine = units
    if cfg['shard']:
        i, n = shard_of(cfg['shard'])
        mine = units[i::n]
    todo = []
    for unit in mine:
        changes = part_changes(parts, unit, root)
        if changes == [] and not cfg['force']:
            continue
        if changes:
            print(f"{source_name(unit[1], root)}: {', '.join(changes)} since its part was made: again")
        if changes is not None:
            shutil.rmtree(parts / unit_key(unit, root))
        todo.append(unit)
    print(f"{len(units)} units in {root}; {len(mine) - len(todo)} already prepared, {len(todo)} to go")
    parts.mkdir(parents=True, exist_ok=True)
    jobs = [(u, root, parts, cfg) for u in todo]
    if cfg['workers'] > 1 and len(jobs) > 1:
        with multiprocessing.get_context('spawn').Pool(cfg['workers']) as pool:
            decoded = pool.imap_unordered(prepare_unit, jobs)
            for _ in tqdm(decoded, total=len(jobs), desc='decode', disable=None):
                pass
    else:
        for job in tqdm(jobs, desc='decode', disable=None):
            prepare_unit(job)

def check_parts(parts, units, root):
    """Stops unless every unit has a part made from its inputs as they are now (the shard jobs' work)."""
    missing, stale = [], []
    for unit in units:
        changes = part_changes(parts, unit, root)
        if changes is None:
            missing.append(source_name(unit[1], root))
        elif changes:
            stale.append(f"{source_name(unit[1], root)} ({', '.join(changes)})")
    if missing:
        raise SystemExit(f"{len(missing)} units are not prepared yet, e.g. {missing[0]} (in {parts}): run "
                         "the shard jobs first")
    if stale:
        raise SystemExit(f"{len(stale)} units changed since their shard job prepared them, e.g. {stale[0]}: "
                         "run the shard jobs again")

def remove_leftovers(out, parts, cfg):
    """The parts (unless keep_parts) and a merge's temporary folder, once the dataset is complete; also
    those a run killed after writing meta.json left behind."""
    if not cfg['keep_parts']:
        shutil.rmtree(parts, ignore_errors=True)
    shutil.rmtree(out / '.merge-tmp', ignore_errors=True)

def print_summary(meta, out, cfg, seconds):
    c = meta['counts']
    hours = sum(c[s]['hours'] for s in SPLITS)
    print(f"prepared {out} in {seconds:.1f}s ({hours * 3600 / seconds:.1f} s of video per second)")
    for s in SPLITS:
        print(f"  {s:5s}: {c[s]['recordings']:4d} recordings {c[s]['hours']:7.3f} h "
              f"{c[s]['frames']:8d} frames {c[s]['utterances']:7d} utterances {c[s]['tokens']:8d} tokens")
    print(f"  vocab: {meta['vocab_size']}  image: {cfg['image_size']}px at {cfg['fps']:g} fps  audio: "
          f"{'log-mel' if 'audio_mel' in meta['files'] else 'none'}  skipped: {len(meta['skipped'])} files  "
          f"problems: {len(meta['problems'])} lines (listed in meta.json)")

if __name__ == '__main__':
    from configurator import configure
    main(configure(globals()))
