"""Load reference data into the warehouse: all files checked first, then stored as one snapshot.

`load_reference` reads a reference folder laid out like the one pbc ships (`ods/epraccur.csv`, `ods/etr.csv`,
`london_pcts.csv`, `lead_commissioners_YYYY_YY.csv`, `brent_clusters.csv` or any `*_clusters.csv`). pbc's curated
code tables (`london_pct_codes.csv`, `london_trusts_2006.csv`) are taken from the folder if present, else from
pbc's own copy. If any file has a problem, nothing is stored and every problem is reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from pbc.errors import InputError, Problem
from pbc.reference import list_sizes, localities, london, ods
from pbc.reference.tree import build_tree
from pbc.warehouse import Source, Warehouse

REFERENCE = "reference"
LISTS = "lists"
LOCALITIES = "localities"

T = TypeVar("T")


def bundled_reference_dir() -> Path:
    """The reference files shipped inside pbc (the real ODS extracts and the London tables)."""
    return Path(str(resources.files("pbc.reference") / "data"))


@dataclass
class LoadResult:
    """What a load stored, for the command line to report."""

    namespace: str
    rows: dict[str, int]
    sources: list[Source]
    details: dict[str, object] = field(default_factory=dict)


def _need(folder: Path, relative: str) -> Path:
    path = folder / relative
    if not path.is_file():
        raise InputError.one(str(folder), None, None, f"reference file {relative} is missing")
    return path


def _curated(folder: Path, name: str) -> Path:
    own = folder / name
    return own if own.is_file() else bundled_reference_dir() / name


def _financial_year(path: Path) -> str:
    match = re.search(r"(\d{4})_(\d{2})", path.stem)
    if not match:
        raise InputError.one(
            path.name,
            None,
            None,
            "cannot tell the contract year: name the file like lead_commissioners_2006_07.csv",
        )
    return f"{match[1]}/{match[2]}"


def status_setting_counts(practices: pa.Table) -> list[dict[str, object]]:
    """Counts of organisations in the practice file by status and prescribing setting."""
    grouped = practices.group_by(["status", "prescribing_setting"]).aggregate([("code", "count")])
    rows = [
        {
            "status": r["status"],
            "prescribing_setting": r["prescribing_setting"],
            "setting": ods.PRESCRIBING_SETTINGS[r["prescribing_setting"]],
            "count": r["code_count"],
        }
        for r in grouped.to_pylist()
    ]
    return sorted(rows, key=lambda r: (r["status"], r["prescribing_setting"]))


def status_setting_pivot(counts: list[dict[str, object]]) -> list[dict[str, object]]:
    """The status and setting counts as one row per prescribing setting with a column per status."""
    rows: dict[object, dict[str, object]] = {}
    for c in counts:
        row = rows.setdefault(
            c["prescribing_setting"],
            {
                "setting": f"{c['prescribing_setting']} {c['setting']}",
                **{s: 0 for s in ods.STATUSES.values()},
                "total": 0,
            },
        )
        row[ods.STATUSES[str(c["status"])]] = c["count"]
        row["total"] = int(row["total"]) + int(c["count"])  # type: ignore[call-overload]
    return [rows[k] for k in sorted(rows)]  # type: ignore[type-var]


def load_reference(warehouse: Warehouse, folder: Path | None = None) -> LoadResult:
    """Check every reference file in a folder and store them together, or store nothing."""
    folder = folder or bundled_reference_dir()
    epraccur, etr = _need(folder, "ods/epraccur.csv"), _need(folder, "ods/etr.csv")
    pcts_path = _need(folder, "london_pcts.csv")
    leads_paths = sorted(folder.glob("lead_commissioners_*.csv"))
    cluster_paths = sorted(folder.glob("*_clusters.csv"))
    pct_codes_path, trust_codes_path = (
        _curated(folder, "london_pct_codes.csv"),
        _curated(folder, "london_trusts_2006.csv"),
    )

    problems: list[Problem] = []

    def attempt(read: Callable[[], T]) -> T | None:
        try:
            return read()
        except InputError as error:
            problems.extend(error.problems)
            return None

    practices = attempt(lambda: ods.read_epraccur(epraccur))
    trusts = attempt(lambda: ods.read_etr(etr))
    pcts = attempt(lambda: london.read_pcts(pcts_path, pct_codes_path))
    historic = attempt(lambda: london.read_historic_trusts(trust_codes_path))
    if pcts is None:
        raise InputError(problems)
    pct_codes = dict(zip(pcts["pct"].to_pylist(), pcts["code"].to_pylist(), strict=True))
    leads = [
        attempt(lambda p=p: london.read_lead_commissioners(p, trust_codes_path, pct_codes, _financial_year(p)))
        for p in leads_paths
    ]
    clusters = [attempt(lambda p=p: london.read_clusters(p, pct_codes)) for p in cluster_paths]
    if problems:
        raise InputError(problems)
    assert practices is not None
    assert trusts is not None
    assert historic is not None

    clusters_table = (
        pa.concat_tables(clusters)
        if clusters
        else pa.table({c: pa.array([], pa.string()) for c in ("pct", "cluster", "commissioner_code", "code")})
    )
    historic_codes = dict(zip(historic.columns["provider"], historic.columns["code"], strict=True))
    organisations, memberships = build_tree(practices, trusts, pcts, clusters_table, historic_codes)  # type: ignore[arg-type]
    tables = {
        "practices": practices,
        "trusts": trusts,
        "commissioners": pcts,
        "localities": clusters_table,
        "lead_commissioners": pa.concat_tables(leads) if leads else pa.table({}),  # type: ignore[arg-type]
        "organisations": organisations,
        "memberships": memberships,
    }
    sources = [
        Source.of(p) for p in (epraccur, etr, pcts_path, pct_codes_path, trust_codes_path, *leads_paths, *cluster_paths)
    ]
    details = {"practice_counts": status_setting_counts(practices)}
    warehouse.commit(REFERENCE, tables, sources, details)
    return LoadResult(REFERENCE, {k: t.num_rows for k, t in tables.items()}, sources, details)


def _known(warehouse: Warehouse, table: str, kind: str) -> set[str]:
    organisations = warehouse.read(REFERENCE, table)
    if "kind" in organisations.column_names:
        organisations = organisations.filter(pc.equal(organisations["kind"], kind))
    return set(organisations["code"].to_pylist())


def load_list_sizes(warehouse: Warehouse, path: Path) -> LoadResult:
    """Add a quinary list-size file; an extract date already loaded is replaced, never added twice."""
    new = list_sizes.read_quinary(path, _known(warehouse, "organisations", "practice"))
    details = {"extract_dates": sorted(str(d) for d in pc.unique(new["extract_date"]).to_pylist())}
    combined = warehouse.replace_rows(LISTS, "registered_lists", new, "extract_date", Source.of(path), details)
    sources = [Source(**s) for s in warehouse.manifest(LISTS)["sources"]]
    return LoadResult(LISTS, {"registered_lists": combined.num_rows, "loaded": new.num_rows}, sources, details)


def load_locality_memberships(warehouse: Warehouse, path: Path) -> LoadResult:
    """Replace the locality memberships with those of a file (the file is the whole current picture)."""
    table = localities.read_locality_memberships(
        path, _known(warehouse, "organisations", "practice"), _known(warehouse, "organisations", "locality")
    )
    warehouse.commit(LOCALITIES, {"locality_memberships": table}, [Source.of(path)])
    return LoadResult(LOCALITIES, {"locality_memberships": table.num_rows}, [Source.of(path)])
