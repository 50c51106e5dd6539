"""The monitoring marts: the tables the web pages and reports read, made once a month by `pbc monitor run`.

- `budget_monitoring`: budget, actual and last year's actual per practice, cluster, POD and month (the run used
  is in BUDGET_RUN);
- `spend`: actual activity and money per practice, cluster, POD, specialty, provider and month;
- `trends`: the trend indicators per practice, cluster and commissioner and month;
- `benchmarks` and `funnels`: every shipped indicator for the year per practice against the commissioner, with the
  funnel plot's control limits (`pbc.indicators.benchmark`).

A year's marts are replaced whole when the month is run again, so a re-run never adds to them, and with the same
inputs gives the same figures. They live in the `marts` namespace, so a reader sees one consistent set.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from pbc.errors import NotLoadedError
from pbc.finance.monitoring import monthly, spend
from pbc.finance.runs import chosen_run
from pbc.finance.trends import trends
from pbc.indicators.benchmark import CURVE_SCHEMA, funnel_curve, run_benchmarks, stack
from pbc.indicators.compute import SCHEMA as BENCHMARK_SCHEMA
from pbc.warehouse import Source, Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

MARTS = "marts"


def refresh(
    con: BaseBackend, warehouse: Warehouse, year: str, run_id: str | None = None, accepted: pa.Table | None = None
) -> dict[str, Any]:
    """Make a year's marts from its budget run (default: the latest) and keep them; returns what was made."""
    run = chosen_run(warehouse, year, run_id)
    budget = con.to_pyarrow(monthly(con, warehouse, run, accepted))
    budget = budget.append_column("BUDGET_RUN", pa.array([run["RUN_ID"]] * budget.num_rows, pa.string()))
    spent = con.to_pyarrow(spend(con, warehouse, run, accepted))
    trend = trends(con, warehouse, run)
    trend = trend.append_column("FINANCIAL_YEAR", pa.array([year] * trend.num_rows, pa.string()))
    compared, curves = _benchmarks(con, warehouse, year, run["COMMISSIONER"])
    left_out = 0 if accepted is None else accepted.num_rows
    warehouse.replace_rows_of(
        {
            "budget_monitoring": budget.sort_by([(c, "ascending") for c in ("PRACTICE", "POD", "MONTH")]),
            "spend": spent,
            "trends": trend,
            "benchmarks": compared,
            "funnels": curves,
        },
        MARTS,
        "FINANCIAL_YEAR",
        Source(path=f"budget run {run['RUN_ID']}", sha256="", bytes=0),
        {
            "financial_year": year,
            "budget_run": run["RUN_ID"],
            "challenges_left_out": left_out,
            "made_at": dt.datetime.now(dt.UTC).isoformat(),
        },
    )
    return {
        "financial_year": year,
        "budget_run": run["RUN_ID"],
        "budget_rows": budget.num_rows,
        "spend_rows": spent.num_rows,
        "trend_rows": trend.num_rows,
        "benchmark_rows": compared.num_rows,
        "challenges_left_out": left_out,
    }


def _benchmarks(con: BaseBackend, warehouse: Warehouse, year: str, commissioner: str) -> tuple[pa.Table, pa.Table]:
    """The year's practice benchmarks and funnel curves (empty tables when the year has no lists to rate by)."""
    try:
        found = run_benchmarks(con, warehouse, year, level="practice", commissioner=commissioner)
    except NotLoadedError:
        return BENCHMARK_SCHEMA.empty_table(), _with_year(CURVE_SCHEMA.empty_table(), year)
    curves = [funnel_curve(b) for b in found]
    return stack(found), _with_year(pa.concat_tables(curves) if curves else CURVE_SCHEMA.empty_table(), year)


def _with_year(table: pa.Table, year: str) -> pa.Table:
    return table.append_column("FINANCIAL_YEAR", pa.array([year] * table.num_rows, pa.string()))


def mart(warehouse: Warehouse, table: str, year: str) -> pa.Table:
    """One mart's rows for a year; says what to run when there are none."""
    if not warehouse.has(MARTS):
        raise NotLoadedError(f"no monitoring has been run: run `pbc monitor run --year {year}` first")
    rows = warehouse.read(MARTS, table)
    rows = rows.filter(pc.equal(rows["FINANCIAL_YEAR"], year))
    if rows.num_rows == 0:
        raise NotLoadedError(f"no monitoring for {year} has been run: run `pbc monitor run --year {year}` first")
    return rows
