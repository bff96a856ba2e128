"""
The benchmarks' side of evaluate.py, with no model in it: a reader for every published file format (and the
nursery's own), the DevCV toolbox's answer parser, and the metrics, each a pure function with a known-answer test.
Every loader returns {kind, items} with each item's options and gold; a malformed file raises BenchError naming
the file and the record (line, record or item index). Formats: ../shared/formats/README.md; metrics:
../shared/BENCHMARKS.md.
"""
import csv
import json
import math
import os
import re

import numpy as np
import torch

LETTERS = 'ABCD'

NUMBER_WORDS = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten')

RING = ('top', 'top right', 'right', 'bottom right', 'bottom', 'bottom left', 'left', 'top left')  # 8 exits, in order

QUADRANTS = ((0, 0, .5, .5), (.5, 0, 1, .5), (0, .5, .5, 1), (.5, .5, 1, 1))  # A-D: top left .. bottom right

CELL = {'top': (1, 0), 'bottom': (1, 2), 'left': (0, 1), 'right': (2, 1), 'top left': (0, 0), 'top right': (2, 0),
        'bottom left': (0, 2), 'bottom right': (2, 2)}

DEVCV = {'picture_vocabulary': 'baby_pv', 'picture_vocab': 'baby_pv', 'picture_vocab_selected': 'baby_pv',
         'localize': 'baby_localize', 'leftright': 'baby_leftright', 'spatialdetails': 'baby_spatialdetails',
         'spatial': 'baby_spatialdetails', 'vdr-binary': 'baby_vdr_binary', 'vdr': 'baby_vdr_binary',
         'vdr-open': 'baby_vdr_open', 'compare_synthetic': 'baby_compare_synthetic', 'compare_real': 'baby_compare_real',
         'whohasmore_synthetic': 'baby_compare_synthetic', 'who_has_more': 'baby_compare_real', 'count': 'baby_count',
         'subitize': 'baby_subitize', 'memory': 'baby_memory'}

LEADERBOARD = {'baby_pv': 'acc', 'baby_winoground': 'group_score', 'baby_localize': 'acc', 'baby_leftright': 'acc',
               'baby_spatialdetails': 'acc', 'baby_vdr_binary': 'acc_exact', 'baby_vdr_open': 'acc_exact',
               'baby_compare_synthetic': 'acc', 'baby_compare_real': 'acc', 'baby_count': 'acc',
               'baby_memory': 'acc_testing_adjusted'}  # the toolbox leaderboard's primary metric per task

# ----------------------------------------------------------------------------- answer parsing and metrics

class BenchError(ValueError):
    """A malformed benchmark file; the message names the file and the record."""

def parse_letter(text, letters=LETTERS):
    m = re.search(rf"(?<![A-Za-z])([{letters}])(?![A-Za-z])", text or '')
    return m.group(1) if m else None

def parse_number(text):
    m = re.search(r"\d+|\b(?:" + '|'.join(NUMBER_WORDS) + r")\b", (text or '').lower())
    return None if not m else int(m.group()) if m.group().isdigit() else NUMBER_WORDS.index(m.group())

def parse_direction(text, options=RING):
    """The first direction word; a two-word exit ('top left') wins over its first word at the same place."""
    text, hits = (text or '').lower(), []
    for d in options:
        m = re.search(rf"\b{d}\b", text)
        if m:
            hits.append((m.start(), -len(d), d))
    return min(hits)[2] if hits else None

def credit(scores, gold, near=()):
    """1 if the gold option scores highest, 1/t for a tie of t that includes it, 0 if its score is NaN (an answer
    that could not be parsed). near: options that count as right too (VDR's adjacent exits)."""
    s = np.asarray(scores, dtype=float)
    if gold is None or np.isnan(s[gold]):
        return 0.0
    top = np.flatnonzero(s == np.nanmax(s))
    return sum(1.0 for t in top if t == gold or t in near) / len(top)

def wilson(p, n, z=1.96):
    if n == 0:
        return None
    centre, half = (p + z * z / (2 * n)) / (1 + z * z / n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]

def boot(stat, n, reps=1000, seed=0):
    """95% percentile interval of stat(indices) over reps resamples of the n items (with replacement), seeded."""
    rng = np.random.default_rng(seed)
    vals = [stat(rng.integers(0, n, n)) for _ in range(reps)] if n else []
    vals = [v for v in vals if v is not None and not np.isnan(v)]
    return [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))] if vals else None

