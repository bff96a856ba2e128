"""The nursery renders real, decodable, deterministic media whose transcripts and truth agree."""
import csv
import json
import os
import re
import sys

import av
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAKE = os.path.join(ROOT, 'data', 'nursery', 'make.py')
sys.path.insert(0, os.path.dirname(MAKE))
import make  # noqa: E402
import speech  # noqa: E402
import world  # noqa: E402


@pytest.fixture(scope='module')
def tiny(tiny_raw):
    """The tiny nursery (make.py --size=tiny --seed=1 in a subprocess), rendered once per test run by
    conftest."""
    return tiny_raw


def recordings(out):
    with open(out / 'recordings.csv', newline='') as f:
        return list(csv.DictReader(f))


def truth(out, rid):
    with open(out / 'truth' / f'{rid}.json') as f:
        return json.load(f)


def sidecar(out, rid):
    (path,) = [p for p in out.rglob(rid + '.*') if p.suffix != '.mp4' and p.parent.name != 'truth']
    return path


def test_layout_and_recordings_csv(tiny):
    rows = recordings(tiny)
    assert list(rows[0]) == ['recording', 'child', 'date', 'age_days']
    assert sorted(p.stem for p in tiny.rglob('*.mp4')) == sorted(r['recording'] for r in rows)
    assert not list(tiny.rglob('.*.tmp*'))  # no temporary file (atomic.atomic_path's .<name>.tmp<pid>)
    ages = [int(r['age_days']) for r in rows]
    assert all(183 <= a <= 975 for a in ages) and ages == sorted(ages)
    assert {sidecar(tiny, r['recording']).suffix for r in rows} == {'.srt', '.vtt', '.csv'}
    heads = {sidecar(tiny, r['recording']).read_text().split('\n')[0] for r in rows}
    assert {'Time,Utterance,Speaker,Video Name', 'start,end,text,speaker'} <= heads  # SAYCam and generic CSV
    for r in rows:
        t = truth(tiny, r['recording'])
        assert (t['child'], t['date'], t['age_days']) == (r['child'], r['date'], int(r['age_days']))


