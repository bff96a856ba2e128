"""
Benchmark stimuli: the nursery's world (world.render_frame) posed on purpose instead of simulated. Every
builder returns scene dicts in world.py's format (so a test can re-render any image and check its ground
truth), placed in view pixels and converted to world pixels through the scene's camera.

Things are drawn at the recordings' scale (height_for: a percentage of each kind's median height in the
training views), and what a question is about stands inside the central 240x240 (CROP) that models keep
of a 320x240 picture. Combinations the corpus holds out (heldout.json) are drawn only where a caller asks
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
# the median height of each kind in the default recordings' views (at least half in view), as a share of a
# 'medium' one's (world.unit_height): most kinds are mostly seen small (0.7), these at medium size
RECORDED_MEDIUM = ('apple', 'ball', 'bear', 'book', 'cup', 'dog', 'shoe', 'door', 'window', 'tree', 'hand',
                   'foot')


def aspect(cat):
    return world.CATEGORIES[cat][1]


def height_for(cat, size):
    """Height in view px of a thing drawn at `size` percent of its kind's median height in the recordings:
    every kind keeps the recordings' scale (a crib taller than a ball), so that what a model learnt of a
    thing's look carries over to the suites. Main things are drawn at 85-120%, fillers and crowds at
    80-100%."""
    seen = world.unit_height(cat) * (1.0 if cat in RECORDED_MEDIUM else world.SIZES['small'])
    return seen * size / 100


def height_at_longest(cat, longest):
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

    def place_for(self, kinds, choices=ON_FLOOR):
        """A place (and its variant) where the recordings show all the kinds, else the first of them. The
        suites show things where the children saw them, so that they test the skill and not recognising a
        thing out of its place, which learning from the recordings does not give: on the count pictures of
        benchmarks VERSION 6, drawn in any place, the supervised ceiling (ceiling.py, trained on windows of
        the frames) gave the counted kind a mean P(in view) of 0.15 where that kind is found (99 pictures)
        and 0.02 elsewhere (51)."""
        kinds = list(kinds)
        found = [b for b in choices if all(b in PLACES[k] for k in kinds)]
        return self.background(found or [b for b in choices if b in PLACES[kinds[0]]] or PLACES[kinds[0]])


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


def hands(skin, y=250, h=75):
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


def single(st, cat, color, bg=None, variant=None, size=None, fillers=0):
    """One thing large near the middle of a scene where it is found, maybe with small fillers at the sides."""
    bg = bg or st.pick(PLACES[cat])
    variant, cam = int(st.rng.integers(4)) if variant is None else variant, st.camera()
    if cat in ('hand', 'foot'):  # the child's own, seen from above as in the recordings
        if cat == 'hand':
            objs = hands(color, y=st.u(235, 255), h=st.u(62, 80))
        else:
            feet_x = (st.u(110, 125), st.u(195, 210))
            objs = [obj('foot', color, st.u(55, 70), x, st.u(225, 240), (0, 0), screen=True, z=3.8,
                        flip=x > 160) for x in feet_x]
    else:
        h = st.u(130, 175) if cat in ('door', 'tree') else height_for(cat, size or st.u(85, 120))
        if cat in ('door', 'window'):
            cam[1] = 30 if cat == 'window' else 45  # look up at the wall
        objs = [obj(cat, color, h, 160 + st.u(-35, 35), min(236, 122 + h / 2 + st.u(-15, 25)), cam)]
    for _ in range(fillers):
        f = st.pick(c for c in FILLERS if c != cat)
        o = obj(f, st.color(f), height_for(f, st.u(80, 95)), st.pick([CROP[0] + 22, CROP[1] - 22]),
                st.u(200, 236), cam, z=-0.5)
        if not any(overlaps(vbox(o, cam), vbox(p, cam)) for p in objs):
            objs.append(o)
    return scene(bg, variant, cam, objs)


def place_view(st, bg):
    """A place itself: the camera wanders over it; a couple of small things of no Labeled-S category lie
    about."""
    cam = [round(st.u(0, 160)), round(st.u(60, 120))]
    cats = st.sample(FILLERS, int(st.rng.integers(0, 3)))
    spots = scatter(st, [(c, height_for(c, st.u(80, 95))) for c in cats], (20, 150, 300, 236))
    variant = int(st.rng.integers(4))
    objs = [obj(c, st.color(c), h, x, y, cam) for c, (x, y, h) in zip(cats, spots)]
    return scene(bg, variant, cam, objs)


def group(st, cat, n, colors, others=(), bg=None, h=None, heights=None):
    """n things of one kind (a colour each; of height h, or heights one each) and other things
    [(cat, color)], scattered in a place where they are found (bg 'plain': a blank page)."""
    if bg:
        variant = int(st.rng.integers(4))
    else:
        bg, variant = st.place_for([cat] + [c for c, _ in others])
    cam = st.camera()
    items = [(cat, hh) for hh in heights or [h or height_for(cat, st.u(80, 100))] * n]
    items += [(c, height_for(c, st.u(80, 100))) for c, _ in others]
    spots = scatter(st, items)
    all_colors = list(colors) + [col for _, col in others]
    objs = [obj(c, col, hh, x, y, cam) for (c, _), col, (x, y, hh) in zip(items, all_colors, spots)]
    return scene(bg, variant, cam, objs)


def equal_area_heights(st, cat, n, size, per=3):
    """Heights of n things of a kind, each varied by up to a quarter, whose boxes add up to about the area of
    `per` things at `size` percent: a picture's area then says nothing of how many things it holds. The
    boxes' total shrinks as n^-0.08, which cancels the edges of many small things that a 64 px picture
    blurs into "stuff" (measured with baselines.salient_area), and varies by up to 18% a picture."""
    total = per * height_for(cat, size) ** 2 * n ** -0.08 * st.u(0.85, 1.18)
    h = st.rng.uniform(0.8, 1.25, n)
    return (h * np.sqrt(total / np.sum(h ** 2))).tolist()


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
        o = obj(cat, color, height_for(cat, st.u(80, 100)), 160 + st.u(-60, 60), st.u(70, 105), cam, z=3.5)
        return scene(bg, variant, cam, hands(skin, y=st.u(262, 275)) + [o])
    d = st.pick([-1, 1])  # fall
    t = obj('table', st.color('table', exclude=(color,)), st.u(100, 115), 160 - d * st.u(25, 40),
            st.u(215, 230), cam)
    top = t['y'] - world.SUPPORT['table'] * world.object_height(t)
    tw = world.object_height(t) * aspect('table')
    h = height_for(cat, st.u(70, 85))
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
    b = obj(bottom, bc, height_for(bottom, 100), 160, 222, cam)
    on_top = obj(top, tc, height_for(top, 85), 160, 222 - world.object_height(b) * 0.97, cam, z=0.5)
    return scene(bg, variant, cam, [b, on_top])


@functools.lru_cache(maxsize=None)
def leaning(cat):
    """How far right of its box's middle a thing's drawing has its centre of mass, per px of height: turning
    it round moves that mass, which a thumbnail sees without seeing which way the thing faces."""
    _, clear = world.sprite(cat, world.CATEGORIES[cat][2][0], 80)
    mass = (1 - clear.squeeze()).sum(0)
    return float((mass * (np.arange(len(mass)) - (len(mass) - 1) / 2)).sum() / mass.sum() / 80)


def mirror_set(st):
    """Two things facing somewhere, and three views of them re-posed together (another camera, other places
    and sizes, the same for the three): as they were, the first turned round, the second turned round. The
    options differ only in which way one thing faces, at the same places, so neither place nor a pixel
    matcher answers; the re-posing keeps the reference from matching any option pixel for pixel.
    Returns (reference, [same, first turned, second turned])."""
    a, b = st.sample(ASYMMETRIC, 2)
    bg, variant = st.place_for([a, b])
    (ca, cb), fa, fb = two_colors(st, a, b), st.rng.random() < .5, st.rng.random() < .5

    def pose(low):  # the reference stands anywhere in the lower two thirds, the options low down
        x = st.u(80, 130)
        return (height_for(a, st.u(80, 115)), height_for(b, st.u(80, 115)), x, x + st.u(95, 140),
                st.u(low, 228), st.u(low, 228), st.camera())

    def two(p, fa, fb):  # each thing's centre of mass at (xa, ya) and (xb, yb), whichever way it faces
        ha, hb, xa, xb, ya, yb, c = p
        xa -= (1 - 2 * fa) * leaning(a) * ha
        xb -= (1 - 2 * fb) * leaning(b) * hb
        return scene(bg, variant, c, [obj(a, ca, ha, xa, ya, c, flip=fa), obj(b, cb, hb, xb, yb, c, flip=fb)])
    p = pose(195)
    options = [two(p, fa, fb), two(p, not fa, fb), two(p, fa, not fb)]
    return another_light(st, two(pose(140), fa, fb)), [another_light(st, o) for o in options]


def coverage(cat):
    """The share of its box a thing's drawing covers (a ball is a disc, a block a square)."""
    _, clear = world.sprite(cat, world.CATEGORIES[cat][2][0], 80)
    return float(1 - clear.mean())


