"""Tests for transcripts.py: every transcript format and its oddities, and the image-text pair readers
on copies of the published sample files (../shared/formats)."""
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from transcripts import (TRANSCRIPT_EXTS, PairItem, TranscriptError, Utterance, is_pairs_json,  # noqa: E402
                         read_pairs, read_transcript, saycam_seconds, seconds, speaker_allowed)

FORMATS = Path(__file__).resolve().parents[2] / 'shared' / 'formats'
needs_formats = pytest.mark.skipif(not FORMATS.is_dir(), reason=f'sample formats folder {FORMATS} is absent')

def write(path, text, encoding='utf-8'):
    path.write_bytes(text.encode(encoding) if isinstance(text, str) else text)
    return path

def image(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new('RGB', (4, 4), (200, 100, 50)).save(path)  # format from the suffix
    return path

def spans(utterances):
    return [(round(u.start, 3), round(u.end, 3)) for u in utterances]

# ----------------------------------------------------------------------------- times

@pytest.mark.parametrize('text, expected', [
    ('00:01:02,345', 62.345), ('00:01:02.345', 62.345), ('01:02.345', 62.345), ('1:01:03.500', 3663.5),
    ('0:05', 5.0), ('12.5', 12.5), ('7', 7.0), (3, 3.0), (2.25, 2.25), ('75:00', 4500.0)])
def test_seconds_known_answers(text, expected):
    assert seconds(text) == pytest.approx(expected)

@pytest.mark.parametrize('text', ['', 'abc', '-1', 'nan', 'inf', '00:61:00', '00:00:60', None, True,
                                  '1:2:3:4'])
def test_seconds_rejects(text):
    with pytest.raises(ValueError):
        seconds(text)

@pytest.mark.parametrize('text, expected', [
    ('1:05', 65), ('1.05', 65), ('1,05', 65), ('1;05', 65), (' 1:05 ', 65),
    ('1:05-1:20', 65), ('1:05 - 1:20', 65), ('1:05\u20131:20', 65),  # ranges keep their start
    ('1:1', 70), ('1:3', 90), ('1:5', 110), ('0:0', 0), ('1:7', 67),  # a single tens digit
    ('2', 120), (':30', 30), ('1:02:03', 3723), ('12:00', 720)])
def test_saycam_time_variants(text, expected):
    assert saycam_seconds(text) == expected

@pytest.mark.parametrize('text', ['', 'abc', '1:75', '1.234', '1:2:3:4', '-', 'about 2'])
def test_saycam_time_rejects(text):
    with pytest.raises(ValueError):
        saycam_seconds(text)

# ----------------------------------------------------------------------------- SRT / WebVTT

SRT = """1
00:00:01,000 --> 00:00:02,500
Mom: look at the <i>doggy</i>
over there [laughs]

2
00:01:02,345 --> 00:01:03,500
(inaudible) a ball *points*

3
00:01:05,000 --> 00:01:06,000
[noise]
"""

def test_srt_known_answer(tmp_path):
    utts, problems = read_transcript(write(tmp_path / 'r.srt', SRT))
    assert problems == []
    assert utts == [Utterance(1.0, 2.5, 'look at the doggy over there', 'Mom'),
                    Utterance(62.345, 63.5, 'a ball', '')]  # cue 3 is only an annotation: dropped
    assert isinstance(utts[0].start, float)

def test_srt_bom_crlf_and_whisperx_speaker(tmp_path):
    text = '1\r\n00:00:00,500 --> 00:00:01,000\r\n[SPEAKER_00]: hello\r\n\r\n'
    utts, problems = read_transcript(write(tmp_path / 'r.srt', b'\xef\xbb\xbf' + text.encode()))
    assert problems == [] and utts == [Utterance(0.5, 1.0, 'hello', 'SPEAKER_00')]

def test_srt_missing_blank_lines_and_cr_endings(tmp_path):
    text = ('1\r00:00:01,000 --> 00:00:02,000\rone\r2\r00:00:03,000 --> 00:00:04,000\rtwo\r'
            '00:00:05,000 --> 00:00:06,000\rthree')
    utts, problems = read_transcript(write(tmp_path / 'r.srt', text))
    assert problems == []
    assert [(u.start, u.text) for u in utts] == [(1.0, 'one'), (3.0, 'two'), (5.0, 'three')]

@pytest.mark.parametrize('encoding', ['utf-16', 'utf-16-be', 'utf-32'])
def test_srt_utf16_utf32_with_bom(tmp_path, encoding):
    data = SRT.encode(encoding)
    data = data if encoding != 'utf-16-be' else b'\xfe\xff' + data
    utts, _ = read_transcript(write(tmp_path / 'r.srt', data))
    assert spans(utts) == [(1.0, 2.5), (62.345, 63.5)]
    with pytest.raises(TranscriptError, match=r'r\.srt:1: invalid'):
        read_transcript(write(tmp_path / 'r.srt', data[:-1]))  # a truncated code unit

def test_srt_malformed_cues_skipped_with_line(tmp_path):
    path = write(tmp_path / 'r.srt', '1\n00:00:01,000 --> 00:00:0x,000\nbad time\n\n'
                 '2\n00:00:05,000 --> 00:00:04,000\nends before it starts\n\n'
                 'stray text with no timing\n\n'
                 '4\n00:00:06,000 --> 00:00:07,000\nfine\n')
    utts, problems = read_transcript(path)
    assert utts == [Utterance(6.0, 7.0, 'fine', '')]
    assert [p.split(': ')[0] for p in problems] == [f'{path}:2', f'{path}:9', f'{path}:6']
    assert 'end 4 s before start 5 s' in problems[2]

def test_srt_invalid_utf8_skips_only_that_line(tmp_path):
    data = (b'1\n00:00:01,000 --> 00:00:02,000\ngood words\nbad \xff\xfe bytes\n\n'
            b'2\n00:00:03,000 --> 00:00:04,000\nok\n')
    path = write(tmp_path / 'r.srt', data)
    utts, problems = read_transcript(path)
    assert [u.text for u in utts] == ['good words', 'ok']
    assert len(problems) == 1 and problems[0].startswith(f'{path}:4: invalid UTF-8')

def test_out_of_order_sorted_and_reported_once(tmp_path):
    path = write(tmp_path / 'r.srt', '1\n00:00:09,000 --> 00:00:10,000\nthree\n\n'
                 '2\n00:00:01,000 --> 00:00:02,000\none\n\n3\n00:00:05,000 --> 00:00:06,000\ntwo\n')
    utts, problems = read_transcript(path)
    assert [u.text for u in utts] == ['one', 'two', 'three']
    assert len(problems) == 1 and 'out of time order' in problems[0] and str(path) in problems[0]

def test_srt_without_cues_is_an_error(tmp_path):
    with pytest.raises(TranscriptError, match=r'r\.srt:1:'):
        read_transcript(write(tmp_path / 'r.srt', 'just some words\nno timings at all\n'))

VTT = """WEBVTT - a recording
Kind: captions

NOTE this block is a comment
00:00:00.000 is not a cue here

intro
00:01.000 --> 00:02.500 align:start position:10%
<v Dad>where is the <c.yellow>cat</c>?</v>

00:00:03.000 --> 00:00:04.000
<v.loud Mom>cats &amp; dogs

1:01:03.000 --> 1:01:04.250
no speaker
"""

def test_vtt_known_answer(tmp_path):
    utts, problems = read_transcript(write(tmp_path / 'r.vtt', VTT))
    assert problems == []
    assert utts == [Utterance(1.0, 2.5, 'where is the cat?', 'Dad'),
                    Utterance(3.0, 4.0, 'cats & dogs', 'Mom'),
                    Utterance(3663.0, 3664.25, 'no speaker', '')]

def test_vtt_header_wins_over_extension_and_empty_vtt(tmp_path):
    utts, _ = read_transcript(write(tmp_path / 'r.srt', VTT))  # a WebVTT file saved as .srt
    assert [u.speaker for u in utts] == ['Dad', 'Mom', '']
    path = write(tmp_path / 'e.vtt', 'WEBVTT\n\nNOTE nothing said\n')
    assert read_transcript(path) == ([], [f'{path}: empty transcript'])

# ----------------------------------------------------------------------------- Whisper / WhisperX JSON

def test_whisper_and_whisperx(tmp_path):
    doc = {'text': 'all', 'language': 'en', 'segments': [
        {'id': 0, 'start': 0.0, 'end': 1.5, 'text': ' Hi there. '},
        {'start': 2.0, 'end': 3.0, 'text': 'Mine!', 'speaker': 'SPEAKER_01'},
        {'start': 4.0, 'end': 5.0, 'text': 'no label on the segment', 'words': [
            {'word': 'no', 'start': 4.0, 'end': 4.2, 'speaker': 'SPEAKER_00'},
            {'word': 'label', 'speaker': 'SPEAKER_00'}, {'word': 'on', 'speaker': 'SPEAKER_02'},
            {'word': 'x'}]},
        {'start': 6.0, 'text': 'no end'},
        {'start': 8.0, 'end': 7.0, 'text': 'backwards'},
        {'start': 9.0, 'end': 9.5}]}
    path = write(tmp_path / 'r.json', json.dumps(doc, indent=1))
    utts, problems = read_transcript(path)
    assert utts == [Utterance(0.0, 1.5, 'Hi there.', ''), Utterance(2.0, 3.0, 'Mine!', 'SPEAKER_01'),
                    Utterance(4.0, 5.0, 'no label on the segment', 'SPEAKER_00')]
    assert [p.split(': ')[1] for p in problems] == ['segment 3', 'segment 5', 'segment 4']
    assert not is_pairs_json(path)

def test_whisper_bare_list_and_jsonl_saved_as_json(tmp_path):
    seg = [{'start': 1, 'end': 2, 'text': 'a'}]
    assert read_transcript(write(tmp_path / 'a.json', json.dumps(seg)))[0] == [Utterance(1.0, 2.0, 'a', '')]
    lines = '{"start": 1, "end": 2, "text": "a"}\n{"start": 3, "end": 4, "text": "b"}\n'
    assert [u.text for u in read_transcript(write(tmp_path / 'b.json', lines))[0]] == ['a', 'b']

def test_whisper_bad_files_raise(tmp_path):
    with pytest.raises(TranscriptError, match=r'r\.json:3: invalid JSON'):
        read_transcript(write(tmp_path / 'r.json', '{\n "segments": [\n  {oops}\n ]\n}'))
    with pytest.raises(TranscriptError, match='not a Whisper transcript'):
        read_transcript(write(tmp_path / 'p.json', json.dumps([{'conversations': [], 'image': ['a.jpg']}])))
    with pytest.raises(TranscriptError, match='not a Whisper transcript'):
        read_transcript(write(tmp_path / 'd.json', '{"text": "no segments"}'))

def test_whisper_invalid_utf8_line(tmp_path):
    data = (b'{"segments": [\n{"start": 0, "end": 1, "text": "caf\xe9"},\n'
            b'{"start": 2, "end": 3, "text": "ok"}\n]}')
    path = write(tmp_path / 'r.json', data)
    utts, problems = read_transcript(path)
    assert [u.text for u in utts] == ['ok']
    assert problems[0].startswith(f'{path}:2: invalid UTF-8') and 'segment 0' in problems[1]

# ----------------------------------------------------------------------------- CSV / JSONL

def test_saycam_csv_end_rule_speakers_and_cleanup(tmp_path):
    text = ('Time,Utterance,Speaker,Video Name\r\n'
            '0:01,look at that *laughs*,Mom,S_20130822_1005_04.AVI\r\n'
            '0:03,"what is it, baby?",M,\r\n'
            '0:03,[child babbles],C,\r\n'  # no text left: dropped, but it still ends the line before
            '0:4,that is a (inaudible) truck,papa,\r\n'
            ',,,\r\n'
            'huh,no time here,Mom,\r\n'
            '1:00,the last one,mother,\r\n')
    path = write(tmp_path / 'S_20130822_1005_04.csv', b'\xef\xbb\xbf' + text.encode())
    utts, problems = read_transcript(path, duration=62.0)
    assert [(u.start, u.end, u.text, u.speaker) for u in utts] == [
        (1, 3, 'look at that', 'Mom'), (3, 8, 'what is it, baby?', 'M'),  # next later start, capped at +5 s
        (40, 45, 'that is a truck', 'papa'), (60, 62.0, 'the last one', 'mother')]  # capped by duration
    assert problems == [f"{path}:7: bad time 'huh', skipped"]

def test_saycam_quoted_multiline_cell_keeps_line_numbers(tmp_path):
    path = write(tmp_path / 's.csv',
                 'Time,Utterance,Speaker\n0:01,"two\nlines",Mom\nxx,bad,Mom\n0:05,ok,Mom\n')
    utts, problems = read_transcript(path)
    assert [u.text for u in utts] == ['two lines', 'ok'] and problems[0].startswith(f'{path}:4:')

def test_generic_csv(tmp_path):
    path = write(tmp_path / 'g.csv', 'start,end,utterance,speaker\n1.5,2.5,hello,Mom\n'
                 '00:00:03.250,00:00:04.000,clock times,Dad\n5,,no end,\n6,7,,Mom\n9,8,backwards,Mom\n'
                 '10,11\n')
    utts, problems = read_transcript(path)
    assert [(u.start, u.end, u.text, u.speaker) for u in utts] == [
        (1.5, 2.5, 'hello', 'Mom'), (3.25, 4.0, 'clock times', 'Dad'), (5.0, 10.0, 'no end', '')]
    assert [p.split(': ')[0] for p in problems] == [f'{path}:5', f'{path}:7', f'{path}:6']
    path = write(tmp_path / 't.csv', 'Start,End,Transcript\n0,1,capital header\n')
    assert read_transcript(path)[0] == [Utterance(0.0, 1.0, 'capital header', '')]

def test_unknown_csv_header_raises(tmp_path):
    with pytest.raises(TranscriptError, match=r'x\.csv:2: unknown CSV header'):
        read_transcript(write(tmp_path / 'x.csv', '\nfoo,bar\n1,2\n'))

def test_jsonl(tmp_path):
    path = write(tmp_path / 'r.jsonl', '{"start": 0, "end": 1, "text": "one", "speaker": "Mom"}\n\n'
                 '{"start": 2, "end": 3, "text": "two"\n[1, 2]\n{"start": 4, "end": 5}\n'
                 '{"Start": "00:00:06.000", "End": 7, "Utterance": "three"}\n')
    utts, problems = read_transcript(path)
    assert utts == [Utterance(0.0, 1.0, 'one', 'Mom'), Utterance(6.0, 7.0, 'three', '')]
    assert [p.split(': ')[0] for p in problems] == [f'{path}:3', f'{path}:4', f'{path}:5']

@pytest.mark.parametrize('content', [b'', b'\n  \r\n', b'\xef\xbb\xbf'])
@pytest.mark.parametrize('ext', TRANSCRIPT_EXTS)
def test_empty_transcript(tmp_path, ext, content):
    path = write(tmp_path / f'e{ext}', content)
    assert read_transcript(path) == ([], [f'{path}: empty transcript'])

def test_unknown_extension_raises(tmp_path):
    with pytest.raises(TranscriptError, match=r'r\.txt'):
        read_transcript(write(tmp_path / 'r.txt', 'hello'))

def test_duration_drops_late_lines_and_clips_ends(tmp_path):
    path = write(tmp_path / 'r.srt', '1\n00:00:01,000 --> 00:00:09,000\nlong\n\n'
                                     '2\n00:00:12,000 --> 00:00:13,000\nlate\n')
    utts, problems = read_transcript(path, duration=8.0)
    assert utts == [Utterance(1.0, 8.0, 'long', '')] and problems[0].startswith(f'{path}:6: starts at 12 s')

def test_speaker_allowed():
    assert speaker_allowed('Mom', None, None) and speaker_allowed('', None, 'child')
    assert speaker_allowed(' mom ', 'M, Mom ,mother', None) and not speaker_allowed('Dad', 'M,Mom', None)
    assert not speaker_allowed('CHILD', None, 'child,C') and not speaker_allowed('Mom', 'mom', 'MOM')
    assert not speaker_allowed('', 'mom', None)

# ----------------------------------------------------------------------------- pairs: published samples

def copy_with_images(src, dst, names):
    """Copy a sample JSON and create a placeholder image at every path it names (none ship upstream)."""
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst / src.name)  # not copy: the samples are read-only
    for name in names:
        image(dst / name)
    return dst / src.name

