"""Faults, one test (or more) per kind: a full disk, changed inputs, two writers, bad files, bad settings,
damaged datasets, inputs outside their folder, and the smaller ones. Each checks that nothing is lost, nothing
is stale, and that a user's error is one line naming the file, line or setting, never a traceback."""
import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

import evaluate
import prepare
from atomic import hold_lock
from configurator import configure
from media import write_srt, write_video
from test_prepare import dataset_bytes, make_corpus, run
from test_train import TINY, train
from tokenizer import load_tokenizer

ROOT = Path(__file__).resolve().parents[1]

def recording_ids(out):
    return [r['id'] for r in json.loads((Path(out) / 'meta.json').read_text())['recordings']]

def texts(out):
    """Every utterance of a prepared dataset, decoded, without the leading space every one is stored with
    (tokenizer.normaliser)."""
    meta, data = prepare.load_dataset(out)
    enc, tokens = load_tokenizer(prepare.tokenizer_path(out, meta)), data['tokens']
    stored = [enc.decode(tokens[s:s + n].tolist()) for s, n in zip(data['utterances']['tok_start'],
                                                                   data['utterances']['tok_len'])]
    assert all(t.startswith(' ') for t in stored)
    return [t[1:] for t in stored]

def evaluate_run(*argv):
    return evaluate.main(configure(dict(vars(evaluate)), list(argv), quiet=True))

# ----------------------------------------------------------------------------- 1. a full disk

def test_full_disk_stops_the_run_and_the_rerun_redoes_the_unit(tmp_path, monkeypatch):
    make_corpus(tmp_path / 'raw', n=4, seconds=2.0)
    run(tmp_path / 'raw', tmp_path / 'straight')
    real = prepare.video_frames

    def disk_fills_at_rec02(path, fps, size):
        for k, frame in enumerate(real(path, fps, size)):
            if Path(path).stem == 'rec02' and k == 3:
                raise OSError(errno.ENOSPC, 'No space left on device', str(tmp_path / 'out' / 'frames.u8'))
            yield frame
    monkeypatch.setattr(prepare, 'video_frames', disk_fills_at_rec02)
    stopped = r"prepare.py stopped: No space left on device .*run the same command again once this is fixed"
    with pytest.raises(SystemExit, match=stopped):
        run(tmp_path / 'raw', tmp_path / 'out')
    parts = next((tmp_path / 'out').glob('parts-*'))
    made = sorted(p.name for p in parts.iterdir() if not p.name.startswith('.lock'))
    assert made == ['rec00.mp4', 'rec01.mp4']
    assert not any('skipped' in json.loads((p / 'info.json').read_text()) for p in parts.glob('rec*'))
    monkeypatch.setattr(prepare, 'video_frames', real)
    run(tmp_path / 'raw', tmp_path / 'out')
    assert recording_ids(tmp_path / 'out') == ['rec00', 'rec01', 'rec02', 'rec03']
    assert dataset_bytes(tmp_path / 'out') == dataset_bytes(tmp_path / 'straight')

def test_a_real_full_disk_on_a_small_tmpfs(tmp_path):
    """The same on a real file system that fills up (where this user may mount one: root in a container)."""
    make_corpus(tmp_path / 'raw', n=4, seconds=2.0)
    run(tmp_path / 'raw', tmp_path / 'straight', workers=2)
    disk = tmp_path / 'disk'
    disk.mkdir()
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=200k', 'tmpfs', str(disk)],
                      capture_output=True).returncode:
        pytest.skip('cannot mount a tmpfs here')
    try:
        with pytest.raises(SystemExit, match='No space left on device'):
            run(tmp_path / 'raw', disk / 'out', workers=2)
        assert not (disk / 'out' / 'meta.json').exists()
        subprocess.run(['mount', '-o', 'remount,size=20m', str(disk)], check=True)
        run(tmp_path / 'raw', disk / 'out', workers=2)
        assert dataset_bytes(disk / 'out') == dataset_bytes(tmp_path / 'straight')
    finally:
        subprocess.run(['umount', str(disk)], check=True)

# ----------------------------------------------------------------------------- 2. stale parts and datasets

