"""prepare.py on small real media the tests write: timestamps, audio alignment, splits, tokens,
resume after a kill, shards, pair inputs, and every kind of bad input."""
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import prepare
from media import write_srt, write_video
from tokenizer import load_tokenizer

ROOT = Path(__file__).resolve().parents[1]
FORMATS = ROOT.parent / 'shared' / 'formats'

def run(input_dir, out_dir, **overrides):
    cfg = {k: getattr(prepare, k) for k in ('input_dir', 'out_dir', 'fps', 'image_size', 'audio', 'n_mels',
                                             'tokenizer', 'vocab_size', 'lowercase', 'keep_speakers',
                                             'drop_speakers', 'split_by', 'val_fraction', 'test_fraction',
                                             'workers', 'shard', 'merge', 'keep_parts', 'force')}
    cfg.update(input_dir=str(input_dir), out_dir=str(out_dir), image_size=32, workers=1)
    cfg.update(overrides)
    return prepare.main(cfg)

WORDS = ['look a ball', 'red ball', 'where is the cat', 'eat apple', 'two cups', 'good job']

def make_corpus(root, n=5, seconds=4.0):
    """n recordings: colour encodes (recording, time); each second has one utterance."""
    root.mkdir(parents=True, exist_ok=True)
    rows = ['recording,child,date,age_days']
    for i in range(n):
        name = f"rec{i:02d}"
        write_video(root / f"{name}.mp4", seconds=seconds, colour=lambda t, i=i: (int(40 * t), 30 * i, 0),
                    tone=lambda t: 0.2 * np.sin(2 * np.pi * 300 * t))
        cues = [(s + 0.1, s + 0.9, WORDS[(i + s) % len(WORDS)]) for s in range(int(seconds))]
        write_srt(root / f"{name}.srt", cues)
        rows.append(f"{name},A,2020-0{1 + i % 9}-01,{200 + 30 * i}")
    (root / 'recordings.csv').write_text('\n'.join(rows) + '\n')
    return root

def dataset_bytes(out):
    """The dataset's files (not the lock file, which names the process that held it)."""
    return {p.name: p.read_bytes() for p in sorted(Path(out).iterdir())
            if p.is_file() and not p.name.startswith('.lock')}

def test_frames_sampled_by_timestamp_and_linked(tmp_path):
    make_corpus(tmp_path / 'raw', n=3)
    meta = run(tmp_path / 'raw', tmp_path / 'out', fps=2.0)
    meta2, data = prepare.load_dataset(tmp_path / 'out')
    assert meta2 == json.loads(json.dumps(meta))
    frames, index = data['frames'], data['frame_index']
    assert frames.shape == (3 * 8, 32, 32, 3)
    for rec, entry in enumerate(meta['recordings']):
        first, last = entry['frames']
        t = index['t'][first:last]
        assert np.allclose(t, np.arange(8) / 2 + 0.25)
        # at t the frame on screen is the last one shown at or before t (10 fps video)
        expected = 40 * np.floor(t * 10 + 1e-6) / 10
        assert np.abs(frames[first:last, 16, 16, 0].astype(float) - expected).max() <= 3
        assert np.all(index['recording'][first:last] == rec)
        assert np.all(index['age_days'][first:last] == 200 + 30 * int(entry['id'][3:]))
    utterances = data['utterances']
    assert len(utterances) == 3 * 4
    for u in utterances:  # [s + .1, s + .9] holds the frames at s + .25 and s + .75
        rec_first = meta['recordings'][u['recording']]['frames'][0]
        assert index['t'][u['frame_first']] == pytest.approx(np.floor(u['start']) + 0.25)
        assert u['frame_last'] - u['frame_first'] == 1
        assert u['frame_first'] >= rec_first
    assert set(meta['counts']) == {'train', 'val', 'test'}
    assert sum(c['frames'] for c in meta['counts'].values()) == len(frames)

