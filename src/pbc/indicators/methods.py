"""Public-health statistical methods as OHID (formerly PHE) publishes indicators with them.

Commissioners compare practice and area figures with those on Fingertips, so every method here follows
the definitions of the R package PHEindicatormethods and the PHE "Technical Guide: Confidence intervals"
and funnel plot guidance exactly, rather than a textbook variant that would give slightly different
limits. Scalar functions return ``CI`` tuples of plain floats; ``poisson_limits`` and ``wilson_limits``
are vectorised for bulk work. Confidence levels are fractions (0.95, 0.998), never percentages.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import special, stats

from pbc.indicators.esp2013 import ESP2013

__all__ = [
    "CI", "DSR_NOT_APPLICABLE", "HIGH_0001", "HIGH_0025", "LOW_0001", "LOW_0025", "NOT_SIGNIFICANT",
    "SMALL_COUNT", "FunnelLimits", "byar_ci", "crude_rate", "dsr", "exact_poisson_ci", "funnel_limits",
    "funnel_significance", "isr", "isr_rate", "poisson_limits", "wilson_ci", "wilson_limits"
]  # fmt: skip

SMALL_COUNT = 10
"""PHE uses exact Poisson limits below this count and Byar's from it, and suppresses DSRs below it."""

LOW_0001 = "Low (0.001)"
LOW_0025 = "Low (0.025)"
NOT_SIGNIFICANT = "Not significant"
HIGH_0025 = "High (0.025)"
HIGH_0001 = "High (0.001)"
DSR_NOT_APPLICABLE = "Not applicable for events less than 10 for dsrs"

FloatArray = npt.NDArray[np.float64]
FunnelKind = Literal["proportion", "ratio", "rate"]


class CI(NamedTuple):
    """A point estimate with its lower and upper confidence limits, as plain floats."""

    value: float
    lower: float
    upper: float


# --- validation -------------------------------------------------------------------------------------


def _check_confidence(confidence: float) -> float:
    """Reject levels outside (0, 1); a percentage such as 95 is a common slip that must not pass."""
    if not isinstance(confidence, numbers.Real) or not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be a fraction strictly between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return float(confidence)


def _check_count(x: float, name: str = "count") -> float:
    """Reject negative or non-finite counts; non-integers pass, as PHE's own funnel test data use them."""
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {x!r}")
    return float(x)


def _check_positive(x: float, name: str) -> float:
    """Denominators and multipliers must be finite and strictly positive."""
    if not math.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {x!r}")
    return float(x)


def _array(values: float | Sequence[float] | FloatArray, name: str, *, positive: bool = False) -> FloatArray:
    """Convert to a 1-D float array, rejecting NaN, infinities and negative (or zero) entries."""
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty one-dimensional sequence of numbers")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must not contain NaN or infinite values")
    if positive and np.any(arr <= 0):
        raise ValueError(f"{name} must all be > 0")
    if np.any(arr < 0):
        raise ValueError(f"{name} must all be >= 0")
    return arr


def _same_length(**arrays: FloatArray) -> None:
    """Standardisation pairs entries by position, so silently truncating would mismatch age bands."""
    lengths = {name: arr.size for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"sequences must have equal lengths, got {lengths}")


def _z(confidence: float) -> float:
    """Two-sided normal quantile, so 0.998 gets its own z rather than a hard-coded 1.96."""
    return float(special.ndtri((1.0 + confidence) / 2.0))


# --- Poisson and binomial limits --------------------------------------------------------------------


def _exact_limits(x: FloatArray, confidence: float) -> tuple[FloatArray, FloatArray]:
    """Exact Poisson limits from the chi-square relationship; the lower limit of a zero count is 0."""
    alpha = 1.0 - confidence
    lower = np.zeros_like(x)
    pos = x > 0
    lower[pos] = stats.chi2.ppf(alpha / 2.0, 2.0 * x[pos]) / 2.0
    upper = stats.chi2.ppf(1.0 - alpha / 2.0, 2.0 * x + 2.0) / 2.0
    return lower, np.asarray(upper, dtype=np.float64)


def _byar_limits(x: FloatArray, confidence: float) -> tuple[FloatArray, FloatArray]:
    """Byar's approximation; a zero count, or a negative cube for tiny counts, gives a lower limit of 0."""
    z = _z(confidence)
    lower = np.zeros_like(x)
    pos = x > 0
    xp = x[pos]
    lower[pos] = np.maximum(xp * (1.0 - 1.0 / (9.0 * xp) - z / (3.0 * np.sqrt(xp))) ** 3, 0.0)
    x1 = x + 1.0
    upper = x1 * (1.0 - 1.0 / (9.0 * x1) + z / (3.0 * np.sqrt(x1))) ** 3
    return lower, upper