def test_a_fixed_video_is_prepared_again(tmp_path, capsys):
    make_corpus(tmp_path / 'raw', n=3, seconds=2.0)
    good = (tmp_path / 'raw' / 'rec01.mp4').read_bytes()
    (tmp_path / 'raw' / 'rec01.mp4').write_bytes(good[:300])
    meta = run(tmp_path / 'raw', tmp_path / 'out', keep_parts=True)
    assert [s['file'] for s in meta['skipped']] == ['rec01.mp4']
    (tmp_path / 'raw' / 'rec01.mp4').write_bytes(good)
    meta = run(tmp_path / 'raw', tmp_path / 'out', keep_parts=True)
    assert 'edited rec01.mp4' in capsys.readouterr().out
    assert not meta['skipped'] and recording_ids(tmp_path / 'out') == ['rec00', 'rec01', 'rec02']

def test_a_transcript_edited_after_a_crash_is_read_again(tmp_path):
    make_corpus(tmp_path / 'raw', n=3, seconds=2.0)
    assert run(tmp_path / 'raw', tmp_path / 'out', shard='0/1') is None  # parts, and no dataset: a crash
    write_srt(tmp_path / 'raw' / 'rec00.srt', [(0.1, 0.9, 'the giraffe'), (1.1, 1.9, 'a tall giraffe')])
    run(tmp_path / 'raw', tmp_path / 'out')
    assert texts(tmp_path / 'out').count('the giraffe') == 1 and 'a tall giraffe' in texts(tmp_path / 'out')

def test_added_edited_and_deleted_inputs_after_a_finished_run(tmp_path, capsys):
    raw = make_corpus(tmp_path / 'raw', n=3, seconds=2.0)
    run(raw, tmp_path / 'out')
    run(raw, tmp_path / 'out')
    assert 'already prepared' in capsys.readouterr().out
    write_srt(raw / 'rec00.srt', [(0.1, 0.9, 'the giraffe')])
    run(raw, tmp_path / 'out')
    assert 'edited rec00.srt' in capsys.readouterr().out and 'the giraffe' in texts(tmp_path / 'out')
    write_video(raw / 'rec09.mp4', seconds=2.0)
    with open(raw / 'recordings.csv', 'a') as f:
        f.write('rec09,A,2020-09-01,500\n')
    run(raw, tmp_path / 'out')
    said = capsys.readouterr().out
    assert 'added rec09.mp4' in said and 'edited recordings.csv' in said
    assert 'rec09' in recording_ids(tmp_path / 'out')
    (raw / 'rec01.mp4').unlink()
    (raw / 'rec01.srt').unlink()
    run(raw, tmp_path / 'out')
    assert 'removed rec01.mp4' in capsys.readouterr().out
    assert recording_ids(tmp_path / 'out') == ['rec00', 'rec02', 'rec09']
    os.utime(raw / 'rec00.mp4', ns=(1, 1))  # touched, the same bytes: not a change
    run(raw, tmp_path / 'out')
    assert 'already prepared' in capsys.readouterr().out

def test_force_rebuilds_from_nothing(tmp_path, capsys):
    raw = make_corpus(tmp_path / 'raw', n=3, seconds=2.0)
    run(raw, tmp_path / 'out', keep_parts=True)
    capsys.readouterr()
    run(raw, tmp_path / 'out', keep_parts=True, force=True)
    assert '0 already prepared, 3 to go' in capsys.readouterr().out

# ----------------------------------------------------------------------------- 3. the checkpoint's tokenizer

@pytest.fixture(scope='module')
def checkpoint(tiny_dataset, tmp_path_factory):
    """A tiny checkpoint, its corpus copied to a folder of its own (tests below delete and re-prepare it)."""
    root = tmp_path_factory.mktemp('faults')
    shutil.copytree(tiny_dataset, root / 'corpus')
    train(root / 'corpus', root / 'run', '--max_iters=2', '--probe_trials=0')
    return root / 'run' / 'ckpt.pt', root / 'corpus'

