"""The report's statistics against values computed by hand (arithmetic in comments).

Pure functions: no database is touched.
"""

from __future__ import annotations

import dataclasses

import pytest

from coding_course.assessments import stats

# Four candidates, three right/wrong items: a perfect Guttman pattern.
#   A: 1 1 1 -> 3      B: 1 1 0 -> 2      C: 1 0 0 -> 1      D: 0 0 0 -> 0
DICHOTOMOUS = [[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]]

# Three candidates, two items scored as shares of their points:
#   A: 1.0 0.5 -> 1.5      B: 0.5 0.5 -> 1.0      C: 0.0 0.0 -> 0.0
POLYTOMOUS = [[1.0, 0.5], [0.5, 0.5], [0.0, 0.0]]


def test_kr20_by_hand():
    # Totals 3, 2, 1, 0: mean 1.5, population variance (2.25+0.25+0.25+2.25)/4 = 1.25.
    # p per item: 3/4, 2/4, 1/4; p*q: 0.1875 + 0.25 + 0.1875 = 0.625.
    # KR-20 = 3/2 * (1 - 0.625/1.25) = 1.5 * 0.5 = 0.75.
    assert stats.kr20(DICHOTOMOUS) == pytest.approx(0.75)
    # On 0/1 items p*q is the item's population variance: alpha agrees.
    assert stats.cronbach_alpha(DICHOTOMOUS) == pytest.approx(0.75)


def test_cronbach_alpha_by_hand():
    # Item 1: 1, .5, 0 -> mean .5, variance (.25 + 0 + .25)/3 = 1/6.
    # Item 2: .5, .5, 0 -> mean 1/3, variance (1/36 + 1/36 + 4/36)/3 = 1/18.
    # Totals 1.5, 1, 0 -> mean 5/6, variance (16/36 + 1/36 + 25/36)/3 = 7/18.
    # alpha = 2/1 * (1 - (1/6 + 1/18)/(7/18)) = 2 * (1 - 4/7) = 6/7.
    assert stats.cronbach_alpha(POLYTOMOUS) == pytest.approx(6 / 7)


def test_reliability_picks_kr20_for_right_wrong_items_and_alpha_otherwise():
    kr = stats.reliability(DICHOTOMOUS)
    assert (kr.method, kr.value) == ("KR-20", pytest.approx(0.75))
    # SEM = SD * sqrt(1 - r) = sqrt(1.25) * sqrt(0.25) = 1.118034 * 0.5 = 0.559017.
    assert kr.sem == pytest.approx(0.559017, abs=1e-6)
    alpha = stats.reliability(POLYTOMOUS)
    assert (alpha.method, alpha.value) == ("Cronbach's alpha", pytest.approx(6 / 7))


@pytest.mark.parametrize(
    "matrix",
    [
        [[1, 0]],  # one candidate
        [[1], [0]],  # one item
        [[1, 0], [1, 0]],  # totals do not vary
        [],
    ],
)
def test_reliability_is_undefined_when_it_cannot_be_computed(matrix):
    assert stats.reliability(matrix).value is None


def test_kr20_refuses_partial_credit():
    with pytest.raises(ValueError, match="scored 0 or 1"):
        stats.kr20(POLYTOMOUS)


def test_ragged_matrices_are_refused():
    with pytest.raises(ValueError, match="every item"):
        stats.cronbach_alpha([[1, 0], [1]])


COHORT = [40.0, 55.0, 55.0, 70.0, 90.0]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (40.0, 10.0),  # 0 below, 1 equal: (0 + 0.5) / 5 = 10 %
        (55.0, 40.0),  # 1 below, 2 equal: (1 + 1.0) / 5 = 40 %
        (70.0, 70.0),  # 3 below, 1 equal: (3 + 0.5) / 5 = 70 %
        (90.0, 90.0),  # 4 below, 1 equal: (4 + 0.5) / 5 = 90 %
    ],
)
def test_percentile_rank_by_hand(value, expected):
    assert stats.percentile_rank(COHORT, value) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (0.0, 40.0),
        (0.25, 55.0),  # position 0.25 * 4 = 1 -> 55
        (0.5, 55.0),  # position 2 -> 55
        (0.75, 70.0),  # position 3 -> 70
        (0.9, 82.0),  # position 3.6 -> 70 + 0.6 * (90 - 70) = 82
        (1.0, 90.0),
    ],
)
def test_percentile_interpolates_between_ranks(share, expected):
    assert stats.percentile(COHORT, share) == pytest.approx(expected)


def test_competition_ranks_share_ties_and_skip():
    # 90 first; 70 second; the two 55s share third; 40 is fifth (four did better).
    assert stats.competition_ranks(COHORT) == [5, 3, 3, 2, 1]


def test_item_statistics_by_hand():
    first, second, third = stats.item_statistics(DICHOTOMOUS)
    # Facility = mean of the column: 3/4, 2/4, 1/4.
    assert [first.facility, second.facility, third.facility] == [0.75, 0.5, 0.25]
    # Item 1 scores 1,1,1,0 against the rest 2,1,0,0 (means .75 and .75):
    # covariance sum = .25*1.25 + .25*.25 + .25*-.75 + -.75*-.75 = 0.75;
    # squares: item 3*.0625 + .5625 = 0.75, rest 1.5625+.0625+.5625+.5625 = 2.75;
    # r = 0.75 / sqrt(0.75 * 2.75) = 0.522233.
    assert first.item_rest == pytest.approx(0.522233, abs=1e-6)


def test_item_rest_is_none_for_an_item_everyone_got_right():
    (statistic, _) = stats.item_statistics([[1, 1], [1, 0], [1, 1]])
    assert statistic.facility == 1.0
    assert statistic.item_rest is None


def test_score_distribution_bands():
    bands = stats.score_distribution([40.0, 55.0, 55.0, 70.0, 90.0, 100.0, 0.0, 9.99])
    counts = {band.label: band.count for band in bands}
    assert counts["0-10 %"] == 2  # 0 and 9.99
    assert counts["50-60 %"] == 2
    assert counts["90-100 %"] == 2  # 90 and a perfect 100 share the last band
    assert sum(counts.values()) == 8
    assert len(bands) == 10


def test_mean_and_percentile_refuse_an_empty_cohort():
    for function in (stats.mean, stats.population_variance):
        with pytest.raises(ValueError, match="undefined"):
            function([])
    with pytest.raises(ValueError, match="undefined"):
        stats.percentile([], 0.5)
    with pytest.raises(ValueError, match="cohort"):
        stats.percentile_rank([], 1.0)


def test_results_are_frozen_values():
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.reliability(DICHOTOMOUS).value = 1.0  # type: ignore[misc]
