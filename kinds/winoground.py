"""
Winoground-style pairs (BabyVLM v1's Baby Winoground; DevBench's gram-winoground): two pictures and two
phrases, picture i going with phrase i. The model scores every picture with every phrase; the text score asks
that each picture prefer its phrase, the image score that each phrase prefer its picture, the group score both
(Thrush et al. 2022), strictly, so a tie fails. Baby Winoground adds the positive and negative contexts.
Score: group score (chance 1/6) with a Wilson interval; every other score and its interval beside it; on the
nursery's suite, the text and group scores of the items with a held-out combination and of the rest apart.
"""
import os

import numpy as np

from kinds.formats import BenchError, heldout_instances, image_key, read_csv, read_devbench
from kinds.readouts import answer_matrix, answer_pairs, model_readout, pair_images
from scoring import mean_and_interval, wilson, winoground

CONTROLS = ('text_blind', 'image_blind')

CHANCE = dict(text_score=.25, image_score=.25, group_score=1 / 6, positive_context=1 / 3,
              negative_context=1 / 3)

def load_v1(path):
    """Baby Winoground: a positive and a negative row per instance, the pictures in positive_images/ and
    negative_images/."""
    folder, instances = os.path.dirname(path), {}
    fields = ('instance_id', 'positive_phrase', 'negative_phrase', 'image', 'image_tag')
    for line, r in read_csv(path, fields):
        if r['image_tag'] not in ('positive', 'negative'):
            raise BenchError(f"{path}: line {line}: image_tag must be positive or negative, got "
                             f"{r['image_tag']!r}")
        instances.setdefault(r['instance_id'], {})[r['image_tag']] = (line, r)
    items = []
    for instance, tags in instances.items():
        if len(tags) != 2:
            first = next(iter(tags.values()))[0]
            raise BenchError(f"{path}: line {first}: instance {instance} needs a positive and a negative row")
        (_, p), (_, n) = tags['positive'], tags['negative']
        images = [image_key(f"{folder}/positive_images/{p['image']}"),
                  image_key(f"{folder}/negative_images/{n['image']}")]
        items.append(dict(id=instance, images=images, texts=[p['positive_phrase'], p['negative_phrase']]))
    held = heldout_instances(folder)
    if held is not None:
        for it in items:
            it['heldout'] = held.get(it['id'])
    return dict(kind='winoground', items=items)

def load_devbench(path):
    """A DevBench manifest of two pictures and two texts (gram-winoground)."""
    rows, images, texts = read_devbench(path)
    if len(texts) != 2 or len(images) != 2:
        return None  # a forced choice (choice.load_devbench's), or RSA
    folder = os.path.dirname(path)
    items = [dict(id=str(i), images=[image_key(f"{folder}/{r[c]}") for c in images],
                  texts=[r[c] for c in texts]) for i, (_, r) in enumerate(rows)]
    return dict(kind='winoground', items=items)

FILES = {'*/baby_winoground.csv': ('baby_winoground', load_v1),
         '*/manifest.csv': ('devbench_{folder}', load_devbench)}

images = pair_images
answer = answer_pairs
readout = model_readout

def score(task, answers, reps=1000, seed=0):
    items = task['items']
    w = winoground(answer_matrix(task, answers, 4).reshape(-1, 2, 2))
    out = dict(n=len(items), metric='group_score', chance=CHANCE['group_score'],
               **mean_and_interval(w['group_score']), metrics={k: float(v.mean()) for k, v in w.items()},
               chances=CHANCE, intervals={k: wilson(float(v.mean()), len(v)) for k, v in w.items()})
    for name, held in (('heldout', True), ('seen', False)):
        chosen = np.array([it.get('heldout') is held for it in items])
        if chosen.any():
            out['metrics'][f'n_{name}'] = int(chosen.sum())
            for k in ('text_score', 'group_score'):
                out['metrics'][f'{k}_{name}'] = float(w[k][chosen].mean())
    return out