@pytest.fixture(scope='module')
def lwl_bench(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench')
    subprocess.run([sys.executable, str(ROOT / 'data' / 'nursery' / 'benchmarks.py'), '--size=tiny',
                    f'--out={out}', f'--raw={out / "no_corpus"}',
                    '--only=devbench/lex-lwl,v1/labeled_s,v1/vtwt'],
                   check=True, capture_output=True, cwd=ROOT, timeout=600)
    return out

def reprepared(corpus, tmp_path):
    """The corpus as a re-run of prepare.py with another vocabulary makes it."""
    meta = json.loads((corpus / 'meta.json').read_text())
    out = tmp_path / 'reprepared'
    run(meta['args']['input_dir'], out, image_size=meta['image_size'], vocab_size=260)
    return out

def test_the_checkpoint_carries_its_tokenizer(checkpoint, lwl_bench, tmp_path):
    ckpt, corpus = checkpoint
    args = (f'--ckpt={ckpt}', f'--bench_dir={lwl_bench}', '--bootstrap=20', '--controls=False')
    before = evaluate_run(*args, f'--out_dir={tmp_path / "a"}')[0]['tasks']
    moved = tmp_path / 'moved.pt'  # the corpus it names is gone: the checkpoint is enough
    data = torch.load(ckpt, weights_only=True)
    data['data']['data_dir'] = data['config']['data_dir'] = str(tmp_path / 'gone')
    torch.save(data, moved)
    after = evaluate_run(f'--ckpt={moved}', *args[1:], f'--out_dir={tmp_path / "b"}')[0]['tasks']
    assert {k: t['score'] for k, t in after.items()} == {k: t['score'] for k, t in before.items()}
    other = reprepared(corpus, tmp_path)
    with pytest.raises(SystemExit, match='trained with another tokenizer'):
        evaluate_run(*args, f'--data_dir={other}', f'--out_dir={tmp_path / "c"}')
    r = train(other, ckpt.parent, '--init_from=resume', '--max_iters=3', check=False)
    assert r.returncode and 'was trained with another tokenizer' in r.stderr and 'Traceback' not in r.stderr

# ----------------------------------------------------------------------------- 4. two writers

def test_two_merges_at_once_leave_one_whole_dataset(tmp_path):
    raw = make_corpus(tmp_path / 'raw', n=4, seconds=2.0)
    run(raw, tmp_path / 'straight')
    for i in range(2):
        run(raw, tmp_path / 'out', shard=f'{i}/2')
    command = [sys.executable, 'prepare.py', f'--input_dir={raw}', f'--out_dir={tmp_path / "out"}', '--merge',
               '--image_size=32', '--workers=1']
    merges = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for _ in range(2)]
    results = [(m.wait(timeout=120), m.stderr.read()) for m in merges]
    refused = [err for rc, err in results if rc]
    assert all('is in use' in err and 'Traceback' not in err for err in refused)
    assert dataset_bytes(tmp_path / 'out') == dataset_bytes(tmp_path / 'straight')

def test_a_second_writer_is_refused_and_a_dead_one_is_not_in_the_way(tmp_path, tiny_dataset, lwl_bench):
    raw = make_corpus(tmp_path / 'raw', n=3, seconds=1.0)
    with hold_lock(tmp_path / 'out', 'a test'):
        with pytest.raises(SystemExit, match=r"is in use: .*\.lock is held by pid \d+ on host .* \(a test"):
            run(raw, tmp_path / 'out')
        r = train(tiny_dataset, tmp_path / 'out', '--max_iters=1', check=False)
        assert r.returncode and 'is in use' in r.stderr and 'Traceback' not in r.stderr
        with pytest.raises(SystemExit, match='is in use'):
            evaluate_run(f'--bench_dir={lwl_bench}', f'--out_dir={tmp_path / "out"}', '--ckpt=none.pt')
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True,
                          text=True).stdout.strip()  # a lock file left by a process that is gone
    (tmp_path / 'out' / '.lock').write_text(json.dumps(dict(pid=int(dead), host=socket.gethostname(),
                                                            what='prepare.py', since='yesterday')))
    assert run(raw, tmp_path / 'out') is not None

# ----------------------------------------------------------------------------- 5. one bad file

def write_audio_only(path):
    with av.open(str(path), 'w') as out:
        stream = out.add_stream('aac', rate=16000)
        stream.layout = 'mono'
        for start in range(0, 16000, 1024):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format='fltp', layout='mono')
            frame.sample_rate, frame.pts = 16000, start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)

def test_bad_files_are_skipped_and_recorded(tmp_path):
    raw = make_corpus(tmp_path / 'raw', n=3, seconds=1.0)
    write_audio_only(raw / 'rec01.mp4')
    (raw / 'notes').mkdir()
    (raw / 'notes' / 'deep.json').write_text('[' * 50000 + ']' * 50000)
    (raw / 'rec02.srt').write_text('1\n00:00:00,100 --> 00:00:00,900\n' + 'blah ' * 100000 + '\n')
    meta = run(raw, tmp_path / 'out')
    skipped = {s['file']: s['reason'] for s in meta['skipped']}
    assert skipped['rec01.mp4'] == 'ValueError: the file has no video stream'
    assert skipped['notes/deep.json'] == 'notes/deep.json:1: JSON nested too deep to read'
    assert any('rec02.srt: utterance at 0.1 s: text of 499999 characters cut to 1000' in p
               for p in meta['problems'])
    assert max(len(t) for t in texts(tmp_path / 'out')) <= 1000

