"""scoring.py: every metric against an answer computed by hand."""
import math

import numpy as np
import pytest

import scoring as S

def test_wilson_interval():
    # p = 0.5, n = 100: centre (0.5 + z^2/200) / (1 + z^2/100) = 0.5; half 1.96 sqrt(0.0025 + z^2/40000) /
    # 1.038416
    lo, hi = S.wilson(0.5, 100)
    assert lo == pytest.approx(0.403832, abs=1e-5) and hi == pytest.approx(0.596168, abs=1e-5)
    # 0 of 10: the upper edge is z^2/10 / (1 + z^2/10) = 0.384160 / 1.384160 = 0.277540
    assert S.wilson(0.0, 10) == pytest.approx([0.0, 0.277540], abs=1e-5)
    assert S.wilson(0.3, 0) is None

def test_choice_credit_and_ties():
    assert S.credit([0.1, 0.9, 0.3], 1) == 1.0
    assert S.credit([0.1, 0.9, 0.3], 0) == 0.0
    assert S.credit([2, 2, 1, 0], 0) == 0.5           # a tie of two: the expectation of a coin flip
    assert S.credit([1, 1, 1, 1], 3) == 0.25          # a blind control sits at chance
    assert S.credit([np.nan] * 3, 0) == 0.0           # an unparsed answer
    assert S.credit([0, 1, 0], 0, near=[1]) == 1.0    # adjacent counts when asked
    summary = S.choice_accuracy([1.0, 0.5, 0.0, 0.0], [2, 2, 4, 4])
    assert summary['score'] == 0.375 and summary['chance'] == pytest.approx((0.5 + 0.5 + 0.25 + 0.25) / 4)
    assert summary['n'] == 4 and summary['interval'] == S.wilson(0.375, 4)

def test_winoground_scores():
    s = np.array([[[3, 1], [2, 4]],     # everything right
                  [[3, 1], [4, 2]],     # image 1 prefers the wrong text; text 0 prefers the wrong image
                  [[2, 2], [1, 3]]],    # a tie in image 0's texts: the text score fails, the image's holds
                 dtype=float)
    w = {k: v.tolist() for k, v in S.winoground(s).items()}
    assert w['text_score'] == [True, False, False]
    assert w['image_score'] == [True, False, True]
    assert w['group_score'] == [True, False, False]
    assert w['positive_context'] == [True, False, False]   # s00 > s01 and s00 > s10
    assert w['negative_context'] == [True, False, True]    # s11 > s10 and s11 > s01

def test_memory_scores_nih_base():
    # NIH's 30 rounds: a base of 10 learning rounds
    assert S.memory_scores([dict(old=r % 10) for r in range(30)], [1.0] * 30)[2:] == (10, 10)

def test_answer_parsing():
    assert S.parse_letter('The answer is (B).') == 'B'
    assert S.parse_letter('I think C') == 'C'
    assert S.parse_letter('Bob and Dad') is None                   # letters inside words do not count
    assert S.parse_letter('C, no, B') == 'C'                        # the first standalone letter, as in DevCV
    # ... so on a 2-way item "C, no, B" is a wrong answer (no option scores), not B
    assert np.isnan(S.letter_scores('C, no, B', 2)).all()
    assert S.letter_scores('(B)', 2).tolist() == [0.0, 1.0]
    assert np.isnan(S.letter_scores('none of them', 4)).all()
    assert S.parse_number('I see 3 balls') == 3
    assert S.parse_number('Three balls, or 4') == 3                 # the first number, digits or words
    assert S.parse_number('there are ten') == 10 and S.parse_number('12 cats') == 12
    assert S.parse_number('someone') is None and S.parse_number('none') is None
    ring = ('top', 'top right', 'right', 'bottom right', 'bottom', 'bottom left', 'left', 'top left')
    assert S.parse_direction('it leaves through the top left corner', ring) == 'top left'
    assert S.parse_direction('left, then top', ring) == 'left'
    assert S.parse_direction('Bottom Right.', ring) == 'bottom right'
    assert S.parse_direction('upward', ring) is None
    assert S.parse_direction('right or left', ['left', 'right']) == 'right'