@needs_formats
@pytest.mark.parametrize('source', ['saycam', 'babyview'])
@pytest.mark.parametrize('kind', ['single_image', 'multi_turn', 'video_clip'])
def test_llava_pretrain_samples(tmp_path, source, kind):
    src = FORMATS / 'pretrain' / source / kind / 'data.json'
    records = json.loads(src.read_text())
    path = copy_with_images(src, tmp_path / kind, [n for r in records for n in r['image']])
    assert is_pairs_json(path)
    items, problems = read_pairs(path)
    assert problems == [] and len(items) == len(records)
    for item, rec in zip(items, records):
        assert isinstance(item, PairItem)
        assert item.texts == [c['value'] for c in rec['conversations'] if c['from'] == 'gpt']
        assert item.images == [(tmp_path / kind / n).resolve() for n in rec['image']]
        assert all(p.is_absolute() and p.is_file() for p in item.images)
        assert item.date == rec['meta']['recorded'] and item.child == rec['meta']['subject']
        assert item.timestamps is None
        if 'recording' in rec['meta']:
            assert item.group == rec['meta']['recording']
        else:  # BabyView names the recording only inside meta.frame
            assert rec['meta']['frame'].startswith(item.group + '_') and item.group.startswith(item.child)
        n = len(rec['image'])
        expected = {'multi_turn': [[k] for k in range(n)]}.get(kind, [list(range(n))])
        assert item.text_images == expected
    assert items[0].group != items[1].group