def equal_area_height(cat, other, h_other):
    """The height at which a thing covers as many pixels as another of height h_other."""
    return h_other * np.sqrt(aspect(other) * coverage(other) / (aspect(cat) * coverage(cat)))


def another_light(st, s):
    """A scene shot again under other light: the head camera's exposure and white balance drift between
    shots (a gain of 0.8-1.2, and up to 8% more or less in each channel)."""
    gain = st.u(0.8, 1.2)
    return dict(s, exposure=[round(gain * st.u(0.92, 1.08), 3) for _ in range(3)])


def details_set(st):
    """A close-up of a thing x in colour c, and three scenes of x and a thing y covering as many pixels:
    exactly (x:c, y:d), the colours swapped (x:d, y:c), and that swap with the places swapped too. Every
    option holds the same kinds and colours in about the same amounts, so a colour histogram cannot pick the
    exact one; only which kind bears which colour does."""
    kinds = [k for k in COMPACT + ('car', 'shoe', 'cat', 'dog') if len(st.colors(k)) >= 2]
    pairs = [(x, y, c, d) for x in kinds for y in kinds if x != y for c in st.colors(x) for d in st.colors(y)
             if c != d and d in st.colors(x) and c in st.colors(y)]
    x, y, c, d = st.pick(pairs)
    (bg, variant), cam, left = st.place_for([x, y]), st.camera(), st.rng.random() < .5
    hx = height_for(x, st.u(85, 100))
    hy = equal_area_height(y, x, hx)
    closeup = single(st, x, c, bg, variant, size=st.u(110, 130))
    options = [pair(st, x, c, hx, y, d, hy, bg, variant, cam, left),
               pair(st, x, d, hx, y, c, hy, bg, variant, cam, left),
               pair(st, x, d, hx, y, c, hy, bg, variant, cam, not left)]
    return another_light(st, closeup), [another_light(st, o) for o in options]


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
            s['objects'].append(obj(stays, cs, height_for(stays, 70), t['x'] - c[0], top - c[1], c, z=0.5))
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
    things (s['novel']: [{shape, colors, h, x, y}], bottom centre in view pixels) on top, under the light of
    s['exposure'] (a gain a channel) where it has one."""
    if s.get('exposure'):
        lit = render(dict(s, exposure=None)) * np.array(s['exposure'])
        return np.clip(lit + 0.5, 0, 255).astype(np.uint8)
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


EXITS = {'top': (0, -1), 'bottom': (0, 1), 'left': (-1, 0), 'right': (1, 0), 'top right': (1, -1),
         'top left': (-1, -1), 'bottom right': (1, 1), 'bottom left': (-1, 1)}


def leaving(st, cat, exit, n, start, size, cam):
    """(thing at frame 0, step a frame in view px) of a thing at `start` (its centre) that leaves the view
    through `exit` (diagonal exits aim at the corner) and is wholly outside from frame n - 2 on."""
    (ex, ey), h = EXITS[exit], height_for(cat, size)
    w, (cx, cy) = h * aspect(cat), start
    # the fraction of the way to the corner (or the edge) that takes it wholly out of view
    need_x = (160 + w / 2 + 4 - ex * (cx - 160)) / 160 if ex else np.inf
    need_y = (120 + h / 2 + 4 - ey * (cy - 120)) / 120 if ey else np.inf
    need = min(need_x, need_y)
    step = (ex * 160 * need / (n - 2), ey * 120 * need / (n - 2))
    return obj(cat, st.color(cat), h, cx, cy + h / 2, cam, flip=cat in ASYMMETRIC and ex < 0), step


def exit_clip(st, movers, n, size=(85, 105)):
    """n frames of things [(cat, exit, (x, y) centre)] leaving the view at once, each through its own exit,
    all wholly outside from frame n - 2 on: the last two frames are a delay with the view empty of them.
    Every exit asked about sees a thing leave, so change in a region of the view answers nothing; only
    remembering which thing went where does."""
    (bg, variant), cam = st.place_for([cat for cat, _, _ in movers]), st.camera()
    starts = [leaving(st, cat, exit, n, xy, st.u(*size), cam) for cat, exit, xy in movers]
    frames = []
    for t in range(n):
        things = [dict(o, x=round(o['x'] + sx * t, 1), y=round(o['y'] + sy * t, 1)) for o, (sx, sy) in starts]
        frames.append(scene(bg, variant, cam, things))
    return frames


def glide(start, stop, speed):
    """View x a frame from start to stop at `speed` px a frame, ending at stop."""
    k = max(1, int(np.ceil(abs(stop - start) / speed)))
    return list(np.linspace(start, stop, k + 1)[1:])


def pushed_clip(thing, track, bg, variant, cam, d, screens=(), occluder=None, lift=None):
    """Frames of a thing (an obj, a function of the frame giving one, or None) along a track of view x, one a
    frame (None: not there), going in direction d, behind a screen (occluder, lifted lift[t] px at frame t)
    or among screen things."""
    frames = []
    for t, x in enumerate(track):
        things = [dict(p) for p in screens]
        if thing is not None and x is not None:
            o = thing(t) if callable(thing) else thing
            things.append(dict(o, x=round(x + cam[0], 1), flip=o['category'] in ASYMMETRIC and d < 0))
        occ = occluder and dict(occluder, y=round(occluder['y'] - (lift[t] if lift else 0), 1))
        frames.append(scene(bg, variant, cam, things, occluder=occ))
    return frames


def voe_quad(st, concept, fps=5):
    """Clips of a thing pushed behind a screen as in the recordings (make.ROLLERS at make.PUSH_SPEED, hidden
    make.HIDDEN_SECONDS, behind a screen make.SCREEN_MARGIN bigger than it), as ({name: frames}, kind): two
    pairs (possible, impossible; possible2, impossible2) of clips of one length that differ only once the
    thing is wholly hidden, matched so that neither motion nor change marks the impossible one (IntPhys):
        permanence   the screen lifts: the thing is there / is gone; the screen lifts at first on nothing,
                     and again: on nothing / on a thing come from nowhere
        continuity   two screens: it crosses the gap and comes out of the second / comes out of the second
                     without crossing; it stays behind the first / comes out of the second without crossing
        color, shape it comes out as it went in / in another colour (another kind as wide); and the same
                     from that colour (kind)"""
    (bg, variant), cam, d = st.background(), st.camera(), st.pick([-1, 1])
    # two screens and the gap between them fit the view only with smaller, compact things
    cat = st.pick(c for c in make.ROLLERS if concept != 'continuity' or aspect(c) <= 1.1)
    other = st.pick(c for c in make.ROLLERS if c != cat)
    h = height_for(cat, st.u(60, 75) if concept == 'continuity' else st.u(80, 105))
    h2 = height_at_longest(other, h * max(1.0, aspect(cat)))  # as wide as the first: one screen hides either
    w, (c1, c2), oc = max(h * aspect(cat), h2 * aspect(other)), two_colors(st, cat, cat), st.color(other)
    floor, speed = st.u(195, 215), st.u(*make.PUSH_SPEED) / fps
    hide = int(round(st.u(*make.HIDDEN_SECONDS) * fps))
    ow, oh = w + st.u(*make.SCREEN_MARGIN), max(h, h2) + st.u(*make.SCREEN_MARGIN)
    screen_color = st.pick(world.CATEGORIES['screen'][2])
    thing = {k: obj(k2, col, hh, 0, floor, cam) for k, (k2, col, hh) in
             dict(a=(cat, c1, h), b=(cat, c2, h), o=(other, oc, h2)).items()}
    enter = 160 - d * ((ow + w) / 2 + st.u(10, 30))
    if concept == 'continuity':
        return continuity_quad(st, thing['a'], w, h, floor, speed, hide, d, bg, variant, cam), cat
    occ = dict(x=round(160 + cam[0]), y=round(floor + 6 + cam[1]), w=round(ow), h=round(oh),
               color=screen_color)
    behind = 160 + st.u(-0.3, 0.3) * (ow - w) / 2
    track_in = [enter] + glide(enter, behind, speed) + [behind] * hide
    if concept == 'permanence':
        lift_frames = max(2, round(0.5 * fps))
        up = list(np.linspace(0, oh + 12, lift_frames + 1)[1:])
        lift = [0.0] * len(track_in) + up + [oh + 12] * 2
        track = track_in + [behind] * (len(lift) - len(track_in))
        # nothing pushed: the screen lifts on an empty floor first, and comes down again
        first = [0.0] + up + up[::-1] + [0.0] * (len(track_in) - 2 * lift_frames - 1)
        lift2 = first[:len(track_in)] + up + [oh + 12] * 2
        hidden_from = len(track_in) - hide
        there = [None] * len(track)
        return dict(possible=pushed_clip(thing['a'], track, bg, variant, cam, d, occluder=occ, lift=lift),
                    impossible=pushed_clip(thing['a'], track[:hidden_from] + there[hidden_from:], bg, variant,
                                           cam, d, occluder=occ, lift=lift),
                    possible2=pushed_clip(None, track, bg, variant, cam, d, occluder=occ, lift=lift2),
                    impossible2=pushed_clip(thing['a'], there[:len(track_in)] + track[len(track_in):], bg,
                                            variant, cam, d, occluder=occ, lift=lift2)), cat
    out = 160 + d * ((ow + w) / 2 + st.u(15, 35))
    track = track_in + glide(behind, out, speed)
    changed_at = len(track_in) - hide // 2  # while wholly hidden

    def becomes(first, then):
        return lambda t: thing[first] if t < changed_at else thing[then]
    swap = 'b' if concept == 'color' else 'o'
    return dict(possible=pushed_clip(thing['a'], track, bg, variant, cam, d, occluder=occ),
                impossible=pushed_clip(becomes('a', swap), track, bg, variant, cam, d, occluder=occ),
                possible2=pushed_clip(thing[swap], track, bg, variant, cam, d, occluder=occ),
                impossible2=pushed_clip(becomes(swap, 'a'), track, bg, variant, cam, d, occluder=occ)), cat


def continuity_quad(st, thing, w, h, floor, speed, hide, d, bg, variant, cam):
    """The continuity clips of voe_quad: two screens with a gap wider than the thing between them."""
    sh = max(h + 10, (w + 8) / aspect('screen'))
    sw = sh * aspect('screen')
    apart = sw / 2 + w / 2 + speed + 4  # a gap the thing is seen wholly in for a frame or more as it crosses
    first, second = 160 - d * apart, 160 + d * apart
    enter = first - d * ((sw + w) / 2 + st.u(4, 10))
    out = second + d * ((sw + w) / 2 + st.u(4, 10))
    screens = [obj('screen', st.pick(world.CATEGORIES['screen'][2]), sh, x, floor + 6, cam, z=1.0)
               for x in (first, second)]
    track_in = [enter] + glide(enter, first, speed) + [first] * hide
    crossing = glide(first, second, speed)
    gap = (min(first, second) + sw / 2 - w / 2, max(first, second) - sw / 2 + w / 2)
    cross = track_in + crossing + glide(second, out, speed)
    teleport = [None if gap[0] < x < gap[1] and t >= len(track_in) else x for t, x in enumerate(cross)]
    stay = track_in + [first] * (len(cross) - len(track_in))
    clips = dict(possible=cross, impossible=teleport, possible2=stay, impossible2=teleport)
    return {k: pushed_clip(thing, track, bg, variant, cam, d, screens) for k, track in clips.items()}


def gaze_scene(st, cats, target):
    """A caregiver looking at thing number `target` of known things of the kinds `cats`, left to right, at
    clearly different head turns."""
    slots = sorted(st.sample(GAZE_SLOTS, len(cats)))
    (bg, variant), cam = st.place_for(cats), st.camera()
    objs = [obj(c, st.color(c), height_for(c, 85), 160 + dx, st.u(95, 112), cam)
            for c, dx in zip(cats, slots)]
    return scene(bg, variant, cam, objs, face=face(st, cam, gaze=world.centre(objs[target])))


def joint_scenes(st, first, answer, slot):
    """Two novel things, left and right, in two teaching scenes: a speaking caregiver looks at thing `first`
    in the first scene and at the other in the second; then the two things alone, thing `answer` first
    unless slot. Returns [scene 1, scene 2, option A, option B]."""
    things = [dict(shape=int(sh), colors=st.sample(world.COLOR_WORDS, 2), h=64, x=160 + dx, y=st.u(95, 110))
              for sh, dx in zip(st.sample(range(8), 2), (-105, 105))]
    (bg, variant), cam = st.background(), st.camera()
    teaching = []
    for look in (things[first], things[1 - first]):
        f = face(st, cam, gaze=[look['x'] + cam[0], look['y'] - look['h'] / 2 + cam[1]], mouth=True)
        teaching.append(scene(bg, variant, cam, [], face=f, novel=things))
    alone = [things[answer], things[1 - answer]][::1 - 2 * slot]
    return teaching + [scene(bg, variant, cam, [], novel=[dict(t, x=160, y=200, h=110)]) for t in alone]


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
