"""
The metrics of every benchmark, with no model and no file format in them: the DevCV toolbox's answer parsers,
credit for forced choices, intervals, Winoground's scores, the memory task's adjusted score, METEOR, AUROC,
DevBench's human alignment, and the leaderboards over tasks. Each is a pure function with a known-answer test
(tests/test_scoring.py); the kinds (kinds/) decide which applies to a task. Definitions:
../shared/BENCHMARKS.md.
"""
import math
import re
from collections import Counter

import numpy as np

LETTERS = 'ABCD'

NUMBER_WORDS = ('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten')

# the DevCV toolbox leaderboard's primary metric per task
LEADERBOARD = {'baby_pv': 'acc', 'baby_winoground': 'group_score', 'baby_localize': 'acc',
               'baby_leftright': 'acc', 'baby_spatialdetails': 'acc', 'baby_vdr_binary': 'acc_exact',
               'baby_vdr_open': 'acc_exact', 'baby_compare_synthetic': 'acc', 'baby_compare_real': 'acc',
               'baby_count': 'acc', 'baby_memory': 'acc_testing_adjusted'}

LEADERBOARD_METRICS = ('acc', 'acc_exact', 'acc_adjacent', 'group_score', 'image_score', 'text_score',
                       'acc_learning', 'acc_testing_raw', 'acc_testing_adjusted')

# ------------------------------------------------------------------------ answers, parsed as the toolbox does

def parse_letter(text, letters=LETTERS):
    """The first standalone letter among `letters` ('Bob and Dad' has none)."""
    m = re.search(rf"(?<![A-Za-z])([{letters}])(?![A-Za-z])", text or '')
    if not m:
        return None
    return m.group(1)

def parse_number(text):
    """The first number, in digits or as a word from zero to ten."""
    m = re.search(r"\d+|\b(?:" + '|'.join(NUMBER_WORDS) + r")\b", (text or '').lower())
    if not m:
        return None
    if m.group().isdigit():
        return int(m.group())
    return NUMBER_WORDS.index(m.group())

def parse_direction(text, options):
    """The first direction word among options; a two-word exit ('top left') wins over its first word at the
    same place."""
    text, hits = (text or '').lower(), []
    for d in options:
        m = re.search(rf"\b{d}\b", text)
        if m:
            hits.append((m.start(), -len(d), d))
    if not hits:
        return None
    return min(hits)[2]

def one_hot(k, pick):
    """Scores of an answer that picked option `pick` of k: 1 there, 0 elsewhere. All NaN when it picked none
    (an answer that could not be parsed, or that names a letter past the options), which earns no credit."""
    scores = np.full(k, np.nan)
    if pick is not None and 0 <= pick < k:
        scores[:] = 0.0
        scores[pick] = 1.0
    return scores

def letter_scores(answer, k):
    """A generated answer to a k-way item, as the toolbox reads it: the first standalone letter A-D. 'C, no,
    B' on a 2-way item is C, and so a wrong answer."""
    letter = parse_letter(answer)
    return one_hot(k, LETTERS.index(letter) if letter else None)

# ----------------------------------------------------------------------------- credit and intervals

def credit(scores, gold, near=()):
    """1 if the gold option scores highest, 1/t for a tie of t that includes it, 0 if its score is NaN (an
    answer that could not be parsed). near: options that count as right too (VDR's adjacent exits)."""
    s = np.asarray(scores, dtype=float)
    if gold is None or np.isnan(s[gold]):
        return 0.0
    top = np.flatnonzero(s == np.nanmax(s))
    return sum(1.0 for t in top if t == gold or t in near) / len(top)

def wilson(p, n, z=1.96):
    """The Wilson score interval of a proportion p of n."""
    if n == 0:
        return None
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]

def mean_and_interval(credits):
    """score: the mean of per-item credits; interval: its Wilson interval; per_item: the credits, in item
    order (over_seeds and paired_difference resample them)."""
    score = float(np.mean(credits))
    return dict(score=score, interval=wilson(score, len(credits)), per_item=[float(c) for c in credits])

