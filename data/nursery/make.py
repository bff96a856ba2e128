"""
The nursery: a procedural child's-eye world, filmed as real media. Renders a synthetic infant's days,
deterministic from a seed, in the raw corpus layout prepare.py reads:

    <out>/recordings.csv                     recording,child,date,age_days
    <out>/<child>/<recording>.mp4            H.264 320x240 at 5 fps + AAC 16 kHz mono
    <out>/<child>/<recording>.srt|.vtt|.csv  transcript sidecar (SRT, WebVTT, SAYCam CSV, generic CSV)
    <out>/truth/<recording>.json             utterances (word times, what each word names, in view or not,
                                             the scene), events, and the scene of every second
    <out>/heldout.json                       colour-object, verb-object and spatial combinations never shown

    python data/nursery/make.py                                    # ~90 min of video, minutes on 2 cores
    python data/nursery/make.py --size=tiny --out=/tmp/x --seed=1  # 4 short recordings, seconds

A re-run skips recordings already complete (the truth file is written last); every file is written to a
temporary name and renamed, so a killed run leaves no half file.
"""
import argparse
import datetime
import glob
import json
import multiprocessing
import os
import sys
import time
from collections import Counter

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)  # the modules next to this script
sys.path.insert(1, os.path.dirname(os.path.dirname(HERE)))  # the repository root, for atomic.py
import exposure  # noqa: E402
import speech  # noqa: E402
import world  # noqa: E402
from atomic import atomic_path, atomic_write  # noqa: E402

# The world moves in steps of 1/SIM_FPS s and is filmed at FPS, the rate prepare.py samples and the
# benchmark stimuli move at (stimuli.py): filmed at 10 fps, half the frames were drawn and encoded only for
# prepare.py to skip them, and the render took 170 s instead of 92 s on 2 cores. The world is the one it was
# at 10 fps (the same random draws, utterances and events), so the benchmark suites built from it are too.
SIM_FPS = 10
FPS = 5
SIZES = {  # children, recordings, seconds per recording (uniform range)
    'tiny': dict(children=1, recordings=4, seconds=(15.0, 20.0)),
    'small': dict(children=1, recordings=12, seconds=(40.0, 60.0)),
    'default': dict(children=2, recordings=132, seconds=(95.0, 150.0)),
}
AGE_DAYS = (183, 975)  # 6 to 32 months, the span of SAYCam
FORMATS = ('srt', 'vtt', 'saycam', 'csv')  # transcript sidecars, rotated over the recordings
# event times: frames here, seconds in truth
TIME_KEYS = ('start', 'end', 'land', 'hidden_start', 'hidden_end')


def plan_recordings(size, seed):
    """Every recording's id, child, date, age, length and seed: a pure function of (size, seed)."""
    cfg, rng = SIZES[size], np.random.default_rng([seed, 0])
    out = []
    for c in range(cfg['children']):
        child = 'ABCDEFGH'[c]
        birth = datetime.date(2019, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 700)))
        skins = ['skin_light', 'skin_tan', 'skin_dark']
        family = dict(skin=str(rng.choice(skins)), parent_skin=str(rng.choice(skins)))
        k = cfg['recordings'] // cfg['children'] + (c < cfg['recordings'] % cfg['children'])
        ages = np.clip(np.linspace(*AGE_DAYS, k) + rng.uniform(-10, 10, k), *AGE_DAYS).round().astype(int)
        for i, age in enumerate(ages):
            date = birth + datetime.timedelta(days=int(age))
            hour, minute = int(rng.integers(7, 19)), int(rng.integers(0, 60))
            rid = f'{child}_{date:%Y%m%d}_{hour:02d}{minute:02d}_{i:02d}'
            seconds = round(float(rng.uniform(*cfg['seconds'])), 1)
            out.append(dict(recording=rid, child=child, date=date.isoformat(), age_days=int(age),
                            family=family, seconds=seconds, seed=int(rng.integers(2 ** 31))))
    for j, rec in enumerate(out):
        rec['format'] = FORMATS[j % len(FORMATS)]
    return out

# ----------------------------------------------------------------------------------------------------
# the world's dynamics. A recording is a run of episodes (6-28 s): a background, things with a position
# per frame, maybe a caregiver's face and an occluder, events, and where the child looks (the camera).


PLACES = {  # background: what is found there (a room's door and window are on its wall)
    'room': ('ball', 'car', 'cat', 'dog', 'duck', 'bear', 'book', 'block', 'toy', 'puzzle', 'paper', 'shoe',
             'basket', 'computer', 'cup', 'bottle', 'crib', 'chair', 'bucket', 'spoon', 'banana'),
    'kitchen': ('apple', 'banana', 'cup', 'bottle', 'spoon', 'ball', 'cat', 'dog', 'block', 'book', 'duck',
                'chair', 'toy', 'paper', 'puzzle', 'basket'),
    'floor': ('ball', 'car', 'duck', 'bear', 'book', 'block', 'toy', 'puzzle', 'paper', 'shoe', 'cup',
              'spoon', 'apple', 'banana', 'bottle', 'basket', 'computer', 'bucket'),
    'stairs': ('ball', 'bear', 'shoe', 'cat', 'duck', 'block', 'book', 'car', 'toy', 'basket', 'paper',
               'puzzle'),
    'sand': ('bucket', 'ball', 'shoe', 'duck', 'spoon', 'dog', 'car', 'toy', 'cup'),
    'road': ('car', 'dog', 'ball', 'shoe', 'cat', 'flower'),
    'ground': ('flower', 'dog', 'cat', 'ball', 'duck', 'shoe', 'bucket', 'car'),
}
INDOOR, OUTDOOR = ('room', 'kitchen', 'floor', 'stairs'), ('sand', 'road', 'ground')
# how often things turn up: Zipf over this ranking (the objects in infants' views are heavy-tailed,
# a few very frequent; Clerkin et al. 2017)
RANK = ('ball', 'cup', 'book', 'duck', 'car', 'cat', 'dog', 'toy', 'apple', 'bottle', 'shoe', 'block', 'bear',
        'banana', 'spoon', 'chair', 'puzzle', 'flower', 'computer', 'basket', 'paper', 'bucket', 'crib')
