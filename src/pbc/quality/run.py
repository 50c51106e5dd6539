"""Run the quality rules, keep their findings, and measure them against a synthetic ground truth.

`run_quality` stores the findings and, for each practice and month, the summary behind its monthly information
report (lines attributed, lines flagged, money claimed). `practice_lines` gives the lines themselves with their
flags, for a practice to validate. `score` compares findings with `truth/faults.csv` from `pbc synth`: precision
and recall per fault type, resubmissions included (found from the submissions that replaced earlier ones).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from pbc.activity import loaded
from pbc.errors import InputError, NotLoadedError
from pbc.ingest.contracts import load_contracts
from pbc.ingest.store import ActivityStore
from pbc.quality.attribution import attribute
from pbc.quality.rules import FINDING_COLUMNS, catalogue, findings
from pbc.warehouse import Warehouse

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

QUALITY = "quality"
_EMPTY = pa.schema([(c, pa.string()) for c in (*FINDING_COLUMNS, "RULE_ID")])


def run_quality(con: BaseBackend, warehouse: Warehouse) -> dict[str, Any]:
    """Compute and store every rule's findings and each practice's monthly summary; returns counts."""
    union, pending = findings(con, warehouse)
    table = union.to_pyarrow() if union is not None else _EMPTY.empty_table()
    summary = practice_months(con, warehouse, table)
    details = {"pending": [r.id for r in pending], "findings_by_rule": _count(table, "RULE")}
    warehouse.commit(QUALITY, {"findings": table, "practice_months": summary}, [], details)
    return {"findings": table.num_rows, **details, "practice_months": summary.num_rows}


def _count(table: pa.Table, column: str) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for value in table[column].to_pylist():
        counts[value] += 1
    return dict(sorted(counts.items()))


def _flagged(found: pa.Table) -> ibis.Table:
    """The distinct lines with at least one finding."""
    keys = found.select(["DATASET", "PROCODE", "RECORD_KEY"])
    return ibis.memtable(keys.group_by(["DATASET", "PROCODE", "RECORD_KEY"]).aggregate([]))


def practice_months(con: BaseBackend, warehouse: Warehouse, found: pa.Table) -> pa.Table:
    """Per practice, month and data set: lines attributed, lines with a finding, money claimed (pence)."""
    flagged = _flagged(found)
    parts = []
    for dataset in ("apc", "op", "ae", "referrals"):
        if not loaded(warehouse, dataset):
            continue
        key = load_contracts()[dataset].key
        lines = attribute(con, warehouse, dataset)
        mine = flagged.filter(flagged.DATASET == dataset)
        marked = lines.left_join(mine, [lines.PROCODE == mine.PROCODE, lines[key] == mine.RECORD_KEY])
        money = marked.CLAIMED_PRICE_PENCE if "CLAIMED_PRICE_PENCE" in lines.columns else ibis.literal(0, "int64")
        marked = marked.mutate(MONEY=money)
        parts.append(
            marked.group_by(
                PRACTICE=marked.PRACTICE,
                MONTH=marked.ACTIVITY_DATE.strftime("%Y-%m"),
                DATASET=ibis.literal(dataset),
            ).aggregate(
                LINES=marked.count(),
                FLAGGED=marked.RECORD_KEY.notnull().sum().cast("int64"),
                CLAIMED_PENCE=marked.MONEY.sum().cast("int64"),
            )
        )
    if not parts:
        return pa.table({})
    union = parts[0]
    for part in parts[1:]:
        union = union.union(part)
    return union.order_by(["PRACTICE", "MONTH", "DATASET"]).to_pyarrow()


def practice_lines(con: BaseBackend, warehouse: Warehouse, practice: str, month: str, dataset: str) -> pa.Table:
    """A practice's lines of one data set and month, each with the rules it broke (the validation worklist)."""
    if not warehouse.has(QUALITY):
        raise NotLoadedError("no quality run yet: run `pbc quality run` first")
    found = warehouse.read(QUALITY, "findings")
    key = load_contracts()[dataset].key
    lines = attribute(con, warehouse, dataset)
    lines = lines.filter((lines.PRACTICE == practice) & (lines.ACTIVITY_DATE.strftime("%Y-%m") == month))
    table = lines.to_pyarrow()
    rules: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in (
        found.filter(pc.equal(found["DATASET"], dataset)).select(["PROCODE", "RECORD_KEY", "RULE_ID"]).to_pylist()
    ):
        rules[(row["PROCODE"], row["RECORD_KEY"])].append(row["RULE_ID"])
    flags = [
        ",".join(sorted(rules.get((p, k), [])))
        for p, k in zip(table["PROCODE"].to_pylist(), table[key].to_pylist(), strict=True)
    ]
    return table.append_column("FLAGS", pa.array(flags, pa.string()))


def score(warehouse: Warehouse, truth: Path) -> dict[str, dict[str, Any]]:
    """Precision and recall of the stored findings against a synthetic ground truth, per fault type."""
    if not warehouse.has(QUALITY):
        raise NotLoadedError("no quality run yet: run `pbc quality run` first")
    try:
        with truth.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except FileNotFoundError:
        raise InputError.one(str(truth), None, None, "file not found") from None
    if rows and not {"fault_type", "dataset", "procode", "record_key"} <= set(rows[0]):
        raise InputError.one(
            truth.name,
            1,
            None,
            "is not a pbc synth ground truth (fault_type, dataset, procode, month, record_key, file)",
        )
    expected: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for row in rows:
        if row["fault_type"] == "resubmission":
            expected["resubmission"].add((row["dataset"], row["procode"], row["month"]))
        else:
            expected[row["fault_type"]].add((row["dataset"], row["procode"], row["record_key"]))
    found: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    faults = {r.name: r.fault for r in catalogue() if r.fault}
    table = warehouse.read(QUALITY, "findings")
    for row in table.select(["DATASET", "PROCODE", "RECORD_KEY", "RULE"]).to_pylist():
        fault = faults.get(row["RULE"])
        if fault:
            found[fault].add((row["DATASET"], row["PROCODE"], row["RECORD_KEY"]))
    for entry in ActivityStore(warehouse).log():
        if entry.get("outcome") == "replaced":
            found["resubmission"].add((entry["dataset"], entry["submitter"], entry["month"]))
    pending_ids = set(warehouse.manifest(QUALITY).get("details", {}).get("pending", []))
    pending = {r.fault for r in catalogue() if r.id in pending_ids and r.fault}
    result: dict[str, dict[str, Any]] = {}
    for fault in sorted(set(expected) | set(found)):
        hits = len(expected[fault] & found[fault])
        result[fault] = {
            "injected": len(expected[fault]),
            "found": len(found[fault]),
            "true_positives": hits,
            "precision": round(hits / len(found[fault]), 4) if found[fault] else None,
            "recall": round(hits / len(expected[fault]), 4) if expected[fault] else None,
            "pending": fault in pending and not found[fault],
        }
    return result
