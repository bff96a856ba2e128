"""
The nursery's benchmark suites: every developmental test evaluate.py scores, drawn in the nursery's world with
exact ground truth, in the published file formats (shared/formats) so that one loader reads the real files and
these. Stimuli come from seeds disjoint from the recordings' (default_rng([seed, 2, suite]); make.py uses
[seed, 0], [seed, 1] and one-integer recording seeds). The combinations the corpus held out
(<raw>/heldout.json, else speech.choose_heldout(seed)) appear only in the compositional items of vtwt,
baby_winoground and machine_devbench.

    python data/nursery/benchmarks.py                # every suite, into data/nursery/bench
    python data/nursery/benchmarks.py --size=tiny --out=/tmp/b --raw=/tmp/x  # a few items per task, seconds

bench/INDEX.json lists every task: file, format, n, chance. Each suite folder also has truth.json: per-item
facts and the scene dict of every image (stimuli.render re-renders it; a frame two clips share is stored
once).
  v1/labeled_s/labeled_s.csv     trial_id,target_category,real_category,image (images/<category>/img_N.jpeg):
                                 4 rows a trial, target first; correct when the target word fits its own row
                                 best
  v1/vtwt/vtwt.csv               image,positive_phrase,negative_phrase (images/): the gold is the positive
  v1/baby_winoground/baby_winoground.csv   instance_id,positive_phrase,negative_phrase,image,image_tag:
                                 positive_images/<x>.jpg goes with the positive phrase,
                                 negative_images/<x>_neg.jpeg with the negative (also the DevCV toolbox's
                                 looking-while-listening task)
  v1/SAYCam_caption/SAYCam_caption.csv   image,text: a caregiver's utterance about the picture, PTB-spaced
  devcv/<task>/data.json         the DevCV toolbox's LLaVA records, prompts as its samples: [{id, image:
                                 [images/...], conversations: [{from: human, value}, {from: gpt, value:
                                 gold}], bb?, notes?, labels?}]. Gold: a letter (picture_vocabulary, localize
                                 with bb = [x, y, w, h] px, leftright, spatialdetails, compare_synthetic,
                                 compare_real with notes, memory with labels), a number (count 1-6, subitize
                                 1-3), exit words (vdr-binary, vdr-open)
  machine_devbench/Lexical/{Nouns,Adjectives}/manifest_*_cartoon.json,
                                 .../Grammatical/gram_<cat>/manifest_grammatical_<cat>_cartoon.json:
                                 EgoBabyVLM's manifests (image paths relative to the manifest): image_positive
                                 fits caption_positive; image_0 caption_a, image_1 caption_b
  devbench/<task>/manifest.csv   DevBench's (image1 the target; no human.csv, as no one has seen these
                                 pictures): lex-lwl, lex-viz_vocab, gram-trog, gram-winoground (text1-image1,
                                 text2-image2)
Our own formats, where none is published:
  voe/voe_<concept>.json   one task a concept (permanence, continuity, color, shape): [{id, concept, quad,
                     fps: 5, object, diverge_at, possible: [frames], impossible: [frames]}]. A thing is
                     pushed behind a screen as in the recordings (speed, size, 1-3 s hidden) and the
                     screen lifts on it or on nothing, it comes out of a second screen with or without
                     crossing the gap, or comes out changed; both clips use the same files up to
                     diverge_at. Each quadruplet gives two pairs matched so that motion and change point
                     either way (stimuli.voe_quad). A pair passes when its impossible clip is the more
                     surprising; AUROC over clips.
  gaze/data.json     LLaVA records: a caregiver looks at one of K = 2-3 things, "(A) the ball (B) the cup" in
                     the prompt; options = those texts, k = K, gold a letter
  joint_attention/data.json   LLaVA records, image = [scene 1, scene 2, option A alone, option B alone]:
                     "look, a dax! look, a wug! which one is the dax?", each word said while the speaker
                     looks at another of the same two novel things; words = both, word = the one asked;
                     gold a letter
  probes/data.json   {labels: [the 22 Labeled-S categories], items: [{image, label, split: train|test}]}
Machine-DevBench's frequency bins count a word (a noun with its plural) in the training transcripts:
<raw>/truth, only the training split when the prepared meta.json sits next to raw; without a render, make.py's
transcripts for --seed are simulated (the same words; every recording). Suites are written under <out>/.tmp
and renamed into place when complete; a re-run skips complete suites (bump VERSION when the stimuli change).
"""
import argparse
import csv
import glob
import hashlib
import io
import json
import math
import os
import re
import shutil
import sys
import time
from collections import Counter

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the modules next to this script
sys.path.insert(1, os.path.dirname(os.path.dirname(HERE)))  # the repository root, for atomic.py
import make  # noqa: E402
import speech  # noqa: E402
import stimuli as S  # noqa: E402
import world  # noqa: E402
from atomic import atomic_write  # noqa: E402
from stimuli import obj, scene  # noqa: E402

VERSION = 8
# 2- and 4-way tasks of 100-250 items (95% intervals of about +-7-9 points); ~8,000 images, ~15 s on one core
SIZES = {
    'default': dict(ls_rounds=12, ls_pool=12, vtwt=3, vtwt_verb=4, wino=160, caption=120, pv_rounds=5,
                    localize=200, leftright=100, spatial=100, vdr=120, vdr_open=12, compare=150, count=25,
                    subitize=40, memory=14, nouns=5, adjectives=5, gram=25, lwl=4, viz_vocab=30, trog=25,
                    gram_wino=80, voe=13, gaze=200, joint=120, probe=(20, 10)),
    # the tests' size: enough items that a baseline's score is known to a few points
    'small': dict(ls_rounds=4, ls_pool=6, vtwt=1, vtwt_verb=2, wino=40, caption=30, pv_rounds=2, localize=60,
                  leftright=80, spatial=80, vdr=80, vdr_open=8, compare=80, count=15, subitize=30, memory=8,
                  nouns=2, adjectives=2, gram=8, lwl=2, viz_vocab=10, trog=8, gram_wino=20, voe=13, gaze=100,
                  joint=60, probe=(6, 4)),
    'tiny': dict(ls_rounds=1, ls_pool=2, vtwt=1, vtwt_verb=1, wino=4, caption=6, pv_rounds=1, localize=4,
                 leftright=3, spatial=3, vdr=2, vdr_open=1, compare=2, count=1, subitize=1, memory=1, nouns=1,
                 adjectives=1, gram=2, lwl=1, viz_vocab=2, trog=1, gram_wino=3, voe=1, gaze=4, joint=8,
                 probe=(2, 1)),
}
LABELED_S = ('ball', 'basket', 'car', 'cat', 'chair', 'computer', 'crib', 'door', 'floor', 'foot', 'ground',
             'hand', 'kitchen', 'paper', 'puzzle', 'road', 'room', 'sand', 'stairs', 'table', 'toy', 'window')