def test_media_decodes(tiny):
    for r in recordings(tiny):
        t = truth(tiny, r['recording'])
        (path,) = tiny.rglob(r['recording'] + '.mp4')
        with av.open(str(path)) as c:
            v, a = c.streams.video[0], c.streams.audio[0]
            assert (v.codec_context.name, v.width, v.height, v.average_rate) == ('h264', 320, 240, make.FPS)
            assert (a.codec_context.name, a.sample_rate, a.layout.name) == ('aac', 16000, 'mono')
            frames = sum(1 for _ in c.decode(video=0))
        assert frames == t['frames'] and 15 <= t['duration'] <= 20
        with av.open(str(path)) as c:
            pcm = np.concatenate([fr.to_ndarray().reshape(-1) for fr in c.decode(audio=0)])
        assert abs(len(pcm) / 16000 - t['duration']) < 0.2
        rms = np.sqrt(np.mean(pcm[:len(pcm) // 1600 * 1600].reshape(-1, 1600) ** 2, axis=1))  # 100 ms windows
        assert rms.min() > 1e-4  # room noise, never digital silence
        speaking = np.zeros(len(rms), bool)
        for u in t['utterances']:
            speaking[int(u['start'] * 10) + 1:int(u['end'] * 10) - 1] = True
        assert speaking.any() and np.median(rms[speaking]) > 3 * np.median(rms[~speaking])


def seconds(stamp):
    """Seconds of an SRT (h:mm:ss,mmm) or WebVTT (h:mm:ss.mmm) time."""
    fields = reversed(stamp.strip().replace(',', '.').split(':'))
    return sum(float(x) * 60 ** i for i, x in enumerate(fields))


def parse_sidecar(path):
    """(start, end or None, text, speaker) rows, by a few lines of format knowledge per format."""
    text = path.read_text(encoding='utf-8')
    if path.suffix in ('.srt', '.vtt'):
        rows = []
        for block in text.strip().split('\n\n'):
            lines = block.split('\n')
            if lines[0] == 'WEBVTT':
                continue
            stamp = next(line for line in lines if '-->' in line)
            a, b = (seconds(s) for s in stamp.split('-->'))
            body = lines[-1]
            if path.suffix == '.vtt':
                m = re.fullmatch(r'<v ([^>]+)>(.*)', body)
            else:
                m = re.fullmatch(r'(\w+): (.*)', body)
            rows.append((a, b, m[2], m[1]))
        return rows
    rows = list(csv.DictReader(text.splitlines()))
    if 'Time' in rows[0]:  # SAYCam: m:ss start times only
        starts = [int(r['Time'].split(':')[0]) * 60 + int(r['Time'].split(':')[1]) for r in rows]
        return [(s, None, r['Utterance'], r['Speaker']) for s, r in zip(starts, rows)]
    return [(float(r['start']), float(r['end']), r['text'], r['speaker']) for r in rows]


def test_transcripts_match_truth(tiny):
    for r in recordings(tiny):
        t = truth(tiny, r['recording'])
        rows = parse_sidecar(sidecar(tiny, r['recording']))
        assert [(x[2], x[3]) for x in rows] == [(u['text'], u['speaker']) for u in t['utterances']]
        starts = [x[0] for x in rows]
        assert starts == sorted(starts) and all(0 <= s < t['duration'] for s in starts)
        for (a, b, _, _), u in zip(rows, t['utterances']):
            assert b is None or a < b <= t['duration']
            assert abs(a - u['start']) < 1.0
            assert [w for w, _, _ in u['words']] == speech.words(u['text'])
            assert all(u['start'] - 2e-3 <= s < e <= u['end'] + 2e-3 for _, s, e in u['words'])
        assert {x[3] for x in rows} <= {'mom', 'dad', 'child'}


def test_deterministic_and_resumable(tiny, tmp_path, capsys):
    # in-process, one worker this time
    make.main(['--size=tiny', f'--out={tmp_path}', '--seed=1', '--workers=1'])
    out = capsys.readouterr().out
    assert 'recordings: 4 (0 were already complete)' in out and 'naming_in_view:' in out and 'frames/s' in out
    for r in recordings(tiny):
        rid = r['recording']
        new, old = tmp_path / 'truth' / f'{rid}.json', tiny / 'truth' / f'{rid}.json'
        assert new.read_bytes() == old.read_bytes()
        assert sidecar(tmp_path, rid).read_bytes() == sidecar(tiny, rid).read_bytes()
    assert (tmp_path / 'heldout.json').read_bytes() == (tiny / 'heldout.json').read_bytes()
    # a killed run: one recording lost its truth file (written last) and left a temporary file behind
    rid = recordings(tiny)[1]['recording']
    (tmp_path / 'truth' / f'{rid}.json').unlink()
    (tmp_path / 'truth' / f'.{rid}.json.tmp99999').write_text('{"half": ')
    kept = {p: p.stat().st_mtime_ns for p in tmp_path.rglob('*.mp4') if rid not in p.name}
    capsys.readouterr()
    make.main(['--size=tiny', f'--out={tmp_path}', '--seed=1', '--workers=1'])
    assert 'recordings: 4 (3 were already complete)' in capsys.readouterr().out
    assert not list(tmp_path.rglob('.*.tmp*'))  # what the killed run left is cleared
    assert all(p.stat().st_mtime_ns == m for p, m in kept.items())
    assert (tmp_path / 'truth' / f'{rid}.json').read_bytes() == (tiny / 'truth' / f'{rid}.json').read_bytes()
    with pytest.raises(SystemExit):  # a different world into the same folder is refused
        make.main(['--size=tiny', f'--out={tmp_path}', '--seed=2', '--workers=1'])


def test_heldout_never_shown_or_said(tiny):
    held = json.loads((tiny / 'heldout.json').read_text())
    pairs = [(c, k) for k in speech.COLORED for c in world.CATEGORIES[k][2]]
    assert 0.12 <= len(held['color_object']) / len(pairs) <= 0.25 and held['verb_object'] and held['relation']
    assert_never_shown_or_said([truth(tiny, r['recording']) for r in recordings(tiny)], held)


def test_default_heldout_never_shown_or_said(default_truths):
    assert_never_shown_or_said(default_truths, speech.choose_heldout(1337))


def test_default_exposure_card_meets_the_minimums(default_truths):
    """Each benchmark's phenomenon is in the default corpus's training split often enough to be learnt."""
    import exposure
    train = exposure.training_split(default_truths)
    card = exposure.card([t for t in default_truths if t['recording'] in train])
    assert exposure.shortfalls(card) == []
    assert 100 <= card['recordings'] < len(default_truths)
    hidden = card['permanence']['hidden_seconds']
    assert 0.9 <= hidden[0] and hidden[2] <= 4.0  # 1-3 s behind the screen, give or take a filmed frame
    assert set(card['permanence']['by_category']) == set(make.ROLLERS)
    assert card['gaze']['with_competitor'] >= 0.3 * card['gaze']['gaze_then_name']
    assert card['naming']['toy_with_a_toy_in_view'] >= 0.8
    assert card['speech']['good_job'] <= 0.03
    assert 0.2 <= card['speech']['naming_nothing_in_view'] <= 0.45  # referential uncertainty stays


def assert_never_shown_or_said(truths, held):
    colors, verbs = {tuple(p) for p in held['color_object']}, {tuple(p) for p in held['verb_object']}
    for t in truths:
        scenes = [u['scene'] for u in t['utterances']] + [s['scene'] for s in t['seconds']]
        assert not {(o['color'], o['category']) for s in scenes for o in s['objects']} & colors
        assert not {(e['type'], e['category']) for e in t['events']} & verbs
        relations = {(e['figure'], e['relation'], e['landmark'])
                     for e in t['events'] if e['type'] == 'relation'}
        assert not relations & {tuple(x) for x in held['relation']}
        for u in t['utterances']:
            text = ' '.join(speech.words(u['text']))
            for c, k in colors:
                assert not re.search(rf'\b{c} {k}s?\b|\b{k} is {c}\b', text), text
            for v, k in verbs:
                forms = '|'.join(speech.VERBS[v])
                assert not re.search(rf'\b({forms})\b(\s\w+){{0,3}}\s({k}|{speech.plural(k)})\b', text), text


def test_truth_refs_and_events(tiny):
    utts = [u for r in recordings(tiny) for u in truth(tiny, r['recording'])['utterances']]
    named = np.mean([u['names_in_view'] for u in utts])
    assert 0.25 <= named <= 0.9  # referential uncertainty: a good share names nothing in view
    for u in utts:
        ws = speech.words(u['text'])
        for ref in u['refs']:
            assert ws[ref['i']] == ref['word']
            if ref['role'] == 'object' and ref['in_view'] and ref['id'] is not None:
                assert any(u['visible'].get(i, 0) > 0 for i in ref.get('ids') or [ref['id']])
    events = [e for r in recordings(tiny) for e in truth(tiny, r['recording'])['events']]
    assert {'enter', 'leave'} <= {e['type'] for e in events}


def test_render_frame_pure_and_occlusion():
    scene = dict(background='room', camera=[80, 100], objects=[
        dict(id='b', category='ball', color='red', x=240, y=300),
        dict(id='c', category='cat', color='grey', x=345, y=310)],  # clear of the screen at world.NEAR
        occluder=dict(x=240, y=305, w=80, h=90, color='blue'),
        face=dict(who='mom', x=120, y=350, height=150, gaze=[330, 290], mouth_open=True))
    a = world.render_frame(scene)
    assert a.shape == (240, 320, 3) and a.dtype == np.uint8
    assert np.array_equal(a, world.render_frame(json.loads(json.dumps(scene))))
    vis = world.visibility(scene)
    assert vis['b'] == 0 and vis['c'] == 1 and 0 < vis['face'] <= 1  # the ball is behind the screen
    scene['occluder'] = None
    assert not np.array_equal(a, world.render_frame(scene))


def test_word_sounds_are_consistent():
    mom, dad = speech.voice('mom', 'A'), speech.voice('dad', 'A')
    assert np.array_equal(speech.word_audio('ball', mom), speech.word_audio('ball', mom))
    assert speech.syllables('ball') != speech.syllables('cup')
    wave, times = speech.utterance_audio('look, a red ball!', dad)
    assert len(times) == 4 and times == sorted(times) and abs(times[-1][1] - len(wave) / 16000) < 1e-3
