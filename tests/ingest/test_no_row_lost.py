"""Property: whatever is done to a file's rows, every row is either stored or quarantined, never both, never lost."""

from __future__ import annotations

import csv
import shutil
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pbc.ingest.contracts import load_contracts
from pbc.ingest.load import Ingest
from pbc.ingest.store import ActivityStore
from pbc.keys import ensure_keys
from pbc.settings import Settings
from pbc.warehouse import Warehouse

VALUES = [
    "",
    " ",
    "ZZ",
    "2007-02-30",
    "2007-13-01",
    "abc",
    "-5",
    "99999",
    "12.345",
    "RV8",
    "E84002",
    "9999999999",
    "12",
    "0",
    "1.5",
    "'",
    '"',
    ",",
    ";",
    "NULL",
    "N/A",
    "\u00e9",
    "2007-04-01",
    "25:61",
    "1e3",
    "00000000000",
]
APC = load_contracts()["apc"].names


@pytest.fixture(scope="module")
def sample(small_brent) -> list[list[str]]:
    path = max(sorted((small_brent / "extracts" / "apc").glob("*.csv")), key=lambda p: p.stat().st_size)
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    return rows[:31]


@pytest.fixture(scope="module")
def base_home(tmp_path_factory, reference_warehouse) -> Path:
    home = tmp_path_factory.mktemp("hypothesis_home")
    shutil.copytree(reference_warehouse.root, home / "warehouse")
    ensure_keys(Settings(home=home))
    return home


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(st.tuples(st.integers(1, 30), st.sampled_from(APC), st.sampled_from(VALUES)), max_size=40))
def test_every_row_is_stored_or_quarantined(sample, base_home, changes):
    rows = [list(r) for r in sample]
    header = rows[0]
    for row, column, value in changes:
        rows[row][header.index(column)] = value
    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch) / "home"
        shutil.copytree(base_home, home)
        settings_ = Settings(home=home)
        path = Path(scratch) / "apc_RV8_2007-04.csv"
        with path.open("w", newline="") as handle:
            csv.writer(handle, quoting=csv.QUOTE_ALL).writerows(rows)
        [result] = Ingest(settings_, Warehouse(settings_.warehouse_dir), "on-time").run([path])
        if result.outcome == "refused":
            # only whole-file reasons may refuse: the provider (or its name) was mangled on some row
            assert "providers" in result.message or "named for" in result.message or "no rows" in result.message
            return
        store = ActivityStore(Warehouse(settings_.warehouse_dir))
        stored = set()
        for file in store.files("rows"):
            stored |= set(pq.read_table(file, columns=["ROW_NUMBER"])["ROW_NUMBER"].to_pylist())
        quarantined = set()
        for file in store.files("quarantine"):
            quarantined |= set(pq.read_table(file, columns=["ROW_NUMBER"])["ROW_NUMBER"].to_pylist())
        assert stored.isdisjoint(quarantined)
        assert stored | quarantined == set(range(2, len(rows) + 1))
        assert (result.stored, result.quarantined) == (len(stored), len(quarantined))