ABCD = 'ABCD'


class Suite:
    """One suite folder, written under a temporary name: its images, files and ground truth."""

    def __init__(self, out, name, seed, size, heldout):
        self.name, self.final, self.tmp = name, os.path.join(out, name), os.path.join(out, '.tmp', name)
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.st = S.Stim(np.random.default_rng([seed, 2, world.stable_int('bench', name) % 2 ** 32]), heldout)
        self.seed, self.size, self.tiny = seed, size, size == 'tiny'
        self.items, self.scenes, self.index = [], {}, {}

    def path(self, rel):
        os.makedirs(os.path.dirname(os.path.join(self.tmp, rel)), exist_ok=True)
        return os.path.join(self.tmp, rel)

    def image(self, rel, s, pixels=None):
        """Render a scene (or take its pixels) to rel, a JPEG."""
        Image.fromarray(S.render(s) if pixels is None else pixels).save(self.path(rel), quality=90)
        self.scenes[rel] = s
        return rel

    def text(self, rel, content, newline='\n', bom=False, **json_kw):
        if not isinstance(content, str):
            content = json.dumps(content, **{'indent': 1, **json_kw}) + '\n'
        with open(self.path(rel), 'w', encoding='utf-8-sig' if bom else 'utf-8', newline='') as f:
            f.write(content.replace('\n', newline))

    def csv(self, rel, header, rows, **kw):
        buf = io.StringIO()
        csv.writer(buf, lineterminator='\n').writerows([header] + rows)
        self.text(rel, buf.getvalue(), **kw)

    def task(self, key, file, fmt, n, chance, **kw):
        self.index[key] = dict(file=f'{self.name}/{file}', format=fmt, n=n, chance=chance, **kw)

    def finish(self):
        """Write truth.json, then swap the finished folder into place: the only step that touches
        <out>/name."""
        self.text('truth.json', dict(suite=self.name, seed=self.seed, size=self.size, version=VERSION,
                                     index=self.index, items=self.items, scenes=self.scenes), indent=None)
        os.makedirs(os.path.dirname(self.final), exist_ok=True)
        if os.path.exists(self.final):
            os.replace(self.final, self.tmp + '.old')
            shutil.rmtree(self.tmp + '.old')
        os.replace(self.tmp, self.final)
        return len(self.scenes)


def conv(prompt, answer):
    return [{'from': 'human', 'value': prompt}, {'from': 'gpt', 'value': answer}]


def article(word):
    return ('an ' if word[0] in 'aeiou' else 'a ') + word


def ls_picture(st, cat):
    """A Labeled-S category: a place seen for itself, or a thing where it is found (with small fillers)."""
    if cat in world.BACKGROUNDS:
        return S.place_view(st, cat)
    return S.single(st, cat, st.color(cat), fillers=int(st.rng.integers(0, 3)))

# ----------------------------------------------------------------------------------------------------
# BabyVLM v1


