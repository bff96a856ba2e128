"""
Raw recordings -> data/<name>/: memory-mapped frames, tokens, audio and their indexes.

    python prepare.py                               # the nursery corpus (data/nursery/raw -> data/nursery)
    python prepare.py --input_dir=/data/saycam --out_dir=data/saycam --fps=5 --image_size=224
    python prepare.py --input_dir=... --out_dir=... --shard=3/64   # one job of a cluster array ...
    python prepare.py --input_dir=... --out_dir=... --merge        # ... then one merge job

Each video (or file of image-utterance pairs) becomes one "part" in <out_dir>/parts-<args>/, written
under a temporary name and renamed when complete, so a killed run resumes where it stopped. The merge
trains the tokenizer on the training split, concatenates the parts in a fixed order and renames the
final files into place, meta.json last: a folder without meta.json is not a dataset. The format is
described in DESIGN.md section 3; `load_dataset` below is how every other script opens it.
"""
import csv
import datetime
import hashlib
import itertools
import json
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
from av.video.reformatter import VideoReformatter
import numpy as np
import soundfile
from PIL import Image
from tqdm import tqdm

from atomic import atomic_write
from tokenizer import load_tokenizer, save_tokenizer, train_bpe
from transcripts import (IMAGE_EXTS, TRANSCRIPT_EXTS, TranscriptError, is_pairs_json, read_pairs,
                         read_transcript, speaker_allowed)

VERSION = 1
VIDEO_EXTS = ('.mp4', '.mov', '.mkv', '.avi', '.webm', '.m4v')
AUDIO_EXTS = ('.wav', '.flac')
SAMPLE_RATE, MEL_HOP, MEL_WIN, N_FFT = 16000, 160, 400, 512  # 25 ms windows every 10 ms (Whisper, wav2vec)
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

def load_dataset(data_dir):
    """Opens a prepared dataset: (meta, arrays) with every array memory-mapped, checked against meta."""
    data_dir = Path(data_dir)
    if not (data_dir / 'meta.json').exists():
        raise FileNotFoundError(f"{data_dir}/meta.json is missing: not a prepared dataset (run prepare.py)")
    meta = json.loads((data_dir / 'meta.json').read_text())
    arrays = {}
    for name in meta['files']:
        path = data_dir / f"{name}.npy"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing (listed in {data_dir}/meta.json): prepare again")
        arrays[name] = np.load(path, mmap_mode='r')
        if list(arrays[name].shape) != meta['files'][name]:
            raise ValueError(f"{path} has shape {arrays[name].shape}, meta.json says {meta['files'][name]}")
    return meta, arrays

# ----------------------------------------------------------------------------- images and video

def resize_crop(width, height, size):
    """Size to scale a width x height picture to so that its shorter side is `size`."""
    scale = size / min(width, height)
    return max(size, round(width * scale)), max(size, round(height * scale))

def centre_crop(rgb, size):
    h, w = rgb.shape[:2]
    top, left = (h - size) // 2, (w - size) // 2
    return rgb[top:top + size, left:left + size]

def load_image(path, size, box=None):
    """A picture as training sees frames: shorter side to size (area filter), centre crop. box: a crop, as
    fractions (x0, y0, x1, y1), cut first (evaluate.py's quadrants and exit regions)."""
    with Image.open(path) as img:
        img = img.convert('RGB')
        if box is not None:
            W, H = img.size
            img = img.crop((round(box[0] * W), round(box[1] * H), round(box[2] * W), round(box[3] * H)))
        return centre_crop(np.asarray(img.resize(resize_crop(*img.size, size), Image.BOX)), size)

