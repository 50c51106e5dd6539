"""Budget runs: each set of budgets kept with its scheme, parameters and inputs, so any figure can be traced back.

A run is never changed. Setting a budget again makes a new run with a new id; monitoring uses the latest run of
the year unless told which. The run record holds the scheme file's SHA-256, its parameters, the census list date,
the snapshots of the warehouse it read (activity catalogue, tariff, lists, registers, reference), how many
accepted challenges were left out, and when and by whom it was made.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import uuid
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from pbc.errors import PbcError
from pbc.finance.budgets import Budget, BudgetInputs
from pbc.finance.scheme import Scheme
from pbc.ingest.store import ActivityStore
from pbc.warehouse import Source, Warehouse

if TYPE_CHECKING:
    from pathlib import Path

BUDGETS = "budgets"
TRACED_NAMESPACES = ("reference", "lists", "registers", "registrations", "tariff", "localities")


class BudgetRunError(PbcError, ValueError):
    """A budget run asked for is not held."""


def _inputs_record(warehouse: Warehouse) -> dict[str, Any]:
    """The snapshot each input namespace was read at, and the SHA-256 of the activity catalogue then."""
    snapshots = {ns: (p.name if (p := warehouse.current(ns)) is not None else None) for ns in TRACED_NAMESPACES}
    catalogue = ActivityStore(warehouse).catalog_path
    digest = hashlib.sha256(catalogue.read_bytes()).hexdigest() if catalogue.exists() else None
    return {"snapshots": snapshots, "activity_catalogue_sha256": digest}


def keep_run(
    warehouse: Warehouse,
    scheme: Scheme,
    scheme_sha256: str,
    scheme_file: Path,
    budget: Budget,
    inputs: BudgetInputs,
    challenges_left_out: int,
) -> str:
    """Store a budget run in the `budgets` namespace; returns its id (year, time and a short random part)."""
    made = dt.datetime.now(dt.UTC)
    run_id = f"{scheme.budget_year.replace('/', '-')}-{made:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    record = {
        "RUN_ID": run_id,
        "FINANCIAL_YEAR": scheme.budget_year,
        "COMMISSIONER": scheme.commissioner,
        "SCHEME": scheme.name,
        "SCHEME_SHA256": scheme_sha256,
        "PARAMETERS": json.dumps(scheme.parameters(), sort_keys=True),
        "CENSUS_LIST_DATE": inputs.census_list_date,
        "INPUTS": json.dumps(_inputs_record(warehouse), sort_keys=True),
        "CHALLENGES_LEFT_OUT": challenges_left_out,
        "MADE_AT": made.isoformat(),
        "MADE_BY": getpass.getuser(),
    }

    def tagged(table: pa.Table) -> pa.Table:
        return table.append_column("RUN_ID", pa.array([run_id] * table.num_rows, pa.string()))

    warehouse.replace_rows_of(
        {
            "runs": pa.Table.from_pylist([record]),
            "practice_budgets": tagged(budget.practices),
            "central_budgets": tagged(budget.central),
            "phased_budgets": tagged(budget.phased),
        },
        BUDGETS,
        "RUN_ID",
        Source.of(scheme_file),
        {"latest_run": run_id},
    )
    return run_id


def runs(warehouse: Warehouse, year: str | None = None) -> list[dict[str, Any]]:
    """The budget runs held, oldest first (of one year if given)."""
    if not warehouse.has(BUDGETS):
        return []
    held = warehouse.read(BUDGETS, "runs").to_pylist()
    return sorted((r for r in held if year is None or r["FINANCIAL_YEAR"] == year), key=lambda r: r["MADE_AT"])


def chosen_run(warehouse: Warehouse, year: str, run_id: str | None = None) -> dict[str, Any]:
    """The run asked for, or the latest run of the year."""
    held = runs(warehouse, year)
    if run_id is not None:
        found = [r for r in held if r["RUN_ID"] == run_id]
        if not found:
            raise BudgetRunError(f"no budget run {run_id} for {year} is held (see `pbc budget runs`)")
        return found[0]
    if not held:
        raise BudgetRunError(f"no budget has been set for {year}: run `pbc budget set SCHEME.toml` first")
    return held[-1]


def run_table(warehouse: Warehouse, table: str, run_id: str) -> pa.Table:
    """One table of one run (practice_budgets, central_budgets or phased_budgets)."""
    rows = warehouse.read(BUDGETS, table)
    return rows.filter(pc.equal(rows["RUN_ID"], run_id))