def winoground(s):
    """s (n, 2, 2): s[:, image, text], higher is better; image i goes with text i. Strict, so ties fail."""
    text = (s[:, 0, 0] > s[:, 0, 1]) & (s[:, 1, 1] > s[:, 1, 0])
    image = (s[:, 0, 0] > s[:, 1, 0]) & (s[:, 1, 1] > s[:, 0, 1])
    return dict(text_score=text, image_score=image, group_score=text & image,
                positive_context=(s[:, 0, 0] > s[:, 0, 1]) & (s[:, 0, 0] > s[:, 1, 0]),
                negative_context=(s[:, 1, 1] > s[:, 1, 0]) & (s[:, 1, 1] > s[:, 0, 1]))

def memory_scores(rounds, credits):
    """One record: (learning credits, test credits, adjusted numerator, base). base = (rounds + 1) // 3 learning
    rounds; an old item counts for the adjusted score only if all (both) of its test rounds are right."""
    base = (len(rounds) + 1) // 3
    old = {}
    for r in range(base, len(rounds)):
        old.setdefault(rounds[r]['old'], []).append(credits[r])
    adjusted = None if None in old else sum(float(np.prod(c)) for c in old.values())
    return credits[:base], credits[base:], adjusted, base

def merged_bin(label):
    """Machine-DevBench reports bins [1,2) and [2,4) as one."""
    return '[1,4)' if str(label).replace(' ', '') in ('[1,2)', '[2,4)') else str(label)

def bin_mean(correct, bins):
    return float(np.mean([np.mean([c for c, b in zip(correct, bins) if b == u]) for u in sorted(set(bins))]))

def tokenize_caption(text):  # PTB-style, as the SAYCam captions are spaced: "it 's", "do n't", "ball !"
    text = re.sub(r"'(s|re|ll|m|d|ve)\b", r" '\1", re.sub(r"n't\b", " n't", text.lower()))
    return re.findall(r"n't|'\w+|\w+|[^\w\s]", text)

def meteor(hyp, ref, alpha=0.9, beta=3.0, gamma=0.5):
    """METEOR (Banerjee & Lavie 2005) with exact matching only, aligned as nltk's meteor_score aligns (babylmms-eval
    uses nltk): Fmean = PR / (alpha P + (1 - alpha) R), times 1 - gamma (chunks / matches)^beta."""
    h, r, matches = list(enumerate(hyp)), list(enumerate(ref)), []
    for i in range(len(h))[::-1]:
        for j in range(len(r))[::-1]:
            if h[i][1] == r[j][1]:
                matches.append((h[i][0], r[j][0]))
                h.pop(i), r.pop(j)
                break
    if not matches:
        return 0.0
    matches.sort()
    chunks = 1 + sum(1 for a, b in zip(matches, matches[1:]) if (b[0], b[1]) != (a[0] + 1, a[1] + 1))
    p, rec = len(matches) / len(hyp), len(matches) / len(ref)
    return (1 - gamma * (chunks / len(matches)) ** beta) * p * rec / (alpha * p + (1 - alpha) * rec)

def meteor_fn():
    """nltk's METEOR with WordNet synonyms if nltk and its WordNet data are installed, else the exact variant."""
    try:
        from nltk.corpus import wordnet
        from nltk.translate.meteor_score import meteor_score
        wordnet.synsets('dog')
        return 'meteor', lambda hyp, ref: meteor_score([ref], hyp)
    except Exception:
        return 'meteor_exact', meteor

def auroc(pos, neg):
    """P(a positive scores above a negative), ties half (Mann-Whitney)."""
    pos, neg = np.asarray(pos, float)[:, None], np.asarray(neg, float)[None, :]
    return float(((pos > neg) + 0.5 * (pos == neg)).mean()) if pos.size and neg.size else None

def fit_kl(human, scores):
    """DevBench's human alignment: min over beta in [0.025, 40] (a 400-point log grid, 1.9% apart) of the mean
    KL(human || softmax(beta * scores)) over trials. Returns (kl, beta)."""
    best = (np.inf, None)
    for beta in np.geomspace(0.025, 40, 400):
        z = beta * scores - (beta * scores).max(1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(1, keepdims=True))
        kl = np.where(human > 0, human * (np.log(np.where(human > 0, human, 1)) - logp), 0).sum(1).mean()
        best = min(best, (float(kl), float(beta)))
    return best

# ----------------------------------------------------------------------------- loaders, one per published format