def choice_accuracy(credits, n_options, metric='acc'):
    """A forced-choice task's summary: n, metric, score and interval of the per-item credits, and chance (the
    mean over items of 1 / their number of options)."""
    chance = float(np.mean([1 / k for k in n_options])) if n_options else None
    return dict(n=len(credits), metric=metric, **mean_and_interval(credits), chance=chance, metrics={})

def percentiles(values):
    return [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]

def boot(stat, n, reps=1000, seed=0):
    """95% percentile interval of stat(indices) over reps resamples of the n items (with replacement),
    seeded."""
    rng = np.random.default_rng(seed)
    vals = [stat(rng.integers(0, n, n)) for _ in range(reps)] if n else []
    vals = [v for v in vals if v is not None and not np.isnan(v)]
    if not vals:
        return None
    return percentiles(vals)

def over_seeds(summaries, reps=1000, seed=0):
    """One task's summaries from checkpoints of one config trained with different seeds: the mean and sd of
    their scores, and a 95% interval from a bootstrap over seeds and items together (seeds resampled, then
    items, the same items for every seed drawn), so that it holds both sources of noise. Over the seeds
    alone where a task keeps no per-item credits (its metric is not a mean over items)."""
    scores = np.array([s['score'] for s in summaries], float)
    out = dict(n_seeds=len(scores), mean=float(scores.mean()),
               sd=float(scores.std(ddof=1)) if len(scores) > 1 else None, scores=scores.tolist())
    credits = [s.get('per_item') for s in summaries]
    rng = np.random.default_rng(seed)
    if all(c is not None for c in credits) and len({len(c) for c in credits}) == 1:
        m = np.array(credits, float)
        S, N = m.shape
        values = [m[np.ix_(rng.integers(0, S, S), rng.integers(0, N, N))].mean() for _ in range(reps)]
        return dict(out, interval=percentiles(values), interval_over='seeds and items')
    values = [scores[rng.integers(0, len(scores), len(scores))].mean() for _ in range(reps)]
    return dict(out, interval=percentiles(values), interval_over='seeds')

def paired_difference(a, b, reps=1000, seed=0):
    """Config a minus config b on the same items, a and b their per-item credits (seeds x items): each
    item's credit averaged over its config's seeds, then a paired bootstrap over items of the mean
    difference: its 95% interval and a two-sided p (twice the share of resamples on the far side of 0)."""
    d = np.asarray(a, float).mean(0) - np.asarray(b, float).mean(0)
    rng = np.random.default_rng(seed)
    values = np.array([d[rng.integers(0, len(d), len(d))].mean() for _ in range(reps)])
    p = min(1.0, 2 * min(np.mean(values <= 0), np.mean(values >= 0)))
    interval = percentiles(values)
    return dict(n=len(d), difference=float(d.mean()), interval=interval, p=float(p),
                beyond_noise=bool(interval[0] > 0 or interval[1] < 0))

# ----------------------------------------------------------------------- the metrics of particular benchmarks

def winoground(s):
    """s (n, 2, 2): s[:, image, text], higher is better; image i goes with text i. Strict, so ties fail."""
    text = (s[:, 0, 0] > s[:, 0, 1]) & (s[:, 1, 1] > s[:, 1, 0])
    image = (s[:, 0, 0] > s[:, 1, 0]) & (s[:, 1, 1] > s[:, 0, 1])
    return dict(text_score=text, image_score=image, group_score=text & image,
                positive_context=(s[:, 0, 0] > s[:, 0, 1]) & (s[:, 0, 0] > s[:, 1, 0]),
                negative_context=(s[:, 1, 1] > s[:, 1, 0]) & (s[:, 1, 1] > s[:, 0, 1]))

def memory_scores(rounds, credits):
    """One record: (learning credits, test credits, adjusted numerator, base). base = (rounds + 1) // 3
    learning rounds; an old item counts for the adjusted score only if all (both) of its test rounds are
    right."""
    base = (len(rounds) + 1) // 3
    old = {}
    for r in range(base, len(rounds)):
        old.setdefault(rounds[r]['old'], []).append(credits[r])
    adjusted = None if None in old else sum(float(np.prod(c)) for c in old.values())
    return credits[:base], credits[base:], adjusted, base