def test_meteor_worked_example():
    # ref "look at the red ball", hyp "the red ball look": 4 matches, P = 4/4, R = 4/5
    # Fmean = P R / (0.9 P + 0.1 R) = 0.8 / 0.98 = 0.816327; chunks: "the red ball" + "look" = 2
    # penalty = 0.5 (2/4)^3 = 0.0625; METEOR = 0.816327 x 0.9375 = 0.765306
    hyp, ref = 'the red ball look'.split(), 'look at the red ball'.split()
    assert S.meteor(hyp, ref) == pytest.approx(0.8 / 0.98 * (1 - 0.5 * 0.5 ** 3), abs=1e-9)
    assert S.meteor(hyp, ref) == pytest.approx(0.765306, abs=1e-6)
    assert S.meteor(list('abcde'), list('abcde')) == pytest.approx(1 - 0.5 * 0.2 ** 3)  # one chunk of 5
    assert S.meteor(['dog'], ['cat']) == 0.0
    assert S.tokenize_caption("There's the ball! Don't") == ['there', "'s", 'the', 'ball', '!', 'do', "n't"]

def test_auroc_kl_and_bootstrap():
    assert S.auroc([3, 2], [1, 2]) == pytest.approx(3.5 / 4)        # ties count half
    kl, beta = S.fit_kl(np.array([[0.8, 0.2]]), np.array([[1.0, 0.0]]))
    # softmax(beta, 0) = (0.8, 0.2) at beta = ln 4
    assert beta == pytest.approx(math.log(4), rel=0.01) and kl < 1e-4
    kl, beta = S.fit_kl(np.array([[0.5, 0.5]]), np.array([[1.0, 0.0]]))
    p = math.exp(0.025) / (math.exp(0.025) + 1)
    assert beta == pytest.approx(0.025)
    assert kl == pytest.approx(0.5 * math.log(0.5 / p) + 0.5 * math.log(0.5 / (1 - p)))
    x = np.random.default_rng(0).random(50) > 0.5
    a, b = S.boot(lambda i: x[i].mean(), 50, 200, 1), S.boot(lambda i: x[i].mean(), 50, 200, 1)
    assert a == b and a[0] < x.mean() < a[1]

def test_frequency_bins_and_summaries():
    assert S.merged_bin('[1,2)') == S.merged_bin('[2, 4)') == '[1,4)' and S.merged_bin('[4,8)') == '[4,8)'
    # bins [1,4): 1 of 3; [4,8): 2 of 2; [0,1): 0 of 1 -> mean of bins (1/3 + 1 + 0) / 3
    ok = [True, False, False, True, True, False]
    bins = [S.merged_bin(b) for b in ['[1,2)', '[2,4)', '[2,4)', '[4,8)', '[4,8)', '[0,1)']]
    assert S.bin_mean(ok, bins) == pytest.approx((1 / 3 + 1 + 0) / 3)
    tasks = {'md_nouns': dict(score=0.4, kind='lexical'), 'md_a': dict(score=0.6, kind='grammatical'),
             'md_b': dict(score=0.8, kind='grammatical')}
    summary = S.mdb_summary(tasks)
    assert summary['grammatical'] == pytest.approx(0.7)
    assert summary['overall'] == pytest.approx((0.4 + 0.7) / 2)
    board = S.leaderboard({'baby_count': dict(score=0.4, metrics=dict(acc=0.4, kl=1.0))})
    assert board['results'] == {'baby_count': {'acc': 0.4}} and board['overall'] == pytest.approx(0.4 / 11)

