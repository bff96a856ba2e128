"""kinds/: each kind's loaders on the real sample files and on bad input, its metric on hand-made answers,
discovery of task folders, and a kind added in a few lines."""
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import kinds
from kinds import KINDS, choice, count, lexical, memory, vdr
from kinds.formats import BenchError
from kinds.readouts import Match

FORMATS = Path(__file__).resolve().parents[2] / 'shared' / 'formats'
needs_formats = pytest.mark.skipif(not FORMATS.is_dir(), reason=f"no sample files at {FORMATS}")

def load(loader, path):
    """A task as evaluate.py has it: the loader's, with its file and key."""
    return dict(loader(str(path)), file=str(path), key='task')

def score(task, answers):
    return KINDS[task['kind']].score(task, answers)

def found_tasks(root):
    found, _ = kinds.discover(str(root))
    return {k: kinds.load_task(k, *v) for k, v in found.items()}

def placeholders(root):
    """Write a small picture wherever a found benchmark points (each a different colour: distinct files)."""
    for task in found_tasks(root).values():
        if task is None:
            continue
        for it in task['items']:
            for p, _ in KINDS[task['kind']].images(it):
                os.makedirs(os.path.dirname(p), exist_ok=True)
                if not os.path.exists(p):
                    colour = (hash(p) % 256, hash(p) // 256 % 256, 90)
                    kind = 'PNG' if p.lower().endswith('.png') else 'JPEG'
                    Image.new('RGB', (32, 24), colour).save(p, format=kind)

# ----------------------------------------------------------------------------- each kind's metric, by hand

def memory_record(labels, answers):
    """A memory record as the DevCV toolbox writes it (the new thing at the gold letter)."""
    conv = []
    for r, a in enumerate(answers):
        prompt = 'Touch the new image. (A) <image>'
        if r:
            prompt = "Let's try more. Touch the new image. (A) <image> (B) <image>"
        conv += [{'from': 'human', 'value': prompt}, {'from': 'gpt', 'value': a}]
    return dict(id='m', labels=labels, conversations=conv,
                image=[f'images/m_{k}.jpg' for k in range(sum(len(l) for l in labels))])

def test_memory_adjusted_score(tmp_path):
    base = list('abcde')
    labels = [['a']] + [[base[k - 1], base[k]] for k in range(1, 5)]
    olds = list('abcdeedcba')
    labels += [[o, f'new{j}'] for j, o in enumerate(olds)]          # [old, new]: the answer is B
    (tmp_path / 'memory').mkdir()
    (tmp_path / 'memory' / 'data.json').write_text(json.dumps([memory_record(labels, ['A'] + ['B'] * 14)]))
    task = load(memory.load_devcv, tmp_path / 'memory' / 'data.json')
    rounds = task['items'][0]['rounds']
    assert len(rounds) == 15 and [x['old'] for x in rounds[5:]] == olds
    # learning: round 3 wrong; test (olds a b c d e e d c b a): b's first and both of d's wrong
    picks = ['A', 'B', 'B', 'A', 'B'] + ['B', 'A', 'B', 'A', 'B', 'B', 'A', 'B', 'B', 'B']
    m = score(task, {f'0/{r}': {'answer': p} for r, p in enumerate(picks)})['metrics']
    assert m['acc_learning'] == pytest.approx(4 / 5)                 # (15 + 1) // 3 = 5 learning rounds
    assert m['acc_testing_raw'] == pytest.approx(7 / 10)             # a, c, e, e, c, b, a right
    assert m['acc_testing_adjusted'] == pytest.approx(3 / 5)         # right in both appearances: a, c, e
    with pytest.raises(BenchError, match=r"data\.json: no scores for items 0/14"):
        score(task, {f'0/{r}': {'answer': p} for r, p in enumerate(picks[:14])})

def test_vdr_exact_and_adjacent(tmp_path):
    ring = "'top', 'bottom', 'left', 'right', 'top right', 'top left', 'bottom right', or 'bottom left'"
    prompt = ("<image><image> which part of the frame does the ball leave from? respond ONLY with one of: "
              f"{ring}.")
    recs = [dict(id=str(i), image=['images/f0.jpg', 'images/f1.jpg'], conversations=[
        {'from': 'human', 'value': prompt}, {'from': 'gpt', 'value': 'top'}]) for i in range(4)]
    (tmp_path / 'vdr-open').mkdir()
    (tmp_path / 'vdr-open' / 'data.json').write_text(json.dumps(recs))
    task = load(vdr.load_devcv, tmp_path / 'vdr-open' / 'data.json')
    assert task['items'][0]['names'][:2] == ['top', 'bottom'] and task['items'][0]['gold'] == 0
    answers = ['top', 'it goes out at the top right', 'bottom', 'the top left corner']
    m = score(task, {str(i): {'answer': a} for i, a in enumerate(answers)})
    assert m['score'] == 0.25 and m['metrics']['acc_adjacent'] == 0.75     # exact; exact or a neighbour
    assert m['chance'] == 0.125 and m['metrics']['chance_adjacent'] == 0.375
    names = task['items'][0]['names']
    picks = ['top left', 'right', 'bottom left', 'top']
    scores = {str(i): np.eye(8)[names.index(d)] for i, d in enumerate(picks)}
    m = score(task, scores)
    assert m['score'] == 0.25 and m['metrics']['acc_adjacent'] == 0.5

def test_machine_devbench_bins(tmp_path):
    # five of each item, so that no bin is under scoring.MIN_BIN and only the published merge applies
    bins = ['[1,2)', '[2,4)', '[2,4)', '[4,8)', '[4,8)', '[0,1)'] * 5
    ok = [True, False, False, True, True, False] * 5
    items = [dict(word='w', caption_positive='a w', image_positive=f'p{i}.jpg', image_negative=f'n{i}.jpg',
                  frequency_bin=b) for i, b in enumerate(bins)]
    path = tmp_path / 'Lexical' / 'Nouns' / 'manifest_nouns_cartoon.json'
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(dict(style='cartoon', items=items)))
    task = load(lexical.load, path)
    m = score(task, {str(i): [1.0, 0.0] if o else [0.0, 1.0] for i, o in enumerate(ok)})
    assert task['kind'] == 'lexical' and m['score'] == pytest.approx((1 / 3 + 1 + 0) / 3)
    assert m['metrics']['acc_items'] == pytest.approx(3 / 6) and m['metrics']['merged_bins'] == {}
    assert found_tasks(tmp_path)['md_nouns_cartoon']['kind'] == 'lexical'   # not the grammatical loader's

