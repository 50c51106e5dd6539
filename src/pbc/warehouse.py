"""The warehouse: Parquet tables under `PBC_HOME/warehouse`, replaced whole and atomically.

Tables are grouped in namespaces (`reference`, `lists`, `localities`, ...), each loaded by one step. A step
writes a complete new snapshot of its namespace into a fresh folder and then switches the namespace's `CURRENT`
pointer with an atomic rename. Readers only ever see a whole snapshot: a load that fails or is killed half way
leaves the previous one in place, and re-running a load never double-counts. Each snapshot carries a manifest
(what was loaded, from which files with their checksums, when and by whom), so any figure can be traced back.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pbc import __version__
from pbc.errors import NotLoadedError

KEEP_SNAPSHOTS = 3


@dataclass(frozen=True)
class Source:
    """An input file as it was when loaded."""

    path: str
    sha256: str
    bytes: int

    @classmethod
    def of(cls, path: Path) -> Source:
        """Fingerprint a file, so a later load can tell whether it changed."""
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return cls(str(path), digest.hexdigest(), path.stat().st_size)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Warehouse:
    """Parquet snapshots under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _namespace(self, namespace: str) -> Path:
        return self.root / namespace

    def current(self, namespace: str) -> Path | None:
        """The folder of the namespace's current snapshot, or None if it was never loaded."""
        pointer = self._namespace(namespace) / "CURRENT"
        if not pointer.exists():
            return None
        return self._namespace(namespace) / pointer.read_text().strip()

    def has(self, namespace: str) -> bool:
        """Whether the namespace has been loaded."""
        return self.current(namespace) is not None

    def path(self, namespace: str, table: str) -> Path:
        """The Parquet file of a table in the current snapshot; a clear error if it was never loaded."""
        snapshot = self.current(namespace)
        if snapshot is None:
            raise NotLoadedError(
                f"the {namespace!r} data is not in the warehouse at {self.root} yet: "
                f"run `pbc reference load` (or `make demo`) first"
            )
        path = snapshot / f"{table}.parquet"
        if not path.exists():
            raise NotLoadedError(f"the {namespace!r} snapshot at {snapshot} has no table {table!r}")
        return path

    def read(self, namespace: str, table: str) -> pa.Table:
        """Read a whole table (for small reference tables; query large ones through an engine)."""
        return pq.read_table(self.path(namespace, table))

    def manifest(self, namespace: str) -> dict[str, Any]:
        """The manifest of the current snapshot."""
        snapshot = self.current(namespace)
        if snapshot is None:
            return {}
        return json.loads((snapshot / "_manifest.json").read_text())

    def commit(
        self,
        namespace: str,
        tables: Mapping[str, pa.Table],
        sources: list[Source],
        details: Mapping[str, Any] | None = None,
    ) -> Path:
        """Write a new snapshot of a namespace and make it current in one atomic step."""
        home = self._namespace(namespace)
        home.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC)
        snapshot_id = f"{stamp:%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}"
        staging = home / f".staging-{snapshot_id}"
        staging.mkdir()
        try:
            for name, table in tables.items():
                pq.write_table(table, staging / f"{name}.parquet")
            manifest = {
                "namespace": namespace,
                "snapshot": snapshot_id,
                "loaded_at": stamp.isoformat(),
                "loaded_by": getpass.getuser(),
                "pbc_version": __version__,
                "tables": {name: {"rows": t.num_rows} for name, t in tables.items()},
                "sources": [s.__dict__ for s in sources],
                "details": dict(details or {}),
            }
            (staging / "_manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
            final = home / snapshot_id
            staging.rename(final)
            pointer = home / ".CURRENT.tmp"
            pointer.write_text(snapshot_id + "\n")
            with pointer.open("rb") as handle:
                os.fsync(handle.fileno())
            os.replace(pointer, home / "CURRENT")
            _fsync_dir(home)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self._prune(namespace)
        return final

    def replace_rows(
        self,
        namespace: str,
        table: str,
        new: pa.Table,
        column: str,
        source: Source,
        details: Mapping[str, Any] | None = None,
    ) -> pa.Table:
        """Add rows to a table, replacing those held for the same values of `column`.

        A reloaded extract date or tariff year is replaced, never added twice; the namespace's other tables and its
        earlier sources are kept.
        """
        return self.replace_rows_of({table: new}, namespace, column, source, details)[table]

    def replace_rows_of(
        self,
        new: Mapping[str, pa.Table],
        namespace: str,
        column: str,
        source: Source,
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, pa.Table]:
        """`replace_rows` for several tables at once, in one snapshot: readers see all of them changed or none.

        Each table's rows are replaced for the values of `column` found in the new rows of the first table given
        (a contract plan and its phasing are replaced for the same year together).
        """
        tables: dict[str, pa.Table] = {}
        sources: list[Source] = []
        snapshot = self.current(namespace)
        if snapshot is not None:
            tables = {path.stem: pq.read_table(path) for path in snapshot.glob("*.parquet")}
            sources = [Source(**s) for s in self.manifest(namespace)["sources"]]
        replaced = pc.unique(next(iter(new.values()))[column])
        for table, rows in new.items():
            old = tables.get(table)
            if old is not None:
                old = old.filter(pc.invert(pc.is_in(old[column], value_set=replaced)))
                rows = pa.concat_tables([old, rows.cast(old.schema)])
            tables[table] = rows
        self.commit(namespace, tables, [*sources, source], details)
        return {table: tables[table] for table in new}

    def _prune(self, namespace: str) -> None:
        """Drop old snapshots beyond the few kept for readers still using them, and stale staging folders."""
        home = self._namespace(namespace)
        current = self.current(namespace)
        snapshots = sorted(p for p in home.iterdir() if p.is_dir() and not p.name.startswith("."))
        for old in snapshots[:-KEEP_SNAPSHOTS]:
            if old != current:
                shutil.rmtree(old, ignore_errors=True)