@pytest.mark.parametrize('row, message', [
    (b'rec00,A,2020-01-01,\xff200\n', r'recordings\.csv:2: byte 0xff is not UTF-8'),
    (b'rec00,A,2020-01-01,-5\n', r"recordings\.csv:2: .*age '-5' is not a number of days >= 0"),
    (b'rec00,A,2020-01-01,nan\n', r"recordings\.csv:2: .*age 'nan' is not a number of days"),
    (b'rec00,A,2020-01-01,inf\n', r"recordings\.csv:2: .*age 'inf' is not a number of days"),
    (b'rec00,A,2020-01-01,200\nrec00,A,2020-01-01,201\n',
     r'recordings\.csv:3: recording rec00 is listed twice \(also line 2\)')])
def test_a_bad_recordings_csv_row_names_its_line(tmp_path, row, message):
    raw = make_corpus(tmp_path / 'raw', n=1, seconds=1.0)
    (raw / 'recordings.csv').write_bytes(b'recording,child,date,age_days\n' + row)
    with pytest.raises(SystemExit, match=message):
        run(raw, tmp_path / 'out')

def test_one_corrupt_image_costs_only_its_item(tmp_path):
    raw = tmp_path / 'raw'
    (raw / 'media').mkdir(parents=True)
    records = []
    for i in range(4):
        Image.new('RGB', (40, 30), (60 * i, 20, 90)).save(raw / 'media' / f'{i}.jpg')
        records.append(dict(image=[f'media/{i}.jpg'], meta=dict(recording='r0'), conversations=[
            dict({'from': 'human', 'value': '<image>'}), dict({'from': 'gpt', 'value': f'ball number {i}'})]))
    (raw / 'media' / '2.jpg').write_bytes(b'not a picture')
    (raw / 'pairs.json').write_text(json.dumps(records))
    meta = run(raw, tmp_path / 'out', val_fraction=0.0, test_fraction=0.0)
    assert meta['counts']['train']['frames'] == 3 and not meta['skipped']
    assert any('media/2.jpg: cannot read the image' in p and 'its item skipped' in p
               for p in meta['problems'])

def test_evaluate_reports_a_bad_image_or_file_and_goes_on(checkpoint, lwl_bench, tmp_path):
    bench = tmp_path / 'bench'
    shutil.copytree(lwl_bench, bench)
    manifest = bench / 'devbench' / 'lex-lwl' / 'manifest.csv'
    n_items = len(manifest.read_text().splitlines()) - 1
    picture = bench / 'devbench' / 'lex-lwl' / manifest.read_text().splitlines()[1].split(',')[1]
    picture.write_bytes(picture.read_bytes()[:40])
    labeled = bench / 'v1' / 'labeled_s' / 'labeled_s.csv'
    labeled.write_bytes(labeled.read_bytes() + b'\xff\n')
    runs = evaluate_run(f'--ckpt={checkpoint[0]}', f'--bench_dir={bench}', f'--out_dir={tmp_path / "out"}',
                        '--bootstrap=20', '--controls=False')
    lwl = runs[0]['tasks']['devbench_lex-lwl']
    assert lwl['skipped_items'] and all('cannot be decoded' in line for line in lwl['skipped_items'])
    assert lwl['n'] == n_items - len(lwl['skipped_items'])
    assert 'byte 0xff is not UTF-8' in runs[0]['errors']['labeled_s'] and 'vtwt' in runs[0]['tasks']
    assert json.loads((tmp_path / 'out' / 'results.json').read_text())['runs'][0]['tasks']

# ----------------------------------------------------------------------------- 6. bad settings

PREPARE_SETTINGS = [('fps', -1.0), ('fps', 0.0), ('fps', float('nan')), ('fps', 1e6), ('image_size', 0),
                    ('image_size', -8), ('n_mels', 0), ('shard', 'abc'), ('shard', '0/0'), ('shard', '5/2'),
                    ('shard', '-1/2'), ('val_fraction', -0.1), ('val_fraction', 1.5), ('test_fraction', 1.0),
                    ('split_by', 'week'), ('workers', 0), ('vocab_size', 10), ('tokenizer', '/nonexistent'),
                    ('input_dir', '/nonexistent')]

