"""evaluate.py and scoring.py: known-answer metrics, the loaders on the real sample files, bad input, and models."""
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import evaluate
import scoring as S

ROOT = Path(__file__).resolve().parents[1]
FORMATS = Path(__file__).resolve().parents[2] / 'shared' / 'formats'
needs_formats = pytest.mark.skipif(not FORMATS.is_dir(), reason=f"no sample files at {FORMATS}")

@pytest.fixture
def one_thread():
    """Two cores shared with other work: OpenMP's spinning threads make small batches 50x slower when oversubscribed."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

# ----------------------------------------------------------------------------- known answers, computed by hand

def test_wilson_interval():
    # p = 0.5, n = 100: centre (0.5 + z^2/200) / (1 + z^2/100) = 0.5; half 1.96 sqrt(0.0025 + z^2/40000) / 1.038416
    lo, hi = S.wilson(0.5, 100)
    assert lo == pytest.approx(0.403832, abs=1e-5) and hi == pytest.approx(0.596168, abs=1e-5)
    # 0 of 10: the upper edge is z^2/10 / (1 + z^2/10) = 0.384160 / 1.384160 = 0.277540
    assert S.wilson(0.0, 10) == pytest.approx([0.0, 0.277540], abs=1e-5)
    assert S.wilson(0.3, 0) is None

def test_choice_credit_and_ties():
    assert S.credit([0.1, 0.9, 0.3], 1) == 1.0
    assert S.credit([0.1, 0.9, 0.3], 0) == 0.0
    assert S.credit([2, 2, 1, 0], 0) == 0.5           # a tie of two: the expectation of a coin flip
    assert S.credit([1, 1, 1, 1], 3) == 0.25          # a blind control sits at chance
    assert S.credit([np.nan] * 3, 0) == 0.0           # an unparsed answer
    assert S.credit([0, 1, 0], 0, near=[1]) == 1.0    # adjacent counts when asked

def test_winoground_scores():
    s = np.array([[[3, 1], [2, 4]],     # everything right
                  [[3, 1], [4, 2]],     # image 1 prefers the wrong text; text 0 prefers the wrong image
                  [[2, 2], [1, 3]]],    # a tie in image 0's texts: the text score fails, the image score holds
                 dtype=float)
    w = {k: v.tolist() for k, v in S.winoground(s).items()}
    assert w['text_score'] == [True, False, False]
    assert w['image_score'] == [True, False, True]
    assert w['group_score'] == [True, False, False]
    assert w['positive_context'] == [True, False, False]   # s00 > s01 and s00 > s10
    assert w['negative_context'] == [True, False, True]    # s11 > s10 and s11 > s01

def memory_task(labels, answers):
    """A memory record as the DevCV toolbox writes it (the new thing at the gold letter)."""
    conv = []
    for r, a in enumerate(answers):
        conv += [{'from': 'human', 'value': 'Touch the new image. (A) <image>' if r == 0 else
                  "Let's try more. Touch the new image. (A) <image> (B) <image>"}, {'from': 'gpt', 'value': a}]
    return dict(id='m', labels=labels, conversations=conv,
                image=[f'images/m_{k}.jpg' for k in range(sum(len(l) for l in labels))])

def test_memory_adjusted_score(tmp_path):
    base = list('abcde')
    labels = [['a']] + [[base[k - 1], base[k]] for k in range(1, 5)]
    olds = list('abcdeedcba')
    labels += [[o, f'new{j}'] for j, o in enumerate(olds)]          # [old, new]: the answer is B
    answers = ['A'] + ['B'] * 14
    d = tmp_path / 'memory'
    d.mkdir()
    (d / 'data.json').write_text(json.dumps([memory_task(labels, answers)]))
    task = S.load_task(S.load_devcv, str(d / 'data.json'), 'baby_memory')
    rounds = task['items'][0]['rounds']
    assert len(rounds) == 15 and [x['old'] for x in rounds[5:]] == olds
    # learning: round 3 wrong; test (olds a b c d e e d c b a): b's first and both of d's wrong
    picks = ['A', 'B', 'B', 'A', 'B'] + ['B', 'A', 'B', 'A', 'B', 'B', 'A', 'B', 'B', 'B']
    res = {f'0/{r}': {'answer': p} for r, p in enumerate(picks)}
    m = S.summarize(task, res)['metrics']
    assert (len(rounds) + 1) // 3 == 5
    assert m['acc_learning'] == pytest.approx(4 / 5)
    # test rounds right: a, c, e, e, c, b, a = 7 of 10 (b's first, d twice wrong)
    assert m['acc_testing_raw'] == pytest.approx(7 / 10)
    # old items right in both appearances: a, c, e -> 3 of base 5
    assert m['acc_testing_adjusted'] == pytest.approx(3 / 5)
    assert S.memory_scores([dict(old=r % 10) for r in range(30)], [1.0] * 30)[2:] == (10, 10)   # NIH: 30 rounds, base 10

def test_vdr_exact_and_adjacent(tmp_path):
    ring = "'top', 'bottom', 'left', 'right', 'top right', 'top left', 'bottom right', or 'bottom left'"
    recs = [dict(id=str(i), image=['images/f0.jpg', 'images/f1.jpg'], conversations=[
        {'from': 'human', 'value': f"<image><image> which part of the frame does the ball leave from? respond ONLY "
                                   f"with one of: {ring}."}, {'from': 'gpt', 'value': 'top'}]) for i in range(4)]
    (tmp_path / 'vdr-open').mkdir()
    (tmp_path / 'vdr-open' / 'data.json').write_text(json.dumps(recs))
    task = S.load_task(S.load_devcv, str(tmp_path / 'vdr-open' / 'data.json'), 'baby_vdr_open')
    assert task['items'][0]['names'][:2] == ['top', 'bottom'] and task['items'][0]['gold'] == 0
    answers = ['top', 'it goes out at the top right', 'bottom', 'the top left corner']
    m = S.summarize(task, {str(i): {'answer': a} for i, a in enumerate(answers)})
    assert m['score'] == 0.25 and m['metrics']['acc_adjacent'] == 0.75     # exact; exact or a neighbour
    assert m['chance'] == 0.125 and m['metrics']['chance_adjacent'] == 0.375
    names = task['items'][0]['names']
    scores = {str(i): np.eye(8)[names.index(d)] for i, d in enumerate(['top left', 'right', 'bottom left', 'top'])}
    m = S.summarize(task, scores)
    assert m['score'] == 0.25 and m['metrics']['acc_adjacent'] == 0.5

def test_machine_devbench_bins(tmp_path):
    assert S.merged_bin('[1,2)') == S.merged_bin('[2, 4)') == '[1,4)' and S.merged_bin('[4,8)') == '[4,8)'
    bins = ['[1,2)', '[2,4)', '[2,4)', '[4,8)', '[4,8)', '[0,1)']
    ok = [True, False, False, True, True, False]
    # bins [1,4): 1 of 3; [4,8): 2 of 2; [0,1): 0 of 1 -> mean of bins (1/3 + 1 + 0) / 3
    items = [dict(word='w', caption_positive='a w', image_positive=f'p{i}.jpg', image_negative=f'n{i}.jpg',
                  frequency_bin=b) for i, b in enumerate(bins)]
    path = tmp_path / 'Lexical' / 'Nouns' / 'manifest_nouns_cartoon.json'
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(dict(style='cartoon', items=items)))
    task = S.load_task(S.load_mdb, str(path), path.name)
    m = S.summarize(task, {str(i): [1.0, 0.0] if o else [0.0, 1.0] for i, o in enumerate(ok)})
    assert task['kind'] == 'lexical' and m['score'] == pytest.approx((1 / 3 + 1 + 0) / 3)
    assert m['metrics']['acc_items'] == pytest.approx(3 / 6)
    tasks_ = {'md_nouns': dict(m, kind='lexical'), 'md_a': dict(score=0.6, kind='grammatical'),
              'md_b': dict(score=0.8, kind='grammatical')}
    summary = S.mdb_summary(tasks_)
    assert summary['grammatical'] == pytest.approx(0.7)
    assert summary['overall'] == pytest.approx((m['score'] + 0.7) / 2)

def test_answer_parsing():
    assert S.parse_letter('The answer is (B).') == 'B'
    assert S.parse_letter('I think C') == 'C'
    assert S.parse_letter('Bob and Dad') is None                   # letters inside words do not count
    assert S.parse_letter('C, no, B', 'AB') == 'B'                  # only the options' letters
    assert S.parse_number('I see 3 balls') == 3
    assert S.parse_number('Three balls, or 4') == 3                 # the first number, digits or words
    assert S.parse_number('there are ten') == 10 and S.parse_number('12 cats') == 12
    assert S.parse_number('someone') is None and S.parse_number('none') is None
    assert S.parse_direction('it leaves through the top left corner') == 'top left'
    assert S.parse_direction('left, then top') == 'left'
    assert S.parse_direction('Bottom Right.') == 'bottom right'
    assert S.parse_direction('upward') is None
    assert S.parse_direction('right or left', ['left', 'right']) == 'right'

def test_meteor_worked_example():
    # ref "look at the red ball", hyp "the red ball look": 4 matches, P = 4/4, R = 4/5
    # Fmean = P R / (0.9 P + 0.1 R) = 0.8 / 0.98 = 0.816327; chunks: "the red ball" + "look" = 2
    # penalty = 0.5 (2/4)^3 = 0.0625; METEOR = 0.816327 x 0.9375 = 0.765306
    hyp, ref = 'the red ball look'.split(), 'look at the red ball'.split()
    assert S.meteor(hyp, ref) == pytest.approx(0.8 / 0.98 * (1 - 0.5 * 0.5 ** 3), abs=1e-9)
    assert S.meteor(hyp, ref) == pytest.approx(0.765306, abs=1e-6)
    assert S.meteor('a b c d e'.split(), 'a b c d e'.split()) == pytest.approx(1 - 0.5 * 0.2 ** 3)  # one chunk
    assert S.meteor(['dog'], ['cat']) == 0.0
    assert S.tokenize_caption("There's the ball! Don't") == ['there', "'s", 'the', 'ball', '!', 'do', "n't"]

def test_auroc_kl_and_bootstrap():
    assert S.auroc([3, 2], [1, 2]) == pytest.approx(3.5 / 4)        # ties count half
    kl, beta = S.fit_kl(np.array([[0.8, 0.2]]), np.array([[1.0, 0.0]]))
    assert beta == pytest.approx(math.log(4), rel=0.01) and kl < 1e-4   # softmax(beta, 0) = (0.8, 0.2) at beta = ln 4
    kl, beta = S.fit_kl(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]]))
    p = math.exp(0.025) / (math.exp(0.025) + 1)
    assert beta == pytest.approx(0.025) and kl == pytest.approx(0.5 * math.log(0.5 / p) + 0.5 * math.log(0.5 / (1 - p)))
    x = np.random.default_rng(0).random(50) > 0.5
    a, b = S.boot(lambda i: x[i].mean(), 50, 200, 1), S.boot(lambda i: x[i].mean(), 50, 200, 1)
    assert a == b and a[0] < x.mean() < a[1]

def test_number_phrases_and_regions():
    assert [S.number_phrase(n, 'balls') for n in (0, 1, 2)] == ['zero balls', 'one ball', 'two balls']
    assert S.number_phrase(3, 'bottle') == 'three bottles'
    assert S.region('left', False) == (0, 0, .5, 1) and S.region('top right', False) == (.5, 0, 1, .5)
    assert S.region('bottom', True) == pytest.approx((1 / 3, 2 / 3, 2 / 3, 1))

# ----------------------------------------------------------------------------- the loaders on the real sample files

def placeholders(root):
    """Write a small picture wherever a found benchmark points (each a different colour: distinct files)."""
    for key, (loader, path, lkey) in S.discover(str(root)).items():
        task = S.load_task(loader, path, lkey)
        for it in task['items']:
            for p, _ in S.item_images(task, it):
                os.makedirs(os.path.dirname(p), exist_ok=True)
                if not os.path.exists(p):
                    c = [hash(p) % 256, hash(p) // 256 % 256, 90]
                    Image.new('RGB', (32, 24), tuple(c)).save(p, format='PNG' if p.lower().endswith('.png') else 'JPEG')

@needs_formats
def test_loaders_read_the_published_samples(tmp_path):
    root = tmp_path / 'formats'
    shutil.copytree(FORMATS, root)
    placeholders(root)
    found = S.discover(str(root))
    tasks_ = {k: S.load_task(*v) for k, v in found.items()}
    for t in tasks_.values():
        S.check_images(t)
    assert {'labeled_s', 'vtwt', 'baby_winoground', 'saycam_caption', 'baby_pv', 'baby_localize', 'baby_leftright',
            'baby_spatialdetails', 'baby_vdr_binary', 'baby_vdr_open', 'baby_compare_synthetic', 'baby_compare_real',
            'baby_count', 'baby_subitize', 'baby_memory', 'devbench_gram-trog', 'devbench_gram-winoground',
            'devbench_lex-lwl', 'devbench_lex-viz_vocab'} <= set(tasks_)
    ls = tasks_['labeled_s']['items']
    assert len(ls) == 6 and ls[0]['options'][0][2] == 'ball' and ls[0]['gold'] == 0
    assert ls[0]['options'][1][1][0].endswith(os.path.join('v1', 'images', 'basket', 'img_50191.jpeg'))
    wino = tasks_['baby_winoground']['items'][0]
    assert wino['texts'] == ['see person', 'touch pillow'] and 'negative_images' in wino['images'][1][0]
    assert len(tasks_['vtwt']['items']) == 24 and len(tasks_['saycam_caption']['items']) == 24
    by_dir = {os.path.relpath(t['file'], root): t for t in tasks_.values()}
    loc = by_dir[os.path.join('devcv', 'saycam', 'localize', 'data.json')]['items'][0]
    assert loc['box'] == [158.0, 6.0, 355.0, 161.0] and loc['gold'] == 0 and loc['options'][0][2] == 'drain'
    bv = by_dir[os.path.join('devcv', 'babyview', 'localize', 'data.json')]['items'][0]
    assert bv['box'] == [1, 0, 859, 731] and bv['options'][0][2] == 'TV'              # BabyView: x1 y1 x2 y2
    vdr = by_dir[os.path.join('devcv', 'ego4d', 'vdr-binary', 'data.json')]['items'][0]
    assert vdr['names'] == ['top left', 'bottom right'] and vdr['gold'] == 1 and vdr['options'][0][2] == 'phone'
    nih_vdr = by_dir[os.path.join('devcv', 'nih', 'vdr', 'data.json')]['items'][0]
    assert nih_vdr['names'] == ['left', 'right'] and nih_vdr['gold'] == 1 and len(nih_vdr['options'][0][1]) == 50
    nih_pv = by_dir[os.path.join('devcv', 'nih', 'picture_vocab', 'data.json')]['items'][0]
    assert [op[1][1] for op in nih_pv['options']] == list(S.QUADRANTS) and nih_pv['options'][0][2] == 'egress'
    count = by_dir[os.path.join('devcv', 'ego4d', 'count', 'data.json')]['items'][0]
    assert count['value'] == 4 and count['options'][4][2] == 'four bottles'
    big = by_dir[os.path.join('devcv', 'babyview', 'count', 'data.json')]['items'][1]
    assert big['value'] == 10 and big['options'][10][2] == 'ten TVs'
    mem = by_dir[os.path.join('devcv', 'saycam', 'memory', 'data.json')]['items']
    assert len(mem) == 6 and all(len(m['rounds']) == 15 for m in mem)
    r204 = mem[5]['rounds']   # memory_task_204: images first, "(A) the first image", no labels
    assert [len(x['options']) for x in r204] == [1] + [2] * 14 and r204[1]['gold'] == 1
    nih_mem = by_dir[os.path.join('devcv', 'nih', 'memory', 'data.json')]['items'][0]['rounds']
    assert len(nih_mem) == 30 and nih_mem[1]['old'] == 'dog'     # "(A) <image>  (B) <image>": the double space
    other = S.load_devcv(str(root / 'devcv' / 'ego4d' / 'count' / 'data.v53ba931.json'), 'baby_count')
    assert other['items'][0]['options'][9][2] == 'nine bicycles'
    trog = tasks_['devbench_gram-trog']
    assert trog['items'][0]['human']['all'] == pytest.approx([0.96875, 0.0125, 0.008333333333333333, 0.010416666666666666])
    assert len(tasks_['devbench_gram-winoground']['items']) == 10 and tasks_['devbench_gram-winoground']['kind'] == 'winoground'
    viz = tasks_['devbench_lex-viz_vocab']['items'][0]['human']
    assert set(viz) == {'4', '7', '10', '25'} and viz['4'][0] == pytest.approx(0.8461538461538461)
    assert tasks_['devbench_sem-things']['kind'] == 'skip'
    # Machine-DevBench ships no sample: a manifest filled in from the schema, read by the same loader
    for kind, n in (('lexical', 'machine_devbench_lexical'), ('grammatical', 'machine_devbench_grammatical')):
        schema = json.loads((root / 'egobabyvlm' / f'{n}_manifest.schema_example.json').read_text())
        schema.pop('_note')
        schema['items'] = [{k: (v if k.startswith(('image', 'caption')) else '[1,2)') for k, v in it.items()}
                           for it in schema['items']]
        path = tmp_path / 'mdb' / kind / f'manifest_{kind}_x.json'
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(schema))
        t = S.load_task(S.load_mdb, str(path), path.name)
        assert t['kind'] == kind and len(t['items']) == 1

@needs_formats
def test_malformed_files_name_the_file_and_record(tmp_path):
    bad = tmp_path / 'v1' / 'labeled_s.csv'
    bad.parent.mkdir()
    rows = (FORMATS / 'v1' / 'labeled_s.csv').read_text().splitlines()
    rows[5] = rows[5].rsplit(',', 1)[0]                                 # line 6 loses its image
    bad.write_text('\n'.join(rows) + '\n')
    with pytest.raises(S.BenchError, match=r"labeled_s\.csv: line 6: "):
        S.load_task(S.load_v1, str(bad), 'labeled_s')
    recs = json.loads((FORMATS / 'devcv' / 'saycam' / 'count' / 'data.json').read_text())
    recs[3]['conversations'][1]['value'] = 'many'
    (tmp_path / 'count').mkdir()
    (tmp_path / 'count' / 'data.json').write_text(json.dumps(recs))
    with pytest.raises(S.BenchError, match=r"count/data\.json: record 3: gold count 'many'"):
        S.load_task(S.load_devcv, str(tmp_path / 'count' / 'data.json'), 'baby_count')
    (tmp_path / 'leftright').mkdir()
    (tmp_path / 'leftright' / 'data.json').write_text('[{"id": 1,\n "image": [}]')
    with pytest.raises(S.BenchError, match=r"leftright/data\.json: line 2: not valid JSON"):
        S.load_task(S.load_devcv, str(tmp_path / 'leftright' / 'data.json'), 'baby_leftright')
    task = S.load_task(S.load_devcv, str(FORMATS / 'devcv' / 'saycam' / 'leftright' / 'data.json'), 'baby_leftright')
    with pytest.raises(S.BenchError, match=r"leftright/data\.json: record 0: image .*leftright_0000_0\.jpeg is missing"):
        S.check_images(task)

# ----------------------------------------------------------------------------- scores from another codebase

@needs_formats
def test_scores_file(tmp_path, one_thread):
    root = tmp_path / 'bench'
    for part in ('v1', os.path.join('devcv', 'ego4d', 'compare_real'), os.path.join('devcv', 'ego4d', 'count')):
        shutil.copytree(FORMATS / part, root / part)
    (root / 'v1' / 'SAYCam_caption.csv').unlink()
    placeholders(root)
    lines = [dict(task='labeled_s', id=str(t), scores=[0.9, 0.1, 0.2, 0.3] if t < 3 else [0, 1, 0, 0]) for t in range(6)]
    lines += [dict(task='vtwt', id=str(i), scores=[1, 1]) for i in range(24)]                   # ties: half
    gold = [r['conversations'][1]['value'] for r in json.loads((root / 'devcv' / 'ego4d' / 'compare_real' / 'data.json').read_text())]
    lines += [dict(task='baby_compare_real', id=str(i), answer=f"({g})" if i else 'Neither') for i, g in enumerate(gold)]
    lines += [dict(task='baby_count', id=str(i), answer='I count four.' if i == 0 else 'two') for i in range(5)]
    lines += [dict(task='labeled_s', id=str(t), control='text_blind', scores=[1, 1, 1, 1]) for t in range(6)]
    path = tmp_path / 'other.jsonl'
    path.write_text('\n'.join(json.dumps(l) for l in lines) + '\n')
    runs = evaluate.main([f'--scores_file={path}', f'--bench_dir={root}', f'--out_dir={tmp_path / "out"}', '--bootstrap=50'])
    t = runs[0]['tasks']
    assert 'baby_winoground' not in t                                # no lines for it: not scored, counts 0
    assert t['labeled_s']['score'] == 0.5 and t['labeled_s']['readout'] == 'scores_file'
    assert t['labeled_s']['controls'] == {'text_blind': dict(score=0.25, interval=S.wilson(0.25, 6))}
    assert t['vtwt']['score'] == 0.5
    assert t['baby_compare_real']['score'] == pytest.approx(4 / 5)   # one answer has no letter
    assert t['baby_count']['score'] == pytest.approx(2 / 5)          # golds 4, 2, 7, 5, 7
    lb = runs[0]['leaderboard']
    assert lb['results']['baby_count'] == {'acc': pytest.approx(0.4)} and lb['overall'] == pytest.approx((0.4 + 0.8) / 11)
    saved = json.loads((tmp_path / 'out' / 'results.json').read_text())
    assert saved['eval_version'] == evaluate.EVAL_VERSION and saved['runs'][0]['tasks']['vtwt']['n'] == 24
    bad = tmp_path / 'bad.jsonl'
    bad.write_text('{"task": "vtwt", "scores": [1]}\n')
    with pytest.raises(SystemExit, match='bad.jsonl: line 1: not a scores line'):
        evaluate.main([f'--scores_file={bad}', f'--bench_dir={root}', f'--out_dir={tmp_path / "out"}'])

# ----------------------------------------------------------------------------- models

TINY = dict(patch_size=8, vit_layer=1, vit_embd=32, vit_head=2, n_layer=1, n_embd=32, n_head=2, embed_dim=32,
            block_size=16, prefix_tokens=4, clip_len=3, temporal_layer=1)

@pytest.fixture(scope='module')
def tiny_bench(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench')
    subprocess.run([sys.executable, str(ROOT / 'data' / 'nursery' / 'benchmarks.py'), '--size=tiny', f'--out={out}',
                    f'--raw={out / "no_corpus"}'], check=True, capture_output=True, cwd=ROOT, timeout=600)
    return out

def random_checkpoint(tmp_path, step=0):
    """A random-weights model saved the way train.py saves, with a corpus folder holding only its tokenizer."""
    from model import BabyVLM, ModelConfig
    from tokenizer import save_tokenizer, train_bpe
    corpus = tmp_path / 'corpus'
    corpus.mkdir(exist_ok=True)
    ranks = train_bpe(['look at the ball', 'a red cup', 'two balls', 'the dog is on the table'] * 3, 300)
    save_tokenizer(ranks, corpus / 'tokenizer.tiktoken')
    (corpus / 'meta.json').write_text(json.dumps(dict(tokenizer='tokenizer.tiktoken', eot_token=len(ranks),
                                                      args=dict(lowercase=True))))
    args = dict(TINY, image_size=64, vocab_size=64 * math.ceil((len(ranks) + 1) / 64))
    torch.manual_seed(0)
    model = BabyVLM(ModelConfig(**args), verbose=False)
    config = dict(data_dir=str(corpus), contrastive_weight=1.0, caption_weight=1.0, temporal_weight=1.0, order='shuffle')
    path = tmp_path / f'ckpt_{step}.pt'
    torch.save(dict(model=model.state_dict(), model_args=args, config=config, iter_num=step, best_val_loss=0.0,
                    data=dict(data_dir=str(corpus), position=step, order='shuffle', seed=1)), path)
    return path

WORD_TASKS = ('labeled_s', 'vtwt', 'baby_pv', 'baby_localize', 'baby_count', 'gaze', 'devbench_lex-lwl',
              'devbench_lex-viz_vocab', 'devbench_gram-trog', 'md_nouns_cartoon', 'md_adjectives_cartoon')

def test_random_weights_sit_at_chance(tiny_bench, tmp_path, one_thread):
    a, b = random_checkpoint(tmp_path, 0), random_checkpoint(tmp_path, 100)
    runs = evaluate.main([f'--ckpt=[{a},{b}]', f'--bench_dir={tiny_bench}', f'--out_dir={tmp_path / "out"}',
                          '--bootstrap=100', '--dtype=float32'])
    assert [r['step'] for r in runs] == [0, 100] and runs[0]['readout'] == 'similarity'
    tasks_ = runs[0]['tasks']
    assert not runs[0]['errors'] and len(tasks_) >= 30
    for key, t in tasks_.items():
        assert {'n', 'score', 'chance', 'interval', 'readout', 'controls'} <= set(t), key
    for key in WORD_TASKS:   # the tasks only words can solve; image matchers (leftright, probes) are another story
        lo, hi = tasks_[key]['interval']
        assert lo <= tasks_[key]['chance'] <= hi, (key, tasks_[key])
        assert set(tasks_[key]['controls']) == {'text_blind', 'image_blind'}
    assert tasks_['baby_pv']['controls']['image_blind']['score'] == 0.25       # a blank picture: every option ties
    assert tasks_['voe']['readout'] == 'surprise' and 0 <= tasks_['voe']['metrics']['auroc'] <= 1
    assert set(runs[0]['leaderboard']['results']) == set(S.LEADERBOARD)
    report = (tmp_path / 'out' / 'report.md').read_text()
    assert '| labeled_s |' in report and '## Trajectory' in report

def test_brief_training_learns_words(tmp_path, one_thread):
    """300 contrastive steps on a small nursery corpus (12 recordings, 10 minutes, ~300 utterances) already pick the
    named picture of a yoked pair (DevBench looking-while-listening over the words that corpus says, each pair asked
    once for each word) above chance. (The tiny corpus' 20 utterances name too few things, too few times.)"""
    from test_train import TINY as TRAIN_TINY
    raw, data, bench, env = tmp_path / 'raw', tmp_path / 'prepared', tmp_path / 'bench', {**os.environ, 'OMP_NUM_THREADS': '1'}
    for cmd in (['data/nursery/make.py', '--size=small', '--seed=1', f'--out={raw}'],
                ['prepare.py', f'--input_dir={raw}', f'--out_dir={data}'],
                ['train.py', f'--data_dir={data}', f'--out_dir={tmp_path / "run"}', *TRAIN_TINY, '--batch_size=32',
                 '--max_iters=300', '--eval_interval=300', '--log_interval=100', '--warmup_iters=20', '--caption_weight=0',
                 '--temporal_weight=0'],
                ['data/nursery/benchmarks.py', f'--out={bench}', f'--raw={raw}', '--only=devbench/lex-lwl']):
        subprocess.run([sys.executable, *cmd], check=True, capture_output=True, cwd=ROOT, env=env, timeout=600)
    runs = evaluate.main([f'--ckpt={tmp_path / "run" / "ckpt.pt"}', f'--bench_dir={bench}', f'--out_dir={tmp_path / "out"}',
                          '--bootstrap=100', '--dtype=float32'])
    lwl = runs[0]['tasks']['devbench_lex-lwl']
    assert lwl['n'] >= 100 and lwl['interval'][0] > lwl['chance'], lwl
    assert lwl['controls']['text_blind']['score'] == 0.5 and lwl['controls']['image_blind']['score'] == 0.5
