"""Reading stored activity: the current submission of every partition of a data set, as one engine table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis

from pbc.engines import read_parquet_files, read_table
from pbc.errors import NotLoadedError
from pbc.ingest.contracts import load_contracts
from pbc.ingest.reference_files import REGISTRATIONS
from pbc.ingest.store import ActivityStore
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

DATASETS = ("apc", "op", "ae", "referrals")


def loaded(warehouse: Warehouse, dataset: str) -> bool:
    """Whether any submission of a data set is held."""
    return bool(ActivityStore(warehouse).files("rows", dataset))


def activity(con: BaseBackend, warehouse: Warehouse, dataset: str) -> ibis.Table:
    """Every current row of a data set (replaced submissions are gone, quarantined rows were never here)."""
    files = ActivityStore(warehouse).files("rows", dataset)
    if not files:
        raise NotLoadedError(f"no {dataset} activity has been ingested into {warehouse.root}: run `pbc ingest` first")
    return read_parquet_files(con, files, f"activity_{dataset}")


def activity_date(table: ibis.Table, dataset: str) -> ibis.Value:
    """The date a line is attributed on (admission, appointment, arrival or referral date)."""
    return table[load_contracts()[dataset].activity_date]


def registrations(con: BaseBackend, warehouse: Warehouse) -> ibis.Table | None:
    """The pseudonymised patient register, if one has been ingested."""
    if not warehouse.has(REGISTRATIONS):
        return None
    return read_table(con, warehouse.path(REGISTRATIONS, "registrations"), "registrations")