@pytest.mark.parametrize('key, value', PREPARE_SETTINGS)
def test_prepare_checks_every_setting_before_any_work(tmp_path, key, value):
    raw = make_corpus(tmp_path / 'raw', n=1, seconds=1.0)
    if key == 'input_dir':
        raw = value
    with pytest.raises(SystemExit, match=rf"config: {key}="):
        run(raw, tmp_path / 'out', **{k: v for k, v in [(key, value)] if k != 'input_dir'})
    assert not (tmp_path / 'out').exists()

def test_gpt2_never_touches_the_network(tmp_path, monkeypatch):
    monkeypatch.setenv('TIKTOKEN_CACHE_DIR', str(tmp_path / 'cache'))
    calls = []
    monkeypatch.setattr(socket.socket, 'connect', lambda *a: calls.append(a))
    monkeypatch.setattr(socket, 'getaddrinfo', lambda *a, **k: calls.append(a))
    with pytest.raises(SystemExit, match=r"config: tokenizer='gpt2' cannot be used: tiktoken's cache lacks"):
        run(make_corpus(tmp_path / 'raw', n=1, seconds=1.0), tmp_path / 'out', tokenizer='gpt2')
    assert calls == [] and not (tmp_path / 'cache').exists()

TRAIN_SETTINGS = ['--batch_size=0', '--clip_batch_size=-1', '--eval_interval=0', '--log_interval=0',
                  '--eval_iters=0', '--gradient_accumulation_steps=0', '--max_iters=-1', '--learning_rate=-1',
                  '--dropout=1.5', '--device=cuda', '--ddp_timeout=0']

def test_train_checks_every_setting_before_any_work(tiny_dataset, tmp_path):
    for flag in TRAIN_SETTINGS:
        r = train(tiny_dataset, tmp_path / 'out', flag, check=False)
        key = flag[2:].split('=')[0]
        assert r.returncode and f"config: {key}=" in r.stderr, (flag, r.stderr)
        assert 'Traceback' not in r.stderr
        assert not (tmp_path / 'out').exists()

@pytest.mark.parametrize('flag, message', [
    ('--batch_size=0', 'config: batch_size=0'), ('--bootstrap=0', 'config: bootstrap=0'),
    ('--device=cuda', "config: device='cuda'"),
    ('--tasks=labeled_z', "config: tasks: 'labeled_z' is not a task in .*; did you mean 'labeled_s'")])
def test_evaluate_checks_every_setting(lwl_bench, tmp_path, flag, message):
    with pytest.raises(SystemExit, match=message):
        evaluate_run(flag, f'--bench_dir={lwl_bench}', f'--out_dir={tmp_path / "out"}', '--ckpt=none.pt')
    assert not (tmp_path / 'out').exists()

# ----------------------------------------------------------------------------- 7. damaged datasets

