"""Budget monitoring: each practice's costed activity against its phased indicative budget, month by month.

The monthly table has one row per practice, POD and month of the budget year: the phased budget (as PLAN_PENCE,
so contract and budget monitoring are summed and read by the same code, `pbc.finance.variance`), the actual
activity and money (costed lines attributed to the commissioner's practices, accepted challenges left out), and
last year's actual in the same month (for the seasonal forecast). A practice keeps the cluster of its budget run
(its cluster on the census date), so that practices add up to clusters and clusters to the commissioner exactly.
Activity of a practice with no budget (one that joined after the census) shows against a budget of £0 under the
cluster it was attributed to.

`spend` breaks the actual down further (specialty and provider), where there is no budget to compare with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa

from pbc.calendar import financial_year_label, parse_financial_year
from pbc.costed import all_costed_lines
from pbc.finance.runs import run_table
from pbc.finance.variance import PREVIOUS
from pbc.phasing import financial_months, month_index
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

KEYS = ("PRACTICE", "LOCALITY", "POD")
LEVELS = {
    "practice": ("LOCALITY", "PRACTICE"),
    "cluster": ("LOCALITY",),
    "commissioner": ("COMMISSIONER",),
}
SPEND_KEYS = ("PRACTICE", "LOCALITY", "POD", "SPECIALTY", "PROCODE", "MONTH")


def _lines_of(
    con: BaseBackend, warehouse: Warehouse, run: dict[str, Any], year: str, accepted: pa.Table | None
) -> ibis.Table:
    lines = all_costed_lines(con, warehouse, accepted=accepted)
    pods = run_table(warehouse, "practice_budgets", run["RUN_ID"]).column("POD").unique().to_pylist()
    return lines.filter(
        (lines.FINANCIAL_YEAR == year) & (lines.COMMISSIONER == run["COMMISSIONER"]) & lines.POD.isin(pods)
    )


def _budget_localities(warehouse: Warehouse, run: dict[str, Any]) -> ibis.Table:
    practices = run_table(warehouse, "practice_budgets", run["RUN_ID"]).select(["PRACTICE", "LOCALITY"])
    rows = {r["PRACTICE"]: r["LOCALITY"] for r in practices.to_pylist()}
    return ibis.memtable(
        {"B_PRACTICE": list(rows), "B_LOCALITY": list(rows.values())},
        schema={"B_PRACTICE": "string", "B_LOCALITY": "string"},
    )


def _placed(lines: ibis.Table, localities: ibis.Table) -> ibis.Table:
    """Lines with the practice's budget cluster in place of the activity's (kept where it has no budget)."""
    joined = lines.left_join(localities, lines.PRACTICE == localities.B_PRACTICE)
    return joined.mutate(LOCALITY=ibis.coalesce(joined.B_LOCALITY, joined.LOCALITY)).drop("B_PRACTICE", "B_LOCALITY")


def monthly(
    con: BaseBackend, warehouse: Warehouse, run: dict[str, Any], accepted: pa.Table | None = None
) -> ibis.Table:
    """Budget, actual and last year's actual per practice, cluster, POD and month of the run's year."""
    year = run["FINANCIAL_YEAR"]
    previous_year = financial_year_label(parse_financial_year(year) - 1)
    zero = ibis.literal(0, "int64")
    phased = run_table(warehouse, "phased_budgets", run["RUN_ID"])
    budget = ibis.memtable(phased.select(["PRACTICE", "LOCALITY", "POD", "MONTH", "BUDGET_PENCE"]).to_pandas())
    budget = budget.select(
        *KEYS,
        MONTH=budget.MONTH.cast("date"),
        PLAN_ACTIVITY=zero,
        PLAN_PENCE=budget.BUDGET_PENCE.cast("int64"),
        ACTUAL_ACTIVITY=zero,
        ACTUAL_PENCE=zero,
        **{PREVIOUS: zero},
    )
    localities = _budget_localities(warehouse, run)
    now = _placed(_lines_of(con, warehouse, run, year, accepted), localities)
    actual = now.group_by([*KEYS, "MONTH"]).aggregate(
        ACTUAL_ACTIVITY=now.COUNTED.sum().cast("int64"), ACTUAL_PENCE=now.PRICE_PENCE.sum().cast("int64")
    )
    actual = actual.mutate(PLAN_ACTIVITY=zero, PLAN_PENCE=zero, **{PREVIOUS: zero})
    before = _placed(_lines_of(con, warehouse, run, previous_year, accepted), localities)
    months = ibis.memtable(
        {"M_INDEX": list(range(1, 13)), "M_MONTH": financial_months(year)},
        schema={"M_INDEX": "int64", "M_MONTH": "date"},
    )
    before = before.mutate(M_INDEX=month_index(before.MONTH))
    before = before.join(months, before.M_INDEX == months.M_INDEX).mutate(MONTH=months.M_MONTH)
    last = before.group_by([*KEYS, "MONTH"]).aggregate(**{PREVIOUS: before.PRICE_PENCE.sum().cast("int64")})
    last = last.mutate(PLAN_ACTIVITY=zero, PLAN_PENCE=zero, ACTUAL_ACTIVITY=zero, ACTUAL_PENCE=zero)
    columns = budget.columns
    both = ibis.union(
        budget,
        actual.select(*columns).cast(budget.schema()),
        last.select(*columns).cast(budget.schema()),
        distinct=False,
    )
    summed = both.group_by([*KEYS, "MONTH"]).aggregate(
        **{c: both[c].sum().cast("int64") for c in columns if c not in (*KEYS, "MONTH")}
    )
    return summed.mutate(COMMISSIONER=ibis.literal(run["COMMISSIONER"]), FINANCIAL_YEAR=ibis.literal(year))


def spend(con: BaseBackend, warehouse: Warehouse, run: dict[str, Any], accepted: pa.Table | None = None) -> ibis.Table:
    """Actual activity and money per practice, cluster, POD, specialty, provider and month of the run's year."""
    lines = _placed(_lines_of(con, warehouse, run, run["FINANCIAL_YEAR"], accepted), _budget_localities(warehouse, run))
    summed = lines.group_by(list(SPEND_KEYS)).aggregate(
        ACTIVITY=lines.COUNTED.sum().cast("int64"), PENCE=lines.PRICE_PENCE.sum().cast("int64")
    )
    return summed.mutate(
        COMMISSIONER=ibis.literal(run["COMMISSIONER"]), FINANCIAL_YEAR=ibis.literal(run["FINANCIAL_YEAR"])
    )
