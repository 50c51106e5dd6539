"""Indicator statistics from the counts, per practice or cluster, against the commissioner, with funnel plot data.

The engine counts (`pbc.indicators.measures`); this module turns the small collected aggregate into the
benchmark table with the public-health methods of `pbc.indicators.methods`, so every figure is computed by
functions with golden tests, identically whichever engine counted. For each unit (and breakdown value):

- a crude rate or a ratio of counts: `crude_rate` (exact Poisson limits below 10 events, Byar's from 10);
- a proportion: `wilson_ci`;
- a directly standardised rate: `dsr` on ESP2013 (persons, 19 bands to 90+), not given below 10 events;
- an indirectly standardised ratio: `isr`, observed against the count expected at the commissioner's own rates
  for each five-year band and sex.

The comparator is the commissioner: the total of its practices that have a denominator. Each unit is placed on
the funnel plot of the commissioner's value (95% and 99.8% limits at the unit's denominator) and labelled as
PHE labels points (`funnel_significance`); COMPARISON reads that label at 95% with the indicator's polarity.
With a disclosure rule, counts are protected first and every ratio is recomputed from the protected counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from pbc.indicators.definitions import POPULATION, Definition
from pbc.indicators.disclosure import DisclosureRule
from pbc.indicators.esp2013 import ESP2013
from pbc.indicators.measures import Counts
from pbc.indicators.methods import (
    DSR_NOT_APPLICABLE,
    HIGH_0001,
    HIGH_0025,
    LOW_0001,
    LOW_0025,
    SMALL_COUNT,
    crude_rate,
    dsr,
    funnel_limits,
    funnel_significance,
    isr,
    wilson_ci,
)
from pbc.reference.list_sizes import AGE_BANDS

LEVELS = ("practice", "cluster")
CONFIDENCE = (0.95, 0.998)
UNIT_COLUMN = {"practice": "PRACTICE", "cluster": "LOCALITY"}
BAND_KEYS = ["AGE_BAND", "SEX"]
ESP_BAND = {band: min(i, len(ESP2013) - 1) for i, band in enumerate(AGE_BANDS)}  # 90_94 and 95+ are ESP's 90+

SCHEMA = pa.schema(
    [
        ("INDICATOR", pa.string()),
        ("FINANCIAL_YEAR", pa.string()),
        ("COMMISSIONER", pa.string()),
        ("LEVEL", pa.string()),
        ("UNIT", pa.string()),
        ("UNIT_NAME", pa.string()),
        ("CLUSTER", pa.string()),
        ("BREAKDOWN", pa.string()),
        ("NUMERATOR", pa.int64()),
        ("DENOMINATOR", pa.float64()),
        ("EXPECTED", pa.float64()),
        ("VALUE", pa.float64()),
        ("LOWER_95", pa.float64()),
        ("UPPER_95", pa.float64()),
        ("LOWER_998", pa.float64()),
        ("UPPER_998", pa.float64()),
        ("COMPARATOR", pa.float64()),
        ("FUNNEL_X", pa.float64()),
        ("FUNNEL_LOWER_95", pa.float64()),
        ("FUNNEL_UPPER_95", pa.float64()),
        ("FUNNEL_LOWER_998", pa.float64()),
        ("FUNNEL_UPPER_998", pa.float64()),
        ("SIGNIFICANCE", pa.string()),
        ("COMPARISON", pa.string()),
        ("SUPPRESSED", pa.bool_()),
        ("NOTE", pa.string()),
    ]
)
COLUMNS = tuple(SCHEMA.names)


@dataclass
class Point:
    """One unit's figures before they become a row; `test_count` is the count the funnel test uses."""

    unit: str
    numerator: int | None
    denominator: float | None
    expected: float | None = None
    ci: dict[float, tuple[float, float, float]] = field(default_factory=dict)
    funnel_x: float | None = None
    test_count: float | None = None
    suppressed: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def value(self) -> float | None:
        """The point estimate (the same at every confidence level)."""
        return _number(self.ci[CONFIDENCE[0]][0]) if self.ci else None


