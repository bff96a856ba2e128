"""evaluate.py: scores from another codebase, models at chance and after brief training, settings passed
explicitly, a new kind end to end, and the golden results of a tiny trained checkpoint."""
import json
import math
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch
from PIL import Image

import evaluate
import scoring as S
from configurator import configure
from kinds import KINDS
from test_kinds import FORMATS, needs_formats, placeholders
from test_train import TINY as TRAIN_TINY
from tokenizer import corpus_text_form, normaliser, text_form, tokenizer_record

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / 'golden' / 'tiny_results.json'

def run(*argv):
    """evaluate.main with settings from a command line, as `python evaluate.py ...` resolves them."""
    return evaluate.main(configure(dict(vars(evaluate)), list(argv), quiet=True))

@pytest.fixture
def one_thread():
    """Two cores shared with other work: OpenMP's spinning threads make small batches 50x slower when
    oversubscribed."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)

# ----------------------------------------------------------------------------- the Engine

def test_engine_encodes_each_picture_once_and_answers_as_the_model_does(monkeypatch, one_thread):
    """Every readout, control and task asks through one Engine: a picture goes through the ViT once, and
    what it answers from the cached features is what the model's own readouts answer from the pictures."""
    import numpy as np
    from kinds.readouts import ImageSim, Match
    from model import BabyVLM, ModelConfig, text_batch
    from tokenizer import encoding, train_bpe
    torch.manual_seed(0)
    model = BabyVLM(ModelConfig(image_size=16, patch_size=4, vit_layer=1, vit_embd=32, vit_head=2,
                                vocab_size=320, n_layer=1, n_embd=32, n_head=2, embed_dim=32, clip_len=3,
                                temporal_layer=1), verbose=False).eval()
    enc = encoding(train_bpe(['the ball', 'a red cup'], 256), 'test')
    g = np.random.default_rng(0)
    keys = [(f'p{i}.png', None) for i in range(5)]
    pixels = {k: g.integers(0, 256, (16, 16, 3), dtype=np.uint8) for k in keys}
    encoded, features = [], model.picture_features

    def counted(images):
        encoded.append(len(images))
        return features(images)
    monkeypatch.setattr(model, 'picture_features', counted)
    results = {}
    for readout in ('similarity', 'nll'):
        ctx = evaluate.autocast('cpu', 'float32')
        engine = evaluate.Engine(model, enc, text_form(True), readout, ctx, 3, 5)
        engine.pixels.update(pixels)
        requests = [Match(k, t) for k in keys[:4] for t in ('the ball', 'a red cup')]
        for mode in (evaluate.Mode(), evaluate.Mode('text_blind'), evaluate.Mode('image_blind', (9, 9, 9))):
            results[readout, mode.name] = engine.values(requests, mode)
        cosines = engine.values([ImageSim(keys[0], keys[4])], evaluate.Mode())
        clips = [keys[:3], keys[:2] + keys[4:]]  # two clips that share two frames
        surprise = engine.surprise(clips, evaluate.Mode())
        engine.generate(keys, evaluate.Mode())
        assert sum(encoded) == len(keys) + 1, encoded  # the five pictures and the blank one, each once
        encoded.clear()
    images = torch.from_numpy(np.stack([pixels[k] for k in keys]))
    text, length = text_batch(engine.tokens(['the ball', 'a red cup']), enc.eot_token, 16)
    with torch.no_grad():
        direct = model.similarity(images[:4], text, length).flatten().numpy()
        nll = model.text_nll(images[:4].repeat_interleave(2, 0), text.repeat(4, 1), length.repeat(4)).numpy()
        cosine = float(model.image_embedding(images[[0]]) @ model.image_embedding(images[[4]]).T)
        clip_surprise = model.surprise(images[[0, 1, 4]][None])
    assert np.allclose(results['similarity', 'main'], direct, atol=1e-5)
    assert np.allclose(results['nll', 'main'], -nll, atol=1e-5)
    assert np.allclose(cosines, [cosine], atol=1e-5)
    assert math.isclose(surprise[1], float(torch.nanmean(clip_surprise)), abs_tol=1e-5)

# ----------------------------------------------------------------------------- scores from another codebase