def test_tokens_round_trip_and_splits_by_recording(tmp_path):
    make_corpus(tmp_path / 'raw', n=6)
    meta = run(tmp_path / 'raw', tmp_path / 'out')
    _, data = prepare.load_dataset(tmp_path / 'out')
    enc = load_tokenizer(tmp_path / 'out' / 'tokenizer.tiktoken')
    assert enc.n_vocab == meta['vocab_size'] and enc.eot_token == meta['eot_token']
    texts = [enc.decode(data['tokens'][u['tok_start']:u['tok_start'] + u['tok_len']].tolist())
             for u in data['utterances']]
    assert set(texts) <= {' ' + w for w in WORDS} and len(texts) == 6 * 4  # as heard: a leading space
    splits = {}
    for rec, split in zip(data['frame_index']['recording'], data['frame_index']['split']):
        assert splits.setdefault(rec, split) == split  # never split inside a recording
    assert {0, 1, 2} <= set(splits.values())

def test_audio_aligned_with_utterances(tmp_path):
    raw = tmp_path / 'raw'
    raw.mkdir()
    burst = lambda t: 0.5 * np.sin(2 * np.pi * 500 * t) * ((t >= 1.0) & (t < 2.0))
    write_video(raw / 'tone.mp4', seconds=3.0, tone=burst)
    write_srt(raw / 'tone.srt', [(1.0, 2.0, 'hello'), (2.2, 2.8, 'quiet')])
    run(raw, tmp_path / 'out')
    _, data = prepare.load_dataset(tmp_path / 'out')
    mel, loud, quiet = data['audio_mel'].astype(np.float32), *data['utterances']
    assert mel.shape[1] == 64 and abs(len(mel) - 300) <= 3
    assert (loud['mel_start'], loud['mel_len']) == (100, 100)
    energy = mel.max(axis=1)
    inside = energy[loud['mel_start'] + 3:loud['mel_start'] + loud['mel_len'] - 3]
    outside = energy[quiet['mel_start']:quiet['mel_start'] + quiet['mel_len']]
    assert inside.min() > outside.max() + 5  # log-mel units: the tone is far above the silence
    t = data['frame_index']['t']
    assert np.array_equal(data['frame_index']['mel'], np.floor(t * 100).astype(int))

def test_variable_frame_rate_no_audio_no_transcript(tmp_path):
    raw = tmp_path / 'raw'
    raw.mkdir()
    write_video(raw / 'notalk.mp4', seconds=1.0)
    times = np.cumsum(np.r_[0, np.random.default_rng(0).uniform(0.03, 0.3, 20)])  # variable frame rate
    write_video(raw / 'vfr.mp4', frame_times=times, colour=lambda t: (int(60 * t), 0, 0), seconds=times[-1])
    write_srt(raw / 'vfr.srt', [(0.5, 1.5, 'ball')])
    meta = run(raw, tmp_path / 'out', fps=4.0)
    _, data = prepare.load_dataset(tmp_path / 'out')
    vfr = next(r for r in meta['recordings'] if r['id'] == 'vfr')
    first, last = vfr['frames']
    for t, frame in zip(data['frame_index']['t'][first:last], data['frames'][first:last]):
        shown = times[times <= t + 1e-6].max()
        assert abs(int(frame[16, 16, 0]) - int(60 * shown)) <= 3
    assert 'audio_mel' not in meta['files'] and np.all(data['frame_index']['mel'] == -1)
    assert any('notalk.mp4' in p and 'no transcript' in p for p in meta['problems'])

def test_rotation_metadata_is_applied(tmp_path):
    raw = tmp_path / 'raw'
    raw.mkdir()
    rgb = np.zeros((64, 96, 3), np.uint8)
    rgb[:32, :, 0] = 255  # red top half
    rgb[32:, :, 2] = 255  # blue bottom half
    # shown turned 90 degrees clockwise, as phones record portrait
    write_video(raw / 'phone.mp4', seconds=1.0, fps=5, size=(96, 64), colour=lambda t: rgb, rotation=-90)
    run(raw, tmp_path / 'out', fps=2.0, audio=False)
    _, data = prepare.load_dataset(tmp_path / 'out')
    frame = data['frames'][0].astype(int)
    assert frame[:, :12, 2].mean() > 200 and frame[:, -12:, 0].mean() > 200  # blue left, red right

def test_resume_after_kill_gives_identical_output(tmp_path):
    make_corpus(tmp_path / 'raw', n=6, seconds=6.0)
    run(tmp_path / 'raw', tmp_path / 'straight')
    args = [sys.executable, str(ROOT / 'prepare.py'), f"--input_dir={tmp_path / 'raw'}",
            f"--out_dir={tmp_path / 'killed'}", '--image_size=32', '--workers=1']
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if len(list((tmp_path / 'killed').glob('parts-*/rec*/info.json'))) >= 2:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / 'killed' / 'meta.json').exists(), "the kill came too late to test resuming"
    subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
    assert dataset_bytes(tmp_path / 'killed') == dataset_bytes(tmp_path / 'straight')
    assert not list((tmp_path / 'killed').glob('parts-*'))

