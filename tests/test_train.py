import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from tokenizer import load_tokenizer

ROOT = Path(__file__).resolve().parents[1]
# a model a few steps of which take well under a second on one CPU core
TINY = ['--patch_size=8', '--vit_layer=1', '--vit_embd=32', '--vit_head=2', '--n_layer=1', '--n_embd=32',
        '--n_head=2', '--embed_dim=32', '--block_size=16', '--clip_len=3', '--temporal_layer=1',
        '--batch_size=4', '--clip_batch_size=2', '--eval_iters=1', '--probe_trials=16', '--log_interval=1',
        '--warmup_iters=2', '--learning_rate=3e-3', '--dtype=float32']

def train(data, out, *args, torchrun=False, check=True):
    cmd = [sys.executable]
    if torchrun:
        cmd += ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2']
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    result = subprocess.run(cmd + ['train.py', f'--data_dir={data}', f'--out_dir={out}', *TINY, *args],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    if check and result.returncode:
        raise AssertionError(f"train.py failed ({result.returncode}):\n{result.stdout[-3000:]}\n"
                             f"{result.stderr[-3000:]}")
    return result

def load(path):
    return torch.load(path, map_location='cpu', weights_only=True)

@pytest.fixture(scope='module')
def trained(tiny_dataset, tmp_path_factory):
    """A run of 2 steps with all objectives, whose checkpoint the tests below start from."""
    out = tmp_path_factory.mktemp('trained')
    train(tiny_dataset, out, '--max_iters=2')
    return out / 'ckpt.pt'

def val_words(data):
    enc, u, tokens = (load_tokenizer(data / 'tokenizer.tiktoken'), np.load(data / 'utterances.npy'),
                      np.load(data / 'tokens.npy'))
    return sorted({w for s, n in zip(u['tok_start'][u['split'] == 1], u['tok_len'][u['split'] == 1])
                   for w in re.findall('[a-z]+', enc.decode(tokens[s:s + n].tolist()))})

def test_trains_logs_and_saves(tiny_dataset, tmp_path):
    r = train(tiny_dataset, tmp_path, '--max_iters=4', '--eval_interval=2', '--order=age', '--dtype=auto',
              f"--probe_words={','.join(val_words(tiny_dataset))}")
    lines = [l for l in r.stdout.splitlines() if l.startswith('step ')]
    assert len(lines) == 4
    pattern = (r"step +\d+ \| loss [\d.]+ \| contrastive [\d.]+ caption [\d.]+ temporal [\d.]+ \| "
               r"lr [\d.e+-]+ \| \d+ ms \| \d+ img/s \| \d+ tok/s \| bf16 MFU \(dense\) n/a")
    assert all(re.fullmatch(pattern, l) for l in lines), lines
    summary = dict(l.split(': ', 1) for l in r.stdout.split('\n---\n')[1].splitlines())
    for key in ('val_loss', 'val_contrastive', 'val_caption', 'val_temporal', 'probe_acc', 'training_seconds',
                'images_per_sec', 'tokens_per_sec', 'mfu_percent', 'num_steps', 'num_params_M', 'device'):
        assert key in summary
    assert summary['num_steps'] == '4' and summary['mfu_percent'] == 'n/a'
    probe_acc = summary['probe_acc']
    assert re.fullmatch(r"[01]\.\d{4} \(n=\d+, chance 0.25, readout similarity\)", probe_acc), probe_acc
    ckpt = load(tmp_path / 'ckpt.pt')  # weights_only: tensors and plain Python only
    assert ckpt['iter_num'] == 4 and ckpt['config']['order'] == 'age' and ckpt['model_args']['n_embd'] == 32
    assert {'model', 'optimizer', 'scaler', 'rng', 'data', 'best_val_loss'} <= ckpt.keys()
    assert ckpt['data']['eot_token'] == json.loads((tiny_dataset / 'meta.json').read_text())['eot_token']
    log = (tmp_path / 'log.csv').read_text().splitlines()
    assert log[0].startswith('step,split,loss,contrastive,caption,temporal,probe,lr')
    assert sum(',val,' in l for l in log) == 3 and sum(',train,' in l for l in log) == 4
    assert not list(tmp_path.glob('.*.tmp*'))    # atomic.py's temporary names

def test_exact_resume(tiny_dataset, tmp_path):
    schedule = ['--lr_decay_iters=6', '--eval_interval=3']
    train(tiny_dataset, tmp_path / 'straight', '--max_iters=6', *schedule)
    train(tiny_dataset, tmp_path / 'resumed', '--max_iters=3', *schedule)  # stops after the step-3 checkpoint
    r = train(tiny_dataset, tmp_path / 'resumed', '--max_iters=6', '--init_from=resume', *schedule)
    assert 'val       3' in r.stdout
    a, b = load(tmp_path / 'straight' / 'ckpt.pt'), load(tmp_path / 'resumed' / 'ckpt.pt')
    assert a['iter_num'] == b['iter_num'] == 6
    for k in a['model']:
        assert torch.equal(a['model'][k], b['model'][k]), k
    for i, state in a['optimizer']['state'].items():
        assert torch.equal(state['exp_avg'], b['optimizer']['state'][i]['exp_avg'])
    log = (tmp_path / 'resumed' / 'log.csv').read_text().splitlines()[1:]
    steps = [l.split(',')[0] for l in log if ',train,' in l]
    assert steps == ['1', '2', '3', '4', '5', '6']

def test_ddp_two_ranks_equal_one_process(tiny_dataset, tmp_path):
    args = ['--max_iters=3', '--eval_interval=100', '--gradient_accumulation_steps=2']
    r = train(tiny_dataset, tmp_path / 'ddp', *args, torchrun=True)
    assert '2 rank(s) on cpu' in r.stdout and 'parameters identical on all 2 ranks' in r.stdout
    train(tiny_dataset, tmp_path / 'single', *args)
    a, b = load(tmp_path / 'ddp' / 'ckpt.pt'), load(tmp_path / 'single' / 'ckpt.pt')
    for k in a['model']:
        assert torch.allclose(a['model'][k], b['model'][k], atol=1e-5, rtol=1e-4), k

def test_init_from_another_run_with_frozen_towers(tiny_dataset, trained, tmp_path):
    r = train(tiny_dataset, tmp_path, '--max_iters=2', f'--init_from={trained}', '--init_towers=vision',
              '--freeze=vision', '--contrastive_weight=0', '--temporal_weight=0')  # BabyLLaVA's phase 1
    assert 'trains connector, text\n' in r.stdout
    one, two = load(trained)['model'], load(tmp_path / 'ckpt.pt')['model']
    assert all(torch.equal(one[k], two[k]) for k in one if k.startswith('vision.'))
    assert not torch.equal(one['text.wpe.weight'], two['text.wpe.weight'])

def test_non_finite_loss_stops_and_keeps_the_checkpoint(tiny_dataset, trained, tmp_path):
    ckpt = load(trained)
    ckpt['model']['text.wte.weight'][3] = float('nan')
    torch.save(ckpt, tmp_path / 'ckpt.pt')
    before = (tmp_path / 'ckpt.pt').read_bytes()
    r = train(tiny_dataset, tmp_path, '--max_iters=4', '--init_from=resume', check=False)
    assert r.returncode == 1
    message = r"step 2: non-finite loss/gradients .* the last good checkpoint is .*ckpt.pt"
    assert re.search(message, r.stderr), r.stderr
    assert (tmp_path / 'ckpt.pt').read_bytes() == before

def test_clear_errors(tiny_dataset, trained, tmp_path):
    r = train(tiny_dataset, tmp_path, '--batch_sise=3', check=False)
    assert r.returncode and "unknown config key 'batch_sise'; did you mean 'batch_size'?" in r.stderr
    r = train(tiny_dataset, tmp_path, '--batch_size=many', check=False)
    assert r.returncode and "batch_size must be int" in r.stderr
    r = train(tiny_dataset, tmp_path, '--freeze=eyes', check=False)
    assert r.returncode and "config: freeze/init_towers='eyes' is not allowed: it must be towers" in r.stderr
    broken = tmp_path / 'broken'
    shutil.copytree(tiny_dataset, broken)
    (broken / 'tokens.npy').unlink()
    r = train(broken, tmp_path / 'out', check=False)
    assert r.returncode and 'tokens.npy is missing' in r.stderr
    r = train(tiny_dataset, trained.parent, '--init_from=resume', '--n_embd=64', check=False)
    assert r.returncode and "architecture differs" in r.stderr and "'n_embd': (32, 64)" in r.stderr
    r = train(tiny_dataset, tmp_path / 'big', f'--init_from={trained}', '--n_embd=64', check=False)
    assert r.returncode and "does not fit this architecture" in r.stderr
