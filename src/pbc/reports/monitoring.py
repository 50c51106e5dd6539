"""Budget monitoring for a report: a cluster's or practice's position by POD and practice, and its specialties.

The figures come from the `budget_monitoring` mart (`pbc monitor run`) summed by `pbc.finance.variance.summarise`,
the same code as `pbc monitor show`, so a report and the command line never disagree. The headline forecast is
the seasonal one (year to date scaled by last year's season), the profiled one where last year had nothing.

Specialties have no budget of their own, so their "variance" is the change on the same months of last year,
summed from the costed lines of the practices the budget run placed in the cluster (accepted challenges left out,
as in the mart).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from pbc.errors import PbcError
from pbc.finance.variance import Position, position, summarise, variance_percent
from pbc.indicators.disclosure import DisclosureRule
from pbc.reports.tables import largest, months_to_date, pod_rank, previous_year, protected, rows_where, summed

if TYPE_CHECKING:
    from pbc.reports.sources import Sources

MONEY = (
    "MONTH_ACTUAL_PENCE",
    "MONTH_VARIANCE_PENCE",
    "YTD_ACTUAL_PENCE",
    "YTD_VARIANCE_PENCE",
    "YTD_VARIANCE_PERCENT",
    "FORECAST_PENCE",
    "FORECAST_GAP_PENCE",
)


@dataclass(frozen=True)
class Monitoring:
    """Where a cluster (or practice) stands against its budget in a month: in total, by POD, by practice."""

    year: str
    where: Position
    budget_run: str
    total: dict[str, Any]
    pods: list[dict[str, Any]]
    practices: list[dict[str, Any]]
    notes: tuple[str, ...]


def _with_forecast(row: dict[str, Any], rule: DisclosureRule | None) -> dict[str, Any]:
    """The row with FORECAST_PENCE (seasonal, else profiled) and FORECAST_GAP_PENCE (forecast less annual budget).

    With a disclosure rule, a row whose activity to date is a suppressed small number shows no actual money
    either (money on a handful of spells could be worked back to them).
    """
    forecast = row["FORECAST_SEASONAL_PENCE"]
    if forecast is None:
        forecast = row["FORECAST_PROFILED_PENCE"]
    shown = {**row, "FORECAST_PENCE": forecast, "FORECAST_GAP_PENCE": forecast - row["ANNUAL_PLAN_PENCE"]}
    if rule is not None:
        activity = protected(rule, row["YTD_ACTUAL_ACTIVITY"])
        shown["YTD_ACTUAL_ACTIVITY"] = activity
        if activity is None and row["YTD_ACTUAL_ACTIVITY"]:
            shown.update(dict.fromkeys(MONEY))
    return shown


def monitoring_position(sources: Sources, year: str, as_at: dt.date | None) -> tuple[pa.Table, Position]:
    """The year's budget monitoring mart and the month reported (default: the latest with activity)."""
    rows = sources.mart("budget_monitoring", year)
    held = rows.filter(pc.or_(pc.not_equal(rows["ACTUAL_PENCE"], 0), pc.not_equal(rows["ACTUAL_ACTIVITY"], 0)))
    months = sorted(set(held["MONTH"].to_pylist()))
    return rows, position(months, year, sources.settings, as_at, dt.date.today())


