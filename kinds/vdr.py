"""
Visual delayed response (DevCV): a thing leaves the view; through which exit? Binary (two exits, or NIH's "(A)
left (B) right") and open (eight exits). A base model answers by tracking: how well the thing's word fits each
exit's region of the frame (3x3 cells for eight exits; halves and quadrants for two) over the later half of
the frames, as levels: a before/after difference would let the one region that changes win half the time even
for random weights. A generated answer is read for its first direction word (else a letter). Score: exact
accuracy, and accuracy with the exits next to the gold one counted right (the toolbox's adjacent score).
"""
import re
from dataclasses import dataclass

import numpy as np

from kinds.formats import BenchError, devcv_records, find, gold_letter
from kinds.readouts import Match, answer_options, option_images, option_readout, require_answers
from scoring import choice_accuracy, credit, letter_scores, one_hot, parse_direction, wilson

# the eight exits, in order round the frame
RING = ('top', 'top right', 'right', 'bottom right', 'bottom', 'bottom left', 'left', 'top left')

# each exit's (column, row) in the 3x3 grid of the frame
CELL = {'top': (1, 0), 'bottom': (1, 2), 'left': (0, 1), 'right': (2, 1), 'top left': (0, 0),
        'top right': (2, 0), 'bottom left': (0, 2), 'bottom right': (2, 2)}

CONTROLS = ('text_blind', 'image_blind')

def region(direction, cells):
    """The part of the frame an exit points at, as fractions (x0, y0, x1, y1): a 3x3 cell (8-way), else a half
    for a side and a quadrant for a corner."""
    x, y = CELL[direction]
    if cells:
        return (x / 3, y / 3, (x + 1) / 3, (y + 1) / 3)
    span = {0: (0, .5), 1: (0, 1), 2: (.5, 1)}
    return (span[x][0], span[y][0], span[x][1], span[y][1])

@dataclass(frozen=True)
class Track:
    """How well `word` fits the region of `exit` over the later half of `frames` (image keys)."""
    frames: tuple
    word: str
    exit: str
    cells: bool

    def needs(self):
        box = region(self.exit, self.cells)
        return [Match((frame[0], box), self.word or '') for frame in self.frames]

    def value(self, scores):
        return float(np.mean(scores[len(scores) // 2:]))

    def images(self):
        return list(self.frames)

    def name(self, how):
        return f'tracking ({how})'

def exits_and_gold(prompt, gpt, path, i):
    """(the object's word or None, the exits asked, the gold exit's index) of one record."""
    if '(A)' in prompt:  # NIH: "Where does it hide? (A) left (B) right", no object word
        exits = [o.strip().lower() for o in re.findall(r'\([A-D]\)\s*([a-z ]+)', prompt)]
        return None, exits, gold_letter(gpt, len(exits), path, i)
    word = find(r"(?:does|do) the (.+?) leave", prompt, path, i, 'the object')
    exits = re.findall(r"'([a-z ]+)'", prompt.split('respond ONLY')[-1])
    if gpt.strip().lower() not in exits:
        raise BenchError(f"{path}: record {i}: gold {gpt!r} is not among the exits {exits}")
    return word, exits, exits.index(gpt.strip().lower())

def load_devcv(path):
    items = []
    for i, rec, human, gpt, images in devcv_records(path):
        word, exits, gold = exits_and_gold(human[0], gpt[0], path, i)
        if any(o not in CELL for o in exits):
            raise BenchError(f"{path}: record {i}: unknown exit among {exits}")
        options = [Track(tuple(images), word, o, len(exits) > 2) for o in exits]
        items.append(dict(id=str(i), rid=rec.get('id'), gold=gold, names=exits, options=options))
    return dict(kind='vdr', items=items)

FILES = {'vdr-binary/data.json': ('baby_vdr_binary', load_devcv),
         'vdr/data.json': ('baby_vdr_binary', load_devcv),
         'vdr-open/data.json': ('baby_vdr_open', load_devcv)}

images = option_images
answer = answer_options
readout = option_readout

def exit_scores(answer_, names):
    """Per-option scores as given, or a generated answer's first direction word (else its letter), one-hot."""
    if not isinstance(answer_, dict):
        return np.asarray(answer_, dtype=float)
    direction = parse_direction(answer_['answer'], names)
    if direction:
        return one_hot(len(names), names.index(direction))
    return letter_scores(answer_['answer'], len(names))

def neighbours(item):
    """The options next to the gold exit on the ring of eight."""
    ring = RING.index(item['names'][item['gold']])
    return [j for j, o in enumerate(item['names']) if o in (RING[ring - 1], RING[(ring + 1) % 8])]

def score(task, answers, reps=1000, seed=0):
    items = task['items']
    require_answers(task, answers, [it['id'] for it in items])
    if not items:
        return choice_accuracy([], [])
    exact, adjacent, chance_adjacent = [], [], []
    for it in items:
        scores, near = exit_scores(answers[it['id']], it['names']), neighbours(it)
        exact.append(credit(scores, it['gold']))
        adjacent.append(credit(scores, it['gold'], near))
        chance_adjacent.append((1 + len(near)) / len(it['names']))
    out = choice_accuracy(exact, [len(it['options']) for it in items], metric='acc_exact')
    out['metrics'] = dict(acc_exact=out['score'], acc_adjacent=float(np.mean(adjacent)),
                          chance_adjacent=float(np.mean(chance_adjacent)),
                          interval_adjacent=wilson(float(np.mean(adjacent)), len(adjacent)))
    return out