def test_load_dataset_checks_version_keys_and_every_array(tiny_dataset, tmp_path):
    broken = tmp_path / 'broken'
    shutil.copytree(tiny_dataset, broken)
    meta = json.loads((broken / 'meta.json').read_text())
    (broken / 'meta.json').write_text(json.dumps(dict(meta, version=99)))
    with pytest.raises(ValueError, match=r"meta\.json: format version 99, but this prepare\.py reads"):
        prepare.load_dataset(broken)
    (broken / 'meta.json').write_text(json.dumps({k: v for k, v in meta.items() if k != 'eot_token'}))
    with pytest.raises(ValueError, match=r"meta\.json lacks eot_token: written by an older prepare\.py"):
        prepare.load_dataset(broken)
    (broken / 'meta.json').write_text(json.dumps(meta))
    tokens = (broken / 'tokens.npy').read_bytes()
    (broken / 'tokens.npy').write_bytes(tokens[:len(tokens) // 2])
    with pytest.raises(ValueError, match=r"tokens\.npy is damaged \(mmap length is greater than file size"):
        prepare.load_dataset(broken)
    r = train(broken, tmp_path / 'out', check=False)
    assert r.returncode and 'tokens.npy is damaged' in r.stderr and 'Traceback' not in r.stderr

# ----------------------------------------------------------------------------- 8. outside the input folder

def test_links_out_of_the_input_folder_are_not_read(tmp_path, lwl_bench):
    raw = make_corpus(tmp_path / 'raw', n=2, seconds=1.0)
    write_video(tmp_path / 'elsewhere.mp4', seconds=1.0)
    (raw / 'rec05.mp4').symlink_to(tmp_path / 'elsewhere.mp4')
    (raw / 'rec06.mp4').symlink_to(tmp_path / 'gone.mp4')
    meta = run(raw, tmp_path / 'out')
    skipped = {s['file']: s['reason'] for s in meta['skipped']}
    assert skipped['rec05.mp4'].startswith('a symlink to') and 'outside input_dir' in skipped['rec05.mp4']
    assert skipped['rec06.mp4'].startswith('broken symlink')
    bench = tmp_path / 'bench'
    shutil.copytree(lwl_bench / 'devbench', bench / 'devbench')
    manifest = bench / 'devbench' / 'lex-lwl' / 'manifest.csv'
    lines = manifest.read_text().splitlines()
    name = lines[1].split(',')[1]
    shutil.copy(bench / 'devbench' / 'lex-lwl' / name, tmp_path / 'secret.png')
    lines[1] = lines[1].replace(name, '../../../secret.png', 1)
    manifest.write_text('\n'.join(lines) + '\n')
    ckpt = tmp_path / 'none.pt'
    runs = evaluate_run(f'--scores_file={write_scores(ckpt, lines)}', f'--bench_dir={bench}',
                        f'--out_dir={tmp_path / "eval"}', '--bootstrap=20')
    dropped = runs[0]['tasks']['devbench_lex-lwl']['skipped_items']
    assert len(dropped) == 1 and 'secret.png is outside the benchmark folder' in dropped[0]

def write_scores(path, lines):
    """A scores file that answers every item of a manifest."""
    path = path.with_suffix('.jsonl')
    path.write_text(''.join(json.dumps(dict(task='devbench_lex-lwl', id=str(i), scores=[1, 0])) + '\n'
                            for i in range(len(lines) - 1)))
    return path

# ----------------------------------------------------------------------------- 9. the smaller ones

def test_resumes_log_no_duplicate_rows(tiny_dataset, tmp_path):
    train(tiny_dataset, tmp_path, '--max_iters=2', '--eval_interval=2', '--probe_trials=0')
    for steps in (4, 6):
        train(tiny_dataset, tmp_path, '--init_from=resume', f'--max_iters={steps}', '--eval_interval=2',
              '--probe_trials=0')
    rows = [line.split(',')[:2] for line in (tmp_path / 'log.csv').read_text().splitlines()[1:]]
    assert len(rows) == len(set(map(tuple, rows)))
    assert [s for s, split in rows if split == 'val'] == ['0', '2', '4', '6']

def test_parts_left_by_a_kill_after_meta_json_are_removed(tmp_path):
    raw = make_corpus(tmp_path / 'raw', n=2, seconds=1.0)
    run(raw, tmp_path / 'out', keep_parts=True)  # as a kill between meta.json and the removal leaves it
    (tmp_path / 'out' / '.merge-tmp').mkdir()
    run(raw, tmp_path / 'out')
    assert not list((tmp_path / 'out').glob('parts-*')) and not (tmp_path / 'out' / '.merge-tmp').exists()

def limit_file_size(limit):
    def limit_in_child():
        import resource
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limit_in_child

def test_a_checkpoint_that_cannot_be_written_says_so(tiny_dataset, tmp_path):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    command = [sys.executable, 'train.py', f'--data_dir={tiny_dataset}', f'--out_dir={tmp_path}', *TINY,
               '--max_iters=2', '--probe_trials=0']
    r = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env,
                       preexec_fn=limit_file_size(100_000), timeout=300)
    assert r.returncode and 'Traceback' not in r.stderr
    assert f'step 2: cannot write {tmp_path}/ckpt.pt: File too large (' in r.stderr
    assert 'MiB free on that disk); the previous checkpoint, if any, is intact' in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ['.lock', 'log.csv']

def test_a_frozen_rank_is_named_within_the_timeout(tiny_dataset, tmp_path):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    command = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
               'train.py', f'--data_dir={tiny_dataset}', f'--out_dir={tmp_path}', *TINY, '--max_iters=100000',
               '--probe_trials=0', '--ddp_timeout=10', '--eval_interval=100000', '--log_interval=1',
               '--gradient_accumulation_steps=2']
    job = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and not (tmp_path / 'log.csv').exists():
            time.sleep(0.2)
        time.sleep(3)
        ranks = children(job.pid)
        assert '1' in ranks, f"rank 1 not found among {ranks}"
        os.kill(ranks['1'], signal.SIGSTOP)
        t0 = time.time()
        while time.time() - t0 < 60 and Path(f"/proc/{ranks['0']}").exists():
            time.sleep(0.2)
        assert time.time() - t0 < 40  # ddp_timeout, then as long again to ask which ranks answer
        os.kill(ranks['1'], signal.SIGKILL)  # torchrun would wait 30 s for a stopped rank to take SIGTERM
        _, err = job.communicate(timeout=120)
        assert 'rank 0: rank 1 did not answer within ddp_timeout=10 s' in err, err[-2000:]
    finally:
        for pid in children(job.pid).values():
            os.kill(pid, signal.SIGKILL)
        job.kill()