def monitoring(
    sources: Sources,
    year: str,
    *,
    cluster: str | None = None,
    practices: Iterable[str] | None = None,
    as_at: dt.date | None = None,
    rule: DisclosureRule | None = None,
) -> Monitoring:
    """A cluster's (or a set of practices') budget position as at a month: total, by POD and by practice."""
    rows, where = monitoring_position(sources, year, as_at)
    if cluster is not None:
        mine = rows.filter(pc.equal(rows["LOCALITY"], cluster))
    else:
        mine = rows_where(rows, "PRACTICE", practices or ())
    run = rows["BUDGET_RUN"][0].as_py()
    if mine.num_rows == 0:
        raise PbcError(
            f"{cluster or 'these practices'} have no budget in {year}'s budget run {run}: set one with "
            "`pbc budget set`, then `pbc monitor run`"
        )
    table = ibis.memtable(mine.drop_columns(["BUDGET_RUN"]))
    total = summarise(table.mutate(ALL=ibis.literal("all")), ["ALL"], where).to_pylist()[0]
    pods = sorted(summarise(table, ["POD"], where).to_pylist(), key=lambda r: pod_rank(r["POD"]))
    practices_rows = summarise(table, ["PRACTICE"], where).to_pylist()
    notes = []
    latest = max((m for m in rows.filter(pc.not_equal(rows["ACTUAL_PENCE"], 0))["MONTH"].to_pylist()), default=None)
    if latest is not None and latest < where.as_at:
        notes.append(
            f"no activity is held for {where.as_at:%B %Y} yet: the latest month with activity is {latest:%B %Y}"
        )
    return Monitoring(
        year=year,
        where=where,
        budget_run=run,
        total=_with_forecast(total, rule),
        pods=[_with_forecast(r, rule) for r in pods],
        practices=[_with_forecast(r, rule) for r in practices_rows],
        notes=tuple(notes),
    )


def practice_positions(
    sources: Sources, year: str, cluster: str, as_at: dt.date | None = None, rule: DisclosureRule | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Each of a cluster's practices' budget position in total and by POD, summed in two passes for all of them."""
    rows, where = monitoring_position(sources, year, as_at)
    mine = rows.filter(pc.equal(rows["LOCALITY"], cluster))
    if mine.num_rows == 0:
        return {}, {}
    table = ibis.memtable(mine.drop_columns(["BUDGET_RUN"]))
    totals = {r["PRACTICE"]: _with_forecast(r, rule) for r in summarise(table, ["PRACTICE"], where).to_pylist()}
    pods: dict[str, list[dict[str, Any]]] = {}
    for r in sorted(summarise(table, ["PRACTICE", "POD"], where).to_pylist(), key=lambda r: pod_rank(r["POD"])):
        pods.setdefault(r["PRACTICE"], []).append(_with_forecast(r, rule))
    return totals, pods


def largest_variances(rows: list[dict[str, Any]], n: int = 5) -> list[dict[str, Any]]:
    """The n practices furthest from their budget to date (over or under), furthest first."""
    return largest(rows, lambda r: r["YTD_VARIANCE_PENCE"], n)


def specialty_changes(
    sources: Sources, commissioner: str, practices: Iterable[str], year: str, where: Position, n: int = 5
) -> list[dict[str, Any]]:
    """The n specialties whose spend to date moved most against the same months of last year, largest first."""
    last_year = previous_year(year)
    costs = rows_where(sources.costs(commissioner, year), "PRACTICE", practices)
    this = rows_where(costs, "MONTH", months_to_date(year, where.elapsed))
    last = rows_where(costs, "MONTH", months_to_date(last_year, where.elapsed))
    now = {r["SPECIALTY"]: r for r in summed(this, ["SPECIALTY"], ["PENCE", "ACTIVITY"])}
    before = {r["SPECIALTY"]: r for r in summed(last, ["SPECIALTY"], ["PENCE", "ACTIVITY"])}
    names = sources.specialty_names()
    rows = []
    for specialty in set(now) | set(before):
        this_pence = now.get(specialty, {}).get("PENCE", 0)
        last_pence = before.get(specialty, {}).get("PENCE", 0)
        rows.append(
            {
                "SPECIALTY": specialty,
                "NAME": names.get(specialty, ""),
                "PENCE": this_pence,
                "LAST_PENCE": last_pence,
                "ACTIVITY": now.get(specialty, {}).get("ACTIVITY", 0),
                "LAST_ACTIVITY": before.get(specialty, {}).get("ACTIVITY", 0),
                "CHANGE_PENCE": this_pence - last_pence,
                "CHANGE_PERCENT": variance_percent(this_pence, last_pence),
            }
        )
    return largest(sorted(rows, key=lambda r: r["SPECIALTY"]), lambda r: r["CHANGE_PENCE"], n)