def read_csv(path, required):
    """Rows (line number, dict) of a CSV with a UTF-8 BOM or not, LF or CRLF."""
    with open(path, encoding='utf-8-sig', newline='') as f:
        reader = csv.DictReader(f)
        lacks = [c for c in required if c not in (reader.fieldnames or [])]
        if lacks:
            raise BenchError(f"{path}: line 1: header lacks {', '.join(lacks)}")
        rows = []
        for row in reader:
            if None in row or any(not (row.get(c) or '').strip() for c in required):
                raise BenchError(f"{path}: line {reader.line_num}: {'too many fields' if None in row else 'a field is empty or missing'}")
            rows.append((reader.line_num, row))
    return rows

def img(path, box=None):
    return (os.path.normpath(path), box)

def load_v1(path, key):
    d = os.path.dirname(path)
    if key == 'labeled_s':
        trials = {}
        for line, r in read_csv(path, ('trial_id', 'target_category', 'real_category', 'image')):
            trials.setdefault(r['trial_id'], []).append((line, r))
        items = []
        for tid, rows in trials.items():
            gold = [k for k, (_, r) in enumerate(rows) if r['real_category'] == r['target_category']]
            if len(gold) != 1 or len(rows) < 2 or len({r['target_category'] for _, r in rows}) != 1:
                raise BenchError(f"{path}: line {rows[0][0]}: trial {tid} needs one target row among 2+ rows of one word")
            word = rows[0][1]['target_category']
            items.append(dict(id=tid, gold=gold[0], options=[('match', img(f"{d}/images/{r['image']}"), word)
                                                            for _, r in rows]))
        return dict(kind='choice', items=items)
    if key == 'vtwt':
        rows = read_csv(path, ('image', 'positive_phrase', 'negative_phrase'))
        return dict(kind='choice', items=[dict(id=str(i), gold=0, options=[
            ('match', img(f"{d}/images/{r['image']}"), r[p]) for p in ('positive_phrase', 'negative_phrase')])
            for i, (_, r) in enumerate(rows)])
    if key == 'baby_winoground':
        inst = {}
        for line, r in read_csv(path, ('instance_id', 'positive_phrase', 'negative_phrase', 'image', 'image_tag')):
            if r['image_tag'] not in ('positive', 'negative'):
                raise BenchError(f"{path}: line {line}: image_tag must be positive or negative, got {r['image_tag']!r}")
            inst.setdefault(r['instance_id'], {})[r['image_tag']] = (line, r)
        items = []
        for iid, tags in inst.items():
            if len(tags) != 2:
                raise BenchError(f"{path}: line {next(iter(tags.values()))[0]}: instance {iid} needs a positive and a negative row")
            (_, p), (_, n) = tags['positive'], tags['negative']
            items.append(dict(id=iid, images=[img(f"{d}/positive_images/{p['image']}"), img(f"{d}/negative_images/{n['image']}")],
                              texts=[p['positive_phrase'], p['negative_phrase']]))
        return dict(kind='winoground', items=items)
    rows = read_csv(path, ('image', 'text'))  # SAYCam_caption
    return dict(kind='caption', items=[dict(id=str(i), image=img(f"{d}/images/{r['image']}"), text=r['text'])
                                       for i, (_, r) in enumerate(rows)])

def read_json(path):
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise BenchError(f"{path}: line {e.lineno}: not valid JSON ({e.msg})")

def find(pattern, text, path, i, what):
    m = re.search(pattern, text)
    if not m:
        raise BenchError(f"{path}: record {i}: cannot find {what} in the prompt {text[:120]!r}")
    return m.group(1).strip()

def gold_letter(value, k, path, i):
    g = parse_letter(value.strip(), LETTERS[:k])
    if g is None or len(value.strip().strip('().')) != 1:
        raise BenchError(f"{path}: record {i}: gold answer {value!r} is not one of the letters {LETTERS[:k]}")
    return LETTERS.index(g)

