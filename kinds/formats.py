"""
Readers shared by the kinds' loaders: CSVs and JSON as the published benchmarks write them, and the DevCV
toolbox's LLaVA-conversation records. Every error is a BenchError that names the file and the record (line,
record or item index). Samples of each format: ../shared/formats/README.md.
"""
import csv
import io
import json
import os
import re

from scoring import LETTERS, parse_letter

class BenchError(ValueError):
    """A malformed benchmark file; the message names the file and the record."""

def image_key(path, box=None):
    """How a task names a picture: (normalised path, crop box as fractions (x0, y0, x1, y1) or None)."""
    return (os.path.normpath(path), box)

def read_csv(path, required):
    """Rows (line number, dict) of a CSV with a UTF-8 BOM or not, LF or CRLF."""
    with open(path, 'rb') as f:
        data = f.read()
    try:
        text = data.decode('utf-8-sig')
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b'\n') + 1
        raise BenchError(f"{path}: line {line}: byte {data[e.start]:#04x} is not UTF-8") from None
    with io.StringIO(text, newline='') as f:
        reader = csv.DictReader(f)
        lacks = [c for c in required if c not in (reader.fieldnames or [])]
        if lacks:
            raise BenchError(f"{path}: line 1: header lacks {', '.join(lacks)}")
        rows = []
        for row in reader:
            if None in row:
                raise BenchError(f"{path}: line {reader.line_num}: too many fields")
            if any(not (row.get(c) or '').strip() for c in required):
                raise BenchError(f"{path}: line {reader.line_num}: a field is empty or missing")
            rows.append((reader.line_num, row))
    return rows

def read_json(path):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise BenchError(f"{path}: line {e.lineno}: not valid JSON ({e.msg})") from None
    except UnicodeDecodeError as e:
        raise BenchError(f"{path}: not UTF-8 ({e.reason} at byte {e.start})") from None
    except RecursionError:
        raise BenchError(f"{path}: JSON nested too deep to read") from None

def find(pattern, text, path, record, what):
    """The first group of pattern in a prompt, or an error naming what could not be found."""
    m = re.search(pattern, text)
    if not m:
        raise BenchError(f"{path}: record {record}: cannot find {what} in the prompt {text[:120]!r}")
    return m.group(1).strip()

def gold_letter(value, k, path, record):
    """The index of a gold answer that must be exactly one of the first k letters, '(B)' or 'B.' included."""
    g = parse_letter(value.strip(), LETTERS[:k])
    if g is None or len(value.strip().strip('().')) != 1:
        raise BenchError(f"{path}: record {record}: gold answer {value!r} is not one of the letters "
                         f"{LETTERS[:k]}")
    return LETTERS.index(g)

def is_conversation(rec):
    """A DevCV record: 'image' a list, 'conversations' alternating human and gpt turns with string values."""
    conv = rec.get('conversations') if isinstance(rec, dict) else None
    if not (isinstance(conv, list) and conv and len(conv) % 2 == 0 and isinstance(rec.get('image'), list)):
        return False
    speakers = ('human', 'gpt')
    return all(isinstance(c, dict) and c.get('from') == speakers[j % 2] and isinstance(c.get('value'), str)
               for j, c in enumerate(conv))

def devcv_records(path):
    """The DevCV toolbox's records, checked: [(record index, record, human turns, gpt turns, image keys)]."""
    recs, folder = read_json(path), os.path.dirname(path)
    if not isinstance(recs, list):
        raise BenchError(f"{path}: record -: expected a JSON list of records")
    out = []
    for i, rec in enumerate(recs):
        if not is_conversation(rec):
            raise BenchError(f"{path}: record {i}: needs 'image' (a list) and 'conversations' alternating "
                             "human/gpt")
        human = [c['value'] for c in rec['conversations'][0::2]]
        gpt = [c['value'] for c in rec['conversations'][1::2]]
        images = [image_key(f"{folder}/{p}") for p in rec['image']]
        tags = sum(h.count('<image>') for h in human)
        if tags != len(images):
            raise BenchError(f"{path}: record {i}: {tags} <image> tags for {len(images)} images")
        out.append((i, rec, human, gpt, images))
    return out

def read_devbench(path):
    """A DevBench manifest: (rows, image columns, text columns), with every image and text field filled."""
    rows = read_csv(path, ())
    header = list(rows[0][1]) if rows else []
    images = [c for c in header if re.fullmatch(r'image\d', c)]
    texts = [c for c in header if re.fullmatch(r'text\d', c)]
    for line, r in rows:
        if any(not (r.get(c) or '').strip() for c in images + texts):
            raise BenchError(f"{path}: line {line}: an image or text field is empty")
    return rows, images, texts

def read_mdb(path):
    """A Machine-DevBench manifest: (its items, whether it is lexical: 2 pictures and 1 caption per item, read
    from the folder Lexical/ or the first item's fields; else grammatical: 2 pictures, 2 captions)."""
    m = read_json(path)
    if not isinstance(m, dict) or not isinstance(m.get('items'), list):
        raise BenchError(f"{path}: record -: a Machine-DevBench manifest is an object with an 'items' list")
    first = (m['items'] or [{}])[0]
    lexical = 'Lexical' in os.path.normpath(path).split(os.sep) or 'caption_positive' in first
    return m['items'], lexical

def mdb_items(path, items, fields):
    """Check that every item has the string fields; an error names the item."""
    for i, it in enumerate(items):
        if not isinstance(it, dict) or any(not isinstance(it.get(k), str) or not it[k] for k in fields):
            raise BenchError(f"{path}: item {i}: needs {', '.join(fields)}")
    return items

def heldout_instances(folder):
    """{instance id: whether it shows a combination held out of the recordings}, from the nursery's
    truth.json beside the suite; None where there is none (the published suites have no such file). Its
    colour swaps always show a held-out pair in the negative picture, whose phrase the corpus never says,
    so a language prior fails their text score by design: they are scored apart from the seen ones."""
    path = os.path.join(folder, 'truth.json')
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            truth = json.load(f)
    except (OSError, ValueError) as e:
        raise BenchError(f"{path}: not readable JSON ({e})") from None
    return {str(it['instance']): bool(it['heldout']) for it in truth.get('items', []) if 'instance' in it}
