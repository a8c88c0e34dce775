"""Pairing reported codes with key lines.

A key line may accept several codes (alternatives) and one code may satisfy more than
one key line, so pairing is a bipartite matching problem rather than a lookup: a greedy
pass could give a code to the first line that accepts it and leave a later code with
nothing, and the score would then depend on the order of secondary diagnoses. A maximum
matching (Kuhn's augmenting paths) does not, provided the caller presents the reported
codes in a canonical order (the engine sorts them by code).
"""

from __future__ import annotations

from collections.abc import Sequence


def maximum_matching(options: Sequence[Sequence[int]], right_count: int) -> list[int]:
    """Pair left items with right items; ``options[i]`` lists the right items left item
    ``i`` may take, in order of preference. Returns, per left item, its right item or -1.

    Sizes are a handful of lines, so the simple O(V*E) algorithm is the fast one.
    """
    owner = [-1] * right_count
    chosen = [-1] * len(options)
    for left, choices in enumerate(options):
        if not choices:
            continue
        for right in choices:
            if owner[right] < 0:
                owner[right] = left
                chosen[left] = right
                break
        else:
            _augment(left, options, owner, chosen, set())
    return chosen


def _augment(
    left: int,
    options: Sequence[Sequence[int]],
    owner: list[int],
    chosen: list[int],
    visited: set[int],
) -> bool:
    for right in options[left]:
        if right in visited:
            continue
        visited.add(right)
        holder = owner[right]
        if holder < 0 or _augment(holder, options, owner, chosen, visited):
            owner[right] = left
            chosen[left] = right
            return True
    return False


def common_prefix(first: str, second: str) -> int:
    """Number of leading characters two codes share (closest near miss first)."""
    count = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        count += 1
    return count
