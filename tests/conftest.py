"""Shared fixtures: a warehouse loaded with the real reference files, and every pipeline test on both engines."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from pbc.engines import connect
from pbc.reference.load import bundled_reference_dir, load_reference
from pbc.settings import Settings
from pbc.warehouse import Warehouse

ENGINES = ("duckdb", "pyspark")


def normalise(result: Any) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """One normal form for results from any engine: column names and rows sorted, values in plain Python types.

    Engines differ in row order, in date and decimal types and in float noise; none of that is a difference in
    the answer. Money columns are compared exactly (as decimals), other floats to nine places.
    """
    table = result if isinstance(result, pa.Table) else result.to_pyarrow()

    def plain(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None).isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value.normalize())
        if isinstance(value, float):
            return None if math.isnan(value) else round(value, 9)
        return value

    rows = [tuple(plain(v) for v in row.values()) for row in table.to_pylist()]
    rows.sort(key=lambda r: tuple((v is None, str(v)) for v in r))
    return tuple(table.column_names), rows


@pytest.fixture(scope="session")
def brent(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The full synthetic Brent (three years, seed 1), made once per test run."""
    from pbc.synth.config import SynthConfig
    from pbc.synth.generate import generate

    out = tmp_path_factory.mktemp("brent")
    return out, generate(SynthConfig(), out)


@pytest.fixture(scope="session")
def small_brent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic Brent (one year, 5% of the lists), for tests that need data but not volume."""
    from pbc.synth.config import SynthConfig
    from pbc.synth.generate import generate

    out = tmp_path_factory.mktemp("small_brent")
    generate(SynthConfig(years=("2007/08",), scale=0.05), out)
    return out


@pytest.fixture(scope="session")
def brent_home(tmp_path_factory: pytest.TempPathFactory, reference_warehouse: Warehouse, small_brent: Path) -> Settings:
    """A home with the reference data, keys and the whole small synthetic Brent ingested (tariff included)."""
    settings = Settings(home=tmp_path_factory.mktemp("brent_home"))
    shutil.copytree(reference_warehouse.root, settings.warehouse_dir)
    from pbc.ingest.load import Ingest
    from pbc.keys import ensure_keys

    ensure_keys(settings)
    Ingest(settings, Warehouse(settings.warehouse_dir), "on-time").run([small_brent])
    return settings


@pytest.fixture(scope="session")
def two_year_home(tmp_path_factory: pytest.TempPathFactory, reference_warehouse: Warehouse) -> Settings:
    """2006/07 and 2007/08 of a small synthetic Brent (3% of the lists), ingested with tariffs and registers."""
    from pbc.ingest.load import Ingest
    from pbc.keys import ensure_keys
    from pbc.synth.config import SynthConfig
    from pbc.synth.generate import generate

    extracts = tmp_path_factory.mktemp("two_year_brent")
    generate(SynthConfig(years=("2006/07", "2007/08"), scale=0.03), extracts)
    settings = Settings(home=tmp_path_factory.mktemp("two_year_home"))
    shutil.copytree(reference_warehouse.root, settings.warehouse_dir)
    ensure_keys(settings)
    Ingest(settings, Warehouse(settings.warehouse_dir), "on-time").run([extracts])
    return settings


@pytest.fixture
def finance_home(tmp_path: Path, two_year_home: Settings) -> Settings:
    """A writable copy of the two-year home, for tests that keep runs, marts or challenges."""
    shutil.copytree(two_year_home.home, tmp_path / "home")
    return Settings(home=tmp_path / "home")


@pytest.fixture(scope="session")
def reference_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A warehouse with the shipped reference data loaded once (tests must not change it)."""
    warehouse = Warehouse(tmp_path_factory.mktemp("reference") / "warehouse")
    load_reference(warehouse)
    return warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    """An empty warehouse of a test's own."""
    return Warehouse(tmp_path / "warehouse")


@pytest.fixture
def loaded_warehouse(tmp_path: Path, reference_warehouse: Warehouse) -> Warehouse:
    """A copy of the reference warehouse that a test may change."""
    target = tmp_path / "warehouse"
    shutil.copytree(reference_warehouse.root, target)
    return Warehouse(target)


@pytest.fixture
def reference_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped reference folder, for breaking files in tests."""
    target = tmp_path / "reference"
    shutil.copytree(bundled_reference_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(
    scope="session",
    params=[pytest.param("duckdb"), pytest.param("pyspark", marks=pytest.mark.spark)],
    ids=ENGINES,
)
def con(request: pytest.FixtureRequest) -> Any:
    """An ibis connection on each engine: a test that takes `con` runs once on DuckDB and once on Spark."""
    return connect(Settings(engine=request.param, spark_driver_memory="2g"))


@pytest.fixture(scope="session")
def on_every_engine() -> Callable[[Callable[[Any], Any]], tuple[tuple[str, ...], list[tuple[Any, ...]]]]:
    """Run one query on every engine and assert the normalised results are identical; returns that result."""
    connections = {name: connect(Settings(engine=name, spark_driver_memory="2g")) for name in ENGINES}

    def run(query: Callable[[Any], Any]) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
        results = {name: normalise(query(c)) for name, c in connections.items()}
        first = results[ENGINES[0]]
        for name, other in results.items():
            assert other == first, f"{name} disagrees with {ENGINES[0]}"
        return first

    return run
