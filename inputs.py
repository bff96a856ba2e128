"""
The raw corpus as prepare.py finds it: its units of work (a video and its sidecars, a pairs file, a folder of
captioned images), recordings.csv, the files it does not read and why, and the stamps that tell whether an
input changed since a part or a dataset was made from it.
    units, skipped = discover(root)          # ('video', path, transcript, audio) or ('pairs', path)
    table, units = listed_units(root, units, skipped)
    recorded = {source_name(p, root): stamp(p) for p in unit_files(unit, root)}
    changed_inputs(recorded, unit_files(unit, root), root)     # [] while nothing changed
Nothing outside the input folder is read: a link that leads out of it, or nowhere, is skipped and recorded.
"""
import csv
import datetime
import hashlib
import io
import math
import os
from pathlib import Path

from decode import AUDIO_EXTS, VIDEO_EXTS
from transcripts import TRANSCRIPT_EXTS, TranscriptError, caption_pairs, is_pairs_json

# ----------------------------------------------------------------------------- discovery

def read_recordings_csv(path):
    """recording,child,date,age_days (or birth_date): the ages make the corpus longitudinal. The table holds
    every recording once, with an age that is a number of days >= 0, or empty for unknown; a row that breaks
    this stops the run naming its line, since every recording's age and split would depend on it."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise SystemExit(f"{path}: cannot be read ({e.strerror})") from None
    try:
        text = data.decode('utf-8-sig')
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b'\n') + 1
        raise SystemExit(f"{path}:{line}: byte {data[e.start]:#04x} is not UTF-8: save the file as UTF-8")
    table, lines = {}, {}
    reader = csv.DictReader(io.StringIO(text, newline=''))
    for row in reader:
        line = reader.line_num
        try:
            recording, age = row['recording'].strip(), recording_age(row)
        except (KeyError, ValueError, AttributeError) as e:
            raise SystemExit(f"{path}:{line}: cannot read this row ({type(e).__name__}: {e}); columns are "
                             "recording,child,date,age_days (or birth_date)")
        if not recording:
            raise SystemExit(f"{path}:{line}: the recording column is empty")
        if recording in table:
            raise SystemExit(f"{path}:{line}: recording {recording} is listed twice (also line "
                             f"{lines[recording]}): one row per recording")
        lines[recording] = line
        table[recording] = dict(child=(row.get('child') or '').strip(), date=(row.get('date') or '').strip(),
                                age_days=age)
    return table

def recording_age(row):
    """A recordings.csv row's age in days: age_days, or date - birth_date; NaN when neither is given."""
    age = (row.get('age_days') or '').strip()
    if not age and row.get('birth_date') and row.get('date'):
        age = (datetime.date.fromisoformat(row['date'].strip()) -
               datetime.date.fromisoformat(row['birth_date'].strip())).days
    if age == '':
        return float('nan')
    days = float(age)
    if not 0 <= days < math.inf:
        raise ValueError(f"age {age!r} is not a number of days >= 0 (leave it empty if unknown)")
    return days

def outside(path, root):
    """Why a path under the input folder is not read: a broken link, or a link that leads out of the folder
    (inputs never come from elsewhere); None for a file that is the folder's own."""
    if path.is_symlink() and not path.exists():
        return f"broken symlink (to {os.readlink(path)})"
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        return f"a symlink to {resolved}, outside input_dir: not read"
    return None

