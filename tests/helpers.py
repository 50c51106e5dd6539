"""Small helpers shared by tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from pbc.warehouse import Warehouse


def warehouse_state(warehouse: Warehouse) -> dict[str, str]:
    """Every file under the warehouse with a hash of its content: equal states mean nothing was stored."""
    if not warehouse.root.exists():
        return {}
    return {
        str(p.relative_to(warehouse.root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(warehouse.root.rglob("*"))
        if p.is_file()
    }


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    """Write a small CSV file with a header."""
    path.write_text("\n".join([header, *rows]) + "\n")
    return path