@needs_formats
def test_scores_file(tmp_path, one_thread):
    root = tmp_path / 'bench'
    for part in ('v1', 'devcv/ego4d/compare_real', 'devcv/ego4d/count'):
        shutil.copytree(FORMATS / part, root / part)
    (root / 'v1' / 'SAYCam_caption.csv').unlink()
    placeholders(root)
    lines = [dict(task='labeled_s', id=str(t), scores=[0.9, 0.1, 0.2, 0.3] if t < 3 else [0, 1, 0, 0])
             for t in range(6)]
    lines += [dict(task='vtwt', id=str(i), scores=[1, 1]) for i in range(24)]                   # ties: half
    records = json.loads((root / 'devcv' / 'ego4d' / 'compare_real' / 'data.json').read_text())
    gold = [r['conversations'][1]['value'] for r in records]
    lines += [dict(task='baby_compare_real', id=str(i), answer=f"({g})" if i else 'Neither')
              for i, g in enumerate(gold)]
    lines += [dict(task='baby_count', id='0', answer='I count four.')]
    lines += [dict(task='baby_count', id=str(i), answer='two') for i in range(1, 5)]
    lines += [dict(task='labeled_s', id=str(t), control='text_blind', scores=[1, 1, 1, 1]) for t in range(6)]
    path = tmp_path / 'other.jsonl'
    path.write_text('\n'.join(json.dumps(line) for line in lines) + '\n')
    runs = run(f'--scores_file={path}', f'--bench_dir={root}', f'--out_dir={tmp_path / "out"}',
               '--bootstrap=50')
    t = runs[0]['tasks']
    assert 'baby_winoground' not in t                                # no lines for it: not scored, counts 0
    assert t['labeled_s']['score'] == 0.5 and t['labeled_s']['readout'] == 'scores_file'
    assert t['labeled_s']['controls'] == {'text_blind': dict(score=0.25, interval=S.wilson(0.25, 6))}
    assert t['vtwt']['score'] == 0.5
    assert t['baby_compare_real']['score'] == pytest.approx(4 / 5)   # one answer has no letter
    assert t['baby_count']['score'] == pytest.approx(2 / 5)          # golds 4, 2, 7, 5, 7
    board = runs[0]['leaderboard']
    assert board['results']['baby_count'] == {'acc': pytest.approx(0.4)}
    assert board['overall'] == pytest.approx((0.4 + 0.8) / 11)
    saved = json.loads((tmp_path / 'out' / 'results.json').read_text())
    assert saved['eval_version'] == evaluate.EVAL_VERSION and saved['runs'][0]['tasks']['vtwt']['n'] == 24
    bad = tmp_path / 'bad.jsonl'
    bad.write_text('{"task": "vtwt", "scores": [1]}\n')
    with pytest.raises(SystemExit, match='bad.jsonl: line 1: not a scores line'):
        run(f'--scores_file={bad}', f'--bench_dir={root}', f'--out_dir={tmp_path / "out"}')

def test_bad_settings_name_the_setting(tmp_path):
    bad = (('--readout=sim', 'readout'), ('--dtype=fp8', 'dtype'), ('--batch_size=0', 'batch_size'))
    for flag, name in bad:
        with pytest.raises(SystemExit, match=name):
            run(flag, f'--bench_dir={tmp_path}')

# ----------------------------------------------------------------------------- models

TINY = dict(patch_size=8, vit_layer=1, vit_embd=32, vit_head=2, n_layer=1, n_embd=32, n_head=2, embed_dim=32,
            block_size=16, prefix_tokens=4, clip_len=3, temporal_layer=1)