def video_frames(path, fps, size):
    """Yields (t, rgb) at t = (k + 0.5) / fps: the frame on screen at that time. Streams: only the
    previous decoded frame is held, and only the frames kept are converted and resized. One thread decodes
    and converts: a worker is a core (--workers), and threads within one only contend with the others."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_count = 1
        start = float(stream.start_time * stream.time_base) if stream.start_time is not None else None
        period = 1.0 / fps
        target, previous, last_t = 0.5 * period, None, 0.0
        # one reformatter keeps one swscale context; a fresh one per frame costs 5x the conversion (measured)
        reformatter = VideoReformatter()
        sws_threads = {'threads': 1} if int(av.__version__.split('.')[0]) >= 17 else {}  # PyAV 17 added them

        def convert(frame):
            turns = round((getattr(frame, 'rotation', 0) or 0) / 90) % 4  # phones store portrait as rotated
            w, h = (frame.height, frame.width) if turns % 2 else (frame.width, frame.height)
            w2, h2 = resize_crop(w, h, size)
            if turns % 2:
                w2, h2 = h2, w2
            converted = reformatter.reformat(frame, w2, h2, 'rgb24', interpolation='AREA', **sws_threads)
            rgb = converted.to_ndarray()
            return centre_crop(np.rot90(rgb, turns) if turns else rgb, size)

        for frame in container.decode(stream):
            if frame.time is None:
                continue
            if start is None:
                start = frame.time
            t = frame.time - start
            while previous is not None and t > target:
                yield target, convert(previous)
                target += period
            previous, last_t = frame, t
        if previous is not None:
            end = last_t + (float(stream.average_rate and 1 / stream.average_rate) or period)
            while target < end:
                yield target, convert(previous)
                target += period

# ----------------------------------------------------------------------------- audio

def mel_filterbank(n_mels, n_fft=N_FFT, sample_rate=SAMPLE_RATE):
    """Triangular filters evenly spaced on the HTK mel scale from 0 Hz to Nyquist."""
    mel = lambda f: 2595 * np.log10(1 + f / 700)
    edges = 700 * (10 ** (np.linspace(0, mel(sample_rate / 2), n_mels + 2) / 2595) - 1)
    bins = np.fft.rfftfreq(n_fft, 1 / sample_rate)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    return np.maximum(0, np.minimum((bins - lo) / (mid - lo), (hi - bins) / (hi - mid))).astype(np.float32)

def audio_chunks(path):
    """Yields float32 16 kHz mono chunks of a file's audio: PyAV for a container's track, soundfile
    for a WAV/FLAC sidecar, one resampler for both. Yields nothing if there is no audio track."""
    resampler = av.AudioResampler(format='flt', layout='mono', rate=SAMPLE_RATE)
    if Path(path).suffix.lower() in AUDIO_EXTS:
        info = soundfile.info(str(path))
        frames = (av.AudioFrame.from_ndarray(block.mean(axis=1, dtype=np.float32)[None], format='flt',
                                             layout='mono')
                  for block in soundfile.blocks(str(path), blocksize=info.samplerate * 10, dtype='float32',
                                                always_2d=True))
        rate = info.samplerate
    else:
        container = av.open(str(path))
        if not container.streams.audio:
            container.close()
            return
        frames, rate = container.decode(audio=0), None
    for frame in frames:
        if rate:
            frame.sample_rate = rate
        for out in resampler.resample(frame):
            yield out.to_ndarray().reshape(-1)
    for out in resampler.resample(None):
        yield out.to_ndarray().reshape(-1)

def log_mel(chunks, n_mels):
    """Streaming log-mel: row i covers samples [160 i, 160 i + 400). Yields float16 blocks of rows."""
    filters, window = mel_filterbank(n_mels), np.hanning(MEL_WIN).astype(np.float32)
    pending, size = [], 0
    for chunk in itertools.chain(chunks, [None]):
        if chunk is not None:
            pending.append(chunk)
            size += len(chunk)
            if size < 10 * SAMPLE_RATE:  # AAC decodes 1024 samples at a time: batch them for numpy's sake
                continue
        buf = np.concatenate(pending) if pending else np.zeros(0, np.float32)
        n = (len(buf) - MEL_WIN) // MEL_HOP + 1
        if n > 0:
            windows = np.lib.stride_tricks.sliding_window_view(buf, MEL_WIN)[::MEL_HOP][:n] * window
            spectrum = np.fft.rfft(windows, N_FFT)
            # no sqrt, as abs() would take
            power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
            yield np.log(power @ filters.T + 1e-6).astype(np.float16)
            buf = buf[n * MEL_HOP:]
        pending, size = [buf], len(buf)

# ----------------------------------------------------------------------------- discovery

def read_recordings_csv(path):
    """recording,child,date,age_days (or birth_date): the ages make the corpus longitudinal."""
    table = {}
    with open(path, newline='', encoding='utf-8-sig') as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            try:
                age = row.get('age_days') or ''
                if not age and row.get('birth_date') and row.get('date'):
                    age = (datetime.date.fromisoformat(row['date']) -
                           datetime.date.fromisoformat(row['birth_date'])).days
                table[row['recording'].strip()] = dict(child=(row.get('child') or '').strip(),
                                                       date=(row.get('date') or '').strip(),
                                                       age_days=float(age) if age != '' else float('nan'))
            except (KeyError, ValueError, AttributeError) as e:
                raise SystemExit(f"{path}:{line}: cannot read this row ({e}); columns are "
                                 "recording,child,date,age_days (or birth_date)")
    return table

def discover(root):
    """Units of work, in a fixed order: ('video', path, transcript, audio) or ('pairs', path)."""
    root = Path(root)
    if not root.is_dir():
        raise SystemExit(f"input_dir {root} is not a folder")
    units, skipped, seen, captioned = [], [], {}, False
    for path in sorted(p for p in root.rglob('*') if p.is_file()):
        ext, rel = path.suffix.lower(), str(path.relative_to(root))
        captioned = captioned or (ext in IMAGE_EXTS and path.with_suffix('.txt').exists())
        if ext in VIDEO_EXTS:
            if path.stem in seen:
                reason = f"duplicate recording id {path.stem} (also {seen[path.stem]})"
                skipped.append(dict(file=rel, reason=reason))
                continue
            seen[path.stem] = rel
            sidecars = {p.suffix.lower(): p for p in path.parent.glob(path.stem + '.*')}
            transcript = next((sidecars[e] for e in TRANSCRIPT_EXTS if e in sidecars), None)
            sound = next((sidecars[e] for e in AUDIO_EXTS if e in sidecars), None)
            units.append(('video', path, transcript, sound))
        elif ext == '.json':
            beside_video = any(path.with_suffix(e).exists() for e in VIDEO_EXTS)
            if not beside_video and is_pairs_json(path):
                units.append(('pairs', path))
    if captioned:
        units.append(('pairs', root))
    return units, skipped

def source_name(path, root):
    """A unit's file (or folder) as the user laid it out under the input folder: '.' for the folder itself."""
    if Path(path) == Path(root):
        return '.'
    return str(Path(path).relative_to(root))

