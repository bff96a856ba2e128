"""
Captioning (BabyVLM v1's SAYCam captions): the model describes a frame by greedy generation (up to
max_new_tokens, 25 as in babylmms-eval), scored by METEOR against the child-directed utterance heard with it:
nltk's METEOR with WordNet synonyms if nltk and WordNet are installed, else its exact-match variant
(scoring.meteor, named 'meteor_exact' in the results), with a bootstrap interval. There is no chance level.
"""
import os

import numpy as np

from kinds.formats import image_key, read_csv
from kinds.readouts import require_answers
from scoring import boot, meteor_fn, tokenize_caption

CONTROLS = ('image_blind',)  # no text to remove

def load(path):
    folder = os.path.dirname(path)
    items = [dict(id=str(i), image=image_key(f"{folder}/images/{r['image']}"), text=r['text'])
             for i, (_, r) in enumerate(read_csv(path, ('image', 'text')))]
    return dict(kind='caption', items=items)

FILES = {'*/SAYCam_caption.csv': ('saycam_caption', load)}

def images(item):
    return [item['image']]

def answer(engine, task, mode):
    captions = engine.generate([it['image'] for it in task['items']], mode)
    return {it['id']: {'answer': text} for it, text in zip(task['items'], captions)}

def readout(task, how):
    return 'generation'

def score(task, answers, reps=1000, seed=0):
    items = task['items']
    require_answers(task, answers, [it['id'] for it in items])
    name, fn = meteor_fn()
    m = np.array([fn(tokenize_caption(answers[it['id']]['answer']), tokenize_caption(it['text']))
                  for it in items])
    return dict(n=len(items), metric=name, score=float(m.mean()), chance=None,
                interval=boot(lambda i: m[i].mean(), len(m), reps, seed),
                metrics={name: float(m.mean()), 'samples': [answers[it['id']]['answer'] for it in items[:5]]})
