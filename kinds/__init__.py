"""
Benchmark kinds: each module here is one kind of benchmark, with everything that belongs to it. evaluate.py
dispatches over the plain dict KINDS below; adding a kind is one module and one line there (and its code
budget in tests/test_style.py).

A kind module has:
    FILES       {'<folder>/<file name>' pattern: (task key, loader)}: the files it reads; the folder may
                be '*' and the key may say '{folder}', or be a function of the folder and the file name
    loader(path)
                {kind, items, ...} from a file in its published format, or None when the file holds another
                kind's task (a DevBench manifest is a choice or a Winoground task by its columns); a malformed
                file raises formats.BenchError naming the record
    images(item)
                the picture keys an item looks at
    answer(engine, task, mode)
                {item id: scores} from the model's readouts (evaluate.Engine), batched
    readout(task, how)
                the name of the readout it makes, given the checkpoint's ('similarity' or 'nll')
    score(task, answers, reps, seed)
                {n, score, metric, chance, interval, metrics}, from the model's answers or from a scores
                file's ({'answer': text} where a line holds generated text)
    CONTROLS    the blind controls that apply ('text_blind', 'image_blind')
"""
import fnmatch
import os

from PIL import Image

from kinds import caption, choice, count, grammatical, lexical, memory, probe, vdr, voe, winoground
from kinds.formats import BenchError

KINDS = {'choice': choice, 'count': count, 'vdr': vdr, 'memory': memory, 'winoground': winoground,
         'grammatical': grammatical, 'lexical': lexical, 'voe': voe, 'caption': caption, 'probe': probe}

def task_key(key, folder, name):
    if callable(key):
        return key(folder, name)
    return key.format(folder=folder)

def claims(folder, name):
    """(task key, [loaders]) of the kinds whose FILES name this file, or None."""
    key, loaders = None, []
    for kind in KINDS.values():
        for pattern, (k, loader) in kind.FILES.items():
            if fnmatch.fnmatchcase(f"{folder}/{name}", pattern):
                key = key or task_key(k, folder, name)
                loaders.append(loader)
    return (key, loaders) if loaders else None

def discover(root):
    """({task key: (path, loaders)} for every benchmark file under root, in path order; {key: problem}).
    A key found in several folders goes plainly to the shallowest, and as key@folder to the others; when the
    shallowest are two at one depth, each gets key@folder and the clash is a problem that names them."""
    hits = []
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            claim = claims(os.path.basename(folder), name)
            if claim:
                hits.append((claim[0], os.path.join(folder, name), claim[1]))
    paths = {}
    for key, path, _ in hits:
        paths.setdefault(key, []).append(path)
    shallowest = {}
    for key, all_paths in paths.items():
        top = min(p.count(os.sep) for p in all_paths)
        shallowest[key] = [p for p in all_paths if p.count(os.sep) == top]
    found, problems = {}, {}
    for key, path, loaders in hits:
        if shallowest[key] == [path]:
            found[key] = (path, loaders)
            continue
        found[f"{key}@{os.path.relpath(os.path.dirname(path), root)}"] = (path, loaders)
        if len(shallowest[key]) > 1:
            folders = ' and '.join(os.path.relpath(os.path.dirname(p), root) for p in shallowest[key])
            problems[key] = (f"{key} is in {folders}, at one depth under {root}: each is scored as "
                             f"{key}@<folder>; pass --bench_dir=<one of them> for the plain key")
    return found, problems

def load_task(key, path, loaders):
    """The task of a found file ({kind, items, file, key}), or None if no kind scores it (DevBench's RSA)."""
    for loader in loaders:
        task = loader(path)
        if task is not None and not task['items']:
            raise BenchError(f"{path}: no items to score")
        if task is not None:
            return dict(task, file=path, key=key)
    return None

def check_images(task, root):
    """(the task without the items whose pictures cannot be used, a line for each item dropped): a picture
    that is missing, cannot be decoded, or lies outside the benchmark folder root ('../', a link out)."""
    kind, root = KINDS[task['kind']], os.path.realpath(root)
    items, dropped, problems = [], [], {}
    for it in task['items']:
        for path, _ in kind.images(it):
            if path not in problems:
                problems[path] = picture_problem(path, root)
            if problems[path]:
                dropped.append(f"{task['file']}: record {it['id']}: image {path} {problems[path]}, "
                               "item skipped")
                break
        else:
            items.append(it)
    if not items and dropped:
        raise BenchError(f"{dropped[0]}; and so are all {len(dropped)} items")
    return dict(task, items=items), dropped

def picture_problem(path, root):
    """Why a picture cannot be shown to a model ('is missing', ...), or None."""
    if not os.path.realpath(path).startswith(root + os.sep):
        return f"is outside the benchmark folder {root}: not read"
    if not os.path.isfile(path):
        return "is missing"
    try:
        with Image.open(path) as img:
            img.load()
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        return f"cannot be decoded ({type(e).__name__}: {e})"
    return None