@needs_formats
def test_egobabyvlm_clip_manifest_sample(tmp_path):
    example = json.loads((FORMATS / 'egobabyvlm' / 'clip_training_manifest.schema_example.json').read_text())
    records = example['records']  # the real file is the bare list, without the _note wrapper
    records.append(dict(records[0], utterance='second one', frame_filenames=['v2/v2_1.jpg', 'v2/v2_2.jpg'],
                        video_filename='v2.mp4', timestamps=[0.1, 0.3], num_frames=2))
    root = tmp_path / 'clip'
    root.mkdir()
    path = write(root / 'train.json', json.dumps(records))
    for r in records:
        for name in r['frame_filenames']:
            image(root / name)
    assert is_pairs_json(path)
    items, problems = read_pairs(path)
    assert problems == []
    assert [(i.group, i.texts, i.text_images, i.timestamps) for i in items] == [
        ('<video>', ['<text of one WhisperX segment>'], [[0, 1]], None),
        ('v2', ['second one'], [[0, 1]], [0.1, 0.3])]
    assert items[0].images == [(root / '<video>' / '<video>_<idx>.jpg').resolve(),
                               (root / '<video>' / '<video>_<idx+1>.jpg').resolve()]

@needs_formats
def test_cvcl_train_json_sample(tmp_path):
    src = FORMATS / 'cvcl' / 'train_metadata.schema_example.json'
    doc = json.loads(src.read_text())
    path = copy_with_images(src, tmp_path / 'cvcl', doc['data'][0]['frame_filenames'])
    assert is_pairs_json(path)
    items, problems = read_pairs(path)
    assert problems == [] and len(items) == 1
    item = items[0]
    assert item.group == '<video_stem>' and item.texts == [doc['data'][0]['utterance']]
    assert item.timestamps is None  # the schema's timestamps are placeholders, not one number per frame
    assert [p.name for p in item.images] == ['<video_stem>_067_00.jpg', '<video_stem>_067_01.jpg']
    doc['data'][0]['timestamps'] = [268.0, 268.2]
    items, _ = read_pairs(write(path, json.dumps(doc)))
    assert items[0].timestamps == [268.0, 268.2]

