"""Bench job: the ODS practice file read, checked and counted by status and prescribing setting.

pbc checks every field of every row (so a bad row is reported with its row and field); the DuckDB and pandas
versions only read the file and count, which is the floor that checking is measured against. The answer each
returns is a fingerprint of the counts, which must agree. Libraries are imported when the module loads, so the
child process has them before the clock starts.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from pbc.bench.common import quiet_duckdb
from pbc.reference.load import bundled_reference_dir
from pbc.reference.ods import read_epraccur


def prepare(workdir: Path) -> dict[str, Any]:
    """Use the shipped ODS practice file; count its rows for the rows-per-second figure."""
    path = bundled_reference_dir() / "ods" / "epraccur.csv"
    with path.open(encoding="latin-1") as handle:
        rows = sum(1 for _ in handle)
    return {"path": str(path), "rows": rows}


def _fingerprint(counts: list[tuple[str, int, int]]) -> str:
    """A digest of the counts that is the same in every process (unlike `hash`, which is salted per process)."""
    rows = sorted((str(s), int(p), int(n)) for s, p, n in counts)
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


def run_pbc(inputs: dict[str, Any]) -> str:
    """Run pbc's loader and its count."""
    table = read_epraccur(Path(inputs["path"]))
    grouped = table.group_by(["status", "prescribing_setting"]).aggregate([("code", "count")])
    return _fingerprint(
        list(zip(*(grouped[c].to_pylist() for c in ("status", "prescribing_setting", "code_count")), strict=True))
    )


def run_duckdb(inputs: dict[str, Any]) -> str:
    """Hand-written DuckDB SQL over the same file."""
    rows = (
        quiet_duckdb()
        .execute(
            "select column12, column25, count(*) from read_csv(?, header=false, all_varchar=true, encoding='latin-1') "
            "group by all",
            [inputs["path"]],
        )
        .fetchall()
    )
    return _fingerprint([(s, int(p), n) for s, p, n in rows])


def run_pandas(inputs: dict[str, Any]) -> str:
    """Plain pandas over the same file."""
    frame = pd.read_csv(inputs["path"], header=None, dtype=str, encoding="latin-1", keep_default_na=False)
    counts = frame.groupby([12, 25]).size()
    return _fingerprint([(s, int(p), int(n)) for (s, p), n in counts.items()])