def load_devcv(path, key):
    """The DevCV toolbox's LLaVA-conversation records (and the nursery's gaze/joint-attention ones)."""
    recs, d, items = read_json(path), os.path.dirname(path), []
    if not isinstance(recs, list):
        raise BenchError(f"{path}: record -: expected a JSON list of records")
    xywh = 'babyview' not in os.path.normpath(path).split(os.sep)  # BabyView's bb is [x1, y1, x2, y2]
    for i, rec in enumerate(recs):
        conv = rec.get('conversations') if isinstance(rec, dict) else None
        if not (isinstance(conv, list) and conv and len(conv) % 2 == 0 and isinstance(rec.get('image'), list) and all(
                isinstance(c, dict) and c.get('from') == ('human', 'gpt')[j % 2] and isinstance(c.get('value'), str)
                for j, c in enumerate(conv))):
            raise BenchError(f"{path}: record {i}: needs 'image' (a list) and 'conversations' alternating human/gpt")
        human, gpt = [c['value'] for c in conv[0::2]], [c['value'] for c in conv[1::2]]
        ims, prompt = [img(f"{d}/{p}") for p in rec['image']], human[0]
        if sum(h.count('<image>') for h in human) != len(ims):
            raise BenchError(f"{path}: record {i}: {sum(h.count('<image>') for h in human)} <image> tags for {len(ims)} images")
        it = dict(id=str(i), rid=rec.get('id'))
        if key == 'baby_memory':
            rounds, at, labels = [], 0, rec.get('labels')
            for r, (h, g) in enumerate(zip(human, gpt)):
                k = h.count('<image>')
                rounds.append(dict(options=ims[at:at + k], gold=gold_letter(g, k, path, f"{i} round {r}")))
                at += k
            if labels is not None and (len(labels) != len(rounds) or any(len(l) != len(x['options']) for l, x in zip(labels, rounds))):
                raise BenchError(f"{path}: record {i}: 'labels' does not match the rounds' images")
            for r, x in enumerate(rounds):  # the old thing of a test round: the option that is not new
                others = [j for j in range(len(x['options'])) if j != x['gold']]
                x['old'] = (labels[r][others[0]] if labels else file_hash(x['options'][others[0]][0])) if others else None
            items.append(dict(it, rounds=rounds))
            continue
        if key in ('baby_vdr_binary', 'baby_vdr_open'):
            if re.search(r'\(A\)', prompt):  # NIH: "Where does it hide? (A) left (B) right", no object word
                opts = [o.strip().lower() for o in re.findall(r'\([A-D]\)\s*([a-z ]+)', prompt)]
                word, gold = None, gold_letter(gpt[0], len(opts), path, i)
            else:
                word = find(r"(?:does|do) the (.+?) leave", prompt, path, i, 'the object')
                opts = re.findall(r"'([a-z ]+)'", prompt.split('respond ONLY')[-1])
                if gpt[0].strip().lower() not in opts:
                    raise BenchError(f"{path}: record {i}: gold {gpt[0]!r} is not among the exits {opts}")
                gold = opts.index(gpt[0].strip().lower())
            if any(o not in CELL for o in opts):
                raise BenchError(f"{path}: record {i}: unknown exit among {opts}")
            items.append(dict(it, gold=gold, names=opts, options=[('track', tuple(ims), word, o, len(opts) > 2) for o in opts]))
            continue
        if key in ('baby_count', 'baby_subitize'):
            noun = find(r"How many (?:of )?(.+?) do you see", prompt, path, i, 'the counted word')
            if not gpt[0].strip().isdigit():
                raise BenchError(f"{path}: record {i}: gold count {gpt[0]!r} is not a whole number")
            g = int(gpt[0])
            items.append(dict(it, gold=g if g <= 10 else None, value=g,
                              options=[('match', ims[0], number_phrase(n, noun)) for n in range(11)]))
            continue
        if key == 'joint_attention':
            opts = [('imsim', ims[0], o) for o in ims[1:]]
        elif key == 'gaze':
            texts = rec.get('options') or [t.strip() for t in re.findall(r'\([A-D]\)\s*([^()]+)', prompt)]
            opts = [('match', ims[0], t) for t in texts]
        elif key in ('baby_leftright', 'baby_spatialdetails'):
            opts = [('imsim', ims[0], o) for o in ims[1:]]
        elif key in ('baby_compare_synthetic', 'baby_compare_real'):
            noun = find(r"has more (?:of )?(.+?)\?", prompt, path, i, 'the compared word')
            opts = [('count', o, noun) for o in ims]
        elif key == 'baby_localize' or (key == 'baby_pv' and len(ims) == 1):  # NIH pv: one composite picture
            word = find(r"Point at the (.+?)\. Is it" if key == 'baby_localize' else r"image of '(.+?)'", prompt, path, i, 'the word')
            opts = [('match', img(ims[0][0], q), word) for q in QUADRANTS]
            if 'bb' in rec:
                if not (isinstance(rec['bb'], list) and len(rec['bb']) == 4):
                    raise BenchError(f"{path}: record {i}: bb must be 4 numbers")
                x, y, a, b = rec['bb']
                it['box'] = [x, y, x + a, y + b] if xywh else [x, y, a, b]  # always [x1, y1, x2, y2] in pixels
        elif key == 'baby_pv':
            word = find(r"image of '(.+?)'", prompt, path, i, 'the word')
            opts = [('match', o, word) for o in ims]
        else:
            raise BenchError(f"{path}: unknown DevCV task {key}")
        items.append(dict(it, gold=gold_letter(gpt[0], len(opts), path, i), options=opts))
    return dict(kind='memory' if key == 'baby_memory' else 'count' if key in ('baby_count', 'baby_subitize') else
                'vdr' if key.startswith('baby_vdr') else 'choice', items=items)

