"""
The exposure card: how often the training split of a nursery shows what each benchmark tests, counted from
the truth files (no video is read). make.py prints it and writes <out>/exposure.json; the tests hold the
default render to the minimums below.

    python data/nursery/exposure.py data/nursery/raw      # the card of a rendered nursery

A phenomenon counts once per event (an occlusion, an utterance) in a training recording, as prepare.py's
default split assigns them (10% val, 10% test, spread over ages). "In the crop" is the central 240 x 240 of
the 320 x 240 view, what a model sees after its centre crop.
"""
import json
import os
import sys
from collections import Counter

import numpy as np

import speech
import world

CROP = (40, 280)
OBJECTS = tuple(c for c in world.CATEGORIES if c != 'screen')
PLACES = tuple(sorted({w for ws in world.BACKGROUND_WORDS.values() for w in ws}))
# the nouns of Labeled-S, picture vocabulary, DevBench and Machine-DevBench
BENCHMARK_WORDS = OBJECTS + PLACES
# what the default render must hold (issue 13's minimums)
MINIMUMS = dict(occlusions=300, gaze_then_name=300, number_words=50, visible_namings=100)


def training_split(recordings):
    """The names of the recordings prepare.py's default split puts in training ({recording, child, date,
    age_days} each)."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    import prepare
    rows = [dict(id=r['recording'], child=r['child'], date=r['date'], age_days=r['age_days'])
            for r in recordings]
    prepare.assign_splits(rows, dict(split_by=prepare.split_by, val_fraction=prepare.val_fraction,
                                     test_fraction=prepare.test_fraction))
    return {r['id'] for r in rows if r['split'] == 0}


def in_crop(box):
    """Whether a view box's centre lies in the central crop."""
    return CROP[0] <= (box[0] + box[2]) / 2 <= CROP[1]


def face_box(face, camera):
    width = int(face['height']) * 0.9
    x0, y0 = face['x'] - width / 2 - camera[0], face['y'] - face['height'] - camera[1]
    return (x0, y0, x0 + width, y0 + face['height'])


def shown(scene, visible, oid):
    """The box of thing oid if at least half of it is in view, else None."""
    thing = next((o for o in scene['objects'] if o['id'] == oid), None)
    if thing is None or visible.get(oid, 0) < 0.5:
        return None
    return world.object_box(thing, scene['camera'])


def gaze_then_name(u):
    """(counts, competing) for an utterance: whether the speaker looked at the thing for 0.5 s or more before
    naming it with face and thing in the crop, and whether another thing was in the crop too."""
    scene, visible = u['scene'], u['visible']
    if not u.get('gaze_lead') or not scene['face'] or visible.get('face', 0) < 0.5:
        return False, False
    target = shown(scene, visible, u['focus'])
    if target is None or not in_crop(target) or not in_crop(face_box(scene['face'], scene['camera'])):
        return False, False
    others = [shown(scene, visible, o['id']) for o in scene['objects']
              if o['id'] != u['focus'] and not o['screen']]
    return True, any(b is not None and in_crop(b) for b in others)


def count_in_view(u):
    """The number word an utterance says with exactly that many of the counted kind at least half in view, or
    None."""
    ref = next((r for r in u['refs'] if r['role'] == 'count'), None)
    if ref is None or ref['word'] not in speech.NUMBERS:
        return None
    n = sum(o['category'] == ref['category'] and u['visible'].get(o['id'], 0) >= 0.5
            for o in u['scene']['objects'])
    return ref['word'] if speech.NUMBERS.index(ref['word']) == n else None


def namings(u):
    """The benchmark words an utterance says while what they name is in view (a plural names its noun)."""
    singular = {speech.plural(w): w for w in OBJECTS}
    out = []
    for r in u['refs']:
        word = singular.get(r['word'], r['word'])
        if r['role'] in ('object', 'place', 'body') and r.get('in_view') and word in BENCHMARK_WORDS:
            out.append(word)
    return out


