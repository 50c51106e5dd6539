"""Statistical process control (XmR charts) done the way NHS England's "Making Data Count" (MDC) does it.

Commissioners look at a monthly indicator and ask two questions: has something changed (variation), and
will we meet the target (assurance)? An XmR chart answers both from the data alone. Its limits come from the
average moving range rather than the standard deviation, so a shift or trend inflates them far less and is
still detectable. The rules and constants below follow MDC, so the result matches the MDC Excel tool and NHS
board reports; see docs/spc.md for how to read it.
"""

from __future__ import annotations

import math
import operator
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from itertools import groupby, pairwise
from typing import Any, Literal

__all__ = [
    "MIN_POINTS_FOR_LIMITS",
    "PROCESS_LIMIT_FACTOR",
    "RULES",
    "SCREENING_FACTOR",
    "TWO_SIGMA_FACTOR",
    "SPCPeriod",
    "SPCPoint",
    "SPCResult",
    "xmr",
]

# 2.66 = 3 / d2 with d2 = 1.128 for ranges of two points: three sigma from the mean moving range. MDC rounds
# it to 2.66, and draws its "near the limit" lines at two thirds of that distance (2 sigma = 1.7733 x MR-bar).
# We keep MDC's rounding rather than 2 / 1.128 = 1.7730 so the two-sigma lines sit at exactly 2/3 of the
# limits, as they do in MDC's tool.
PROCESS_LIMIT_FACTOR = 2.66
TWO_SIGMA_FACTOR = PROCESS_LIMIT_FACTOR * 2 / 3
# Upper range limit of a moving-range chart (D4 for n = 2); MDC's optional screening drops ranges above it.
SCREENING_FACTOR = 3.267
# MDC: limits from fewer than 12 points are trial limits (20 is ideal); they will move as data arrives.
MIN_POINTS_FOR_LIMITS = 12
RULES = ("outside_limits", "run", "trend", "two_of_three")

Improvement = Literal["increase", "decrease", "neutral"]
Variation = Literal["common_cause", "improvement", "concern", "neutral"]
Assurance = Literal["pass", "fail", "hit_or_miss"]
_IMPROVEMENTS = ("increase", "decrease", "neutral")


@dataclass(frozen=True)
class SPCPeriod:
    """One stretch of the series with its own mean and limits (the whole series unless it was rebased).

    ``start``/``stop`` index the series as a slice does; the limits come from the first ``baseline_points``
    of the period and apply to all of it.
    """

    start: int
    stop: int
    baseline_points: int
    mean: float
    mean_moving_range: float
    excluded_moving_ranges: int
    upper_process_limit: float
    lower_process_limit: float
    upper_two_sigma: float
    lower_two_sigma: float
    trial_limits: bool


@dataclass(frozen=True)
class SPCPoint:
    """One point of the chart: its value, moving range, the rules that flagged it and its variation class.

    ``high_rules``/``low_rules`` keep the direction of each signal (a trend up is "high", a point below the
    mean is "low") so a point flagged both ways stays explainable; ``rules`` is their union. ``direction`` is
    the side ("high"/"low") that decided ``variation``, None for common cause.
    """

    index: int
    period: int
    value: float
    moving_range: float | None
    rules: tuple[str, ...]
    high_rules: tuple[str, ...]
    low_rules: tuple[str, ...]
    variation: Variation
    direction: Literal["high", "low"] | None


