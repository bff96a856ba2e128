"""
Forced choice among options: which picture goes with the word (Labeled-S, picture vocabulary, DevBench's
looking-while-listening, visual vocabulary and TROG), which phrase goes with the picture (the Visual Two-Word
Test), which quadrant holds the named thing (localization), which picture matches the reference (left/right,
spatial details, joint attention), what a face looks at (gaze), who has more.

Each option is a readout request (readouts.Match, readouts.ImageSim or count.Count); the option that scores
highest is the answer, and a tie of t options that includes the gold earns 1/t (a random tie-break's
expectation, so a control that cannot tell the options apart sits at chance). Score: accuracy with a Wilson
interval; DevBench's tasks add the KL to children's choices by age (scoring.fit_kl).
"""
import os
import re
from functools import partial

import numpy as np

from kinds.count import Count
from kinds.formats import BenchError, devcv_records, find, gold_letter, image_key, read_csv, read_devbench
from kinds.readouts import (ImageSim, Match, answer_options, option_images, option_readout, require_answers,
                            require_width)
from scoring import choice_accuracy, credit, fit_kl, letter_scores

QUADRANTS = ((0, 0, .5, .5), (.5, 0, 1, .5), (0, .5, .5, 1), (.5, .5, 1, 1))  # A-D: top left .. bottom right

CONTROLS = ('text_blind', 'image_blind')

# ----------------------------------------------------------------------------- loaders

def load_labeled_s(path):
    """BabyVLM v1 Labeled-S: rows of one trial share a trial_id and a target word; one row is the target."""
    folder, trials = os.path.dirname(path), {}
    for line, r in read_csv(path, ('trial_id', 'target_category', 'real_category', 'image')):
        trials.setdefault(r['trial_id'], []).append((line, r))
    items = []
    for trial, rows in trials.items():
        gold = [k for k, (_, r) in enumerate(rows) if r['real_category'] == r['target_category']]
        if len(gold) != 1 or len(rows) < 2 or len({r['target_category'] for _, r in rows}) != 1:
            raise BenchError(f"{path}: line {rows[0][0]}: trial {trial} needs one target row among 2+ rows "
                             "of one word")
        word = rows[0][1]['target_category']
        options = [Match(image_key(f"{folder}/images/{r['image']}"), word) for _, r in rows]
        items.append(dict(id=trial, gold=gold[0], options=options))
    return dict(kind='choice', items=items)

def load_vtwt(path):
    """BabyVLM v1 Visual Two-Word Test: one picture, its phrase and a foil phrase."""
    folder, items = os.path.dirname(path), []
    for i, (_, r) in enumerate(read_csv(path, ('image', 'positive_phrase', 'negative_phrase'))):
        image = image_key(f"{folder}/images/{r['image']}")
        items.append(dict(id=str(i), gold=0, options=[Match(image, r['positive_phrase']),
                                                      Match(image, r['negative_phrase'])]))
    return dict(kind='choice', items=items)

def load_devbench(path):
    """A DevBench manifest of one text and 2+ pictures (lex-lwl, lex-viz_vocab, gram-trog); the first picture
    is the right one. Children's choices come from human.csv beside it, or from DevBench's evals/<task>/."""
    rows, images, texts = read_devbench(path)
    if len(texts) != 1 or len(images) < 2:
        return None  # another kind's (gram-winoground's 2x2) or not a forced choice (RSA, text only)
    folder = os.path.dirname(path)
    items = []
    for i, (_, r) in enumerate(rows):
        options = [Match(image_key(f"{folder}/{r[c]}"), r['text1']) for c in images]
        items.append(dict(id=str(i), gold=0, options=options))
    task = os.path.basename(folder)
    for human in (f"{folder}/human.csv", f"{folder}/../../evals/{task}/human.csv"):
        if os.path.exists(human):
            add_human_choices(items, human, images)
            break
    return dict(kind='choice', items=items)

def add_human_choices(items, path, image_columns):
    """Children's choice proportions per trial (and age bin) from a DevBench human.csv."""
    for _, r in read_csv(path, ('trial',)):
        trial = int(float(r['trial'])) - 1  # 1-based manifest row
        if 'prop' in r:
            choices = [float(r['prop']), 1 - float(r['prop'])]
        else:
            choices = [float(r[c]) for c in image_columns]
        if 0 <= trial < len(items):
            items[trial].setdefault('human', {})[r.get('age_bin', 'all')] = choices

def load_devcv(path, options_of):
    """DevCV toolbox records (and the nursery's gaze and joint-attention ones): options_of(record, prompt,
    images, where) gives the item's options (and any other fields); the gold is the answer's letter."""
    items = []
    for i, rec, human, gpt, images in devcv_records(path):
        item = dict(id=str(i), rid=rec.get('id'), **options_of(rec, human[0], images, (path, i)))
        item['gold'] = gold_letter(gpt[0], len(item['options']), path, i)
        items.append(item)
    return dict(kind='choice', items=items)

def reference_options(rec, prompt, images, where):
    """The first picture is the reference; each other picture is matched with it (no word in the question)."""
    return dict(options=[ImageSim(images[0], other) for other in images[1:]])