def card(truths):
    """The exposure card of some recordings' truth dicts (the training split's, for the published card)."""
    occlusions, hidden, events = Counter(), [], Counter()
    for t in truths:
        for e in t['events']:
            events[e['type']] += 1
            if e['type'] == 'occlusion' and e.get('emerged') and e['hidden_end'] - e['hidden_start'] >= 0.9:
                occlusions[e['category']] += 1
                hidden.append(e['hidden_end'] - e['hidden_start'])
    utts = [u for t in truths for u in t['utterances']]
    gazes = [gaze_then_name(u) for u in utts]
    numbers = Counter(w for w in map(count_in_view, utts) if w)
    named = Counter(w for u in utts for w in namings(u))
    said = Counter(w for u in utts for w, _, _ in u['words'])
    toy = [u['names_in_view'] for u in utts if 'toy' in speech.words(u['text'])]
    n = max(1, len(utts))
    return dict(
        recordings=len(truths), hours=round(sum(t['duration'] for t in truths) / 3600, 3),
        utterances=len(utts),
        permanence=dict(occlusions=sum(occlusions.values()), by_category=dict(sorted(occlusions.items())),
                        hidden_seconds=[round(float(np.min(hidden or [0])), 2),
                                        round(float(np.median(hidden or [0])), 2),
                                        round(float(np.max(hidden or [0])), 2)]),
        gaze=dict(gaze_then_name=sum(g for g, _ in gazes), with_competitor=sum(c for _, c in gazes)),
        numbers={w: numbers[w] for w in speech.NUMBERS[1:]},
        naming=dict(visible=dict(sorted(named.items())), said=sum(said[w] for w in BENCHMARK_WORDS),
                    toy_with_a_toy_in_view=round(float(np.mean(toy or [0])), 3)),
        speech=dict(naming_nothing_in_view=round(1 - sum(u['names_in_view'] for u in utts) / n, 3),
                    chat=round(sum(u['kind'] == 'chat' for u in utts) / n, 3),
                    good_job=round(sum(u['text'] == 'good job' for u in utts) / n, 3),
                    absent=round(sum(u['kind'] == 'absent' for u in utts) / n, 3)),
        events=dict(sorted(events.items())))


def shortfalls(c):
    """The minimums a card misses, as sentences (none for a card that holds what the benchmarks test)."""
    out = []
    occlusions = c['permanence']['occlusions']
    if occlusions < MINIMUMS['occlusions']:
        out.append(f"{occlusions} occlusions with re-emergence (want {MINIMUMS['occlusions']})")
    if c['gaze']['gaze_then_name'] < MINIMUMS['gaze_then_name']:
        out.append(f"{c['gaze']['gaze_then_name']} gaze-then-name events (want {MINIMUMS['gaze_then_name']})")
    for word, k in c['numbers'].items():
        if k < MINIMUMS['number_words']:
            out.append(f"'{word}' said {k} times with its count in view (want {MINIMUMS['number_words']})")
    for word in BENCHMARK_WORDS:
        k = c['naming']['visible'].get(word, 0)
        if k < MINIMUMS['visible_namings']:
            out.append(f"'{word}' named {k} times in view (want {MINIMUMS['visible_namings']})")
    return out


def lines(c):
    """The card as greppable 'key: value' lines."""
    named = c['naming']['visible']
    rarest = sorted(BENCHMARK_WORDS, key=lambda w: named.get(w, 0))[:5]
    p = c['permanence']
    return [f"exposure: {c['recordings']} training recordings, {c['hours']} h, {c['utterances']} utterances",
            f"occlusions: {p['occlusions']} with re-emergence, hidden {p['hidden_seconds'][0]}-"
            f"{p['hidden_seconds'][2]} s (median {p['hidden_seconds'][1]}), "
            + ', '.join(f'{k} {v}' for k, v in p['by_category'].items()),
            f"gaze_then_name: {c['gaze']['gaze_then_name']} ({c['gaze']['with_competitor']} with a competing "
            "thing in the crop)",
            'number_words_in_view: ' + ', '.join(f'{w} {k}' for w, k in c['numbers'].items()),
            f"visible_namings: median {int(np.median([named.get(w, 0) for w in BENCHMARK_WORDS]))}, rarest "
            + ', '.join(f'{w} {named.get(w, 0)}' for w in rarest),
            f"toy_with_a_toy_in_view: {c['naming']['toy_with_a_toy_in_view']:.0%}; naming nothing in view: "
            f"{c['speech']['naming_nothing_in_view']:.0%}; chat {c['speech']['chat']:.0%}; "
            f"'good job' {c['speech']['good_job']:.1%}"]


def simulated_truths(size, seed, workers=2, training_only=True):
    """The truth dicts of the (training) recordings make.py --size --seed would render, simulated (seconds a
    recording; no video)."""
    import multiprocessing

    import make
    heldout = dict(seed=seed, size=size, **speech.choose_heldout(seed))
    recordings = make.plan_recordings(size, seed)
    train = training_split(recordings)
    jobs = [(r, heldout) for r in recordings if r['recording'] in train or not training_only]
    if workers < 2:
        return [make.simulated_truth(job) for job in jobs]
    with multiprocessing.get_context('spawn').Pool(workers) as pool:
        return pool.map(make.simulated_truth, jobs)


def read_truths(raw):
    """The truth dicts of a rendered nursery's training recordings."""
    with open(os.path.join(raw, 'recordings.csv'), encoding='utf-8') as f:
        header, *rows = [line.strip().split(',') for line in f if line.strip()]
    recordings = [dict(zip(header, r), age_days=int(r[header.index('age_days')])) for r in rows]
    train, out = training_split(recordings), []
    for name in sorted(train):
        with open(os.path.join(raw, 'truth', name + '.json'), encoding='utf-8') as f:
            out.append(json.load(f))
    return out


if __name__ == '__main__':
    for line in lines(card(read_truths(sys.argv[1] if len(sys.argv) > 1 else 'data/nursery/raw'))):
        print(line)