@dataclass(frozen=True)
class Funnel:
    """The funnel a statistic's points are judged on: `kind` and `target` as `funnel_limits` takes them."""

    kind: str
    target: float | None
    multiplier: float
    rate_type: str = "crude"


@dataclass(frozen=True)
class Benchmark:
    """One indicator's table for a year and level, with notes on anything left out and the rule applied."""

    definition: Definition
    year: str
    commissioner: str
    level: str
    table: pa.Table
    notes: tuple[str, ...]
    rule: DisclosureRule | None


def _number(value: float | None) -> float | None:
    """NaN (a figure PHE does not publish) as a missing value."""
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _events(count: int) -> str:
    return f"{count:,} event" + ("" if count == 1 else "s")


def merge_empty_bands(
    counts: list[float], populations: list[float], weights: list[float]
) -> tuple[list[float], list[float], list[float]]:
    """Merge each band with no population into its older neighbour (the oldest into its younger one).

    A DSR needs a population in every band, but a small practice may have nobody aged 90+; PHE's advice is to
    merge bands, with their standard weights, rather than drop them (which would change the standard).
    """
    counts, populations, weights = list(counts), list(populations), list(weights)
    while len(populations) > 1 and 0 in populations:
        i = populations.index(0)
        j = i + 1 if i + 1 < len(populations) else i - 1
        counts[j] += counts[i]
        populations[j] += populations[i]
        weights[j] += weights[i]
        del counts[i], populations[i], weights[i]
    return counts, populations, weights


def _protect(rule: DisclosureRule | None, count: float) -> float | None:
    """A count as the table may show it: exact without a rule, protected with one."""
    if rule is None:
        return count
    protected = rule.protect(count)
    return None if protected is None else float(protected)


def _sums(table: pd.DataFrame, by: str | list[str]) -> pd.Series:
    return table.groupby(by, dropna=False)["N"].sum()


def _ratio_points(
    definition: Definition,
    numerator: pd.DataFrame,
    denominator: pd.DataFrame,
    unit: str,
    rule: DisclosureRule | None,
    notes: list[str],
) -> tuple[Point, list[Point], Funnel]:
    """Crude rates (and ratios of counts) or proportions: numerator over denominator, both protected first."""
    proportion = definition.statistic == "proportion"
    multiplier = definition.multiplier

    def point(code: str, x: float, n: float) -> Point:
        xp, nparts = _protect(rule, x), _protect(rule, n)
        p = Point(code, None if xp is None else int(xp), nparts)
        if xp is None or nparts is None:
            p.suppressed = True
            return p
        if nparts <= 0:
            p.notes.append("no denominator")
            return p
        for c in CONFIDENCE:
            if proportion:
                p.ci[c] = tuple(v * multiplier for v in wilson_ci(xp, nparts, c))  # type: ignore[assignment]
            else:
                p.ci[c] = tuple(crude_rate(xp, nparts, c, multiplier))  # type: ignore[assignment]
        p.funnel_x, p.test_count = nparts, xp
        return p

    x, n = _sums(numerator, unit), _sums(denominator, unit)
    codes = sorted(c for c in set(x.index) | set(n.index) if isinstance(c, str))
    units = [point(c, float(x.get(c, 0)), float(n.get(c, 0))) for c in codes]
    total = point("", float(numerator["N"].sum()), float(denominator["N"].sum()))
    target = None
    if total.numerator is not None and total.denominator:
        target = total.numerator / total.denominator
    kind = "proportion" if proportion else "rate"
    return total, units, Funnel(kind, target, multiplier)