@dataclass(frozen=True)
class SPCResult:
    """An XmR chart: every point, every period, and the two MDC summaries (variation and assurance).

    The summary limits (``mean``, ``upper_process_limit`` ...) and ``trial_limits`` are those of the latest
    period, because that is what the latest point and the target are judged against.
    """

    points: tuple[SPCPoint, ...]
    periods: tuple[SPCPeriod, ...]
    improvement: Improvement
    target: float | None
    variation: Variation
    assurance: Assurance | None
    run_length: int
    trend_length: int
    screen_outliers: bool

    @property
    def current(self) -> SPCPeriod:
        """The latest period."""
        return self.periods[-1]

    @property
    def mean(self) -> float:
        """Mean of the current period's baseline: the centre line."""
        return self.current.mean

    @property
    def mean_moving_range(self) -> float:
        """MR-bar of the current period, after screening if it was asked for."""
        return self.current.mean_moving_range

    @property
    def upper_process_limit(self) -> float:
        """Mean + 2.66 x MR-bar."""
        return self.current.upper_process_limit

    @property
    def lower_process_limit(self) -> float:
        """Mean - 2.66 x MR-bar."""
        return self.current.lower_process_limit

    @property
    def upper_two_sigma(self) -> float:
        """Mean + 2/3 x 2.66 x MR-bar, the line for the two-of-three rule."""
        return self.current.upper_two_sigma

    @property
    def lower_two_sigma(self) -> float:
        """Mean - 2/3 x 2.66 x MR-bar, the line for the two-of-three rule."""
        return self.current.lower_two_sigma

    @property
    def trial_limits(self) -> bool:
        """True when the current limits rest on fewer than 12 points and so will move."""
        return self.current.trial_limits

    @property
    def variation_icon(self) -> str:
        """MDC variation icon for the latest point, e.g. ``special_cause_concern_low`` (see docs/spc.md)."""
        latest = self.points[-1]
        if latest.variation == "common_cause":
            return "common_cause"
        return f"special_cause_{latest.variation}_{latest.direction}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict: settings, summary, periods and points (tuples become lists)."""
        summary_keys = ("mean", "mean_moving_range", "upper_process_limit", "lower_process_limit")
        summary_keys += ("upper_two_sigma", "lower_two_sigma", "trial_limits", "variation_icon")
        out: dict[str, Any] = {
            "improvement": self.improvement,
            "target": self.target,
            "run_length": self.run_length,
            "trend_length": self.trend_length,
            "screen_outliers": self.screen_outliers,
            "variation": self.variation,
            "assurance": self.assurance,
        }
        out.update({key: getattr(self, key) for key in summary_keys})
        out["periods"] = [asdict(p) for p in self.periods]
        out["points"] = [{k: list(v) if isinstance(v, tuple) else v for k, v in asdict(p).items()} for p in self.points]
        return out


def xmr(
    values: Iterable[float],
    improvement: Improvement,
    target: float | None = None,
    screen_outliers: bool = True,
    run_length: int = 7,
    *,
    trend_length: int = 7,
    rebase_at: Sequence[int] = (),
    baseline: int | None = None,
) -> SPCResult:
    """Build an MDC XmR chart of ``values`` (in time order, no gaps) and classify variation and assurance.

    ``improvement`` is required because the same signal is good news for one indicator and bad for another;
    "neutral" reports special causes without judging them. ``target`` gives assurance against the latest
    period's limits. ``screen_outliers`` drops moving ranges above 3.267 x MR-bar and recomputes MR-bar once,
    so one freak month does not widen the limits. ``run_length`` (points on one side of the mean) and
    ``trend_length`` (points each strictly above/below the last) are 7 by default; MDC allows 6.

    ``rebase_at`` lists the indices where a new period starts after a known change in the process: each period
    gets its own mean and limits, moving ranges and rules never span a boundary. ``baseline`` fixes each
    period's limits on its first ``baseline`` points and judges later points against them.

    Raises ValueError for fewer than two values, a missing or non-finite value (naming its index), or bad
    settings.
    """
    xs = _clean(values)
    n = len(xs)
    if improvement not in _IMPROVEMENTS:
        raise ValueError(f"improvement must be one of {_IMPROVEMENTS}, got {improvement!r}")
    run_length = _at_least_two(run_length, "run_length")
    trend_length = _at_least_two(trend_length, "trend_length")
    if baseline is not None:
        baseline = _at_least_two(baseline, "baseline")
    goal = None if target is None else _finite(target)
    if target is not None and goal is None:
        raise ValueError(f"target must be a finite number or None, got {target!r}")
    bounds = _period_bounds(rebase_at, n)

    periods: list[SPCPeriod] = []
    points: list[SPCPoint] = []
    for number, (start, stop) in enumerate(bounds):
        period = _limits(xs[start:stop], start, stop, baseline, screen_outliers)
        periods.append(period)
        high, low = _signals(xs[start:stop], period, run_length, trend_length)
        for offset, x in enumerate(xs[start:stop]):
            i = start + offset
            highs = tuple(r for r in RULES if r in high[offset])
            lows = tuple(r for r in RULES if r in low[offset])
            variation, direction = _classify(highs, lows, improvement, x >= period.mean)
            points.append(
                SPCPoint(
                    index=i,
                    period=number,
                    value=x,
                    moving_range=abs(x - xs[i - 1]) if offset else None,
                    rules=tuple(r for r in RULES if r in highs or r in lows),
                    high_rules=highs,
                    low_rules=lows,
                    variation=variation,
                    direction=direction,
                )
            )
    return SPCResult(
        points=tuple(points),
        periods=tuple(periods),
        improvement=improvement,
        target=goal,
        variation=points[-1].variation,
        assurance=_assurance(periods[-1], improvement, goal),
        run_length=run_length,
        trend_length=trend_length,
        screen_outliers=screen_outliers,
    )


