"""The supervised ceiling (ceiling.py): its labels say what the truth says a frame shows, its readouts read
what a text claims, and evaluate.py scores its checkpoint like a model's (test_evaluate.py runs it end to
end)."""
from types import SimpleNamespace

import numpy as np

import ceiling
import claims
import frame_labels  # data/nursery/, on the path once ceiling is imported

VOCAB = dict(kinds=['ball', 'cup', 'door'], places=['kitchen', 'room'], colours=['blue', 'red'])

def thing(id_, category, color, box, z=0.0, y=100, flip=False, screen=False):
    return dict(id=id_, category=category, color=color, box=box, z=z, y=y, flip=flip, screen=screen)

# boxes given in view pixels, as world.py's would be
GEOMETRY = SimpleNamespace(object_box=lambda o, camera: o['box'], face_box=lambda f, camera: f['box'],
                           occluder_box=lambda occ, camera: occ['box'])

def second(objects, visible, face=None):
    return dict(scene=dict(background='kitchen', objects=objects, camera=[0, 0], face=face), visible=visible)

def labels_of(s, window=frame_labels.FULL, mirror=False):
    crop = frame_labels.crop_box(320, 240)
    scene = frame_labels.frame_scene(s, crop, GEOMETRY, VOCAB)
    return frame_labels.view_labels(scene, VOCAB, window, mirror)

OBJECTS = [thing('door1', 'door', 'blue', (40, 0, 280, 240), z=-2),         # the back wall, every cell
           thing('ball1', 'ball', 'red', (40, 120, 160, 240), y=240),       # bottom left quarter
           thing('ball2', 'ball', 'blue', (160, 120, 280, 240), y=240, flip=True),
           thing('cup1', 'cup', 'red', (0, 0, 30, 30)),                     # outside the crop
           thing('ball3', 'ball', 'red', (100, 10, 150, 60)),               # half hidden
           thing('screen1', 'door', 'red', (40, 0, 280, 240), screen=True)]
VISIBLE = dict(door1=0.9, ball1=1.0, ball2=0.6, cup1=1.0, ball3=0.4, screen1=1.0)
FACE_BOX = (120, 100, 200, 240)
BALL2_CENTRE = (220, 180)                 # world point = view point (the camera at 0, 0)

def test_labels_are_what_the_crop_shows():
    """Only things half in view with their centre in prepare.py's centre crop count; the front-most thing
    (z, then y: world.render_frame's order) owns a cell; the face's target is the gazed thing's kind."""
    assert frame_labels.crop_box(320, 240) == (40.0, 0.0, 280.0, 240.0)
    labels = labels_of(second(OBJECTS, VISIBLE, face=dict(gaze=BALL2_CENTRE, box=FACE_BOX)))
    assert labels['present'].tolist() == [1, 0, 1, 1, 0]      # ball, no cup, door; in the kitchen
    assert frame_labels.counts_of(labels).tolist() == [2, 0, 1]
    assert labels['gaze'] == 6 * frame_labels.CENTRES + 6           # the face looks at the blue ball's centre
    grid = labels['cell_kind'].reshape(frame_labels.GRID, frame_labels.GRID)
    assert (grid[:2] == 2).all() and (grid[2:, :2] == 0).all() and (grid[2:, 2:] == 0).all()
    colour = labels['cell_colour'].reshape(frame_labels.GRID, frame_labels.GRID)
    assert (colour[2:, :2] == 1).all() and (colour[2:, 2:] == 0).all()   # red on the left, blue on the right
    assert labels['cell_flip'].reshape(frame_labels.GRID, frame_labels.GRID)[3].tolist() == [0, 0, 1, 1]
    centres = labels['centres'][0].reshape(frame_labels.CENTRES, frame_labels.CENTRES)
    assert np.argwhere(centres).tolist() == [[6, 2], [6, 6]]   # the two balls' centres
    no_face = labels_of(second(OBJECTS, VISIBLE))
    looking_away = labels_of(second(OBJECTS, VISIBLE, dict(gaze=None, box=FACE_BOX)))
    face_below = labels_of(second(OBJECTS, VISIBLE, dict(gaze=BALL2_CENTRE, box=(120, 225, 200, 360))))
    assert no_face['gaze'] == face_below['gaze'] == frame_labels.NO_FACE
    assert looking_away['gaze'] == frame_labels.LOOKS_AWAY

