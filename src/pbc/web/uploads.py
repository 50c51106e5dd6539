"""Uploading extracts from the browser: files are kept under PBC_HOME/uploads and ingested in the background.

The page shows progress (files done out of files sent) from a status file the ingest thread rewrites after each
file, so progress survives a page reload and any web process can show it. What is stored, refused or
quarantined, and why, is exactly what `pbc ingest` would say: it is the same `Ingest`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import threading
import uuid
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from pbc.errors import PbcError
from pbc.ingest.load import Ingest
from pbc.warehouse import Warehouse
from pbc.web import data

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def _folder() -> Path:
    return data.settings().home / "uploads"


def _write(path: Path, status: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(status, default=str))
    os.replace(temporary, path)


def status(upload_id: str) -> dict[str, Any] | None:
    """An upload's status (None if there is no such upload)."""
    if not re.fullmatch(r"[0-9a-f]{32}", upload_id):
        return None
    path = _folder() / upload_id / "status.json"
    return json.loads(path.read_text()) if path.exists() else None


def recent(limit: int = 20) -> list[dict[str, Any]]:
    """The latest uploads, newest first."""
    found = [json.loads(p.read_text()) for p in _folder().glob("*/status.json")] if _folder().exists() else []
    return sorted(found, key=lambda s: s["started_at"], reverse=True)[:limit]


def start(files: list[UploadedFile], username: str) -> str:
    """Keep the files and ingest them in a background thread; returns the upload's id."""
    upload_id = uuid.uuid4().hex
    folder = _folder() / upload_id / "files"
    folder.mkdir(parents=True)
    names = []
    for f in files:
        name = _SAFE_NAME.sub("_", Path(f.name or "extract.csv").name)
        with (folder / name).open("wb") as out:
            for chunk in f.chunks():
                out.write(chunk)
        names.append(name)
    path = folder.parent / "status.json"
    state: dict[str, Any] = {
        "id": upload_id,
        "by": username,
        "started_at": dt.datetime.now(dt.UTC).isoformat(),
        "files": names,
        "state": "running",
        "done": [],
        "message": "",
    }
    _write(path, state)
    settings = data.settings()

    def progress(line: str) -> None:
        state["done"].append(line.strip())
        _write(path, state)

    def work() -> None:
        try:
            results = Ingest(settings, Warehouse(settings.warehouse_dir), "today", progress=progress).run([folder])
            state["state"] = "finished"
            state["message"] = (
                f"{sum(r.stored for r in results):,} rows stored, {sum(r.quarantined for r in results):,} "
                f"quarantined, {sum(1 for r in results if r.outcome == 'refused')} file(s) refused"
            )
        except PbcError as error:
            state["state"], state["message"] = "failed", str(error)
        except Exception as error:
            state["state"], state["message"] = "failed", f"{type(error).__name__}: {error}"
        state["finished_at"] = dt.datetime.now(dt.UTC).isoformat()
        _write(path, state)

    threading.Thread(target=work, name=f"upload-{upload_id[:8]}", daemon=True).start()
    return upload_id