def file_hash(path):
    try:
        with open(path, 'rb') as f:
            return hash(f.read())
    except OSError:
        return None  # unknown identity: no adjusted score for this record

def number_phrase(n, noun):
    """'two balls' / 'one ball' from the prompt's noun (plural in most prompts, singular after 'of')."""
    one = noun[:-1] if noun.endswith('s') and not noun.endswith('ss') else noun
    many = noun if noun.endswith('s') else noun + 's'
    return f"{NUMBER_WORDS[n]} {one if n == 1 else many}"

def load_devbench(path, key):
    rows, d = read_csv(path, ()), os.path.dirname(path)
    header = list(rows[0][1]) if rows else []
    ic, tc = [c for c in header if re.fullmatch(r'image\d', c)], [c for c in header if re.fullmatch(r'text\d', c)]
    for line, r in rows:
        if any(not (r.get(c) or '').strip() for c in ic + tc):
            raise BenchError(f"{path}: line {line}: an image or text field is empty")
    if len(tc) == 2 and len(ic) == 2:
        return dict(kind='winoground', items=[dict(id=str(i), images=[img(f"{d}/{r[c]}") for c in ic], texts=[r[c] for c in tc])
                                              for i, (_, r) in enumerate(rows)])
    if len(tc) != 1 or len(ic) < 2:
        return dict(kind='skip', items=[], note='not a forced choice (RSA or text only): not scored')
    items = [dict(id=str(i), gold=0, options=[('match', img(f"{d}/{r[c]}"), r['text1']) for c in ic]) for i, (_, r) in enumerate(rows)]
    task = os.path.basename(d)
    for h in (f"{d}/human.csv", f"{d}/../../evals/{task}/human.csv"):
        if os.path.exists(h):
            for line, r in read_csv(h, ('trial',)):
                t = int(float(r['trial'])) - 1  # 1-based manifest row
                dist = [float(r['prop']), 1 - float(r['prop'])] if 'prop' in r else [float(r[c]) for c in ic]
                if 0 <= t < len(items):
                    items[t].setdefault('human', {})[r.get('age_bin', 'all')] = dist
            break
    return dict(kind='choice', items=items)

def load_mdb(path, key):
    m = read_json(path)
    if not isinstance(m, dict) or not isinstance(m.get('items'), list):
        raise BenchError(f"{path}: record -: a Machine-DevBench manifest is an object with an 'items' list")
    d, items = os.path.dirname(path), []
    lexical = 'Lexical' in os.path.normpath(path).split(os.sep) or 'caption_positive' in (m['items'] or [{}])[0]
    need = ('caption_positive', 'image_positive', 'image_negative') if lexical else ('caption_a', 'caption_b', 'image_0', 'image_1')
    for i, it in enumerate(m['items']):
        if not isinstance(it, dict) or any(not isinstance(it.get(k), str) or not it[k] for k in need):
            raise BenchError(f"{path}: item {i}: needs {', '.join(need)}")
        if lexical:
            items.append(dict(id=str(i), images=[img(f"{d}/{it['image_positive']}"), img(f"{d}/{it['image_negative']}")],
                              texts=[it['caption_positive']], bin=merged_bin(it.get('frequency_bin', 'unknown'))))
        else:
            items.append(dict(id=str(i), images=[img(f"{d}/{it['image_0']}"), img(f"{d}/{it['image_1']}")],
                              texts=[it['caption_a'], it['caption_b']]))
    return dict(kind='lexical' if lexical else 'grammatical', items=items)

def load_voe(path, key):
    recs, d = read_json(path), os.path.dirname(path)
    for i, r in enumerate(recs):
        if not (isinstance(r, dict) and all(isinstance(r.get(k), list) and len(r[k]) >= 2 for k in ('possible', 'impossible'))):
            raise BenchError(f"{path}: record {i}: needs 'possible' and 'impossible' lists of 2+ frames")
    return dict(kind='voe', items=[dict(id=str(i), concept=r.get('concept', 'all'), clips=[
        tuple(img(f"{d}/{p}") for p in r[k]) for k in ('possible', 'impossible')]) for i, r in enumerate(recs)])