def unit_key(unit, root):
    """The unit's part folder: its source with the path separators flattened."""
    rel = source_name(unit[1], root)
    if rel == '.':
        rel = '_captioned_images'
    return rel.replace(os.sep, '__')

# ----------------------------------------------------------------------------- one part

def prepare_unit(job):
    """Decodes one unit into parts/<key>/ (frames.u8, mel.f16, info.json), atomically."""
    unit, root, parts, cfg = job
    key = unit_key(unit, root)
    final, tmp = parts / key, parts / f".tmp-{key}"
    if (final / 'info.json').exists():
        return key
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        info = prepare_video(unit, tmp, cfg) if unit[0] == 'video' else prepare_pairs(unit, root, tmp, cfg)
    except (av.error.FFmpegError, TranscriptError, OSError, ValueError, RuntimeError) as e:
        shutil.rmtree(tmp)
        tmp.mkdir()
        info = dict(skipped=f"{type(e).__name__}: {e}")
    info['source'] = source_name(unit[1], root)
    # meta.json names files as the user laid them out
    relative = lambda text: text.replace(f"{root}{os.sep}", '')
    info['problems'] = [relative(p) for p in info.get('problems', [])]
    if 'skipped' in info:
        info['skipped'] = relative(info['skipped'])
    (tmp / 'info.json').write_text(json.dumps(info))
    os.rename(tmp, final)
    return key

def keep_utterance(u, cfg):
    return speaker_allowed(u.speaker, cfg['keep_speakers'] or None, cfg['drop_speakers'] or None)