def poisson_limits(x: float | Sequence[float] | FloatArray, confidence: float = 0.95) -> tuple[FloatArray, FloatArray]:
    """Vectorised Poisson limits of counts by the PHE rule: exact below ``SMALL_COUNT``, Byar's from it."""
    confidence = _check_confidence(confidence)
    arr = _array(x, "counts")
    ex_lo, ex_hi = _exact_limits(arr, confidence)
    by_lo, by_hi = _byar_limits(arr, confidence)
    small = arr < SMALL_COUNT
    return np.where(small, ex_lo, by_lo), np.where(small, ex_hi, by_hi)


def wilson_limits(
    x: float | Sequence[float] | FloatArray,
    n: float | Sequence[float] | FloatArray,
    confidence: float = 0.95,
) -> tuple[FloatArray, FloatArray]:
    """Vectorised Wilson score limits of proportions x/n, exactly 0 at x = 0 and exactly 1 at x = n."""
    confidence = _check_confidence(confidence)
    xa, na = _array(x, "numerators"), _array(n, "denominators", positive=True)
    xa, na = np.broadcast_arrays(xa, na)
    if np.any(xa > na):
        raise ValueError("numerators must be <= denominators for a proportion")
    z = _z(confidence)
    z2 = z * z
    root = z * np.sqrt(z2 + 4.0 * xa * (1.0 - xa / na))
    lower = (2.0 * xa + z2 - root) / (2.0 * (na + z2))
    upper = (2.0 * xa + z2 + root) / (2.0 * (na + z2))
    return np.where(xa == 0, 0.0, lower), np.where(xa == na, 1.0, upper)


def wilson_ci(x: float, n: float, confidence: float = 0.95) -> CI:
    """Proportion x/n with the Wilson score interval, PHE's method for proportions (Newcombe & Altman)."""
    if n == 0:
        raise ValueError("n must be > 0: a proportion of an empty denominator is undefined")
    _check_count(x, "x")
    _check_positive(n, "n")
    lower, upper = wilson_limits(x, n, confidence)
    return CI(float(x) / float(n), float(lower[0]), float(upper[0]))


def exact_poisson_ci(x: float, confidence: float = 0.95) -> CI:
    """Count x with exact limits chi2.ppf(a/2, 2x)/2 and chi2.ppf(1-a/2, 2x+2)/2 (Armitage & Berry)."""
    x = _check_count(x)
    lower, upper = _exact_limits(np.array([x]), _check_confidence(confidence))
    return CI(x, float(lower[0]), float(upper[0]))


def byar_ci(x: float, confidence: float = 0.95) -> CI:
    """Count x with Byar's approximate Poisson limits (Breslow & Day), PHE's method for counts >= 10."""
    x = _check_count(x)
    lower, upper = _byar_limits(np.array([x]), _check_confidence(confidence))
    return CI(x, float(lower[0]), float(upper[0]))


# --- rates and standardisation ----------------------------------------------------------------------


def crude_rate(x: float, n: float, confidence: float = 0.95, multiplier: float = 100_000) -> CI:
    """Rate x/n per ``multiplier`` with PHE's Poisson limits (exact below 10 events, Byar's from 10)."""
    x = _check_count(x, "x")
    n = _check_positive(n, "n (denominator)")
    scale = _check_positive(multiplier, "multiplier") / n
    lower, upper = poisson_limits(x, confidence)
    return CI(x * scale, float(lower[0]) * scale, float(upper[0]) * scale)


def dsr(
    counts: Sequence[float],
    populations: Sequence[float],
    standard: Sequence[float] | None = None,
    confidence: float = 0.95,
    multiplier: float = 100_000,
) -> CI:
    """Directly standardised rate with Dobson limits, as ``phe_dsr``/``calculate_dsr`` compute it.

    DSR = sum(w_i x_i / n_i) / sum(w_i) * multiplier and var = sum(w_i^2 x_i / n_i^2) / sum(w_i)^2;
    limits are DSR + sqrt(var / O) * (L(O) - O) * multiplier, with L the Byar's limit of the total
    count O. PHE does not publish DSRs from fewer than 10 events, so the value and both limits are NaN
    when O < 10. Zero counts in single bands are fine; every population must be > 0.
    """
    confidence = _check_confidence(confidence)
    multiplier = _check_positive(multiplier, "multiplier")
    x = _array(counts, "counts")
    n = _array(populations, "populations", positive=True)
    w = _array(ESP2013 if standard is None else standard, "standard")
    _same_length(counts=x, populations=n, standard=w)
    if w.sum() <= 0:
        raise ValueError("standard must have a positive total")
    total = float(x.sum())
    if total < SMALL_COUNT:
        return CI(math.nan, math.nan, math.nan)
    value = float(np.sum(w * x / n) / w.sum())
    var = float(np.sum(x * (w / n) ** 2) / w.sum() ** 2)
    lo, hi = _byar_limits(np.array([total]), confidence)
    spread = math.sqrt(var / total)
    lower = value + spread * (float(lo[0]) - total)
    upper = value + spread * (float(hi[0]) - total)
    return CI(value * multiplier, lower * multiplier, upper * multiplier)


