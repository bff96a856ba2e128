"""The nursery's benchmark suites: deterministic, in the published formats, with ground truth that holds."""
import csv
import json
import math
import re
import shutil
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'data' / 'nursery'))
import benchmarks  # noqa: E402
import world  # noqa: E402

SAMPLES = ROOT.parent / 'shared' / 'formats'  # the real files (shared/formats), when this checkout has them
V1 = {'labeled_s': ['trial_id', 'target_category', 'real_category', 'image'],
      'vtwt': ['image', 'positive_phrase', 'negative_phrase'],
      'baby_winoground': ['instance_id', 'positive_phrase', 'negative_phrase', 'image', 'image_tag'],
      'SAYCam_caption': ['image', 'text']}
DEVBENCH = {'lex-lwl': ['text1', 'image1', 'image2'],
            'lex-viz_vocab': ['image1', 'image2', 'image3', 'image4', 'text1'],
            'gram-trog': ['image1', 'image2', 'image3', 'image4', 'text1'],
            'gram-winoground': ['image1', 'image2', 'text1', 'text2']}
# each DevCV task: (sample file, record, the sample's own noun) to make a prompt template of
DEVCV = {'picture_vocabulary': ('saycam', 0, 'street'), 'localize': ('saycam', 0, 'drain'),
         'leftright': ('ego4d', 0, None), 'spatialdetails': ('saycam', 0, None),
         'vdr-binary': ('saycam', 0, 'fridge'), 'vdr-open': ('saycam', 0, 'fridge'),
         'compare_synthetic': ('saycam', 0, 'refrigerators'), 'compare_real': ('saycam', 0, 'shoes'),
         'count': ('saycam', 0, 'cabinets'), 'memory': ('saycam', 0, None)}
SUBITIZE_AS = 'count'  # subitize uses the count prompt
EXITS = {'top', 'bottom', 'left', 'right', 'top right', 'top left', 'bottom right', 'bottom left'}


def run(out, raw, *extra):
    benchmarks.main(['--size=tiny', f'--out={out}', f'--raw={raw}', '--seed=1', *extra])


@pytest.fixture(scope='module')
def bench(tiny_raw, tmp_path_factory):
    out = tmp_path_factory.mktemp('bench')
    run(out, tiny_raw)
    return out


def load(path):
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def rows(path, encoding='utf-8'):
    with open(path, newline='', encoding=encoding) as f:
        return list(csv.reader(f))


def files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob('*')) if p.is_file()}


def scenes(bench, suite):
    return load(bench / suite / 'truth.json')['scenes']


def test_deterministic_and_resumable(bench, tiny_raw, tmp_path, capsys):
    other = tmp_path / 'again'
    run(other, tiny_raw)
    assert files(other) == files(bench)
    # a killed run: one suite gone, its half-written copy left in .tmp; the re-run redoes that suite alone
    shutil.rmtree(other / 'v1' / 'vtwt')
    (other / '.tmp' / 'v1' / 'vtwt' / 'images').mkdir(parents=True)
    (other / '.tmp' / 'v1' / 'vtwt' / 'vtwt.csv').write_text('image,posi')
    capsys.readouterr()
    run(other, tiny_raw)
    log = capsys.readouterr().out
    assert log.count('complete before') == len(benchmarks.SUITES) - 1 and not (other / '.tmp').exists()
    assert files(other) == files(bench)


def test_index_lists_every_suite(bench, tiny_raw):
    index, held = load(bench / 'INDEX.json'), load(tiny_raw / 'heldout.json')
    assert (index['seed'], index['size']) == (1, 'tiny')
    assert index['heldout'] == {k: held[k] for k in index['heldout']}
    assert index['frequency_source'] == f'4 all transcripts in {tiny_raw}'
    folders = {re.sub(r'/(Lexical|Grammatical)/.*', '', t['file'].rsplit('/', 1)[0])
               for t in index['tasks'].values()}
    assert folders == set(benchmarks.SUITES)
    for key, t in index['tasks'].items():
        assert (bench / t['file']).is_file() and t['n'] > 0, key
        assert t['chance'] is None or isinstance(t['chance'], dict) or 0 < t['chance'] < 1, key
    assert index['images'] == sum(len(scenes(bench, s)) for s in benchmarks.SUITES)


