"""Pure statistics for assessment reports: ranks, percentiles, reliability, items.

No Django here: the selectors load scores into plain lists and these functions do
the arithmetic, so every number on a report can be checked by hand (the tests do).

Conventions, chosen so the figures agree with the usual textbook formulas:

* variances are population variances (divide by N), as in the KR-20 formula, whose
  item variance is p x q; with them KR-20 and Cronbach's alpha coincide on 0/1 items;
* ``percentile`` interpolates between closest ranks (Hyndman and Fan type 7, the
  default of spreadsheets' PERCENTILE.INC and of numpy);
* ``percentile_rank`` is the mid-rank definition: the share of scores below, plus
  half the share equal, so a cohort's middle candidate sits at 50 and the ranks of a
  cohort average 50.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

Matrix = Sequence[Sequence[float]]


def mean(values: Sequence[float]) -> float:
    if not values:
        raise ValueError("the mean of no values is undefined")
    return sum(values) / len(values)


def population_variance(values: Sequence[float]) -> float:
    centre = mean(values)
    return sum((value - centre) ** 2 for value in values) / len(values)


def percentile(values: Sequence[float], share: float) -> float:
    """The value below which ``share`` (0..1) of the values fall, interpolated."""
    if not values:
        raise ValueError("the percentile of no values is undefined")
    if not 0.0 <= share <= 1.0:
        raise ValueError("share must be between 0 and 1")
    ordered = sorted(values)
    position = share * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def percentile_rank(values: Sequence[float], value: float) -> float:
    """Where ``value`` stands in the cohort ``values``, 0..100 (mid-rank)."""
    if not values:
        raise ValueError("a percentile rank needs a cohort")
    below = sum(1 for other in values if other < value)
    equal = sum(1 for other in values if other == value)
    return 100.0 * (below + 0.5 * equal) / len(values)


def competition_ranks(values: Sequence[float]) -> list[int]:
    """Rank 1 for the highest value; ties share a rank and the next rank skips
    ("1224" ranking), so a rank always says how many did strictly better."""
    return [1 + sum(1 for other in values if other > value) for value in values]


def _is_dichotomous(matrix: Matrix) -> bool:
    return all(cell in (0, 1) for row in matrix for cell in row)


def _check_matrix(matrix: Matrix) -> int:
    items = len(matrix[0]) if matrix else 0
    if any(len(row) != items for row in matrix):
        raise ValueError("every candidate needs a score for every item")
    return items


def cronbach_alpha(matrix: Matrix) -> float | None:
    """alpha = k/(k-1) x (1 - sum of item variances / variance of totals).

    Rows are candidates, columns items. None when it is undefined: fewer than two
    candidates or items, or totals that do not vary.
    """
    items = _check_matrix(matrix)
    if len(matrix) < 2 or items < 2:
        return None
    totals = [sum(row) for row in matrix]
    total_variance = population_variance(totals)
    if total_variance == 0:
        return None
    item_variances = sum(
        population_variance([row[column] for row in matrix]) for column in range(items)
    )
    return items / (items - 1) * (1 - item_variances / total_variance)


def kr20(matrix: Matrix) -> float | None:
    """Kuder-Richardson 20 for right/wrong items: k/(k-1) x (1 - sum p q / variance)."""
    if not _is_dichotomous(matrix):
        raise ValueError("KR-20 needs items scored 0 or 1")
    items = _check_matrix(matrix)
    if len(matrix) < 2 or items < 2:
        return None
    totals = [sum(row) for row in matrix]
    total_variance = population_variance(totals)
    if total_variance == 0:
        return None
    spread = 0.0
    for column in range(items):
        right = mean([row[column] for row in matrix])
        spread += right * (1 - right)
    return items / (items - 1) * (1 - spread / total_variance)


@dataclass(frozen=True)
class Reliability:
    """The coefficient and its name; ``sem`` is the standard error of measurement in
    the units of the totals (SD x sqrt(1 - r)), how far apart two candidates' totals
    must be before the test can tell them apart."""

    method: str
    value: float | None
    sem: float | None


def reliability(matrix: Matrix) -> Reliability:
    """KR-20 when every item is scored right/wrong, Cronbach's alpha otherwise."""
    if matrix and _is_dichotomous(matrix):
        method, value = "KR-20", kr20(matrix)
    else:
        method, value = "Cronbach's alpha", cronbach_alpha(matrix) if matrix else None
    sem = None
    if value is not None:
        spread = math.sqrt(population_variance([sum(row) for row in matrix]))
        sem = spread * math.sqrt(max(1.0 - value, 0.0))
    return Reliability(method=method, value=value, sem=sem)


def pearson(left: Sequence[float], right: Sequence[float]) -> float | None:
    """Pearson's r; None when either side does not vary."""
    if len(left) != len(right) or len(left) < 2:
        return None
    left_mean, right_mean = mean(left), mean(right)
    covariance = sum((a - left_mean) * (b - right_mean) for a, b in zip(left, right, strict=True))
    spread = math.sqrt(
        sum((a - left_mean) ** 2 for a in left) * sum((b - right_mean) ** 2 for b in right)
    )
    return covariance / spread if spread else None


@dataclass(frozen=True)
class ItemStatistic:
    """``facility``: the mean share of the item's points earned (0..1, higher is
    easier). ``item_rest``: correlation of the item with the total of the other items,
    the usual discrimination index (low or negative flags a suspect item or key)."""

    facility: float
    item_rest: float | None


def item_statistics(matrix: Matrix) -> list[ItemStatistic]:
    items = _check_matrix(matrix)
    if not matrix:
        return []
    stats = []
    for column in range(items):
        scores = [row[column] for row in matrix]
        rest = [sum(row) - row[column] for row in matrix]
        stats.append(ItemStatistic(facility=mean(scores), item_rest=pearson(scores, rest)))
    return stats


@dataclass(frozen=True)
class Band:
    """Scores from ``low`` (included) to ``high`` (excluded; the last band includes 100)."""

    low: int
    high: int
    count: int

    @property
    def label(self) -> str:
        return f"{self.low}-{self.high} %"


def score_distribution(percents: Sequence[float], width: int = 10) -> list[Band]:
    """Counts per band of ``width`` percentage points: [0, 10), [10, 20), ... and the
    last band closed at 100 so a perfect score has a band."""
    if width <= 0 or 100 % width:
        raise ValueError("the band width must divide 100")
    lows = list(range(0, 100, width))
    counts = [0] * len(lows)
    for value in percents:
        index = min(int(max(value, 0.0) // width), len(lows) - 1)
        counts[index] += 1
    return [
        Band(low=low, high=low + width, count=count)
        for low, count in zip(lows, counts, strict=True)
    ]
