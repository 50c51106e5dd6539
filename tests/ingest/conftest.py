"""Fixtures for ingest tests: a home with keys and the reference data, and ways to run ingest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pbc.ingest.load import Ingest
from pbc.keys import ensure_keys
from pbc.settings import Settings
from pbc.warehouse import Warehouse


@pytest.fixture
def home(tmp_path: Path, reference_warehouse: Warehouse) -> Settings:
    """A PBC_HOME of the test's own, with keys and the reference data loaded."""
    settings = Settings(home=tmp_path / "home")
    shutil.copytree(reference_warehouse.root, settings.warehouse_dir)
    ensure_keys(settings)
    return settings


@pytest.fixture
def ingest(home: Settings):
    """Run `pbc ingest` on paths in the test's home."""

    def run(*paths: Path, received: str = "on-time", force_reason: str | None = None):
        return Ingest(home, Warehouse(home.warehouse_dir), received, force_reason).run(list(paths))

    return run