def discover(root):
    """(units, skipped): units of work in a fixed order, ('video', path, transcript, audio) or ('pairs',
    path); skipped lists the files not read, with why: links out of the folder, duplicate recording ids,
    JSON that cannot be read (valid JSON that is not a pairs file, nor a video's transcript, is ignored)."""
    root = Path(root).resolve()
    units, skipped, seen, files = [], [], {}, []
    for path in sorted(root.rglob('*')):
        reason = outside(path, root)
        if reason:
            skipped.append(dict(file=str(path.relative_to(root)), reason=reason))
        elif path.is_file():
            files.append(path)
    beside = {}  # (folder, stem) -> {extension: file}: a video's sidecars
    for path in files:
        beside.setdefault((path.parent, path.stem), {})[path.suffix.lower()] = path
    for path in files:
        ext, rel = path.suffix.lower(), str(path.relative_to(root))
        sidecars = beside[(path.parent, path.stem)]
        if ext in VIDEO_EXTS:
            if path.stem in seen:
                reason = f"duplicate recording id {path.stem} (also {seen[path.stem]})"
                skipped.append(dict(file=rel, reason=reason))
                continue
            seen[path.stem] = rel
            transcript = next((sidecars[e] for e in TRANSCRIPT_EXTS if e in sidecars), None)
            sound = next((sidecars[e] for e in AUDIO_EXTS if e in sidecars), None)
            units.append(('video', path, transcript, sound))
        elif ext == '.json' and not any(e in sidecars for e in VIDEO_EXTS):
            try:  # other JSON (a lab's notes, a held-out list) is not an input
                if is_pairs_json(path):
                    units.append(('pairs', path))
            except TranscriptError as e:
                skipped.append(dict(file=rel, reason=as_laid_out(str(e), root)))
    if caption_pairs(root)[0]:
        units.append(('pairs', root))
    return units, skipped

def as_laid_out(text, root):
    """A message with the input folder's own path taken out of it: files as the user laid them out."""
    return text.replace(f"{root}{os.sep}", '')

def source_name(path, root):
    """A unit's file (or folder) as the user laid it out under the input folder: '.' for the folder itself."""
    if Path(path) == Path(root):
        return '.'
    return str(Path(path).relative_to(root))

def unit_key(unit, root):
    """The unit's part folder: its source with the path separators flattened."""
    rel = source_name(unit[1], root)
    if rel == '.':
        rel = '_captioned_images'
    return rel.replace(os.sep, '__')

# ----------------------------------------------------------------------------- what a unit is made from

def stamp(path):
    """An input as a part is made from it: size, mtime and SHA-1 of its bytes (None for a file that cannot
    be read: decoding it will say why); None if it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    try:
        with open(path, 'rb') as f:
            digest = hashlib.file_digest(f, 'sha1').hexdigest()
    except OSError:
        digest = None
    return dict(size=st.st_size, mtime_ns=st.st_mtime_ns, sha1=digest)

def unchanged(recorded, path):
    """True if path holds what its stamp (or None, for a file that did not exist) recorded: the same size
    and mtime, or else the same bytes (a copy that kept the content but not the time)."""
    if not os.path.exists(path):
        return recorded is None
    if recorded is None:
        return False
    st = os.stat(path)
    if (st.st_size, st.st_mtime_ns) == (recorded['size'], recorded['mtime_ns']):
        return True
    return st.st_size == recorded['size'] and recorded['sha1'] is not None and \
        stamp(path)['sha1'] == recorded['sha1']

def unit_files(unit, root):
    """The input files discovery finds for a unit now: a video and its sidecars, a pairs JSON, or a caption
    folder's images and captions (the images a JSON names are stamped when its part is made)."""
    if unit[0] == 'video':
        return [p for p in unit[1:] if p is not None]
    if unit[1] != root:
        return [unit[1]]
    return [f for pair in caption_pairs(root)[0] for f in pair]

def changed_inputs(recorded, files, root):
    """How the files found now differ from the inputs a part (or a dataset) was made from: 'added x',
    'edited x', 'removed x', x as the user laid it out."""
    names = {source_name(p, root) for p in files}
    changes = [f"added {name}" for name in sorted(names - recorded.keys())]
    for name, was in recorded.items():
        if unchanged(was, root / name):
            continue
        verb = 'edited'
        if not (root / name).exists():
            verb = 'removed'
        elif was is None:
            verb = 'added'
        changes.append(f"{verb} {name}")
    return changes

def listed_units(root, units, skipped):
    """The recordings.csv table, and the units without those videos that it does not list (skipped)."""
    if not (root / 'recordings.csv').exists():
        return {}, units
    table = read_recordings_csv(root / 'recordings.csv')
    for unit in [u for u in units if u[0] == 'video' and u[1].stem not in table]:
        skipped.append(dict(file=source_name(unit[1], root), reason="not listed in recordings.csv"))
    return table, [u for u in units if u[0] != 'video' or u[1].stem in table]
