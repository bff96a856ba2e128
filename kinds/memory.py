"""
Memory (DevCV, after NIH's picture sequence memory): round by round, touch the new picture. A base model
answers by novelty: minus the highest image cosine of each option to every picture shown in earlier rounds.
Score: the toolbox's adjusted test score, where an old picture counts only if every test round that shows it
is right, over (rounds + 1) // 3 learning rounds, with a bootstrap interval over records; also learning and
raw test accuracy. Answer lines from another codebase have the id "record/round".
"""
import numpy as np

from kinds.formats import BenchError, devcv_records, gold_letter
from kinds.readouts import ImageSim, require_answers
from scoring import boot, credit, letter_scores, memory_scores

CONTROLS = ('text_blind', 'image_blind')

def file_hash(path):
    """A picture's identity when the record has no labels: its bytes' hash (None if it cannot be read)."""
    try:
        with open(path, 'rb') as f:
            return hash(f.read())
    except OSError:
        return None  # unknown identity: no adjusted score for this record

def load_devcv(path):
    items = []
    for i, rec, human, gpt, images in devcv_records(path):
        rounds, at, labels = [], 0, rec.get('labels')
        for r, (h, g) in enumerate(zip(human, gpt)):
            k = h.count('<image>')
            rounds.append(dict(options=images[at:at + k], gold=gold_letter(g, k, path, f"{i} round {r}")))
            at += k
        if labels is not None and (len(labels) != len(rounds) or any(
                len(l) != len(x['options']) for l, x in zip(labels, rounds))):
            raise BenchError(f"{path}: record {i}: 'labels' does not match the rounds' images")
        for r, x in enumerate(rounds):  # the old thing of a test round: the option that is not new
            others = [j for j in range(len(x['options'])) if j != x['gold']]
            x['old'] = None
            if others and labels:
                x['old'] = labels[r][others[0]]
            elif others:
                x['old'] = file_hash(x['options'][others[0]][0])
        items.append(dict(id=str(i), rid=rec.get('id'), rounds=rounds))
    return dict(kind='memory', items=items)

FILES = {'memory/data.json': ('baby_memory', load_devcv)}

def images(item):
    return [k for x in item['rounds'] for k in x['options']]

def answer(engine, task, mode):
    out = {}
    for it in task['items']:
        shown = []
        for r, x in enumerate(it['rounds']):
            if shown:
                sims = engine.imsim([ImageSim(o, p) for o in x['options'] for p in shown], mode)
                out[f"{it['id']}/{r}"] = -sims.reshape(len(x['options']), -1).max(1)
            else:
                out[f"{it['id']}/{r}"] = np.zeros(len(x['options']))
            shown += x['options']
    return out

def readout(task, how):
    return 'novelty (image cosine)'

def round_credit(answer_, rnd):
    if isinstance(answer_, dict):
        return credit(letter_scores(answer_['answer'], len(rnd['options'])), rnd['gold'])
    return credit(answer_, rnd['gold'])

def score(task, answers, reps=1000, seed=0):
    items = task['items']
    require_answers(task, answers, [f"{it['id']}/{r}" for it in items for r in range(len(it['rounds']))])
    records = []
    for it in items:
        credits = [round_credit(answers[f"{it['id']}/{r}"], x) for r, x in enumerate(it['rounds'])]
        records.append(memory_scores(it['rounds'], credits))
    known = [rec for rec in records if rec[2] is not None]

    def adjusted(idx):
        return sum(known[i][2] for i in idx) / max(1, sum(known[i][3] for i in idx))
    score_ = adjusted(range(len(known))) if known else None
    interval = boot(adjusted, len(known), reps, seed) if known else None
    learning = [c for rec in records for c in rec[0]]
    testing = [c for rec in records for c in rec[1]]
    chance_learning = float(np.mean([1 / len(x['options']) for it in items
                                     for x in it['rounds'][:(len(it['rounds']) + 1) // 3]]))
    return dict(n=len(items), metric='acc_testing_adjusted', score=score_, chance=0.25, interval=interval,
                metrics=dict(acc_learning=float(np.mean(learning)), acc_testing_raw=float(np.mean(testing)),
                             acc_testing_adjusted=score_, chance_learning=chance_learning,
                             records_without_identity=len(records) - len(known)))
