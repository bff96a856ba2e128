"""
Benchmark stimuli: the nursery's world (world.render_frame) posed on purpose instead of simulated. Every
builder returns scene dicts in world.py's format (so a test can re-render any image and check its ground
truth), placed in view pixels and converted to world pixels through the scene's camera.

Sizes are chosen for the models' eyes, not the recordings': most models see a 320x240 image resized and
centre-cropped to 64 px, so what a question is about is 55-150 px tall here (15-40 px there) and inside the
central 240x240 (CROP). Combinations the corpus holds out (heldout.json) are drawn only where a caller asks
for them: Stim.colors() never offers a held-out colour, rel_pairs() offers held-out relations only on request.
"""
import functools

import numpy as np
from PIL import Image, ImageDraw

import make
import speech
import world

VW, VH = world.VIEW_W, world.VIEW_H
CROP = (40, 280)  # x range of the central 240x240
OBJECTS = [c for c in world.CATEGORIES if c != 'screen']
SKINS = ('skin_light', 'skin_tan', 'skin_dark')
# where each thing is found (the recordings' places), plus the wall and furniture things they add themselves
PLACES = {c: [b for b, cs in make.PLACES.items() if c in cs] for c in OBJECTS}
PLACES.update(door=['room', 'kitchen'], window=['room', 'kitchen'], table=['room', 'kitchen'], crib=['room'],
              computer=['room'], tree=['road', 'ground', 'sand'], hand=list(world.BACKGROUNDS),
              foot=['room', 'floor', 'sand', 'ground'])
ON_FLOOR = ('room', 'kitchen', 'floor', 'sand', 'ground')  # places where furniture and toys stand about
# small things of no Labeled-S category: filler that makes a picture a scene without naming a second category
FILLERS = ('cup', 'duck', 'bear', 'apple', 'book', 'block', 'shoe', 'spoon', 'bottle', 'banana', 'bucket',
           'dog')
COMPACT = ('ball', 'apple', 'cup', 'block', 'duck', 'bear', 'book', 'bucket', 'flower', 'bottle', 'toy',
           'puzzle')
ASYMMETRIC = world.ASYMMETRIC
# what one frame can show (rolling and pushing need motion)
STILL_VERBS = ('eat', 'drink', 'read', 'throw', 'fall')
NOVEL_WORDS = ('dax', 'wug', 'blicket', 'toma', 'fep', 'zorp', 'modi', 'kiki', 'tulver', 'gazzer', 'pilk',
               'moop')
# offsets from a face of things it looks at: head turns -2, 0, +2 (world._paste_face)
GAZE_SLOTS = (-105, 0, 105)


def aspect(cat):
    return world.CATEGORIES[cat][1]


def height_for(cat, longest):
    """Height at which a thing's longer side is `longest` px."""
    return longest / max(1.0, aspect(cat))


class Stim:
    """A random source plus the held-out combinations to avoid."""

    def __init__(self, rng, heldout):
        self.rng = rng
        self.held_co = {tuple(p) for p in heldout['color_object']}
        self.held_rel = {tuple(t) for t in heldout['relation']}
        self.held_vo = {tuple(p) for p in heldout['verb_object']}

    def u(self, a, b):
        return float(self.rng.uniform(a, b))

    def pick(self, seq):
        seq = list(seq)
        return seq[int(self.rng.integers(len(seq)))]

    def sample(self, seq, k):
        seq = list(seq)
        return [seq[i] for i in self.rng.choice(len(seq), k, replace=False)]

    def colors(self, cat):
        """The colours a thing comes in, less any held out with it."""
        return [c for c in world.CATEGORIES[cat][2] if (c, cat) not in self.held_co]

    def color(self, cat, exclude=()):
        return self.pick([c for c in self.colors(cat) if c not in exclude] or self.colors(cat))

    def camera(self):
        """Where the head points: near the middle of the world, so everything placed in view pixels fits."""
        return [round(self.u(60, 100)), round(self.u(45, 75))]

    def background(self, choices=ON_FLOOR):
        return self.pick(choices), int(self.rng.integers(4))


def obj(cat, color, h, vx, vy, cam, **kw):
    """A thing `h` view px tall whose bottom centre is at view (vx, vy); heights snap to 4 px so that
    world.sprite's cache serves most of them."""
    h = max(8, 4 * round(h / 4))
    o = dict(id=cat, category=cat, color=color, size=h / world.unit_height(cat), x=round(vx + cam[0], 1),
             y=round(vy + cam[1], 1), z=0.0, pose=0, flip=False, screen=False)
    o.update(kw)
    return o


def scene(bg, variant, cam, objects, occluder=None, face=None, **extra):
    for i, o in enumerate(objects):
        o['id'] = f"{o['category']}{i}"
    return dict(background=bg, variant=variant, camera=list(cam), objects=objects, occluder=occluder,
                face=face, **extra)


