import pytest

from configurator import configure

def knobs():
    return dict(batch_size=8, learning_rate=6e-4, out_dir='out', compile=False, init_from=None,
                betas=(0.9, 0.95))

def test_file_then_overrides(tmp_path):
    cfg_file = tmp_path / 'small.py'
    cfg_file.write_text("batch_size = 4\nlearning_rate = batch_size * 1e-4  # derived inside the file\n")
    scope = knobs()
    argv = [str(cfg_file), '--batch_size=2', '--out_dir', 'runs/a', '--compile']
    config = configure(scope, argv, quiet=True)
    assert config == dict(batch_size=2, learning_rate=4e-4, out_dir='runs/a', compile=True, init_from=None,
                          betas=(0.9, 0.95))
    assert scope['batch_size'] == 2 and scope['compile'] is True

def test_int_for_float_none_takes_anything_and_sequences():
    scope = knobs()
    config = configure(scope, ['--learning_rate=1', '--init_from=resume', '--betas=[0.8, 0.9]'], quiet=True)
    assert config['learning_rate'] == 1.0 and isinstance(config['learning_rate'], float)
    assert config['init_from'] == 'resume' and config['betas'] == (0.8, 0.9)
    assert configure(knobs(), ['--out_dir=123'], quiet=True)['out_dir'] == '123'

@pytest.mark.parametrize('argv, message', [
    (['--batch_sise=4'], "unknown config key 'batch_sise'; did you mean 'batch_size'?"),
    (['--batch_size=0.5'], "batch_size must be int"),
    (['--compile=1'], "compile must be bool"),
    (['--learning_rate=fast'], "learning_rate must be float"),
    (['--batch_size'], "--batch_size needs a value"),
    (['no/such/config.py'], "cannot read config file no/such/config.py"),
])
def test_errors_name_the_problem(argv, message):
    with pytest.raises(SystemExit, match=message.replace('?', r'\?').replace('[', r'\[')):
        configure(knobs(), argv, quiet=True)

def test_unknown_key_in_config_file_names_file(tmp_path):
    cfg_file = tmp_path / 'typo.py'
    cfg_file.write_text("import math\nlearning_rat = math.sqrt(2)\n")
    message = r"typo.py: unknown config key 'learning_rat'; did you mean 'learning_rate'"
    with pytest.raises(SystemExit, match=message):
        configure(knobs(), [str(cfg_file)], quiet=True)

def test_prints_resolved_config(capsys):
    configure(knobs(), ['--batch_size=3'])
    assert 'batch_size=3' in capsys.readouterr().out
