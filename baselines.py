"""
Skill-free baselines: what each task scores without the skill it names. A score is evidence of a skill
only when it beats the best of them beyond its interval (report.md flags the rest). They read pixels
alone, never a checkpoint, and answer through the kinds' own readouts, so each is scored by the task's own
metric:
    thumbnail 4x4, 8x8   pictures compared as tiny average-pooled thumbnails: the nearest to a reference,
                         the novel one in memory, linear and nearest-neighbour probes on the pixels
    colour histogram     pictures compared by their colour distributions (64 bins, intersection)
    salient area         a text-free picture score, the share of pixels away from the picture's dominant
                         colour: "the picture with more stuff" for who-has-more and for naming a thing
    motion energy        mean absolute change between frames: surprise for violation of expectation, the
                         exit region that changes most for visual delayed response
    frame difference     the largest change between two consecutive frames: surprise at a sudden event
    answer prior         the gold option position (or count) most frequent among the task's other items
The text-only prior is the image-blind control, which evaluate.py reports beside every model score.
A baseline that cannot answer a kind's readouts (a histogram has no captions) is not run on it.
    python evaluate.py --baselines_only --bench_dir=data/nursery/bench     # a model-free table
"""
from collections import Counter

import numpy as np

from kinds.count import Count
from kinds.readouts import ImageSim, Match
from kinds.vdr import Track

HISTOGRAM_BINS = 4  # per channel: 64 colour bins
SALIENT = 40        # a pixel this far (max over channels) from the dominant colour is "stuff"


class NotApplicable(Exception):
    """The baseline has no answer for this readout."""

# ----------------------------------------------------------------------------- picture features

