"""Bench job: ingest one year of London-scale synthetic activity, end to end.

pbc reads, checks every field, pseudonymises, partitions and stores every row of every extract (about 11.7 million
rows in some 1,500 files). The DuckDB version is DuckDB's bare `read_csv` of the same files (counting rows) and
the pandas version is `pandas.read_csv` of each file: the floor that checking and storing are measured against.
The synthetic data is made once and kept in the bench folder for later runs (it is deterministic).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from pbc import __version__
from pbc.bench.common import quiet_duckdb
from pbc.ingest.load import Ingest
from pbc.keys import ensure_keys
from pbc.reference.load import load_reference
from pbc.settings import Settings
from pbc.synth.config import SynthConfig
from pbc.warehouse import Warehouse

YEAR = "2007/08"


def london_year(workdir: Path) -> Path:
    """The London one-year synthetic data (extracts, reference files, tariff), made once per pbc version and kept."""
    folder = workdir / f"london-{YEAR.replace('/', '_')}-seed1"
    manifest = folder / "manifest.json"
    if not manifest.exists() or json.loads(manifest.read_text()).get("pbc_version") != __version__:
        from pbc.synth.generate import generate

        shutil.rmtree(folder, ignore_errors=True)
        generate(SynthConfig(scope="london", years=(YEAR,), seed=1), folder)
    return folder


def prepare(workdir: Path) -> dict[str, Any]:
    """Make (or reuse) the London one-year synthetic extracts, and a home with keys and reference data (untimed)."""
    folder = london_year(workdir)
    template = workdir / "ingest-home-template"
    shutil.rmtree(template, ignore_errors=True)
    settings = Settings(home=template)
    ensure_keys(settings)
    load_reference(Warehouse(settings.warehouse_dir))
    files = sorted(str(p) for p in (folder / "extracts").rglob("*.csv"))
    counts = (
        quiet_duckdb()
        .execute("select count(*) from read_csv(?, all_varchar=true, union_by_name=true)", [files])
        .fetchone()
    )
    return {
        "folder": str(folder),
        "files": files,
        "rows": int(counts[0]),
        "workdir": str(workdir),
        "template": str(template),
    }


def run_pbc(inputs: dict[str, Any]) -> str:
    """Run pbc's ingest of the extracts folder into a copy of the template home (the copy takes well under a second)."""
    with tempfile.TemporaryDirectory(dir=inputs["workdir"]) as scratch:
        home = Path(scratch) / "home"
        shutil.copytree(inputs["template"], home)
        settings = Settings(home=home)
        results = Ingest(settings, Warehouse(settings.warehouse_dir), "on-time").run(
            [Path(inputs["folder"]) / "extracts"]
        )
        return str(sum(r.rows_in for r in results))


def run_duckdb(inputs: dict[str, Any]) -> str:
    """DuckDB's read_csv of the same files, every column as text."""
    total = (
        quiet_duckdb()
        .execute("select count(*) from read_csv(?, all_varchar=true, union_by_name=true)", [inputs["files"]])
        .fetchone()
    )
    return str(total[0])


def run_pandas(inputs: dict[str, Any]) -> str:
    """pandas.read_csv of each file, every column as text."""
    return str(sum(len(pd.read_csv(path, dtype=str, keep_default_na=False)) for path in inputs["files"]))
