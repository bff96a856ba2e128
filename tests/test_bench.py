"""bench.py runs and prints its table. Speed itself is never asserted here: these machines are shared, so
bench.py measures it as ratios against baselines run at the same time, and the README shows them."""
import importlib.util
import math
import subprocess
import sys

import torch

from conftest import ROOT

FIGURES = ['quickstart: data/nursery/make.py', 'quickstart: prepare.py', 'quickstart: train.py',
           'quickstart: data/nursery/benchmarks.py', 'quickstart: evaluate.py', 'quickstart: all stages',
           'prepare: frame path', 'prepare: prepare.main, ', 'prepare: peak RSS', 'train: images/s',
           'train: tokens/s', 'train: waiting for data', 'train: MFU', 'scaling: torchrun',
           'scaling: weights', 'evaluate: similarity', 'evaluate: text_nll', 'evaluate: surprise']

def run_bench(*args):
    return subprocess.run([sys.executable, str(ROOT / 'bench.py'), *args], capture_output=True, text=True,
                          cwd=ROOT)

def test_quick_bench_prints_every_figure_with_its_ratio():
    result = run_bench('--quick')
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    table = [[cell.strip() for cell in line.strip('|').split('|')] for line in lines if line.startswith('| ')]
    header, rows = table[0], table[2:]
    assert header == ['figure', 'value', 'baseline', 'ratio', 'target', 'met']
    figures = [r[0] for r in rows]
    expected = FIGURES + (['hf: images/s'] if importlib.util.find_spec('transformers') else [])
    for figure in expected:
        assert any(f.startswith(figure) for f in figures), f"no row {figure!r} in:\n{result.stdout}"
    for figure, value, baseline, ratio, target, met in rows:
        if value == 'not measured':  # the gpu rows without a GPU
            assert figure.startswith('gpu:') and not torch.cuda.is_available() and met == '', figure
            continue
        if target:  # every figure with a target has a finite ratio and says whether it met it
            assert math.isfinite(float(ratio)) and float(ratio) >= 0, (figure, ratio)
            assert met in ('yes', 'no'), (figure, met)
        float(value)
    assert any(line.startswith('path: CPU kernels ') for line in lines)
    if not importlib.util.find_spec('transformers'):
        assert any(line.startswith('hf: skipped (transformers is not installed') for line in lines)
    assert (any(line.startswith('gpu: skipped') for line in lines)
            or any(f.startswith('gpu:') for f in figures))

def test_unknown_section_is_an_error():
    result = run_bench('--only=trian')
    assert result.returncode != 0 and "unknown section 'trian'" in result.stderr
