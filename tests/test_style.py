"""Line budgets: each file stays readable in one sitting (README, 'Line budgets')."""
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUDGETS = {'model.py': 400, 'train.py': 450, 'evaluate.py': 450, 'scoring.py': 600, 'configurator.py': 80, 'tokenizer.py': 200, 'transcripts.py': 450, 'prepare.py': 550,
           'data/nursery/make.py': 600, 'data/nursery/world.py': 600, 'data/nursery/speech.py': 600,
           'data/nursery/benchmarks.py': 700, 'data/nursery/stimuli.py': 600}

@pytest.mark.parametrize('name, budget', BUDGETS.items())
def test_line_budget(name, budget):
    lines = len((ROOT / name).read_text().splitlines())
    assert lines <= budget, f"{name} has {lines} lines, over its budget of {budget}: simplify before adding"
