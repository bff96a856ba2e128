"""
nanoGPT's configurator, as a function. A script defines its knobs as commented globals, then calls

    config = configure(globals())

which runs `python script.py [config/file.py] [--key=value | --key value | --flag] ...` on them:
config files are executed in order, then each override is parsed with ast.literal_eval (a bare word
stays a string). Unlike nanoGPT, an unknown key is an error that names the closest known key, types
are checked (an int is fine where a float is expected, a None default takes anything), and the
resolved config is printed and returned so that checkpoints and logs can store it.

Each script then checks its settings' values before any work, with `require`, so that a wrong setting is one
line naming the setting, its value and what is allowed, never a traceback an hour later:

    require('fps', fps, fps > 0, 'a number of frames per second > 0')
"""
import ast
import difflib
import sys
import traceback

def _check(key, value, default, where):
    if default is None:
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, (list, tuple)) and isinstance(value, (list, tuple)):
        return type(default)(value)
    if type(value) is not type(default):
        raise SystemExit(f"{where}: {key} must be {type(default).__name__} like its default "
                         f"{default!r}, got {type(value).__name__} {value!r}")
    return value

def _unknown(key, known, where):
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise SystemExit(f"{where}: unknown config key {key!r}{hint}")

def require(key, value, ok, allowed):
    """Stops with `config: <key>=<value> is not allowed: it must be <allowed>` unless ok."""
    if not ok:
        raise SystemExit(f"config: {key}={value!r} is not allowed: it must be {allowed}")

def config_line(error, path):
    """The line of a config file an error was raised at (a SyntaxError's own, else the traceback's)."""
    if isinstance(error, SyntaxError):
        return error.lineno
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == path]
    return frames[-1].lineno if frames else '?'

def configure(scope, argv=None, quiet=False):
    argv = sys.argv[1:] if argv is None else argv
    # UPPER_CASE names are constants, not knobs
    known = {k: v for k, v in scope.items() if not k.startswith('_') and not k.isupper()
             and isinstance(v, (bool, int, float, str, list, tuple, type(None)))}
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith('--'):  # a config file: plain Python that assigns some of the globals
            namespace = dict(known)
            try:
                with open(arg) as f:
                    source = f.read()
            except OSError as e:
                raise SystemExit(f"cannot read config file {arg}: {e.strerror}")
            try:
                exec(compile(source, arg, 'exec'), namespace)
            except Exception as e:  # the file's own error, at its own line
                raise SystemExit(f"{arg}:{config_line(e, arg)}: {type(e).__name__}: {e}") from None
            for key, value in namespace.items():
                if (key.startswith('_') or key == '__builtins__' or callable(value)
                        or type(value).__name__ == 'module'):
                    continue
                if key not in known:
                    _unknown(key, known, arg)
                if value is not known[key]:
                    known[key] = _check(key, value, scope[key], arg)
            continue
        key, eq, text = arg[2:].partition('=')
        if key not in known:
            _unknown(key, known, 'command line')
        if not eq:  # `--flag` alone sets a bool; otherwise the value is the next argument
            if isinstance(scope[key], bool):
                text = 'True'
            elif i < len(argv):
                text, i = argv[i], i + 1
            else:
                raise SystemExit(f"command line: --{key} needs a value")
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            value = text
        if isinstance(scope[key], str) and not isinstance(value, str):
            value = text  # `--out_dir=123` means the string, as a shell user would expect
        known[key] = _check(key, value, scope[key], 'command line')
    scope.update(known)
    if not quiet:
        print("config: " + " ".join(f"{k}={v!r}" for k, v in known.items()))
    return dict(known)