def _finite(value: Any) -> float | None:
    """``value`` as a float, or None if it is missing, text, NaN or infinite."""
    if value is None or isinstance(value, str | bytes):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _clean(values: Iterable[float]) -> list[float]:
    """Floats from ``values``; an XmR chart has no way to bridge a gap, so a missing value is an error."""
    out: list[float] = []
    for i, value in enumerate(values):
        number = _finite(value)
        if number is None:
            raise ValueError(f"value at index {i} is {value!r}; every point needs a finite number (no gaps)")
        out.append(number)
    if len(out) < 2:
        raise ValueError(f"an XmR chart needs at least 2 values (one moving range), got {len(out)}")
    return out


def _at_least_two(value: int, name: str) -> int:
    """``value`` as an int, refusing bools and values below 2 (a one-point run means nothing)."""
    if isinstance(value, bool) or operator.index(value) < 2:
        raise ValueError(f"{name} must be an integer of at least 2, got {value!r}")
    return operator.index(value)


def _period_bounds(rebase_at: Sequence[int], n: int) -> list[tuple[int, int]]:
    """(start, stop) of each period; every period needs two points to have a moving range."""
    starts = [0, *(operator.index(i) for i in rebase_at)]
    bounds = list(zip(starts, [*starts[1:], n], strict=True))
    for start, stop in bounds:
        if stop - start < 2:
            raise ValueError(
                f"rebase_at={list(rebase_at)} must be increasing indices within 2..{n - 2} so that every "
                f"period has at least 2 points; the period starting at {start} has {stop - start}"
            )
    return bounds


def _limits(xs: list[float], start: int, stop: int, baseline: int | None, screen: bool) -> SPCPeriod:
    """Mean and limits of one period from its baseline points (all of them unless ``baseline`` is set)."""
    base = xs[:baseline] if baseline else xs
    # statistics.mean rounds the exact mean once, so a constant series has its value as mean exactly (a sum
    # rounded then divided can land one ulp off and put every point "above the mean").
    mean = float(statistics.mean(base))
    ranges = [abs(b - a) for a, b in pairwise(base)]
    mr_bar = math.fsum(ranges) / len(ranges)
    kept = [r for r in ranges if r <= SCREENING_FACTOR * mr_bar] if screen else ranges
    # Never empty: MR-bar is an average, so at least one range is no larger than it.
    mr_bar = math.fsum(kept) / len(kept)
    width, near = PROCESS_LIMIT_FACTOR * mr_bar, TWO_SIGMA_FACTOR * mr_bar
    return SPCPeriod(
        start=start,
        stop=stop,
        baseline_points=len(base),
        mean=mean,
        mean_moving_range=mr_bar,
        excluded_moving_ranges=len(ranges) - len(kept),
        upper_process_limit=mean + width,
        lower_process_limit=mean - width,
        upper_two_sigma=mean + near,
        lower_two_sigma=mean - near,
        trial_limits=len(base) < MIN_POINTS_FOR_LIMITS,
    )