def _dsr_points(
    definition: Definition,
    numerator: pd.DataFrame,
    denominator: pd.DataFrame,
    unit: str,
    rule: DisclosureRule | None,
    notes: list[str],
) -> tuple[Point, list[Point], Funnel]:
    """Directly standardised rates on ESP2013, persons; events of unknown age cannot be standardised."""
    multiplier = definition.multiplier
    unknown = int(numerator.loc[numerator["AGE_BAND"].isna(), "N"].sum())
    if unknown:
        notes.append(f"{_events(unknown)} of unknown age left out of the standardised rates")
    numerator = numerator[numerator["AGE_BAND"].notna()].assign(ESP=lambda t: t["AGE_BAND"].map(ESP_BAND))
    denominator = denominator.assign(ESP=denominator["AGE_BAND"].map(ESP_BAND))

    def bands(table: pd.DataFrame) -> list[float]:
        summed = table.groupby("ESP")["N"].sum()
        return [float(summed.get(i, 0)) for i in range(len(ESP2013))]

    def point(code: str, num: pd.DataFrame, den: pd.DataFrame) -> Point:
        counts, populations = bands(num), bands(den)
        observed, people = sum(counts), sum(populations)
        shown, shown_people = _protect(rule, observed), _protect(rule, people)
        p = Point(code, None if shown is None else int(shown), shown_people)
        if shown is None or shown_people is None:
            p.suppressed = True
            return p
        if people <= 0:
            p.notes.append("no registered population")
            return p
        p.test_count = shown
        if observed < SMALL_COUNT:
            p.notes.append(f"fewer than {SMALL_COUNT} events: PHE does not publish a standardised rate")
            return p
        merged = merge_empty_bands(counts, populations, list(ESP2013))
        for c in CONFIDENCE:
            p.ci[c] = tuple(dsr(*merged, confidence=c, multiplier=multiplier))  # type: ignore[assignment]
        if p.value:
            p.funnel_x = shown / (p.value / multiplier)  # the effective population of PHE's DSR funnels
        return p

    codes = sorted(c for c in set(numerator[unit]) | set(denominator[unit]) if isinstance(c, str))
    units = [point(c, numerator[numerator[unit] == c], denominator[denominator[unit] == c]) for c in codes]
    total = point("", numerator, denominator)
    target = total.value / multiplier if total.value else None
    return total, units, Funnel("rate", target, multiplier, rate_type="dsr")


def _isr_points(
    definition: Definition,
    numerator: pd.DataFrame,
    denominator: pd.DataFrame,
    unit: str,
    rule: DisclosureRule | None,
    notes: list[str],
) -> tuple[Point, list[Point], Funnel]:
    """Indirectly standardised ratios against the commissioner's own rates by five-year band and sex."""
    multiplier = definition.multiplier
    known = numerator["AGE_BAND"].notna() & numerator["SEX"].notna()
    unknown = int(numerator.loc[~known, "N"].sum())
    if unknown:
        notes.append(f"{_events(unknown)} of unknown age or sex left out of the standardised ratios")
    numerator = numerator[known]
    ref_people = _sums(denominator, BAND_KEYS)
    bands = [b for b in ref_people.index if ref_people[b] > 0 and all(isinstance(k, str) for k in b)]
    ref_events = _sums(numerator, BAND_KEYS)
    outside = int(numerator["N"].sum() - sum(ref_events.get(b, 0) for b in bands))
    if outside:
        notes.append(f"{_events(outside)} in age and sex bands with no registered population left out")
    ref_x = [float(ref_events.get(b, 0)) for b in bands]
    ref_n = [float(ref_people[b]) for b in bands]

    def point(code: str, num: pd.DataFrame, den: pd.DataFrame) -> Point:
        people = _sums(den, BAND_KEYS)
        events = _sums(num, BAND_KEYS)
        populations = [float(people.get(b, 0)) for b in bands]
        observed = float(sum(events.get(b, 0) for b in bands))
        expected = float(sum(p * x / n for p, x, n in zip(populations, ref_x, ref_n, strict=True)))
        shown, shown_people = _protect(rule, observed), _protect(rule, sum(populations))
        p = Point(code, None if shown is None else int(shown), shown_people, expected=expected)
        if shown is None or shown_people is None:
            p.suppressed = True
            return p
        if expected <= 0:
            p.notes.append("no events expected: the ratio is undefined")
            return p
        for c in CONFIDENCE:
            p.ci[c] = tuple(isr(shown, populations, ref_x, ref_n, c, multiplier))  # type: ignore[assignment]
        p.funnel_x, p.test_count = expected, shown
        return p

    codes = sorted(c for c in set(numerator[unit]) | set(denominator[unit]) if isinstance(c, str))
    units = [point(c, numerator[numerator[unit] == c], denominator[denominator[unit] == c]) for c in codes]
    total = point("", numerator, denominator)
    return total, units, Funnel("ratio", 1.0 if bands else None, multiplier)


