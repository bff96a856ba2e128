"""
What the nursery's ground truth (raw/truth/) says a training frame shows, as the labels the supervised ceiling
(ceiling.py) learns, and the views of a frame it learns on: windows of it, mirrored, under other light, with
things of other frames pasted in, their labels moved with their pixels. A label is read where the truth's
boxes lie (world.object_box, face_box, occluder_box), in the units of prepare.py's centre crop. The occluding
screen is labelled as a thing of its own kind, SCREEN: where a thing went out of sight is what surprise reads.
"""
import glob
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

NEAR_SECOND = 0.11              # frames this close to a truth second (whose scene truth stores) are labelled
VISIBLE = 0.5                   # a thing is in view when half of it is (exposure.py's rule)
GRID = 4                        # cells a side of the map read for where each kind and colour is
CENTRES = 8                     # cells a side of the map of where things' centres are: what counting reads
LOOKS_AWAY = CENTRES ** 2       # the gaze classes past the cells: looking at no point of the picture,
NO_FACE = LOOKS_AWAY + 1        # and no face in view
PASTE = 0.5                     # the share of training pictures a thing of another is pasted into
GROUP = 6                       # the most copies of it pasted, as a group
GROUP_SCALES = (0.4, 1.0)       # a group's copies are smaller: the counting suites equate a picture's
                                # total area, so six things stand at 0.41x the size of one (their truth)
ZOOM = 1.5                      # training views are windows of a frame down to 1/ZOOM of its side
SCREEN = 'screen'               # the kind the occluder is labelled as

# ----------------------------------------------------------------------------- labels from the truth

def crop_box(view_w, view_h):
    """The part of the view prepare.py keeps: the centred square of the shorter side."""
    side = min(view_w, view_h)
    return (view_w - side) / 2, (view_h - side) / 2, (view_w + side) / 2, (view_h + side) / 2

def in_crop_units(box, crop):
    side = crop[2] - crop[0]
    return ((box[0] - crop[0]) / side, (box[1] - crop[1]) / side, (box[2] - crop[0]) / side,
            (box[3] - crop[1]) / side)

def frame_scene(second, crop, geometry, vocab):
    """What a truth second puts in prepare's crop, in the crop's units (0-1), for view_labels to read at any
    window of it: the place, the things (not the child's hands) at least half visible in the view and the
    occluder, front-most last (world.render_frame's drawing order), and the face's box and the point it looks
    at (None: at the child). geometry: where each lies in view (the world module: object_box, face_box,
    occluder_box)."""
    scene, drawn = second['scene'], []
    for i, o in enumerate(scene['objects']):
        if not o['screen'] and second['visible'].get(o['id'], 0.0) >= VISIBLE:
            drawn.append(((o['z'], o['y'], i), o['category'], o['color'], int(o['flip']),
                          geometry.object_box(o, scene['camera']), second['visible'][o['id']]))
    occ = scene.get('occluder')
    if occ:
        drawn.append(((occ.get('z', 1), 0, -1), SCREEN, occ['color'], 0,
                      geometry.occluder_box(occ, scene['camera']), 1.0))
    things = [(vocab['kinds'].index(kind), vocab['colours'].index(colour), flip, *in_crop_units(box, crop),
               visible) for _, kind, colour, flip, box, visible in sorted(drawn, key=lambda d: d[0])]
    face = scene['face']
    if face is not None:
        point = None
        if face.get('gaze') is not None:
            x, y = face['gaze'][0] - scene['camera'][0], face['gaze'][1] - scene['camera'][1]
            point = in_crop_units((x, y, x, y), crop)[:2]
        face = dict(box=in_crop_units(geometry.face_box(face, scene['camera']), crop), looks_at=point)
    return dict(place=vocab['places'].index(scene['background']), face=face,
                things=np.array(things, np.float32).reshape(-1, 8))

FULL = (0.0, 0.0, 1.0)          # a window (x0, y0, side) of the crop, in its units: the whole of it
WHOLE = (0.0, 0.0, 1.0, 1.0)    # the whole picture as a box, in its units

def in_window(box, window, mirror):
    """A box of the crop in the units of a window of it, left for right if mirror."""
    x0, y0, side = window
    b = [(box[0] - x0) / side, (box[1] - y0) / side, (box[2] - x0) / side, (box[3] - y0) / side]
    if mirror:
        b = [1 - b[2], b[1], 1 - b[0], b[3]]
    return b