def vbox(o, cam):
    """(x0, y0, x1, y1) of a thing in view pixels."""
    return world.object_box(o, (0, 0) if o['screen'] else cam)


def overlaps(a, b):
    return not (a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1])


def hands(skin, y=250, h=90):
    """The child's own hands raised at the bottom of the view, as in the recordings (view pixels)."""
    return [obj('hand', skin, h, x, y, (0, 0), screen=True, z=4, flip=side > 0)
            for side, x in ((-1, 72.0), (1, 248.0))]


def scatter(st, items, region=(CROP[0] + 6, 14, CROP[1] - 6, 236), gap=6):
    """Bottom centres (x, y, h) for things [(cat, h)] at random places in region, boxes `gap` apart:
    largest first; all shrink by 10% and start over when one does not fit."""
    x0, y0, x1, y1 = region
    for shrink in 0.9 ** np.arange(12):
        boxes, out = [], [None] * len(items)
        for i in sorted(range(len(items)), key=lambda i: -items[i][1] * aspect(items[i][0])):
            h = items[i][1] * shrink
            w = h * aspect(items[i][0])
            for _ in range(200):
                x, y = st.u(x0 + w / 2, max(x0 + w / 2, x1 - w / 2)), st.u(y0 + h, max(y0 + h, y1))
                b = (x - w / 2 - gap, y - h - gap, x + w / 2 + gap, y + gap)
                if not any(overlaps(b, c) for c in boxes):
                    boxes.append(b)
                    out[i] = (x, y, h)
                    break
            else:
                break
        if None not in out:
            return out
    raise RuntimeError(f'cannot place {items} in {region}')


def single(st, cat, color, bg=None, variant=None, longest=None, fillers=0):
    """One thing large near the middle of a scene where it is found, maybe with small fillers at the sides."""
    bg = bg or st.pick(PLACES[cat])
    variant, cam = int(st.rng.integers(4)) if variant is None else variant, st.camera()
    if cat in ('hand', 'foot'):  # the child's own, seen from above as in the recordings
        if cat == 'hand':
            objs = hands(color, y=st.u(235, 255), h=st.u(95, 115))
        else:
            feet_x = (st.u(110, 125), st.u(195, 210))
            objs = [obj('foot', color, st.u(85, 100), x, st.u(225, 240), (0, 0), screen=True, z=3.8,
                        flip=x > 160) for x in feet_x]
    else:
        h = st.u(130, 175) if cat in ('door', 'tree') else height_for(cat, longest or st.u(95, 140))
        if cat in ('door', 'window'):
            cam[1] = 30 if cat == 'window' else 45  # look up at the wall
        objs = [obj(cat, color, h, 160 + st.u(-35, 35), min(236, 122 + h / 2 + st.u(-15, 25)), cam)]
    for _ in range(fillers):
        f = st.pick(c for c in FILLERS if c != cat)
        o = obj(f, st.color(f), height_for(f, st.u(32, 44)), st.pick([CROP[0] + 22, CROP[1] - 22]),
                st.u(200, 236), cam, z=-0.5)
        if not any(overlaps(vbox(o, cam), vbox(p, cam)) for p in objs):
            objs.append(o)
    return scene(bg, variant, cam, objs)


def place_view(st, bg):
    """A place itself: the camera wanders over it; a couple of small things of no Labeled-S category lie
    about."""
    cam = [round(st.u(0, 160)), round(st.u(60, 120))]
    cats = st.sample(FILLERS, int(st.rng.integers(0, 3)))
    spots = scatter(st, [(c, height_for(c, st.u(30, 42))) for c in cats], (20, 150, 300, 236))
    variant = int(st.rng.integers(4))
    objs = [obj(c, st.color(c), h, x, y, cam) for c, (x, y, h) in zip(cats, spots)]
    return scene(bg, variant, cam, objs)


def group(st, cat, n, colors, others=(), bg=None, h=None):
    """n things of one kind (a colour each) and other things [(cat, color)], scattered ('plain': a blank
    page)."""
    (bg, variant), cam = ((bg, int(st.rng.integers(4))) if bg else st.background()), st.camera()
    items = [(cat, h or height_for(cat, st.u(56, 72)))] * n
    items += [(c, height_for(c, st.u(56, 72))) for c, _ in others]
    spots = scatter(st, items)
    all_colors = list(colors) + [col for _, col in others]
    objs = [obj(c, col, hh, x, y, cam) for (c, _), col, (x, y, hh) in zip(items, all_colors, spots)]
    return scene(bg, variant, cam, objs)


def pair(st, a, ca, ha, b, cb, hb, bg, variant, cam, flip=False):
    """Two things side by side in the middle, a on the left unless flip."""
    xa, xb = (215, 105) if flip else (105, 215)
    return scene(bg, variant, cam, [obj(a, ca, ha, xa, 205, cam), obj(b, cb, hb, xb, 205, cam)])


