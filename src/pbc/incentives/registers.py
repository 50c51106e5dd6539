"""The incentive registers: LES sign-ups, monthly report deliveries and governance committee level decisions.

Each is kept in the warehouse's `incentives` namespace, every row with who recorded it and when, so a payment can
be traced to the record that made it due. Registers are loaded from CSV files (as a PCT's primary care team keeps
them), checked row by row; a file with any mistake stores nothing. A row recorded again for the same key (a
practice's sign-up for a year, a practice's report for a month, a locality's decision from a date) replaces the
earlier one, so loading a file twice never counts anything twice.
"""

from __future__ import annotations

import datetime as dt
import getpass
from pathlib import Path

import pyarrow as pa

from pbc.errors import InputError, NotLoadedError
from pbc.reference.records import Column, read_csv
from pbc.warehouse import Source, Warehouse

INCENTIVES = "incentives"
_PRACTICE = Column("practice", "Practice code", required=True, pattern=r"[A-Z][0-9]{5}", describe="practice code")
REGISTERS: dict[str, tuple[tuple[Column, ...], tuple[str, ...]]] = {
    "signups": (
        (
            _PRACTICE,
            Column("financial_year", "Financial year", required=True, pattern=r"\d{4}/\d{2}", describe="year"),
            Column("signed_on", "Signed on", kind="date", required=True, date_formats=("%Y-%m-%d",)),
            Column("gps", "GPs", kind="int", minimum=0),
        ),
        ("practice", "financial_year"),
    ),
    "deliveries": (
        (
            _PRACTICE,
            Column("month", "Month", required=True, pattern=r"\d{4}-(0[1-9]|1[0-2])", describe="month (YYYY-MM)"),
            Column("delivered_on", "Delivered on", kind="date", required=True, date_formats=("%Y-%m-%d",)),
        ),
        ("practice", "month"),
    ),
    "level_decisions": (
        (
            Column("locality", "Locality code", required=True),
            Column("effective_from", "Effective from", kind="date", required=True, date_formats=("%Y-%m-%d",)),
            Column("level", "Level", kind="int", required=True, minimum=1),
            Column("minute", "Minute reference", required=True),
        ),
        ("locality", "effective_from"),
    ),
}


def load_register(warehouse: Warehouse, kind: str, path: Path, recorded_by: str | None = None) -> int:
    """Check a register file and keep its rows, replacing rows held for the same keys; returns the rows kept."""
    if kind not in REGISTERS:
        raise ValueError(f"unknown register {kind!r}: one of {', '.join(REGISTERS)}")
    columns, keys = REGISTERS[kind]
    parsed = read_csv(path, columns, header=True, unique=keys)
    if not len(parsed):
        raise InputError.one(path.name, None, None, "holds no rows")
    rows = parsed.to_arrow()
    key = ["|".join(str(r[k]) for k in keys) for r in rows.select(list(keys)).to_pylist()]
    who = recorded_by or getpass.getuser()
    when = dt.datetime.now(dt.UTC).isoformat()
    rows = rows.append_column("KEY", pa.array(key, pa.string()))
    rows = rows.append_column("RECORDED_BY", pa.array([who] * rows.num_rows, pa.string()))
    rows = rows.append_column("RECORDED_AT", pa.array([when] * rows.num_rows, pa.string()))
    rows = rows.append_column("SOURCE_FILE", pa.array([path.name] * rows.num_rows, pa.string()))
    warehouse.replace_rows(INCENTIVES, kind, rows, "KEY", Source.of(path), {"register": kind})
    return rows.num_rows


def register(warehouse: Warehouse, kind: str) -> list[dict[str, object]]:
    """A register's rows (none if nothing has been recorded)."""
    if not warehouse.has(INCENTIVES):
        return []
    try:
        return warehouse.read(INCENTIVES, kind).to_pylist()
    except NotLoadedError:  # this register has not been recorded yet; others have
        return []