STATISTICS: dict[str, Callable[..., tuple[Point, list[Point], Funnel]]] = {
    "crude_rate": _ratio_points,
    "proportion": _ratio_points,
    "dsr": _dsr_points,
    "isr": _isr_points,
}


def _judge(points: list[Point], funnel: Funnel) -> dict[str, dict[str, object]]:
    """Funnel limits at each unit's position, and each unit's PHE significance label."""
    judged: dict[str, dict[str, object]] = {p.unit: {} for p in points}
    if funnel.target is None or funnel.target <= 0 or (funnel.kind == "proportion" and funnel.target > 1):
        return judged
    placed = [p for p in points if p.funnel_x is not None and p.funnel_x > 0 and not p.suppressed]
    if placed:
        limits = funnel_limits(
            funnel.kind,  # type: ignore[arg-type]
            [p.funnel_x for p in placed],  # type: ignore[misc]
            funnel.target,
            CONFIDENCE,
            funnel.multiplier,
        )
        for i, p in enumerate(placed):
            judged[p.unit].update(
                FUNNEL_LOWER_95=limits.lower[0.95][i],
                FUNNEL_UPPER_95=limits.upper[0.95][i],
                FUNNEL_LOWER_998=limits.lower[0.998][i],
                FUNNEL_UPPER_998=limits.upper[0.998][i],
            )
    tested = [p for p in points if p.test_count is not None and p.funnel_x and not p.suppressed]
    if funnel.rate_type == "dsr":
        for p in points:
            if not p.suppressed and p.test_count is not None and p.funnel_x is None:
                judged[p.unit]["SIGNIFICANCE"] = DSR_NOT_APPLICABLE
    if tested:
        x = [float(p.test_count) for p in tested]  # type: ignore[arg-type]
        n = [float(p.funnel_x) for p in tested]  # type: ignore[arg-type]
        target = funnel.target if funnel.kind != "ratio" else 1.0
        labels = funnel_significance(funnel.kind, x, n, target, rate_type=funnel.rate_type)  # type: ignore[arg-type]
        for p, label in zip(tested, labels, strict=True):
            judged[p.unit]["SIGNIFICANCE"] = label
    return judged


def compare(label: str | None, polarity: str) -> str | None:
    """A significance label read at 95% for people: better or worse by the polarity, else higher or lower."""
    if label in (HIGH_0001, HIGH_0025):
        direction = "higher"
    elif label in (LOW_0001, LOW_0025):
        direction = "lower"
    elif label is None or label == DSR_NOT_APPLICABLE:
        return None
    else:
        return "similar"
    if polarity == "low_is_good":
        return "worse" if direction == "higher" else "better"
    if polarity == "high_is_good":
        return "better" if direction == "higher" else "worse"
    return direction


def _clusters(numerator: pd.DataFrame, denominator: pd.DataFrame) -> dict[str, str]:
    """Each practice's cluster for display: the one holding most of its denominator (it may have moved)."""
    rows = pd.concat([denominator[["PRACTICE", "LOCALITY", "N"]], numerator[["PRACTICE", "LOCALITY", "N"]]])
    rows = rows[rows["LOCALITY"].notna()]
    if rows.empty:
        return {}
    summed = rows.groupby(["PRACTICE", "LOCALITY"])["N"].sum().reset_index()
    best = summed.sort_values(["PRACTICE", "N", "LOCALITY"], ascending=[True, False, True]).drop_duplicates("PRACTICE")
    return dict(zip(best["PRACTICE"], best["LOCALITY"], strict=True))


def _breakdowns(definition: Definition, numerator: pd.DataFrame, denominator: pd.DataFrame) -> list[str | None]:
    if definition.breakdown is None:
        return [None]
    values = set(numerator["BREAKDOWN"].dropna())
    if definition.breakdown_applies_to_denominator:
        values |= set(denominator["BREAKDOWN"].dropna())
    return sorted(values)