# Things pushed behind screens, in the recordings and in the VoE suite (stimuli.voe_quad), at one speed range
# (world px a second: 8-14 px a filmed frame), hidden 1-3 s (infants' looking-time studies hide for seconds,
# Baillargeon 1987), behind screens 15-40 px wider and taller than the thing.
ROLLERS = ('ball', 'car', 'apple', 'duck', 'block', 'cup', 'bear')
PUSH_SPEED = (40.0, 70.0)
HIDDEN_SECONDS = (1.0, 3.0)
SCREEN_MARGIN = (15.0, 40.0)
# furniture and plants standing at the back of a place, each there with this chance (the things named
# most in the benchmarks are also the ones seen and named most: Clerkin et al. 2017)
BACKDROP = {'room': (('crib', 0.85), ('chair', 0.35), ('computer', 0.7), ('table', 0.3), ('puzzle', 0.3),
                     ('paper', 0.25), ('basket', 0.3)),
            'floor': (('crib', 0.5), ('computer', 0.4), ('puzzle', 0.4), ('paper', 0.3)),
            'kitchen': (('table', 0.8), ('chair', 0.5), ('bottle', 0.4), ('spoon', 0.6), ('banana', 0.4)),
            'sand': (('bucket', 0.5), ('spoon', 0.3)), 'ground': (('flower', 0.7),),
            'road': (('flower', 0.4),)}
# things of older children: the month of age from which they turn up
FIRST_MONTH = {'puzzle': 8, 'computer': 9, 'paper': 10, 'basket': 9, 'bucket': 9}


def add(ep, ctx, cat, x, y, size=None, color=None, **kw):
    """A thing standing still at (x, y) for the whole episode; callers overwrite its tracks to move it."""
    rng, n = ctx['rng'], ep['n']
    ctx['count'][cat] += 1
    cols = [c for c in world.CATEGORIES[cat][2] if [c, cat] not in ctx['heldout']['color_object']]
    obj = dict(id=f"{cat}{ctx['count'][cat]}", category=cat,
               color=ctx['family']['skin'] if cat in ('hand', 'foot') else color or str(rng.choice(cols)),
               size=size or str(rng.choice(['small', 'medium', 'big'], p=[0.25, 0.5, 0.25])),
               x=np.full(n, float(x)), y=np.full(n, float(y)), pose=np.zeros(n, int), z=0.0, flip=False,
               screen=False, present=np.ones(n, bool))
    obj.update(kw)
    ep['objects'].append(obj)
    return obj


def pick(ctx, place, k, exclude=()):
    """k distinct categories found at this place, grown-up ones later: popular ones a little more often, and
    ones the recording has not shown yet more often, as toys come out of the box in turn."""
    cands = [c for c in PLACES[place] if c not in exclude and ctx['age'] >= FIRST_MONTH.get(c, 0)]
    w = np.array([1.0 / (RANK.index(c) + 1) ** 0.1 / (1 + ctx['count'][c]) for c in cands])
    return [cands[i] for i in ctx['rng'].choice(len(cands), min(k, len(cands)), replace=False, p=w / w.sum())]


def floor_y(ep, ctx, lo=0.0, hi=1.0):
    a, b = world.FLOOR_BAND[ep['background']]
    return float(ctx['rng'].uniform(a + (b - a) * lo, a + (b - a) * hi))


def width(obj):
    return world.object_height(obj) * world.CATEGORIES[obj['category']][1]