def test_a_view_of_a_frame_is_labelled_as_its_picture_shows():
    """Training looks at windows of frames, mirrored half the time: the picture and its labels move together.
    A thing the window cuts below half leaves the labels; a mirrored thing faces the other way."""
    import torch
    picture = np.zeros((1, 64, 64, 3), np.uint8)
    picture[0, 16:32, 8:24, 0] = 255                          # a red square over x 1/8-3/8, y 1/4-1/2
    window, mirror = (0.1, 0.2, 0.6), True
    seen = frame_labels.view_pictures(torch.from_numpy(picture), np.array([window]), np.array([mirror]),
                                 np.ones((1, 3)))[0, ..., 0].numpy()
    ys, xs = np.nonzero(seen > 128)
    box = frame_labels.in_window((1 / 8, 1 / 4, 3 / 8, 1 / 2), window, mirror)
    assert np.allclose([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], np.array(box) * 64, atol=1.3)
    s = second(OBJECTS, VISIBLE)
    left_half = labels_of(s, window=(0.0, 0.5, 0.5))          # the bottom left quarter, ball1's
    assert frame_labels.counts_of(left_half).tolist() == [1, 0, 0]  # the door's centre is outside it
    mirrored = labels_of(s, mirror=True)
    # the blue ball, turned, is now on the left and faces as the red one did; the red one the other way
    assert mirrored['cell_colour'].reshape(frame_labels.GRID, frame_labels.GRID)[3].tolist() == [0, 0, 1, 1]
    assert mirrored['cell_flip'].reshape(frame_labels.GRID, frame_labels.GRID)[3].tolist() == [0, 0, 1, 1]
    assert frame_labels.counts_of(mirrored).tolist() == [2, 0, 1]

def test_the_occluder_is_a_thing_of_its_own_kind_in_front_of_what_it_hides():
    """The screen things go behind is labelled (its kind, colour, cells and centre), drawn in front of the
    things and behind nothing else; the child's hands are not labelled."""
    vocab = dict(VOCAB, kinds=VOCAB['kinds'] + [frame_labels.SCREEN], colours=['blue', 'purple', 'red'])
    s = second(OBJECTS[:3], VISIBLE)
    s['scene']['occluder'] = dict(box=(40, 120, 160, 240), color='purple', z=1)
    assert frame_labels.vocabulary([dict(seconds=[s])])['kinds'] == ['ball', 'door', frame_labels.SCREEN]
    labels = frame_labels.view_labels(frame_labels.frame_scene(s, frame_labels.crop_box(320, 240), GEOMETRY,
                                                               vocab), vocab)
    grid = labels['cell_kind'].reshape(frame_labels.GRID, frame_labels.GRID)
    assert labels['present'][3] == 1 and grid[3].tolist() == [3, 3, 0, 0]    # over ball1, beside ball2
    assert grid[2, :2].tolist() == [3, 3] and labels['cell_colour'].reshape(4, 4)[3, 0] == 1
    assert frame_labels.counts_of(labels).tolist() == [2, 0, 1, 1]

def test_a_thing_smaller_than_a_cell_holds_the_cell_of_its_centre():
    """A thing that covers no cell's centre still gets its colour and facing learnt: in the cell its centre
    is in, unless a bigger thing in front covers that cell's centre."""
    small = thing('cup9', 'cup', 'blue', (60, 10, 75, 25), flip=True)       # 15 px: cell 0 of the crop
    labels = labels_of(second([small], dict(cup9=1.0)))
    assert labels['cell_kind'][0] == 1 and labels['cell_colour'][0] == 0 and labels['cell_flip'][0] == 1
    assert (labels['cell_kind'][1:] == len(VOCAB['kinds'])).all()

