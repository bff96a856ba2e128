"""
Machine-DevBench's grammatical tasks (EgoBabyVLM): two pictures and two captions that differ in one
construction (order, prepositions, negation, counting, comparatives, subject-verb, subject-adjective). Right
if the matched pairs together fit better than the crossed ones: s(i0, t0) + s(i1, t1) > s(i0, t1) + s(i1, t0),
strictly. Score: accuracy (chance 0.5) with a Wilson interval; scoring.mdb_summary averages the tasks.
"""
import os

from kinds.formats import image_key, mdb_items, read_mdb
from kinds.readouts import answer_matrix, answer_pairs, model_readout, pair_images
from scoring import mean_and_interval

CONTROLS = ('text_blind', 'image_blind')

def mdb_key(folder, name):
    """manifest_grammatical_negation_cartoon.json -> md_negation_cartoon (and the lexical ones alike)."""
    return 'md_' + name[len('manifest_'):-len('.json')].replace('grammatical_', '')

def load(path):
    items, lexical = read_mdb(path)
    if lexical:
        return None  # lexical.load's
    folder = os.path.dirname(path)
    fields = ('caption_a', 'caption_b', 'image_0', 'image_1')
    out = []
    for i, it in enumerate(mdb_items(path, items, fields)):
        images = [image_key(f"{folder}/{it['image_0']}"), image_key(f"{folder}/{it['image_1']}")]
        out.append(dict(id=str(i), images=images, texts=[it['caption_a'], it['caption_b']]))
    return dict(kind='grammatical', items=out)

FILES = {'*/manifest_?*.json': (mdb_key, load)}

images = pair_images
answer = answer_pairs
readout = model_readout

def score(task, answers, reps=1000, seed=0):
    items, s = task['items'], answer_matrix(task, answers, 4)
    return dict(n=len(items), metric='acc', chance=0.5, metrics={},
                **mean_and_interval(s[:, 0] + s[:, 3] > s[:, 1] + s[:, 2]))