@needs_formats
def test_eval_json_is_not_pairs(tmp_path):
    assert not is_pairs_json(FORMATS / 'cvcl' / 'eval_test.reconstructed_example.json')
    with pytest.raises(TranscriptError, match='not a pairs JSON'):
        read_pairs(FORMATS / 'cvcl' / 'eval_test.reconstructed_example.json')

# ----------------------------------------------------------------------------- pairs: oddities

def llava(images, turns, **meta):
    conv = [{'from': role, 'value': value} for role, value in turns]
    return {'id': '1', 'image': images, 'conversations': conv, 'meta': meta}

def test_pairs_path_escapes(tmp_path):
    root = tmp_path / 'data'
    image(root / 'ok.jpg')
    image(tmp_path / 'outside.jpg')
    os.symlink(tmp_path / 'outside.jpg', root / 'link.jpg')
    records = [llava(['ok.jpg'], [('human', '<image>'), ('gpt', 'fine')]),
               llava(['../outside.jpg'], [('human', '<image>'), ('gpt', 'escape')]),
               llava([str(tmp_path / 'outside.jpg')], [('human', '<image>'), ('gpt', 'absolute')]),
               llava(['link.jpg'], [('human', '<image>'), ('gpt', 'symlink')]),
               llava([str(root / 'ok.jpg')], [('human', '<image>'), ('gpt', 'absolute inside')])]
    path = write(root / 'data.json', json.dumps(records))
    items, problems = read_pairs(path)
    assert [i.texts for i in items] == [['fine'], ['absolute inside']]
    assert [p.split(': ')[:2] for p in problems] == [[str(path), f'record {i}'] for i in (1, 2, 3)]
    assert all('outside' in p and p.endswith('skipped') for p in problems)
    assert items[0].group == 'data'  # no meta.recording: the JSON's stem

