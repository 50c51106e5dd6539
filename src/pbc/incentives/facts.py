"""Gathering the facts a scheme's rules are applied to, from the warehouse, for a commissioner and year.

- registered population: the quinary lists at the latest date on or before the scheme's population date, each
  practice in the locality it belonged to on that date;
- sign-ups, report deliveries and level decisions: the incentive registers;
- budget and outturn: the year's latest budget run and its monitoring marts. The outturn is the year's actual
  once all twelve months are in, and the profiled forecast before then (flagged as a forecast).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING

import ibis

from pbc.errors import NotLoadedError
from pbc.finance.marts import mart
from pbc.finance.runs import chosen_run, run_table, runs
from pbc.finance.variance import position, summarise
from pbc.incentives.payments import LevelDecision, LocalityFacts, PracticeFacts
from pbc.incentives.registers import register
from pbc.incentives.scheme import IncentiveScheme
from pbc.indicators.populations import placed_lists, registered_lists
from pbc.phasing import financial_months
from pbc.settings import Settings
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend


def _population(con: BaseBackend, warehouse: Warehouse, scheme: IncentiveScheme, commissioner: str) -> list[dict]:
    lists = registered_lists(con, warehouse)
    dates = [d for d in lists.select("extract_date").distinct().to_pyarrow()["extract_date"].to_pylist()]
    chosen = [d for d in dates if d <= scheme.population_date]
    if not chosen:
        raise NotLoadedError(f"no registered list dated on or before {scheme.population_date} is loaded")
    placed = placed_lists(con, warehouse, (max(chosen),))
    placed = placed.filter(placed.COMMISSIONER == commissioner)
    summed = placed.group_by(["practice_code", "LOCALITY"]).aggregate(N=placed.patients.sum().cast("int64"))
    rows = summed.to_pyarrow().to_pylist()
    if not rows:
        raise NotLoadedError(f"no practice of {commissioner} is on the list of {max(chosen)}")
    return rows


def _budgets_and_outturns(
    warehouse: Warehouse, settings: Settings, year: str
) -> tuple[dict[str, int], dict[str, int], bool]:
    """Budget and outturn per practice, and whether the outturn is a forecast; empty when none is held."""
    if not runs(warehouse, year):
        return {}, {}, False
    run = chosen_run(warehouse, year)
    budgets: dict[str, int] = defaultdict(int)
    for r in run_table(warehouse, "practice_budgets", run["RUN_ID"]).to_pylist():
        budgets[r["PRACTICE"]] += r["BUDGET_PENCE"]
    try:
        rows = mart(warehouse, "budget_monitoring", year)
    except NotLoadedError:
        return dict(budgets), {}, False
    held = sorted({r["MONTH"] for r in rows.to_pylist() if r["ACTUAL_PENCE"]})
    where = position(held, year, settings, None, dt.date.today())
    summary = summarise(ibis.memtable(rows.to_pandas()), ["PRACTICE"], where).to_pylist()
    complete = where.elapsed == 12
    outturn = {r["PRACTICE"]: r["YTD_ACTUAL_PENCE"] if complete else r["FORECAST_PROFILED_PENCE"] for r in summary}
    return dict(budgets), outturn, not complete


def gather_facts(
    con: BaseBackend, warehouse: Warehouse, settings: Settings, scheme: IncentiveScheme, commissioner: str
) -> tuple[list[PracticeFacts], list[LocalityFacts]]:
    """The practices' and localities' facts for the scheme's year (see the module docstring)."""
    year = scheme.financial_year
    population = _population(con, warehouse, scheme, commissioner)
    months = set(financial_months(year))
    signed = {r["practice"]: r["signed_on"] for r in register(warehouse, "signups") if r["financial_year"] == year}
    delivered: dict[str, set[dt.date]] = defaultdict(set)
    for r in register(warehouse, "deliveries"):
        month = dt.date(int(str(r["month"])[:4]), int(str(r["month"])[5:7]), 1)
        if month in months:
            delivered[str(r["practice"])].add(month)
    budgets, outturns, forecast = _budgets_and_outturns(warehouse, settings, year)
    practices = [
        PracticeFacts(
            practice=r["practice_code"],
            locality=r["LOCALITY"],
            patients=r["N"],
            signed_on=signed.get(r["practice_code"]),
            reports_delivered=frozenset(delivered.get(r["practice_code"], set())),
            budget_pence=budgets.get(r["practice_code"]),
            outturn_pence=outturns.get(r["practice_code"]),
            outturn_is_forecast=forecast,
        )
        for r in population
    ]
    decisions: dict[str, list[LevelDecision]] = defaultdict(list)
    for r in register(warehouse, "level_decisions"):
        decisions[str(r["locality"])].append(
            LevelDecision(str(r["locality"]), r["effective_from"], int(r["level"]), str(r["minute"]))
        )
    by_locality: dict[str, int] = defaultdict(int)
    for p in practices:
        if p.locality:
            by_locality[p.locality] += p.patients
    localities = [LocalityFacts(code, n, tuple(decisions.get(code, []))) for code, n in sorted(by_locality.items())]
    return practices, localities
