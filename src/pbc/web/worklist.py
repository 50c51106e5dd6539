"""The validation worklist: a practice's lines for a month, their quality flags and challenge status.

A practice user sees the NHS numbers of their own registered patients here, decrypted for them alone: the
identities are stored encrypted with the patient's pseudonym as associated data (ADR 0003), and only this module
decrypts them, for lines already scoped to the user's practice, and the view is audit-logged by the caller.
"""

from __future__ import annotations

from typing import Any

import pyarrow.parquet as pq

from pbc.challenges import Ledger
from pbc.engines import connect
from pbc.ingest.contracts import load_contracts
from pbc.ingest.pseudonymise import decrypt
from pbc.ingest.reference_files import REGISTRATIONS
from pbc.ingest.store import ActivityStore
from pbc.keys import load_key
from pbc.quality.run import QUALITY, practice_lines
from pbc.web import data

DETAIL = {
    "apc": ("SUSHRG", "ADMIMETH", "TRETSPEF"),
    "op": ("TRETSPEF", "FIRSTATT", "ATTENDED"),
    "ae": ("SUSHRG", "AEDEPTTYPE"),
}


def _lines(practice: str, month: str, dataset: str) -> list[dict[str, Any]]:
    def make() -> list[dict[str, Any]]:
        settings = data.settings()
        table = practice_lines(connect(settings), data.warehouse(), practice, month, dataset)
        return table.to_pylist()

    return data.cached(QUALITY, ("worklist", practice, month, dataset, _activity_version()), make)


def _activity_version() -> str:
    path = ActivityStore(data.warehouse()).catalog_path
    return str(path.stat().st_mtime_ns) if path.exists() else ""


def _identities(patients: set[str]) -> dict[str, str]:
    """NHS numbers of the given pseudonyms, decrypted (only for lines already scoped to the user's practice)."""
    key = load_key(data.settings(), "encryption")
    found: dict[str, str] = {}
    wh = data.warehouse()
    paths = list(ActivityStore(wh).files("identities"))
    if wh.has(REGISTRATIONS):  # patients first met on the register keep their identity there
        paths.append(wh.path(REGISTRATIONS, "identities"))
    for path in paths:
        table = pq.read_table(path)
        for row in table.to_pylist():
            if row["PATIENT_ID"] in patients and row["PATIENT_ID"] not in found:
                found[row["PATIENT_ID"]] = decrypt(key, row["PATIENT_ID"], row["NONCE"], row["CIPHERTEXT"])
    return found


def worklist_lines(practice: str, month: str, dataset: str, identifiable: bool) -> list[dict[str, Any]]:
    """The practice's lines with flags and challenge status; NHS numbers only when `identifiable`."""
    key = load_contracts()[dataset].key
    ledger = Ledger(data.settings().home)
    status = {(c.dataset, c.procode, c.record_key): c.status for c in ledger.challenges().values()}
    rows = _lines(practice, month, dataset)
    numbers = _identities({r["PATIENT_ID"] for r in rows if r.get("PATIENT_ID")}) if identifiable else {}
    out = []
    for r in rows:
        line = {
            "PROCODE": r["PROCODE"],
            "RECORD_KEY": r[key],
            "ACTIVITY_DATE": r["ACTIVITY_DATE"],
            "DETAIL": " ".join(f"{c}={r.get(c)}" for c in DETAIL[dataset] if r.get(c) is not None),
            "FLAGS": r.get("FLAGS") or "",
            "STATUS": status.get((dataset, r["PROCODE"], r[key]), ""),
        }
        if identifiable:
            line["NHS_NUMBER"] = numbers.get(r.get("PATIENT_ID") or "", "")
        out.append(line)
    return out
