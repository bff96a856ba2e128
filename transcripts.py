"""
Transcripts and image-text pairs, read the way the corpora ship them.

read_transcript: SRT, WebVTT, Whisper / WhisperX JSON, SAYCam-style CSV, generic CSV
                 (start,end,text,speaker) and JSONL -> timed utterances of one recording.
read_pairs:      LLaVA conversation JSON (BabyLLaVA / BabyVLM), the EgoBabyVLM CLIP manifest,
                 CVCL's train JSON, or a folder of images with .txt captions -> PairItems.
Both return (items, problems): a bad line or record is skipped and reported as "path:line: reason";
only a file unreadable as a whole raises TranscriptError.
"""
import codecs
import csv
import html
import json
import math
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

TRANSCRIPT_EXTS = ('.srt', '.vtt', '.json', '.csv', '.jsonl')
IMAGE_EXTS = ('.jpg', '.jpeg', '.png')
TEXT_KEYS = ('text', 'utterance', 'transcript')  # accepted names of the text column / key
# a SAYCam row gives only its start: the utterance ends at the next row's start, but at most this much
# later, close to CVCL's cap of 32 frames at 5 fps = 6.4 s per utterance (wkvong/multimodal-baby)
MAX_UTTERANCE_S = 5.0
# a text longer than this is not one utterance but a file that lost its cue lines (one 118 MB SRT cue
# became 26M tokens): it is cut here, and the cut is reported. CVCL's longest utterances are ~25 words.
MAX_UTTERANCE_CHARS = 1000

class TranscriptError(ValueError):
    """A file unreadable as a whole (unknown format, broken JSON); the message is 'path:line: reason'."""

@dataclass(frozen=True)
class Utterance:
    start: float  # seconds from recording start
    end: float
    text: str
    speaker: str  # '' when the transcript does not say

@dataclass(frozen=True)
class PairItem:
    group: str                      # recording-like id; splits are made by group
    images: list                    # absolute Paths, existing, inside the input folder
    texts: list                     # one per gpt turn / caption
    timestamps: list | None = None  # seconds, one per image, where the source gives them
    date: str | None = None
    child: str | None = None
    text_images: list = field(default_factory=list)  # per text, indices of the images shown before it
    missing: list = field(default_factory=list)  # Paths the record names that do not exist (yet)

# ----------------------------------------------------------------------------- text

_ANNOTATION = re.compile(r'\*[^*]*\*|\[[^\]]*\]|\([^)]*\)')
# CVCL turns "inaudible" into <unk>; our BPE has no unknown token and would learn to spell "<unk>",
# so the word is dropped and the rest of the utterance kept
_UNCLEAR = re.compile(r'\b(?:inaudible|unintelligible)\b', re.I)
_TAG = re.compile(r'<[^>]*>')
_VOICE = re.compile(r'<v(?:\.[\w.-]+)?\s+([^>]+)>')
_SPEAKER_PREFIX = re.compile(r"\[?([A-Za-z][\w .'-]{0,30}?)\]?:\s+")  # "Mom: hi", "[SPEAKER_00]: hi"

def clean_text(text):
    """Remove annotations *..* [..] (..) and 'inaudible' (as CVCL does), collapse whitespace."""
    return ' '.join(_UNCLEAR.sub(' ', _ANNOTATION.sub(' ', text)).split())

def capped(text, where, problems):
    """text, cut to MAX_UTTERANCE_CHARS at a space, the cut reported in problems."""
    if len(text) <= MAX_UTTERANCE_CHARS:
        return text
    problems.append(f'{where}: text of {len(text)} characters cut to {MAX_UTTERANCE_CHARS}')
    return text[:MAX_UTTERANCE_CHARS].rsplit(' ', 1)[0]

