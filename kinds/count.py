"""
Counting and subitizing (DevCV): "How many balls do you see?". A base model answers with the number whose
phrase fits the picture best, of "zero balls" .. "ten balls" (the corpus says these words); a generated answer
is read for its first number, as the toolbox reads it. Score: accuracy with a Wilson interval; chance is a
guess among the counts the suite asks for (1/3 for subitizing), not among all eleven.
Who-has-more (choice.compare_options) asks for a count of each picture with the same request, Count.
"""
from dataclasses import dataclass

import numpy as np

from kinds.formats import BenchError, devcv_records, find
from kinds.readouts import Match, answer_options, option_images, option_readout, require_answers
from scoring import NUMBER_WORDS, choice_accuracy, credit, parse_number

CONTROLS = ('text_blind', 'image_blind')

def number_phrase(n, noun):
    """'two balls' / 'one ball' from the prompt's noun (plural in most prompts, singular after 'of')."""
    one = noun[:-1] if noun.endswith('s') and not noun.endswith('ss') else noun
    many = noun if noun.endswith('s') else noun + 's'
    return f"{NUMBER_WORDS[n]} {one if n == 1 else many}"

@dataclass(frozen=True)
class Count:
    """The number 0-10 of `noun` in `image` the model finds most likely: its best-fitting number phrase."""
    image: tuple
    noun: str

    def needs(self):
        return [Match(self.image, number_phrase(n, self.noun)) for n in range(11)]

    def value(self, scores):
        return float(np.argmax(scores))

    def images(self):
        return [self.image]

    def name(self, how):
        return f'counts ({how})'

def load_devcv(path):
    items = []
    for i, rec, human, gpt, images in devcv_records(path):
        noun = find(r"How many (?:of )?(.+?) do you see", human[0], path, i, 'the counted word')
        if not gpt[0].strip().isdigit():
            raise BenchError(f"{path}: record {i}: gold count {gpt[0]!r} is not a whole number")
        value = int(gpt[0])
        items.append(dict(id=str(i), rid=rec.get('id'), gold=value if value <= 10 else None, value=value,
                          options=Count(images[0], noun).needs()))
    return dict(kind='count', items=items)

FILES = {'count/data.json': ('baby_count', load_devcv), 'subitize/data.json': ('baby_subitize', load_devcv)}

images = option_images
answer = answer_options
readout = option_readout

def item_credit(item, answer_):
    """A generated answer is right if its first number is the count; per-option scores by the best option."""
    if isinstance(answer_, dict):
        return float(parse_number(answer_['answer']) == item['value'])
    return credit(np.asarray(answer_, dtype=float), item['gold'])

def score(task, answers, reps=1000, seed=0):
    items = task['items']
    require_answers(task, answers, [it['id'] for it in items])
    credits = [item_credit(it, answers[it['id']]) for it in items]
    out = choice_accuracy(credits, [len(it['options']) for it in items])
    answers_allowed = {it['value'] for it in items}
    out['chance'] = 1 / len(answers_allowed) if answers_allowed else None
    out['metrics'].update(acc=out['score'], answers_allowed=sorted(answers_allowed))
    return out