def test_a_pasted_thing_is_labelled_where_it_was_pasted_and_hides_what_it_covers():
    """Copy-paste: the donor's pixels land in the picture, the thing joins the labels there, front-most, and a
    thing it covers leaves them."""
    s = second(OBJECTS, VISIBLE)
    crop = frame_labels.crop_box(320, 240)
    scene = frame_labels.frame_scene(s, crop, GEOMETRY, VOCAB)
    donor = np.zeros((64, 64, 3), np.uint8)
    donor[8:40, 8:40] = (0, 0, 255)
    cup = np.array([1, 0, 0, 8 / 64, 8 / 64, 40 / 64, 40 / 64, 1.0], np.float32)   # a blue cup, 32 px
    picture = np.full((64, 64, 3), 128, np.uint8)
    rng = np.random.default_rng(3)

    def overlap(row, box):
        return frame_labels.overlap_share(scene['things'][row, 3:7], box)
    for _ in range(50):  # somewhere, at some size, until it covers ball1 (the bottom left quarter)
        pasted, with_cup = frame_labels.paste(picture, scene, donor, cup, rng)
        cup_box = with_cup['things'][-1, 3:7]
        if overlap(2, cup_box) > 0.5 and overlap(3, cup_box) == 0:  # over ball1, clear of ball2
            break
    else:
        raise AssertionError("no paste in 50 covered ball1")
    x0, y0, x1, y1 = (int(round(v * 64)) for v in cup_box)
    assert (pasted[y0 + 1:y1 - 1, x0 + 1:x1 - 1] == (0, 0, 255)).all() and (picture == 128).all()
    labels = frame_labels.view_labels(with_cup, VOCAB)
    assert labels['present'][1] == 1 and frame_labels.counts_of(labels).tolist() == [1, 1, 1]  # ball1 hidden
    centre = labels['centres'][1].reshape(frame_labels.CENTRES, frame_labels.CENTRES)
    cy, cx = (y0 + y1) / 2 / 64 * frame_labels.CENTRES, (x0 + x1) / 2 / 64 * frame_labels.CENTRES
    assert np.argwhere(centre).tolist() == [[int(cy), int(cx)]]

def test_a_count_is_the_sum_of_the_centres_map():
    """P(count = n) is that of a sum of independent cells; the last count holds that many or more."""
    dist = ceiling.count_distribution(np.array([[1.0, 1.0, 0.0], [0.5, 0.5, 0.0]]))
    assert np.allclose(dist[0, :3], [0, 0, 1]) and np.allclose(dist[1, :3], [0.25, 0.5, 0.25])
    crowd = ceiling.count_distribution(np.ones((1, ceiling.MAX_COUNT + 5)))
    assert np.allclose(crowd[0, -1], 1) and np.allclose(crowd.sum(1), 1)

def test_claims_bind_colours_and_numbers_to_the_next_kind():
    assert claims.claims('two red balls', VOCAB) == [('kind', 0), ('colour', 0, 1), ('count', 0, 2)]
    assert claims.claims('the cup in the kitchen', VOCAB) == [('kind', 1), ('kind', 3)]
    assert claims.claims('Look, a dax!', VOCAB) == []
    assert claims.claims('red dax ball', VOCAB) == [('kind', 0), ('colour', 0, 1)]

def test_claims_read_predicates_relations_and_negation():
    """A colour after "is" binds to the subject; a relation word binds the subject to the next kind; "not"
    negates what follows; "x fell" says x is not on what the text puts things on; places have no position."""
    assert claims.claims('the ball is not red', VOCAB) == [('kind', 0), ('not', ('colour', 0, 1))]
    assert claims.claims('the cup is on the ball', VOCAB) == [('kind', 1), ('kind', 0),
                                                               ('relation', 'on', 1, 0)]
    assert claims.claims('the ball is next to the door', VOCAB)[-1] == ('relation', 'beside', 0, 2)
    assert claims.claims('the cup is bigger than the ball', VOCAB)[-1] == ('relation', 'bigger', 1, 0)
    assert claims.claims('the ball fell and the cup is on the door', VOCAB)[-1] == \
        ('not', ('relation', 'on', 0, 2))
    assert claims.claims('a red cup and a blue ball', VOCAB) == [('kind', 1), ('colour', 1, 1),
                                                                  ('kind', 0), ('colour', 0, 0)]