def prepare_video(unit, tmp, cfg):
    _, path, transcript, sound = unit
    times = []
    with open(tmp / 'frames.u8', 'wb') as f:
        for t, rgb in video_frames(path, cfg['fps'], cfg['image_size']):
            f.write(np.ascontiguousarray(rgb).tobytes())
            times.append(round(t, 6))
    if not times:
        raise ValueError("no video frames could be decoded")
    duration = times[-1] + 0.5 / cfg['fps']
    n_mel = 0
    if cfg['audio']:
        with open(tmp / 'mel.f16', 'wb') as f:
            for rows in log_mel(audio_chunks(sound or path), cfg['n_mels']):
                f.write(rows.tobytes())
                n_mel += len(rows)
    utterances, problems = [], []
    if transcript is None:
        problems.append(f"{path.name}: no transcript sidecar")
    else:
        found, problems = read_transcript(transcript, duration=duration)
        for u in found:
            if u.start >= duration:
                problems.append(f"{transcript.name}: utterance at {u.start:.1f}s starts after the video ends")
            elif keep_utterance(u, cfg):
                end = min(u.end, duration)
                utterances.append(dict(start=u.start, end=end, text=u.text, speaker=u.speaker,
                                       frames=frame_span(times, u.start, end)))
    return dict(recordings=[dict(id=path.stem, frames=len(times), times=times, duration=duration, mel=n_mel,
                                 utterances=utterances)], problems=problems)

def prepare_pairs(unit, root, tmp, cfg):
    """Image-utterance pairs (LLaVA JSON, EgoBabyVLM/CVCL manifests, captioned images): each group
    (recording) becomes a recording whose frames are its images, in file order."""
    items, problems = read_pairs(unit[1])
    items.sort(key=lambda item: item.group)  # stable: a recording's frames stay contiguous, in file order
    groups = {}
    with open(tmp / 'frames.u8', 'wb') as f:
        for item in items:
            new_group = dict(id=item.group, frames=0, times=[], mel=0, utterances=[], date=item.date,
                             child=item.child)
            group = groups.setdefault(item.group, new_group)
            first = group['frames']
            for k, image in enumerate(item.images):
                f.write(load_image(image, cfg['image_size']).tobytes())
                group['times'].append(float(item.timestamps[k]) if item.timestamps else float(first + k))
            group['frames'] += len(item.images)
            for text, linked in zip(item.texts, item.text_images):
                linked = linked or range(len(item.images))
                first_frame, last_frame = first + min(linked), first + max(linked)
                group['utterances'].append(dict(start=group['times'][first_frame],
                                                end=group['times'][last_frame], text=text, speaker='',
                                                frames=[first_frame, last_frame]))
    return dict(recordings=list(groups.values()), problems=problems)

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
    """(recordings, problems) of the parts, in unit order, each recording with its part, its source and
    its recordings.csv row; a unit that was skipped is added to `skipped`."""
    recordings, problems = [], []
    for unit in units:
        key = unit_key(unit, root)
        info = json.loads((parts / key / 'info.json').read_text())
        if 'skipped' in info:
            skipped.append(dict(file=info['source'], reason=info['skipped']))
            continue
        problems += info['problems']
        for r in info['recordings']:
            row = table.get(r['id'], {})
            r.update(part=key, source=info['source'], child=row.get('child', r.get('child') or ''),
                     date=row.get('date', r.get('date') or ''), age_days=row.get('age_days', float('nan')))
            recordings.append(r)
    return recordings, problems

def text_normaliser(lowercase):
    """A text as the tokenizer trains on it and encodes it: whitespace collapsed, lower-cased if asked."""
    if lowercase:
        return lambda text: ' '.join(text.lower().split())
    return lambda text: ' '.join(text.split())

def write_tokenizer(recordings, tmp_dir, cfg):
    """Trains or copies the tokenizer into tmp_dir (nothing to write for 'gpt2'); returns it loaded."""
    normalise = text_normaliser(cfg['lowercase'])
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
    normalise = text_normaliser(cfg['lowercase'])
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

