"""
What a text claims a picture shows, in the supervised ceiling's label space (ceiling.py), and how likely each
claim is under one picture's predicted attributes: a kind or place in view, a colour of a kind, a number of a
kind, a relation of two things, or the negation of one. The grammar is a child's: a clause a time, colours and
numbers before the kind they describe or after "is", a relation word between two kinds. It is written for the
sentences the suites use (Machine-DevBench's grammatical manifests, TROG, Winoground) and knows no other.
"""
import math
import re

import numpy as np

from scoring import NUMBER_WORDS

def words_of(text):
    return re.findall(r"[a-z]+", text.lower())

def singular(word, names):
    """The label name a word says ('balls' -> 'ball', 'boxes' -> 'box'), or None."""
    for name in (word, word[:-1] if word.endswith('s') else None, word[:-2] if word.endswith('es') else None):
        if name in names:
            return name
    return None

# words of a relation between two things, "the duck is on the block": its name in claim_score
RELATIONS = {'on': 'on', 'under': 'under', 'in': 'in', 'next': 'beside', 'beside': 'beside',
             'bigger': 'bigger', 'smaller': 'smaller'}
SOFT = 0.05                     # picture units over which a relation turns from false to true

def claims(text, vocab):
    """What a text says is in a picture: [('kind', i) | ('colour', kind i, colour j) | ('count', kind i, n) |
    ('relation', name, kind i, kind j) | ('not', claim)], read word by word, a clause (split at "and") at a
    time. A colour or a number binds to the next kind it precedes, or after "is" to the clause's subject ("the
    apple is not yellow"); a relation word binds the subject to the next kind ("the bear is under the
    table"). "x fell" says x is not on what the text puts things on. Words the labels do not know are left."""
    out, fell = [], []
    for clause in re.split(r'\band\b', text.lower()):
        out += clause_claims(words_of(clause), vocab, fell)
    surfaces = [c[3] for c in out if c[0] == 'relation' and c[1] == 'on']
    out += [('not', ('relation', 'on', i, j)) for i in fell for j in surfaces if i != j]
    return out

def clause_claims(words, vocab, fell):
    names, k = vocab['kinds'] + vocab['places'], len(vocab['kinds'])
    out, subject, colour, number, relation, negate, predicate = [], None, None, None, None, False, False
    for w in words:
        if w in NUMBER_WORDS:
            number = NUMBER_WORDS.index(w)
        elif w in vocab['colours'] and predicate and subject is not None:
            out.append(negated(('colour', subject, vocab['colours'].index(w)), negate))
        elif w in vocab['colours']:
            colour = vocab['colours'].index(w)
        elif w in ('is', 'are'):
            predicate = True
        elif w == 'not':
            negate = True
        elif w in RELATIONS:
            relation = RELATIONS[w]
        elif w == 'fell' and subject is not None:
            fell.append(subject)
        elif singular(w, names) is not None:
            i = names.index(singular(w, names))
            out.append(('kind', i))
            if colour is not None and i < k:
                out.append(('colour', i, colour))
            if number is not None and i < k:
                out.append(('count', i, number))
            if relation is not None and subject is not None and i < k:
                out.append(negated(('relation', relation, subject, i), negate))
            if subject is None and i < k:
                subject = i
            colour, number, relation = None, None, None
    return out

def negated(claim, negate):
    if negate:
        return ('not', claim)
    return claim

def claim_score(claim, p):
    """The log-probability of one claim under one picture's predictions p (numpy, from Ceiling.predict). A
    colour is the best cell's: that kind there, in that colour (any colour of any kind, so a combination never
    seen in training is read as well as a seen one)."""
    if claim[0] == 'not':
        return math.log(1 - math.exp(claim_score(claim[1], p)) + 1e-6)
    return math.log(claim_probability(claim, p) + 1e-6)

def claim_probability(claim, p):
    k = len(p['centres'])
    if claim[0] == 'kind':
        prob = float(p['present'][claim[1]])
        if claim[1] < k and no_face(p) < 0.5:  # a face is in view: what it looks at
            prob *= float(looked_at(p)[claim[1]])
        return prob
    if claim[0] == 'colour':
        _, i, j = claim
        return float((p['cell_kind'][:, i] * p['cell_colour'][:, j]).max())
    if claim[0] == 'relation':
        return relation_probability(*claim[1:], p)
    _, i, n = claim
    if n >= p['counts'].shape[1]:
        return 0.0
    return float(p['counts'][i, n])

def where(p, i):
    """Where a kind is (x, y, the mean of its centres' map) and how much of the picture it covers (its share
    of the GRID x GRID cells)."""
    weight, side = p['centres'][i] + 1e-6, math.isqrt(p['centres'].shape[1])
    cells = np.arange(side * side)
    x, y = (cells % side + 0.5) / side, (cells // side + 0.5) / side
    share = float(p['cell_kind'][:, i].mean())
    return float(weight @ x / weight.sum()), float(weight @ y / weight.sum()), share

def sigmoid(v):
    return 1 / (1 + math.exp(-max(min(v, 50), -50)))

def relation_probability(name, i, j, p):
    """P(thing i stands in a relation to thing j), from where each is: on is above and over it, under below
    and beneath it, in is at its place, beside more to the side than above or below; bigger and smaller
    compare how much of the picture each covers."""
    (xi, yi, ai), (xj, yj, aj) = where(p, i), where(p, j)
    dx, dy = abs(xi - xj), yi - yj
    over = math.exp(-(dx / 0.2) ** 2)
    if name == 'on':
        return sigmoid(-dy / SOFT) * over
    if name == 'under':
        return sigmoid(dy / SOFT) * over
    if name == 'in':
        return math.exp(-(dx ** 2 + dy ** 2) / 0.1 ** 2)
    if name == 'beside':
        return sigmoid((dx - abs(dy)) / SOFT)
    if name == 'bigger':
        return sigmoid((ai - aj) / SOFT)
    return sigmoid((aj - ai) / SOFT)

def looked_at(p):
    """P(a face looks at a thing of each kind): where it looks, and whose centre is there."""
    return p['centres'] @ p['gaze'][:p['centres'].shape[1]]

def no_face(p):
    """P(no face in view): the last of the gaze classes (frame_labels.NO_FACE)."""
    return p['gaze'][-1]
