"""Key indicators for a report: monthly trend series read as Making Data Count SPC charts, with their icons.

The series are the `trends` mart's (`pbc monitor run`): activity per 1,000 weighted patients and the follow-up
ratio, per practice, cluster and commissioner and month. Last year's months are put in front when that year was
monitored too, because limits from more points are steadier; with fewer than 12 points the limits are trial
limits and the report says so. The charts use `pbc.indicators.spc.xmr`, so a report's icons are the ones
`pbc monitor trend` prints.

With a disclosure rule every monthly count is protected first and each rate recomputed from protected counts; a
series with any suppressed month is shown without a chart (a gap cannot be charted honestly).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from pbc.finance.trends import RATIOS
from pbc.indicators.disclosure import DisclosureRule
from pbc.indicators.spc import Improvement, SPCResult, xmr
from pbc.phasing import financial_months
from pbc.reports.tables import previous_year, protected

if TYPE_CHECKING:
    from pbc.reports.sources import Sources


@dataclass(frozen=True)
class IndicatorSpec:
    """A trend indicator as a report shows it: which way is better decides whether a signal is good news."""

    id: str
    title: str
    unit: str
    improvement: Improvement


KEY_INDICATORS = (
    IndicatorSpec("emergency_admissions", "Emergency admissions", "per 1,000", "decrease"),
    IndicatorSpec("acsc_admissions", "Emergency admissions for ACS conditions", "per 1,000", "decrease"),
    IndicatorSpec("ae_attendances", "A&E attendances", "per 1,000", "decrease"),
    IndicatorSpec("referrals", "GP referrals", "per 1,000", "decrease"),
    IndicatorSpec("outpatient_first", "First outpatient attendances", "per 1,000", "neutral"),
    IndicatorSpec("outpatient_follow_up", "Follow-up outpatient attendances", "per 1,000", "decrease"),
    IndicatorSpec("follow_up_ratio", "Follow-ups per first attendance", "ratio", "decrease"),
)

ICON_LABELS = {
    "common_cause": "Common cause",
    "special_cause_improvement_high": "Improvement (high)",
    "special_cause_improvement_low": "Improvement (low)",
    "special_cause_concern_high": "Concern (high)",
    "special_cause_concern_low": "Concern (low)",
    "special_cause_neutral_high": "Special cause (high)",
    "special_cause_neutral_low": "Special cause (low)",
}


@dataclass(frozen=True)
class Trend:
    """One indicator's monthly series for a unit, its SPC reading, and the commissioner's latest value."""

    spec: IndicatorSpec
    months: tuple[dt.date, ...]
    values: tuple[float | None, ...]
    spc: SPCResult | None
    comparator: float | None
    note: str | None

    @property
    def latest(self) -> float | None:
        """The value of the month reported."""
        return self.values[-1] if self.values else None

    @property
    def icon(self) -> str | None:
        """The MDC variation icon of the latest point (None where no chart could be drawn)."""
        return None if self.spc is None else self.spc.variation_icon

    @property
    def icon_label(self) -> str:
        """The icon in words, for the table and for a black-and-white page."""
        return ICON_LABELS.get(self.icon or "", "Not charted")

    @property
    def variation(self) -> str | None:
        """The variation class of the latest point: common_cause, improvement, concern or neutral."""
        return None if self.spc is None else self.spc.variation


def _series_rows(sources: Sources, year: str) -> list[pa.Table]:
    tables = []
    before = sources.optional_mart("trends", previous_year(year))
    if before is not None:
        tables.append(before)
    tables.append(sources.mart("trends", year))
    return tables


def _months(sources: Sources, year: str, as_at: dt.date) -> list[dt.date]:
    months = [m for m in financial_months(year) if m <= as_at]
    if sources.optional_mart("trends", previous_year(year)) is not None:
        months = financial_months(previous_year(year)) + months
    return months


def trends(
    sources: Sources,
    code: str,
    commissioner: str,
    year: str,
    as_at: dt.date,
    *,
    rule: DisclosureRule | None = None,
    indicators: tuple[IndicatorSpec, ...] = KEY_INDICATORS,
) -> list[Trend]:
    """Each key indicator's monthly series for a practice or cluster to the month reported, with its SPC reading."""
    months = _months(sources, year, as_at)
    wanted = {spec.id for spec in indicators} | {part for name in RATIOS for part in RATIOS[name]}
    numerators: dict[tuple[str, str, dt.date], int] = defaultdict(int)
    denominators: dict[tuple[str, str, dt.date], float] = {}
    for table in _series_rows(sources, year):
        mask = pc.and_(
            pc.is_in(table["CODE"], value_set=pa.array([code, commissioner], pa.string())),
            pc.is_in(table["INDICATOR"], value_set=pa.array(sorted(wanted), pa.string())),
        )
        for r in table.filter(mask).select(["CODE", "INDICATOR", "MONTH", "NUMERATOR", "DENOMINATOR"]).to_pylist():
            key = (r["CODE"], r["INDICATOR"], r["MONTH"])
            numerators[key] += r["NUMERATOR"]
            denominators[key] = r["DENOMINATOR"]
    found = []
    for spec in indicators:
        values = [_value(spec.id, code, m, numerators, denominators, rule) for m in months]
        comparator = _value(spec.id, commissioner, months[-1], numerators, denominators, rule) if months else None
        spc, note = _read(values, spec, rule)
        found.append(Trend(spec, tuple(months), tuple(values), spc, comparator, note))
    return found


