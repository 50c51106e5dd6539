"""Vectorised sampling helpers for the activity generator: no per-row Python loops, so London fits in minutes.

Rates are calibrated rather than hoped for: a generator makes a modest surplus of events with the right shape
(age gradient, practice variation, season), and `thin_to` keeps exactly the number a target rate implies in each
financial year (and age band), choosing at random which to keep so the shape survives.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from pbc.calendar import financial_year_bounds
from pbc.synth.population import Population, age_on, day_number

BROAD_BANDS = ((0, 4), (5, 14), (15, 44), (45, 64), (65, 74), (75, 200))
BROAD_LABELS = ("0-4", "5-14", "15-44", "45-64", "65-74", "75+")
_BAND_EDGES = np.array([lo for lo, _ in BROAD_BANDS[1:]])


def broad_band(age: np.ndarray) -> np.ndarray:
    """Index of the broad age band used for targets (0-4, 5-14, 15-44, 45-64, 65-74, 75+)."""
    return np.searchsorted(_BAND_EDGES, age, side="right")


def pick(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """For each row of a weight matrix, a column chosen with probability proportional to its weight."""
    cumulative = np.cumsum(weights, axis=1)
    total = cumulative[:, -1:]
    if np.any(total <= 0):
        raise ValueError("a row of sampling weights is all zero")
    draw = rng.random((len(weights), 1)) * total
    return np.minimum((cumulative <= draw).sum(axis=1), weights.shape[1] - 1)


def seasonal_weight(days: np.ndarray, amplitude: float) -> np.ndarray:
    """A winter peak: 1 + amplitude x cos(distance from mid-January), so Dec-Feb run above Jun-Aug."""
    day_of_year = (days - day_number(dt.date(2000, 1, 15))) % 365.25
    return 1 + amplitude * np.cos(2 * np.pi * day_of_year / 365.25)


def draw_days(rng: np.random.Generator, start: np.ndarray, end: np.ndarray, amplitude: float = 0.0) -> np.ndarray:
    """A day in each window [start, end), uniformly or with a winter peak (by rejection, a few rounds)."""
    days = start + np.floor(rng.random(len(start)) * (end - start)).astype(np.int64)
    if amplitude <= 0:
        return days
    pending = np.flatnonzero(rng.random(len(days)) * (1 + amplitude) > seasonal_weight(days, amplitude))
    while len(pending):
        days[pending] = start[pending] + np.floor(rng.random(len(pending)) * (end - start)[pending]).astype(np.int64)
        accept = rng.random(len(pending)) * (1 + amplitude) <= seasonal_weight(days[pending], amplitude)
        pending = pending[~accept]
    return days


def financial_year_index(days: np.ndarray, years: tuple[str, ...]) -> np.ndarray:
    """Which of the financial years each day falls in, or -1 outside them."""
    starts = np.array(
        [day_number(financial_year_bounds(y)[0]) for y in years] + [day_number(financial_year_bounds(years[-1])[1]) + 1]
    )
    index = np.searchsorted(starts, days, side="right") - 1
    return np.where((index >= 0) & (index < len(years)), index, -1)


def person_years(pop: Population, years: tuple[str, ...], by_band: bool) -> np.ndarray:
    """Registered person-years in each financial year (by broad age band at mid-year if asked)."""
    out = np.zeros((len(years), len(BROAD_BANDS) if by_band else 1))
    for i, year in enumerate(years):
        first, last = financial_year_bounds(year)
        lo, hi = day_number(first), day_number(last) + 1
        overlap = np.clip(np.minimum(pop.reg_end, hi) - np.maximum(pop.reg_start, lo), 0, None) / 365.25
        if by_band:
            band = broad_band(age_on(pop.dob[pop.reg_patient], (lo + hi) // 2))
            out[i] = np.bincount(band, weights=overlap, minlength=len(BROAD_BANDS))
        else:
            out[i, 0] = overlap.sum()
    return out


def thin_to(
    rng: np.random.Generator, group: np.ndarray, targets: np.ndarray, eligible: np.ndarray | None = None
) -> np.ndarray:
    """A keep-mask holding, for each group g, `targets[g]` of its eligible rows chosen at random (all if fewer).

    Rows in group -1, or not eligible, are dropped. Used to calibrate each year's (and band's) count exactly.
    """
    eligible = np.ones(len(group), dtype=bool) if eligible is None else eligible
    keep = np.zeros(len(group), dtype=bool)
    order = rng.permutation(len(group))
    candidates = order[(group[order] >= 0) & eligible[order]]
    ranked = candidates[np.argsort(group[candidates], kind="stable")]
    sorted_groups = group[ranked]
    starts = np.searchsorted(sorted_groups, np.arange(len(targets)))
    ends = np.searchsorted(sorted_groups, np.arange(len(targets)), side="right")
    rank = np.arange(len(ranked)) - np.repeat(starts, ends - starts)
    keep[ranked[rank < np.repeat(np.asarray(targets, dtype=np.int64), ends - starts)]] = True
    return keep


def normalised(factor: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Scale a multiplier so its weighted mean is 1 (calibration keeps totals on target)."""
    return factor / (np.sum(factor * weight) / np.sum(weight))
