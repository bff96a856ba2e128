"""The skill-free baselines (baselines.py): each feature's known value on a picture made here, and each
baseline's known score on a small task whose answer it can or cannot read."""
import numpy as np
import pytest

import baselines as B
from kinds import KINDS
from kinds.count import Count
from kinds.readouts import ImageSim, Match

GREY = np.full((64, 64, 3), 128, np.uint8)

def with_squares(n, colour=(230, 40, 40), side=8):
    """The grey picture with n squares of `side` pixels along its top row, 4 pixels apart."""
    rgb = GREY.copy()
    for i in range(n):
        rgb[4:4 + side, 4 + i * (side + 4):4 + i * (side + 4) + side] = colour
    return rgb

def loader(pixels):
    return lambda key: pixels[key]

def test_features_have_known_values():
    halves = np.zeros((64, 64, 3), np.uint8)
    halves[:, 32:] = 255
    assert B.thumbnail(halves, 4).reshape(4, 4, 3)[:, :, 0].tolist() == [[0, 0, 1, 1]] * 4
    red = np.zeros((8, 8, 3), np.uint8)
    red[..., 0] = 255
    hist = B.colour_histogram(red)
    assert hist.sum() == 1 and hist[(3 * 4 + 0) * 4 + 0] == 1  # 255 // 64 = 3 in the red channel
    assert B.salient_area(GREY) == 0 and B.salient_area(with_squares(1, side=16)) == 16 * 16 / 64 ** 2
    assert B.motion_energy([GREY, GREY]) == 0
    assert B.motion_energy([np.zeros_like(GREY), np.full_like(GREY, 255)]) == 1.0
    assert B.peak_change([GREY, GREY, np.full_like(GREY, 255)]) == pytest.approx(127 / 255)  # the one change

def choice_task(items):
    return dict(kind='choice', file='test.json', key='test', items=items)

def score_of(name, task, pixels):
    kind = KINDS[task['kind']]
    return kind.score(task, B.answers(name, loader(pixels))(task, kind), 100, 0)['score']

def test_pixel_matchers_solve_a_reference_task_and_nothing_that_needs_words():
    """Left/right-like: the reference's pixel copy is one option. The thumbnails and the histogram find it;
    a word task (Labeled-S-like) is beyond them (not applicable), and salient area ties at chance there."""
    g = np.random.default_rng(0)
    pixels, items = {}, []
    for i in range(12):
        ref, other = (g.integers(0, 256, (64, 64, 3), dtype=np.uint8) for _ in range(2))
        pixels.update({(f"r{i}", None): ref, (f"c{i}", None): ref.copy(), (f"o{i}", None): other})
        copy, foil = ImageSim((f"r{i}", None), (f"c{i}", None)), ImageSim((f"r{i}", None), (f"o{i}", None))
        items.append(dict(id=str(i), gold=i % 2, options=[foil, copy] if i % 2 else [copy, foil]))
    task = choice_task(items)
    for name in ('thumbnail 4x4', 'thumbnail 8x8', 'colour histogram'):
        assert score_of(name, task, pixels) == 1.0, name
    words = choice_task([dict(id=str(i), gold=0, options=[Match((f"r{i}", None), 'ball'),
                                                          Match((f"r{i}", None), 'cup')]) for i in range(12)])
    with pytest.raises(B.NotApplicable):
        score_of('thumbnail 4x4', words, pixels)
    assert score_of('salient area', words, pixels) == 0.5  # one picture, two words: every item a tie

def test_salient_area_passes_who_has_more():
    pixels = {(f"p{n}", None): with_squares(n) for n in range(1, 5)}
    items = [dict(id=str(i), gold=int(a < b), options=[Count((f"p{a}", None), 'block'),
                                                       Count((f"p{b}", None), 'block')])
             for i, (a, b) in enumerate([(1, 3), (4, 2), (2, 3), (1, 4)])]
    assert score_of('salient area', choice_task(items), pixels) == 1.0

def test_answer_prior_is_the_commonest_gold():
    items = [dict(id=str(i), gold=2, options=[None] * 3) for i in range(9)]
    items.append(dict(id='odd', gold=0, options=[None] * 3))
    prior = B.prior_answers(choice_task(items))
    assert all(p.tolist() == [0, 0, 1] for p in prior.values()) and len(prior) == 10
    # a balanced suite: the earliest of the tied answers, right a third of the time
    items = [dict(id=str(i), gold=1 + i % 3, options=[None] * 11) for i in range(9)]
    counts = dict(kind='count', items=items)
    assert {int(p.argmax()) for p in B.prior_answers(counts).values()} == {1}
    with pytest.raises(B.NotApplicable):  # the right picture always first: the format's order
        B.prior_answers(choice_task([dict(id=str(i), gold=0, options=[None] * 2) for i in range(5)]))
    with pytest.raises(B.NotApplicable):
        B.prior_answers(dict(kind='voe', items=[dict(id='0', clips=[])]))

def test_motion_energy_is_surprised_by_a_jump():
    """Violation of expectation: the impossible clip's square jumps across the frame; the possible one's
    moves a pixel a frame. Motion energy picks the jump every time; the thumbnails cannot read clips."""
    pixels, items = {}, []
    for i in range(6):
        clips = []
        for version, steps in (('possible', [0, 1, 2, 3]), ('impossible', [0, 1, 30, 31])):
            keys = []
            for f, x in enumerate(steps):
                rgb = GREY.copy()
                rgb[20:36, 4 + x:20 + x] = (230, 40, 40)
                keys.append((f"{version}{i}_{f}", None))
                pixels[keys[-1]] = rgb
            clips.append(tuple(keys))
        items.append(dict(id=str(i), concept='all', clips=clips))
    task = dict(kind='voe', file='voe.json', key='voe', items=items)
    assert score_of('motion energy', task, pixels) == 1.0
    with pytest.raises(B.NotApplicable):
        score_of('thumbnail 8x8', task, pixels)

def test_judge_flags_a_score_a_baseline_reaches():
    summary = dict(score=0.6, interval=[0.5, 0.7], chance=0.25,
                   baselines={'thumbnail 4x4': dict(score=0.55, interval=[0.45, 0.65]),
                              'answer prior': dict(score=0.25, interval=[0.2, 0.3])},
                   controls={'image_blind': dict(score=0.3, interval=[0.2, 0.4])})
    verdict = B.judge(summary)
    assert verdict['best_baseline']['name'] == 'thumbnail 4x4'
    assert not verdict['evidence'] and verdict['leaky']
    summary['baselines']['thumbnail 4x4'] = dict(score=0.3, interval=[0.2, 0.4])
    verdict = B.judge(summary)
    assert verdict['evidence']
    assert verdict['best_baseline']['name'] in ('thumbnail 4x4', 'image_blind control')
    assert not verdict['leaky']