def load_json(text, path):
    """A JSON document; TranscriptError 'path:line: reason' if it is not valid JSON or nests too deep for
    Python's parser."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise TranscriptError(f'{path}:{e.lineno}: invalid JSON ({e.msg})') from None
    except RecursionError:
        raise TranscriptError(f'{path}:1: JSON nested too deep to read') from None

def speaker_allowed(speaker, keep=None, drop=None):
    """True if speaker is in keep (when given) and not in drop; comma lists, case-insensitive."""
    def names(s):
        return {x.strip().lower() for x in (s or '').split(',') if x.strip()}
    who, kept = (speaker or '').strip().lower(), names(keep)
    return (not kept or who in kept) and who not in names(drop)

# ----------------------------------------------------------------------------- times

_CLOCK = re.compile(r'(?:(\d+):)?(\d+):(\d{1,2}(?:[.,]\d+)?)')

def seconds(value):
    """'hh:mm:ss,mmm', 'mm:ss.mmm', '12.5' or a number -> seconds >= 0; ValueError otherwise."""
    clock = _CLOCK.fullmatch(value.strip()) if isinstance(value, str) else None
    t = -1.0
    if clock:
        h, m, s = int(clock[1] or 0), int(clock[2]), float(clock[3].replace(',', '.'))
        if (clock[1] is None or m < 60) and s < 60:
            t = h * 3600 + m * 60 + s
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        try:
            t = float(value)
        except ValueError:
            pass
    if not 0 <= t < math.inf:  # also rejects nan
        raise ValueError(f'bad time {value!r}')
    return t

def saycam_seconds(value):
    """A SAYCam 'Time' cell -> seconds, as CVCL reads it (convert_timestamps_to_seconds in
    wkvong/multimodal-baby): m:ss, m.ss, m,ss, m;ss; a range 'a-b' keeps a; a bare number is minutes;
    a one-digit seconds field 1-5 is tens ('1:3' = 1:30). Unlike CVCL, h:mm:ss is read as hours."""
    first = re.split(r'\s*[-\u2013]\s*', value.strip())[0]
    parts = [p.strip() for p in re.split(r'[:.,;]', first)] if first else ['x']
    if len(parts) == 3 and first.count(':') == 2 and all(p.isdigit() for p in parts) and int(parts[1]) < 60:
        parts = [str(int(parts[0]) * 60 + int(parts[1])), parts[2]]
    parts = [parts[0] or '0'] + (parts[1:] or ['00'])  # ':30' is 0:30, '5' is 5:00
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or len(parts[1]) > 2:
        raise ValueError(f'bad time {value!r}')
    secs = int(parts[1]) * (10 if len(parts[1]) == 1 and parts[1] in '12345' else 1)  # only tens typed
    if secs >= 60:
        raise ValueError(f'bad time {value!r}')
    return int(parts[0]) * 60 + secs

# ----------------------------------------------------------------------------- transcripts

def _decode_lines(path, problems):
    """Lines of a file, BOM and CR/LF handled. Each line is decoded alone, so invalid UTF-8 costs only that
    line: it is reported, returned decoded with U+FFFD, and its number is put in `bad`."""
    data = Path(path).read_bytes()
    # Windows subtitle tools write UTF-16; UTF-32's BOM starts like UTF-16's, so it is tried first
    boms = {'utf-32': (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE),
            'utf-16': (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)}
    encoding = next((name for name, marks in boms.items() if data.startswith(marks)), None)
    try:
        data = data.decode(encoding).encode('utf-8') if encoding else data
    except UnicodeDecodeError as e:
        raise TranscriptError(f'{path}:1: invalid {encoding} ({e.reason})') from None
    lines, bad = [], set()
    for n, raw in enumerate(data.removeprefix(codecs.BOM_UTF8).splitlines(), 1):
        try:
            lines.append(raw.decode('utf-8'))
        except UnicodeDecodeError as e:
            lines.append(raw.decode('utf-8', 'replace'))
            bad.add(n)
            problems.append(f'{path}:{n}: invalid UTF-8 (byte {e.start}), line skipped')
    return lines, bad

def read_transcript(path, *, duration=None):
    """(utterances sorted by start, problems); the format comes from the extension, a WEBVTT header wins."""
    path, problems = Path(path), []
    lines, bad = _decode_lines(path, problems)
    text_lines = [line.strip() for n, line in enumerate(lines, 1) if n not in bad and line.strip()]
    if not text_lines:
        return [], problems + [f'{path}: empty transcript']
    ext = '.vtt' if text_lines[0].startswith('WEBVTT') else path.suffix.lower()
    parse = {'.srt': _read_cues, '.vtt': partial(_read_cues, vtt=True), '.json': _read_whisper,
             '.jsonl': _read_jsonl, '.csv': _read_csv}.get(ext)
    if parse is None:
        raise TranscriptError(f'{path}:1: unknown transcript format (expected one of {TRANSCRIPT_EXTS})')
    return _finish(path, parse(path, lines, bad, problems), problems, duration)

def _finish(path, rows, problems, duration):
    """rows of (where, start, end or None, text, speaker) -> sorted Utterances with every end filled in."""
    good = []
    for where, start, end, text, speaker in rows:
        if end is not None and end < start:
            problems.append(f'{where}: end {end:g} s before start {start:g} s')
        elif duration is not None and start >= duration:
            problems.append(f'{where}: starts at {start:g} s, after the recording ends ({duration:g} s)')
        else:
            good.append((start, end, text, speaker))
    backwards = sum(b[0] < a[0] for a, b in zip(good, good[1:]))
    if backwards:
        problems.append(f'{path}: {backwards} line(s) out of time order, sorted by start')
    good.sort(key=lambda r: r[0])
    # every timed line bounds the one before it, also a line whose text is dropped (a laugh, "(inaudible)")
    starts = sorted({r[0] for r in good})
    limit = math.inf if duration is None else duration
    utterances = []
    for start, end, text, speaker in good:
        if end is None:
            i = bisect_right(starts, start)
            end = min(starts[i] if i < len(starts) else math.inf, start + MAX_UTTERANCE_S)
        if text:
            text = capped(text, f'{path}: utterance at {start:g} s', problems)
            utterances.append(Utterance(start, min(end, limit), text, speaker))
    if not utterances:
        problems.append(f'{path}: empty transcript')
    return utterances, problems

def _read_cues(path, lines, bad, problems, vtt=False):
    """SRT / WebVTT: blocks separated by blank lines: [cue id] / 'start --> end [settings]' / text lines."""
    cues, block = [], []
    for n, line in enumerate(lines + [''], 1):
        line = '' if n in bad else line.strip()
        # the blank line before a cue is missing
        if '-->' in line and any('-->' in text for _, text in block):
            carry = [block.pop()] if block[-1][1].isdigit() else []  # its cue number
            cues.append(block)
            block = carry
        if line:
            block.append((n, line))
        elif block and n not in bad:
            cues.append(block)
            block = []
    rows = []
    for cue in cues:
        head = cue[0][1].split()[0]
        timing = next((i for i, (_, text) in enumerate(cue) if '-->' in text), None)
        if (vtt and head in ('NOTE', 'STYLE', 'REGION')) or (timing is None and head == 'WEBVTT'):
            continue
        if timing is None:
            problems.append(f'{path}:{cue[0][0]}: text without a cue timing line, skipped')
            continue
        n_timing, (left, right) = cue[timing][0], cue[timing][1].split('-->', 1)
        try:  # cue settings ("align:start ...") follow the end time after a space
            start, end = seconds(left), seconds((right.split() or [''])[0])
        except ValueError as e:
            problems.append(f'{path}:{n_timing}: {e}')
            continue
        rows.append((f'{path}:{n_timing}', start, end, *_cue_text([t for _, t in cue[timing + 1:]])))
    if not rows and not any('-->' in line for line in lines) and not lines[0].startswith('WEBVTT'):
        raise TranscriptError(f'{path}:1: no "start --> end" cue lines: not SRT/WebVTT')
    return rows

def _cue_text(text_lines):
    """(clean text, speaker) of a cue; a WebVTT <v Speaker> tag or a 'Speaker: text' prefix names it."""
    text = ' '.join(text_lines)
    voice = _VOICE.search(text)
    speaker = voice[1].strip() if voice else ''
    text = html.unescape(_TAG.sub('', text))
    prefix = None if speaker else _SPEAKER_PREFIX.match(text)
    if prefix:
        speaker, text = prefix[1].strip(), text[prefix.end():]
    return clean_text(text), speaker

def _read_whisper(path, lines, bad, problems):
    """Whisper / WhisperX JSON: {"segments": [{start, end, text, [speaker], [words]}]}, or a bare list."""
    try:
        doc = load_json('\n'.join(lines), path)
    except TranscriptError as e:
        if 'Extra data' in str(e):  # one object per line: JSONL saved as .json
            return _read_jsonl(path, lines, bad, problems)
        raise
    segments = doc.get('segments') if isinstance(doc, dict) else doc
    if not isinstance(segments, list) or (segments and not any(isinstance(s, dict) and 'start' in s
                                                               for s in segments)):
        raise TranscriptError(f'{path}:1: no "segments" list with start times: not a Whisper transcript')
    rows = []
    for i, seg in enumerate(segments):
        try:
            if not isinstance(seg, dict) or not isinstance(seg.get('text'), str):
                raise ValueError('missing text')
            if '\ufffd' in seg['text']:
                raise ValueError('text has invalid UTF-8')
            start, end = seconds(seg.get('start')), seconds(seg.get('end'))
        except ValueError as e:
            problems.append(f'{path}: segment {i}: {e}, skipped')
            continue
        # WhisperX labels words, and the segment only when its words agree; take the majority
        votes = Counter(w.get('speaker') for w in seg.get('words') or [] if isinstance(w, dict))
        votes.pop(None, None)
        speaker = seg.get('speaker') or (votes.most_common(1)[0][0] if votes else '')
        rows.append((f'{path}: segment {i}', start, end, clean_text(seg['text']), str(speaker)))
    return rows

def _record(row):
    """A generic CSV row or JSONL object -> (start, end or None, text, speaker); ValueError if malformed."""
    row = {str(k).strip().lower(): v for k, v in row.items()}
    text = next((row[k] for k in TEXT_KEYS if row.get(k) not in (None, '')), None)
    if not isinstance(text, str):
        raise ValueError('missing text')
    if row.get('start') in (None, ''):
        raise ValueError('missing start')
    end = None if row.get('end') in (None, '') else seconds(row['end'])
    return seconds(row['start']), end, text, str(row.get('speaker') or '').strip()

def _read_jsonl(path, lines, bad, problems):
    """One {start, end, text, speaker} object per line."""
    rows = []
    for n, line in enumerate(lines, 1):
        if n in bad or not line.strip():
            continue
        try:
            obj = json.loads(line)
            start, end, text, speaker = _record(obj if isinstance(obj, dict) else {})
        except (ValueError, RecursionError) as e:  # JSONDecodeError is a ValueError
            problems.append(f'{path}:{n}: {e or "nested too deep"}, skipped')
            continue
        rows.append((f'{path}:{n}', start, end, clean_text(text), speaker))
    return rows

def _read_csv(path, lines, bad, problems):
    """SAYCam CSV (Time, Utterance, Speaker, Video Name; start times only) or start,end,text[,speaker]."""
    numbers = [n for n in range(1, len(lines) + 1) if n not in bad]
    reader = csv.reader(lines[n - 1] + '\n' for n in numbers)
    header, rows = None, []
    try:
        for row in reader:
            n = numbers[reader.line_num - 1]  # the file line on which this record ends
            if not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [cell.strip().lower() for cell in row]
                saycam = 'time' in header and 'utterance' in header and 'start' not in header
                if not saycam and ('start' not in header or not set(TEXT_KEYS) & set(header)):
                    raise TranscriptError(f'{path}:{n}: unknown CSV header {row}: expected '
                                          'Time,Utterance,Speaker,Video Name or start,end,text[,speaker]')
                continue
            cells = dict(zip(header, row))
            try:
                if saycam:
                    start, end = saycam_seconds(cells.get('time') or ''), None
                    text, speaker = cells.get('utterance') or '', (cells.get('speaker') or '').strip()
                else:
                    start, end, text, speaker = _record(cells)
            except ValueError as e:
                problems.append(f'{path}:{n}: {e}, skipped')
                continue
            rows.append((f'{path}:{n}', start, end, clean_text(text), speaker))
    except csv.Error as e:
        raise TranscriptError(f'{path}:{numbers[reader.line_num - 1]}: {e}') from None
    return rows

# ----------------------------------------------------------------------------- image-text pairs

_CLIP_NAME = re.compile(r'(.+?)_\d+_\d+_frame_?\d+')  # BabyVLM meta.frame: <recording>_<ms>_<ms>_frame_<k>

def _pair_records(doc):
    """('llava' | 'frames', records) for the pair JSON formats, else (None, None)."""
    records = doc.get('data') if isinstance(doc, dict) else doc
    first = next((r for r in records if isinstance(r, dict)), {}) if isinstance(records, list) else {}
    if 'conversations' in first:
        return 'llava', records
    if 'frame_filenames' in first:
        return 'frames', records
    return None, None

def is_pairs_json(path):
    """True for LLaVA / EgoBabyVLM manifest / CVCL train JSON, False for Whisper JSON or other JSON;
    TranscriptError for a file that is not readable JSON."""
    try:
        data = Path(path).read_bytes().decode('utf-8-sig')
    except (OSError, UnicodeDecodeError) as e:
        raise TranscriptError(f'{path}:1: not readable as UTF-8 text ({e})') from None
    return _pair_records(load_json(data, path))[0] is not None

def _llava_record(rec, path):
    """BabyLLaVA / BabyVLM conversation: human turns hold <image> tokens, gpt turns the utterances."""
    names = rec.get('image')
    names = [names] if isinstance(names, str) else names  # LLaVA-1.5 gives a single image as a string
    if not isinstance(names, list) or not names:
        raise ValueError('no "image" list')
    texts, text_images, seen, pending = [], [], 0, []
    for turn in rec.get('conversations') or []:
        role, value = (turn.get('from'), str(turn.get('value', ''))) if isinstance(turn, dict) else ('', '')
        if role in ('human', 'user'):
            k = value.count('<image>')
            pending, seen = pending + list(range(seen, seen + k)), seen + k
        elif role in ('gpt', 'assistant'):
            texts.append(value)
            text_images.append(pending)
            pending = []
    if not texts:
        raise ValueError('no gpt turn')
    if seen == 0:  # LLaVA puts the image before the first turn when the prompt has no <image> token
        text_images[0] = list(range(len(names)))
    elif seen != len(names):
        raise ValueError(f'{seen} <image> tokens for {len(names)} images')
    meta = rec.get('meta') if isinstance(rec.get('meta'), dict) else {}
    clip = _CLIP_NAME.fullmatch(str(meta.get('frame') or meta.get('clip') or ''))
    group = meta.get('recording') or (clip[1] if clip else path.stem)
    return dict(group=str(group), names=names, texts=texts, text_images=text_images, timestamps=None,
                date=meta.get('recorded'), child=meta.get('subject'))

def _frames_record(rec, path):
    """EgoBabyVLM CLIP manifest / CVCL train record: one utterance over a list of frame files."""
    names, text, ts = rec.get('frame_filenames'), rec.get('utterance'), rec.get('timestamps')
    if not isinstance(names, list) or not names or not isinstance(text, str):
        raise ValueError('needs "frame_filenames" and "utterance"')
    try:  # optional in the EgoBabyVLM manifest; ignored unless it is one number per frame
        ts = [float(t) for t in ts] if isinstance(ts, list) and len(ts) == len(names) else None
    except (TypeError, ValueError):
        ts = None
    video = rec.get('video_filename')
    return dict(group=Path(video).stem if isinstance(video, str) and video else path.stem, names=names,
                texts=[text], text_images=[list(range(len(names)))], timestamps=ts, date=None, child=None)

def _inside(root, name):
    """Absolute path of `name` relative to root; ValueError if it leaves root ('../', absolute, symlink)."""
    if not isinstance(name, str) or not name:
        raise ValueError(f'bad image name {name!r}')
    resolved = (root / name).resolve()
    if not resolved.is_relative_to(root):
        raise ValueError(f'image {name!r} is outside {root}')
    return resolved

def _pair_item(r, root, where, problems):
    """Check the images, drop missing ones (re-linking texts) and clean texts; None if nothing is left."""
    paths = [_inside(root, name) for name in r['names']]  # an escape skips the whole record
    keep = [j for j, p in enumerate(paths) if p.is_file()]
    problems += [f'{where}: image {r["names"][j]!r} not found, skipped' for j in range(len(paths))
                 if j not in keep]
    new_index = {old: new for new, old in enumerate(keep)}
    texts, text_images = [], []
    for text, linked in zip(r['texts'], r['text_images']):
        still = [new_index[j] for j in linked if j in new_index]
        if '\ufffd' in text:
            problems.append(f'{where}: text has invalid UTF-8, skipped')
        elif clean_text(text) and (still or not linked):  # drop a text whose images are all gone
            texts.append(capped(clean_text(text), where, problems))
            text_images.append(still)
    if not keep or not texts:
        problems.append(f'{where}: no image or no text left, skipped')
        return None
    ts, date, child = r['timestamps'], r['date'], r['child']
    return PairItem(r['group'], [paths[j] for j in keep], texts, ts and [ts[j] for j in keep],
                    str(date) if date else None, str(child) if child else None, text_images,
                    [p for j, p in enumerate(paths) if j not in keep])

def caption_pairs(root):
    """([(image, caption)], [image without a caption]) under root: images (.jpg/.jpeg/.png) each with a
    same-stem .txt caption, as BabyVLM's synthetic data."""
    pairs, uncaptioned = [], []
    for image in sorted(p for p in Path(root).rglob('*') if p.suffix.lower() in IMAGE_EXTS and p.is_file()):
        caption = image.with_suffix('.txt')
        if caption.is_file():
            pairs.append((image, caption))
        else:
            uncaptioned.append(image)
    return pairs, uncaptioned

