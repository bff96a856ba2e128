"""
Violation of expectation (the nursery's clips; not in the published suites), one task a concept
(voe/voe_<concept>.json: permanence, continuity, color, shape): a possible and an impossible clip of the same
scene, the impossible one breaking the concept behind a screen (a thing gone or come from nowhere, across a
gap unseen, changed). A model is surprised more by the impossible clip if its mean per-frame surprise
(model.py `surprise`: the temporal model's prediction error) is higher; strict, so a tie fails. Score:
pairwise accuracy with a Wilson interval, AUROC of impossible over possible with a bootstrap interval,
accuracy per concept.
"""
import os

import numpy as np

from kinds.formats import BenchError, image_key, read_json
from kinds.readouts import answer_matrix
from scoring import auroc, boot, mean_and_interval

CONTROLS = ('image_blind',)  # no text to remove

def load(path):
    records, folder = read_json(path), os.path.dirname(path)
    for i, r in enumerate(records):
        clips = [r.get(k) for k in ('possible', 'impossible')] if isinstance(r, dict) else [None]
        if not all(isinstance(c, list) and len(c) >= 2 for c in clips):
            raise BenchError(f"{path}: record {i}: needs 'possible' and 'impossible' lists of 2+ frames")
    items = [dict(id=str(i), concept=r.get('concept', 'all'),
                  clips=[tuple(image_key(f"{folder}/{p}") for p in r[k]) for k in ('possible', 'impossible')])
             for i, r in enumerate(records)]
    return dict(kind='voe', items=items)

FILES = {'voe/voe_*.json': (lambda folder, name: name[:-len('.json')], load)}  # one task a concept

def images(item):
    return [k for clip in item['clips'] for k in clip]

def answer(engine, task, mode):
    """{item id: [surprise at the possible clip, at the impossible one]}."""
    surprise = engine.surprise([clip for it in task['items'] for clip in it['clips']], mode)
    return {it['id']: surprise[2 * j:2 * j + 2] for j, it in enumerate(task['items'])}

def readout(task, how):
    return 'surprise'

def score(task, answers, reps=1000, seed=0):
    items, s = task['items'], answer_matrix(task, answers, 2)
    surprised = s[:, 1] > s[:, 0]
    concepts = [it['concept'] for it in items]
    by_concept = {c: float(np.mean([o for o, k in zip(surprised, concepts) if k == c]))
                  for c in sorted(set(concepts))}
    interval_auroc = boot(lambda i: auroc(s[i, 1], s[i, 0]), len(items), reps, seed)
    return dict(n=len(items), metric='pairwise_acc', chance=0.5, **mean_and_interval(surprised), metrics=dict(
        pairwise_acc=float(surprised.mean()), auroc=auroc(s[:, 1], s[:, 0]), interval_auroc=interval_auroc,
        by_concept=by_concept))