def view_labels(scene, vocab, window=FULL, mirror=False):
    """The labels of one picture, the window of a frame_scene (mirrored if asked): the kinds and place in
    view; per cell of a GRID x GRID grid the kind of the front-most thing covering its centre, or holding its
    own centre in it when too small to cover one (else len(kinds): none), its colour and whether it faces
    left (-1 where no thing); per kind and cell of a CENTRES x CENTRES grid, whether a thing's centre lies in
    it (the counts' map); and the cell of that grid a face looks at (LOOKS_AWAY: at no point of the
    picture, NO_FACE: no face in view). A thing is in view when half of it is, with its centre inside
    (exposure.py's rule, and the suites' counting rule)."""
    k = len(vocab['kinds'])
    present = np.zeros(k + len(vocab['places']), np.float32)
    present[k + scene['place']] = 1
    cell_kind = np.full(GRID * GRID, k, np.int64)
    cell_colour, cell_flip = np.full(GRID * GRID, -1, np.int64), np.full(GRID * GRID, -1, np.int64)
    centres = np.zeros((k, CENTRES * CENTRES), np.float32)
    for kind, colour, flip, *box, visible in scene['things']:
        b = in_window(box, window, mirror)
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        if visible * overlap_share(b, WHOLE) < VISIBLE or not (0 <= cx < 1 and 0 <= cy < 1):
            continue
        kind, colour, flip = int(kind), int(colour), int(flip) ^ int(mirror)
        present[kind] = 1
        centres[kind, cell_at(cx, cy, CENTRES)] = 1
        for c in cells_in(b, GRID):  # front-most last: it wins the cells it covers
            cell_kind[c], cell_colour[c], cell_flip[c] = kind, colour, flip
    gaze = np.int64(NO_FACE)
    face = scene['face']
    if face is not None and face_in_view(in_window(face['box'], window, mirror)):
        gaze = np.int64(LOOKS_AWAY)
        if face['looks_at'] is not None:
            x, y = in_window(2 * tuple(face['looks_at']), window, mirror)[:2]
            if 0 <= x < 1 and 0 <= y < 1:
                gaze = np.int64(cell_at(x, y, CENTRES))
    return dict(present=present, gaze=gaze, cell_kind=cell_kind, cell_colour=cell_colour,
                cell_flip=cell_flip, centres=centres)

def cell_at(x, y, n):
    """The cell of an n x n grid, in reading order, that holds the point (x, y) of the picture (0-1)."""
    return int(y * n) * n + int(x * n)