def children(parent):
    """{RANK: pid} of the processes whose parent is `parent` and whose environment sets RANK."""
    ranks = {}
    for proc in Path('/proc').iterdir():
        try:
            ppid = int((proc / 'stat').read_text().rsplit(')', 1)[1].split()[1])
            env = (proc / 'environ').read_bytes().split(b'\0')
        except (OSError, ValueError, IndexError):
            continue
        rank = next((v[5:].decode() for v in env if v.startswith(b'RANK=')), None)
        if ppid == parent and rank is not None:
            ranks[rank] = int(proc.name)
    return ranks

# ----------------------------------------------------------------------------- and what the fault table found

def test_a_bad_sidecar_costs_only_itself(tmp_path):
    raw = make_corpus(tmp_path / 'raw', n=3, seconds=1.0)
    (raw / 'rec00.srt').write_text('this is not a subtitle file\n')
    (raw / 'rec01.wav').write_bytes(b'RIFF' + os.urandom(200))
    meta = run(raw, tmp_path / 'out')
    assert not meta['skipped'] and recording_ids(tmp_path / 'out') == ['rec00', 'rec01', 'rec02']
    assert any('rec00.srt:1: no "start --> end" cue lines' in p and 'kept without its transcript' in p
               for p in meta['problems'])
    assert any(p.startswith('rec01.wav: audio cannot be read') for p in meta['problems'])

def test_damaged_parts_and_datasets_are_made_again(tmp_path, capsys):
    raw = make_corpus(tmp_path / 'raw', n=3, seconds=1.0)
    run(raw, tmp_path / 'straight')
    run(raw, tmp_path / 'out', shard='0/1')
    parts = next((tmp_path / 'out').glob('parts-*'))
    frames = parts / 'rec01.mp4' / 'frames.u8'
    frames.write_bytes(frames.read_bytes()[:100])
    (parts / 'rec02.mp4' / 'info.json').write_text('{"recordings": [')
    run(raw, tmp_path / 'out')
    said = capsys.readouterr().out
    assert 'rec01.mp4: a damaged part (frames.u8 cut)' in said and 'rec02.mp4: a damaged part' in said
    assert dataset_bytes(tmp_path / 'out') == dataset_bytes(tmp_path / 'straight')
    (tmp_path / 'out' / 'frames.npy').unlink()
    run(raw, tmp_path / 'out')
    assert 'frames.npy is missing' in capsys.readouterr().out
    assert dataset_bytes(tmp_path / 'out') == dataset_bytes(tmp_path / 'straight')

def test_indexes_outside_their_arrays_are_found_on_loading(tiny_dataset, tmp_path):
    broken = tmp_path / 'broken'
    shutil.copytree(tiny_dataset, broken)
    tokens = np.load(broken / 'tokens.npy')
    tokens[3] = 65000
    np.save(broken / 'tokens.npy', tokens)
    with pytest.raises(ValueError, match=r'tokens\.npy holds ids beyond the vocabulary'):
        prepare.load_dataset(broken)

def test_config_files_and_out_dirs_that_cannot_work(tmp_path):
    raw = make_corpus(tmp_path / 'raw', n=1, seconds=1.0)
    (tmp_path / 'bad.py').write_text('fps = 5\nimage_size = 1 / 0\n')
    r = subprocess.run([sys.executable, 'prepare.py', str(tmp_path / 'bad.py')], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode and r.stderr.strip() == f'{tmp_path}/bad.py:2: ZeroDivisionError: division by zero'
    (tmp_path / 'file').write_text('a file, not a folder')
    with pytest.raises(SystemExit, match=r'file cannot be written: File exists'):
        run(raw, tmp_path / 'file')

def test_train_stops_on_ctrl_c_in_one_line(tiny_dataset, tmp_path):
    command = [sys.executable, 'train.py', f'--data_dir={tiny_dataset}', f'--out_dir={tmp_path}', *TINY,
               '--max_iters=100000', '--probe_trials=0', '--eval_interval=100000']
    job = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env={**os.environ, 'OMP_NUM_THREADS': '1'})
    deadline = time.time() + 120
    while time.time() < deadline and not (tmp_path / 'log.csv').exists():
        time.sleep(0.2)
    time.sleep(2)
    job.send_signal(signal.SIGINT)
    _, err = job.communicate(timeout=60)
    assert job.returncode and 'Traceback' not in err
    assert f'rank 0: interrupted; resume from {tmp_path}/ckpt.pt with --init_from=resume' in err