def two_colors(st, a, b):
    """Colours for two things that differ, so that neither hides in the other (a white shoe on a white
    table)."""
    ca = st.color(a)
    return ca, st.color(b, exclude=(ca,))


def action(st, verb, cat, color, bg=None):
    """A still of a verb as the recordings show it: eaten or drunk at the mouth and read in both hands (the
    child's own view), thrown high over the child's raised hands, falling off a table's edge."""
    bg, variant = (bg, int(st.rng.integers(4))) if bg else st.background(('room', 'kitchen', 'floor'))
    cam, skin = st.camera(), st.pick(SKINS)
    if verb in ('eat', 'drink', 'read'):
        pose = int((verb, cat) in (('eat', 'apple'), ('read', 'book')))  # bitten apple, open book
        h = height_for(cat, st.u(120, 150) if verb == 'read' else st.u(105, 125))
        x = 160 + st.u(-15, 15)
        y = st.u(228, 248) if verb == 'read' else st.u(250, 268)
        o = obj(cat, color, h, x, y, (0, 0), screen=True, z=3.5, pose=pose)
        return scene(bg, variant, cam, hands(skin, y=st.u(250, 262)) + [o])
    if verb == 'throw':
        o = obj(cat, color, height_for(cat, st.u(60, 75)), 160 + st.u(-60, 60), st.u(70, 105), cam, z=3.5)
        return scene(bg, variant, cam, hands(skin, y=st.u(262, 275)) + [o])
    d = st.pick([-1, 1])  # fall
    t = obj('table', st.color('table', exclude=(color,)), st.u(100, 115), 160 - d * st.u(25, 40),
            st.u(215, 230), cam)
    top = t['y'] - world.SUPPORT['table'] * world.object_height(t)
    tw = world.object_height(t) * aspect('table')
    h = height_for(cat, st.u(50, 62))
    o = obj(cat, color, h, t['x'] - cam[0] + d * (tw / 2 + h * aspect(cat) / 2 + 6),
            top - cam[1] + st.u(0.3, 0.6) * (t['y'] - top), cam, z=0.5)
    return scene(bg, variant, cam, [t, o])


def relation(st, fig, rel, lm, fc, lc, bg=None, cam=None, variant=None, side=None):
    """A figure on, under, in or next to a landmark, at the recordings' relative sizes (make.ep_spatial),
    scaled up together so that the pair fills the middle of the view."""
    if bg is None:
        bg, variant = st.background(('room', 'kitchen') if lm in ('table', 'chair') else ON_FLOOR)
    cam, side = cam or st.camera(), side or st.pick([-1, 1])
    nh, fh = world.CATEGORIES[lm][0], world.CATEGORIES[fig][0] * (0.7 if rel == 'under' else 1.0)
    # one scale for every relation of a pair (room for the figure beside the landmark), so that size says
    # nothing
    s = min(1.7, 210 / (nh * aspect(lm) + world.CATEGORIES[fig][0] * aspect(fig) + 14), 165 / nh)
    lx = 160 - (side * (fh * aspect(fig) + 14) * s / 2 if rel == 'next_to' else 0)
    L, F = obj(lm, lc, nh * s, lx, 222, cam), obj(fig, fc, fh * s, lx, 222, cam)
    h = world.object_height(L)
    if rel == 'on':  # drawn after the landmark, standing on its surface
        F.update(y=round(F['y'] - world.SUPPORT[lm] * h, 1), z=0.5)
    elif rel in ('under', 'in'):  # drawn before it: legs or the basket's front hide part of it
        F.update(y=round(F['y'] - (2 if rel == 'under' else world.CONTAINER[lm] * h * 0.6), 1), z=-0.5)
    else:
        apart = h * aspect(lm) / 2 + world.object_height(F) * aspect(fig) / 2 + 10 * s
        F['x'] = round(F['x'] + side * apart, 1)
    return scene(bg, int(st.rng.integers(4)) if variant is None else variant, cam, [L, F])


def stack(st, top, bottom, tc, bc, bg, variant, cam):
    """One small thing standing on another."""
    b = obj(bottom, bc, height_for(bottom, 95), 160, 222, cam)
    on_top = obj(top, tc, height_for(top, 80), 160, 222 - world.object_height(b) * 0.97, cam, z=0.5)
    return scene(bg, variant, cam, [b, on_top])


