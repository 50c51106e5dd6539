"""Write the synthetic commissioner's files: extracts per provider and month, reference files, truth, manifest.

Output is deterministic: rows are sorted on fixed keys and nothing time-dependent is written, so the same seed
gives the same bytes. Numbers become text here: day numbers as YYYY-MM-DD, pence as pounds with two decimals,
minutes as HH:MM, NHS numbers as ten digits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pbc.synth.extracts import Rows
from pbc.synth.faults import DATES, month_of

COLUMNS = {
    "apc": (
        "PROCODE",
        "PROVSPNO",
        "NEWNHSNO",
        "DOB",
        "STARTAGE",
        "SEX",
        "GPPRAC",
        "PURCODE",
        "ADMIDATE",
        "DISDATE",
        "ADMIMETH",
        "ADMISORC",
        "DISMETH",
        "CLASSPAT",
        "TRETSPEF",
        "DIAG_01",
        "OPERTN_01",
        "SUSHRG",
        "CLAIMED_PRICE",
    ),
    "op": (
        "PROCODE",
        "ATTENDKEY",
        "NEWNHSNO",
        "DOB",
        "APPTAGE",
        "SEX",
        "GPPRAC",
        "PURCODE",
        "APPTDATE",
        "FIRSTATT",
        "ATTENDED",
        "REFSOURC",
        "TRETSPEF",
        "OUTCOME",
        "CLAIMED_PRICE",
    ),
    "ae": (
        "PROCODE",
        "AEKEY",
        "NEWNHSNO",
        "DOB",
        "ARRIVALAGE",
        "SEX",
        "GPPRAC",
        "PURCODE",
        "ARRIVALDATE",
        "ARRIVALTIME",
        "DEPTIME",
        "AEDEPTTYPE",
        "AEATTENDCAT",
        "AEATTENDDISP",
        "SUSHRG",
        "CLAIMED_PRICE",
    ),
    "referrals": (
        "REFERRAL_ID",
        "GPPRAC",
        "NEWNHSNO",
        "DOB",
        "SEX",
        "REFERRAL_DATE",
        "TRETSPEF",
        "PROCODE",
        "PRIORITY",
        "REFSOURC",
    ),
}
DATE_COLUMNS = {"DOB", "ADMIDATE", "DISDATE", "APPTDATE", "ARRIVALDATE", "REFERRAL_DATE"}
TIME_COLUMNS = {"ARRIVALTIME", "DEPTIME"}
MONEY_COLUMNS = {"CLAIMED_PRICE"}
KEY_COLUMNS = {"PROVSPNO", "ATTENDKEY", "AEKEY", "REFERRAL_ID"}
CSV_OPTIONS = pacsv.WriteOptions(quoting_style="needed")


def _two_digits(values: pa.Array) -> pa.Array:
    return pc.utf8_lpad(pc.cast(values, pa.string()), 2, "0")


def money_text(pence: np.ndarray) -> pa.Array:
    """Pence as pounds with two decimals, exactly (no floating point)."""
    pence = pa.array(pence, pa.int64())
    negative = pc.less(pence, 0)
    magnitude = pc.abs(pence)
    pounds = pc.cast(pc.divide(magnitude, 100), pa.string())
    text = pc.binary_join_element_wise(
        pounds, _two_digits(pc.subtract(magnitude, pc.multiply(pc.divide(magnitude, 100), 100))), "."
    )
    return pc.if_else(negative, pc.binary_join_element_wise(pa.scalar("-"), text, ""), text)


def to_arrow(rows: Rows, columns: Sequence[str]) -> pa.Table:
    """The written form of a dataset's rows."""
    out: dict[str, pa.Array] = {}
    for name in columns:
        values = rows[name]
        if name in DATE_COLUMNS:
            out[name] = pa.array(values.astype(np.int32), pa.int32()).cast(pa.date32())
        elif name in TIME_COLUMNS:
            minutes = pa.array(values, pa.int64())
            out[name] = pc.binary_join_element_wise(
                _two_digits(pc.divide(minutes, 60)),
                _two_digits(pc.subtract(minutes, pc.multiply(pc.divide(minutes, 60), 60))),
                ":",
            )
        elif name in MONEY_COLUMNS:
            out[name] = money_text(values)
        elif name in KEY_COLUMNS:
            out[name] = pc.utf8_lpad(pa.array(values, pa.int64()).cast(pa.string()), 10, "0")
        elif values.dtype.kind in "iu":
            out[name] = pa.array(values, pa.int64()).cast(pa.string())
        else:
            out[name] = pa.array(values, pa.string())
    return pa.table(out)


def write_csv(table: pa.Table, path: Path, parquet: bool = False) -> int:
    """Write one file (and its Parquet twin if asked); returns the rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pacsv.write_csv(table, path, write_options=CSV_OPTIONS)
    if parquet:
        pq.write_table(table, path.with_suffix(".parquet"))
    return table.num_rows


def write_extracts(
    out: Path,
    dataset: str,
    rows: Rows,
    resubmit: set[tuple[str, str]],
    rng: np.random.Generator,
    parquet: bool,
    files: dict[str, int],
) -> None:
    """One file per provider (or, for referrals, commissioner) and month; a resubmitted month gets two."""
    group_column = "PURCODE" if dataset == "referrals" else "PROCODE"
    month = month_of(rows[DATES[dataset]])
    key = "REFERRAL_ID" if dataset == "referrals" else {"apc": "PROVSPNO", "op": "ATTENDKEY", "ae": "AEKEY"}[dataset]
    order = np.lexsort((rows[key], month, rows[group_column]))
    table = to_arrow({k: v[order] for k, v in rows.items()}, COLUMNS[dataset])
    groups, months = rows[group_column][order], month[order]
    boundaries = np.flatnonzero((groups[1:] != groups[:-1]) | (months[1:] != months[:-1])) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(order)]])
    for start, end in zip(starts, ends, strict=True):
        code, ym = groups[start], months[start]
        name = f"{dataset}_{code}_{ym}.csv"
        part = table.slice(start, end - start)
        if (code, ym) in resubmit:
            r2 = out / "extracts" / "resubmissions" / f"{dataset}_{code}_{ym}_r2.csv"
            files[str(r2.relative_to(out))] = write_csv(part, r2, parquet)
            late = rng.random(part.num_rows) < 0.03  # the first submission lacks late-coded rows...
            if not late.any():
                late[rng.integers(0, part.num_rows)] = True  # ...at least one, or the two files would be the same
            part = part.filter(pa.array(~late))
        path = out / "extracts" / dataset / name
        files[str(path.relative_to(out))] = write_csv(part, path, parquet)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write JSON with sorted keys, so it is byte-for-byte repeatable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
