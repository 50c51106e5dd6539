"""The activity store: one current submission per data set, submitter and month, switched atomically.

Each accepted file becomes immutable Parquet files named by its submission id (its rows and its quarantine); the
encrypted identities of patients met for the first time are files of their own, kept whatever is replaced.
`CATALOG.json` says which submission is current for each partition
(data set, submitter, month) and which file checksums have been loaded. An ingest run writes its files first,
then replaces the catalog in one `os.replace`: readers see the warehouse before the run or after it, never
half of it. Files of a run that was killed are never in the catalog, so they are invisible and are removed by the
next run. Every outcome (stored, replaced, already loaded, refused) is appended to `load_log.jsonl`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pbc.warehouse import Warehouse

ACTIVITY = "activity"


def partition_key(dataset: str, submitter: str, month: str) -> str:
    """The catalog key of a partition."""
    return f"{dataset}|{submitter}|{month}"


@dataclass
class Submission:
    """One file's contribution to a partition."""

    dataset: str
    submitter: str
    month: str
    source: str
    sha256: str
    rows_in: int
    stored: int
    quarantined: int
    received: str
    forced_reason: str | None = None
    id: str = field(default_factory=lambda: f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:10]}")

    @property
    def key(self) -> str:
        """The partition it belongs to."""
        return partition_key(self.dataset, self.submitter, self.month)


class ActivityStore:
    """Reads and writes the activity part of a warehouse."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.root = warehouse.root / ACTIVITY
        self.catalog_path = self.root / "CATALOG.json"
        self.log_path = self.root / "load_log.jsonl"

    def catalog(self) -> dict[str, Any]:
        """The current catalog (empty before the first load)."""
        if not self.catalog_path.exists():
            return {"partitions": {}, "checksums": {}}
        return json.loads(self.catalog_path.read_text())

    def files(self, kind: str, dataset: str | None = None) -> list[Path]:
        """Current files of a kind ('rows', 'quarantine' or 'identities'), optionally of one data set."""
        catalog = self.catalog()
        if kind == "identities":
            return sorted(self.root / p for p in catalog.get("identities", []))
        found = [
            self.root / entry[kind]
            for entry in catalog["partitions"].values()
            if (dataset is None or entry["dataset"] == dataset) and entry.get(kind)
        ]
        return sorted(found)

    def log(self) -> list[dict[str, Any]]:
        """Every load log entry, oldest first."""
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]

    def append_log(self, entries: list[dict[str, Any]]) -> None:
        """Append entries to the load log (who and when are added here)."""
        self.root.mkdir(parents=True, exist_ok=True)
        stamp, user = dt.datetime.now(dt.UTC).isoformat(), getpass.getuser()
        with self.log_path.open("a") as handle:
            for entry in entries:
                handle.write(json.dumps({"at": stamp, "by": user, **entry}, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def begin(self) -> Run:
        """Start an ingest run (and clear files left by a run that was killed)."""
        self._remove_orphans()
        return Run(self)

    def _remove_orphans(self) -> None:
        referenced = {str(p) for kind in ("rows", "quarantine", "identities") for p in self.files(kind)}
        for folder in ("parts", "quarantine", "identities"):
            base = self.root / folder
            if base.exists():
                for path in base.rglob("*.parquet"):
                    if str(path) not in referenced:
                        path.unlink()


class Run:
    """An ingest run: submissions are written as they come and become visible together at `commit`."""

    def __init__(self, store: ActivityStore) -> None:
        self.store = store
        self.catalog = store.catalog()
        self.written: list[Path] = []
        self.replaced: list[str] = []
        self.entries: list[dict[str, Any]] = []

    def current(self, key: str) -> dict[str, Any] | None:
        """The submission currently held for a partition, counting this run's."""
        return self.catalog["partitions"].get(key)

    def loaded_checksum(self, sha256: str) -> str | None:
        """The partition a file with this content was loaded into, if any."""
        return self.catalog["checksums"].get(sha256)

    def _write(self, table: pa.Table, relative: str) -> str:
        path = self.store.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
        self.written.append(path)
        return relative

    def add_identities(self, identities: pa.Table) -> None:
        """Keep the encrypted numbers of patients met for the first time (they belong to patients, not submissions)."""
        if identities.num_rows:
            relative = self._write(identities, f"identities/{uuid.uuid4().hex}.parquet")
            self.catalog.setdefault("identities", []).append(relative)

    def add(self, submission: Submission, rows: pa.Table, quarantine: pa.Table) -> None:
        """Write a submission's files and make it the partition's current one (visible at commit)."""
        base = f"{submission.dataset}/{submission.submitter}/{submission.month}/{submission.id}.parquet"
        entry = {
            "dataset": submission.dataset,
            "submitter": submission.submitter,
            "month": submission.month,
            "submission": submission.id,
            "source": submission.source,
            "sha256": submission.sha256,
            "rows_in": submission.rows_in,
            "stored": submission.stored,
            "quarantined": submission.quarantined,
            "received": submission.received,
            "forced_reason": submission.forced_reason,
            "rows": self._write(rows, f"parts/{base}"),
            "quarantine": self._write(quarantine, f"quarantine/{base}") if quarantine.num_rows else None,
        }
        previous = self.catalog["partitions"].get(submission.key)
        if previous is not None:
            entry["replaces"] = previous["submission"]
            self.replaced.append(submission.key)
            self.catalog["checksums"] = {k: v for k, v in self.catalog["checksums"].items() if k != previous["sha256"]}
        self.catalog["partitions"][submission.key] = entry
        self.catalog["checksums"][submission.sha256] = submission.key
        self.entries.append(
            {
                "outcome": "replaced" if previous else "stored",
                **{k: v for k, v in entry.items() if k not in ("rows", "quarantine")},
            }
        )

    def note(self, entry: dict[str, Any]) -> None:
        """Record an outcome that stored nothing (already loaded, refused)."""
        self.entries.append(entry)

    def commit(self) -> None:
        """Make everything this run added visible in one atomic step, then log it."""
        self.store.root.mkdir(parents=True, exist_ok=True)
        temporary = self.store.root / f".CATALOG.{uuid.uuid4().hex}.tmp"
        temporary.write_text(json.dumps(self.catalog, sort_keys=True))
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, self.store.catalog_path)
        self.store.append_log(self.entries)

    def abort(self) -> None:
        """Forget this run: remove what it wrote (nothing of it was visible)."""
        for path in self.written:
            path.unlink(missing_ok=True)
        self.store.append_log([e for e in self.entries if e.get("outcome") == "refused"])