def thumbnail(rgb, side):
    """The picture average-pooled to side x side, as floats in [0, 1] (side divides the picture's size)."""
    h, w = rgb.shape[:2]
    cells = rgb[:h - h % side, :w - w % side].reshape(side, h // side, side, w // side, 3)
    return cells.mean((1, 3)).ravel() / 255.0

def colour_histogram(rgb):
    """The share of pixels in each of HISTOGRAM_BINS^3 colour bins."""
    q = (rgb.reshape(-1, 3) // (256 // HISTOGRAM_BINS)).astype(np.int64)
    index = (q[:, 0] * HISTOGRAM_BINS + q[:, 1]) * HISTOGRAM_BINS + q[:, 2]
    return np.bincount(index, minlength=HISTOGRAM_BINS ** 3) / len(index)

def salient_area(rgb):
    """The share of pixels far from the picture's most common colour (in 8 levels a channel): the
    background."""
    flat = rgb.reshape(-1, 3).astype(np.int16)
    q = flat // 32
    codes = (q[:, 0] * 8 + q[:, 1]) * 8 + q[:, 2]
    dominant = flat[codes == np.bincount(codes, minlength=512).argmax()].mean(0)
    return float((np.abs(flat - dominant).max(1) > SALIENT).mean())

def motion_energy(frames):
    """Mean absolute change between consecutive frames, in [0, 1]."""
    frames = np.asarray(frames, np.float32)
    return float(np.abs(np.diff(frames, axis=0)).mean() / 255.0)

def peak_change(frames):
    """The largest mean absolute change between two consecutive frames, in [0, 1]."""
    frames = np.asarray(frames, np.float32)
    return float(np.abs(np.diff(frames, axis=0)).mean((1, 2, 3)).max() / 255.0)

FEATURES = {'thumbnail 4x4': lambda rgb: thumbnail(rgb, 4), 'thumbnail 8x8': lambda rgb: thumbnail(rgb, 8),
            'colour histogram': colour_histogram}
CHANGE = {'motion energy': motion_energy, 'frame difference': peak_change}  # a clip's surprise


class PixelEngine:
    """An evaluate.Engine stand-in for one baseline: the readouts the kinds ask for (values, match, imsim,
    surprise, embeddings, generate), answered from the pictures (engine.load: the same decoded, cropped
    pixels the model sees). A readout the baseline has no rule for raises NotApplicable."""

    def __init__(self, name, load):
        self.name, self.load = name, load
        self.cache = {}

    def of_picture(self, key, fn):
        """fn of a picture, once per picture (an engine serves one baseline, so one value a key)."""
        if key not in self.cache:
            self.cache[key] = fn(self.load(key))
        return self.cache[key]

    def feature(self, key):
        if self.name not in FEATURES:
            raise NotApplicable(self.name)
        return self.of_picture(key, FEATURES[self.name])

    def likeness(self, a, b):
        """How alike two pictures are: histogram intersection, or minus the thumbnails' distance."""
        fa, fb = self.feature(a), self.feature(b)
        if self.name == 'colour histogram':
            return float(np.minimum(fa, fb).sum())
        return -float(np.linalg.norm(fa - fb))

    def area(self, key):
        if self.name != 'salient area':
            raise NotApplicable(self.name)
        return self.of_picture(key, salient_area)

    def track(self, request):
        """Motion energy in the exit's region over the later half of the frames (the kinds' Track)."""
        if self.name != 'motion energy':
            raise NotApplicable(self.name)
        box = request.needs()[0].image[1]
        crops = [self.load((frame[0], box)) for frame in request.frames]
        return motion_energy(crops[len(crops) // 2 - 1:])

    def value(self, request):
        if isinstance(request, ImageSim):
            return self.likeness(request.image, request.other)
        if isinstance(request, Count):
            return self.area(request.image)
        if isinstance(request, Track):
            return self.track(request)
        if isinstance(request, Match):
            return self.area(request.image)
        raise NotApplicable(f"{self.name}: no rule for {type(request).__name__}")

    def values(self, requests, mode):
        return np.array([self.value(r) for r in requests])

    def match(self, requests, mode):
        return np.array([self.area(r.image) for r in requests])

    def imsim(self, requests, mode):
        return self.values(requests, mode)

    def embeddings(self, keys, mode):
        return [self.feature(k) for k in keys]

    def surprise(self, clips, mode):
        if self.name not in CHANGE:
            raise NotApplicable(self.name)
        return [CHANGE[self.name]([self.load(k) for k in clip]) for clip in clips]

    def generate(self, keys, mode):
        raise NotApplicable(f"{self.name} writes no captions")


def prior_answers(task):
    """{item id: one-hot scores} at the suite's most frequent gold option, one answer for every item; ties go
    to the earliest. (Leaving each item's own gold out would anti-correlate with a balanced suite: 40 each of
    1, 2 and 3 would score 0.) A count's options are its numbers, so this is the commonest count ("always
    two"). Not applicable to items without options and a gold one (pairs, clips, captions), nor to a choice
    whose gold is always in one place: that is the format's order (DevBench and the two-word test list the
    right one first), which per-option scores cannot see."""
    items = task['items']
    golds = [it.get('gold') for it in items if isinstance(it.get('gold'), int)]
    if not golds or not all('options' in it for it in items):
        raise NotApplicable('answer prior: no gold options')
    if len(set(golds)) == 1 and task['kind'] != 'count':
        raise NotApplicable('answer prior: every gold is in one place, the order of the format')
    votes = Counter(golds)
    best = max(votes, key=lambda k: (votes[k], -k))
    return {it['id']: np.eye(len(it['options']))[best] for it in items}

NAMES = ('thumbnail 4x4', 'thumbnail 8x8', 'colour histogram', 'salient area', 'motion energy',
         'frame difference', 'answer prior')

def answers(name, load):
    """answer(task, kind) -> {item id: scores} of one baseline, or raises NotApplicable."""
    if name == 'answer prior':
        return lambda task, kind: prior_answers(task)
    engine = PixelEngine(name, load)
    return lambda task, kind: kind.answer(engine, task, None)

def scores(task, kind, load, reps, seed):
    """{baseline: the task's summary under it (kind.score)}, for every baseline that can answer the task."""
    out = {}
    for name in NAMES:
        try:
            answered = answers(name, load)(task, kind)
        except NotApplicable:
            continue
        out[name] = kind.score(task, answered, reps, seed)
    return out

def judge(summary):
    """The verdict on a model's score beside its baselines, blind controls and chance: the best, whether
    the score beats it beyond the score's interval ('evidence'; a score without an interval is judged on the
    score), and whether that baseline's own interval lies above chance (the suite can be passed without
    the skill: 'leaky')."""
    rivals = dict(summary.get('baselines', {}))
    rivals.update({f"{mode} control": c for mode, c in summary.get('controls', {}).items()})
    if summary.get('chance') is not None:  # a score under chance is evidence of nothing, whatever it beats
        rivals['chance'] = dict(score=summary['chance'], interval=None)
    best = max(rivals, key=lambda name: rivals[name]['score'])
    low = summary['interval'][0] if summary.get('interval') else summary['score']
    baseline = rivals[best]
    leaky = None
    if summary.get('chance') is not None and baseline.get('interval'):
        leaky = bool(baseline['interval'][0] > summary['chance'])
    return dict(best_baseline=dict(name=best, **baseline), evidence=bool(low > baseline['score']),
                leaky=leaky)