def placed(where_kinds, areas):
    """Predictions with each kind's centre at one cell (x, y of the CENTRES grid) and covering a share of
    the cells."""
    p = predictions([0, 0, 0, 1], [1, 0], [1, 1, 1, 0, 0])
    p['centres'] = np.zeros_like(p['centres'])
    for i, (x, y) in enumerate(where_kinds):
        p['centres'][i, y * frame_labels.CENTRES + x] = 1
    p['cell_kind'] = np.tile(list(areas) + [1 - sum(areas)], (frame_labels.GRID ** 2, 1))
    return p

def test_relations_are_read_from_where_things_are():
    """A cup above a ball is on it and not under it; side by side is beside; the one covering more is
    bigger; "not" turns a likely relation unlikely."""
    stacked = placed([(3, 6), (3, 2), (7, 7)], [0.1, 0.3, 0.0])
    side = placed([(1, 4), (6, 4), (7, 7)], [0.3, 0.1, 0.0])
    on, beside = ('relation', 'on', 1, 0), ('relation', 'beside', 1, 0)
    assert claims.claim_score(on, stacked) > claims.claim_score(('relation', 'under', 1, 0), stacked)
    assert claims.claim_score(on, stacked) > claims.claim_score(on, side)
    assert claims.claim_score(beside, side) > claims.claim_score(beside, stacked)
    bigger = ('relation', 'bigger', 1, 0)
    assert claims.claim_score(bigger, stacked) > claims.claim_score(bigger, side)
    assert claims.claim_score(('not', on), side) > claims.claim_score(('not', on), stacked)

def predictions(cells_kind, cells_colour, present, looks=None):
    """One picture's predictions: every cell the same; the kinds' centres at cells 0, 1, 2; a face looking at
    each kind with the probabilities `looks` (None: no face)."""
    k, n = len(VOCAB['kinds']), frame_labels.GRID * frame_labels.GRID
    centres, gaze = np.zeros((k, frame_labels.CENTRES ** 2)), np.zeros(frame_labels.NO_FACE + 1)
    centres[range(k), range(k)] = 1
    if looks is None:
        gaze[frame_labels.NO_FACE] = 1
    else:
        gaze[:k] = looks
    return dict(present=np.array(present, float), centres=centres,
                counts=np.full((k, ceiling.MAX_COUNT + 1), 1 / (ceiling.MAX_COUNT + 1)),
                gaze=gaze, cell_kind=np.tile(cells_kind, (n, 1)),
                cell_colour=np.tile(cells_colour, (n, 1)), cell_flip=np.full(n, 0.1))

def test_a_colour_is_read_from_the_cells_so_unseen_combinations_are_read_too():
    """A red cup is scored by the cells that hold a cup and are red, whatever colours cups had in training."""
    red_cup = predictions([0, 1, 0, 0], [0, 1], [0, 1, 0, 1, 0])
    blue_cup = predictions([0, 1, 0, 0], [1, 0], [0, 1, 0, 1, 0])
    said = claims.claims('red cup', VOCAB)
    assert claims.claim_score(said[1], red_cup) > claims.claim_score(said[1], blue_cup)
    # a face in view: a named kind is also what it looks at
    looks_at_cup = predictions([0, 1, 0, 0], [0, 1], [1, 1, 0, 1, 0], [0.1, 0.9, 0])
    looks_at_ball = predictions([0, 1, 0, 0], [0, 1], [1, 1, 0, 1, 0], [0.9, 0.1, 0])
    cup = ('kind', 1)
    assert claims.claim_score(cup, looks_at_cup) > claims.claim_score(cup, looks_at_ball)