def _read_caption_folder(root, problems):
    """The PairItems of a caption folder (caption_pairs), one image and its caption each."""
    items = []
    pairs, uncaptioned = caption_pairs(root)
    for image, caption in pairs:
        try:
            path = _inside(root, str(image.relative_to(root)))
            _inside(root, str(caption.relative_to(root)))
        except ValueError as e:
            problems.append(f'{image}: {e}, skipped')
            continue
        lines, bad = _decode_lines(caption, problems)
        text = clean_text(' '.join(line for n, line in enumerate(lines, 1) if n not in bad))
        text = capped(text, str(caption), problems)
        if not text:
            problems.append(f'{caption}: empty caption, skipped')
            continue
        group = image.parent.relative_to(root).as_posix() if image.parent != root else root.name
        items.append(PairItem(group, [path], [text], None, None, None, [[0]]))
    if uncaptioned:  # e.g. the media/ of a LLaVA JSON in the same tree: one summary, not one each
        problems.append(f'{root}: {len(uncaptioned)} image(s) without a .txt caption skipped, '
                        f'e.g. {uncaptioned[0].relative_to(root)}')
    return items

def read_pairs(path):
    """(PairItems, problems) from a pairs JSON file (images relative to its folder) or a caption folder."""
    path, problems = Path(path), []
    if path.is_dir():
        return _read_caption_folder(path.resolve(), problems), problems
    doc = load_json('\n'.join(_decode_lines(path, problems)[0]), path)
    kind, records = _pair_records(doc)
    if kind is None and (doc.get('data') if isinstance(doc, dict) else doc) == []:
        return [], problems + [f'{path}: no records']
    if kind is None:
        raise TranscriptError(f'{path}:1: not a pairs JSON (expected LLaVA "conversations", '
                              'or "frame_filenames" records as in the EgoBabyVLM / CVCL manifests)')
    items = []
    for i, rec in enumerate(records):
        try:
            read_record = _llava_record if kind == 'llava' else _frames_record
            r = read_record(rec if isinstance(rec, dict) else {}, path)
            items.append(_pair_item(r, path.parent.resolve(), f'{path}: record {i}', problems))
        except ValueError as e:
            problems.append(f'{path}: record {i}: {e}, skipped')
    return [item for item in items if item is not None], problems
