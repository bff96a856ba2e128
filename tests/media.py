"""Small real media files for the tests: H.264/AAC MP4s whose content encodes time, so that sampling
and alignment can be checked exactly."""
from fractions import Fraction

import av
import numpy as np

def write_video(path, seconds=3.0, fps=10, size=(96, 72), colour=None, tone=None, rotation=None,
                frame_times=None, sample_rate=16000):
    """colour(t) -> (r, g, b), or a whole (h, w, 3) picture, fills each frame; tone(t_array) -> float32
    samples in [-1, 1] is the audio (None: no audio track); frame_times gives explicit (variable-rate)
    timestamps."""
    colour = colour or (lambda t: (int(40 * t) % 256, 80, 160))
    times = frame_times if frame_times is not None else np.arange(int(seconds * fps)) / fps
    with av.open(str(path), 'w') as out:
        video = out.add_stream('libx264', rate=fps)
        video.width, video.height, video.pix_fmt = size[0], size[1], 'yuv420p'
        video.time_base = video.codec_context.time_base = Fraction(1, 1000)
        video.options = {'preset': 'ultrafast', 'crf': '10'}
        if rotation is not None:
            video.set_display_rotation(rotation)
        audio = None
        if tone is not None:
            audio = out.add_stream('aac', rate=sample_rate)
            audio.layout = 'mono'
        for t in times:
            rgb = np.empty((size[1], size[0], 3), np.uint8)
            rgb[:] = colour(t)
            frame = av.VideoFrame.from_ndarray(rgb, format='rgb24')
            frame.pts, frame.time_base = int(round(t * 1000)), Fraction(1, 1000)
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if audio is not None:
            n = int(seconds * sample_rate)
            samples = np.asarray(tone(np.arange(n) / sample_rate), np.float32)[None]
            for start in range(0, n, 1024):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples[:, start:start + 1024]),
                                                   format='fltp', layout='mono')
                frame.sample_rate, frame.pts = sample_rate, start
                for packet in audio.encode(frame):
                    out.mux(packet)
            for packet in audio.encode():
                out.mux(packet)
    return path

def write_srt(path, cues):
    """cues: [(start, end, text)] in seconds."""
    stamp = lambda s: (f"{int(s // 3600):02d}:{int(s % 3600 // 60):02d}:{int(s % 60):02d},"
                       f"{round(s % 1 * 1000):03d}")
    srt = ''.join(f"{i}\n{stamp(a)} --> {stamp(b)}\n{text}\n\n" for i, (a, b, text) in enumerate(cues, 1))
    path.write_text(srt)
    return path
