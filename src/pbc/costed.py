"""Costed activity: every admitted-care, outpatient and A&E line, attributed to its practice and priced.

Contract monitoring, budgets, monitoring and the reports all start from the same lines, so they are made in one
place: `attribute` (practice, locality, commissioner on the activity date) then `price_with` (the tariff of the
line's year, or of a chosen year when repricing a baseline). The three data sets are laid out alike so they can be
stacked and summed together:

- MONTH is the first day of the month of the date that chose the tariff (discharge, appointment, arrival): PbR
  counts a spell when it ends, and so does every monthly figure in pbc;
- SPECIALTY is the treatment function; A&E lines have none and count under 180 (Accident & Emergency);
- COUNTED is 1 for a line that is activity (an attended appointment, a spell, an attendance) and 0 otherwise
  (a missed appointment), so activity and money sum from the same rows;
- a line whose challenge was accepted by the clearing house is left out when `accepted` lines are given, so it
  leaves the practice's spend at the next run and nothing else moves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import ibis
import pyarrow as pa

from pbc.activity import loaded
from pbc.ingest.contracts import load_contracts
from pbc.quality.attribution import attribute
from pbc.tariff.model import tariff_tables
from pbc.tariff.pricing import DATASETS, PAYABLE_ATTENDED, TARIFF_DATE, financial_year, price_with
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

AE_SPECIALTY = "180"  # treatment function code for Accident & Emergency
AGE_COLUMN = {"apc": "STARTAGE", "op": "APPTAGE", "ae": "ARRIVALAGE"}
COSTED_COLUMNS = (
    "DATASET",
    "PROCODE",
    "RECORD_KEY",
    "PURCODE",
    "PRACTICE",
    "LOCALITY",
    "COMMISSIONER",
    "PATIENT_ID",
    "AGE",
    "SEX",
    "MONTH",
    "FINANCIAL_YEAR",
    "TARIFF_YEAR",
    "POD",
    "SPECIALTY",
    "CURRENCY",
    "COUNTED",
    "PRICED",
    "PRICE_PENCE",
)


def costed_lines(
    con: BaseBackend,
    warehouse: Warehouse,
    dataset: str,
    *,
    at_year: str | None = None,
    accepted: pa.Table | None = None,
    tariff: dict[str, ibis.Table] | None = None,
) -> ibis.Table:
    """One data set's stored lines with the COSTED_COLUMNS (see the module docstring).

    `at_year` reprices every line at that year's tariff; FINANCIAL_YEAR stays the year the line happened in.
    `accepted` is the ledger's accepted lines (`Ledger.accepted_lines()`): those lines are left out.
    """
    if dataset not in DATASETS:
        raise ValueError(f"pbc costs {', '.join(DATASETS)} lines, not {dataset!r}")
    lines = attribute(con, warehouse, dataset)
    priced = price_with(tariff if tariff is not None else tariff_tables(con, warehouse), dataset, lines, at_year)
    date = priced[TARIFF_DATE[dataset]]
    counted = priced.ATTENDED.isin(PAYABLE_ATTENDED).fill_null(False) if dataset == "op" else ibis.literal(True)
    specialty = ibis.literal(AE_SPECIALTY) if dataset == "ae" else priced.TRETSPEF
    costed = priced.select(
        DATASET=ibis.literal(dataset),
        PROCODE=priced.PROCODE,
        RECORD_KEY=priced[load_contracts()[dataset].key],
        PURCODE=priced.PURCODE,
        PRACTICE=priced.PRACTICE,
        LOCALITY=priced.LOCALITY,
        COMMISSIONER=priced.COMMISSIONER,
        PATIENT_ID=priced.PATIENT_ID,
        AGE=priced[AGE_COLUMN[dataset]].cast("int64"),
        SEX=priced.SEX,
        MONTH=date.truncate("M"),
        FINANCIAL_YEAR=financial_year(date),
        TARIFF_YEAR=priced.TARIFF_YEAR,
        POD=priced.POD.fill_null("OP_UNKNOWN"),
        SPECIALTY=specialty.cast("string"),
        CURRENCY=priced.CURRENCY,
        COUNTED=counted.cast("int64"),
        PRICED=priced.PRICED,
        PRICE_PENCE=priced.PRICE_PENCE,
    )
    if accepted is not None and accepted.num_rows:
        gone = ibis.memtable(accepted.select(["DATASET", "PROCODE", "RECORD_KEY"]).to_pandas())
        gone = gone.filter(gone.DATASET == dataset)
        costed = costed.anti_join(gone, [costed.PROCODE == gone.PROCODE, costed.RECORD_KEY == gone.RECORD_KEY]).select(
            *COSTED_COLUMNS
        )
    return costed


def all_costed_lines(
    con: BaseBackend,
    warehouse: Warehouse,
    datasets: Iterable[str] = DATASETS,
    *,
    at_year: str | None = None,
    accepted: pa.Table | None = None,
) -> ibis.Table:
    """The costed lines of every loaded data set among `datasets`, stacked (the tariff is read once)."""
    tariff = tariff_tables(con, warehouse)
    tables = [
        costed_lines(con, warehouse, d, at_year=at_year, accepted=accepted, tariff=tariff)
        for d in datasets
        if loaded(warehouse, d)
    ]
    if not tables:
        raise ValueError(f"no {', '.join(datasets)} activity has been ingested into {warehouse.root}")
    return ibis.union(*tables, distinct=False) if len(tables) > 1 else tables[0]


def cost_summary(lines: ibis.Table, by: Sequence[str]) -> ibis.Table:
    """Activity (COUNTED lines), lines and money (integer pence, exact) summed by the given columns."""
    return lines.group_by(list(by)).aggregate(
        ACTIVITY=lines.COUNTED.sum().cast("int64"),
        LINES=lines.count().cast("int64"),
        PENCE=lines.PRICE_PENCE.sum().cast("int64"),
        UNPRICED=(~lines.PRICED).cast("int64").sum().cast("int64"),
    )
