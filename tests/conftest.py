import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / 'tests')]  # the scripts live at the top level, as in nanoGPT

@pytest.fixture(scope='session')
def tiny_raw(tmp_path_factory):
    """A tiny nursery corpus (real MP4s, transcripts, recordings.csv), rendered once per test run."""
    raw = tmp_path_factory.mktemp('nursery') / 'raw'
    subprocess.run([sys.executable, str(ROOT / 'data' / 'nursery' / 'make.py'), '--size=tiny', f'--out={raw}',
                    '--seed=1'], check=True, capture_output=True, cwd=ROOT)
    return raw

@pytest.fixture(scope='session')
def tiny_dataset(tiny_raw):
    """The tiny nursery corpus prepared with prepare.py's defaults, as train.py and evaluate.py read it."""
    out = tiny_raw.parent / 'prepared'
    subprocess.run([sys.executable, str(ROOT / 'prepare.py'), f'--input_dir={tiny_raw}', f'--out_dir={out}'],
                   check=True, capture_output=True, cwd=ROOT)
    return out

@pytest.fixture(scope='session')
def default_truths():
    """The truth of every recording of the default nursery (seed 1337), simulated, not filmed (~25 s)."""
    sys.path.insert(0, str(ROOT / 'data' / 'nursery'))
    import exposure
    return exposure.simulated_truths('default', 1337, training_only=False)
