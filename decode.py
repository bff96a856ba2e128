"""
Raw media -> arrays, as prepare.py stores them and evaluate.py shows benchmark pictures: video frames
sampled by timestamp and cropped, pictures cropped the same way, and audio as streaming log-mel features.
    for t, rgb in video_frames('rec.mp4', fps=5, size=64): ...     # (t seconds, uint8 size x size x 3)
    rows = np.concatenate(list(log_mel(audio_chunks('rec.mp4'), n_mels=64)))   # float16, 100 rows/s
    rgb = load_image('ball.jpg', 64)
Every decoder streams: memory does not grow with the length of a recording (bench.py measures it).
"""
import itertools
from pathlib import Path

import av
from av.video.reformatter import VideoReformatter
import numpy as np
import soundfile
from PIL import Image

VIDEO_EXTS = ('.mp4', '.mov', '.mkv', '.avi', '.webm', '.m4v')
AUDIO_EXTS = ('.wav', '.flac')
SAMPLE_RATE, MEL_HOP, MEL_WIN, N_FFT = 16000, 160, 400, 512  # 25 ms windows every 10 ms (Whisper, wav2vec)

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
        if not container.streams.video:
            raise ValueError("the file has no video stream")
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