def load_probes(path, key):
    p, d = read_json(path), os.path.dirname(path)
    labels = p.get('labels') if isinstance(p, dict) else None
    for i, it in enumerate(p.get('items', []) if labels else [None]):
        if not (isinstance(it, dict) and it.get('label') in labels and it.get('split') in ('train', 'test') and it.get('image')):
            raise BenchError(f"{path}: item {i}: needs image, a label from 'labels', split train|test")
    return dict(kind='probe', labels=labels, items=[dict(id=str(i), image=img(f"{d}/{it['image']}"), label=labels.index(
        it['label']), split=it['split']) for i, it in enumerate(p['items'])])

V1 = {'labeled_s.csv': 'labeled_s', 'vtwt.csv': 'vtwt', 'baby_winoground.csv': 'baby_winoground',
      'SAYCam_caption.csv': 'saycam_caption'}

OWN = {'voe': ('voe', load_voe), 'gaze': ('gaze', load_devcv), 'joint_attention': ('joint_attention', load_devcv),
       'probes': ('probes', load_probes)}

def discover(root):
    """{task key: (loader, path, loader key)} for every benchmark file under root; a key found twice gets @folder."""
    found = {}
    for d, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        parent = os.path.basename(d)
        for f in sorted(files):
            path = os.path.join(d, f)
            if f in V1:
                hit = (V1[f], load_v1, 'baby_winoground' if V1[f] == 'baby_winoground' else V1[f])
            elif f == 'data.json' and parent in DEVCV:
                hit = (DEVCV[parent], load_devcv, DEVCV[parent])
            elif f == 'data.json' and parent in OWN:
                hit = (OWN[parent][0], OWN[parent][1], OWN[parent][0])
            elif f == 'manifest.csv':
                hit = (f'devbench_{parent}', load_devbench, parent)
            elif re.fullmatch(r'manifest_.+\.json', f):
                hit = ('md_' + f[9:-5].replace('grammatical_', ''), load_mdb, f)
            else:
                continue
            key = hit[0] if hit[0] not in found else f"{hit[0]}@{os.path.relpath(d, root)}"
            found[key] = (hit[1], path, hit[2])
    return found

def load_task(loader, path, lkey):
    task = loader(path, lkey)
    task['file'] = path
    return task

def item_images(task, it):
    if task['kind'] == 'memory':
        return [k for x in it['rounds'] for k in x['options']]
    if task['kind'] == 'voe':
        return [k for c in it['clips'] for k in c]
    keys = list(it.get('images', [])) + ([it['image']] if 'image' in it else [])
    for op in it.get('options', []):
        keys += list(op[1]) if op[0] == 'track' else [op[1], op[2]] if op[0] == 'imsim' else [op[1]]
    return keys

def check_images(task):
    """Every picture a task points at exists, else an error that names the file, the record and the picture."""
    for it in task['items']:
        for path, _ in item_images(task, it):
            if not os.path.isfile(path):
                raise BenchError(f"{task['file']}: record {it['id']}: image {path} is missing")

def region(direction, cells):
    """The part of the frame an exit points at, as fractions (x0, y0, x1, y1): a 3x3 cell (8-way), else a half
    for a side and a quadrant for a corner."""
    x, y = CELL[direction]
    if cells:
        return (x / 3, y / 3, (x + 1) / 3, (y + 1) / 3)
    span = {0: (0, .5), 1: (0, 1), 2: (.5, 1)}
    return (span[x][0], span[y][0], span[x][1], span[y][1])

def as_scores(task, it, v, names=None):
    """An answer line ({'answer': text}) parsed as the toolbox parses answers, as one-hot scores (NaN: unparsed)."""
    if not isinstance(v, dict):
        return np.asarray(v, dtype=float)
    k = len(names or it['options'])
    pick = parse_direction(v['answer'], names) if names and task['kind'] == 'vdr' else None
    pick = names.index(pick) if pick else (LETTERS.index(parse_letter(v['answer'], LETTERS[:k])) if parse_letter(
        v['answer'], LETTERS[:k]) else None)
    s = np.full(k, np.nan)
    if pick is not None:
        s[:] = 0.0
        s[pick] = 1.0
    return s