def test_pairs_missing_images_relink_texts(tmp_path):
    root = tmp_path / 'd'
    for k in (0, 2, 3):
        image(root / f'm_{k}.png')
    turns = [t for k in range(4) for t in (('human', '<image>'), ('gpt', f'text {k}'))]
    names = [f'm_{k}.png' for k in range(4)]
    records = [llava(names, turns, recording='rec1', recorded='2020-01-02', subject='S'),
               llava(['gone.jpg'], [('human', '<image>'), ('gpt', 'nothing left')])]
    path = write(root / 'data.json', json.dumps(records))
    items, problems = read_pairs(path)
    assert len(items) == 1
    item = items[0]
    assert [p.name for p in item.images] == ['m_0.png', 'm_2.png', 'm_3.png']
    assert item.texts == ['text 0', 'text 2', 'text 3'] and item.text_images == [[0], [1], [2]]
    assert (item.group, item.date, item.child) == ('rec1', '2020-01-02', 'S')
    assert problems == [f"{path}: record 0: image 'm_1.png' not found, skipped",
                        f"{path}: record 1: image 'gone.jpg' not found, skipped",
                        f'{path}: record 1: no image or no text left, skipped']

def test_pairs_token_count_and_prompts(tmp_path):
    image(tmp_path / 'a.jpg')
    image(tmp_path / 'b.jpg')
    records = [llava(['a.jpg', 'b.jpg'], [('human', '<image>'), ('gpt', 'one token, two images')]),
               llava('a.jpg', [('human', 'What is it?'), ('gpt', 'a [noise] ball')]),  # a string, no <image>
               llava(['a.jpg', 'b.jpg'], [('human', '<image>\nand <image>'), ('gpt', 'both'),
                                          ('human', 'more?'), ('gpt', 'no new image')]),
               llava(['a.jpg'], [('human', '<image>')]),
               'not a record']
    path = write(tmp_path / 'x.json', json.dumps(records))
    items, problems = read_pairs(path)
    assert [(i.texts, i.text_images) for i in items] == [(['a ball'], [[0]]),
                                                         (['both', 'no new image'], [[0, 1], []])]
    assert [p.split(': ')[1] for p in problems] == ['record 0', 'record 3', 'record 4']
    assert '1 <image> tokens for 2 images' in problems[0]