def test_v1_csvs_in_the_published_format(bench):
    for name, header in V1.items():
        table = rows(bench / 'v1' / name / f'{name}.csv')
        assert table[0] == header
        if SAMPLES.exists():
            assert rows(SAMPLES / 'v1' / f'{name}.csv')[0] == header
        for r in table[1:]:
            d = dict(zip(header, r))
            tagged = {'positive': 'positive_images', 'negative': 'negative_images'}
            folder = tagged.get(d.get('image_tag'), 'images')
            assert (bench / 'v1' / name / folder / d['image']).is_file(), r
    ls = [dict(zip(V1['labeled_s'], r)) for r in rows(bench / 'v1' / 'labeled_s' / 'labeled_s.csv')[1:]]
    trials = [ls[i:i + 4] for i in range(0, len(ls), 4)]
    assert len({t[0]['target_category'] for t in trials}) == 22
    shown = scenes(bench, 'v1/labeled_s')
    for t in trials:  # target first; foils of three other categories, whose pictures never show the word
        assert t[0]['real_category'] == t[0]['target_category'] and len({r['real_category'] for r in t}) == 4
        assert t[0]['image'].startswith(t[0]['target_category'] + '/')
        assert all(re.fullmatch(r'\w+/img_\d+\.jpeg', r['image']) for r in t)
        target = t[0]['target_category']
        assert all(target not in benchmarks.S.depicts(shown['images/' + r['image']]) for r in t[1:])
    as_target = Counter(t[0]['real_category'] for t in trials)
    as_foil = Counter(r['real_category'] for t in trials for r in t[1:])
    # balanced: no picture prior wins
    assert set(as_target.values()) == {1}
    assert set(as_foil.values()) == {3}
    vt = rows(bench / 'v1' / 'vtwt' / 'vtwt.csv')[1:]
    assert Counter(r[1] for r in vt) == Counter(r[2] for r in vt)  # each phrase once positive, once negative
    wino = rows(bench / 'v1' / 'baby_winoground' / 'baby_winoground.csv')[1:]
    assert [r[4] for r in wino] == ['positive', 'negative'] * (len(wino) // 2)
    assert all(r[3].endswith('_neg.jpeg') == (r[4] == 'negative') for r in wino)
    cap = rows(bench / 'v1' / 'SAYCam_caption' / 'SAYCam_caption.csv')[1:]
    assert all(re.fullmatch(r"[a-z' ,.!?]+ [.!?]", r[1]) for r in cap), cap


def test_winoground_pictures_fit_their_phrases(bench):
    shown = scenes(bench, 'v1/baby_winoground')
    table = rows(bench / 'v1' / 'baby_winoground' / 'baby_winoground.csv')[1:]
    for pos, neg in zip(table[::2], table[1::2]):
        words = pos[1].split()
        if len(words) == 2 and words[0] in world.COLORS:  # a colour swap: "red ball" is in one picture only
            pictures = [shown[f'positive_images/{pos[3]}'], shown[f'negative_images/{neg[3]}']]
            phrases = (pos[1].split(), pos[2].split())
            has = [any((o['color'], o['category']) == tuple(ws) for o in s['objects'])
                   for s in pictures for ws in phrases]
            assert has == [True, False, False, True], pos


def prompt_template(task):
    """The sample's prompt as a regex: its noun any word, its run of <image> tokens any length."""
    src, i, noun = DEVCV[task]
    sample = load(SAMPLES / 'devcv' / src / task / 'data.json')[i]['conversations'][0]['value']
    pattern = re.escape(sample)
    if noun:
        pattern = pattern.replace(re.escape(noun), r"[a-z]+")
    return re.sub(r'^(<image>)+', '(<image>)+', pattern)


@pytest.mark.parametrize('task', sorted(DEVCV) + ['subitize'])
def test_devcv_records_in_the_toolbox_format(bench, task):
    recs = load(bench / 'devcv' / task / 'data.json')
    assert recs and len({r['id'] for r in recs}) == len(recs)
    for r in recs:
        allowed = {'id', 'image', 'conversations', 'bb', 'notes', 'labels'}
        assert {'id', 'image', 'conversations'} <= set(r) <= allowed
        human = [c['value'] for c in r['conversations'][::2]]
        gold = [c['value'] for c in r['conversations'][1::2]]
        assert [c['from'] for c in r['conversations']] == ['human', 'gpt'] * len(human)
        assert sum(h.count('<image>') for h in human) == len(r['image'])
        assert all(p.startswith('images/') and (bench / 'devcv' / task / p).is_file() for p in r['image'])
        for h, g in zip(human, gold):
            if SAMPLES.exists() and task != 'memory':
                assert re.fullmatch(prompt_template(SUBITIZE_AS if task == 'subitize' else task), h), h
            if task.startswith('vdr'):
                assert g in EXITS, (h, g)
            elif task in ('count', 'subitize'):
                assert g.isdigit(), (h, g)
            else:
                letters = 'ABCD'[:max(h.count('('), 1)]  # as many as the prompt offers
                assert g in letters, (h, g)
    if task == 'memory':
        for r in recs:
            assert len(r['image']) == 29 and len(r['conversations']) == 30 and len(r['labels']) == 15
            if SAMPLES.exists():
                sample = load(SAMPLES / 'devcv' / 'saycam' / 'memory' / 'data.json')[0]['conversations']
                assert [c['value'] for c in r['conversations'][:4:2]] == [c['value'] for c in sample[:4:2]]
            seen = set()
            for labels, g in zip(r['labels'], r['conversations'][1::2]):
                new = labels['AB'.index(g['value'])]
                assert new not in seen and all(x in seen for x in labels if x != new)
                seen |= set(labels)
    if task == 'localize':  # the box lies in the answered quadrant and is the named thing's
        shown = scenes(bench, 'devcv/localize')
        for r in recs:
            x, y, w, h = r['bb']
            q = 'AB'[x + w / 2 >= 160] if y + h / 2 < 120 else 'CD'[x + w / 2 >= 160]
            assert q == r['conversations'][1]['value']
            s = shown[r['image'][0]]
            word = re.search(r'Point at the (\w+)\.', r['conversations'][0]['value']).group(1)
            (o,) = [o for o in s['objects'] if o['category'] == word]
            box = [round(v, 1) for v in world.object_box(o, s['camera'])]
            assert box == [x, y, round(x + w, 1), round(y + h, 1)]


def asked(rec):
    prompt = rec['conversations'][0]['value']
    m = re.search(r'How many (\w+) do|has more (\w+)\?|does the (\w+) leave', prompt)
    word = next(g for g in m.groups() if g)
    return next(c for c in world.CATEGORIES if benchmarks.speech.plural(c) == word or c == word)


def test_counts_and_exits_are_what_was_drawn(bench):
    for task in ('count', 'subitize', 'compare_synthetic', 'compare_real', 'vdr-binary', 'vdr-open'):
        shown = scenes(bench, f'devcv/{task}')
        for r in load(bench / 'devcv' / task / 'data.json'):
            cat, gold = asked(r), r['conversations'][1]['value']
            n = [sum(o['category'] == cat for o in shown[p]['objects']) for p in r['image']]
            if task in ('count', 'subitize'):
                assert n == [int(gold)]
            elif task.startswith('compare'):
                assert n[0] != n[1] and gold == 'AB'[n[1] > n[0]]
                if 'notes' in r:
                    assert r['notes'] == f'first should have {n[0]} second should have {n[1]}'
            else:  # in the last frame the thing is wholly outside the view, beyond the answered side(s)
                s = shown[r['image'][-1]]
                (o,) = [o for o in s['objects'] if o['category'] == cat and not o['id'].endswith('x')]
                x0, y0, x1, y1 = world.object_box(o, s['camera'])
                beyond = {'left': x1 <= 0, 'right': x0 >= 320, 'top': y1 <= 0, 'bottom': y0 >= 240}
                assert any(beyond[side] for side in gold.split()) and not any(
                    v for k, v in beyond.items() if k not in gold.split()), (r['id'], gold, (x0, y0, x1, y1))


def test_picture_vocabulary_and_gaze_truth(bench):
    shown = scenes(bench, 'devcv/picture_vocabulary')
    for r in load(bench / 'devcv' / 'picture_vocabulary' / 'data.json'):
        word = re.search(r"image of '(\w+)'", r['conversations'][0]['value']).group(1)
        has = [word in benchmarks.S.depicts(shown[p]) for p in r['image']]
        assert has.index(True) == 'ABCD'.index(r['conversations'][1]['value']) and sum(has) == 1
    shown = scenes(bench, 'gaze')
    for r in load(bench / 'gaze' / 'data.json'):
        s = shown[r['image'][0]]
        target = r['options']['ABCD'.index(r['conversations'][1]['value'])].split()[-1]
        (o,) = [o for o in s['objects'] if o['category'] == target]
        assert s['face']['gaze'] == world.centre(o) and len(r['options']) == r['k']


def test_no_fixed_preference_for_a_kind_or_a_place_answers_gaze(bench):
    """Gaze items come in blocks of k scenes of the same k kinds, each kind looked at once and each place
    answered once: any fixed ranking of kinds, or of places, is right on exactly one scene of a block."""
    records = load(bench / 'gaze' / 'data.json')
    at, blocks = 0, 0
    while at < len(records):
        k = records[at]['k']
        block = records[at:at + k]
        at += k
        if len(block) < k:  # the suite's size cut the last block short
            break
        kinds = [sorted(r['options']) for r in block]
        answers = ['ABCD'.index(r['conversations'][1]['value']) for r in block]
        looked_at = [r['options'][a] for r, a in zip(block, answers)]
        assert all(x == kinds[0] for x in kinds) and sorted(looked_at) == kinds[0]
        assert sorted(answers) == list(range(k))
        blocks += 1
    assert blocks >= 1


def test_voe_clips_break_what_their_concept_says(bench):
    shown = scenes(bench, 'voe')
    recs = {c: load(bench / 'voe' / f'voe_{c}.json') for c in benchmarks.VOE_CONCEPTS}
    assert {c: len(r) for c, r in recs.items()} == {c: 2 for c in benchmarks.VOE_CONCEPTS}  # a quadruplet
    for r in (r for rs in recs.values() for r in rs):
        pos, imp, d = r['possible'], r['impossible'], r['diverge_at']
        assert len(pos) == len(imp) >= 8 and pos[:d] == imp[:d] and pos[d] != imp[d] and r['fps'] == 5
        assert all((bench / 'voe' / p).is_file() for p in pos + imp)

    def seen(clip, t=-1):  # how much of the pushed thing frame t shows (a screen is not the thing)
        visible = world.visibility(shown[clip[t]])
        return max([v for o in shown[clip[t]]['objects'] if o['category'] != 'screen'
                    for k, v in visible.items() if k == o['id']] or [0])
    first, second = recs['permanence']
    clips = (first['possible'], first['impossible'], second['possible'], second['impossible'])
    # the screen lifts on it; on nothing; on nothing again; on a thing come from nowhere
    assert [seen(clip) > 0.9 for clip in clips] == [True, False, False, True]
    hidden = [t for t in range(len(first['possible'])) if seen(first['possible'], t) == 0]
    assert 5 <= len(hidden) <= 17  # 1-3 s at 5 fps, and the frames the screen takes to lift

    def colors(r, frame):  # the colours of record r's thing in a frame
        return [o['color'] for o in shown[frame]['objects'] if o['category'] == r['object']]
    for r in recs['color']:
        before, after = colors(r, r['impossible'][0]), colors(r, r['impossible'][-1])
        assert before != after and before == colors(r, r['possible'][-1])
    def in_gap(clip):  # the frames that show the thing wholly between the two screens
        out = []
        for t, frame in enumerate(clip):
            s = shown[frame]
            boxes = {k: sorted(world.object_box(o, s['camera']) for o in s['objects']
                               if (o['category'] == 'screen') == k) for k in (True, False)}
            screens = boxes.pop(True)
            out += [t for b in boxes[False] if screens[0][2] <= b[0] and b[2] <= screens[1][0]]
        return out
    crossing, stay = recs['continuity']  # crosses the gap / stays behind the first screen
    assert crossing['impossible'] == stay['impossible']  # comes out of the second without crossing
    assert in_gap(crossing['possible'])
    assert not in_gap(crossing['impossible']) and not in_gap(stay['possible'])


def test_machine_devbench_manifests(bench, tiny_raw):
    root = bench / 'machine_devbench'
    manifests = sorted(root.rglob('manifest_*_cartoon.json'))
    assert len(manifests) == 9
    words = Counter(w for p in (tiny_raw / 'truth').glob('*.json') for u in load(p)['utterances']
                    for w, _, _ in u['words'])
    for path in manifests:
        m = load(path)
        kind = 'grammatical' if 'Grammatical' in str(path) else 'lexical'
        keys = {'grammatical': {'seq', 'caption_a', 'caption_b', 'word', 'image_0', 'image_1', 'freq_bin'},
                'lexical': {'word', 'category', 'caption_positive', 'caption_negative', 'negative_word',
                            'image_positive', 'image_negative', 'frequency_bin', 'frequency_count',
                            'frequency_quantile'}}[kind]
        adjectives = {'category', 'negative_word'} if 'Adjectives' in str(path) else set()
        keys -= adjectives
        if SAMPLES.exists():
            example = load(SAMPLES / 'egobabyvlm' / f'machine_devbench_{kind}_manifest.schema_example.json')
            assert set(m) == set(example) - {'_note'} - ({'category'} if kind == 'lexical' else set())
            assert set(m['metadata']) <= set(example['metadata']) | {'num_categories', 'items_per_category'}
            assert keys == set(example['items'][0]) - adjectives
        assert m['style'] == 'cartoon' and m['metadata']['num_items'] == len(m['items'])
        for it in m['items']:
            assert set(it) == keys
            assert all((path.parent / it[k]).is_file() for k in it if k.startswith('image'))
            if kind == 'lexical':
                # a noun (an item with a category) counts with its plural
                plural = words[benchmarks.speech.plural(it['word'])] if 'category' in it else 0
                assert it['frequency_count'] == words[it['word']] + plural
                assert it['frequency_bin'] == benchmarks.freq(dict(counts=words), it['word'])[1]
    # every pair of pictures asked both ways: a picture bias scores exactly 50%
    for kind in ('Nouns', 'Adjectives'):
        items = load(root / 'Lexical' / kind / f'manifest_{kind.lower()}_cartoon.json')['items']
        pairs = Counter((it['image_positive'], it['image_negative']) for it in items)
        assert pairs == Counter({(b, a): n for (a, b), n in pairs.items()})


def test_devbench_manifests(bench):
    for task, header in DEVBENCH.items():
        raw = (bench / 'devbench' / task / 'manifest.csv').read_bytes()
        assert raw.count(b'\r\n') == raw.count(b'\n')
        assert raw.startswith(b'\xef\xbb\xbf') == (task == 'gram-winoground')
        table = rows(bench / 'devbench' / task / 'manifest.csv', encoding='utf-8-sig')
        assert table[0] == header
        if SAMPLES.exists():
            assert rows(SAMPLES / 'devbench' / task / 'manifest.csv', encoding='utf-8-sig')[0] == header
        shown = scenes(bench, f'devbench/{task}')
        for r in table[1:]:
            d = dict(zip(header, r))
            assert all((bench / 'devbench' / task / d[k]).is_file() for k in d if k.startswith('image'))
            if task.startswith('lex'):  # image1, the target, shows the word; the others do not
                pictures = [shown[d[k]] for k in header if k.startswith('image')]
                shows = [d['text1'] in benchmarks.S.depicts(s) for s in pictures]
                assert shows == [True] + [False] * (len(header) - 2)


def test_heldout_combinations_only_where_intended(bench, tiny_raw):
    held = load(tiny_raw / 'heldout.json')
    colour = {tuple(p) for p in held['color_object']}
    phrases = [f'{f} {benchmarks.speech.RELATIONS[r]} {m}' for f, r, m in held['relation']]
    phrases += [f'{f} is {benchmarks.speech.RELATIONS[r]} the {m}' for f, r, m in held['relation']]
    phrases += [f'{v} {o}' for v, o in held['verb_object']]
    phrases += [f'{o} fell' for v, o in held['verb_object'] if v == 'fall']  # vtwt's form of a held-out fall
    found = Counter()
    for suite in benchmarks.SUITES:
        drawn = {(o['color'], o['category']) for s in scenes(bench, suite).values() for o in s['objects']}
        text = ' '.join(p.read_text(encoding='utf-8-sig') for p in (bench / suite).rglob('*') if p.suffix in (
            '.csv', '.json') and p.name != 'truth.json')
        found[suite] = len(drawn & colour) + sum(p in text for p in phrases)
        if suite not in benchmarks.HELDOUT_SUITES:
            assert not drawn & colour and not [p for p in phrases if p in text], suite
    assert all(found[s] for s in benchmarks.HELDOUT_SUITES), found


def test_own_formats_parse(bench):
    ja = load(bench / 'joint_attention' / 'data.json')
    for r in ja:
        assert len(r['image']) == 4 and r['word'] in r['words'] and len(set(r['words'])) == 2
        assert all(w in r['conversations'][0]['value'] for w in r['words'])
        assert r['conversations'][1]['value'] in 'AB'
        assert all((bench / 'joint_attention' / p).is_file() for p in r['image'])
    pr = load(bench / 'probes' / 'data.json')
    assert pr['labels'] == list(benchmarks.LABELED_S)
    split = Counter((it['label'], it['split']) for it in pr['items'])
    assert set(split.values()) == {1, 2}
    assert all((bench / 'probes' / it['image']).is_file() for it in pr['items'])


def test_joint_attention_turns_on_the_word(bench):
    """The speaker looks at each thing in one of the two teaching scenes, so the gaze of the scene where the
    asked word was said gives the answer and the other scene's gives the foil: a reader that ignores the word
    is at chance. The loader follows the asked word's scene."""
    from kinds import choice
    folder = bench / 'joint_attention'
    truth = load(folder / 'truth.json')
    looked_at = {it['id']: it['looked_at'] for it in truth['items']}
    task = choice.load_devcv(str(folder / 'data.json'), choice.joint_options)
    combos = Counter()
    for r, item in zip(load(folder / 'data.json'), task['items']):
        asked = r['words'].index(r['word'])
        sides = []
        for picture in r['image'][:2]:
            s = truth['scenes'][picture]
            sides.append('left' if s['face']['gaze'][0] - s['camera'][0] < 160 else 'right')
        assert sides[asked] == looked_at[r['id']] and sides[1 - asked] != sides[asked]
        assert item['options'][0].image[0].endswith(r['image'][asked])
        combos[asked, item['gold']] += 1
    assert len(combos) == 4 and max(combos.values()) - min(combos.values()) <= 1

def test_winoground_scores_held_out_and_seen_items_apart(bench):
    """The nursery's Baby Winoground marks each instance held out or seen (truth.json); its score reports
    the text and group scores of each apart, over as many items as truth.json marks."""
    from kinds import winoground
    folder = bench / 'v1' / 'baby_winoground'
    truth = {str(it['instance']): bool(it['heldout']) for it in load(folder / 'truth.json')['items']}
    task = dict(winoground.load_v1(str(folder / 'baby_winoground.csv')), file='baby_winoground.csv')
    assert {it['id']: it['heldout'] for it in task['items']} == truth
    passed, failed = [1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]  # picture x text scores
    right = {it['id']: passed if it['heldout'] else failed for it in task['items']}
    metrics = winoground.score(task, right)['metrics']
    assert metrics['n_heldout'] == sum(truth.values())
    assert metrics.get('n_seen', 0) == len(truth) - sum(truth.values())
    assert metrics['group_score_heldout'] == 1.0 and metrics.get('group_score_seen', 0.0) == 0.0

# the suites the skill-free baselines passed before they were re-posed, and the rest of the nursery's own
AT_CHANCE = ('devcv/leftright', 'devcv/spatialdetails', 'devcv/vdr-binary', 'devcv/vdr-open',
             'devcv/compare_synthetic', 'devcv/compare_real', 'devcv/count', 'devcv/subitize', 'devcv/memory',
             'voe', 'gaze', 'joint_attention')


def test_skill_free_baselines_sit_at_chance(tiny_raw, tmp_path):
    """Rendered at --size=small (another seed than the default's), the best skill-free baseline of each of
    these suites scores within 2.58 standard errors of chance for its n items (a 99% binomial band: no
    pixel, area, motion or prior rule passes them); for memory's adjusted score, chance is inside the
    best baseline's bootstrap interval. ~40 s."""
    import evaluate
    from configurator import configure
    benchmarks.main(['--size=small', f'--out={tmp_path / "bench"}', f'--raw={tiny_raw}', '--seed=2',
                     '--only=' + ','.join(AT_CHANCE)])
    cfg = configure(dict(vars(evaluate)), ['--baselines_only=True', f'--bench_dir={tmp_path / "bench"}',
                                           f'--out_dir={tmp_path / "eval"}'], quiet=True)
    (run,) = evaluate.main(cfg)
    assert len(run['tasks']) == 15  # 12 suites: VoE is one task a concept, memory's rounds one task
    for key, task in run['tasks'].items():
        chance, n = task['chance'], task['n']
        name, best = max(task['baselines'].items(), key=lambda kv: kv[1]['score'])
        if key == 'baby_memory':
            assert best['interval'][0] <= chance <= best['interval'][1], (key, name, best)
            continue
        band = 2.58 * math.sqrt(chance * (1 - chance) / n)
        assert abs(best['score'] - chance) <= band, (key, name, round(best['score'], 3), chance, n)


def test_things_are_drawn_at_the_recordings_scale(default_truths, tiny_raw, tmp_path):
    """Per kind, the median height of the things in every suite's pictures (--size=small) is within 25% of
    their median height in the default recordings' training views (at least half in view)."""
    import exposure
    train = exposure.training_split(default_truths)
    seen = {}
    for t in default_truths:
        if t['recording'] in train:
            for s in t['seconds']:
                for o in s['scene']['objects']:
                    if s['visible'].get(o['id'], 0) >= 0.5:
                        seen.setdefault(o['category'], []).append(world.object_height(o))
    benchmarks.main(['--size=small', f'--out={tmp_path}', f'--raw={tiny_raw}', '--seed=1'])
    drawn = {}
    for truth in tmp_path.glob('**/truth.json'):
        for s in load(truth)['scenes'].values():
            for o in s['objects']:
                drawn.setdefault(o['category'], []).append(world.object_height(o))
    ratios = {c: float(np.median(drawn[c]) / np.median(seen[c])) for c in drawn if c in seen}
    assert set(ratios) == set(exposure.OBJECTS)
    assert all(0.75 <= r <= 1.25 for r in ratios.values()), {c: round(r, 2) for c, r in ratios.items()}
