"""
The nursery's picture book: object sprites, backgrounds, caregivers' faces, and render_frame(), a pure
function from a scene dict to an RGB image. The ground truth stores the same dicts, so any moment re-renders:
    {'background': 'kitchen', 'variant': 0, 'camera': [cx, cy],
     'objects': [{'id': 'ball1', 'category': 'ball', 'color': 'red', 'size': 'medium',
                  'x': 250, 'y': 300, 'z': 0, 'pose': 0, 'flip': False, 'screen': False}, ...],
     'occluder': {'x': 240, 'y': 320, 'w': 70, 'h': 90, 'color': 'blue'} or None,
     'face': {'who': 'mom', 'skin': 'skin_light', 'x': 380, 'y': 360, 'height': 150,
              'gaze': [gx, gy] or None, 'mouth_open': False} or None}
x, y is the bottom centre of a thing in world pixels (WORLD_W x WORLD_H); the camera sees VIEW_W x VIEW_H
from offset (cx, cy), so head motion is a change of offset; 'screen' things (the child's hands) are in
view pixels. Drawing order is by z, then y (lower is nearer); the occluder is at z=1, the face z=3.
Sprites are drawn once per process with PIL at 3x, box-filtered down (anti-aliased), and composited
with numpy slices: a frame takes about a millisecond.
"""
import functools
import hashlib

import numpy as np
from PIL import Image, ImageDraw

VIEW_W, VIEW_H = 320, 240
WORLD_W, WORLD_H = 480, 360  # the camera pans over +-80 px and tilts over 120 px of a wider world
SUPERSAMPLE = 3

COLORS = {
    'red': (215, 40, 40), 'blue': (45, 95, 215), 'green': (45, 160, 65), 'yellow': (245, 205, 40),
    'orange': (245, 135, 30), 'purple': (140, 65, 180), 'pink': (245, 135, 180),
    'white': (238, 238, 232), 'brown': (140, 90, 50), 'black': (40, 40, 44), 'grey': (140, 140, 145),
    'skin_light': (240, 200, 172), 'skin_tan': (205, 150, 110), 'skin_dark': (130, 88, 60),
}
COLOR_WORDS = tuple(c for c in COLORS if not c.startswith('skin'))
SIZES = {'small': 0.7, 'medium': 1.0, 'big': 1.4}
# Infants' head-camera views at naming moments are dominated by a few large, near things (Smith, Yu &
# Pereira 2011): toys and furniture are drawn NEAR times their heights below; hands, feet, fixtures and the
# screen are not.
NEAR = 2.0
FAR = ('hand', 'foot', 'screen', 'door', 'window', 'tree')
ASYMMETRIC = ('car', 'duck', 'dog', 'shoe', 'cup', 'cat', 'book')  # a mirror image of these looks different
SKY, OUTLINE_SHADE = (150, 200, 240), 0.55

# category: (height in px at size 'medium', width / height, colours it comes in). One colour means the
# colour is part of what the thing is (a banana is yellow); caregivers name colours only of the rest.
CATEGORIES = {
    'ball': (34, 1.0, ('red', 'blue', 'green', 'yellow', 'orange', 'purple', 'pink')),
    'apple': (30, 1.0, ('red', 'green', 'yellow')), 'banana': (24, 2.0, ('yellow',)),
    'cup': (30, 1.0, ('red', 'blue', 'green', 'yellow', 'orange', 'purple', 'pink', 'white')),
    'bottle': (46, 0.5, ('blue', 'pink', 'green', 'yellow', 'purple')),
    'spoon': (36, 0.4, ('red', 'blue', 'green', 'yellow', 'orange', 'pink')),
    'car': (34, 1.8, ('red', 'blue', 'green', 'yellow', 'orange', 'black', 'white')),
    'cat': (54, 0.95, ('orange', 'black', 'white', 'grey')),
    'dog': (50, 1.35, ('brown', 'black', 'white', 'grey')),
    'duck': (34, 1.1, ('yellow', 'blue', 'pink', 'orange', 'green')),
    'bear': (52, 0.8, ('brown', 'white', 'pink', 'yellow', 'blue')),
    'book': (36, 1.2, ('red', 'blue', 'green', 'yellow', 'orange', 'purple')),
    'chair': (90, 0.7, ('brown', 'red', 'blue', 'white', 'green', 'yellow')),
    'table': (78, 1.75, ('brown', 'white')),
    'crib': (104, 1.5, ('white', 'brown')), 'basket': (44, 1.3, ('brown',)),
    'bucket': (40, 1.0, ('red', 'blue', 'green', 'yellow', 'orange', 'pink')),
    'shoe': (28, 1.7, ('red', 'blue', 'pink', 'white', 'black', 'green', 'purple')),
    'block': (28, 1.0, ('red', 'blue', 'green', 'yellow', 'orange', 'purple')),
    'toy': (48, 0.8, ('red',)),  # a ring-stacking toy: always rainbow rings on a red base
    'puzzle': (38, 1.0, ('red', 'blue', 'green', 'yellow', 'orange', 'purple')),
    'paper': (40, 0.8, ('white', 'pink', 'yellow', 'blue', 'green')),
    'computer': (48, 1.3, ('grey', 'black', 'white')), 'door': (150, 0.5, ('brown', 'white', 'blue', 'red')),
    'window': (84, 1.1, ('white',)), 'tree': (170, 0.75, ('green',)),
    'flower': (44, 0.6, ('red', 'yellow', 'pink', 'purple', 'blue', 'white', 'orange')),
    'hand': (70, 0.85, ('skin_light', 'skin_tan', 'skin_dark')),
    'foot': (62, 0.7, ('skin_light', 'skin_tan', 'skin_dark')),
    'screen': (90, 0.8, ('blue', 'red', 'green', 'yellow', 'purple', 'orange')),  # the occluder
}
# Where other things go relative to a piece of furniture: height of the surface something stands on
# (fraction of the furniture's height from its bottom), and what fits under or inside it.
SUPPORT = {'table': 0.97, 'chair': 0.47}          # 'on'
UNDER = {'table': 0.8, 'chair': 0.4}               # free height under it, fraction of its height
CONTAINER = {'basket': 0.45, 'crib': 0.45, 'bucket': 0.5}  # 'in': where the inside's bottom is