def test_pairs_bad_files(tmp_path):
    with pytest.raises(TranscriptError, match=r'b\.json:2: invalid JSON'):
        read_pairs(write(tmp_path / 'b.json', '[\n{,]'))
    with pytest.raises(TranscriptError, match=r'w\.json:1: not a pairs JSON'):
        read_pairs(write(tmp_path / 'w.json', '{"segments": [{"start": 0, "end": 1, "text": "hi"}]}'))
    path = write(tmp_path / 'e.json', '{"data": []}')
    assert read_pairs(path) == ([], [f'{path}: no records'])
    assert not is_pairs_json(path)
    with pytest.raises(TranscriptError, match=r'absent\.json:1: not readable'):
        is_pairs_json(tmp_path / 'absent.json')
    with pytest.raises(TranscriptError, match=r'bad\.json:1: not readable as UTF-8'):
        is_pairs_json(write(tmp_path / 'bad.json', b'\xff{'))
    with pytest.raises(TranscriptError, match=r'deep\.json:1: JSON nested too deep'):
        is_pairs_json(write(tmp_path / 'deep.json', '[' * 100000 + ']' * 100000))

def test_pairs_bom_and_manifest_timestamps(tmp_path):
    image(tmp_path / 'v' / 'v_1.jpg')
    image(tmp_path / 'v' / 'v_2.jpg')
    rec = {'utterance': 'hi (laughs) there', 'frame_filenames': ['v/v_1.jpg', 'v/v_2.jpg', 'v/v_3.jpg'],
           'utterance_num': 1, 'video_filename': 'v.mp4', 'transcript_filename': 'v.json',
           'timestamps': [0.5, 1.5, 2.5]}
    path = write(tmp_path / 'train.json', b'\xef\xbb\xbf' + json.dumps([rec]).encode())
    assert is_pairs_json(path)
    items, problems = read_pairs(path)
    assert [(i.texts, i.timestamps, i.text_images) for i in items] == [(['hi there'], [0.5, 1.5], [[0, 1]])]
    assert problems == [f"{path}: record 0: image 'v/v_3.jpg' not found, skipped"]