def labeled_s(su, cfg, ctx):
    """22 categories, each the target of ls_rounds trials and a foil in 3 x ls_rounds; a foil picture never
    shows the target word (as a thing or as the place), and foil pictures take turns."""
    st, pool, rows, used = su.st, {c: [] for c in LABELED_S}, [], Counter()
    for cat in LABELED_S:
        for _ in range(cfg['ls_pool']):
            s = ls_picture(st, cat)
            pool[cat].append((su.image(f'images/{cat}/img_{len(su.scenes)}.jpeg', s)[7:], s))

    def ok(target, foil):  # some picture of the foil does not show the target word
        return any(target not in S.depicts(s) for _, s in pool[foil])
    rounds = [S.latin_foils(st.rng, list(LABELED_S), 3, ok) for _ in range(cfg['ls_rounds'])]
    for i, cat in enumerate(LABELED_S):
        for r in range(cfg['ls_rounds']):
            rows.append([len(rows) // 4, cat, cat, pool[cat][r % len(pool[cat])][0]])
            for f in rounds[r][i]:
                fitting = (p for p, s in pool[f] if cat not in S.depicts(s))
                p = min(fitting, key=lambda p: (used[p], st.rng.random()))
                used[p] += 1
                rows.append([rows[-1][0], cat, f, p])
    su.csv('labeled_s.csv', ['trial_id', 'target_category', 'real_category', 'image'], rows)
    su.task('labeled_s', 'labeled_s.csv', 'babyvlm-v1', len(rows) // 4, 0.25, metric='accuracy')


def vtwt(su, cfg, ctx):
    """One picture, two two-word phrases that differ in one word. Colour-noun items are built on the
    held-out colour-object pairs (a phrase never heard, beside a picture never seen); verb-noun items on
    things that two still verbs happen to (held-out verb-object pairs among them). Every phrase is the
    positive once and the negative once (mirrored items, fresh pictures), so that no phrase prior beats
    chance. In every other colour pair a second thing wears the negative's colour, so that knowing which
    colours are in view is not enough."""
    st, rows = su.st, []
    held = [(c, k) for c, k in ctx['heldout']['color_object'] if [x for x in st.colors(k) if x != c]]
    verbs = [(c, [v for v in S.STILL_VERBS if c in speech.ACTIONS[v]]) for c in S.OBJECTS]
    verbs = [v for v in verbs if len(v[1]) >= 2][:1 if su.tiny else None]
    items = [('color', h) for h in held[:2 if su.tiny else None] for _ in range(cfg['vtwt'])]
    items += [('verb', v) for v in verbs for _ in range(cfg['vtwt_verb'])]
    for j, (kind, (a, b)) in enumerate(items):
        if kind == 'color':  # a is the held-out colour, b the thing
            cat, (w1, w2) = b, (a, st.color(b, exclude=(a,)))
        else:  # a is the thing, b its verbs
            cat, (w1, w2) = a, st.sample(b, 2)
        for pos, neg in ((w1, w2), (w2, w1)):
            others = [c for c in S.COMPACT if c != cat and (j % 2 == 0 or neg in st.colors(c))]
            other = st.pick(others or [c for c in S.COMPACT if c != cat])
            oc = neg if j % 2 and neg in st.colors(other) else st.color(other, exclude=(w1, w2))
            if kind == 'verb':
                s = S.action(st, pos, cat, st.color(cat))
            else:
                s = S.pair(st, cat, pos, S.height_for(cat, st.u(85, 110)), other, oc,
                           S.height_for(other, st.u(70, 85)), *st.background(), st.camera(),
                           flip=st.rng.random() < .5)
            image = su.image(f'images/vtwt_{len(rows):04d}.jpg', s)[7:]
            phrases = [two_words(ctx, w, cat) if kind == 'verb' else f'{w} {cat}' for w in (pos, neg)]
            rows.append([image, *phrases])
            held_out = (pos, cat) in (st.held_co | st.held_vo)
            su.items.append(dict(kind=kind, image=image, heldout=[[pos, cat]] if held_out else []))
    su.csv('vtwt.csv', ['image', 'positive_phrase', 'negative_phrase'], rows)
    su.task('vtwt', 'vtwt.csv', 'babyvlm-v1', len(rows), 0.5, metric='accuracy')


def two_words(ctx, verb, noun):
    """A verb-noun phrase in the verb's form the child heard most ("eat apple", "ball fell"): a form never
    heard ("fall") would test the tokenizer, not the meaning."""
    form = max(speech.VERBS[verb], key=lambda f: (ctx['counts'][f], f == verb))
    return f'{noun} {form}' if verb == 'fall' else f'{form} {noun}'


def winoground(su, cfg, ctx):
    """Two pictures x two phrases: a colour swap between two things (the swapped picture shows a held-out
    colour-object pair) or a changed relation (the held-out triples first). As in v1 (a real frame and its
    synthetic edit), the positive picture is a scene the corpus could show, the negative its edit."""
    st, rows = su.st, []
    held = [(c, a) for c, a in ctx['heldout']['color_object']
            if any(S.swappable(st, a, b, c) for b in S.COMPACT)]
    hrel, rest = S.rel_pairs(st, held=True)
    for i in range(cfg['wino']):
        (bg, variant), cam = st.background(), st.camera()
        if i % 3 != 2:
            a, b, ca, cb = S.swap_pair(st, held[(i - i // 3) % len(held)])  # cb: held out with a
            ha, hb = S.height_for(a, st.u(80, 100)), S.height_for(b, st.u(80, 100))
            flip = st.rng.random() < .5
            pics = [S.pair(st, a, x, ha, b, y, hb, bg, variant, cam, flip) for x, y in ((ca, cb), (cb, ca))]
            texts, shown = (f'{ca} {a}', f'{cb} {a}'), [[cb, a]]
        else:  # the held-out (or any) relation is the edit's: (f, r2, m)
            f, r2, r, m = hrel[i // 3 % len(hrel)] if i // 3 < 2 * len(hrel) else st.pick(rest)
            (fc, mc), side = S.two_colors(st, f, m), st.pick([-1, 1])
            pics = [S.relation(st, f, x, m, fc, mc, bg, cam, variant, side) for x in (r, r2)]
            texts = tuple(f'{f} {speech.RELATIONS[x]} {m}' for x in (r, r2))
            shown = [[f, r2, m]] if (f, r2, m) in st.held_rel else []
        files = (f'positive_images/wino_{i:04d}.jpg', f'negative_images/wino_{i:04d}_neg.jpeg')
        names = [os.path.basename(su.image(p, s)) for p, s in zip(files, pics)]
        rows += [[i, *texts, names[0], 'positive'], [i, *texts, names[1], 'negative']]
        su.items.append(dict(instance=i, heldout=shown))
    header = ['instance_id', 'positive_phrase', 'negative_phrase', 'image', 'image_tag']
    su.csv('baby_winoground.csv', header, rows)
    su.task('baby_winoground', 'baby_winoground.csv', 'babyvlm-v1', cfg['wino'],
            dict(text=0.25, image=0.25, group=1 / 6, positive_context=1 / 3, negative_context=1 / 3),
            metric='winoground', also='devcv baby_winoground (looking while listening)')


def ptb(text):
    """SAYCam_caption's spacing: lower case, punctuation and clitics split off ("there 's the ball !")."""
    t = re.sub(r'([,.!?])', r' \1', text.lower())
    t = re.sub(r"'(s|re|ll|m|d|ve)\b", r" '\1", t)
    t = re.sub(r"n't\b", " n't", t)
    return t if t[-1] in '.!?' else t + ' .'


def caption(su, cfg, ctx):
    """A picture and what a caregiver says about it: naming, colour, size, counting, where, what happens."""
    st, rows = su.st, []
    for i in range(cfg['caption']):
        kind = ('name', 'color', 'count', 'spatial', 'action', 'size')[i % 6]
        cat = st.pick(c for c in S.COMPACT + ('car', 'cat', 'dog', 'shoe')
                      if kind != 'color' or c in speech.COLORED)
        color, size, n = st.color(cat), st.pick(['small', 'big']), int(st.rng.integers(2, 6))
        if kind == 'count':
            s = S.group(st, cat, n, [color] * n)
            slots = dict(Ns=speech.plural(cat), n=speech.NUMBERS[n], up=', '.join(speech.NUMBERS[1:n + 1]))
        elif kind == 'spatial':
            f, r, _, m = st.pick(S.rel_pairs(st)[1])
            s, slots = S.relation(st, f, r, m, *S.two_colors(st, f, m)), dict(N=f, R=speech.RELATIONS[r], M=m)
        elif kind == 'action':
            handheld = ('apple', 'banana', 'cup', 'bottle', 'book', 'ball', 'duck', 'bear')
            kind, cat = st.pick((v, c) for v in S.STILL_VERBS for c in speech.ACTIONS[v]
                                if (v, c) not in st.held_vo and c in handheld)
            s, slots = S.action(st, kind, cat, st.color(cat)), dict(N=cat)
        else:
            size_pct = None
            if kind == 'size':  # as little or as big as the size word says
                size_pct = 60 if size == 'small' else 140
            s = S.single(st, cat, color, size=size_pct, fillers=int(st.rng.integers(0, 2)))
            slots = dict(N=cat, C=color, S=speech.SIZE_WORDS[size])
        rows.append([su.image(f'images/nursery_{i:04d}.jpg', s)[7:], ptb(S.speech_text(st, kind, **slots))])
    su.csv('SAYCam_caption.csv', ['image', 'text'], rows)
    su.task('SAYCam_caption', 'SAYCam_caption.csv', 'babyvlm-v1', len(rows), None, metric='meteor')

# ----------------------------------------------------------------------------------------------------
# BabyVLM v2 DevCV toolbox: prompts as in the toolbox's SAYCam samples, leftright's as in its Ego4D and
# BabyView ones (the SAYCam one asks for a number while its gold is a letter), subitize's as count's


def devcv(su, key, recs, chance, **kw):
    su.text('data.json', recs)
    su.task(key, 'data.json', 'devcv', len(recs), chance, **kw)


def images(su, task, i, pics, ext='jpeg'):
    return [su.image(f'images/{task}_{i:04d}_{k}.{ext}', s) for k, s in enumerate(pics)]


def picture_vocabulary(su, cfg, ctx):
    """Four single things on one background; each word the target pv_rounds times and a foil 3 x
    pv_rounds."""
    st, recs = su.st, []
    words = [c for c in S.OBJECTS if not su.tiny or c in S.COMPACT]
    trials = [t for _ in range(cfg['pv_rounds']) for t in zip(words, S.latin_foils(st.rng, words, 3))]
    for i, ((w, foils), slot) in enumerate(zip(trials, S.balanced(st.rng, len(trials), 4))):
        bg, variant = st.background()
        pics = [S.single(st, c, st.color(c), bg, variant) for c in foils[:slot] + [w] + foils[slot:]]
        prompt = (f"<image><image><image><image>\n Touch the image of '{w}' (A) the first image "
                  f"(B) the second image (C) the third image (D) the fourth image.")
        recs.append(dict(id=f'picture_vocabulary_{i:06d}', conversations=conv(prompt, ABCD[slot]),
                         image=images(su, 'picture_vocabulary', i, pics)))
    devcv(su, 'baby_pv', recs, 0.25)


def localize(su, cfg, ctx):
    """The named thing wholly inside one quadrant, 1-3 other things in other quadrants: the word decides."""
    st, recs = su.st, []
    for i, q in enumerate(S.balanced(st.rng, cfg['localize'], 4)):
        (bg, variant), cam = st.background(), st.camera()
        named, objs = st.sample([c for c in S.OBJECTS if c not in ('hand', 'foot')], 4), []
        others = [k for k in st.rng.permutation(4) if k != q][:int(st.rng.integers(1, 4))]
        for c, k in zip(named, [q] + others):
            h = min(96, 108 / S.aspect(c), S.height_for(c, st.u(80, 110)))  # inside its quadrant
            w, x0, y1 = h * S.aspect(c), (S.CROP[0] + 4, 164)[k % 2], (116, 236)[k // 2]
            objs.append(obj(c, st.color(c), h, st.u(x0 + w / 2, x0 + 112 - w / 2),
                            st.u(y1 - 110 + h, y1), cam))
        x0, y0, x1, y1 = S.vbox(objs[0], cam)
        bb = [round(x0, 1), round(y0, 1), round(x1 - x0, 1), round(y1 - y0, 1)]
        prompt = (f'<image> Point at the {named[0]}. Is it in the (A) top left or (B) top right or '
                  f'(C) bottom left or (D) bottom right of the image?')
        recs.append(dict(bb=bb, id=f'localize_{i}', conversations=conv(prompt, ABCD[q]),
                         image=images(su, 'localize', i, [scene(bg, variant, cam, objs)])))
    devcv(su, 'baby_localize', recs, 0.25)


def leftright(su, cfg, ctx):
    st, recs = su.st, []
    prompt = '<image> Which of the following is the same as this? (A) <image> (B) <image> (C) <image>'
    for i, slot in enumerate(S.balanced(st.rng, cfg['leftright'], 3)):
        ref, (same, *foils) = S.mirror_set(st)  # foils: mirrored, places swapped
        pics = [ref] + foils[:slot] + [same] + foils[slot:]
        recs.append(dict(id=f'leftright_{i}', conversations=conv(prompt, ABCD[slot]),
                         image=images(su, 'leftright', i, pics)))
    devcv(su, 'baby_leftright', recs, 1 / 3)


def spatialdetails(su, cfg, ctx):
    st, recs = su.st, []
    prompt = ('<image> Which of the following contains exactly this object? (A) <image> (B) <image> '
              '(C) <image>. Pay attention to details and give only a letter A-C.')
    for i, slot in enumerate(S.balanced(st.rng, cfg['spatial'], 3)):
        closeup, (exact, *foils) = S.details_set(st)  # foils: another kind, another colour
        pics = [closeup] + foils[:slot] + [exact] + foils[slot:]
        recs.append(dict(id=f'spatialdetails_{i}', conversations=conv(prompt, ABCD[slot]),
                         image=images(su, 'spatialdetails', i, pics)))
    devcv(su, 'baby_spatialdetails', recs, 1 / 3)


VDR = {'binary': "does the {} leave the frame through the right side of the frame or the left side of the "
                 "frame? respond ONLY with 'right' or 'left'.",
       'open': "which part of the frame does the {} leave from? respond ONLY with one of: 'top', 'bottom', "
               "'left', 'right', 'top right', 'top left', 'bottom right', or 'bottom left'."}
MOVERS = ('ball', 'car', 'duck', 'dog', 'cat', 'bear', 'block', 'shoe', 'cup', 'apple', 'book', 'bucket')


def vdr(su, cfg, ctx, key):
    """Visual delayed response: 5-6 frames of things leaving the view at once, the last two empty of them
    (the delay). In the binary task the named thing and another leave by opposite sides; in the 8-way one
    eight things leave by the eight exits, one each. The answer needs the word and a memory of the clip."""
    st, recs = su.st, []
    if key == 'binary':
        exits = (['left', 'right'] * cfg['vdr'])[:cfg['vdr']]
    else:
        exits = list(S.EXITS) * cfg['vdr_open']
    exits = [exits[j] for j in st.rng.permutation(len(exits))]
    for i, exit in enumerate(exits):
        n = int(st.rng.integers(5, 7))
        if key == 'binary':
            cats, ways = st.sample(MOVERS, 2), [exit, {'left': 'right', 'right': 'left'}[exit]]
            y = st.pick([-1, 1]) * st.u(30, 45)  # one above the middle, one below
            movers = [(c, e, (160 + st.u(-20, 20), 120 + k * y)) for c, e, k in zip(cats, ways, (1, -1))]
            frames = S.exit_clip(st, movers, n)
        else:
            ways = [exit] + [e for e in S.EXITS if e != exit]
            cats = st.sample(MOVERS, len(ways))
            # each starts on a ring about the middle, on the side of its exit
            movers = [(c, e, (160 + S.EXITS[e][0] * 62, 120 + S.EXITS[e][1] * 48))
                      for c, e in zip(cats, ways)]
            frames = S.exit_clip(st, movers, n, size=(70, 85))
        prompt = '<image>' * n + ' ' + VDR[key].format(cats[0])
        recs.append(dict(id=f'vdr_{key}_{i}', conversations=conv(prompt, exit),
                         image=images(su, 'vdr', i, frames, 'jpg')))
    if key == 'binary':
        devcv(su, f'baby_vdr_{key}', recs, 0.5)
    else:
        devcv(su, f'baby_vdr_{key}', recs, 0.125, chance_adjacent=0.375)


def compare(su, cfg, ctx, key):
    """Which of two pictures has more of a thing (1-6, never equal): on a blank page, the two pictures' things
    adding up to the same area (synthetic), or in nursery scenes where another thing evens out the totals
    (real)."""
    st, recs = su.st, []
    pairs = [(a, b) for a in range(1, 7) for b in range(a + 1, 7) if key == 'synthetic' or a + b <= 8]
    pairs = [pairs[j] for j in st.rng.permutation(len(pairs))]
    for i in range(cfg['compare']):  # every pair both ways round: the answer is A half the time
        (a, b), cat = pairs[i // 2 % len(pairs)][::1 - 2 * (i % 2)], st.pick(S.COMPACT)
        other, pics, size = st.pick(c for c in S.COMPACT if c != cat), [], st.u(70, 90)
        for mine, theirs in ((a, b), (b, a)):
            color = [st.color(cat)] * mine if st.rng.random() < 0.6 else [st.color(cat) for _ in range(mine)]
            if key == 'synthetic':
                heights = S.equal_area_heights(st, cat, mine, size)
                pics.append(S.group(st, cat, mine, color, bg='plain', heights=heights))
            else:
                others = [(other, st.color(other))] * theirs
                pics.append(S.group(st, cat, mine, color, others=others))
        notes = dict(notes=f'first should have {a} second should have {b}') if key == 'real' else {}
        answer = 'Answer ' if key == 'synthetic' else ''
        prompt = f'Which image has more {speech.plural(cat)}? {answer}(A) <image> (B) <image>'
        recs.append(dict(id=f'compare_{key}_{i}', **notes, conversations=conv(prompt, 'AB'[b > a]),
                         image=images(su, f'compare_{key}', i, pics)))
    devcv(su, f'baby_compare_{key}', recs, 0.5)


def count(su, cfg, ctx, key):
    """n of one kind (1-6, or 1-3 to subitize, each equally often: chance is one over the range) among 0-2
    things of another kind, the n adding up to the same area whatever n is."""
    st, recs, top = su.st, [], 6 if key == 'count' else 3
    for i, n in enumerate(st.rng.permutation(np.repeat(np.arange(1, top + 1), cfg[key])).tolist()):
        cat = st.pick(S.COMPACT + ('car', 'shoe', 'cat', 'dog'))
        other = st.pick(c for c in S.COMPACT if c != cat)
        color = [st.color(cat)] * n if st.rng.random() < 0.7 else [st.color(cat) for _ in range(n)]
        heights = S.equal_area_heights(st, cat, n, st.u(75, 95))
        s = S.group(st, cat, n, color, others=[(other, st.color(other))] * int(st.rng.integers(0, 3)),
                    heights=heights)
        prompt = f'<image> How many {speech.plural(cat)} do you see?'
        recs.append(dict(id=f'{key}_{i}', conversations=conv(prompt, str(n)), image=images(su, key, i, [s])))
    devcv(su, f'baby_{key}', recs, 1 / top)


def memory(su, cfg, ctx):
    """15 rounds of "touch the new image": 5 base things learnt in rounds 1-5, then each shown twice beside a
    new thing. A thing seen again comes back in another place, colour (where it has another), size and
    facing, never pixel for pixel: remembering it means recognising the kind, not matching a picture."""
    st, recs = su.st, []
    for i in range(cfg['memory']):
        kinds = [c for c in S.OBJECTS if c not in ('hand', 'foot')]
        things = st.sample(kinds, 15)
        turns = [[things[0]]] + [[things[k - 1], things[k]] for k in range(1, 5)]
        turns += [[things[j], new] for j, new in zip(st.rng.permutation(10) % 5, things[5:])]  # [old, new]
        answers = [0] + st.rng.integers(0, 2, 14).tolist()
        # the new one at the answer
        turns = [t if a == len(t) - 1 else t[::-1] for t, a in zip(turns, answers)]
        seen, pics = {}, []  # seen: the places and colours each thing has been shown in
        for c in (c for t in turns for c in t):
            places, colors = seen.setdefault(c, ([], []))
            bg = st.pick([b for b in S.PLACES[c] if b not in places] or S.PLACES[c])
            color = st.pick([x for x in st.colors(c) if x not in colors] or st.colors(c))
            pic = S.single(st, c, color, bg, size=st.u(85, 120))
            if c in S.ASYMMETRIC:
                pic['objects'][0]['flip'] = bool(st.rng.random() < .5)
            places.append(bg)
            colors.append(color)
            pics.append(pic)
        convs = []
        for r, a in enumerate(answers):
            if r == 0:
                prompt = 'Touch the new image. (A) <image>'
            else:
                prompt = "Let's try more. Touch the new image. (A) <image> (B) <image>"
            convs += conv(prompt, ABCD[a])
        labels = [list(t) for t in turns]
        recs.append(dict(id=f'memory_task_{i}', labels=labels, conversations=convs,
                         image=images(su, 'memory', i, pics, 'jpg')))
    devcv(su, 'baby_memory', recs, 0.5, rounds=15, base_rounds=5)

# ----------------------------------------------------------------------------------------------------
# EgoBabyVLM Machine-DevBench (cartoon style) and DevBench


EDGES = (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512)  # EgoBabyVLM's log-frequency bins
NOUN_KINDS = {'toys': ('ball', 'block', 'toy', 'puzzle', 'car'), 'animals': ('cat', 'dog', 'duck', 'bear'),
              'food': ('apple', 'banana'), 'kitchenware': ('cup', 'bottle', 'spoon'),
              'furniture': ('chair', 'table', 'crib'), 'house': ('door', 'window'),
              'containers': ('basket', 'bucket'), 'body': ('hand', 'foot'), 'nature': ('tree', 'flower'),
              'things': ('book', 'paper', 'computer', 'shoe'),
              'places': ('room', 'kitchen', 'sand', 'road', 'stairs', 'ground')}
GRAMMATICAL = ('subject_verb', 'subject_adjective', 'negation', 'order_matters', 'prepositions', 'counting',
               'comparatives')


def freq(ctx, word):
    """(count, bin label) of a word in the training transcripts; a noun counts with its plural."""
    n = ctx['counts'][word] + (ctx['counts'][speech.plural(word)] if word in S.OBJECTS else 0)
    i = next((i for i in range(len(EDGES) - 1) if n < EDGES[i + 1]), len(EDGES) - 1)
    return n, f'[{EDGES[i]},{EDGES[i + 1]})' if i < len(EDGES) - 1 else f'[{EDGES[-1]},inf)'


def manifest(su, ctx, key, rel, items, fmt, description, **meta):
    """A Machine-DevBench manifest with EgoBabyVLM's metadata (lexical ones with frequency quantiles: the
    mean percentile rank of a word's count among the manifest's words)."""
    if fmt == 'lexical':
        counts = sorted(freq(ctx, w)[0] for w in {it['word'] for it in items})
        for it in items:
            ranks = [j for j, d in enumerate(counts) if d == it['frequency_count']]
            it['frequency_quantile'] = round(float(np.mean(ranks)) / max(len(counts) - 1, 1), 4)
        bins = Counter(it['frequency_bin'] for it in items)
        by_lower_edge = sorted(bins, key=lambda b: float(b[1:].split(',')[0]))
        per_bin = {f'bin_{i:02d}_{b}': bins[b] for i, b in enumerate(by_lower_edge, 1)}
        meta = dict(num_items=len(items), num_words_in_source=len(counts), num_skipped=0,
                    items_per_frequency_bin=per_bin, **meta)
    top = meta.pop('top', {})
    su.text(rel, dict(description=description, **top, style='cartoon', metadata=meta, items=items), indent=2)
    su.task(key, rel, f'machine-devbench/{fmt}', len(items), 0.5,
            metric='mean of per-bin accuracy' if fmt == 'lexical' else 'accuracy')


def machine_devbench(su, cfg, ctx):
    """Nouns: pictures of each word, paired with a same-kind word's (an odd one out with the first).
    Adjectives: colour and size words. Every pair of pictures is asked both ways, so a bias for one picture
    cannot pass. Grammatical: minimal pairs (stimuli.gram_pair), the held-out colour pairs and relations in
    subject_adjective and prepositions."""
    nouns_manifest(su, cfg, ctx)
    adjectives_manifest(su, cfg, ctx)
    grammatical_manifests(su, cfg, ctx)


def nouns_manifest(su, cfg, ctx):
    st, nouns = su.st, []
    for kind, ws in NOUN_KINDS.items():
        for k in range(cfg['nouns']):
            for w in ws:
                picture = S.place_view(st, w) if w in world.BACKGROUNDS else S.single(st, w, st.color(w))
                su.image(f'Lexical/Nouns/cartoon/{kind}/{w}_{k}.jpg', picture)
            pairs = [(ws[i], ws[(i + 1) % len(ws)]) for i in range(0, len(ws), 2)]  # odd: last with first
            for pair in pairs:
                for w, neg in (pair, pair[::-1]):
                    n, b = freq(ctx, w)
                    nouns.append(dict(word=w, category=kind,
                                      caption_positive=f'This is a photo of {article(w)}.',
                                      caption_negative=f'This is a photo of {article(neg)}.',
                                      negative_word=neg, image_positive=f'cartoon/{kind}/{w}_{k}.jpg',
                                      image_negative=f'cartoon/{kind}/{neg}_{k}.jpg',
                                      frequency_bin=b, frequency_count=n))
    per_category = dict(sorted(Counter(it['category'] for it in nouns).items()))
    manifest(su, ctx, 'nouns', 'Lexical/Nouns/manifest_nouns_cartoon.json', nouns, 'lexical',
             "Noun manifest for style 'cartoon'", num_categories=len(NOUN_KINDS),
             items_per_category=per_category)


def adjectives_manifest(su, cfg, ctx):
    st, adj = su.st, []
    for i, w in enumerate(list(world.COLOR_WORDS) * cfg['adjectives'] + ['big'] * 2 * cfg['adjectives']):
        kinds = S.COMPACT + ('car', 'shoe', 'cat', 'dog')
        cands = [c for c in kinds if w == 'big' or w in st.colors(c) and len(st.colors(c)) > 1]
        # where a seed holds out w on every kind that has another colour, one with w held out (a suite that
        # may show held-out pairs)
        cat = st.pick(cands or [c for c in kinds if w in world.CATEGORIES[c][2]])
        other = 'little' if w == 'big' else st.color(cat, exclude=(w,))
        (bg, variant), col = st.background(), st.color(cat)
        paths = {val: f'cartoon/{w}/{i:03d}_{val}.jpg' for val in (w, other)}
        for val, path in paths.items():
            color = val if val in world.COLORS else col
            # three draws whatever the word, so that the pictures stay those of this VERSION
            big, little, any_size = st.u(125, 150), st.u(50, 62), st.u(95, 130)
            size_pct = {'big': big, 'little': little}.get(val, any_size)
            su.image('Lexical/Adjectives/' + path, S.single(st, cat, color, bg, variant, size=size_pct))
        # the same two pictures asked both ways: a bias for one cannot pass
        for pos, neg in ((w, other), (other, w)):
            n, b = freq(ctx, pos)
            adj.append(dict(word=pos, caption_positive=f'{article(pos)} {cat}',
                            caption_negative=f'{article(neg)} {cat}', image_positive=paths[pos],
                            image_negative=paths[neg], frequency_bin=b, frequency_count=n))
    manifest(su, ctx, 'adjectives', 'Lexical/Adjectives/manifest_adjectives_cartoon.json', adj, 'lexical',
             "Adjectives manifest for style 'cartoon'")


def grammatical_manifests(su, cfg, ctx):
    st = su.st
    held = [tuple(p) for p in ctx['heldout']['color_object']
            if any(S.swappable(st, p[1], b, p[0]) for b in S.COMPACT)]
    for cat in GRAMMATICAL:
        items, root = [], f'Grammatical/gram_{cat}'
        for i in range(cfg['gram']):
            caps, pics, word, shown = S.gram_pair(st, cat, i, held)
            seq = [su.image(f'{root}/imgs/cartoon/seq_{i:02d}/img_{k}.jpg', s)[len(root) + 1:]
                   for k, s in enumerate(pics)]
            items.append(dict(seq=f'seq_{i:02d}', caption_a=caps[0], caption_b=caps[1], word=word,
                              image_0=seq[0], image_1=seq[1], freq_bin=freq(ctx, word)[1]))
            su.items.append(dict(task=f'gram_{cat}', seq=f'seq_{i:02d}', heldout=shown))
        bins = Counter(it['freq_bin'] for it in items)
        per_bin = {f'bin_{b}': bins[b] for b in sorted(bins)}
        manifest(su, ctx, f'gram_{cat}', f'{root}/manifest_grammatical_{cat}_cartoon.json', items,
                 'grammatical', f"Grammatical manifest for category '{cat}', style 'cartoon'",
                 top=dict(category=cat), num_items=len(items), num_items_in_source=len(items), num_skipped=0,
                 items_per_freq_bin=per_bin, vlm_filtered=False)


def devbench_csv(su, key, header, rows, chance, bom=False, **kw):
    """DevBench's manifests have CRLF line endings (and gram-winoground a UTF-8 BOM), as in dev-bench's
    assets."""
    su.csv('manifest.csv', header, rows, newline='\r\n', bom=bom)
    su.task(key, 'manifest.csv', 'devbench', len(rows), chance, **kw)


def rotations(st, paths, texts):
    """Rows of a group of pictures, each one the target (image1) once, the others in random order after it."""
    return [[paths[k], *[paths[j] for j in st.rng.permutation(len(paths)) if j != k], texts[k]]
            for k in range(len(paths))]


def lex_lwl(su, cfg, ctx):
    """Yoked pairs of pictures named by content (images/ball_purple_0.jpg), each pair asked about twice, once
    for each word: preferring a picture, or a side, cannot beat chance. As in DevBench, the words are ones the
    child hears: those the corpus says (every nursery object in a full render), with as many pictures in all
    either way."""
    st, rows, pool = su.st, [], []
    words = [c for c in S.OBJECTS if not su.tiny or c in S.COMPACT[:6]]
    heard = [c for c in words if ctx['counts'][c] + ctx['counts'][speech.plural(c)]]
    heard = heard if len(heard) >= 2 else words
    for k in range(math.ceil(cfg['lwl'] * len(words) / len(heard))):
        for c in heard:
            col = st.color(c)
            pool.append((su.image(f'images/{c}_{col.replace("_", "-")}_{k}.jpg', S.single(st, c, col)), c))
    pool = [pool[i] for i in st.rng.permutation(len(pool))]
    while len(pool) >= 2:
        a = pool.pop()
        j = next((i for i, p in enumerate(pool) if p[1] != a[1]), None)
        if j is None:  # only pictures of one word are left
            break
        b = pool.pop(j)
        rows += [[a[1], a[0], b[0]], [b[1], b[0], a[0]]]
    devbench_csv(su, 'lex-lwl', ['text1', 'image1', 'image2'], rows, 0.5)


def viz_vocab(su, cfg, ctx):
    """Groups of four pictures of four kinds; each picture is the target once and a foil three times."""
    st, rows = su.st, []
    for g in range(cfg['viz_vocab']):
        cats = st.sample([c for c in S.OBJECTS if not su.tiny or c in S.COMPACT], 4)
        paths = [su.image(f'images/{c}_{g}.jpg', S.single(st, c, st.color(c))) for c in cats]
        rows += rotations(st, paths, cats)
    devbench_csv(su, 'lex-viz_vocab', ['image1', 'image2', 'image3', 'image4', 'text1'], rows, 0.25)


def trog(su, cfg, ctx):
    """TROG-style groups of four pictures, each described by a phrase that fits it alone
    (stimuli.trog_group)."""
    st, rows = su.st, []
    for g in range(cfg['trog']):
        pics, texts = S.trog_group(st, ('relation', 'verb', 'number', 'color')[g % 4])
        rows += rotations(st, [su.image(f'images/{g}-{k}.jpg', s) for k, s in enumerate(pics)], texts)
    devbench_csv(su, 'gram-trog', ['image1', 'image2', 'image3', 'image4', 'text1'], rows, 0.25)


def devbench_wino(su, cfg, ctx):
    """Winoground pairs of seen combinations only: colour swaps, changed relations, reversed stacking."""
    st, rows = su.st, []
    for i in range(cfg['gram_wino']):
        kind = ('subject_adjective', 'prepositions', 'order_matters')[i % 3]
        caps, pics, _, _ = S.gram_pair(st, kind, i, (), False)
        rows.append([su.image(f'images/ex_{i}_img_{k}.jpg', s) for k, s in enumerate(pics)] + list(caps))
    devbench_csv(su, 'gram-winoground', ['image1', 'image2', 'text1', 'text2'], rows,
                 dict(text=0.25, image=0.25, group=1 / 6), bom=True, metric='winoground')

# ----------------------------------------------------------------------------------------------------
# beyond the published benchmarks: violation of expectation, gaze following, joint attention, probes


VOE_CONCEPTS = ('permanence', 'continuity', 'color', 'shape')


def voe(su, cfg, ctx):
    """Violation of expectation, one task per concept (voe_<concept>.json): cfg['voe'] quadruplets of clips
    each, two matched pairs a quadruplet (stimuli.voe_quad)."""
    st, by_concept = su.st, {c: [] for c in VOE_CONCEPTS}
    for q, concept in enumerate(VOE_CONCEPTS * cfg['voe']):
        clips, thing = S.voe_quad(st, concept)
        written, paths = {}, {}  # a frame with the same pixels as another clip's is that clip's file
        for k, frames in clips.items():
            paths[k] = []
            for t, f in enumerate(frames):
                px = S.render(f)
                key = hashlib.blake2b(px.tobytes(), digest_size=16).digest()
                written[key] = written.get(key) or su.image(f'frames/q{q:03d}_{k}_{t:02d}.jpg', f, px)
                paths[k].append(written[key])
        recs = by_concept[concept]
        for p, imp in (('possible', 'impossible'), ('possible2', 'impossible2')):
            diverge_at = next(t for t, (a, b) in enumerate(zip(paths[p], paths[imp])) if a != b)
            recs.append(dict(id=f'voe_{concept}_{len(recs):03d}', concept=concept, quad=q, fps=5,
                             object=thing, diverge_at=diverge_at, possible=paths[p], impossible=paths[imp]))
    for concept, recs in by_concept.items():
        su.text(f'voe_{concept}.json', recs)
        su.task(f'voe_{concept}', f'voe_{concept}.json', 'voe', len(recs), 0.5, clips=2 * len(recs),
                metric='pairwise accuracy (impossible more surprising) and AUROC over clips')


def gaze(su, cfg, ctx):
    """A caregiver looks at one of 2-3 known things at clearly different head turns; which one? Items come
    in blocks of k scenes of the same k kinds, each kind looked at once and each place (A, B, C) answered
    once, so that any fixed preference for a kind or a place scores exactly chance: with kinds drawn
    freely, the best fixed kind ranking read 0.465 against chance 0.417 on 200 items (VERSION 7)."""
    st, recs = su.st, []
    kinds = S.COMPACT + ('car', 'shoe', 'cat', 'dog')
    while len(recs) < cfg['gaze']:
        k = 2 + len(recs) % 5 // 2  # blocks of 2, then 3
        block, start = st.sample(kinds, k), len(recs)
        for j in range(min(k, cfg['gaze'] - start)):
            place = (j + start) % k  # where kind j stands in this scene, and so its answer
            others = [c for c in st.rng.permutation(block).tolist() if c != block[j]]
            cats = others[:place] + [block[j]] + others[place:]
            s, i = S.gaze_scene(st, cats, place), len(recs)
            opts = [f'the {c}' for c in cats]
            listed = ' '.join(f'({ABCD[m]}) {o}' for m, o in enumerate(opts))
            prompt = f"<image> What is {speech.PERSON_WORDS[s['face']['who']]} looking at? {listed}"
            recs.append(dict(id=f'gaze_{i}', image=images(su, 'gaze', i, [s]),
                             conversations=conv(prompt, ABCD[place]), options=opts, k=k))
    su.text('data.json', recs)
    su.task('gaze', 'data.json', 'llava', len(recs), float(np.mean([1 / r['k'] for r in recs])))


def joint_attention(su, cfg, ctx):
    """Two novel words, each said while the speaker looks at one of the same two novel things; which one is
    the word asked? The options show each thing alone. The speaker looks at each thing in one of the
    scenes, so the answer is the thing looked at while the asked word was said: without the word it is a
    coin toss. The first scene's gaze side, the word asked and the answer's letter are balanced and
    independent (i's bits)."""
    st, recs = su.st, []
    for i in range(cfg['joint']):
        first, asked, slot = i % 2, i // 2 % 2, i // 4 % 2
        words = st.sample(S.NOVEL_WORDS, 2)
        answer = first if asked == 0 else 1 - first
        pics = S.joint_scenes(st, first, answer, slot)
        prompt = (f'<image> Look, a {words[0]}! <image> Look, a {words[1]}! Which one is the {words[asked]}? '
                  '(A) <image> (B) <image>')
        recs.append(dict(id=f'joint_{i}', words=words, word=words[asked], image=images(su, 'joint', i, pics),
                         conversations=conv(prompt, ABCD[slot])))
        su.items.append(dict(id=recs[-1]['id'], looked_at=('left', 'right')[answer]))
    su.text('data.json', recs)
    su.task('joint_attention', 'data.json', 'llava', len(recs), 0.5)


def probes(su, cfg, ctx):
    (n_train, n_test), n = cfg['probe'], len(LABELED_S)
    items = [dict(image=su.image(f'images/{c}/{c}_{k:03d}.jpeg', ls_picture(su.st, c)), label=c,
                  split='train' if k < n_train else 'test')
             for c in LABELED_S for k in range(n_train + n_test)]
    su.text('data.json', dict(labels=list(LABELED_S), items=items))
    su.task('probes', 'data.json', 'probes', len(items), 1 / n, train=n_train * n, test=n_test * n,
            metric='accuracy of linear and k-NN probes of frozen features, on test')

# ----------------------------------------------------------------------------------------------------
# the run


SUITES = {  # folder: writer
    'v1/labeled_s': labeled_s, 'v1/vtwt': vtwt, 'v1/baby_winoground': winoground,
    'v1/SAYCam_caption': caption, 'devcv/picture_vocabulary': picture_vocabulary, 'devcv/localize': localize,
    'devcv/leftright': leftright, 'devcv/spatialdetails': spatialdetails,
    'devcv/vdr-binary': lambda *a: vdr(*a, 'binary'), 'devcv/vdr-open': lambda *a: vdr(*a, 'open'),
    'devcv/compare_synthetic': lambda *a: compare(*a, 'synthetic'),
    'devcv/compare_real': lambda *a: compare(*a, 'real'), 'devcv/count': lambda *a: count(*a, 'count'),
    'devcv/subitize': lambda *a: count(*a, 'subitize'), 'devcv/memory': memory,
    'machine_devbench': machine_devbench, 'devbench/lex-lwl': lex_lwl, 'devbench/lex-viz_vocab': viz_vocab,
    'devbench/gram-trog': trog, 'devbench/gram-winoground': devbench_wino, 'voe': voe, 'gaze': gaze,
    'joint_attention': joint_attention, 'probes': probes}
# the only suites that show held-out combinations
HELDOUT_SUITES = ('v1/vtwt', 'v1/baby_winoground', 'machine_devbench')


def read_json(path):
    """The JSON in path, or {} where there is no such file."""
    if not os.path.exists(path):
        return {}
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def corpus(raw, seed):
    """(held-out combinations, word counts of the training transcripts, where the counts come from)."""
    heldout, saved = speech.choose_heldout(seed), read_json(os.path.join(raw, 'heldout.json'))
    if saved.get('seed') == seed:
        heldout = {k: saved[k] for k in heldout}
    counts, paths = Counter(), sorted(glob.glob(os.path.join(raw, 'truth', '*.json')))
    meta = os.path.join(os.path.dirname(os.path.abspath(raw)), 'meta.json')
    if paths:
        train = {r['id'] for r in read_json(meta).get('recordings', []) if r.get('split') == 'train'}
        used = [p for p in paths if os.path.basename(p)[:-5] in train] or paths
        for p in used:
            with open(p, encoding='utf-8') as f:
                counts.update(w for u in json.load(f)['utterances'] for w, _, _ in u['words'])
        which = 'training' if len(used) < len(paths) else 'all'
        return heldout, counts, f'{len(used)} {which} transcripts in {raw}'
    # what make.py renders for this seed, spoken, not filmed
    for rec in make.plan_recordings('default', seed):
        counts.update(w for u in make.simulate(rec, dict(heldout))[2] for w, _, _ in u['words'])
    return heldout, counts, f'transcripts of make.py --seed={seed}, simulated (no render in {raw})'


def complete(out, name, args):
    """(index, images, None for the seconds spent) of a suite already written with these settings, or
    None."""
    old = read_json(os.path.join(out, name, 'truth.json'))
    same = (old.get('seed'), old.get('size'), old.get('version')) == (args.seed, args.size, VERSION)
    return (old['index'], len(old['scenes']), None) if same else None


def main(argv=None):
    p = argparse.ArgumentParser(description="Render the nursery's benchmark suites in the published formats.")
    p.add_argument('--out', default=os.path.join(HERE, 'bench'))
    p.add_argument('--seed', type=int, default=1337, help="the corpus' seed (make.py --seed)")
    p.add_argument('--size', default='default', choices=sorted(SIZES))
    p.add_argument('--raw', default=os.path.join(HERE, 'raw'),
                   help='the rendered corpus: held-out pairs, word counts')
    p.add_argument('--only', default='', help='comma-separated suite folders to write (default: all)')
    args, t0 = p.parse_args(argv), time.time()
    heldout, counts, source = corpus(args.raw, args.seed)
    from tqdm import tqdm
    done = {}
    for name in tqdm(SUITES, unit='suite'):
        t, done[name] = time.time(), complete(args.out, name, args)
        if done[name] or (args.only and name not in args.only.split(',')):
            continue
        su = Suite(args.out, name, args.seed, args.size, heldout)
        SUITES[name](su, SIZES[args.size], dict(heldout=heldout, counts=counts))
        done[name] = (su.index, su.finish(), time.time() - t)
    shutil.rmtree(os.path.join(args.out, '.tmp'), ignore_errors=True)
    done = {k: v for k, v in done.items() if v}
    index = {k: v for idx, _, _ in done.values() for k, v in idx.items()}
    images = sum(v[1] for v in done.values())
    summary = dict(seed=args.seed, size=args.size, version=VERSION, frequency_source=source, heldout=heldout,
                   heldout_suites=HELDOUT_SUITES, images=images, tasks=index)
    atomic_write(os.path.join(args.out, 'INDEX.json'), json.dumps(summary, indent=1) + '\n')
    for name, (idx, n, secs) in done.items():
        took = 'complete before' if secs is None else f'{secs:5.1f} s'
        tasks = ', '.join(f"{k} {v['n']}" for k, v in idx.items())
        print(f'{name:26s} {n:5d} images {took}  {tasks}')
    print(f'frequencies: {source}')
    wall = time.time() - t0
    print(f'bench: {len(index)} tasks, {len(done)} suites, {images} images in {args.out} ({wall:.1f} s)')


if __name__ == '__main__':
    main()