def test_number_phrases_and_regions():
    assert [count.number_phrase(n, 'balls') for n in (0, 1, 2)] == ['zero balls', 'one ball', 'two balls']
    assert count.number_phrase(3, 'bottle') == 'three bottles'
    assert count.Count(('a.jpg', None), 'balls').needs()[2] == Match(('a.jpg', None), 'two balls')
    assert vdr.region('left', False) == (0, 0, .5, 1) and vdr.region('top right', False) == (.5, 0, 1, .5)
    assert vdr.region('bottom', True) == pytest.approx((1 / 3, 2 / 3, 2 / 3, 1))
    track = vdr.Track((('f0.jpg', None), ('f1.jpg', None), ('f2.jpg', None)), 'ball', 'left', False)
    assert track.needs()[0] == Match(('f0.jpg', (0, 0, .5, 1)), 'ball')
    assert track.value([1.0, 2.0, 4.0]) == 3.0                        # the later half of the frames

def test_picture_vocabulary_word_keeps_its_apostrophe(tmp_path):
    prompt = "<image><image> Which one is the image of 'astronaut's' (A) the first image (B) the second."
    rec = dict(id='0', image=['a.jpg', 'b.jpg'], conversations=[{'from': 'human', 'value': prompt},
                                                                 {'from': 'gpt', 'value': 'A'}])
    (tmp_path / 'picture_vocabulary').mkdir()
    (tmp_path / 'picture_vocabulary' / 'data.json').write_text(json.dumps([rec]))
    task = found_tasks(tmp_path)['baby_pv']
    assert [op.text for op in task['items'][0]['options']] == ["astronaut's", "astronaut's"]

# ----------------------------------------------------------------------- the loaders on the real sample files