def _observed_expected(
    counts: float | Sequence[float],
    populations: Sequence[float],
    ref_counts: Sequence[float],
    ref_populations: Sequence[float],
) -> tuple[float, float, float]:
    """Observed total, expected count sum(n_i X_i / N_i) and reference crude rate sum(X) / sum(N)."""
    n = _array(populations, "populations")
    ref_x = _array(ref_counts, "ref_counts")
    ref_n = _array(ref_populations, "ref_populations", positive=True)
    _same_length(populations=n, ref_counts=ref_x, ref_populations=ref_n)
    if isinstance(counts, numbers.Real):
        observed = _check_count(counts, "counts")
    else:
        x = _array(counts, "counts")
        _same_length(counts=x, populations=n)
        observed = float(x.sum())
    expected = float(np.sum(n * ref_x / ref_n))
    if expected <= 0:
        raise ValueError("expected count is zero (no population or no reference events): ratio undefined")
    return observed, expected, float(ref_x.sum() / ref_n.sum())


def isr(
    counts: float | Sequence[float],
    populations: Sequence[float],
    ref_counts: Sequence[float],
    ref_populations: Sequence[float],
    confidence: float = 0.95,
    multiplier: float = 100,
) -> CI:
    """Indirectly standardised ratio O/E * multiplier (an SMR at 100), as ``calculate_ISRatio`` does.

    E applies the reference band rates to the local band populations. ``counts`` may be per band or a
    single observed total. Limits are PHE's Poisson limits of O (exact below 10, Byar's from 10) over E.
    """
    multiplier = _check_positive(multiplier, "multiplier")
    observed, expected, _ = _observed_expected(counts, populations, ref_counts, ref_populations)
    lower, upper = poisson_limits(observed, confidence)
    scale = multiplier / expected
    return CI(observed * scale, float(lower[0]) * scale, float(upper[0]) * scale)


def isr_rate(
    counts: float | Sequence[float],
    populations: Sequence[float],
    ref_counts: Sequence[float],
    ref_populations: Sequence[float],
    confidence: float = 0.95,
    multiplier: float = 100_000,
) -> CI:
    """Indirectly standardised rate: the ratio O/E times the reference crude rate, as ``calculate_ISRate``."""
    multiplier = _check_positive(multiplier, "multiplier")
    observed, expected, ref_rate = _observed_expected(counts, populations, ref_counts, ref_populations)
    lower, upper = poisson_limits(observed, confidence)
    scale = ref_rate * multiplier / expected
    return CI(observed * scale, float(lower[0]) * scale, float(upper[0]) * scale)


# --- funnel plots -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelLimits:
    """Funnel plot control limits at each denominator; ``lower``/``upper`` are keyed by confidence."""

    kind: str
    denominators: tuple[float, ...]
    baseline: float
    lower: dict[float, tuple[float, ...]]
    upper: dict[float, tuple[float, ...]]


def _wilson_funnel(n: FloatArray, p: float, confidence: float) -> tuple[FloatArray, FloatArray]:
    """Proportions whose Wilson interval at n just reaches p (PHEindicatormethods' ``sigma_adjustment``)."""
    z2 = _z(confidence) ** 2
    first = p * (n / z2 + 1.0)
    disc = (8.0 * first) ** 2 - 64.0 * (1.0 / z2 + 1.0 / n) * p * (n * (p * (n / z2 + 2.0) - 1.0) + z2 * (p - 1.0))
    adj = np.sqrt(np.maximum(disc, 0.0))
    last = 1.0 / z2 + 1.0 / n
    return (first - adj / 8.0) / last / n, (first + adj / 8.0) / last / n


def _poisson_funnel(mu: FloatArray, confidence: float) -> tuple[FloatArray, FloatArray]:
    """Observed/expected ratios at which a count's exact Poisson interval just reaches its mean ``mu``.

    PHE draws these curves through integer counts O, at mu = chi2.ppf(1-a/2, 2O+2)/2 for the lower
    limit and chi2.ppf(a/2, 2O)/2 for the upper one; inverting the regularised incomplete gamma
    function in its shape parameter evaluates the same curves at any mu, passing through those points.
    """
    a = (1.0 - confidence) / 2.0
    low_count = np.maximum(special.gdtrib(1.0, 1.0 - a, mu) - 1.0, 0.0)
    high_count = special.gdtrib(1.0, a, mu)
    return low_count / mu, high_count / mu


