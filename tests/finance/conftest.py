"""A small two-year synthetic Brent, ingested once: a baseline year and a budget year to set and monitor."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pbc.ingest.load import Ingest
from pbc.keys import ensure_keys
from pbc.settings import Settings
from pbc.warehouse import Warehouse

SCHEME = """
name = "test scheme"
budget_year = "2007/08"
commissioner = "5K5"
pace_of_change_percent = "{pace}"
top_slice_percent = "2"
reserve_percent = "1.5"

[historic]
baseline_from = 2006-04-01
baseline_to = 2007-03-31
method = "{method}"
uplift_percent = "3.25"

[fair_share]
census_date = 2007-04-01
{need}
"""
NEED = """
[fair_share.need]
conditions = ["DIABETES", "CHD"]
weight_percent = "50"
"""


def scheme_text(pace: str = "25", method: str = "reprice", need: bool = True) -> str:
    """A test scheme for the small two-year Brent."""
    return SCHEME.format(pace=pace, method=method, need=NEED if need else "")


@pytest.fixture(scope="session")
def two_year_home(tmp_path_factory: pytest.TempPathFactory, reference_warehouse: Warehouse) -> Settings:
    """2006/07 and 2007/08 of a small synthetic Brent (3% of the lists), ingested with tariffs and registers."""
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