def cells_covered(box, n):
    """The cells of an n x n grid whose centres lie in a box (x0, y0, x1, y1, in the picture's units)."""
    return [c for c in range(n * n)
            if box[0] <= (c % n + 0.5) / n < box[2] and box[1] <= (c // n + 0.5) / n < box[3]]

def cells_in(box, n):
    """The cells of an n x n grid whose centres lie in a box (fractions x0, y0, x1, y1); a box too small to
    hold one gets the cell its centre is in."""
    x, y = min(max((box[0] + box[2]) / 2, 0), 0.999), min(max((box[1] + box[3]) / 2, 0), 0.999)
    return cells_covered(box, n) or [cell_at(x, y, n)]

def face_in_view(box):
    """Whether a face's eyes can be read: half of its head (the box's upper half) in the picture."""
    return overlap_share([box[0], box[1], box[2], (box[1] + box[3]) / 2], WHOLE) >= 0.5

def counts_of(labels):
    """How many things of each kind a picture's labels hold (their centres)."""
    return labels['centres'].sum(1).astype(int)

def vocabulary(truths):
    """The label space, from the truth itself: the kinds, places and colours of things ever in view (the
    occluder a kind, SCREEN, of its own)."""
    kinds, places, colours = set(), set(), set()
    for truth in truths:
        for s in truth['seconds']:
            places.add(s['scene']['background'])
            for o in s['scene']['objects']:
                if not o['screen']:
                    kinds.add(o['category'])
                    colours.add(o['color'])
            if s['scene'].get('occluder'):
                kinds.add(SCREEN)
                colours.add(s['scene']['occluder']['color'])
    return dict(kinds=sorted(kinds), places=sorted(places), colours=sorted(colours))

def labelled_frames(meta, frame_index, truths, vocab, geometry):
    """(frame rows, [frame_scene]) of the training split's frames that sit within NEAR_SECOND of a truth
    second of their recording."""
    by_id = {t['recording']: t for t in truths}
    rows, scenes = [], []
    for rec in meta['recordings']:
        if rec['split'] != 'train' or rec['id'] not in by_id:
            continue
        truth = by_id[rec['id']]
        crop = crop_box(*truth['view'])
        first, last = rec['frames']
        if last - first != truth['frames']:  # another render's truth would label the frames wrongly
            raise SystemExit(f"{rec['id']}: the corpus holds {last - first} frames of it, its truth file "
                             f"{truth['frames']}: truth_dir is not the render that was prepared")
        times = np.asarray(frame_index['t'][first:last], float)  # one read of the recording's times
        for row, t in zip(range(first, last), times):
            s = int(round(t))
            if abs(t - s) > NEAR_SECOND or s >= len(truth['seconds']):
                continue
            rows.append(row)
            scenes.append(frame_scene(truth['seconds'][s], crop, geometry, vocab))
    if not rows:
        raise SystemExit("no training frame of the corpus has a truth second: is truth_dir the render that "
                         "was prepared?")
    return np.array(rows), scenes

def read_truths(folder):
    paths = sorted(glob.glob(os.path.join(folder, '*.json')))
    if not paths:
        raise SystemExit(f"truth_dir: {folder} holds no truth files (data/nursery/make.py writes them)")
    truths = []
    for path in paths:
        with open(path, encoding='utf-8') as f:
            truths.append(json.load(f))
    return truths

# ----------------------------------------------------------------------------- views of a frame

def random_views(rng, n):
    """n training views: a window (x0, y0, side) of a frame, down to 1/ZOOM of its side, anywhere in it, left
    for right half the time (the recordings' things face and move either way, the suites' too), under a
    camera gain of 0.8-1.2 and up to 8% more or less in each channel (stimuli.another_light's drift)."""
    side = rng.uniform(1 / ZOOM, 1, n)
    windows = np.stack([rng.uniform(0, 1 - side), rng.uniform(0, 1 - side), side], 1)
    gains = rng.uniform(0.8, 1.2, (n, 1)) * rng.uniform(0.92, 1.08, (n, 3))
    return windows, rng.random(n) < 0.5, gains

def view_pictures(images, windows, mirrors, gains):
    """The views of a batch of uint8 pictures (B, H, W, 3), as float pictures of the same size (0-255)."""
    x0, y0, side = (torch.tensor(windows[:, j], dtype=torch.float32) for j in range(3))
    sign = 1 - 2 * torch.tensor(mirrors, dtype=torch.float32)
    zero = torch.zeros_like(side)
    theta = torch.stack([torch.stack([sign * side, zero, 2 * x0 + side - 1], 1),
                         torch.stack([zero, side, 2 * y0 + side - 1], 1)], 1)
    pictures = images.permute(0, 3, 1, 2).float()
    grid = F.affine_grid(theta, list(pictures.shape), align_corners=False)
    pictures = F.grid_sample(pictures, grid, mode='bilinear', padding_mode='border', align_corners=False)
    pictures = pictures * torch.tensor(gains, dtype=torch.float32)[:, :, None, None]
    return pictures.clamp(0, 255).permute(0, 2, 3, 1)

def paste(image, scene, source, thing, rng, scales=(0.7, 1.4)):
    """The picture with a thing's box cut from another frame pasted in at another place and size (scales),
    and its scene with that thing in front and what the patch covers hidden by as much: things leave the
    places the recordings always show them in (copy-paste augmentation, Ghiasi et al. 2021)."""
    size = len(image)
    x0, y0, x1, y1 = (int(round(v * size)) for v in thing[3:7])
    scale = rng.uniform(*scales)
    w, h = max(2, round((x1 - x0) * scale)), max(2, round((y1 - y0) * scale))
    if w >= size or h >= size:
        return image, scene
    patch = torch.from_numpy(np.ascontiguousarray(source[y0:y1, x0:x1])).permute(2, 0, 1)[None].float()
    patch = F.interpolate(patch, size=(h, w), mode='bilinear', antialias=True, align_corners=False)
    px, py = int(rng.integers(0, size - w + 1)), int(rng.integers(0, size - h + 1))
    image = image.copy()
    image[py:py + h, px:px + w] = patch[0].permute(1, 2, 0).round().clamp(0, 255).byte().numpy()
    box = (px / size, py / size, (px + w) / size, (py + h) / size)
    things = scene['things'].copy()
    for row in things:
        row[7] *= 1 - overlap_share(row[3:7], box)
    pasted = np.array([[*thing[:3], *box, 1.0]], np.float32)
    return image, dict(scene, things=np.concatenate([things, pasted]))

def overlap_share(box, cover):
    """The share of a box that another covers."""
    inside = max(0.0, min(box[2], cover[2]) - max(box[0], cover[0])) * \
        max(0.0, min(box[3], cover[3]) - max(box[1], cover[1]))
    return inside / max(1e-9, (box[2] - box[0]) * (box[3] - box[1]))

def paste_some(images, scenes, rng):
    """A batch of frames (a copy) and their scenes with, in PASTE of them, a thing of another frame of the
    batch pasted in (one wholly in its frame and at least 0.9 visible, so that its box holds all of it): once
    half the time, else 2 to GROUP smaller copies of it, a group to count (in 15% of the labelled frames 3-7
    things of a kind stand together, always the same sets in the same places; the counting suites draw any
    1-6)."""
    images, scenes = images.copy(), list(scenes)
    for j in np.nonzero(rng.random(len(images)) < PASTE)[0]:
        donor = int(rng.integers(len(images)))
        things = scenes[donor]['things']
        whole = [t for t in things if t[7] >= 0.9 and 0 <= min(t[3:7]) <= max(t[3:7]) <= 1]
        if not whole:
            continue
        thing = whole[int(rng.integers(len(whole)))]
        copies, scales = 1, (0.7, 1.4)
        if rng.random() < 0.5:
            copies, scales = int(rng.integers(2, GROUP + 1)), GROUP_SCALES
        for _ in range(copies):
            images[j], scenes[j] = paste(images[j], scenes[j], images[donor], thing, rng, scales)
    return images, scenes
