"""Historic activity and cost for every cluster of a commissioner at once, as the profiles compute it for one.

`pbc.indicators.profiles.activity_history` gives one unit's activity and cost by financial year and POD, per 1,000
patients and per head, beside the commissioner's. It costs the commissioner's lines afresh for each unit it is
asked about (two passes over every costed line of every year), which for a pack of each of Brent's five clusters
is most of the time the packs take. Reports need it for every cluster in one go, so this module computes the same
table, to the same definitions and in the same layout (`profiles.ACTIVITY_SCHEMA`), from one aggregate of the
commissioner's costed lines (`Sources.costs`) and one population count per year. The tests check it against
`profiles.activity_history` figure for figure, so the two cannot drift apart.

The definitions (those of `profiles.activity_history`): the unit's costed lines (attributed on the activity date)
of every financial year up to the chosen one, by year and POD; activity is counted lines (attended appointments,
spells, attendances) and cost their price; the population is the mean of the year's registered lists. With a
disclosure rule the activity, the populations and the commissioner's activity are protected, the cost of a
suppressed activity is not shown, and every rate is recomputed from the protected parts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from pbc.calendar import parse_financial_year
from pbc.errors import NotLoadedError
from pbc.indicators.disclosure import DisclosureRule
from pbc.indicators.profiles import ACTIVITY_SCHEMA, POD_ORDER, UNIT_COLUMN
from pbc.reports.tables import protected, summed

if TYPE_CHECKING:
    from pbc.reports.sources import Sources


def _per(part: float | None, whole: float | None, scale: float) -> float | None:
    return None if part is None or not whole else part / whole * scale


def _pod_rank(pod: str) -> int:
    return POD_ORDER.index(pod) if pod in POD_ORDER else len(POD_ORDER)


def activity_histories(
    sources: Sources,
    commissioner: str,
    year: str,
    codes: Iterable[str],
    level: str = "cluster",
    rule: DisclosureRule | None = None,
) -> dict[str, pa.Table]:
    """Each unit's activity and cost by financial year and POD up to `year` (`profiles.ACTIVITY_SCHEMA`)."""
    column = UNIT_COLUMN[level]
    costs = sources.costs(commissioner, year)
    measures = ["ACTIVITY", "PENCE", "UNPRICED"]
    whole = {(r["FINANCIAL_YEAR"], r["POD"]): r for r in summed(costs, ["FINANCIAL_YEAR", "POD"], measures)}
    years = sorted({y for y, _ in whole}, key=parse_financial_year)
    people = {y: _people(sources, commissioner, y, column) for y in years}
    found = {}
    for code in codes:
        mine = costs.filter(pc.equal(costs[column], code))
        rows = []
        unit = summed(mine, ["FINANCIAL_YEAR", "POD"], measures)
        for r in sorted(unit, key=lambda r: (parse_financial_year(r["FINANCIAL_YEAR"]), _pod_rank(r["POD"]))):
            units, everyone = people[r["FINANCIAL_YEAR"]]
            mine_people = None if units is None else units.get(code, 0.0)
            rows.append(_row(r, whole[(r["FINANCIAL_YEAR"], r["POD"])], mine_people, everyone, rule))
        found[code] = pa.Table.from_pylist(rows, schema=ACTIVITY_SCHEMA)
    return found


def _people(
    sources: Sources, commissioner: str, year: str, column: str
) -> tuple[dict[str, float] | None, float | None]:
    """The mean list of each unit and of the commissioner in a year (None where the year has no lists)."""
    try:
        table, dates = sources.population(commissioner, year)
    except NotLoadedError:
        return None, None
    units = {r[column]: r["N"] / dates for r in summed(table, [column], ["N"]) if r[column] is not None}
    return units, sum(table["N"].to_pylist()) / dates


def _row(
    r: dict[str, Any],
    total: dict[str, Any],
    mine: float | None,
    everyone: float | None,
    rule: DisclosureRule | None,
) -> dict[str, Any]:
    """One year and POD of a unit's history, protected and recomputed as `profiles.activity_history` does."""
    activity, population = protected(rule, r["ACTIVITY"]), protected(rule, mine)
    all_activity, all_population = protected(rule, total["ACTIVITY"]), protected(rule, everyone)
    cost = r["PENCE"] if activity is not None else None
    return {
        "FINANCIAL_YEAR": r["FINANCIAL_YEAR"],
        "POD": r["POD"],
        "ACTIVITY": None if activity is None else float(activity),
        "COST_PENCE": cost,
        "UNPRICED": r["UNPRICED"] if rule is None else None,
        "POPULATION": None if population is None else float(population),
        "ACTIVITY_PER_1000": _per(activity, population, 1000),
        "COST_PER_HEAD_PENCE": _per(cost, population, 1),
        "COMMISSIONER_ACTIVITY_PER_1000": _per(all_activity, all_population, 1000),
        "COMMISSIONER_COST_PER_HEAD_PENCE": _per(total["PENCE"], all_population, 1),
    }