def joint_options(rec, prompt, images, where):
    """Joint attention: the teaching scenes come first, each with the word said in it ("<image> Look, a
    dax!"), then the options. The reference is the scene in which the asked word was said: the word decides
    which gaze to follow. (With one teaching scene, the nursery's format before VERSION 6, that scene.)"""
    said = re.findall(r"<image>\s*Look, an? ([^!]+)!", prompt)
    asked = find(r"Which one is the (.+?)\?", prompt, *where, 'the word asked')
    if said.count(asked) != 1 or len(images) != len(said) + 2:
        raise BenchError(f"{where[0]}: record {where[1]}: the word asked, {asked!r}, must be said in exactly "
                         f"one of the teaching scenes ({said}), followed by two options")
    return dict(options=[ImageSim(images[said.index(asked)], other) for other in images[len(said):]])

def gaze_options(rec, prompt, images, where):
    """The scene and the things a face might look at, by name: the record's 'options' or the prompt's
    (A)-(D)."""
    texts = rec.get('options') or [t.strip() for t in re.findall(r'\([A-D]\)\s*([^()]+)', prompt)]
    return dict(options=[Match(images[0], t) for t in texts])

def compare_options(rec, prompt, images, where):
    """Who has more: each picture's count of the compared thing; the larger wins."""
    noun = find(r"has more (?:of )?(.+?)\?", prompt, *where, 'the compared word')
    return dict(options=[Count(image, noun) for image in images])

def quadrants(rec, image, word, where):
    """The word matched with each quadrant's crop of one picture, A-D; and the named thing's box if the record
    gives one ('bb': [x, y, w, h], BabyView's [x1, y1, x2, y2]), kept in pixels as [x1, y1, x2, y2]."""
    out = dict(options=[Match(image_key(image[0], q), word) for q in QUADRANTS])
    if 'bb' not in rec:
        return out
    if not (isinstance(rec['bb'], list) and len(rec['bb']) == 4):
        raise BenchError(f"{where[0]}: record {where[1]}: bb must be 4 numbers")
    x, y, a, b = rec['bb']
    if 'babyview' in os.path.normpath(where[0]).split(os.sep):
        out['box'] = [x, y, a, b]
    else:
        out['box'] = [x, y, x + a, y + b]
    return out

def picture_vocabulary_options(rec, prompt, images, where):
    """The word's picture among four; NIH's version is one composite picture, read as its quadrants. The word
    is quoted, and may hold an apostrophe: "image of 'astronaut's' (A)"."""
    word = find(r"image of '(.+?)'(?![A-Za-z])", prompt, *where, 'the word')
    if len(images) == 1:
        return quadrants(rec, images[0], word, where)
    return dict(options=[Match(image, word) for image in images])

def localize_options(rec, prompt, images, where):
    """The quadrant that holds the named thing."""
    word = find(r"Point at the (.+?)\. Is it", prompt, *where, 'the word')
    return quadrants(rec, images[0], word, where)

DEVCV = {'picture_vocabulary': 'baby_pv', 'picture_vocab': 'baby_pv', 'picture_vocab_selected': 'baby_pv',
         'localize': 'baby_localize', 'leftright': 'baby_leftright', 'spatialdetails': 'baby_spatialdetails',
         'spatial': 'baby_spatialdetails', 'compare_synthetic': 'baby_compare_synthetic',
         'compare_real': 'baby_compare_real', 'whohasmore_synthetic': 'baby_compare_synthetic',
         'who_has_more': 'baby_compare_real', 'gaze': 'gaze', 'joint_attention': 'joint_attention'}

OPTIONS = {'baby_pv': picture_vocabulary_options, 'baby_localize': localize_options,
           'baby_leftright': reference_options, 'baby_spatialdetails': reference_options,
           'baby_compare_synthetic': compare_options, 'baby_compare_real': compare_options,
           'gaze': gaze_options, 'joint_attention': joint_options}

FILES = {'*/labeled_s.csv': ('labeled_s', load_labeled_s), '*/vtwt.csv': ('vtwt', load_vtwt),
         '*/manifest.csv': ('devbench_{folder}', load_devbench)}
# a DevCV task's data.json: its records, each with the task's options
FILES.update({f'{folder}/data.json': (key, partial(load_devcv, options_of=OPTIONS[key]))
              for folder, key in DEVCV.items()})

# ----------------------------------------------------------------------------- answers and metrics

images = option_images
answer = answer_options
readout = option_readout

def option_scores(answer_, k):
    """Per-option scores as given, or a generated answer's letter as one-hot scores."""
    if isinstance(answer_, dict):
        return letter_scores(answer_['answer'], k)
    return np.asarray(answer_, dtype=float)

def score(task, answers, reps=1000, seed=0):
    items = task['items']
    require_answers(task, answers, [it['id'] for it in items])
    for it in items:
        require_width(task, it['id'], answers[it['id']], len(it['options']))
    credits = [credit(option_scores(answers[it['id']], len(it['options'])), it['gold']) for it in items]
    out = choice_accuracy(credits, [len(it['options']) for it in items])
    out['metrics']['acc'] = out['score']
    add_human_alignment(out, items, answers)
    return out

def add_human_alignment(out, items, answers):
    """DevBench: the KL of children's choices to the model's, per age bin and their mean (per-option scores
    only)."""
    human = [it for it in items if 'human' in it and not isinstance(answers[it['id']], dict)]
    by_age = {}
    for age in sorted({a for it in human for a in it['human']}, key=str):
        trials = [it for it in human if age in it['human']]
        h = np.array([it['human'][age] for it in trials], float)
        kl, beta = fit_kl(h / h.sum(1, keepdims=True), np.array([answers[it['id']] for it in trials], float))
        by_age[str(age)] = dict(kl=kl, beta=beta, n=len(trials))
    if by_age:
        out['metrics']['kl_by_age'] = by_age
        out['metrics']['kl'] = float(np.mean([v['kl'] for v in by_age.values()]))
