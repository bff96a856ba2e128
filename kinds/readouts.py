"""
What a kind asks of the model: small named readout requests, which evaluate.Engine resolves in batches.

Two requests are primitive, the model's two ways of comparing: Match (how well a text fits a picture: cosine
in the joint space, or minus the length-normalised NLL of the text after the picture) and ImageSim (cosine of
two pictures). A composite request (count.Count, vdr.Track) lists the primitives it needs and turns their
scores into one value, so the Engine batches everything a task asks at once. Every request has:
    needs()        the primitive requests whose scores it reads
    value(scores)  its value from those scores, in the order of needs()
    images()       the pictures it looks at (missing-file checks, the image-blind control's mean colour)
    name(how)      the readout it makes, for the report, given the checkpoint's ('similarity' or 'nll')
The answers that come back, the model's or a scores file's, are checked here before a kind scores them:
one for every item, as many scores as the item has options.
"""
from dataclasses import dataclass

import numpy as np

from kinds.formats import BenchError

@dataclass(frozen=True)
class Match:
    """How well `text` fits `image` (an image key from formats.image_key)."""
    image: tuple
    text: str

    def needs(self):
        return [self]

    def value(self, scores):
        return scores[0]

    def images(self):
        return [self.image]

    def name(self, how):
        return how

@dataclass(frozen=True)
class ImageSim:
    """Cosine of the embeddings of two pictures: how alike the model sees them."""
    image: tuple
    other: tuple

    def needs(self):
        return [self]

    def value(self, scores):
        return scores[0]

    def images(self):
        return [self.image, self.other]

    def name(self, how):
        return 'image cosine'

def answer_options(engine, task, mode):
    """{item id: the value of each of its options}, every option of the task in one batched call."""
    values = engine.values([op for it in task['items'] for op in it['options']], mode)
    out, at = {}, 0
    for it in task['items']:
        out[it['id']] = values[at:at + len(it['options'])]
        at += len(it['options'])
    return out

def answer_pairs(engine, task, mode):
    """{item id: how well each of its texts fits each of its images, image by image} (Winoground's 2x2, the
    lexical 2x1), every pair of the task in one batched call."""
    pairs = [Match(image, text) for it in task['items'] for image in it['images'] for text in it['texts']]
    if not pairs:
        return {}
    values = engine.match(pairs, mode).reshape(len(task['items']), -1)
    return {it['id']: v for it, v in zip(task['items'], values)}

def pair_images(item):
    return list(item['images'])

def model_readout(task, how):
    """The readout of a task whose texts are matched with its pictures: the checkpoint's own."""
    return how

def option_images(item):
    return [k for op in item['options'] for k in op.images()]

def option_readout(task, how):
    """The readout a task of options makes: that of its first option (a task asks one kind of question)."""
    if not task['items']:
        return how
    return task['items'][0]['options'][0].name(how)

# ----------------------------------------------------------------------------- answers, checked

def answer_matrix(task, answers, width):
    """Every item's `width` scores, checked complete, as a float array (items, width)."""
    require_answers(task, answers, [it['id'] for it in task['items']])
    for it in task['items']:
        require_width(task, it['id'], answers[it['id']], width)
    return np.array([answers[it['id']] for it in task['items']], float)

def require_width(task, item_id, scores, width):
    """An item's scores are `width` numbers, else an error naming the item (a scores file's wrong line)."""
    if isinstance(scores, dict):  # a generated answer, parsed by the kind
        return
    if len(scores) != width:
        raise BenchError(f"{task['file']}: item {item_id}: {len(scores)} scores for its {width} options")

def require_answers(task, answers, ids):
    """Every item has an answer, else an error naming the first missing ones."""
    missing = [i for i in ids if i not in answers]
    if missing:
        more = ' ...' if len(missing) > 5 else ''
        raise BenchError(f"{task['file']}: no scores for items {', '.join(missing[:5])}{more}")