def rgb(color):
    return COLORS[color] if isinstance(color, str) else tuple(color)

def shade(c, k):
    return tuple(int(max(0, min(255, v * k))) for v in c)

def stable_int(*parts):
    """A hash that is the same in every process and Python version (unlike hash())."""
    h = hashlib.blake2b('|'.join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(h, 'little')

# ----------------------------------------------------------------------------------------------------
# drawing helpers in unit coordinates (0..1 across the sprite's canvas), so sprites scale to any size


def _box(d, x0, y0, x1, y1):
    return (x0 * d.W, y0 * d.H, x1 * d.W, y1 * d.H)

def _ink(d, fill, line):
    """A darker outline of the fill colour: cartoon edges make shapes readable at low resolution."""
    return dict(fill=fill, outline=shade(fill, OUTLINE_SHADE) if line else None, width=d.lw if line else 0)

def E(d, x0, y0, x1, y1, fill, line=True):
    d.ellipse(_box(d, x0, y0, x1, y1), **_ink(d, fill, line))

def R(d, x0, y0, x1, y1, fill, line=True, r=0.0):
    d.rounded_rectangle(_box(d, x0, y0, x1, y1), radius=r * min(d.W, d.H), **_ink(d, fill, line))

def P(d, pts, fill, line=True):
    d.polygon([(x * d.W, y * d.H) for x, y in pts], **_ink(d, fill, line))

def L(d, pts, fill, w=0.04):
    d.line([(x * d.W, y * d.H) for x, y in pts], fill=fill, width=max(1, int(w * d.H)), joint='curve')


def CLEAR(d, x0, y0, x1, y1):
    """Cut a transparent ellipse out (ImageDraw writes RGBA values, it does not blend)."""
    d.ellipse(_box(d, x0, y0, x1, y1), fill=(0, 0, 0, 0))


def draw(d, cat, c, pose):
    """Draw one category in colour c on a canvas of d.W x d.H. pose is a small int: a ball's rotation
    (0-7) as it rolls, an open book (1), a bitten apple (1)."""
    drawing = DRAWINGS.get(cat)
    if drawing is not None:  # an unknown category draws nothing
        drawing(d, c, pose)


# the categories' drawings (see draw): each in colour c, on a canvas of d.W x d.H


def _draw_ball(d, c, pose):
    E(d, 0.02, 0.02, 0.98, 0.98, c)
    band = (250, 250, 250) if c != COLORS['white'] else COLORS['red']
    a = pose * 45
    d.pieslice(_box(d, 0.06, 0.06, 0.94, 0.94), a, a + 50, fill=band)
    second = COLORS['yellow'] if c != COLORS['yellow'] else COLORS['blue']
    d.pieslice(_box(d, 0.06, 0.06, 0.94, 0.94), a + 180, a + 230, fill=second)
    E(d, 0.22, 0.18, 0.4, 0.34, shade(c, 1.5), line=False)  # highlight


def _draw_apple(d, c, pose):
    E(d, 0.04, 0.18, 0.6, 0.98, c)
    E(d, 0.4, 0.18, 0.96, 0.98, c)
    E(d, 0.2, 0.2, 0.8, 0.96, c, line=False)
    L(d, [(0.5, 0.28), (0.55, 0.02)], COLORS['brown'], 0.07)
    E(d, 0.56, 0.02, 0.86, 0.16, COLORS['green'])
    if pose:
        CLEAR(d, 0.72, 0.35, 1.2, 0.8)
        E(d, 0.78, 0.42, 0.9, 0.72, (250, 240, 205), line=False)


def _draw_banana(d, c, pose):
    d.pieslice(_box(d, 0.02, -1.0, 0.98, 0.98), 10, 170, **_ink(d, c, True))
    CLEAR(d, 0.1, -1.3, 0.9, 0.55)
    E(d, 0.0, 0.3, 0.1, 0.5, COLORS['brown'], line=False)
    E(d, 0.9, 0.3, 1.0, 0.5, COLORS['brown'], line=False)


def _draw_cup(d, c, pose):
    E(d, 0.55, 0.25, 0.98, 0.75, c)
    CLEAR(d, 0.66, 0.36, 0.88, 0.64)
    P(d, [(0.04, 0.08), (0.76, 0.08), (0.68, 0.98), (0.12, 0.98)], c)
    E(d, 0.04, 0.02, 0.76, 0.16, shade(c, 0.7))


def _draw_bottle(d, c, pose):
    R(d, 0.08, 0.3, 0.92, 0.99, (235, 240, 248), r=0.25)
    R(d, 0.16, 0.5, 0.84, 0.95, (252, 250, 240), line=False, r=0.2)  # milk
    for y in (0.5, 0.62, 0.74):
        L(d, [(0.1, y), (0.3, y)], (120, 120, 140), 0.02)
    E(d, 0.3, 0.0, 0.7, 0.26, (235, 200, 150))
    R(d, 0.12, 0.18, 0.88, 0.33, c)


def _draw_spoon(d, c, pose):
    E(d, 0.1, 0.0, 0.9, 0.36, (200, 205, 212))
    R(d, 0.36, 0.32, 0.64, 0.99, c, r=0.4)


def _draw_car(d, c, pose):
    P(d, [(0.24, 0.5), (0.34, 0.1), (0.7, 0.1), (0.82, 0.5)], c)
    P(d, [(0.32, 0.46), (0.39, 0.18), (0.51, 0.18), (0.51, 0.46)], (170, 215, 245))
    P(d, [(0.55, 0.46), (0.55, 0.18), (0.66, 0.18), (0.74, 0.46)], (170, 215, 245))
    R(d, 0.02, 0.42, 0.98, 0.82, c, r=0.25)
    E(d, 0.9, 0.5, 0.98, 0.62, COLORS['yellow'])
    for x in (0.12, 0.64):
        E(d, x, 0.6, x + 0.24, 1.0, (30, 30, 30))
        E(d, x + 0.07, 0.72, x + 0.17, 0.88, (190, 190, 190))


def _draw_cat(d, c, pose):
    L(d, [(0.78, 0.9), (0.95, 0.75), (0.9, 0.45)], shade(c, 0.85), 0.09)
    E(d, 0.14, 0.42, 0.86, 1.0, c)
    P(d, [(0.22, 0.28), (0.26, 0.0), (0.44, 0.14)], c)
    P(d, [(0.78, 0.28), (0.74, 0.0), (0.56, 0.14)], c)
    E(d, 0.18, 0.06, 0.82, 0.56, c)
    for x in (0.3, 0.56):
        E(d, x, 0.22, x + 0.14, 0.34, (120, 200, 90))
        E(d, x + 0.05, 0.22, x + 0.09, 0.34, (20, 20, 20), line=False)
    P(d, [(0.45, 0.38), (0.55, 0.38), (0.5, 0.44)], (240, 130, 150), line=False)
    for dy in (-0.03, 0.03):
        L(d, [(0.02, 0.42 + dy), (0.38, 0.42)], (60, 60, 60), 0.012)
        L(d, [(0.62, 0.42), (0.98, 0.42 + dy)], (60, 60, 60), 0.012)


def _draw_dog(d, c, pose):
    L(d, [(0.2, 0.45), (0.06, 0.18)], c, 0.08)
    for x in (0.22, 0.34, 0.58, 0.7):
        R(d, x, 0.6, x + 0.1, 0.99, shade(c, 0.9), r=0.3)
    E(d, 0.14, 0.3, 0.82, 0.75, c)
    E(d, 0.6, 0.04, 0.98, 0.5, c)
    E(d, 0.56, 0.08, 0.72, 0.5, shade(c, 0.6))  # floppy ear
    E(d, 0.86, 0.24, 0.97, 0.34, (20, 20, 20), line=False)
    E(d, 0.76, 0.16, 0.83, 0.24, (20, 20, 20), line=False)
    L(d, [(0.84, 0.42), (0.93, 0.4)], (120, 40, 40), 0.02)


def _draw_duck(d, c, pose):
    E(d, 0.02, 0.42, 0.86, 0.99, c)
    E(d, 0.4, 0.02, 0.88, 0.56, c)
    E(d, 0.8, 0.24, 1.0, 0.4, COLORS['orange'])
    E(d, 0.62, 0.14, 0.72, 0.26, (20, 20, 20), line=False)
    d.arc(_box(d, 0.16, 0.5, 0.6, 0.86), 20, 160, fill=shade(c, 0.7), width=d.lw * 2)


def _draw_bear(d, c, pose):
    for x in (0.12, 0.64):  # feet and ears, under the body and the head
        E(d, x, 0.72, x + 0.26, 0.99, c)
        E(d, x + 0.02, 0.0, x + 0.24, 0.18, c)
    E(d, 0.16, 0.4, 0.84, 0.96, c)
    E(d, 0.3, 0.55, 0.7, 0.88, shade(c, 1.25), line=False)
    E(d, 0.2, 0.04, 0.8, 0.5, c)
    E(d, 0.36, 0.26, 0.64, 0.46, shade(c, 1.3))
    for x0, y0, x1, y1 in ((0.33, 0.17, 0.42, 0.25), (0.58, 0.17, 0.67, 0.25), (0.45, 0.28, 0.55, 0.35)):
        E(d, x0, y0, x1, y1, (20, 20, 20), line=False)


def _draw_book(d, c, pose):
    if pose:  # open, seen from the reader: two pages with lines of text
        R(d, 0.0, 0.1, 1.0, 1.0, c, r=0.05)
        for x0, x1 in ((0.05, 0.49), (0.51, 0.95)):
            R(d, x0, 0.14, x1, 0.94, (250, 248, 240), r=0.02)
            for y in np.arange(0.26, 0.86, 0.1):
                L(d, [(x0 + 0.05, y), (x1 - 0.06, y)], (110, 110, 120), 0.02)
        E(d, 0.6, 0.3, 0.84, 0.58, COLORS['red'], line=False)  # a picture on the page
        return
    R(d, 0.02, 0.08, 0.9, 0.99, (250, 248, 240))  # page block
    R(d, 0.0, 0.0, 0.84, 0.92, c, r=0.04)
    R(d, 0.0, 0.0, 0.12, 0.92, shade(c, 0.7))
    E(d, 0.32, 0.25, 0.68, 0.62, (250, 240, 160))


def _draw_chair(d, c, pose):
    R(d, 0.14, 0.0, 0.86, 0.5, c, r=0.1)
    for x in (0.3, 0.46, 0.62):
        R(d, x, 0.1, x + 0.08, 0.42, shade(c, 0.75), line=False)
    for x in (0.1, 0.8):
        R(d, x, 0.55, x + 0.1, 0.99, shade(c, 0.85))
    R(d, 0.04, 0.47, 0.96, 0.6, shade(c, 1.12))


def _draw_table(d, c, pose):
    for x in (0.05, 0.87):
        R(d, x, 0.08, x + 0.08, 0.99, shade(c, 0.85))
    R(d, 0.04, 0.1, 0.96, 0.2, shade(c, 0.8))
    R(d, 0.0, 0.02, 1.0, 0.12, c, r=0.3)


def _draw_crib(d, c, pose):
    R(d, 0.06, 0.5, 0.94, 0.74, (225, 235, 250), line=False)  # mattress and blanket
    R(d, 0.06, 0.5, 0.5, 0.74, (250, 205, 215), line=False)
    for x in np.linspace(0.1, 0.86, 10):
        R(d, x, 0.06, x + 0.03, 0.78, c)
    for u in (0.0, 0.93):
        R(d, u, 0.0, u + 0.07, 0.99, c)
    for u in (0.02, 0.74):
        R(d, 0.0, u, 1.0, u + 0.08, c, r=0.3)


def _draw_basket(d, c, pose):
    d.arc(_box(d, 0.16, 0.0, 0.84, 0.9), 180, 360, fill=shade(c, 0.8), width=d.lw * 3)
    P(d, [(0.02, 0.4), (0.98, 0.4), (0.86, 0.99), (0.14, 0.99)], c)
    for y in (0.55, 0.7, 0.85):
        L(d, [(0.06, y), (0.94, y)], shade(c, 0.7), 0.02)
    for x in np.linspace(0.2, 0.8, 6):
        L(d, [(x, 0.42), (0.5 + (x - 0.5) * 0.85, 0.97)], shade(c, 0.7), 0.02)
    R(d, 0.0, 0.36, 1.0, 0.46, shade(c, 1.15), r=0.4)


def _draw_bucket(d, c, pose):
    d.arc(_box(d, 0.1, 0.0, 0.9, 0.5), 180, 360, fill=(90, 90, 90), width=d.lw)
    P(d, [(0.06, 0.22), (0.94, 0.22), (0.82, 0.99), (0.18, 0.99)], c)
    E(d, 0.06, 0.16, 0.94, 0.3, shade(c, 0.65))


def _draw_shoe(d, c, pose):
    P(d, [(0.03, 0.82), (0.05, 0.12), (0.34, 0.12), (0.5, 0.42), (0.86, 0.5), (0.99, 0.7), (0.99, 0.84)], c)
    R(d, 0.0, 0.78, 1.0, 0.99, (245, 245, 245), r=0.4)
    for x in (0.38, 0.48, 0.58):
        L(d, [(x, 0.36), (x + 0.08, 0.5)], (250, 250, 250), 0.04)


def _draw_block(d, c, pose):
    P(d, [(0.0, 0.24), (0.22, 0.02), (1.0, 0.02), (0.78, 0.24)], shade(c, 1.25))
    P(d, [(0.78, 0.24), (1.0, 0.02), (1.0, 0.78), (0.78, 0.99)], shade(c, 0.7))
    R(d, 0.0, 0.24, 0.78, 0.99, c)
    P(d, [(0.39, 0.36), (0.52, 0.8), (0.26, 0.8)], (250, 250, 250), line=False)


def _draw_toy(d, c, pose):
    R(d, 0.45, 0.02, 0.55, 0.9, (220, 190, 140))
    for i, col in enumerate(('red', 'orange', 'yellow', 'green', 'blue', 'purple')):
        w = 0.46 - i * 0.06
        E(d, 0.5 - w, 0.7 - i * 0.12, 0.5 + w, 0.86 - i * 0.12, COLORS[col])
    E(d, 0.4, 0.0, 0.6, 0.14, COLORS['red'])
    R(d, 0.02, 0.86, 0.98, 0.99, COLORS['red'], r=0.4)


def _draw_puzzle(d, c, pose):
    R(d, 0.0, 0.22, 0.78, 0.99, c)
    E(d, 0.27, 0.02, 0.51, 0.3, c)
    E(d, 0.7, 0.48, 0.98, 0.72, c)
    R(d, 0.02, 0.24, 0.76, 0.97, c, line=False)
    CLEAR(d, -0.12, 0.5, 0.12, 0.74)
    CLEAR(d, 0.28, 0.86, 0.5, 1.1)


def _draw_paper(d, c, pose):
    P(d, [(0.0, 0.0), (0.75, 0.0), (1.0, 0.2), (1.0, 1.0), (0.0, 1.0)], c)
    P(d, [(0.75, 0.0), (0.75, 0.2), (1.0, 0.2)], shade(c, 0.8))
    L(d, [(0.15, 0.3), (0.35, 0.6), (0.5, 0.35), (0.7, 0.7), (0.85, 0.45)], COLORS['blue'], 0.04)
    E(d, 0.2, 0.66, 0.4, 0.86, COLORS['red'], line=False)


def _draw_computer(d, c, pose):
    R(d, 0.08, 0.0, 0.92, 0.66, c, r=0.05)
    R(d, 0.14, 0.06, 0.86, 0.6, (90, 150, 210), line=False)
    L(d, [(0.2, 0.5), (0.4, 0.3), (0.55, 0.45), (0.8, 0.2)], (240, 240, 240), 0.03)
    P(d, [(0.08, 0.68), (0.92, 0.68), (1.0, 0.99), (0.0, 0.99)], shade(c, 1.15))
    for y in (0.76, 0.84, 0.92):
        L(d, [(0.12 + (0.99 - y) * 0.1, y), (0.88 - (0.99 - y) * 0.1, y)], shade(c, 0.6), 0.02)


def _draw_door(d, c, pose):
    R(d, 0.0, 0.0, 1.0, 1.0, c)
    for y0, y1 in ((0.06, 0.45), (0.52, 0.94)):
        R(d, 0.14, y0, 0.86, y1, shade(c, 0.88))
    E(d, 0.74, 0.5, 0.88, 0.57, (220, 180, 60))


def _draw_window(d, c, pose):
    R(d, 0.0, 0.0, 1.0, 0.92, c)
    for x0, x1 in ((0.08, 0.47), (0.53, 0.92)):
        for y0, y1 in ((0.07, 0.44), (0.5, 0.86)):
            R(d, x0, y0, x1, y1, SKY, line=False)
    E(d, 0.14, 0.12, 0.44, 0.3, (252, 252, 252), line=False)
    E(d, 0.58, 0.6, 0.76, 0.72, (252, 252, 252), line=False)
    R(d, -0.02, 0.88, 1.02, 0.99, shade(c, 0.9))


def _draw_tree(d, c, pose):
    R(d, 0.42, 0.5, 0.58, 0.99, COLORS['brown'])
    for x0, y0, x1, y1 in ((0.05, 0.2, 0.55, 0.65), (0.45, 0.2, 0.95, 0.65), (0.2, 0.0, 0.8, 0.5)):
        E(d, x0, y0, x1, y1, c)
    E(d, 0.15, 0.15, 0.85, 0.6, c, line=False)


def _draw_flower(d, c, pose):
    L(d, [(0.5, 0.35), (0.5, 0.99)], COLORS['green'], 0.05)
    E(d, 0.5, 0.6, 0.9, 0.75, COLORS['green'])
    for a in np.arange(5) * 2 * np.pi / 5:
        x, y = 0.5 + 0.26 * np.sin(a), 0.27 - 0.17 * np.cos(a)
        E(d, x - 0.2, y - 0.12, x + 0.2, y + 0.12, c)
    E(d, 0.36, 0.18, 0.64, 0.36, COLORS['yellow'])


def _draw_hand(d, c, pose):
    """A left hand seen from its owner, palm down; pose 1 mirrors it."""
    for i, (x, top) in enumerate(((0.22, 0.08), (0.4, 0.0), (0.58, 0.04), (0.74, 0.16))):
        R(d, x - 0.08, top, x + 0.08, 0.6, c, r=0.5)
    R(d, 0.12, 0.35, 0.84, 0.99, c, r=0.3)
    E(d, 0.78, 0.4, 1.0, 0.62, c)
    R(d, 0.14, 0.37, 0.82, 0.97, c, line=False, r=0.3)


def _draw_foot(d, c, pose):
    E(d, 0.1, 0.2, 0.9, 0.99, c)
    toes = ((0.22, 0.1, 0.12), (0.4, 0.03, 0.1), (0.56, 0.05, 0.09), (0.7, 0.1, 0.08), (0.82, 0.18, 0.07))
    for x, y, r in toes:
        E(d, x - r, y, x + r, y + 2 * r * 0.8, c)


def _draw_screen(d, c, pose):
    """A cardboard screen things roll behind."""
    R(d, 0.0, 0.0, 1.0, 1.0, c, r=0.04)
    for x in np.linspace(0.12, 0.8, 5):
        R(d, x, 0.04, x + 0.07, 0.96, shade(c, 1.2), line=False)
    R(d, 0.0, 0.9, 1.0, 1.0, shade(c, 0.7))


DRAWINGS = {  # category: its drawing
    'ball': _draw_ball, 'apple': _draw_apple, 'banana': _draw_banana, 'cup': _draw_cup,
    'bottle': _draw_bottle, 'spoon': _draw_spoon, 'car': _draw_car, 'cat': _draw_cat, 'dog': _draw_dog,
    'duck': _draw_duck, 'bear': _draw_bear, 'book': _draw_book, 'chair': _draw_chair, 'table': _draw_table,
    'crib': _draw_crib, 'basket': _draw_basket, 'bucket': _draw_bucket, 'shoe': _draw_shoe,
    'block': _draw_block, 'toy': _draw_toy, 'puzzle': _draw_puzzle, 'paper': _draw_paper,
    'computer': _draw_computer, 'door': _draw_door, 'window': _draw_window, 'tree': _draw_tree,
    'flower': _draw_flower, 'hand': _draw_hand, 'foot': _draw_foot, 'screen': _draw_screen}


def _canvas(w, h):
    img = Image.new('RGBA', (w * SUPERSAMPLE, h * SUPERSAMPLE), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.W, d.H, d.lw = img.width, img.height, max(1, round(SUPERSAMPLE * 1.2))
    return img, d


def _premultiply(img):
    a = np.asarray(img.reduce(SUPERSAMPLE), dtype=np.float32) / 255.0
    return np.ascontiguousarray(a[..., :3] * a[..., 3:] * 255.0), np.ascontiguousarray(1.0 - a[..., 3:])


def unit_height(cat):
    """Height in px of a thing of size 1.0 ('medium'), as the recordings draw it."""
    return CATEGORIES[cat][0] * (1.0 if cat in FAR else NEAR)


def object_height(obj):
    size = obj.get('size', 'medium')
    return unit_height(obj['category']) * (SIZES[size] if isinstance(size, str) else float(size))


@functools.lru_cache(maxsize=4096)
def sprite(category, color, height, pose=0, flip=False):
    """Premultiplied RGB and (1 - alpha) float32 arrays of one object, `height` px tall."""
    h = max(4, int(round(height)))
    w = max(4, int(round(h * CATEGORIES[category][1])))
    img, d = _canvas(w, h)
    draw(d, category, rgb(color), pose)
    if flip:
        img = img.transpose(Image.FLIP_LEFT_RIGHT)
    return _premultiply(img)

# ----------------------------------------------------------------------------------------------------
# caregivers' faces: head, hair and eye whites are a cached sprite per head turn; pupils (the gaze) and
# an open mouth (speech) are pasted per frame, so gaze can point anywhere without new sprites.

FACES = {'mom': dict(hair=(90, 55, 35), shirt=(230, 120, 150), long_hair=True, beard=False),
         'dad': dict(hair=(40, 32, 28), shirt=(70, 110, 190), long_hair=False, beard=True)}


@functools.lru_cache(maxsize=256)
def face_sprite(who, skin, height, turn):
    """A caregiver's head and shoulders; turn in -2..2 moves the features toward where the head looks.
    Returns (rgb, inv_alpha, eyes [(x, y), (x, y)] in sprite pixels, eye radius, mouth (x, y, w, h))."""
    f, c = FACES[who], rgb(skin)
    h = int(height)
    w = int(h * 0.9)
    img, d = _canvas(w, h)
    s = turn * 0.05
    R(d, 0.0, 0.8, 1.0, 1.3, f['shirt'], r=0.3)
    R(d, 0.4, 0.68, 0.6, 0.86, c, line=False)
    if f['long_hair']:
        R(d, 0.08 + s, 0.08, 0.92 + s, 0.86, f['hair'], r=0.35)
    E(d, 0.16, 0.08, 0.84, 0.78, c)
    d.chord(_box(d, 0.14 + s * 0.5, 0.02, 0.86 + s * 0.5, 0.5), 180, 360, fill=f['hair'])
    if f['beard']:
        d.chord(_box(d, 0.2 + s, 0.3, 0.8 + s, 0.78), 20, 160, fill=shade(f['hair'], 1.6))
    eyes = []
    for ex in (0.36 + s, 0.64 + s):
        E(d, ex - 0.075, 0.36, ex + 0.075, 0.46, (250, 250, 250))
        L(d, [(ex - 0.08, 0.32), (ex + 0.08, 0.31)], shade(f['hair'], 0.8), 0.018)
        eyes.append((ex * w, 0.41 * h))
    L(d, [(0.5 + s * 1.3, 0.44), (0.47 + s * 1.4, 0.56), (0.52 + s * 1.4, 0.57)], shade(c, 0.7), 0.015)
    L(d, [(0.42 + s, 0.645), (0.5 + s, 0.665), (0.58 + s, 0.645)], (170, 70, 70), 0.02)
    spr = _premultiply(img)
    return spr[0], spr[1], eyes, 0.075 * w, ((0.5 + s) * w, 0.655 * h, 0.16 * w, 0.07 * h)


@functools.lru_cache(maxsize=64)
def blob(w, h, color):
    """A filled ellipse: pupils, an open mouth."""
    img, d = _canvas(max(2, int(w)), max(2, int(h)))
    E(d, 0.0, 0.0, 1.0, 1.0, rgb(color), line=False)
    return _premultiply(img)

# ----------------------------------------------------------------------------------------------------
# backgrounds: a WORLD_W x WORLD_H canvas per (name, variant), with a soft texture so it looks filmed

BACKGROUNDS = ('room', 'kitchen', 'floor', 'sand', 'road', 'stairs', 'ground')
# the words that name what a background shows
BACKGROUND_WORDS = {'room': ('room', 'floor'), 'kitchen': ('kitchen', 'floor'), 'floor': ('floor',),
                    'sand': ('sand',), 'road': ('road',), 'stairs': ('stairs',), 'ground': ('ground',)}
# where things stand (y)
FLOOR_BAND = {'room': (215, 350), 'kitchen': (225, 350), 'floor': (120, 350), 'sand': (170, 350),
              'road': (215, 350), 'stairs': (210, 350), 'ground': (180, 350)}
WALL_LINE = {'room': 185, 'kitchen': 200}  # where doors stand, and windows hang above
WALLS = [(232, 214, 190), (200, 220, 235), (215, 235, 205), (240, 220, 225)]


def _texture(name, variant, amp):
    """Soft blotches plus fine grain, the same every time: walls and floors look filmed, not flat."""
    rng = np.random.default_rng(stable_int('texture', name, variant))
    small = Image.fromarray(rng.standard_normal((WORLD_H // 6, WORLD_W // 6)).astype(np.float32), mode='F')
    soft = np.asarray(small.resize((WORLD_W, WORLD_H), Image.BICUBIC))
    return ((1.5 * soft + 0.25 * rng.standard_normal((WORLD_H, WORLD_W)))[..., None] * amp).astype(np.float32)


@functools.lru_cache(maxsize=32)
def background(name, variant=0):
    """float32 WORLD_H x WORLD_W x 3 canvas of one background."""
    if name not in BACKGROUNDS:
        raise ValueError(f'unknown background {name!r}; known: {BACKGROUNDS}')
    W, H, wall = WORLD_W, WORLD_H, WALLS[variant % len(WALLS)]
    img = Image.new('RGB', (W, H), wall if name in ('room', 'kitchen', 'stairs') else SKY)
    d = ImageDraw.Draw(img)
    if name == 'room':  # a wall with a skirting board, wooden planks with staggered seams, a rug
        for i, y in enumerate(range(WALL_LINE['room'], H, 22)):
            d.rectangle((0, y, W, y + 22), fill=(176 - i % 3 * 8, 126, 80), outline=(130, 90, 55), width=2)
            for x in range(i % 2 * 60, W, 120):
                d.line((x, y, x, y + 22), fill=(120, 80, 50), width=2)
        d.rectangle((0, WALL_LINE['room'] - 8, W, WALL_LINE['room']), fill=(250, 250, 245))
        d.ellipse((90, 270, 390, 345), fill=(180, 70, 80) if variant % 2 else (90, 130, 180))
    elif name == 'kitchen':  # tiled splashback, counter, cupboards, oven, fridge, chequered floor
        for x in range(0, W, 20):
            d.line((x, 40, x, 110), fill=shade(wall, 0.85))
            d.line((0, 40 + x % 80, W, 40 + x % 80), fill=shade(wall, 0.85))
        d.rectangle((0, 110, W, 122), fill=(150, 150, 155))
        d.rectangle((0, 122, W, 200), fill=(200, 170, 120))
        for x in range(0, W, 80):
            d.rectangle((x + 4, 126, x + 76, 196), outline=(150, 120, 80), width=2)
            d.rectangle((x + 34, 134, x + 46, 138), fill=(90, 90, 90))
        d.rectangle((40, 70, 120, 108), fill=(60, 60, 65))
        d.rectangle((W - 110, 0, W - 20, 200), fill=(235, 238, 240), outline=(160, 160, 170), width=2)
        d.line((W - 100, 60, W - 100, 100), fill=(120, 120, 130), width=4)
        for y in range(200, H, 30):
            for x in range(0, W, 30):
                tile = (225, 225, 220) if (x + y) // 30 % 2 else (150, 160, 175)
                d.rectangle((x, y, x + 30, y + 30), fill=tile)
    elif name == 'floor':  # the view straight down at a carpet with a play mat
        d.rectangle((0, 0, W, H), fill=(150, 170, 200) if variant % 2 else (205, 185, 150))
        for i, col in enumerate(('red', 'yellow', 'green', 'blue')):
            x0, y0 = 60 + i % 2 * 180, 40 + i // 2 * 150
            d.rectangle((x0, y0, x0 + 180, y0 + 150), fill=COLORS[col])
    elif name == 'sand':  # sea with a line of surf, then sand with ripples
        d.rectangle((0, 80, W, 125), fill=(60, 120, 190))
        d.rectangle((0, 125, W, H), fill=(232, 205, 150))
        for x in range(0, W, 40):
            d.arc((x, 112, x + 40, 130), 180, 360, fill=(240, 245, 250), width=3)
            for y in range(150, H, 35):
                ripple_x = x * 2 + y % 70
                d.arc((ripple_x, y, ripple_x + 50, y + 14), 200, 340, fill=(205, 178, 125), width=2)
    elif name == 'road':  # trees far off, a verge, a pavement, the road with its lines
        for x in range(-20, W, 70):
            d.ellipse((x, 60, x + 80, 140), fill=(60, 130, 60))
        d.rectangle((0, 120, W, 165), fill=(95, 165, 75))
        d.rectangle((0, 165, W, 205), fill=(195, 195, 190))
        d.rectangle((0, 205, W, H), fill=(85, 85, 90))
        for x in range(0, W, 70):
            d.line((x, 165, x - 10, 205), fill=(160, 160, 155), width=2)
            d.rectangle((x, 280, x + 38, 288), fill=(240, 210, 60))
        d.line((0, 212, W, 212), fill=(240, 240, 240), width=3)
    elif name == 'stairs':  # a staircase going up ahead: carpeted risers, wooden treads, a banister
        y, step, x0 = H, 40.0, 40.0
        while y > 20:
            d.rectangle((x0, y - step, W - x0, y), fill=(150, 60, 60) if variant % 2 else (90, 110, 150))
            d.rectangle((x0 - 4, y - step, W - x0 + 4, y - step * 0.7), fill=(175, 125, 80))
            y, step, x0 = y - step, step * 0.92, x0 + 10
        d.line((W - 30, H, W - x0, y), fill=(110, 70, 45), width=9)
        for t in np.linspace(0.05, 0.9, 9):
            x, yy = W - 30 - t * (x0 - 30), H - t * (H - y)
            d.line((x, yy, x, yy + 70 * (1 - t * 0.6)), fill=(245, 245, 240), width=4)
    else:  # ground: a park with trees far off and a dirt path
        for x in range(-30, W, 90):
            d.ellipse((x, 40, x + 110, 170), fill=(55, 120 + x % 30, 55))
        d.rectangle((0, 140, W, H), fill=(110, 170, 80))
        d.polygon([(200, 140), (260, 140), (380, H), (100, H)], fill=(170, 130, 90))
    amp = 4.0 if name in ('floor', 'kitchen', 'room', 'stairs') else 7.0
    return np.clip(np.asarray(img, np.float32) + _texture(name, variant, amp), 0, 255)

# ----------------------------------------------------------------------------------------------------
# geometry (for the ground truth) and composition


def centre(obj):
    """The world point in the middle of an object: where a gaze at it lands."""
    return [obj['x'], round(obj['y'] - object_height(obj) / 2, 1)]


def _rect(x, y, w, h, camera=(0, 0)):
    """(x0, y0, x1, y1) in view pixels of a w x h thing whose bottom centre is at world (x, y)."""
    return (x - w / 2 - camera[0], y - h - camera[1], x + w / 2 - camera[0], y - camera[1])


def object_box(obj, camera):
    """(x0, y0, x1, y1) of an object in view pixels, as drawn."""
    h = max(4, int(round(object_height(obj))))
    return _rect(obj['x'], obj['y'], max(4, int(round(h * CATEGORIES[obj['category']][1]))), h,
                 (0, 0) if obj.get('screen') else camera)


def face_box(face, camera):
    """(x0, y0, x1, y1) of a caregiver's head and shoulders in view pixels."""
    return _rect(face['x'], face['y'], int(face['height']) * 0.9, face['height'], camera)


def _overlap(a, b):
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def occluder_box(occ, camera):
    """(x0, y0, x1, y1) of the occluding screen in view pixels, as drawn."""
    return _rect(occ['x'], occ['y'], occ['w'], occ['h'], camera)


def visibility(scene, width=VIEW_W, height=VIEW_H):
    """{object id: visible fraction of its box} (inside the view, less what the occluder hides of things
    behind it), and 'face' when there is one. Boxes, not pixels: good to 5-10%."""
    cam, view, occ, out = scene['camera'], (0, 0, width, height), scene.get('occluder'), {}
    ob = occluder_box(occ, cam) if occ else None
    for i, obj in enumerate(scene['objects']):
        b = object_box(obj, cam)
        seen = _overlap(b, view)
        if ob is not None and seen > 0 and obj.get('z', 0) < 1 and not obj.get('screen'):
            seen -= _overlap((max(b[0], 0), max(b[1], 0), min(b[2], width), min(b[3], height)), ob)
        out[obj.get('id', str(i))] = round(max(0.0, seen) / ((b[2] - b[0]) * (b[3] - b[1])), 3)
    if scene.get('face'):
        b = face_box(scene['face'], cam)
        out['face'] = round(_overlap(b, view) / ((b[2] - b[0]) * (b[3] - b[1])), 3)
    return out


def paste(frame, spr, x0, y0):
    """Alpha-composite a premultiplied sprite with its top-left at (x0, y0), clipped to the frame."""
    col, inv = spr
    x0, y0 = int(round(x0)), int(round(y0))
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x0 + inv.shape[1], frame.shape[1]), min(y0 + inv.shape[0], frame.shape[0])
    if fx0 < fx1 and fy0 < fy1:
        region = frame[fy0:fy1, fx0:fx1]
        region *= inv[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0]
        region += col[fy0 - y0:fy1 - y0, fx0 - x0:fx1 - x0]


@functools.lru_cache(maxsize=64)
def occluder_sprite(color, w, h):
    """The screen sprite resampled to width w: occluders come in any width, their stripes survive it."""
    col, inv = sprite('screen', color, h)
    cols = np.linspace(0, inv.shape[1] - 1, max(w, 2)).round().astype(int)
    return np.ascontiguousarray(col[:, cols]), np.ascontiguousarray(inv[:, cols])


def render_frame(scene, width=VIEW_W, height=VIEW_H):
    """Render a scene dict (see the module docstring) to a height x width x 3 uint8 array. Pure: the
    same dict always gives the same pixels."""
    cx, cy = (int(round(v)) for v in scene.get('camera', (0, 0)))
    cx, cy = min(max(cx, 0), WORLD_W - width), min(max(cy, 0), WORLD_H - height)
    frame = background(scene['background'], scene.get('variant', 0))[cy:cy + height, cx:cx + width].copy()
    items = [(o.get('z', 4 if o.get('screen') else 0), o['y'] + (1000 if o.get('screen') else 0), i, o)
             for i, o in enumerate(scene.get('objects', ()))]
    if scene.get('occluder'):
        items.append((scene['occluder'].get('z', 1), 0, -1, scene['occluder']))
    if scene.get('face'):
        items.append((scene['face'].get('z', 3), 0, -2, scene['face']))
    for _, _, kind, it in sorted(items, key=lambda t: t[:3]):
        if kind == -1:
            spr = occluder_sprite(it.get('color', 'blue'), int(it['w']), int(it['h']))
            paste(frame, spr, it['x'] - it['w'] / 2 - cx, it['y'] - it['h'] - cy)
        elif kind == -2:
            _paste_face(frame, it, cx, cy)
        else:
            spr = sprite(it['category'], it.get('color') or CATEGORIES[it['category']][2][0],
                         int(round(object_height(it))), int(it.get('pose', 0)), bool(it.get('flip', False)))
            x, y = (it['x'], it['y']) if it.get('screen') else (it['x'] - cx, it['y'] - cy)
            paste(frame, spr, x - spr[1].shape[1] / 2, y - spr[1].shape[0])
    frame += 0.5
    return frame.astype(np.uint8)


def _paste_face(frame, face, cx, cy):
    """A face whose head turns (5 steps) and pupils move (up to half the eye) toward the gaze point."""
    fx0, fy0 = face['x'] - int(face['height'] * 0.9) / 2 - cx, face['y'] - face['height'] - cy
    turn, ux, uy = 0, 0.0, 0.0
    if face.get('gaze') is not None:
        dx, dy = face['gaze'][0] - face['x'], face['gaze'][1] - (face['y'] - face['height'] * 0.6)
        n = max(1e-6, np.hypot(dx, dy))
        turn, ux, uy = int(np.clip(round(dx / 70.0), -2, 2)), dx / n, dy / n
    col, inv, eyes, er, (mx, my, mw, mh) = face_sprite(face['who'], face.get('skin', 'skin_light'),
                                                        int(face['height']), turn)
    paste(frame, (col, inv), fx0, fy0)
    pupil = blob(round(er * 1.1), round(er * 1.1), (35, 25, 20))
    for ex, ey in eyes:
        paste(frame, pupil, fx0 + ex + ux * er * 0.45 - er * 0.55, fy0 + ey + uy * er * 0.3 - er * 0.55)
    if face.get('mouth_open'):
        paste(frame, blob(int(mw), int(mh * 1.6), (110, 30, 40)), fx0 + mx - mw / 2, fy0 + my - mh * 0.5)