def merged_bin(label):
    """Machine-DevBench reports bins [1,2) and [2,4) as one."""
    if str(label).replace(' ', '') in ('[1,2)', '[2,4)'):
        return '[1,4)'
    return str(label)

MIN_BIN = 5  # items: a smaller frequency bin is merged with its neighbour

def bin_edges(label):
    m = re.fullmatch(r"\[(\d+),(\d+)\)", str(label).replace(' ', ''))
    return (int(m[1]), int(m[2])) if m else None

def merge_small_bins(bins, least=MIN_BIN):
    """Frequency-bin labels ('[4,8)') with every bin of fewer than `least` items merged into its lower
    neighbour (the lowest into the one above), until none is left: in bin_mean a bin holding one word would
    weigh as much as one of 60. Returns (the items' labels, {old label: merged label}); labels that are not
    a range ('unknown') stay as they are."""
    labels = [str(b) for b in bins]
    merged = {}
    while True:
        counts = Counter(b for b in labels if bin_edges(b))
        order = sorted(counts, key=lambda b: bin_edges(b)[0])
        small = [b for b in order if counts[b] < least]
        if not small or len(order) < 2:
            return labels, merged
        i = order.index(small[0])
        other = order[i - 1] if i > 0 else order[i + 1]
        (lo_a, hi_a), (lo_b, hi_b) = bin_edges(small[0]), bin_edges(other)
        new = f"[{min(lo_a, lo_b)},{max(hi_a, hi_b)})"
        for old in (small[0], other):
            merged.update({k: new for k, v in merged.items() if v == old})
            merged[old] = new
        labels = [new if b in (small[0], other) else b for b in labels]

def bin_mean(correct, bins):
    """The mean over frequency bins of each bin's accuracy (Machine-DevBench's lexical score)."""
    return float(np.mean([np.mean([c for c, b in zip(correct, bins) if b == u]) for u in sorted(set(bins))]))

def tokenize_caption(text):
    """PTB-style, as the SAYCam captions are spaced: "it 's", "do n't", "ball !"."""
    text = re.sub(r"'(s|re|ll|m|d|ve)\b", r" '\1", re.sub(r"n't\b", " n't", text.lower()))
    return re.findall(r"n't|'\w+|\w+|[^\w\s]", text)

def meteor(hyp, ref, alpha=0.9, beta=3.0, gamma=0.5):
    """METEOR (Banerjee & Lavie 2005) with exact matching only, aligned as nltk's meteor_score aligns
    (babylmms-eval uses nltk): Fmean = PR / (alpha P + (1 - alpha) R), times 1 - gamma (chunks /
    matches)^beta."""
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
    """nltk's METEOR with WordNet synonyms if nltk and its WordNet data are installed, else the exact
    variant."""
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
    if not (pos.size and neg.size):
        return None
    return float(((pos > neg) + 0.5 * (pos == neg)).mean())

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

# ----------------------------------------------------------------------------- leaderboards over tasks

def leaderboard(tasks):
    """The DevCV toolbox leaderboard's file: {results: {task: {metric: value}}, overall}: a missing task
    counts 0."""
    results = {}
    for key in LEADERBOARD:
        t = tasks.get(key)
        if t and t.get('score') is not None:
            results[key] = {k: v for k, v in t['metrics'].items() if k in LEADERBOARD_METRICS}
    overall = float(np.mean([results.get(k, {}).get(m) or 0.0 for k, m in LEADERBOARD.items()]))
    return dict(results=results, overall=overall)

def mdb_summary(tasks):
    """Machine-DevBench: lexical and grammatical are means over their tasks, overall the mean of the two."""
    groups = {g: [t['score'] for k, t in tasks.items() if k.startswith('md_') and t['kind'] == g]
              for g in ('lexical', 'grammatical')}
    out = {g: float(np.mean(v)) for g, v in groups.items() if v}
    if out:
        out['overall'] = float(np.mean(list(out.values())))
    return out
