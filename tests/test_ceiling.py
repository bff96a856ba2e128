"""The supervised ceiling (ceiling.py): its labels say what the truth says a frame shows, its readouts read
what a text claims, and evaluate.py scores its checkpoint like a model's (test_evaluate.py runs it end to
end)."""
import numpy as np

import ceiling

VOCAB = dict(kinds=['ball', 'cup', 'door'], places=['kitchen', 'room'], colours=['blue', 'red'])

def thing(id_, category, color, box, z=0.0, y=100, flip=False, screen=False):
    return dict(id=id_, category=category, color=color, box=box, z=z, y=y, flip=flip, screen=screen)

def second(objects, visible, face=None):
    return dict(scene=dict(background='kitchen', objects=objects, camera=[0, 0], face=face), visible=visible)

def test_labels_are_what_the_crop_shows():
    """Only things half in view with their centre in prepare.py's centre crop count; the front-most thing
    (z, then y: world.render_frame's order) owns a cell; the face's target is the gazed thing's kind."""
    crop = ceiling.crop_box(320, 240)
    assert crop == (40.0, 0.0, 280.0, 240.0)
    objects = [thing('door1', 'door', 'blue', (40, 0, 280, 240), z=-2),         # the back wall, every cell
               thing('ball1', 'ball', 'red', (40, 120, 160, 240), y=240),       # bottom left quarter
               thing('ball2', 'ball', 'blue', (160, 120, 280, 240), y=240, flip=True),
               thing('cup1', 'cup', 'red', (0, 0, 30, 30)),                     # outside the crop
               thing('ball3', 'ball', 'red', (100, 10, 150, 60)),               # half hidden
               thing('screen1', 'door', 'red', (40, 0, 280, 240), screen=True)]
    visible = dict(door1=0.9, ball1=1.0, ball2=0.6, cup1=1.0, ball3=0.4, screen1=1.0)
    s = second(objects, visible, face=dict(gaze_id='ball2'))
    things = ceiling.things_in_crop(s, crop, lambda o, camera: o['box'])
    assert [o['id'] for o in things] == ['door1', 'ball1', 'ball2']
    labels = ceiling.second_labels(s, things, VOCAB)
    assert labels['present'].tolist() == [1, 0, 1, 1, 0]      # ball, no cup, door; in the kitchen
    assert labels['counts'].tolist() == [2, 0, 1]
    assert labels['gaze'] == 0                                 # the face looks at a ball
    grid = labels['cell_kind'].reshape(ceiling.GRID, ceiling.GRID)
    assert (grid[:2] == 2).all() and (grid[2:, :2] == 0).all() and (grid[2:, 2:] == 0).all()
    colour = labels['cell_colour'].reshape(ceiling.GRID, ceiling.GRID)
    assert (colour[2:, :2] == 1).all() and (colour[2:, 2:] == 0).all()   # red on the left, blue on the right
    assert labels['cell_flip'].reshape(ceiling.GRID, ceiling.GRID)[3].tolist() == [0, 0, 1, 1]
    no_face = ceiling.second_labels(second(objects, visible), things, VOCAB)
    looking_away = ceiling.second_labels(second(objects, visible, dict(gaze_id=None)), things, VOCAB)
    assert (no_face['gaze'], looking_away['gaze']) == (3, 4)

def test_claims_bind_colours_and_numbers_to_the_next_kind():
    assert ceiling.claims('two red balls', VOCAB) == [('kind', 0), ('colour', 0, 1), ('count', 0, 2)]
    assert ceiling.claims('the cup in the kitchen', VOCAB) == [('kind', 1), ('kind', 3)]
    assert ceiling.claims('Look, a dax!', VOCAB) == []
    assert ceiling.claims('red dax ball', VOCAB) == [('kind', 0), ('colour', 0, 1)]

def predictions(cells_kind, cells_colour, present, gaze):
    k, n = len(VOCAB['kinds']), ceiling.GRID * ceiling.GRID
    return dict(present=np.array(present, float), counts=np.full((k, ceiling.MAX_COUNT + 1), 1 / 8),
                gaze=np.array(gaze, float), cell_kind=np.tile(cells_kind, (n, 1)),
                cell_colour=np.tile(cells_colour, (n, 1)), cell_flip=np.full(n, 0.5))

def test_a_colour_is_read_from_the_cells_so_unseen_combinations_are_read_too():
    """A red cup is scored by the cells that hold a cup and are red, whatever colours cups had in training."""
    red_cup = predictions([0, 1, 0, 0], [0, 1], [0, 1, 0, 1, 0], [0, 0, 0, 1, 0])
    blue_cup = predictions([0, 1, 0, 0], [1, 0], [0, 1, 0, 1, 0], [0, 0, 0, 1, 0])
    said = ceiling.claims('red cup', VOCAB)
    assert ceiling.claim_score(said[1], red_cup) > ceiling.claim_score(said[1], blue_cup)
    # a face in view: a named kind is also what it looks at
    looks_at_cup = predictions([0, 1, 0, 0], [0, 1], [1, 1, 0, 1, 0], [0.1, 0.9, 0, 0, 0])
    looks_at_ball = predictions([0, 1, 0, 0], [0, 1], [1, 1, 0, 1, 0], [0.9, 0.1, 0, 0, 0])
    cup = ('kind', 1)
    assert ceiling.claim_score(cup, looks_at_cup) > ceiling.claim_score(cup, looks_at_ball)

def test_a_mirrored_picture_keeps_its_labels_true():
    """Training mirrors half the pictures: each cell's label moves to the mirrored column and a thing that
    faced one way faces the other; cells with no thing stay unlabelled."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 255, (2, 8, 8, 3)).astype(np.uint8)
    n = ceiling.GRID * ceiling.GRID
    labels = dict(cell_kind=np.arange(2 * n).reshape(2, n), cell_colour=np.arange(2 * n).reshape(2, n),
                  cell_flip=np.tile([0, 1, -1, 0], (2, n // 4)), present=np.ones((2, 5)))
    turned, turned_labels = ceiling.mirrored(images, labels)
    assert (turned[:, :, 0] == images[:, :, -1]).all()
    assert turned_labels['cell_kind'][0].reshape(4, 4)[0].tolist() == [3, 2, 1, 0]
    assert turned_labels['cell_flip'][0].reshape(4, 4)[0].tolist() == [1, -1, 0, 1]
    assert (turned_labels['present'] == labels['present']).all()
    again = ceiling.mirrored(*ceiling.mirrored(images, labels))
    assert (again[0] == images).all() and (again[1]['cell_flip'] == labels['cell_flip']).all()

def test_wrong_settings_and_another_renders_truth_are_refused(tmp_path):
    import pytest
    from configurator import configure
    with pytest.raises(SystemExit, match='width'):
        ceiling.main(configure(dict(vars(ceiling)), ['--width=12', f'--out_dir={tmp_path}'], quiet=True))
    meta = dict(recordings=[dict(id='A_1', split='train', frames=[0, 10])])
    truth = dict(recording='A_1', frames=12, view=[320, 240], seconds=[])
    with pytest.raises(SystemExit, match='A_1: the corpus holds 10 frames of it, its truth file 12'):
        ceiling.labelled_frames(meta, None, [truth], VOCAB, None)