def compute(
    counts: Counts,
    level: str,
    names: Mapping[str, str] | None = None,
    rule: DisclosureRule | None = None,
    clusters: Mapping[str, str] | None = None,
) -> Benchmark:
    """The benchmark table of one indicator at a level (practice or cluster), with the commissioner's row first.

    `names` gives units' names; `clusters` each practice's cluster to show (by default the cluster holding most of
    its denominator, as a practice may have moved in the year).
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    definition, names = counts.definition, names or {}
    unit = UNIT_COLUMN[level]
    numerator = counts.numerator.to_pandas()
    denominator = counts.denominator.to_pandas()
    if definition.denominator.dataset == POPULATION:
        denominator["N"] = denominator["N"] / counts.population_dates
    cluster_of = {**_clusters(numerator, denominator), **(clusters or {})}
    notes: list[str] = []
    rows: list[dict[str, object]] = []
    lost = 0
    for breakdown in _breakdowns(definition, numerator, denominator):
        num = numerator if breakdown is None else numerator[numerator["BREAKDOWN"] == breakdown]
        den = denominator
        if breakdown is not None and definition.breakdown_applies_to_denominator:
            den = denominator[denominator["BREAKDOWN"] == breakdown]
        per_practice = _sums(den, "PRACTICE")
        valid = set(per_practice[per_practice > 0].index)
        lost += int(num.loc[~num["PRACTICE"].isin(valid), "N"].sum())
        num, den = num[num["PRACTICE"].isin(valid)], den[den["PRACTICE"].isin(valid)]
        total, points, funnel = STATISTICS[definition.statistic](definition, num, den, unit, rule, notes)
        judged = _judge(points, funnel)
        common = {
            "INDICATOR": definition.id,
            "FINANCIAL_YEAR": counts.year,
            "COMMISSIONER": counts.commissioner,
            "BREAKDOWN": breakdown,
            "COMPARATOR": total.value,
        }
        rows.append({**common, **_row(total, definition.polarity, {}), "LEVEL": "commissioner"})
        rows[-1].update(UNIT=counts.commissioner, UNIT_NAME=names.get(counts.commissioner), FUNNEL_X=None)
        for p in points:
            row = {**common, **_row(p, definition.polarity, judged[p.unit]), "LEVEL": level}
            row.update(UNIT=p.unit, UNIT_NAME=names.get(p.unit))
            if level == "practice":
                row["CLUSTER"] = cluster_of.get(p.unit)
            rows.append(row)
    if lost:
        notes.insert(0, f"{_events(lost)} at practices with no denominator (no list, or none counted) left out")
    if rule is not None:
        notes.append(rule.describe())
    table = pa.Table.from_pylist([{c: r.get(c) for c in COLUMNS} for r in rows], schema=SCHEMA)
    return Benchmark(definition, counts.year, counts.commissioner, level, table, tuple(dict.fromkeys(notes)), rule)


def _row(p: Point, polarity: str, judged: Mapping[str, object]) -> dict[str, object]:
    row: dict[str, object] = {
        "NUMERATOR": p.numerator,
        "DENOMINATOR": p.denominator,
        "EXPECTED": p.expected,
        "VALUE": p.value,
        "SUPPRESSED": p.suppressed,
        "NOTE": "; ".join(p.notes) or None,
        "FUNNEL_X": p.funnel_x if not p.suppressed else None,
    }
    if p.suppressed:
        row.update(COMPARISON="suppressed", NOTE="suppressed: a small count")
    for c, suffix in ((0.95, "95"), (0.998, "998")):
        if c in p.ci:
            row[f"LOWER_{suffix}"], row[f"UPPER_{suffix}"] = (_number(v) for v in p.ci[c][1:])
    row.update(judged)
    if not p.suppressed:
        row["COMPARISON"] = compare(judged.get("SIGNIFICANCE"), polarity)  # type: ignore[arg-type]
    return row
