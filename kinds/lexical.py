"""
Machine-DevBench's lexical tasks (EgoBabyVLM): a caption naming a noun or an adjective, its picture and a
foil. Right if the caption fits its picture better, strictly. Score: the mean over word-frequency bins of each
bin's accuracy (bins [1,2) and [2,4) merged, as published; scoring.bin_mean), chance 0.5, with a bootstrap
interval. A bin of fewer than 5 items is merged with its neighbour (scoring.merge_small_bins, listed in
metrics.merged_bins): the nursery's [4,8) noun bin held one word and weighed as much as a bin of 60.
"""
import os

import numpy as np

from kinds.formats import image_key, mdb_items, read_mdb
from kinds.grammatical import mdb_key
from kinds.readouts import answer_matrix, answer_pairs, model_readout, pair_images
from scoring import bin_mean, boot, merge_small_bins, merged_bin

CONTROLS = ('text_blind', 'image_blind')

def load(path):
    items, lexical = read_mdb(path)
    if not lexical:
        return None  # grammatical.load's
    folder = os.path.dirname(path)
    fields = ('caption_positive', 'image_positive', 'image_negative')
    items = [dict(id=str(i), images=[image_key(f"{folder}/{it['image_positive']}"),
                                     image_key(f"{folder}/{it['image_negative']}")],
                  texts=[it['caption_positive']], bin=merged_bin(it.get('frequency_bin', 'unknown')))
             for i, it in enumerate(mdb_items(path, items, fields))]
    return dict(kind='lexical', items=items)

FILES = {'*/manifest_?*.json': (mdb_key, load)}

images = pair_images
answer = answer_pairs
readout = model_readout

def score(task, answers, reps=1000, seed=0):
    items, s = task['items'], answer_matrix(task, answers, 2)
    right = s[:, 0] > s[:, 1]
    bins, merged = merge_small_bins([it['bin'] for it in items])
    by_bin = {b: float(np.mean([o for o, c in zip(right, bins) if c == b])) for b in sorted(set(bins))}
    interval = boot(lambda i: bin_mean(right[i], [bins[j] for j in i]), len(items), reps, seed)
    return dict(n=len(items), metric='acc (mean over frequency bins)', score=bin_mean(right, bins),
                chance=0.5, interval=interval, metrics=dict(acc_items=float(right.mean()), by_bin=by_bin,
                                                            merged_bins=merged))