def test_over_seeds_resamples_seeds_and_items():
    """Three seeds of one config: mean and sd of their scores by hand; the interval over seeds and items is
    wider than the one over items for a single seed (it holds the seeds' spread too), and a task without
    per-item credits falls back to the seeds alone."""
    g = np.random.default_rng(0)
    credits = [(g.random(200) < p).astype(float) for p in (0.5, 0.6, 0.7)]
    summaries = [dict(score=float(c.mean()), per_item=c.tolist()) for c in credits]
    over = S.over_seeds(summaries, reps=2000)
    means = [c.mean() for c in credits]
    assert over['mean'] == pytest.approx(np.mean(means))
    assert over['sd'] == pytest.approx(np.std(means, ddof=1))
    assert over['interval_over'] == 'seeds and items'
    assert over['interval'][0] < over['mean'] < over['interval'][1]
    one_seed = S.boot(lambda i: credits[1][i].mean(), 200, 2000)
    assert over['interval'][1] - over['interval'][0] > one_seed[1] - one_seed[0]
    seeds_only = S.over_seeds([dict(score=m) for m in means], reps=500)
    assert seeds_only['interval_over'] == 'seeds' and min(means) <= seeds_only['interval'][0]
    assert S.over_seeds([summaries[0]])['sd'] is None

def test_paired_difference_tells_a_difference_from_noise():
    """Two configs scored on the same 300 items: b is a's credits with 30 right answers turned wrong (a
    difference of +0.1); c is a with 2 turned (+0.0067). Paired, the first is beyond noise and the second
    is not, although the two configs' separate Wilson intervals overlap in both cases."""
    g = np.random.default_rng(1)
    a = (g.random((3, 300)) < 0.6).astype(float)
    right = np.flatnonzero(a.min(0) == 1)
    b, c = a.copy(), a.copy()
    b[:, right[:30]] = 0
    c[:, right[:2]] = 0
    big, small = S.paired_difference(a, b), S.paired_difference(a, c)
    assert big['difference'] == pytest.approx(0.1) and big['beyond_noise'] and big['p'] < 0.01
    assert small['difference'] == pytest.approx(2 / 300)
    assert not small['beyond_noise'] and small['p'] > 0.05
    assert S.paired_difference(a, a)['difference'] == 0 and not S.paired_difference(a, a)['beyond_noise']

def test_small_frequency_bins_merge_with_a_neighbour():
    bins = ['[1,4)'] * 10 + ['[4,8)'] + ['[8,16)'] * 6 + ['[16,32)'] * 2 + ['unknown'] * 3
    labels, merged = S.merge_small_bins(bins)
    assert merged == {'[4,8)': '[1,8)', '[1,4)': '[1,8)', '[16,32)': '[8,32)', '[8,16)': '[8,32)'}
    assert labels.count('[1,8)') == 11 and labels.count('[8,32)') == 8 and labels.count('unknown') == 3
    assert S.merge_small_bins(['[1,4)'] * 5 + ['[4,8)'] * 5) == (['[1,4)'] * 5 + ['[4,8)'] * 5, {})
    assert S.merge_small_bins(['[1,4)'] * 2)[0] == ['[1,4)'] * 2  # one bin: nothing to merge with

def test_meteor_is_nltks_where_wordnet_is_installed():
    """babylmms-eval's METEOR is nltk's, with Porter stems and WordNet synonyms: installed (README, "The
    Optional extras"), stems match ('running' for 'runs'), which the exact variant never does. Without it,
    the metric is named meteor_exact so the two are never compared by mistake."""
    try:
        from nltk.corpus import wordnet
        wordnet.synsets('dog')
    except Exception:
        assert S.meteor_fn()[0] == 'meteor_exact'
        pytest.skip('nltk and its WordNet data are not installed: the exact variant is in use')
    name, fn = S.meteor_fn()
    hyp, ref = ['the', 'dog', 'running'], ['the', 'dog', 'runs']
    assert name == 'meteor' and fn(hyp, ref) > S.meteor(hyp, ref)