def test_shards_merge_and_workers_match_single_run(tmp_path):
    make_corpus(tmp_path / 'raw', n=5, seconds=2.0)
    run(tmp_path / 'raw', tmp_path / 'one')
    for i in range(3):
        assert run(tmp_path / 'raw', tmp_path / 'sharded', shard=f"{i}/3") is None
        assert not (tmp_path / 'sharded' / 'meta.json').exists()
    run(tmp_path / 'raw', tmp_path / 'sharded', merge=True)
    run(tmp_path / 'raw', tmp_path / 'two', workers=2)
    one = dataset_bytes(tmp_path / 'one')
    assert dataset_bytes(tmp_path / 'sharded') == one == dataset_bytes(tmp_path / 'two')

def test_merge_before_all_shards_is_an_error(tmp_path):
    make_corpus(tmp_path / 'raw', n=3, seconds=1.0)
    run(tmp_path / 'raw', tmp_path / 'out', shard='0/2')
    with pytest.raises(SystemExit, match='not prepared yet'):
        run(tmp_path / 'raw', tmp_path / 'out', merge=True)

def test_bad_inputs_are_skipped_and_recorded(tmp_path):
    raw = make_corpus(tmp_path / 'raw', n=3, seconds=2.0)
    good = (raw / 'rec00.mp4').read_bytes()
    (raw / 'truncated.mp4').write_bytes(good[:len(good) // 3])
    (raw / 'notvideo.mp4').write_text('this is a transcript, not a video\n')
    write_video(raw / 'silent.mp4', seconds=2.0)  # no audio track at all
    (raw / 'silent.vtt').write_text('WEBVTT\n\n00:00.500 --> 00:01.500\nhi there\n')
    write_video(raw / 'unlisted.mp4', seconds=1.0)
    write_video(raw / 'messy.mp4', seconds=2.0)
    (raw / 'messy.srt').write_bytes(b"1\n00:00:00,100 --> 00:00:00,900\nfirst line\n\n"
                                    b"2\nnot a timestamp\nbroken\n\n"
                                    b"3\n00:00:01,100 --> 00:00:01,900\nbad \xff\xfe bytes\n\n")
    write_video(raw / 'empty.mp4', seconds=1.0)
    (raw / 'empty.srt').write_text('')
    with open(raw / 'recordings.csv', 'a') as f:
        for name in ('truncated', 'notvideo', 'silent', 'messy', 'empty'):
            f.write(f"{name},B,2021-01-01,400\n")
    meta = run(raw, tmp_path / 'out')
    skipped = {s['file']: s['reason'] for s in meta['skipped']}
    assert 'notvideo.mp4' in skipped and 'unlisted.mp4' in skipped
    assert 'recordings.csv' in skipped['unlisted.mp4']
    ids = {r['id'] for r in meta['recordings']}
    assert {'rec00', 'rec01', 'rec02', 'silent', 'messy', 'empty'} <= ids
    assert 'truncated' in skipped.get('truncated.mp4', '') or 'truncated' in ids  # decodable prefix is fine
    assert any(p.startswith('messy.srt:5') for p in meta['problems'])  # the malformed cue, by line
    assert any('messy.srt' in p and 'UTF-8' in p for p in meta['problems'])
    assert any('empty.srt' in p for p in meta['problems'])
    _, data = prepare.load_dataset(tmp_path / 'out')
    silent = [r['id'] for r in meta['recordings']].index('silent')
    assert np.all(data['frame_index']['mel'][data['frame_index']['recording'] == silent] == -1)

def test_failed_prepare_keeps_previous_dataset(tmp_path):
    make_corpus(tmp_path / 'raw', n=3, seconds=1.0)
    run(tmp_path / 'raw', tmp_path / 'out')
    before = dataset_bytes(tmp_path / 'out')
    (tmp_path / 'raw' / 'recordings.csv').write_text('recording,child,date,age_days\n'
                                                     'rec00,A,2020-01-01,lots\n')
    with pytest.raises(SystemExit, match=r'recordings.csv:2'):
        run(tmp_path / 'raw', tmp_path / 'out', force=True)
    assert dataset_bytes(tmp_path / 'out') == before

def test_missing_file_is_a_clear_error(tmp_path):
    make_corpus(tmp_path / 'raw', n=3, seconds=1.0)
    run(tmp_path / 'raw', tmp_path / 'out')
    (tmp_path / 'out' / 'tokens.npy').unlink()
    with pytest.raises(FileNotFoundError, match='tokens.npy is missing'):
        prepare.load_dataset(tmp_path / 'out')

def placeholder_images(folder, records):
    for record in records:
        for image in record.get('image', []):
            (folder / image).parent.mkdir(parents=True, exist_ok=True)
            Image.new('RGB', (80, 60), (200, 100, 50)).save(folder / image)

@pytest.mark.skipif(not FORMATS.exists(), reason='shared/formats samples are not beside this checkout')
def test_pair_inputs_llava_manifest_and_captioned_images(tmp_path):
    raw = tmp_path / 'raw'
    for source, kind in [('saycam', 'single_image'), ('saycam', 'multi_turn'), ('babyview', 'video_clip')]:
        folder = raw / source / kind
        folder.mkdir(parents=True)
        shutil.copy(FORMATS / 'pretrain' / source / kind / 'data.json', folder / 'data.json')
        placeholder_images(folder, json.loads((folder / 'data.json').read_text()))
    manifest = raw / 'ego'
    manifest.mkdir()
    records = [dict(utterance=f"look at the {w}",
                    frame_filenames=[f"v1/v1_{k}.jpg" for k in (2 * i + 1, 2 * i + 2)],
                    utterance_num=i + 1, video_filename='v1.mp4', transcript_filename='v1.json')
               for i, w in enumerate(['dog', 'cup'])]
    records.append(dict(utterance='escape', frame_filenames=['../../../etc/passwd'], utterance_num=3,
                        video_filename='v1.mp4', transcript_filename='v1.json'))
    (manifest / 'train.json').write_text(json.dumps(records))
    for i in range(1, 5):
        (manifest / 'v1').mkdir(exist_ok=True)
        Image.new('RGB', (64, 64), (0, 60 * i, 0)).save(manifest / 'v1' / f"v1_{i}.jpg")
    captions = raw / 'synthetic'
    captions.mkdir()
    for i, text in enumerate(['a red ball', 'the cat sleeps']):
        Image.new('RGB', (50, 40), (255, 0, 0)).save(captions / f"img{i}.png")
        (captions / f"img{i}.txt").write_text(text)
    meta = run(raw, tmp_path / 'out')
    _, data = prepare.load_dataset(tmp_path / 'out')
    enc = load_tokenizer(tmp_path / 'out' / 'tokenizer.tiktoken')
    texts = [enc.decode(data['tokens'][u['tok_start']:u['tok_start'] + u['tok_len']].tolist())
             for u in data['utterances']]
    assert " look at the dog" in texts and ' the cat sleeps' in texts and ' escape' not in texts
    assert any('passwd' in p or 'outside' in p for p in meta['problems'])
    # the multi-turn record links each utterance to its own image, the clip to all eight frames
    spans = [u['frame_last'] - u['frame_first'] + 1 for u in data['utterances']]
    assert 8 in spans and 1 in spans
    assert len(data['frames']) == sum(r['frames'][1] - r['frames'][0] for r in meta['recordings'])

def test_nursery_corpus_prepares_cleanly(tiny_raw, tiny_dataset, tmp_path):
    meta, data = prepare.load_dataset(tiny_dataset)
    assert meta['skipped'] == [] and meta['problems'] == []
    assert {'mom', 'child'} <= set(meta['speakers'])
    assert all(c['recordings'] >= 1 for c in meta['counts'].values())
    u = data['utterances']
    assert np.all(u['frame_first'] <= u['frame_last']) and np.all(u['mel_len'] > 0)
    assert np.all(data['frame_index']['age_days'] > 0)
    quiet = run(tiny_raw, tmp_path / 'no_child', drop_speakers='child')
    assert 'child' not in quiet['speakers']
    assert sum(c['utterances'] for c in quiet['counts'].values()) < len(u)