def _segments(labels: list[int]) -> Iterator[tuple[int, int, int]]:
    """(start, stop, label) for each maximal stretch of equal non-zero labels."""
    i = 0
    for label, group in groupby(labels):
        length = len(list(group))
        if label:
            yield i, i + length, label
        i += length


def _signals(
    xs: list[float], p: SPCPeriod, run_length: int, trend_length: int
) -> tuple[list[set[str]], list[set[str]]]:
    """Rules that fired for each point of one period, split by direction (high, low).

    Comparisons are strict throughout: a point on a limit is not outside it, a point on the mean breaks a
    run, an equal neighbour breaks a trend. That also makes a constant series (MR-bar 0) signal nothing.
    """
    high: list[set[str]] = [set() for _ in xs]
    low: list[set[str]] = [set() for _ in xs]

    def flag(i: int, sign: int, rule: str) -> None:
        (high if sign > 0 else low)[i].add(rule)

    for i, x in enumerate(xs):
        if x > p.upper_process_limit or x < p.lower_process_limit:
            flag(i, 1 if x > p.mean else -1, "outside_limits")

    sides = [(x > p.mean) - (x < p.mean) for x in xs]
    for start, stop, sign in _segments(sides):
        if stop - start >= run_length:
            for i in range(start, stop):
                flag(i, sign, "run")

    # steps[k] is the direction from point k to point k + 1; a stretch of s equal steps spans s + 1 points.
    steps = [(b > a) - (b < a) for a, b in pairwise(xs)]
    for start, stop, sign in _segments(steps):
        if stop - start + 1 >= trend_length:
            for i in range(start, stop + 1):
                flag(i, sign, "trend")

    # Two of three: beyond a two-sigma line but not beyond the process limit (rule 1 already has those).
    near = [_near_side(x, p) for x in xs]
    for i, sign in enumerate(near):
        # Two such points on the same side within a window of three are at most two positions apart.
        if sign and any(near[j] == sign for j in range(max(0, i - 2), min(len(xs), i + 3)) if j != i):
            flag(i, sign, "two_of_three")
    return high, low


def _near_side(x: float, p: SPCPeriod) -> int:
    """+1/-1 if ``x`` is beyond the upper/lower two-sigma line but within the process limits, else 0."""
    if p.upper_two_sigma < x <= p.upper_process_limit:
        return 1
    if p.lower_process_limit <= x < p.lower_two_sigma:
        return -1
    return 0


def _classify(
    highs: tuple[str, ...], lows: tuple[str, ...], improvement: Improvement, at_or_above_mean: bool
) -> tuple[Variation, Literal["high", "low"] | None]:
    """Variation class and deciding direction of one point.

    A point can be flagged both ways only through a trend: one running against the side of the mean the point
    sits on (the first points of a rising trend, still below the limit or in a run below the mean), or the
    turning point shared by a rising and a falling trend. Concern then wins, so a deterioration is never
    hidden behind an improvement signal. For a neutral measure the side of the mean decides (on it: high).
    """
    if not highs and not lows:
        return "common_cause", None
    if improvement == "neutral":
        high = bool(highs) and (not lows or at_or_above_mean)
        return "neutral", "high" if high else "low"
    good, bad = ("high", "low") if improvement == "increase" else ("low", "high")
    bad_signals = lows if bad == "low" else highs
    if bad_signals:
        return "concern", bad
    return "improvement", good


def _assurance(period: SPCPeriod, improvement: Improvement, target: float | None) -> Assurance | None:
    """Whether the process as it stands will meet ``target``: only if the whole band between limits does."""
    if target is None or improvement == "neutral":
        return None
    if period.lower_process_limit <= target <= period.upper_process_limit:
        return "hit_or_miss"
    target_below = target < period.lower_process_limit
    return "pass" if target_below == (improvement == "increase") else "fail"