def mirror_set(st):
    """Two things facing somewhere, and three views of them re-posed (another camera, other places and
    sizes, the same order): as they were, mirrored (places and facing swapped), and with their places
    swapped. Re-posing keeps a pixel matcher from reading the answer off near-identical pictures; only order
    and facing tell the options apart. Returns (reference, [same, mirror, swap])."""
    (bg, variant), (a, b) = st.background(), st.sample(ASYMMETRIC, 2)
    (ca, cb), fa, fb = two_colors(st, a, b), st.rng.random() < .5, st.rng.random() < .5

    def pose():
        x = st.u(85, 125)
        return (height_for(a, st.u(70, 100)), height_for(b, st.u(70, 100)), x, x + st.u(100, 130),
                st.u(190, 228), st.u(190, 228), st.camera())

    def two(p, xa, xb, fa, fb):
        ha, hb, _, _, ya, yb, c = p
        return scene(bg, variant, c, [obj(a, ca, ha, xa, ya, c, flip=fa), obj(b, cb, hb, xb, yb, c, flip=fb)])
    ref, p = pose(), pose()
    mirror = two(p, 320 - p[2], 320 - p[3], not fa, not fb)
    return two(ref, ref[2], ref[3], fa, fb), [two(p, p[2], p[3], fa, fb), mirror, two(p, p[3], p[2], fa, fb)]


def details_set(st):
    """A close-up of a thing, and three scenes that share a background and a second thing and differ in the
    first: exactly it, the same kind in another colour, another kind in the same colour."""
    kinds = [c for c in COMPACT + ('car', 'shoe', 'cat', 'dog') if len(st.colors(c)) >= 2]
    x = st.pick(kinds)
    c, c2 = two_colors(st, x, x)
    x2 = st.pick([k for k in kinds if k != x and c in st.colors(k)] or [k for k in kinds if k != x])
    filler = st.pick(k for k in COMPACT if k not in (x, x2))
    fc, (bg, variant), cam, left = st.color(filler), st.background(), st.camera(), st.rng.random() < .5
    fh = height_for(filler, st.u(60, 80))
    closeup = single(st, x, c, bg, variant, longest=st.u(120, 150))
    options = ((x, c), (x2, c if c in st.colors(x2) else st.color(x2)), (x, c2))
    return closeup, [pair(st, k, col, height_for(k, 80), filler, fc, fh, bg, variant, cam, left)
                     for k, col in options]


def face(st, cam, gaze=None, mouth=False, x=160, y=258, h=128):
    """A caregiver's head and shoulders at the bottom middle, looking at a world point (or at the child)."""
    return dict(who=st.pick(['mom', 'dad']), skin=st.pick(SKINS), x=round(x + cam[0]), y=round(y + cam[1]),
                height=h, z=3, gaze=gaze, mouth_open=mouth)

# ----------------------------------------------------------------------------------------------------
# designs: balanced answers, and minimal pairs that differ in exactly what a word says


def balanced(rng, n, k):
    """n answer positions out of k, as even as n allows, in random order."""
    return rng.permutation(np.arange(n) % k).tolist()


def latin_foils(rng, cats, k, ok=lambda target, foil: True):
    """Per target, k foils such that every category is a foil exactly k times per round (a preference for a
    picture, or for a word, cannot beat chance), never its own foil, never twice in a trial, and ok()."""
    n = len(cats)
    for _ in range(200):
        perms = []
        for _ in range(k):
            for _ in range(2000):
                p = rng.permutation(n)
                if all(p[i] != i and all(q[i] != p[i] for q in perms) and ok(cats[i], cats[p[i]])
                       for i in range(n)):
                    perms.append(p)
                    break
        if len(perms) == k:
            return [[cats[p[i]] for p in perms] for i in range(n)]
    raise RuntimeError('no balanced foil assignment')


def depicts(s):
    """The category words a picture shows: its things and its place (a room's floor is a floor too)."""
    return {o['category'] for o in s['objects']} | set(world.BACKGROUND_WORDS[s['background']])


def swappable(st, a, b, c_h):
    """Whether a colour swap between a and b can show the held-out pair (c_h, a) and nothing else held out."""
    return b != a and c_h in st.colors(b) and any(c != c_h and c in st.colors(a) for c in st.colors(b))


def swap_pair(st, held=None):
    """(a, b, c1, c2): two things and two colours both come in, for minimal pairs that swap the colours
    between them. With held=(c, a), the first thing is a and c2 = c, shown with a only in the swapped
    picture."""
    if held:
        b = st.pick(k for k in COMPACT if swappable(st, held[1], k, held[0]))
        c1 = st.pick(c for c in st.colors(b) if c != held[0] and c in st.colors(held[1]))
        return held[1], b, c1, held[0]
    while True:
        a, b = st.sample(COMPACT, 2)
        both = [c for c in st.colors(a) if c in st.colors(b)]
        if len(both) >= 2:
            return (a, b, *st.sample(both, 2))


def rel_pairs(st, held=False):
    """([held-out...], [seen...]) (figure, relation, other relation, landmark) for minimal spatial pairs;
    only the first relation of a held-out one is held out."""
    ok = {t for t in speech.relation_triples() if t not in st.held_rel}
    alt = {'on': ('under', 'next_to'), 'under': ('on', 'next_to'), 'in': ('next_to',),
           'next_to': ('on', 'in')}
    return ([(f, r, r2, m) for f, r, m in sorted(st.held_rel) if held for r2 in alt[r] if (f, r2, m) in ok],
            [(f, r, r2, m) for f, r, m in sorted(ok) for r2 in alt[r] if (f, r2, m) in ok])