def _check_kind(kind: str) -> None:
    """Only the three statistics PHE draws funnels for are supported."""
    if kind not in ("proportion", "ratio", "rate"):
        raise ValueError(f"kind must be 'proportion', 'ratio' or 'rate', got {kind!r}")


def _check_target(kind: str, target: float) -> float:
    """Proportions need a target in [0, 1]; ratios and rates a positive one (a zero mean has no funnel)."""
    _check_kind(kind)
    if kind == "proportion":
        if not 0.0 <= target <= 1.0:
            raise ValueError(f"target proportion must be in [0, 1], got {target!r}")
        return float(target)
    return _check_positive(target, "target")


def funnel_limits(
    kind: FunnelKind,
    denominators: float | Sequence[float],
    target: float,
    confidence: float | Sequence[float] = (0.95, 0.998),
    multiplier: float = 1.0,
) -> FunnelLimits:
    """Funnel plot control limits around ``target`` at each denominator, as ``calculate_funnel_limits``.

    - "proportion": denominators are sample sizes and target a proportion in [0, 1]; limits come from
      inverting the Wilson score interval and are clipped to [0, multiplier].
    - "ratio": denominators are expected counts E and target a ratio (1 for O/E); limits are exact
      Poisson (multiplier 100 gives ISR/SMR units).
    - "rate": denominators are person-years and target events per person-year; limits are exact Poisson
      on the expected count target * n (multiplier 100_000 gives rates per 100,000).
    """
    target = _check_target(kind, target)
    levels = [confidence] if isinstance(confidence, numbers.Real) else list(confidence)
    levels = [_check_confidence(c) for c in levels]
    multiplier = _check_positive(multiplier, "multiplier")
    n = _array(denominators, "denominators", positive=True)
    lower: dict[float, tuple[float, ...]] = {}
    upper: dict[float, tuple[float, ...]] = {}
    for c in levels:
        if kind == "proportion":
            lo, hi = _wilson_funnel(n, target, c)
            lo, hi = np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)
        else:
            lo, hi = _poisson_funnel(target * n, c)
            lo, hi = lo * target, hi * target
        lower[c] = tuple(float(v) * multiplier for v in lo)
        upper[c] = tuple(float(v) * multiplier for v in hi)
    return FunnelLimits(kind, tuple(float(v) for v in n), target * multiplier, lower, upper)


def funnel_significance(
    kind: FunnelKind,
    numerators: Sequence[float],
    denominators: Sequence[float],
    target: float | None = None,
    *,
    rate_type: Literal["crude", "dsr"] = "crude",
) -> list[str]:
    """Label each point against the 95% and 99.8% funnel limits, as ``assign_funnel_significance`` does.

    Labels are ``LOW_0001``, ``LOW_0025``, ``NOT_SIGNIFICANT``, ``HIGH_0025`` and ``HIGH_0001``. The
    target defaults to the pooled average sum(numerators)/sum(denominators), or 1 for ratios
    (numerators observed, denominators expected). Proportions use the Wilson funnel; ratios and rates
    compare the target with PHE's Poisson interval of each count (exact below 10, Byar's from 10). For
    ``rate_type="dsr"`` the denominators are the effective populations multiplier * O / DSR, points with
    under 10 events get ``DSR_NOT_APPLICABLE``, and zero-event points are left out of the average
    (their denominator may be NaN).
    """
    _check_kind(kind)
    if rate_type not in ("crude", "dsr"):
        raise ValueError(f"rate_type must be 'crude' or 'dsr', got {rate_type!r}")
    dsr_rates = kind == "rate" and rate_type == "dsr"
    x = _array(numerators, "numerators")
    raw_n = np.atleast_1d(np.asarray(denominators, dtype=np.float64))
    _same_length(numerators=x, denominators=raw_n)
    used = (x != 0) if dsr_rates else np.ones(x.size, dtype=bool)
    n = _array(np.where(used, raw_n, 1.0), "denominators", positive=True)
    if kind == "proportion" and np.any(x > n):
        raise ValueError("numerators must be <= denominators for a proportion")
    if target is None:
        target = 1.0 if kind == "ratio" else float(x.sum() / n[used].sum())
    target = _check_target(kind, target)

    def flags(c: float) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        if kind == "proportion":
            lo, hi = _wilson_funnel(n, target, c)
            return x / n < lo, x / n > hi
        lo, hi = poisson_limits(x, c)
        return hi / n < target, lo / n > target

    low_998, high_998 = flags(0.998)
    low_95, high_95 = flags(0.95)
    labels = np.select(
        [low_998, low_95, high_998, high_95], [LOW_0001, LOW_0025, HIGH_0001, HIGH_0025], NOT_SIGNIFICANT
    )
    if dsr_rates:
        labels = np.where(x < SMALL_COUNT, DSR_NOT_APPLICABLE, labels)
    return [str(label) for label in labels]
