"""Benchmark tables: every chosen indicator for a commissioner's practices or clusters in a financial year.

`run_benchmarks` finds the year's list dates and the commissioner, counts each indicator on the engine
(`measures.gather`) and computes its table (`compute.compute`). `stack` puts the tables together in one layout for
a file; `funnel_curve` gives the 95% and 99.8% control limits over a range of denominators, to draw the funnel
behind the units' points; `summary` counts the units that are better, similar or worse. docs/indicators.md says
how to read them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pbc.calendar import parse_financial_year
from pbc.errors import PbcError
from pbc.indicators.compute import CONFIDENCE, LEVELS, SCHEMA, Benchmark, compute
from pbc.indicators.definitions import Definition, choose, codelists_for, load_definitions
from pbc.indicators.disclosure import DisclosureRule
from pbc.indicators.measures import gather
from pbc.indicators.methods import funnel_limits
from pbc.indicators.populations import ListDates, list_dates
from pbc.reference.load import REFERENCE
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

FUNNEL_KIND = {"crude_rate": "rate", "proportion": "proportion", "dsr": "rate", "isr": "ratio"}
CURVE_SCHEMA = pa.schema(
    [
        ("INDICATOR", pa.string()),
        ("BREAKDOWN", pa.string()),
        ("X", pa.float64()),
        ("BASELINE", pa.float64()),
        ("LOWER_95", pa.float64()),
        ("UPPER_95", pa.float64()),
        ("LOWER_998", pa.float64()),
        ("UPPER_998", pa.float64()),
    ]
)


def check_year(year: str) -> str:
    """A financial year as pbc writes it, or an error that shows the form."""
    try:
        parse_financial_year(year)
    except ValueError as error:
        raise PbcError(str(error)) from None
    return year.strip()


def choose_commissioner(dates: ListDates, commissioner: str | None) -> str:
    """The commissioner to benchmark: the one asked for, or the only one whose practices have lists that year."""
    found = dates.commissioners
    if commissioner is not None:
        if commissioner not in found:
            held = ", ".join(found) or "none"
            raise PbcError(
                f"no registered lists of {commissioner!r}'s practices are held for {dates.year} "
                f"(commissioners with lists: {held})"
            )
        return commissioner
    if len(found) != 1:
        raise PbcError(
            f"the lists of {dates.year} cover {len(found)} commissioners ({', '.join(found) or 'none'}): "
            "choose one with --commissioner"
        )
    return found[0]


def unit_names(warehouse: Warehouse) -> dict[str, str]:
    """Organisation names by code (practices, clusters, commissioners), from the reference data."""
    organisations = warehouse.read(REFERENCE, "organisations").select(["code", "name"])
    return {c: n for c, n in zip(*(organisations[k].to_pylist() for k in ("code", "name")), strict=True) if n}


def run_benchmarks(
    con: BaseBackend,
    warehouse: Warehouse,
    year: str,
    *,
    level: str = "practice",
    indicators: Iterable[str] = (),
    commissioner: str | None = None,
    definitions: Path | None = None,
    rule: DisclosureRule | None = None,
) -> list[Benchmark]:
    """Each chosen indicator's benchmark table (all shipped indicators when none is named)."""
    year = check_year(year)
    if level not in LEVELS:
        raise PbcError(f"--level must be one of {', '.join(LEVELS)}, got {level!r}")
    chosen = choose(load_definitions(definitions), indicators)
    codelists = codelists_for(definitions)
    dates = list_dates(con, warehouse, year)
    code = choose_commissioner(dates, commissioner)
    names = unit_names(warehouse)
    counted = gather(con, warehouse, chosen, year, code, dates, codelists)
    return [compute(counts, level, names, rule, dates.clusters) for counts in counted]


def stack(benchmarks: Iterable[Benchmark]) -> pa.Table:
    """All the tables in one, in the shared column layout (`compute.SCHEMA`)."""
    tables = [b.table for b in benchmarks]
    return pa.concat_tables(tables) if tables else SCHEMA.empty_table()


def funnel_curve(benchmark: Benchmark, points: int = 100) -> pa.Table:
    """The funnel's control limits at `points` denominators spread (log-evenly) over the units' range.

    The benchmark table gives the limits at each unit's own denominator; these rows draw the whole funnel from a
    little below the smallest unit to a little above the largest, for each breakdown value.
    """
    definition = benchmark.definition
    kind = FUNNEL_KIND[definition.statistic]
    rows: list[dict[str, Any]] = []
    table = benchmark.table
    for breakdown in _unique(table["BREAKDOWN"].to_pylist()):
        part = table.filter(
            pc.is_null(table["BREAKDOWN"]) if breakdown is None else pc.equal(table["BREAKDOWN"], breakdown)
        )
        comparator = part["COMPARATOR"][0].as_py()
        xs = [x for x in part["FUNNEL_X"].to_pylist() if x is not None and x > 0]
        if comparator is None or not xs or comparator <= 0:
            continue
        target = 1.0 if kind == "ratio" else comparator / definition.multiplier
        if kind == "proportion" and target > 1:
            continue
        grid = np.geomspace(min(xs) * 0.8, max(xs) * 1.2, points)
        limits = funnel_limits(kind, grid, target, CONFIDENCE, definition.multiplier)  # type: ignore[arg-type]
        for i, x in enumerate(limits.denominators):
            rows.append(
                {
                    "INDICATOR": definition.id,
                    "BREAKDOWN": breakdown,
                    "X": x,
                    "BASELINE": limits.baseline,
                    "LOWER_95": limits.lower[0.95][i],
                    "UPPER_95": limits.upper[0.95][i],
                    "LOWER_998": limits.lower[0.998][i],
                    "UPPER_998": limits.upper[0.998][i],
                }
            )
    return pa.Table.from_pylist(rows, schema=CURVE_SCHEMA)


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def summary(benchmark: Benchmark) -> list[dict[str, Any]]:
    """Per breakdown value: the commissioner's value and how many units compare better, similar or worse."""
    rows = []
    table = benchmark.table.to_pylist()
    for breakdown in _unique([r["BREAKDOWN"] for r in table]):
        part = [r for r in table if r["BREAKDOWN"] == breakdown]
        comparator = next(r for r in part if r["LEVEL"] == "commissioner")
        units = [r for r in part if r["LEVEL"] != "commissioner"]
        counted = Counter(r["COMPARISON"] or "not compared" for r in units)
        rows.append(
            {
                "indicator": benchmark.definition.id,
                "breakdown": breakdown,
                "commissioner_value": comparator["VALUE"],
                "units": len(units),
                **{k: counted.get(k, 0) for k in _CATEGORIES[benchmark.definition.polarity]},
                "suppressed": counted.get("suppressed", 0),
                "not_compared": counted.get("not compared", 0),
            }
        )
    return rows


_CATEGORIES = {
    "low_is_good": ("better", "similar", "worse"),
    "high_is_good": ("better", "similar", "worse"),
    "neither": ("lower", "similar", "higher"),
}


def describe(definition: Definition) -> dict[str, Any]:
    """A definition as the `indicators` listing shows it."""
    return {
        "id": definition.id,
        "title": definition.title,
        "statistic": definition.statistic,
        "unit": definition.unit,
        "polarity": definition.polarity,
        "numerator": definition.numerator.dataset,
        "denominator": definition.denominator.dataset,
        "breakdown": definition.breakdown,
        "review_date": definition.review_date,
        "file": definition.file,
    }