def gram_pair(st, cat, i, held=(), use_held=True):
    """((caption_a, caption_b), (picture of a, picture of b), key word, held-out combinations shown): one
    grammatical minimal pair, EgoBabyVLM's patterns in the nursery's words."""
    (bg, variant), cam = st.background(), st.camera()
    a, b = st.sample(COMPACT, 2)
    if cat == 'subject_adjective':  # a red ball and a blue cup / a blue ball and a red cup
        held_pair = held[i % len(held)] if use_held and held and i < 2 * len(held) else None
        a, b, c1, c2 = swap_pair(st, held_pair)
        ha, hb = height_for(a, 90), height_for(b, 90)
        captions = (f'a {c1} {a} and a {c2} {b}', f'a {c2} {a} and a {c1} {b}')
        pictures = (pair(st, a, c1, ha, b, c2, hb, bg, variant, cam),
                    pair(st, a, c2, ha, b, c1, hb, bg, variant, cam))
        shown = [[c, k] for c in (c1, c2) for k in (a, b) if (c, k) in st.held_co]
        return captions, pictures, c1, shown
    if cat == 'negation':  # the ball is red / the ball is not red
        a = st.pick(k for k in COMPACT if len(st.colors(k)) > 1)
        c1, c2 = two_colors(st, a, a)
        return ((f'the {a} is {c1}', f'the {a} is not {c1}'),
                (single(st, a, c1, bg, variant), single(st, a, c2, bg, variant)), c1, [])
    if cat == 'order_matters':  # the book is on the block / the block is on the book
        a, b = st.sample(('book', 'block', 'puzzle', 'bear', 'duck', 'shoe'), 2)
        ca, cb = two_colors(st, a, b)
        pictures = (stack(st, a, b, ca, cb, bg, variant, cam), stack(st, b, a, cb, ca, bg, variant, cam))
        return (f'the {a} is on the {b}', f'the {b} is on the {a}'), pictures, 'on', []
    if cat == 'prepositions':  # the cup is on the table / the cup is under the table
        hrel, rest = rel_pairs(st, held=use_held)
        f, r, r2, m = hrel[i % len(hrel)] if hrel and i < len(hrel) else st.pick(rest)
        (fc, mc), side = two_colors(st, f, m), st.pick([-1, 1])
        captions = tuple(f'the {f} is {speech.RELATIONS[x]} the {m}' for x in (r, r2))
        pictures = tuple(relation(st, f, x, m, fc, mc, side=side) for x in (r, r2))
        shown = [[f, x, m] for x in (r, r2) if (f, x, m) in st.held_rel]
        return captions, pictures, m, shown
    if cat == 'counting':  # there are two balls / there are three balls
        ns, col = st.sample(range(2, 6), 2), st.color(a)
        return (tuple(f'there are {speech.NUMBERS[n]} {speech.plural(a)}' for n in ns),
                tuple(group(st, a, n, [col] * n, bg=bg) for n in ns), speech.NUMBERS[ns[0]], [])
    if cat == 'comparatives':  # the ball is bigger than the cup / the cup is bigger than the ball
        (ca, cb), big, small = two_colors(st, a, b), st.u(115, 135), st.u(55, 65)
        captions = (f'the {a} is bigger than the {b}', f'the {b} is bigger than the {a}')
        pictures = tuple(pair(st, a, ca, height_for(a, x), b, cb, height_for(b, y), bg, variant, cam)
                         for x, y in ((big, small), (small, big)))
        return captions, pictures, 'big', []
    if cat == 'subject_verb':  # which thing fell (mid-air off the table's edge), which stays on the table
        can_fall = [c for c in ('ball', 'cup', 'book', 'spoon', 'block', 'duck')
                    if ('fall', c) not in st.held_vo]
        a, b = st.sample(can_fall, 2)
        (ca, cb), pics = two_colors(st, a, b), []
        for fell, stays, cf, cs in ((a, b, ca, cb), (b, a, cb, ca)):
            s = action(st, 'fall', fell, cf, bg=bg)
            t, c = s['objects'][0], s['camera']
            top = t['y'] - world.SUPPORT['table'] * world.object_height(t)
            s['objects'].append(obj(stays, cs, height_for(stays, 55), t['x'] - c[0], top - c[1], c, z=0.5))
            pics.append(scene(s['background'], s['variant'], c, s['objects']))
        captions = tuple(f'the {x} fell and the {y} is on the table' for x, y in ((a, b), (b, a)))
        return captions, pics, 'fell', []
    raise ValueError(cat)

# ----------------------------------------------------------------------------------------------------
# novel things (for word learning by joint attention): shapes the nursery never shows, drawn like its sprites


