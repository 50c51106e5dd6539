"""Sharing a sum of money out by weights, to the penny, the same way every time.

Budgets share a commissioner's pot among its practices by their historic spend, their weighted populations or a
blend of both. The weights are exact fractions (a weighted population is patients times a cost per head), and the
pot is whole pence, so the shares are found by largest remainder: each practice gets the whole pence of its exact
share, and the pence left over go one each to the largest fractional parts, ties to the first key in order. The
shares always add up to the pot, and nothing depends on float rounding or summation order.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from fractions import Fraction
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)


def allocate(total: int, weights: Mapping[Key, Fraction | int]) -> dict[Key, int]:
    """`total` pence shared in proportion to `weights` (non-negative); equal shares if every weight is 0."""
    if not weights:
        if total:
            raise ValueError(f"cannot share {total} pence among nobody")
        return {}
    if any(w < 0 for w in weights.values()):
        raise ValueError("weights must not be negative")
    keys = sorted(weights)  # type: ignore[type-var]
    exact = {k: Fraction(weights[k]) for k in keys}
    whole = sum(exact.values(), Fraction(0))
    if whole == 0:
        exact, whole = {k: Fraction(1) for k in keys}, Fraction(len(keys))
    size, sign = abs(total), (-1 if total < 0 else 1)
    shares = {k: exact[k] * size / whole for k in keys}
    floors = {k: shares[k].numerator // shares[k].denominator for k in keys}
    left = size - sum(floors.values())
    by_remainder = sorted(keys, key=lambda k: -(shares[k] - floors[k]))  # stable: ties keep key order
    for k in by_remainder[:left]:
        floors[k] += 1
    return {k: floors[k] * sign for k in keys}


def percent_of(pence: int, basis_points: int) -> int:
    """`basis_points` hundredths of a percent of `pence`, rounded half up (away from zero), exactly."""
    exact = Fraction(pence * basis_points, 10000)
    sign = -1 if exact < 0 else 1
    return sign * int(abs(exact) + Fraction(1, 2))