def _count(
    indicator: str,
    code: str,
    month: dt.date,
    numerators: dict[tuple[str, str, dt.date], int],
    rule: DisclosureRule | None,
) -> int | float | None:
    return protected(rule, numerators.get((code, indicator, month), 0))


def _population(
    indicator: str, code: str, month: dt.date, denominators: dict[tuple[str, str, dt.date], float]
) -> float | None:
    """The weighted list behind a rate: the month's, or the same year's from another rate's row (it is constant).

    A month with no events has no row in the mart, but its rate is a real zero over the year's weighted list.
    """
    exact = denominators.get((code, indicator, month))
    if exact is not None:
        return exact
    same_year = [
        d
        for (c, i, m), d in denominators.items()
        if c == code and i not in RATIOS and _year_start(m) == _year_start(month)
    ]
    return max(same_year) if same_year else None


def _year_start(month: dt.date) -> int:
    return month.year if month.month >= 4 else month.year - 1


def _value(
    indicator: str,
    code: str,
    month: dt.date,
    numerators: dict[tuple[str, str, dt.date], int],
    denominators: dict[tuple[str, str, dt.date], float],
    rule: DisclosureRule | None,
) -> float | None:
    """A month's value: count per 1,000 weighted patients, or follow-ups per first attendance (protected parts)."""
    if indicator in RATIOS:
        top, bottom = RATIOS[indicator]
        follow_ups = _count(top, code, month, numerators, rule)
        firsts = _count(bottom, code, month, numerators, rule)
        if follow_ups is None or firsts is None:
            return None
        return follow_ups / firsts if firsts else 0.0
    count = _count(indicator, code, month, numerators, rule)
    people = protected(rule, _population(indicator, code, month, denominators))
    if count is None or people is None:
        return None
    return count * 1000 / people if people else 0.0


def _read(
    values: list[float | None], spec: IndicatorSpec, rule: DisclosureRule | None
) -> tuple[SPCResult | None, str | None]:
    """The SPC reading of a whole series, or why there is none."""
    if any(v is None for v in values):
        return None, "small numbers suppressed" if rule is not None else "no figure for some months"
    if len(values) < 2:
        return None, "one month only: no chart yet"
    result = xmr([float(v) for v in values if v is not None], improvement=spec.improvement)
    return result, "trial limits" if result.trial_limits else None