def test_caption_folder(tmp_path):
    root = tmp_path / 'synthetic'
    image(root / 'a.jpg')
    write(root / 'a.txt', 'Look at the red ball!\n')
    image(root / 'day2' / 'b.PNG')
    write(root / 'day2' / 'b.txt', b'\xef\xbb\xbfline one\r\nline \xff two\r\nline three\r\n')
    image(root / 'c.jpeg')  # no caption
    image(root / 'd.jpg')
    write(root / 'd.txt', '[music]\n')
    write(root / 'notes.txt', 'not a caption')
    image(tmp_path / 'outside.jpg')
    os.symlink(tmp_path / 'outside.jpg', root / 'e.jpg')
    write(root / 'e.txt', 'escapes')
    items, problems = read_pairs(root)
    assert [(i.group, [p.name for p in i.images], i.texts, i.text_images) for i in items] == [
        ('synthetic', ['a.jpg'], ['Look at the red ball!'], [[0]]),
        ('day2', ['b.PNG'], ['line one line three'], [[0]])]
    assert all(p.is_absolute() for i in items for p in i.images)
    assert len(problems) == 4
    assert problems[0].startswith(f"{root / 'd.txt'}: empty caption")
    assert problems[1].startswith(str(root / 'day2' / 'b.txt') + ':2: invalid UTF-8')
    assert problems[2].startswith(str(root / 'e.jpg')) and 'outside' in problems[2]
    assert problems[3] == f'{root}: 1 image(s) without a .txt caption skipped, e.g. c.jpeg'