@functools.lru_cache(maxsize=256)
def novel_sprite(shape, c1, c2, h):
    """Premultiplied RGB and (1 - alpha) of novel thing number `shape` (0-7), h px square: a star, a sun, a
    flower, a blob, a cog, a clover, a ring or a crescent, with three spots."""
    S = 3 * h
    img = Image.new('RGBA', (S, S), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    a = world.rgb(c1)
    spikes, depth, hole = ((5, 0.55, 0), (12, 0.25, 0), (6, 0.3, 0), (3, 0.15, 0), (8, 0.12, 0), (4, 0.4, 0),
                           (40, 0.0, 1), (40, 0.0, 2))[shape]
    t = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    if spikes % 2 or depth > 0.3:
        r = 0.47 * (1 - depth * (0.5 + 0.5 * np.cos(spikes * t)))
    else:
        r = 0.47 * (1 - depth * np.abs(np.sin(spikes * t / 2)))
    d.polygon(list(zip(S / 2 + S * r * np.sin(t), S / 2 - S * r * np.cos(t))), fill=a,
              outline=world.shade(a, world.OUTLINE_SHADE), width=4)
    if hole:  # a ring's hole, or a bite that makes a crescent
        box = (0.33, 0.33, 0.67, 0.67) if hole == 1 else (0.3, -0.05, 1.1, 0.75)
        d.ellipse([v * S for v in box], fill=(0, 0, 0, 0))
    if hole:  # the spots clear of the hole or the bite
        spots = ((0.2, 0.5), (0.3, 0.25), (0.3, 0.75))
    else:
        spots = ((0.5, 0.5), (0.5, 0.27), (0.5, 0.73))
    for x, y in spots:
        d.ellipse(((x - 0.06) * S, (y - 0.06) * S, (x + 0.06) * S, (y + 0.06) * S), fill=world.rgb(c2))
    arr = np.asarray(img.reduce(3), np.float32) / 255.0
    return np.ascontiguousarray(arr[..., :3] * arr[..., 3:] * 255.0), np.ascontiguousarray(1.0 - arr[..., 3:])


PLAIN = (236, 233, 226)  # the 'synthetic' pictures' backdrop: a blank page


def render(s):
    """A scene's pixels: world.render_frame, or sprites on a blank page (background 'plain'), plus any novel
    things (s['novel']: [{shape, colors, h, x, y}], bottom centre in view pixels) on top."""
    if s['background'] != 'plain' and not s.get('novel'):
        return world.render_frame(s)
    if s['background'] == 'plain':
        frame = np.empty((VH, VW, 3), np.float32)
        frame[:] = PLAIN
        for o in sorted(s['objects'], key=lambda o: o['y']):
            height = int(round(world.object_height(o)))
            spr = world.sprite(o['category'], o['color'], height, o['pose'], o['flip'])
            x, y = o['x'] - s['camera'][0], o['y'] - s['camera'][1]
            world.paste(frame, spr, x - spr[1].shape[1] / 2, y - spr[1].shape[0])
    else:
        frame = world.render_frame(s).astype(np.float32)
    for n in s.get('novel', ()):
        spr = novel_sprite(n['shape'], *n['colors'], int(n['h']))
        world.paste(frame, spr, n['x'] - n['h'] / 2, n['y'] - n['h'])
    return np.clip(frame + 0.5, 0, 255).astype(np.uint8)

# ----------------------------------------------------------------------------------------------------
# motion at the training frame rate (5 fps): visual delayed response, violation of expectation


def motion(st, cat, color, h, start, step, n, bg, variant, cam, others=(), occluder=None, change=None):
    """n frames of a thing moving by `step` (view px a frame) from `start` (bottom centre, view px);
    change(t, o) may edit or drop (return None) the thing at frame t: the impossible events of VOE."""
    frames = []
    for t in range(n):
        # facing where it goes; a ball's stripes turn as it rolls
        pose = int(abs(step[0] * t) / (np.pi * h) * 8) % 8 if cat == 'ball' else 0
        o = obj(cat, color, h, start[0] + step[0] * t, start[1] + step[1] * t, cam,
                flip=cat in ASYMMETRIC and step[0] < 0, pose=pose)
        o = change(t, o) if change else o
        things = [dict(p) for p in others] + ([o] if o else [])
        frames.append(scene(bg, variant, cam, things, occluder=occluder))
    return frames


EXITS = {'top': (0, -1), 'bottom': (0, 1), 'left': (-1, 0), 'right': (1, 0), 'top right': (1, -1),
         'top left': (-1, -1), 'bottom right': (1, 1), 'bottom left': (-1, 1)}


def exit_clip(st, cat, exit, n, other, moving):
    """n frames of a thing leaving the view through `exit` (diagonal exits aim at the corner), wholly outside
    from frame n - 2 on, and another thing that stands still on the far side or (moving) leaves the other way.
    Returns (frames, first frame the thing is gone)."""
    (bg, variant), cam, (ex, ey) = st.background(), st.camera(), EXITS[exit]
    h = height_for(cat, st.u(60, 80))
    w = h * aspect(cat)
    cx = 160 + (ex == 0) * st.u(-30, 30) - ex * st.u(0, 25)
    cy = 120 + (ey == 0) * st.u(-20, 40) - ey * st.u(0, 15)
    # the fraction of the way to the corner (or the edge) that takes it wholly out of view
    need_x = (160 + w / 2 + 4 - ex * (cx - 160)) / 160 if ex else np.inf
    need_y = (120 + h / 2 + 4 - ey * (cy - 120)) / 120 if ey else np.inf
    need = min(need_x, need_y)
    out, oh, oc = n - 2, height_for(other, st.u(40, 50)), st.color(other)
    step = (ex * 160 * need / out, ey * 120 * need / out)
    frames = motion(st, cat, st.color(cat), h, (cx, cy + h / 2), step, n, bg, variant, cam)
    if moving:
        ox, oy = 160 + st.u(-40, 40), 70 + oh
    else:
        ox, oy = 160 - 90 * ex + st.u(-15, 15), 236 if ey <= 0 else 70 + oh
    v = (160 + oh * aspect(other) / 2 + 40) / max(1, out - 1) if moving else 0
    for t, f in enumerate(frames):
        f['objects'].insert(0, obj(other, oc, oh, ox - ex * v * t, oy, cam, id=f'{other}x',
                                   flip=moving and other in ASYMMETRIC and ex > 0))
    return frames, out


ROLLERS = ('ball', 'car', 'apple', 'duck', 'block', 'cup', 'bear')


def voe_quad(st, concept, n):
    """Clips of a thing rolling behind a screen (5 fps, n frames), as {name: frames}: 'possible' and its
    violation 'impossible'; permanence (it vanishes), color and shape (it changes) add a second pair
    ('possible2', 'impossible2') whose final frames are the first pair's swapped (IntPhys); continuity (two
    screens: it skips the gap between them) is one pair. The change happens while the thing is fully
    hidden."""
    (bg, variant), cam, d = st.background(), st.camera(), st.pick([-1, 1])
    cat = st.pick(ROLLERS)
    other = st.pick(c for c in ROLLERS if c != cat)
    h = height_for(cat, st.u(75, 88))
    h2 = height_for(other, h * max(1.0, aspect(cat)))  # as wide as the first, so the same screen hides either
    w, (c1, c2), oc = max(h * aspect(cat), h2 * aspect(other)), two_colors(st, cat, cat), st.color(other)
    floor, ow = st.u(195, 215), w + st.u(30, 40)
    occ = dict(x=round(160 + cam[0]), y=round(floor + 6 + cam[1]), w=round(ow),
               h=round(max(h, h2) + st.u(22, 30)), color=st.pick(world.CATEGORIES['screen'][2]))
    screens, gap, span = [], None, ow + w + 20
    if concept == 'continuity':  # two screens with a gap between them that is wider than the thing
        occ, sh = None, max(max(h, h2) + 22, (w + 12) / aspect('screen'))
        sw = sh * aspect('screen')
        sx = (160 - sw / 2 - w / 2 - 8, 160 + sw / 2 + w / 2 + 8)
        screens = [obj('screen', st.pick(world.CATEGORIES['screen'][2]), sh, x, floor + 6, cam, z=1.0)
                   for x in sx]
        gap, span = (sx[0] + sw / 2, sx[1] - sw / 2), sx[1] - sx[0] + sw + w + 16
    x0, step = 160 - d * span / 2, d * span / (n - 1)
    t_hide = next((t for t in range(n) if occ and abs(x0 + step * t - 160) <= (ow - w) / 2), n // 2)

    def clip(c, col, hh, change=None):
        return motion(st, c, col, hh, (x0, floor), (step, 0), n, bg, variant, cam, screens, occ, change)

    def after(edit):  # the thing changes (or vanishes) once it is fully behind the screen
        return lambda t, o: o if t < t_hide else edit(o)

    def turn_into(c, col, hh):
        return lambda o: dict(o, category=c, color=col, size=hh / world.unit_height(c), pose=0)
    if concept == 'permanence':
        return dict(possible=clip(cat, c1, h), impossible=clip(cat, c1, h, after(lambda o: None)),
                    possible2=clip(cat, c1, h, lambda t, o: None),
                    impossible2=clip(cat, c1, h, lambda t, o: o if t >= t_hide else None)), cat
    if concept == 'color':
        return dict(possible=clip(cat, c1, h), impossible=clip(cat, c1, h, after(turn_into(cat, c2, h))),
                    possible2=clip(cat, c2, h),
                    impossible2=clip(cat, c2, h, after(turn_into(cat, c1, h)))), cat
    if concept == 'shape':
        return dict(possible=clip(cat, c1, h), impossible=clip(cat, c1, h, after(turn_into(other, oc, h2))),
                    possible2=clip(other, oc, h2),
                    impossible2=clip(other, oc, h2, after(turn_into(cat, c1, h)))), cat

    def skip_gap(t, o):  # not there while it would be crossing the gap between the screens
        return None if o['x'] - cam[0] + w / 2 > gap[0] and o['x'] - cam[0] - w / 2 < gap[1] else o
    return dict(possible=clip(cat, c1, h), impossible=clip(cat, c1, h, skip_gap)), cat


def gaze_scene(st, k, target):
    """A caregiver looking at thing number `target` of k known things, at clearly different head turns.
    Returns (scene, the things' kinds from left to right)."""
    (bg, variant), cam = st.background(), st.camera()
    slots, cats = sorted(st.sample(GAZE_SLOTS, k)), st.sample(COMPACT + ('car', 'shoe', 'cat', 'dog'), k)
    objs = [obj(c, st.color(c), height_for(c, 56), 160 + dx, st.u(95, 112), cam)
            for c, dx in zip(cats, slots)]
    return scene(bg, variant, cam, objs, face=face(st, cam, gaze=world.centre(objs[target]))), cats


def joint_scenes(st, target, slot):
    """Two novel things, left and right, a speaking caregiver looking at number `target`, and the two things
    alone, the looked-at one first unless slot. Returns [scene, option A, option B]."""
    things = [dict(shape=int(sh), colors=st.sample(world.COLOR_WORDS, 2), h=64, x=160 + dx, y=st.u(95, 110))
              for sh, dx in zip(st.sample(range(8), 2), (-105, 105))]
    (bg, variant), cam, look = st.background(), st.camera(), things[target]
    f = face(st, cam, gaze=[look['x'] + cam[0], look['y'] - look['h'] / 2 + cam[1]], mouth=True)
    alone = [things[target], things[1 - target]][::1 - 2 * slot]
    options = [scene(bg, variant, cam, [], novel=[dict(t, x=160, y=200, h=110)]) for t in alone]
    return [scene(bg, variant, cam, [], face=f, novel=things)] + options


def trog_group(st, kind):
    """Four pictures, each described by one phrase that fits it alone (TROG): a spatial relation with its
    grammatical foil and lexical foils, four verbs (eating, drinking, reading, throwing), number, or colour.
    Returns (pictures, phrases)."""
    a, b = st.sample(COMPACT, 2)
    if kind == 'relation':
        seen = [t for t in speech.relation_triples() if t not in st.held_rel]
        # a pair whose figure and relation fit another landmark too, for the lexical foil
        pairs = [(f, r, r2, m) for f, r, r2, m in rel_pairs(st)[1]
                 if any((x, rr) == (f, r) and mm != m for x, rr, mm in seen)]
        f, r, r2, m = st.pick(pairs)
        f2 = st.pick(x for x, rr, mm in seen if (rr, mm) == (r, m) and x != f)
        m2 = st.pick(mm for x, rr, mm in seen if (x, rr) == (f, r) and mm != m)
        quad = [(f, r, m), (f, r2, m), (f2, r, m), (f, r, m2)]
        places = ('room', 'kitchen') if m in ('table', 'chair') else ON_FLOOR
        (bg, variant), cam = st.background(places), st.camera()
        return ([relation(st, x, rr, mm, *two_colors(st, x, mm), bg, cam, variant) for x, rr, mm in quad],
                [f'the {x} is {speech.RELATIONS[rr]} the {mm}' for x, rr, mm in quad])
    if kind == 'verb':
        bg = st.background(('room', 'kitchen', 'floor'))[0]
        handheld = ('apple', 'banana', 'cup', 'bottle', 'book', 'paper', 'ball', 'duck', 'bear', 'shoe')
        vs = [(v, st.pick(c for c in speech.ACTIONS[v] if (v, c) not in st.held_vo and c in handheld))
              for v in ('eat', 'drink', 'read', 'throw')]
        return [action(st, v, c, st.color(c), bg) for v, c in vs], [speech.VERBS[v][1] for v, _ in vs]
    if kind == 'number':
        (ca, cb), bg = two_colors(st, a, b), st.background()[0]
        return ([group(st, x, n, [cx] * n, bg=bg) for x, cx in ((a, ca), (b, cb)) for n in (2, 3)],
                [f'{speech.NUMBERS[n]} {speech.plural(x)}' for x in (a, b) for n in (2, 3)])
    (a, b, c1, c2), (bg, variant) = swap_pair(st), st.background()
    pictures = [single(st, x, c, bg, variant) for x in (a, b) for c in (c1, c2)]
    return pictures, [f'the {c} {x}' for x in (a, b) for c in (c1, c2)]


def speech_text(st, kind, **slots):
    """A caregiver's utterance of a kind with its slots filled (speech.compose at 30 months: every
    template)."""
    return speech.compose(st.rng, kind, 30, **slots)[0]