def merge_parts(parts, out, units, root, table, skipped, cfg):
    """Concatenates the parts into the dataset in out, by way of out/.merge-tmp; returns its meta."""
    recordings, problems = read_parts(parts, units, root, table, skipped)
    if not recordings:
        raise SystemExit(f"no usable recordings in {root}; skipped: {skipped[:5]}")
    assign_splits(recordings, cfg)
    tmp_dir = out / '.merge-tmp'
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    enc = write_tokenizer(recordings, tmp_dir, cfg)
    token_dtype = np.uint16 if enc.n_vocab <= 2**16 else np.uint32
    speakers = sorted({u['speaker'] for r in recordings for u in r['utterances']})
    files, utterances = write_arrays(parts, tmp_dir, recordings, enc, token_dtype, speakers, cfg)
    meta = dict(version=VERSION, args=cfg, image_size=cfg['image_size'], fps=cfg['fps'], n_mels=cfg['n_mels'],
                mel_hz=100, tokenizer=tokenizer_entry(cfg['tokenizer']),
                vocab_size=enc.n_vocab, eot_token=enc.eot_token, token_dtype=np.dtype(token_dtype).name,
                files=files, counts=split_counts(recordings, utterances), speakers=speakers,
                recordings=[recording_entry(r) for r in recordings],
                sources=[source_name(u[1], root) for u in units],
                skipped=skipped, problems=problems)
    swap_into_place(tmp_dir, out, meta)
    return meta

# ----------------------------------------------------------------------------- main

def main(cfg):
    """Runs prepare.py with a config dict (the globals above, resolved); returns meta or None."""
    root, out = Path(cfg['input_dir']).resolve(), Path(cfg['out_dir'])
    t0 = time.time()
    units, skipped = discover(root)
    listed = (root / 'recordings.csv').exists()
    table = read_recordings_csv(root / 'recordings.csv') if listed else {}
    if listed:
        for unit in [u for u in units if u[0] == 'video' and u[1].stem not in table]:
            units.remove(unit)
            skipped.append(dict(file=str(unit[1].relative_to(root)), reason="not listed in recordings.csv"))
    fingerprint = hashlib.sha1(json.dumps([cfg[k] for k in PREPARE_KEYS]).encode()).hexdigest()[:8]
    parts = out / f"parts-{fingerprint}"
    # what made the data; not where it lies or how the work was spread (a moved dataset is the same one)
    settings = {k: v for k, v in cfg.items()
                if k not in ('out_dir', 'workers', 'shard', 'merge', 'keep_parts', 'force')}
    if (out / 'meta.json').exists() and not cfg['force'] and not cfg['shard']:
        meta = json.loads((out / 'meta.json').read_text())
        if meta.get('args') == settings and meta.get('version') == VERSION:
            print(f"{out} is already prepared with these settings (--force to prepare again)")
            return meta
    if not cfg['merge']:
        mine = units
        if cfg['shard']:
            i, n = map(int, cfg['shard'].split('/'))
            mine = units[i::n]
        todo = [u for u in mine if not (parts / unit_key(u, root) / 'info.json').exists()]
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
        if cfg['shard']:
            print(f"shard {cfg['shard']} done; run with --merge once every shard has finished")
            return None
    missing = [unit_key(u, root) for u in units if not (parts / unit_key(u, root) / 'info.json').exists()]
    if missing:
        raise SystemExit(f"{len(missing)} units are not prepared yet, e.g. {parts / missing[0]}: "
                         f"run the shard jobs first")
    meta = merge_parts(parts, out, units, root, table, skipped, settings)
    if not cfg['keep_parts']:
        shutil.rmtree(parts)
    c, seconds = meta['counts'], time.time() - t0
    hours = sum(c[s]['hours'] for s in SPLITS)
    print(f"prepared {out} in {seconds:.1f}s ({hours * 3600 / seconds:.1f} s of video per second)")
    for s in SPLITS:
        print(f"  {s:5s}: {c[s]['recordings']:4d} recordings {c[s]['hours']:7.3f} h "
              f"{c[s]['frames']:8d} frames {c[s]['utterances']:7d} utterances {c[s]['tokens']:8d} tokens")
    print(f"  vocab: {meta['vocab_size']}  image: {cfg['image_size']}px at {cfg['fps']:g} fps  audio: "
          f"{'log-mel' if 'audio_mel' in meta['files'] else 'none'}  skipped: {len(meta['skipped'])} files  "
          f"problems: {len(meta['problems'])} lines (listed in meta.json)")
    return meta

if __name__ == '__main__':
    from configurator import configure
    main(configure(globals()))