@needs_formats
def test_loaders_read_the_published_samples(tmp_path):
    root = tmp_path / 'formats'
    shutil.copytree(FORMATS, root)
    placeholders(root)
    found, problems = kinds.discover(str(root))
    tasks = {k: kinds.load_task(k, *v) for k, v in found.items()}
    assert tasks.pop('devbench_sem-things') is None                   # RSA: no kind scores it
    for t in tasks.values():
        if t is not None:
            assert kinds.check_images(t, root) == (t, [])
    plain = {k.split('@')[0] for k in tasks}
    assert {'labeled_s', 'vtwt', 'baby_winoground', 'saycam_caption', 'baby_pv', 'baby_localize',
            'baby_leftright', 'baby_spatialdetails', 'baby_vdr_binary', 'baby_vdr_open',
            'baby_compare_synthetic', 'baby_compare_real', 'baby_count', 'baby_subitize', 'baby_memory',
            'devbench_gram-trog', 'devbench_gram-winoground', 'devbench_lex-lwl',
            'devbench_lex-viz_vocab'} <= plain
    # DevCV's sources (babyview, ego4d, nih, saycam) lie at one depth: each keyed by its folder, the clash
    # named
    assert 'baby_localize' not in tasks and 'baby_localize' in problems
    assert 'devcv/saycam/localize' in problems['baby_localize']
    assert 'devcv/babyview/localize' in problems['baby_localize']
    ls = tasks['labeled_s']['items']
    assert len(ls) == 6 and ls[0]['options'][0].text == 'ball' and ls[0]['gold'] == 0
    assert ls[0]['options'][1].image[0].endswith(os.path.join('v1', 'images', 'basket', 'img_50191.jpeg'))
    wino = tasks['baby_winoground']['items'][0]
    assert wino['texts'] == ['see person', 'touch pillow'] and 'negative_images' in wino['images'][1][0]
    assert len(tasks['vtwt']['items']) == 24 and len(tasks['saycam_caption']['items']) == 24
    loc = tasks['baby_localize@devcv/saycam/localize']['items'][0]
    assert loc['box'] == [158.0, 6.0, 355.0, 161.0] and loc['gold'] == 0 and loc['options'][0].text == 'drain'
    bv = tasks['baby_localize@devcv/babyview/localize']['items'][0]
    assert bv['box'] == [1, 0, 859, 731] and bv['options'][0].text == 'TV'    # BabyView's: x1 y1 x2 y2
    vdr_item = tasks['baby_vdr_binary@devcv/ego4d/vdr-binary']['items'][0]
    assert vdr_item['names'] == ['top left', 'bottom right'] and vdr_item['gold'] == 1
    assert vdr_item['options'][0].word == 'phone'
    nih_vdr = tasks['baby_vdr_binary@devcv/nih/vdr']['items'][0]
    assert nih_vdr['names'] == ['left', 'right'] and nih_vdr['gold'] == 1
    assert len(nih_vdr['options'][0].frames) == 50
    nih_pv = tasks['baby_pv@devcv/nih/picture_vocab']['items'][0]
    assert [op.image[1] for op in nih_pv['options']] == list(choice.QUADRANTS)
    assert nih_pv['options'][0].text == 'egress'
    item = tasks['baby_count@devcv/ego4d/count']['items'][0]
    assert item['value'] == 4 and item['options'][4].text == 'four bottles'
    big = tasks['baby_count@devcv/babyview/count']['items'][1]
    assert big['value'] == 10 and big['options'][10].text == 'ten TVs'
    mem = tasks['baby_memory@devcv/saycam/memory']['items']
    assert len(mem) == 6 and all(len(m['rounds']) == 15 for m in mem)
    r204 = mem[5]['rounds']   # memory_task_204: images first, "(A) the first image", no labels
    assert [len(x['options']) for x in r204] == [1] + [2] * 14 and r204[1]['gold'] == 1
    nih_mem = tasks['baby_memory@devcv/nih/memory']['items'][0]['rounds']
    # "(A) <image>  (B) <image>", with a double space
    assert len(nih_mem) == 30 and nih_mem[1]['old'] == 'dog'
    other = count.load_devcv(str(root / 'devcv' / 'ego4d' / 'count' / 'data.v53ba931.json'))
    assert other['items'][0]['options'][9].text == 'nine bicycles'
    trog = tasks['devbench_gram-trog']
    assert trog['items'][0]['human']['all'] == pytest.approx([0.96875, 0.0125, 0.008333333333333333,
                                                              0.010416666666666666])
    assert len(tasks['devbench_gram-winoground']['items']) == 10
    assert tasks['devbench_gram-winoground']['kind'] == 'winoground'
    viz = tasks['devbench_lex-viz_vocab']['items'][0]['human']
    assert set(viz) == {'4', '7', '10', '25'} and viz['4'][0] == pytest.approx(0.8461538461538461)
    # Machine-DevBench ships no sample: a manifest filled in from the schema, read by the same loader
    for kind, n in (('lexical', 'machine_devbench_lexical'), ('grammatical', 'machine_devbench_grammatical')):
        schema = json.loads((root / 'egobabyvlm' / f'{n}_manifest.schema_example.json').read_text())
        schema.pop('_note')
        schema['items'] = [{k: (v if k.startswith(('image', 'caption')) else '[1,2)') for k, v in it.items()}
                           for it in schema['items']]
        path = tmp_path / 'mdb' / kind / f'manifest_{kind}_x.json'
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(schema))
        [t] = found_tasks(path.parent).values()
        assert t['kind'] == kind and len(t['items']) == 1