def test_evaluate_refuses_what_would_score_nothing(lwl_bench, tmp_path):
    bench = tmp_path / 'bench'
    shutil.copytree(lwl_bench / 'v1', bench / 'v1')
    vtwt = bench / 'v1' / 'vtwt' / 'vtwt.csv'
    rows = vtwt.read_text().splitlines()
    vtwt.write_text(rows[0] + '\n')
    runs = evaluate_run(f'--scores_file={lwl_scores(tmp_path, "[1, 0]")}', f'--bench_dir={bench}',
                        f'--out_dir={tmp_path / "out"}', '--bootstrap=20')
    assert 'no items to score' in runs[0]['errors']['vtwt']
    assert 'has lines for tasks not found' in runs[0]['errors']['scores_file']
    with pytest.raises(SystemExit, match="config: ckpt='nothing/\\*.pt' is not allowed"):
        evaluate_run('--ckpt=nothing/*.pt', f'--bench_dir={bench}', f'--out_dir={tmp_path / "out"}')
    with pytest.raises(SystemExit, match=r'line 1: not a scores line .*scores must be finite numbers'):
        evaluate_run(f'--scores_file={lwl_scores(tmp_path, "[NaN, 0]")}', f'--bench_dir={bench}',
                     f'--out_dir={tmp_path / "out"}')
    bad = tmp_path / 'bad.jsonl'
    bad.write_bytes(b'{"task": "labeled_s", "id": "0", "scores": [1, 0, 0, 0]}\n\xff\n')
    with pytest.raises(SystemExit, match=r'line 2: not a scores line \(UnicodeDecodeError'):
        evaluate_run(f'--scores_file={bad}', f'--bench_dir={bench}', f'--out_dir={tmp_path / "out"}')
    short = tmp_path / 'short.jsonl'
    short.write_text(''.join(json.dumps(dict(task='labeled_s', id=str(i), scores=[1, 0, 0])) + '\n'
                             for i in range(100)))
    runs = evaluate_run(f'--scores_file={short}', f'--bench_dir={bench}', f'--out_dir={tmp_path / "out"}')
    assert '3 scores for its 4 options' in runs[0]['errors']['labeled_s']

def lwl_scores(tmp_path, scores):
    """A scores file for a task the bench does not hold (lex-lwl), with these scores on its one line."""
    path = tmp_path / f'lwl{len(scores)}.jsonl'
    path.write_text(f'{{"task": "devbench_lex-lwl", "id": "0", "scores": {scores}}}\n')
    return path

def test_an_input_that_cannot_be_hashed_still_gives_a_dataset(tmp_path, monkeypatch, capsys):
    """(On a shared server a file may be unreadable to this user: its stamp has no hash, and the unit is
    still made, or skipped by its decoder, without blocking the merge.)"""
    import inputs
    raw = make_corpus(tmp_path / 'raw', n=3, seconds=1.0)
    real = inputs.hashlib.file_digest

    def denied(f, name):
        if f.name.endswith('rec01.mp4'):
            raise PermissionError(errno.EACCES, 'Permission denied', f.name)
        return real(f, name)
    monkeypatch.setattr(inputs.hashlib, 'file_digest', denied)
    run(raw, tmp_path / 'out')
    assert recording_ids(tmp_path / 'out') == ['rec00', 'rec01', 'rec02']

def test_a_file_system_without_locks_runs_unlocked_with_a_warning(tmp_path, monkeypatch, capsys):
    import atomic

    def no_locks(f, how):
        raise OSError(errno.ENOLCK, 'No locks available')
    monkeypatch.setattr(atomic.fcntl, 'flock', no_locks)
    raw = make_corpus(tmp_path / 'raw', n=2, seconds=1.0)
    assert run(raw, tmp_path / 'out') is not None
    assert 'cannot lock (No locks available); prepare.py runs unlocked' in capsys.readouterr().err