def summarize(task, res, reps=1000, seed=0):
    """Metrics of one task from {item id: scores}: a dict with n, score, metric, chance, interval and metrics."""
    kind, items = task['kind'], task['items']
    missing = [it['id'] for it in items if (f"{it['id']}/0" if kind == 'memory' else it['id']) not in res]
    if missing:
        raise BenchError(f"{task['file']}: no scores for items {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}")
    mean = lambda c: dict(score=float(np.mean(c)), interval=wilson(float(np.mean(c)), len(c)))  # noqa: E731
    if kind in ('choice', 'count', 'vdr'):
        cr, adj, chance_adj = [], [], []
        for it in items:
            v, names = res[it['id']], it.get('names')
            if kind == 'count' and isinstance(v, dict):
                cr.append(float(parse_number(v['answer']) == it['value']))
                continue
            s, near = as_scores(task, it, v, names), ()
            if names:
                ring = RING.index(names[it['gold']])
                near = [j for j, o in enumerate(names) if o in (RING[ring - 1], RING[(ring + 1) % 8])]
                adj.append(credit(s, it['gold'], near))
                chance_adj.append((1 + len(near)) / len(names))
            cr.append(credit(s, it['gold']))
        out = dict(n=len(items), metric='acc_exact' if adj else 'acc', **mean(cr), chance=float(np.mean(
            [1 / len(it['options']) for it in items])) if items else None, metrics={})
        if adj:
            out['metrics'] = dict(acc_exact=out['score'], acc_adjacent=float(np.mean(adj)), chance_adjacent=float(
                np.mean(chance_adj)), interval_adjacent=wilson(float(np.mean(adj)), len(adj)))
        else:
            out['metrics']['acc'] = out['score']
        human = [it for it in items if 'human' in it and not isinstance(res[it['id']], dict)]
        for age in sorted({a for it in human for a in it['human']}, key=str):
            trials = [it for it in human if age in it['human']]
            h = np.array([it['human'][age] for it in trials], float)
            kl, beta = fit_kl(h / h.sum(1, keepdims=True), np.array([res[it['id']] for it in trials], float))
            out['metrics'].setdefault('kl_by_age', {})[str(age)] = dict(kl=kl, beta=beta, n=len(trials))
        if 'kl_by_age' in out['metrics']:
            out['metrics']['kl'] = float(np.mean([v['kl'] for v in out['metrics']['kl_by_age'].values()]))
        return out
    if kind in ('winoground', 'grammatical', 'lexical'):
        s = np.array([res[it['id']] for it in items], float)
        if kind == 'lexical':
            ok, bins = s[:, 0] > s[:, 1], [it['bin'] for it in items]
            per_bin = {b: float(np.mean([o for o, c in zip(ok, bins) if c == b])) for b in sorted(set(bins))}
            return dict(n=len(items), metric='acc (mean over frequency bins)', score=bin_mean(ok, bins), chance=0.5,
                        interval=boot(lambda i: bin_mean(ok[i], [bins[j] for j in i]), len(items), reps, seed),
                        metrics=dict(acc_items=float(ok.mean()), by_bin=per_bin))
        if kind == 'grammatical':
            return dict(n=len(items), metric='acc', chance=0.5, metrics={},
                        **mean(s[:, 0] + s[:, 3] > s[:, 1] + s[:, 2]))
        w = winoground(s.reshape(-1, 2, 2))
        chance = dict(text_score=.25, image_score=.25, group_score=1 / 6, positive_context=1 / 3, negative_context=1 / 3)
        return dict(n=len(items), metric='group_score', chance=chance['group_score'], **mean(w['group_score']),
                    metrics={k: float(v.mean()) for k, v in w.items()}, chances=chance,
                    intervals={k: wilson(float(v.mean()), len(v)) for k, v in w.items()})
    if kind == 'memory':
        recs = []
        for it in items:
            rounds = it['rounds']
            cr = [credit(as_scores(task, x, res[f"{it['id']}/{r}"], [''] * len(x['options'])) if isinstance(
                res[f"{it['id']}/{r}"], dict) else res[f"{it['id']}/{r}"], x['gold']) for r, x in enumerate(rounds)]
            recs.append(memory_scores(rounds, cr))
        known = [r for r in recs if r[2] is not None]
        adjusted = lambda idx: sum(known[i][2] for i in idx) / max(1, sum(known[i][3] for i in idx))  # noqa: E731
        learn, test = [c for r in recs for c in r[0]], [c for r in recs for c in r[1]]
        chance_l = float(np.mean([1 / len(x['options']) for it in items for x in it['rounds'][:(len(it['rounds']) + 1) // 3]]))
        return dict(n=len(items), metric='acc_testing_adjusted', score=adjusted(range(len(known))) if known else None,
                    chance=0.25, interval=boot(adjusted, len(known), reps, seed) if known else None, metrics=dict(
                        acc_learning=float(np.mean(learn)), acc_testing_raw=float(np.mean(test)),
                        acc_testing_adjusted=adjusted(range(len(known))) if known else None, chance_learning=chance_l,
                        records_without_identity=len(recs) - len(known)))
    if kind == 'voe':
        s = np.array([res[it['id']] for it in items], float)
        ok = s[:, 1] > s[:, 0]
        concepts = [it['concept'] for it in items]
        return dict(n=len(items), metric='pairwise_acc', chance=0.5, **mean(ok), metrics=dict(
            pairwise_acc=float(ok.mean()), auroc=auroc(s[:, 1], s[:, 0]), interval_auroc=boot(
                lambda i: auroc(s[i, 1], s[i, 0]), len(items), reps, seed), by_concept={c: float(np.mean(
                    [o for o, k in zip(ok, concepts) if k == c])) for c in sorted(set(concepts))}))
    if kind == 'caption':
        name, fn = meteor_fn()
        m = np.array([fn(tokenize_caption(res[it['id']]['answer']), tokenize_caption(it['text'])) for it in items])
        return dict(n=len(items), metric=name, score=float(m.mean()), chance=None, interval=boot(lambda i: m[i].mean(), len(m), reps, seed),
                    metrics={name: float(m.mean()), 'samples': [res[it['id']]['answer'] for it in items[:5]]})
    if kind == 'probe':
        return probe(task, res, seed)
    raise BenchError(f"{task['file']}: nothing scores tasks of kind {kind}")

def probe(task, res, seed=0):
    """Linear (softmax regression, L2, LBFGS) and 10-NN (cosine, DINO's weighted vote) probes of frozen features."""
    x = {s: torch.tensor(np.array([res[it['id']] for it in task['items'] if it['split'] == s]), dtype=torch.float32)
         for s in ('train', 'test')}
    y = {s: torch.tensor([it['label'] for it in task['items'] if it['split'] == s]) for s in ('train', 'test')}
    mu, sd = x['train'].mean(0), x['train'].std(0) + 1e-6
    a, b = (x['train'] - mu) / sd, (x['test'] - mu) / sd
    torch.manual_seed(seed)
    lin = torch.nn.Linear(a.shape[1], len(task['labels']))
    opt = torch.optim.LBFGS(lin.parameters(), max_iter=200, line_search_fn='strong_wolfe')
    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(lin(a), y['train']) + 1e-3 * lin.weight.pow(2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    linear = (lin(b).argmax(1) == y['test']).float().mean().item()
    na, nb = torch.nn.functional.normalize(x['train'], dim=1), torch.nn.functional.normalize(x['test'], dim=1)
    sim, idx = (nb @ na.T).topk(min(10, len(na)), dim=1)
    votes = torch.zeros(len(nb), len(task['labels'])).scatter_add_(1, y['train'][idx], (sim / 0.07).exp())
    knn = (votes.argmax(1) == y['test']).float().mean().item()
    return dict(n=len(nb), metric='linear_acc', score=linear, chance=1 / len(task['labels']),
                interval=wilson(linear, len(nb)), metrics=dict(linear_acc=linear, knn_acc=knn, n_train=len(na),
                                                                  interval_knn=wilson(knn, len(nb))))

def leaderboard(tasks_):
    """The DevCV toolbox leaderboard's file: {results: {task: {metric: value}}, overall}: a missing task counts 0."""
    results = {}
    for key, metric in LEADERBOARD.items():
        t = tasks_.get(key)
        if t and t.get('score') is not None:
            results[key] = {k: v for k, v in t['metrics'].items() if k in (
                'acc', 'acc_exact', 'acc_adjacent', 'group_score', 'image_score', 'text_score', 'acc_learning',
                'acc_testing_raw', 'acc_testing_adjusted')}
    return dict(results=results, overall=float(np.mean([results.get(k, {}).get(m) or 0.0 for k, m in LEADERBOARD.items()])))

def mdb_summary(tasks_):
    """Machine-DevBench: lexical and grammatical are means over their tasks, overall the mean of the two."""
    groups = {g: [t['score'] for k, t in tasks_.items() if k.startswith('md_') and t['kind'] == g]
              for g in ('lexical', 'grammatical')}
    out = {g: float(np.mean(v)) for g, v in groups.items() if v}
    if out:
        out['overall'] = float(np.mean(list(out.values())))
    return out