@needs_formats
def test_malformed_files_name_the_file_and_record(tmp_path):
    bad = tmp_path / 'v1' / 'labeled_s.csv'
    bad.parent.mkdir()
    rows = (FORMATS / 'v1' / 'labeled_s.csv').read_text().splitlines()
    rows[5] = rows[5].rsplit(',', 1)[0]                                 # line 6 loses its image
    bad.write_text('\n'.join(rows) + '\n')
    with pytest.raises(BenchError, match=r"labeled_s\.csv: line 6: "):
        load(choice.load_labeled_s, bad)
    recs = json.loads((FORMATS / 'devcv' / 'saycam' / 'count' / 'data.json').read_text())
    recs[3]['conversations'][1]['value'] = 'many'
    (tmp_path / 'count').mkdir()
    (tmp_path / 'count' / 'data.json').write_text(json.dumps(recs))
    with pytest.raises(BenchError, match=r"count/data\.json: record 3: gold count 'many'"):
        load(count.load_devcv, tmp_path / 'count' / 'data.json')
    (tmp_path / 'leftright').mkdir()
    (tmp_path / 'leftright' / 'data.json').write_text('[{"id": 1,\n "image": [}]')
    with pytest.raises(BenchError, match=r"leftright/data\.json: line 2: not valid JSON"):
        kinds.load_task('baby_leftright', *kinds.discover(str(tmp_path / 'leftright'))[0]['baby_leftright'])
    found, _ = kinds.discover(str(FORMATS / 'devcv' / 'saycam' / 'leftright'))
    task = kinds.load_task('baby_leftright', *found['baby_leftright'])
    missing = r"leftright/data\.json: record 0: image .*leftright_0000_0\.jpeg is missing"
    with pytest.raises(BenchError, match=missing):
        kinds.check_images(task, FORMATS)

# ----------------------------------------------------------------------------- discovery

def picture_vocabulary(folder):
    rec = dict(id='0', image=['a.jpg', 'b.jpg'], conversations=[
        {'from': 'human', 'value': "<image><image> Which is the image of 'ball' (A) one (B) the other."},
        {'from': 'gpt', 'value': 'A'}])
    folder.mkdir(parents=True)
    (folder / 'data.json').write_text(json.dumps([rec]))

def test_the_shallowest_folder_gets_the_plain_key(tmp_path):
    picture_vocabulary(tmp_path / 'a_nested' / 'deeper' / 'picture_vocabulary')   # sorts first, but deeper
    picture_vocabulary(tmp_path / 'picture_vocabulary')
    found, problems = kinds.discover(str(tmp_path))
    assert found['baby_pv'][0] == str(tmp_path / 'picture_vocabulary' / 'data.json') and not problems
    assert 'baby_pv@a_nested/deeper/picture_vocabulary' in found
    picture_vocabulary(tmp_path / 'b' / 'picture_vocab')    # one more at the top level's depth: a clash
    picture_vocabulary(tmp_path / 'c' / 'picture_vocab')
    found, problems = kinds.discover(str(tmp_path))
    assert found['baby_pv'][0] == str(tmp_path / 'picture_vocabulary' / 'data.json') and not problems
    shutil.rmtree(tmp_path / 'picture_vocabulary')
    found, problems = kinds.discover(str(tmp_path))
    assert 'baby_pv' not in found and {'baby_pv@b/picture_vocab', 'baby_pv@c/picture_vocab'} <= set(found)
    assert 'b/picture_vocab and c/picture_vocab' in problems['baby_pv']