def ep_play(ep, ctx):
    """Toys on the floor: one kind in a group of 1-6 (to count, each count as often), in one row or two, a few
    others, sometimes a passer-by."""
    rng = ctx['rng']
    cats = pick(ctx, ep['background'], int(rng.integers(1, 4)))
    k = int(rng.integers(1, 7))
    same = rng.random() < 0.7  # a set of identical things, or one kind in several colours
    group = [add(ep, ctx, cats[0], 0, 0, 'small' if k > 2 else None)]
    while k > 1 and row_length(k) * (width(group[0]) + 2) > 300:  # a crib or two, not six
        k -= 1
    color = group[0]['color'] if same else None
    group += [add(ep, ctx, cats[0], 0, 0, group[0]['size'], color) for _ in range(k - 1)]
    per_row = row_length(k)
    gap = width(group[0]) + rng.uniform(6, 14)
    gap = min(gap, max(width(group[0]) + 2, 280 / per_row))  # the whole group fits in the view, to be counted
    y, x0 = floor_y(ep, ctx, 0.3, 0.7), rng.uniform(60 + per_row * gap / 2, 420 - per_row * gap / 2)
    for i, o in enumerate(group):
        row, col = divmod(i, per_row)
        across = per_row if row == 0 else k - per_row
        o['x'][:] = x0 + (col - (across - 1) / 2) * gap + row * gap / 3
        o['y'][:] = y + row * world.object_height(o) * 0.45 + rng.uniform(-3, 3)
    ep['group'] = [o['id'] for o in group]
    for cat in cats[1:]:
        x = x0 + rng.choice([-1, 1]) * ((per_row + 1) / 2 * gap + rng.uniform(40, 110))
        add(ep, ctx, cat, np.clip(x, 30, world.WORLD_W - 30), floor_y(ep, ctx))
    if rng.random() < (0.6 if ep['background'] in OUTDOOR else 0.25):
        walker(ep, ctx)
    if rng.random() < 0.6:
        feet(ep, ctx)
    middle = group[(per_row - 1) // 2]
    return [(middle['id'], 4.0)] + [(o['id'], 1.0) for o in ep['objects'][k:]] + [('down', 0.4)]


def row_length(k):
    """How many of a group of k stand in its first row: up to three in one row, more in two."""
    return k if k <= 3 else (k + 1) // 2


def walker(ep, ctx):
    """A pet, or a car on the road, crossing the whole world: it enters the view and leaves it again."""
    rng, n = ctx['rng'], ep['n']
    cat = 'car' if ep['background'] == 'road' else str(rng.choice(['cat', 'dog']))
    d = int(rng.choice([-1, 1]))
    o = add(ep, ctx, cat, 0, floor_y(ep, ctx, 0.2, 0.8), size='medium', flip=d < 0, z=0.2)
    t0, speed = int(rng.integers(0, max(1, n // 3))), rng.uniform(50, 90) / SIM_FPS
    x = -60 + (np.arange(n) - t0) * speed
    o['x'][:] = np.where(d > 0, x, world.WORLD_W - x)
    o['present'][:] = (x > -60) & (x < world.WORLD_W + 60)
    if cat == 'car':
        ep['events'].append(dict(type='drive', object=o['id'], category=cat, color=o['color'], start=t0,
                                 end=min(n - 1, t0 + int((world.WORLD_W + 120) / speed)),
                                 direction='right' if d > 0 else 'left'))
    return o


def ep_spatial(ep, ctx):
    """A figure on, under, in or next to a landmark (never a held-out triple), and a distractor."""
    rng, bg = ctx['rng'], ep['background']
    rels = [(f, r, m) for f, r, m in speech.relation_triples() if [f, r, m] not in ctx['heldout']['relation']
            and (m in PLACES[bg] or m in ('table', 'chair') and bg in ('room', 'kitchen'))
            and ctx['age'] >= FIRST_MONTH.get(m, 0)]
    if not rels:
        return ep_play(ep, ctx)
    f, r, m = rels[int(rng.integers(len(rels)))]
    lm = add(ep, ctx, m, rng.uniform(170, 310), floor_y(ep, ctx, 0.4, 0.8), size='medium')
    fig = add(ep, ctx, f, lm['x'][0], lm['y'][0], size='medium' if r != 'under' else 'small')
    h = world.object_height(lm)
    if r == 'on':  # drawn after the landmark, standing on its surface
        fig['y'][:] -= world.SUPPORT[m] * h
        fig['x'][:] += rng.uniform(-0.2, 0.2) * width(lm)
        fig['z'] = 0.5
    elif r in ('under', 'in'):  # drawn before it: legs or the basket's front hide part of it
        fig['y'][:] -= 2 if r == 'under' else world.CONTAINER[m] * h * 0.6
        fig['z'] = -0.5
    else:
        fig['x'][:] += rng.choice([-1, 1]) * (width(lm) / 2 + width(fig) / 2 + rng.uniform(4, 14))
    ep['relations'].append([fig['id'], r, lm['id'], 0, ep['n']])
    for cat in pick(ctx, bg, 1, exclude=(f, m)):
        x = np.clip(lm['x'][0] + rng.choice([-1, 1]) * rng.uniform(130, 190), 30, 450)
        add(ep, ctx, cat, x, floor_y(ep, ctx))
    return [(lm['id'], 2.0), (fig['id'], 3.0), (ep['objects'][-1]['id'], 1.0)]


def hands(ep, ctx, x_sway=0.0, clap=False):
    """The child's own hands raised at the bottom of the view (view coordinates)."""
    t = np.arange(ep['n']) / SIM_FPS
    for side, x in ((-1, 80.0), (1, 240.0)):
        h = add(ep, ctx, 'hand', x, 250, size='medium', screen=True, z=4, flip=side > 0)
        if clap:
            move = 45 * (0.5 + 0.5 * np.sin(2 * np.pi * 1.5 * t))
        else:
            move = x_sway * np.sin(2 * np.pi * 0.4 * t)
        h['x'][:], h['y'][:] = x - side * move, 250 + 3 * np.sin(2 * np.pi * 0.7 * t + side)
    ep['hands'] = True


def can_act_on(ctx, verb, cat, bg):
    """Whether an action episode at background bg may show verb done to cat."""
    held = ctx['heldout']
    if [verb, cat] in held['verb_object'] or ctx['age'] < FIRST_MONTH.get(cat, 0):
        return False
    if verb == 'fall' and [cat, 'on', 'table'] in held['relation']:  # it stands on a table before it falls
        return False
    return verb in ('eat', 'drink', 'read', 'fall') or cat in PLACES[bg]


def ep_action(ep, ctx):
    """Something rolls, falls, is thrown, eaten, drunk, read, pushed or driven (never a held-out pair)."""
    rng, n, bg = ctx['rng'], ep['n'], ep['background']
    verbs = ['roll', 'throw', 'push'] + (['eat', 'drink', 'read'] if bg in INDOOR else [])
    verbs += ['fall'] if bg in ('room', 'kitchen') else []  # off a table
    verbs += ['drive'] if bg == 'road' else []
    verb = str(rng.choice([v for v in verbs if v not in ('read', 'push') or ctx['age'] >= 10]))
    if verb == 'drive':
        return [(walker(ep, ctx)['id'], 3.0)]
    objs = [o for o in speech.ACTIONS[verb] if can_act_on(ctx, verb, o, bg)]
    verb, cat = (verb, str(rng.choice(objs))) if objs else ('roll', 'ball')  # a ball rolls anywhere
    t0, d = int(rng.uniform(0.8, 2.0) * SIM_FPS), int(rng.choice([-1, 1]))
    ev = dict(type=verb, category=cat, start=t0, end=n - 1)
    # held in both hands, close to the eyes, brought to the mouth (below)
    if verb in ('eat', 'drink', 'read'):
        hands(ep, ctx, x_sway=4)
        o = add(ep, ctx, cat, 160, 236, size=1.9 if verb == 'read' else 'big', screen=True, z=3.5)
        t = np.arange(n) / SIM_FPS
        if verb == 'read':
            o['pose'][:], o['y'][:] = 1, 236 + 3 * np.sin(2 * np.pi * 0.3 * t)  # an open book
        else:
            lift = np.clip(np.sin(2 * np.pi * 0.35 * (t - t0 / SIM_FPS)), 0, 1) * (t >= t0 / SIM_FPS)
            o['y'][:] = 232 + 70 * lift
            if cat == 'apple':
                o['pose'][:] = np.cumsum(lift > 0.9) > 0  # bitten from the first bite on
        ep['events'].append(dict(ev, object=o['id'], color=o['color']))
        return [('down', 1.0)]
    y = floor_y(ep, ctx, 0.3, 0.8)
    if verb in ('roll', 'push'):
        o = add(ep, ctx, cat, 240 - d * rng.uniform(100, 170), y, size='medium' if verb == 'push' else None)
        speed = rng.uniform(45, 90) / SIM_FPS if verb == 'roll' else rng.uniform(20, 35) / SIM_FPS
        steps = np.clip(np.arange(n) - t0, 0, int(abs(2 * (240 - o['x'][0])) / speed))
        o['x'][:] = o['x'][0] + d * speed * steps
        o['flip'] = d < 0 and cat == 'car'
        if cat == 'ball':  # the stripes turn as it rolls
            o['pose'][:] = (speed * steps / (np.pi * world.object_height(o)) * 8).astype(int) % 8
        ev['end'] = t0 + int(steps.max())
    elif verb == 'fall':  # slides off a table's edge, drops with gravity, lands with a knock
        lm = add(ep, ctx, 'table', rng.uniform(180, 300), y, size='medium')
        top = lm['y'][0] - world.SUPPORT['table'] * world.object_height(lm)
        o = add(ep, ctx, cat, lm['x'][0], top, size='medium', z=0.5)
        edge = lm['x'][0] + d * (width(lm) / 2 + width(o) / 2 + 4)
        slide, t, land = int(0.4 * SIM_FPS), np.arange(n) - t0, lm['y'][0] + 12
        x0 = o['x'][0]
        sliding = x0 + (edge - x0) * t / slide
        o['x'][:] = np.where(t < 0, x0, np.where(t < slide, sliding, edge))
        o['y'][:] = np.minimum(top + 0.5 * 900 * (np.clip(t - slide, 0, None) / SIM_FPS) ** 2, land)
        ev['land'] = ev['end'] = t0 + slide + int(np.sqrt(2 * (land - top) / 900) * SIM_FPS)
        ep['relations'].append([o['id'], 'on', lm['id'], 0, t0])  # on the table until it falls
    else:  # throw: held up in both hands, then off in an arc, landing further away
        hands(ep, ctx)
        o = add(ep, ctx, cat, rng.uniform(180, 300), floor_y(ep, ctx, 0.6, 1.0), size='medium', z=3.5)
        fly, t = int(rng.uniform(0.7, 1.0) * SIM_FPS), np.arange(n) - t0
        u, x0, y0, land_y = np.clip(t / fly, 0, 1), o['x'][0], o['y'][0], floor_y(ep, ctx, 0.0, 0.3)
        o['x'][:] = x0 + d * rng.uniform(120, 180) * u
        o['y'][:] = y0 + (land_y - y0) * u - 140 * np.sin(np.pi * u)
        ev['land'] = ev['end'] = t0 + fly
        for h in ep['objects'][:2]:
            h['present'][t > fly // 2] = False  # the hands drop out of view after the throw
    ep['events'].append(dict(ev, object=o['id'], color=o['color'], direction='right' if d > 0 else 'left'))
    return [(o['id'], 5.0)]


def ep_occlusion(ep, ctx):
    """A thing is pushed behind a screen, stays hidden 1-3 s, then comes out the far side, comes back out the
    near side, or is shown when the screen lifts (and is pushed on); pass after pass while the episode lasts.
    Permanence and continuity hold in every recording: violations are for benchmarks to render."""
    rng, n = ctx['rng'], ep['n']
    y, cat = floor_y(ep, ctx, 0.4, 0.8), str(rng.choice(ROLLERS))
    o = add(ep, ctx, cat, 0, y, size=str(rng.choice(['small', 'medium'])))
    w = width(o)
    occ = dict(x=round(rng.uniform(200, 280)), y=round(y + 6), w=round(w + rng.uniform(*SCREEN_MARGIN)),
               h=round(world.object_height(o) + rng.uniform(*SCREEN_MARGIN)),
               color=str(rng.choice(world.CATEGORIES['screen'][2])))
    ep['occluder'], ep['lift'] = occ, np.zeros(n)
    side = int(rng.choice([-1, 1]))  # which side of the screen the thing is on
    x, f = np.full(n, occ['x'] - side * (occ['w'] + w) / 2 - rng.uniform(10, 30)), int(0.5 * SIM_FPS)
    while True:
        end = occlusion_pass(ep, ctx, o, x, f, side)
        if end is None:
            break
        f, side = end, int(np.sign(x[end - 1] - occ['x']))
    o['x'][:], o['flip'] = x, facing_left(x) & (cat in world.ASYMMETRIC)
    if cat == 'ball':  # the stripes turn as it rolls
        o['pose'][:] = (np.cumsum(np.abs(np.r_[0, np.diff(x)])) / (np.pi * world.object_height(o)) * 8) % 8
    return [(o['id'], 1.0)]


def facing_left(x):
    """Per frame, whether a thing on track x last moved to the left (it keeps facing so when it stops)."""
    moved, left = np.r_[0.0, np.diff(x)], np.zeros(len(x), bool)
    for f in range(1, len(x)):
        left[f] = moved[f] < 0 if moved[f] else left[f - 1]
    return left


def occlusion_pass(ep, ctx, o, x, f, side):
    """One pass behind the screen from frame f: in at a pushing speed, hidden 1-3 s, out again, a pause; x
    (the thing's track) is written from f on. Records the occlusion event and returns the frame after the
    pause, or None when the pass does not fit in the episode."""
    rng, occ, n, w = ctx['rng'], ep['occluder'], ep['n'], width(o)
    speed, hide = rng.uniform(*PUSH_SPEED) / SIM_FPS, int(rng.uniform(*HIDDEN_SECONDS) * SIM_FPS)
    how = str(rng.choice(['far', 'near', 'lift'], p=[0.5, 0.25, 0.25]))
    behind = occ['x'] + rng.uniform(-0.3, 0.3) * (occ['w'] - w) / 2
    out = occ['x'] + side * (-1 if how == 'near' else 1) * ((occ['w'] + w) / 2 + rng.uniform(15, 35))
    t_in, t_out = int(abs(behind - x[f]) / speed) + 1, int(abs(out - behind) / speed) + 1
    lift = int(0.5 * SIM_FPS) if how == 'lift' else 0
    pause = int(rng.uniform(0.5, 1.5) * SIM_FPS)
    a, b = f + t_in + hide, f + t_in + hide + 2 * lift + t_out
    if b + lift + pause >= n:  # the pause covers the screen coming down (pause >= lift)
        return None
    x[f:f + t_in] = np.linspace(x[f], behind, t_in)
    x[f + t_in:a + 2 * lift] = behind
    x[a + 2 * lift:b] = np.linspace(behind, out, t_out)
    x[b:] = out
    if lift:  # up over 0.5 s, held while the thing is pushed out, down again
        up = occ['h'] + 12
        ramp = np.linspace(0, up, lift)
        ep['lift'][a:a + lift], ep['lift'][a + lift:b + lift] = ramp, up
        ep['lift'][b + lift:b + 2 * lift] = ramp[::-1]
    hidden = np.abs(x - occ['x']) <= (occ['w'] - w) / 2
    hidden &= ep['lift'] < 1
    inside = np.nonzero(hidden[f:b])[0]
    if len(inside):
        ep['events'].append(dict(type='occlusion', object=o['id'], category=o['category'], color=o['color'],
                                 start=f, end=b, hidden_start=f + int(inside[0]),
                                 hidden_end=f + int(inside[-1]),
                                 direction='right' if out > x[f] else 'left', emerged=how))
    return b + lift + pause


def ep_face(ep, ctx):
    """A caregiver close by, looking at the child or at one of a few things near her, then naming it: the
    child's view takes in her face and what she looks at (joint attention; Yu & Smith 2013)."""
    rng = ctx['rng']
    side = int(rng.choice([-1, 1]))
    face_x = 240 + side * rng.uniform(30, 110)
    objs = [add(ep, ctx, c, np.clip(face_x - side * rng.uniform(90, 200), 60, 420),
                floor_y(ep, ctx, 0.2, 0.7)) for c in pick(ctx, ep['background'], int(rng.integers(1, 4)))]
    face(ep, ctx, objs, face_x)
    return [('joint', 4.0), ('face', 1.0)] + [(o['id'], 1.0) for o in objs]


def face(ep, ctx, objs, x=None):
    """The episode's speaker's face, looking at the child for a moment, then at a thing for 2-4 s, and so on
    (sometimes at the child for longer)."""
    rng, n = ctx['rng'], ep['n']
    if x is None:
        x = 240 + rng.choice([-1, 1]) * rng.uniform(30, 170)
    ep['face'] = dict(who=ep['speaker'], skin=ctx['family']['parent_skin'], x=round(x),
                      y=round(world.WORLD_H + rng.uniform(0, 25)), height=round(rng.uniform(140, 170)), z=3)
    gaze, f = [None] * n, 0
    while f < n:
        f += int(rng.uniform(0.5, 1.2) * SIM_FPS)  # at the child
        k = int(rng.uniform(2.5, 4) * SIM_FPS)
        target = objs[int(rng.integers(len(objs)))]['id'] if objs and rng.random() < 0.9 else None
        gaze[f:f + k] = [target] * len(gaze[f:f + k])
        f += k
    ep['face']['gaze_ids'] = gaze


def feet(ep, ctx):
    """The child's own feet at the bottom of the view, sat on a floor or in the sand (view coordinates)."""
    if ep['background'] in ('room', 'floor', 'sand', 'ground'):
        for side, x in ((-1, 130.0), (1, 190.0)):
            add(ep, ctx, 'foot', x, 262, size='medium', screen=True, z=3.8, flip=side > 0)


def ep_body(ep, ctx):
    """Looking down at one's own hands (clapping, holding a toy) and feet."""
    rng = ctx['rng']
    hands(ep, ctx, x_sway=6, clap=rng.random() < 0.4)
    if rng.random() < 0.85:
        feet(ep, ctx)
    if rng.random() < 0.5:
        add(ep, ctx, pick(ctx, ep['background'], 1)[0], 160, 228, size='medium', screen=True, z=3.5)
    return [('down', 1.0)]


EPISODES = {'play': ep_play, 'spatial': ep_spatial, 'action': ep_action, 'occlusion': ep_occlusion,
            'face': ep_face, 'body': ep_body}
WEIGHTS = {'indoor': dict(play=3.5, spatial=2, action=3, occlusion=4, face=3.5, body=1.5),
           'outdoor': dict(play=3, spatial=0.6, action=1.5, occlusion=1.8, face=2.5, body=1)}


def make_episodes(rng, n, age_months, family, heldout):
    """Cut a recording of n frames into episodes and simulate each; returns the episode dicts."""
    ctx = dict(rng=rng, age=age_months, family=family, heldout=heldout, count=Counter())
    setting = 'outdoor' if rng.random() < 0.3 else 'indoor'
    places = OUTDOOR if setting == 'outdoor' else INDOOR
    out, start, bg, cam = [], 0, str(rng.choice(places)), None
    kinds = list(WEIGHTS[setting])
    w = np.array([WEIGHTS[setting][c] for c in kinds], float)
    while start < n:
        k = int(rng.uniform(6, 28) * SIM_FPS)
        if n - start < k + 4 * SIM_FPS:  # the last episode takes the rest rather than leave a stub of < 4 s
            k = n - start
        moved = not out or rng.random() < 0.35
        if out and moved:
            bg = str(rng.choice(places))
        ep = dict(background=bg, variant=int(rng.integers(4)), start=start, n=k, objects=[], occluder=None,
                  lift=np.zeros(k), face=None, events=[], relations=[], bob=float(rng.uniform(0.8, 2.0)),
                  hands=False,
                  speaker='mom' if rng.random() < 0.65 else 'dad')
        ep['kind'] = kinds[int(rng.choice(len(kinds), p=w / w.sum()))]
        ep['new_place'] = 3 * SIM_FPS if moved else 0  # frames in which "where we are" is news
        look = EPISODES[ep['kind']](ep, ctx)
        if bg in world.WALL_LINE:  # a door and a window on the wall
            for cat, x, y in (('door', rng.uniform(30, 200), world.WALL_LINE[bg] + 2),
                              ('window', rng.uniform(260, 440), world.WALL_LINE[bg] - 25)):
                look.append((add(ep, ctx, cat, x, y, size='medium', z=-2)['id'], 0.3))
        for cat, chance in BACKDROP.get(bg, ()):
            if rng.random() < chance and ctx['age'] >= FIRST_MONTH.get(cat, 0):
                add(ep, ctx, cat, rng.uniform(120, 360), floor_y(ep, ctx, 0.0, 0.12), size='small', z=-1.5)
        if bg in OUTDOOR:  # carried outdoors: trees at the back, a strong head bob
            for x in rng.uniform(20, 460, int(rng.integers(0, 3))):
                add(ep, ctx, 'tree', x, world.FLOOR_BAND[bg][0] + rng.uniform(0, 15), size='medium', z=-1)
            ep['bob'] = float(rng.uniform(2.5, 5.0))
        if ep['face'] is None and ep['kind'] in ('play', 'spatial') and rng.random() < 0.4:
            face(ep, ctx, [o for o in ep['objects'] if not o['screen']])
        ep['camera'] = camera(ep, ctx, look, cam if out and out[-1]['background'] == bg else None)
        cam = ep['camera'][-1]
        if not ep['hands']:
            auto_hands(ep, ctx)
        out.append(ep)
        start += k
    return out


def target_point(ep, target, f):
    """World point of a fixation target: a thing's id, 'face', 'down' (own hands) or a point."""
    if target == 'down':
        return (None, world.WORLD_H + 60)
    if target == 'face':
        return (ep['face']['x'], ep['face']['y'] - ep['face']['height'] * 0.55)
    if target == 'joint':  # between the face and what it looks at, so that the view holds both
        eyes, looked = target_point(ep, 'face', f), ep['face']['gaze_ids'][f]
        there = eyes if looked is None else target_point(ep, looked, f)
        return ((eyes[0] + there[0]) / 2, (eyes[1] + there[1]) / 2)
    o = next(o for o in ep['objects'] if o['id'] == target)
    return (o['x'][f], o['y'][f] - world.object_height(o) / 2)


def camera(ep, ctx, look, cam0):
    """Where the head points each frame: fixations of 1-4 s on things (chosen by weight), a smooth turn
    to each, the bob of being carried or bouncing, and a slow sway. Also sets ep['tilt'] (looking down)."""
    rng, n = ctx['rng'], ep['n']
    targets, w = [], np.array([wt for _, wt in look], float)
    while len(targets) < n:
        target = look[int(rng.choice(len(look), p=w / w.sum()))][0]
        targets += [target] * int(rng.uniform(1.0, 4.0) * SIM_FPS)
    c = np.array(cam0 if cam0 is not None else (80.0, 60.0), float)
    cam, tilt, down = np.empty((n, 2)), np.zeros(n), 0.0
    for f in range(n):
        down += ((targets[f] == 'down') - down) * 0.2
        tilt[f] = down
        x, y = target_point(ep, targets[f], f)
        if x is None:  # looking down: the head turns neither way
            x = c[0] + world.VIEW_W / 2
        want = np.array([x, y]) - (world.VIEW_W / 2, world.VIEW_H * 0.6)
        c += (want - c) * 0.2  # ~0.5 s to settle: a head turn, not a cut
        cam[f] = c
    t, ph = np.arange(n) / SIM_FPS, rng.uniform(0, 2 * np.pi, 3)
    cam[:, 1] += ep['bob'] * np.sin(2 * np.pi * 1.8 * t + ph[0])
    sway = 0.4 * ep['bob'] * np.sin(2 * np.pi * 0.9 * t + ph[1]) + 2.0 * np.sin(2 * np.pi * 0.2 * t + ph[2])
    cam[:, 0] += sway
    cam[:, 0] = np.clip(cam[:, 0], 0, world.WORLD_W - world.VIEW_W)
    cam[:, 1] = np.clip(cam[:, 1], 0, world.WORLD_H - world.VIEW_H)
    ep['tilt'] = tilt
    return cam


def auto_hands(ep, ctx):
    """Hands rise into view from below when the child looks down."""
    if ep['tilt'].max() > 0.1:
        for side, x in ((-1, 85.0), (1, 235.0)):
            h = add(ep, ctx, 'hand', x, 0, size='medium', screen=True, z=4, flip=side > 0)
            h['y'][:], h['present'][:] = world.VIEW_H + 80 - 75 * ep['tilt'], ep['tilt'] > 0.1


def scene_at(ep, f):
    """The render_frame scene dict of an episode's frame f."""
    objs = [dict(id=o['id'], category=o['category'], color=o['color'], size=o['size'],
                 x=round(float(o['x'][f]), 1), y=round(float(o['y'][f]), 1), z=o['z'],
                 pose=int(o['pose'][f]), flip=bool(o['flip'][f] if np.ndim(o['flip']) else o['flip']),
                 screen=o['screen'])
            for o in ep['objects'] if o['present'][f]]
    face = None
    if ep['face']:
        target = next((o for o in objs if o['id'] == ep['face']['gaze_ids'][f]), None)
        face = {k: v for k, v in ep['face'].items() if k != 'gaze_ids'}
        face.update(gaze_id=target and target['id'], gaze=target and world.centre(target), mouth_open=False)
    occluder = ep['occluder']
    if occluder and ep['lift'][f]:  # a screen lifted to show what is behind it
        occluder = dict(occluder, y=round(occluder['y'] - float(ep['lift'][f]), 1))
    return dict(background=ep['background'], variant=ep['variant'], objects=objs, occluder=occluder,
                face=face,
                camera=[round(float(v), 1) for v in ep['camera'][f]])


def view_events(frames, vis):
    """Things entering and leaving the view, with the side they cross (or 'behind' the occluder)."""
    events, state, prev = [], {}, {}
    for f, (scene, v) in enumerate(zip(frames, vis)):
        for o in scene['objects']:
            if o['screen']:
                continue
            oid, now, box = o['id'], v.get(o['id'], 0.0) >= 0.5, world.object_box(o, scene['camera'])
            if oid in state and now != state[oid]:
                b = box if not now else prev[oid]  # leaving: where it is now; entering: where it was
                over = dict(left=-b[0], right=b[2] - world.VIEW_W, top=-b[1], bottom=b[3] - world.VIEW_H)
                side = max(over, key=over.get)
                if over[side] <= 0:  # across no edge of the view
                    side = 'behind' if scene['occluder'] else 'edge'
                t = round(f / SIM_FPS, 2)
                events.append(dict(type='enter' if now else 'leave', object=oid, category=o['category'],
                                   color=o['color'], start=t, end=t, side=side))
            state[oid], prev[oid] = now, box
    return events

# ----------------------------------------------------------------------------------------------------
# one recording: simulate the world, speak over it, film it


def simulate(rec, heldout):
    """(scenes per frame, visibility per frame, utterances, events, audio samples) of one recording."""
    rng = np.random.default_rng(rec['seed'])
    n, age_months = int(round(rec['seconds'] * SIM_FPS)), rec['age_days'] / 30.44
    episodes = make_episodes(rng, n, age_months, rec['family'], heldout)
    frames = [scene_at(ep, f) for ep in episodes for f in range(ep['n'])]
    vis = [world.visibility(s) for s in frames]
    frame_ep = np.concatenate([np.full(ep['n'], i) for i, ep in enumerate(episodes)])
    utts, audio = speech.speak(rng, rec, episodes, frames, vis, frame_ep, SIM_FPS)
    speech.animate_faces(frames, utts, SIM_FPS)
    cat_of = {o['id']: o['category'] for ep in episodes for o in ep['objects']}
    for ep in episodes:  # spatial relations hold over an interval: events too
        ep['events'] += [dict(type='relation', object=a, category=cat_of[a], figure=cat_of[a], relation=r,
                              landmark=cat_of[b], landmark_id=b, start=f0, end=f1)
                         for a, r, b, f0, f1 in ep['relations']]
    events = [{k: round((ep['start'] + v) / SIM_FPS, 2) if k in TIME_KEYS else v for k, v in e.items()}
              for ep in episodes for e in ep['events']]
    for e in events:
        if 'land' in e:  # a knock where something lands
            i = int(e['land'] * speech.SAMPLE_RATE)
            knock = speech.thump()[:max(0, len(audio) - i)]
            audio[i:i + len(knock)] += knock
    events = sorted(events + view_events(frames, vis), key=lambda e: (e['start'], e['type'], e['object']))
    return frames, vis, utts, events, audio


def write_mp4(path, frames, audio):
    import av  # here, so that planning and the grammar work without PyAV
    with atomic_path(path) as tmp, av.open(tmp, 'w', format='mp4') as container:
        v = container.add_stream('libx264', rate=FPS, options={'preset': 'ultrafast', 'crf': '23'})
        v.width, v.height, v.pix_fmt = world.VIEW_W, world.VIEW_H, 'yuv420p'
        v.thread_count = 1  # one recording per core beats threads within one at this size
        # FFmpeg's fast AAC coder: a third less time than its default search, for speech-like sound
        a = container.add_stream('aac', rate=speech.SAMPLE_RATE, layout='mono', options={'aac_coder': 'fast'})
        a.bit_rate = 48000
        for i, scene in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(world.render_frame(scene), format='rgb24')
            vf.pts = i
            container.mux(v.encode(vf))
        container.mux(v.encode())
        audio = np.pad(np.clip(audio, -1, 1).astype(np.float32), (0, -len(audio) % 1024))  # AAC: 1024 a frame
        for k in range(0, len(audio), 1024):
            af = av.AudioFrame.from_ndarray(audio[None, k:k + 1024], format='fltp', layout='mono')
            af.sample_rate, af.pts = speech.SAMPLE_RATE, k
            container.mux(a.encode(af))
        container.mux(a.encode())


def truth_of(rec, frames, vis, utts, events, transcript=None):
    """A recording's truth file, as a dict: what was said and shown, and the scene of every second."""
    seconds = [dict(t=f / SIM_FPS, scene=frames[f], visible=vis[f]) for f in range(0, len(frames), SIM_FPS)]
    return dict(recording=rec['recording'], child=rec['child'], date=rec['date'], age_days=rec['age_days'],
                fps=FPS, frames=len(range(SIM_FPS // FPS // 2, len(frames), SIM_FPS // FPS)),
                duration=round(len(frames) / SIM_FPS, 2), view=[world.VIEW_W, world.VIEW_H],
                world=[world.WORLD_W, world.WORLD_H], transcript=transcript, utterances=utts, events=events,
                seconds=seconds)


def simulated_truth(job):
    """The truth of one recording (rec, heldout) as make.py would write it, simulated, not filmed."""
    rec, heldout = job
    frames, vis, utts, events, _ = simulate(rec, heldout)
    return truth_of(rec, frames, vis, utts, events)


def paths(out, rec):
    """(video, transcript, truth) paths of a recording."""
    stem = os.path.join(out, rec['child'], rec['recording'])
    return (stem + '.mp4', stem + ('.csv' if rec['format'] == 'saycam' else '.' + rec['format']),
            os.path.join(out, 'truth', rec['recording'] + '.json'))


def remove_stale_temps(path):
    """Delete the temporary files of path that a killed run left behind (.<name>.tmp<pid> beside it): a new
    run writes under its own pid, so nothing else would overwrite them."""
    folder, name = os.path.split(path)
    for stale in glob.glob(os.path.join(glob.escape(folder), '.' + glob.escape(name) + '.tmp*')):
        os.remove(stale)


def render_recording(job):
    """Simulate, film and write one recording, or read back the truth of one already complete."""
    rec, out, heldout = job
    video, sidecar, truth_path = paths(out, rec)
    if all(os.path.exists(p) for p in (video, sidecar, truth_path)):
        with open(truth_path, encoding='utf-8') as f:
            return slim(json.load(f), rendered=False)
    frames, vis, utts, events, audio = simulate(rec, heldout)
    os.makedirs(os.path.dirname(video), exist_ok=True)
    for path in (video, sidecar, truth_path):
        remove_stale_temps(path)
    # each filmed frame shows the world at the middle of the 1/FPS s it is on screen, when prepare.py samples
    # it: the frames prepare.py took from the 10 fps films, without the ones it skipped
    step = SIM_FPS // FPS
    filmed = frames[step // 2::step]
    write_mp4(video, filmed, audio)
    atomic_write(sidecar, speech.transcript(rec['format'], utts, os.path.basename(video)))
    truth = truth_of(rec, frames, vis, utts, events, os.path.basename(sidecar))
    # last: it marks the recording complete
    atomic_write(truth_path, json.dumps(truth, separators=(',', ':')))
    return slim(truth, rendered=True)


def slim(truth, rendered):
    """What the summary needs of a recording: not its scenes."""
    utterances = [dict(speaker=u['speaker'], names_in_view=u['names_in_view'],
                       words=[w for w, _, _ in u['words']]) for u in truth['utterances']]
    return dict(age_days=truth['age_days'], frames=truth['frames'], duration=truth['duration'],
                rendered=rendered, utterances=utterances)


def main(argv=None):
    p = argparse.ArgumentParser(
        description="Render the nursery: a synthetic infant's recordings, from a seed.")
    p.add_argument('--size', default='default', choices=sorted(SIZES))
    p.add_argument('--out', default=os.path.join(HERE, 'raw'))
    p.add_argument('--seed', type=int, default=1337)
    p.add_argument('--workers', type=int, default=min(2, os.cpu_count() or 1))
    args = p.parse_args(argv)
    t0 = time.time()
    os.makedirs(os.path.join(args.out, 'truth'), exist_ok=True)
    held_path = os.path.join(args.out, 'heldout.json')
    recordings_path = os.path.join(args.out, 'recordings.csv')
    if os.path.exists(held_path):
        with open(held_path, encoding='utf-8') as f:
            old = json.load(f)
        if (old.get('seed'), old.get('size')) != (args.seed, args.size):
            sys.exit(f"{args.out} holds a nursery of seed {old.get('seed')}, size {old.get('size')}: "
                     f'use another --out for seed {args.seed}, size {args.size}')
        if old.get('fps', 10) != FPS:  # the folders of make.py before 5 fps hold no fps
            sys.exit(f"{args.out} holds a nursery filmed at {old.get('fps', 10)} fps and this make.py films "
                     f"at {FPS} fps: use another --out, or delete {args.out} to render it again")
    for path in (held_path, recordings_path):
        remove_stale_temps(path)
    heldout = dict(seed=args.seed, size=args.size, fps=FPS, **speech.choose_heldout(args.seed),
                   note='never rendered or spoken in any recording of this folder')
    # one line per key: readable, and still JSON
    lines = [f' {json.dumps(k)}: {json.dumps(v)}' for k, v in heldout.items()]
    atomic_write(held_path, '{\n' + ',\n'.join(lines) + '\n}\n')
    recs = plan_recordings(args.size, args.seed)
    jobs = [(rec, args.out, heldout) for rec in recs]
    from tqdm import tqdm
    truths = []
    with tqdm(total=len(jobs), unit='rec', desc='nursery') as bar:
        if args.workers > 1:  # spawn: workers start clean, no forked copies of caches or locks
            with multiprocessing.get_context('spawn').Pool(args.workers) as pool:
                for truth in pool.imap(render_recording, jobs):
                    truths.append(truth)
                    bar.update()
        else:
            for job in jobs:
                truths.append(render_recording(job))
                bar.update()
    rows = ''.join(f"{r['recording']},{r['child']},{r['date']},{r['age_days']}\n" for r in recs)
    atomic_write(recordings_path, 'recording,child,date,age_days\n' + rows)
    wall, rendered = time.time() - t0, sum(t['frames'] for t in truths if t['rendered'])
    print(f'out: {args.out}')
    print(f"recordings: {len(truths)} ({sum(not t['rendered'] for t in truths)} were already complete)")
    print(f"hours: {sum(t['duration'] for t in truths) / 3600:.3f}")
    print(f"frames: {sum(t['frames'] for t in truths)} at {FPS} fps")
    for line in speech.summary(truths):
        print(line)
    exposure_card = exposure.card(exposure.read_truths(args.out))
    # beside heldout.json, not in truth/: truth/ holds one file per recording, which readers glob
    atomic_write(os.path.join(args.out, 'exposure.json'), json.dumps(exposure_card, indent=1) + '\n')
    for line in exposure.lines(exposure_card):
        print(line)
    print(f'render_seconds: {wall:.1f} ({rendered / wall:.0f} frames/s, {args.workers} workers)')


if __name__ == '__main__':
    main()