def clip_frame(ball_at=None, screen_at=None, colour=0):
    """One frame's predictions over the kinds ball, cup and screen: the ball seen at a CENTRES cell (x, y) in
    a colour, a screen owning the GRID cells of a column."""
    k, n = 3, frame_labels.GRID ** 2
    p = dict(present=np.zeros(k + 2), centres=np.zeros((k, frame_labels.CENTRES ** 2)),
             cell_kind=np.tile([0.0, 0, 0, 1], (n, 1)), cell_colour=np.full((n, 2), 0.5))
    if ball_at is not None:
        p['present'][0] = 1
        p['centres'][0, ball_at[1] * frame_labels.CENTRES + ball_at[0]] = 1
        cell = frame_labels.cell_at((ball_at[0] + 0.5) / 8, (ball_at[1] + 0.5) / 8, frame_labels.GRID)
        p['cell_kind'][cell] = [1, 0, 0, 0]
        p['cell_colour'][cell] = np.eye(2)[colour]
    if screen_at is not None:
        p['present'][2] = 1
        for row in range(frame_labels.GRID):
            p['cell_kind'][row * frame_labels.GRID + screen_at] = [0, 0, 1, 0]
    return p

def test_surprise_is_a_thing_gone_come_from_nowhere_or_changed():
    """A ball that goes behind a screen and is there when it lifts is no surprise; one gone when the screen
    lifts, one from nowhere and one in another colour are."""
    hide = [clip_frame((3, 5), 2), clip_frame(None, 2)]      # at the screen's edge, then behind it
    surprise = {name: ceiling.surprise_of(clip) for name, clip in dict(
        revealed=hide + [clip_frame((4, 5))] * 2, vanished=hide + [clip_frame(None)] * 2,
        from_nowhere=[clip_frame(None, 2), clip_frame(None), clip_frame((4, 5)), clip_frame((4, 5))],
        recoloured=hide + [clip_frame((4, 5), colour=1)] * 2).items()}
    # (the lifted screen's own colours count alike in all four)
    surprising = min(surprise['vanished'], surprise['from_nowhere'], surprise['recoloured'])
    assert surprising >= surprise['revealed'] + 1

def test_what_a_picture_is_like_holds_wherever_its_things_are():
    """ImageSim's vector: the same things in other cells are alike; a thing turned round, or another colour on
    it, is less alike; a face in view makes the picture about what it looks at."""
    here = predictions([0, 1, 0, 0], [0, 1], [0, 1, 0, 1, 0])
    there = dict(here, cell_kind=np.roll(here['cell_kind'], 5, 0))
    turned = dict(here, cell_flip=np.full(frame_labels.GRID ** 2, 0.9))
    recoloured = predictions([0, 1, 0, 0], [1, 0], [0, 1, 0, 1, 0])
    a, b = ceiling.attributes(here), ceiling.attributes(there)
    assert np.allclose(a, b)
    assert a @ ceiling.attributes(turned) < a @ b and a @ ceiling.attributes(recoloured) < a @ b
    looks_at_ball = predictions([0.5, 0.5, 0, 0], [0, 1], [1, 1, 0, 1, 0], [0.9, 0.1, 0])
    ball_alone = predictions([1, 0, 0, 0], [0, 1], [1, 0, 0, 1, 0])
    cup_alone = predictions([0, 1, 0, 0], [0, 1], [0, 1, 0, 1, 0])
    scene = ceiling.attributes(looks_at_ball)
    assert scene @ ceiling.attributes(ball_alone) > scene @ ceiling.attributes(cup_alone)

def test_wrong_settings_and_another_renders_truth_are_refused(tmp_path):
    import pytest
    from configurator import configure
    with pytest.raises(SystemExit, match='width'):
        ceiling.main(configure(dict(vars(ceiling)), ['--width=12', f'--out_dir={tmp_path}'], quiet=True))
    meta = dict(recordings=[dict(id='A_1', split='train', frames=[0, 10])])
    truth = dict(recording='A_1', frames=12, view=[320, 240], seconds=[])
    with pytest.raises(SystemExit, match='A_1: the corpus holds 10 frames of it, its truth file 12'):
        frame_labels.labelled_frames(meta, None, [truth], VOCAB, GEOMETRY)