@pytest.fixture(scope='module')
def tiny_bench(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench')
    subprocess.run([sys.executable, str(ROOT / 'data' / 'nursery' / 'benchmarks.py'), '--size=tiny',
                    f'--out={out}', f'--raw={out / "no_corpus"}'], check=True, capture_output=True, cwd=ROOT,
                   timeout=600)
    return out

def random_checkpoint(tmp_path, step=0):
    """A random-weights model saved the way train.py saves, with a corpus folder holding only its
    tokenizer."""
    from model import BabyVLM, ModelConfig
    from tokenizer import save_tokenizer, train_bpe
    corpus = tmp_path / 'corpus'
    corpus.mkdir(exist_ok=True)
    heard = normaliser(text_form(True))
    texts = ['look at the ball', 'a red cup', 'two balls', 'the dog is on the table']
    ranks = train_bpe([heard(t) for t in texts] * 3, 300)
    save_tokenizer(ranks, corpus / 'tokenizer.tiktoken')
    (corpus / 'meta.json').write_text(json.dumps(dict(tokenizer='tokenizer.tiktoken', eot_token=len(ranks),
                                                      args=dict(lowercase=True), text_form=text_form(True))))
    args = dict(TINY, image_size=64, vocab_size=64 * math.ceil((len(ranks) + 1) / 64))
    torch.manual_seed(0)
    model = BabyVLM(ModelConfig(**args), verbose=False)
    config = dict(data_dir=str(corpus), contrastive_weight=1.0, caption_weight=1.0, temporal_weight=1.0,
                  order='shuffle')
    path = tmp_path / f'ckpt_{step}.pt'
    data = dict(data_dir=str(corpus), position=step, order='shuffle', seed=1)
    torch.save(dict(model=model.state_dict(), model_args=args, config=config, iter_num=step,
                    best_val_loss=0.0, data=data), path)
    return path

WORD_TASKS = ('labeled_s', 'vtwt', 'baby_pv', 'baby_localize', 'baby_count', 'gaze', 'devbench_lex-lwl',
              'devbench_lex-viz_vocab', 'devbench_gram-trog', 'md_nouns_cartoon', 'md_adjectives_cartoon')

PICTURES_ONLY = ('baby_memory', 'baby_leftright', 'baby_spatialdetails', 'joint_attention', 'probes',
                 'voe_permanence', 'voe_continuity', 'voe_color', 'voe_shape', 'saycam_caption')

def test_random_weights_sit_at_chance(tiny_bench, tmp_path, one_thread):
    a, b = random_checkpoint(tmp_path, 0), random_checkpoint(tmp_path, 100)
    runs = run(f'--ckpt=[{a},{b}]', f'--bench_dir={tiny_bench}', f'--out_dir={tmp_path / "out"}',
               '--bootstrap=100', '--dtype=float32')
    assert [r['step'] for r in runs] == [0, 100] and runs[0]['readout'] == 'similarity'
    tasks = runs[0]['tasks']
    assert not runs[0]['errors'] and len(tasks) >= 30
    for key, t in tasks.items():
        assert {'n', 'score', 'chance', 'interval', 'readout', 'controls'} <= set(t), key
        assert set(t['controls']) <= set(KINDS[t['kind']].CONTROLS), key
        # a task of pictures alone has no text to blind: that control would be the model itself
        assert ('text_blind' in t['controls']) == (key not in PICTURES_ONLY), key
    # the tasks only words can solve; image matchers (leftright, probes) are another story
    for key in WORD_TASKS:
        lo, hi = tasks[key]['interval']
        assert lo <= tasks[key]['chance'] <= hi, (key, tasks[key])
    # a blank picture: every option ties
    assert tasks['baby_pv']['controls']['image_blind']['score'] == 0.25
    voe = tasks['voe_permanence']
    assert voe['readout'] == 'surprise' and 0 <= voe['metrics']['auroc'] <= 1
    assert set(runs[0]['leaderboard']['results']) == set(S.LEADERBOARD)
    report = (tmp_path / 'out' / 'report.md').read_text()
    assert '| labeled_s |' in report and '## Trajectory' in report
    assert (tmp_path / 'out' / 'report.png').stat().st_size > 0

def test_scored_texts_are_encoded_as_training_heard_them(tiny_dataset, tiny_bench, tmp_path, monkeypatch,
                                                        one_thread):
    """The tokenisation contract (tokenizer.normaliser): every text the default suites score (options,
    phrases, count and number words, gaze targets) is encoded as its words are inside a training utterance.
    For each scored word the training split says, its scoring tokens occur in the stored tokens of an
    utterance that says it; a bare 'floor' (f|l|oor) would not, since training only ever hears ' floor'."""
    from model import BabyVLM, ModelConfig
    from prepare import load_dataset, tokenizer_path
    meta, arrays = load_dataset(tiny_dataset)
    enc = evaluate.load_tokenizer(tokenizer_path(tiny_dataset, meta))
    ckpt = random_checkpoint(tmp_path)  # random weights, with the tiny corpus' tokenizer and text form
    saved = torch.load(ckpt, weights_only=True)
    saved['model_args']['vocab_size'] = 64 * math.ceil((enc.n_vocab + 1) / 64)
    saved['model'] = BabyVLM(ModelConfig(**saved['model_args']), verbose=False).state_dict()
    saved['data'].update(tokenizer=tokenizer_record(tokenizer_path(tiny_dataset, meta)),
                         text_form=corpus_text_form(meta))
    torch.save(saved, ckpt)
    scored, tokens = {}, evaluate.Engine.tokens

    def recording(self, texts):
        ids = tokens(self, texts)
        scored.update(zip(texts, map(tuple, ids)))
        return ids
    monkeypatch.setattr(evaluate.Engine, 'tokens', recording)
    run(f'--ckpt={ckpt}', f'--bench_dir={tiny_bench}', f'--out_dir={tmp_path / "out"}', '--bootstrap=10',
        '--dtype=float32')
    heard = normaliser(corpus_text_form(meta))
    said = {}  # word -> the stored token ids of the training utterances that say it
    utts, stored = arrays['utterances'], arrays['tokens']
    for u in utts[utts['split'] == 0]:
        ids = tuple(int(i) for i in stored[u['tok_start']:u['tok_start'] + u['tok_len']])
        for word in set(enc.decode(list(ids)).split()):
            said.setdefault(word, []).append(ids)
    checked, missing = 0, []
    for text, ids in scored.items():
        words = heard(text).split()
        assert ids == tuple(i for w in words for i in enc.encode_ordinary(heard(w))), text
        for word in words:
            if word not in said:
                continue
            checked += 1
            word_ids = enc.encode_ordinary(heard(word))
            n = len(word_ids)
            if not any(list(u[i:i + n]) == word_ids for u in said[word] for i in range(len(u) - n + 1)):
                missing.append((word, [enc.decode([i]) for i in word_ids]))
    assert checked >= 50 and not missing, (checked, missing[:10])
    assert any(ids == tuple(enc.encode_ordinary(' ball')) for ids in scored.values())


def test_untrained_towers_are_na_and_seeds_aggregate(tiny_bench, tmp_path, one_thread):
    """A checkpoint whose temporal tower never trained (temporal_weight 0) answers no surprise: VoE is n/a,
    with the reason, and the other rows are scored, each beside its skill-free baselines and verdict. Two
    checkpoints given as seeds of one config are summarised over seeds; --baselines_only needs none."""
    paths = []
    for step in (0, 100):
        path = random_checkpoint(tmp_path, step)
        saved = torch.load(path, weights_only=True)
        saved['config']['temporal_weight'] = 0.0
        torch.save(saved, path)
        paths.append(path)
    args = (f'--bench_dir={tiny_bench}', '--bootstrap=50', '--tasks=labeled_s,baby_leftright,voe_permanence',
            '--dtype=float32')
    runs = run(f'--ckpt=[{paths[0]},{paths[1]}]', '--seeds=True', f'--out_dir={tmp_path / "a"}', *args)
    voe, leftright = runs[0]['tasks']['voe_permanence'], runs[0]['tasks']['baby_leftright']
    assert voe['score'] is None and 'temporal' in voe['na']
    assert {'thumbnail 4x4', 'colour histogram'} <= set(leftright['baselines'])
    assert leftright['best_baseline']['score'] >= leftright['baselines']['thumbnail 4x4']['score']
    assert isinstance(leftright['evidence'], bool) and len(leftright['per_item']) == leftright['n']
    results = json.loads((tmp_path / 'a' / 'results.json').read_text())
    assert set(results['over_seeds']) == {'labeled_s', 'baby_leftright'}
    assert results['over_seeds']['labeled_s']['interval_over'] == 'seeds and items'
    assert isinstance(results['over_seeds']['baby_leftright']['evidence'], bool)
    report = (tmp_path / 'a' / 'report.md').read_text()
    assert '## Over seeds' in report and 'n/a: voe_permanence: the temporal tower(s) never trained' in report
    alone = run('--baselines_only=True', f'--out_dir={tmp_path / "b"}', *args)[0]['tasks']
    assert alone['baby_leftright']['readout'].startswith('baseline: ')
    voe = alone['voe_permanence']
    assert voe['score'] == max(b['score'] for b in voe['baselines'].values())
    assert set(voe['baselines']) == {'motion energy', 'frame difference'}

def test_the_supervised_ceiling_is_scored_like_a_model(tiny_dataset, tiny_bench, tmp_path, one_thread):
    """ceiling.py trains on the tiny corpus' truth and writes a checkpoint that loads without unpickling code;
    evaluate.py answers every task with it but the captions (n/a, with the reason), controls and baselines
    beside. Blind controls are at chance: a blank picture gives every option one score, and an empty text
    claims nothing."""
    import ceiling
    out = tmp_path / 'ceiling'
    subprocess.run([sys.executable, 'ceiling.py', f'--data_dir={tiny_dataset}', f'--out_dir={out}',
                    '--max_iters=30', '--batch_size=16', '--width=8', '--threads=1'],
                   check=True, capture_output=True, cwd=ROOT, timeout=300)
    ck = torch.load(out / 'ckpt.pt', weights_only=True)
    assert ck['kind'] == ceiling.KIND and ck['vocab']['kinds'] and ck['frames'] > 0
    assert ceiling.is_ceiling(out / 'ckpt.pt') and not ceiling.is_ceiling(random_checkpoint(tmp_path))
    tasks = run(f'--ckpt={out / "ckpt.pt"}', f'--bench_dir={tiny_bench}', f'--out_dir={tmp_path / "eval"}',
                '--bootstrap=20', '--tasks=labeled_s,baby_count,baby_leftright,saycam_caption,voe_permanence,'
                'joint_attention')[0]['tasks']
    assert tasks['saycam_caption']['score'] is None and 'no captions' in tasks['saycam_caption']['na']
    for key in ('labeled_s', 'baby_count', 'baby_leftright', 'voe_permanence', 'joint_attention'):
        assert tasks[key]['score'] is not None and tasks[key]['baselines'], key
    assert tasks['labeled_s']['readout'] == 'supervised'
    assert tasks['labeled_s']['controls']['text_blind']['score'] == tasks['labeled_s']['chance']

def test_settings_are_explicit_and_main_repeats(tiny_bench, tmp_path, one_thread):
    """main(cfg) reads only cfg: the module's globals stay as they were, and a second call gives the same
    runs."""
    settings = configure(dict(vars(evaluate)), [], quiet=True)
    args = (f'--ckpt={random_checkpoint(tmp_path)}', f'--bench_dir={tiny_bench}', '--bootstrap=50',
            '--tasks=labeled_s,baby_memory,voe_color,md_nouns_cartoon', '--dtype=float32', '--batch_size=7')
    first, second = (run(*args, f'--out_dir={tmp_path / out}') for out in ('a', 'b'))
    assert configure(dict(vars(evaluate)), [], quiet=True) == settings
    assert list(first[0]['tasks']) == ['baby_memory', 'md_nouns_cartoon', 'labeled_s', 'voe_color']
    assert first[0]['tasks'] == second[0]['tasks']

def test_a_new_kind_is_one_module_and_one_line(tiny_bench, tmp_path, monkeypatch, one_thread):
    """A toy kind, 'which of two pictures is more like white', answered by image cosine and scored as a forced
    choice: one plain module (a namespace here) and its line in KINDS; evaluate.py is unchanged."""
    from kinds.readouts import ImageSim, answer_options, option_images, option_readout
    from scoring import choice_accuracy, credit

    def load_brighter(path):
        folder = os.path.dirname(path)
        white = (f"{folder}/white.png", None)
        items = [dict(id=str(i), gold=0, options=[ImageSim(white, (f"{folder}/{p}", None)) for p in pair])
                 for i, pair in enumerate(json.loads(Path(path).read_text()))]
        return dict(kind='brighter', items=items)

    def score_brighter(task, answers, reps=1000, seed=0):
        credits = [credit(answers[it['id']], it['gold']) for it in task['items']]
        return choice_accuracy(credits, [len(it['options']) for it in task['items']])

    toy = types.SimpleNamespace(FILES={'brighter/pairs.json': ('brighter', load_brighter)},
                                images=option_images, answer=answer_options, readout=option_readout,
                                score=score_brighter, CONTROLS=('image_blind',))
    monkeypatch.setitem(KINDS, 'brighter', toy)
    folder = tmp_path / 'bench' / 'brighter'
    folder.mkdir(parents=True)
    for name, grey in (('white', 255), ('light', 240), ('dark', 10)):
        Image.new('RGB', (64, 64), (grey,) * 3).save(folder / f'{name}.png')
    (folder / 'pairs.json').write_text(json.dumps([['light.png', 'dark.png'], ['dark.png', 'light.png']]))
    runs = run(f'--ckpt={random_checkpoint(tmp_path)}', f'--bench_dir={tmp_path / "bench"}',
               f'--out_dir={tmp_path / "out"}', '--dtype=float32')
    t = runs[0]['tasks']['brighter']
    assert t['kind'] == 'brighter' and t['n'] == 2 and t['chance'] == 0.5 and t['readout'] == 'image cosine'
    assert t['controls']['image_blind']['score'] == 0.5          # one blank picture for all: half credit

def golden_results(ckpt, bench, out, readout, env):
    """A checkpoint's results through evaluate.py as a user runs it, less the file paths."""
    command = [sys.executable, 'evaluate.py', f'--ckpt={ckpt}', f'--bench_dir={bench}', f'--out_dir={out}',
               '--dtype=float32', '--bootstrap=100', f'--readout={readout}']
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    run = json.loads((out / 'results.json').read_text())['runs'][0]
    tasks = {k: {f: v for f, v in t.items() if f != 'file'} for k, t in run['tasks'].items()}
    return dict(tasks=tasks, leaderboard=run['leaderboard'], machine_devbench=run['machine_devbench'])

def test_results_match_the_golden_file(tiny_dataset, tiny_bench, tmp_path):
    """A tiny checkpoint trained here (40 steps of all objectives, fp32, one thread: the same weights on every
    run of this machine) scores, through each readout, exactly as tests/golden/tiny_results.json says: every
    score, interval, metric and control. The file was made before evaluation was reorganised into kinds/, so
    equality says the reshaping changed no number. UPDATE_GOLDEN=1 writes it anew, on purpose, when a loader,
    readout or metric changes."""
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    subprocess.run([sys.executable, 'train.py', f'--data_dir={tiny_dataset}', f'--out_dir={tmp_path / "run"}',
                    *TRAIN_TINY, '--log_interval=10', '--max_iters=40', '--eval_interval=40'],
                   check=True, capture_output=True, cwd=ROOT, env=env, timeout=300)
    now = {readout: golden_results(tmp_path / 'run' / 'ckpt.pt', tiny_bench, tmp_path / readout, readout, env)
           for readout in ('similarity', 'nll')}
    if os.environ.get('UPDATE_GOLDEN'):
        note = (f"made with evaluate.py at EVAL_VERSION {evaluate.EVAL_VERSION}; UPDATE_GOLDEN=1 python -m "
                "pytest tests/test_evaluate.py -k golden writes it anew")
        GOLDEN.write_text(json.dumps(dict(now, note=note), indent=1, sort_keys=True) + '\n')
    golden = json.loads(GOLDEN.read_text())
    for readout, results in now.items():
        assert set(results['tasks']) == set(golden[readout]['tasks'])
        for key, t in golden[readout]['tasks'].items():
            assert results['tasks'][key] == t, (readout, key)
        assert results['leaderboard'] == golden[readout]['leaderboard']
        assert results['machine_devbench'] == golden[readout]['machine_devbench']

def test_brief_training_learns_words(tmp_path, one_thread):
    """500 contrastive steps on a small nursery corpus (12 recordings, 10 minutes, ~300 utterances) already
    pick the named picture of a yoked pair (DevBench looking-while-listening over the words that corpus says,
    each pair asked once for each word) above chance. (The tiny corpus' 20 utterances name too few things, too
    few times.) At baby_small's learning rate: at the tiny tests' 3e-3 the ~300 utterances are learnt by heart
    (val loss 6.3 against 1.9 in training) and the score hangs on the seed. At 300 steps, with utterances
    encoded as heard (another BPE on this corpus), the interval's lower end was 0.484: 500 steps clear it."""
    raw, data, bench = tmp_path / 'raw', tmp_path / 'prepared', tmp_path / 'bench'
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    for cmd in (['data/nursery/make.py', '--size=small', '--seed=1', f'--out={raw}'],
                ['prepare.py', f'--input_dir={raw}', f'--out_dir={data}'],
                ['train.py', f'--data_dir={data}', f'--out_dir={tmp_path / "run"}', *TRAIN_TINY,
                 '--batch_size=32', '--max_iters=500', '--eval_interval=500', '--log_interval=100',
                 '--warmup_iters=20', '--caption_weight=0', '--temporal_weight=0', '--learning_rate=1e-3'],
                ['data/nursery/benchmarks.py', f'--out={bench}', f'--raw={raw}', '--only=devbench/lex-lwl']):
        subprocess.run([sys.executable, *cmd], check=True, capture_output=True, cwd=ROOT, env=env,
                       timeout=600)
    runs = run(f'--ckpt={tmp_path / "run" / "ckpt.pt"}', f'--bench_dir={bench}',
               f'--out_dir={tmp_path / "out"}', '--bootstrap=100', '--dtype=float32')
    lwl = runs[0]['tasks']['devbench_lex-lwl']
    assert lwl['n'] >= 100 and lwl['interval'][0] > lwl['chance'], lwl
    assert lwl['controls']['text_blind']['score'] == 0.5 and lwl['controls']['image_blind']['score'] == 0.5
