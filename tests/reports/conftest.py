"""A small two-year Brent made ready for reports once per session, and where rendered pages are kept.

The home has everything the reports read: 2006/07 and 2007/08 of a small synthetic Brent (3% of the lists)
ingested with tariffs, lists and registers; the quality rules run; a 2007/08 budget set and monitored; 2007/08
contract plans drafted from 2006/07; and two challenges by one practice on lines of October 2007, one accepted
and one still open. Tests only read it.

Rendered pages are kept as PNG files (pypdfium2) in pytest's temporary folder, and also copied to
`artefacts/reports/` at the repository root when PBC_TEST_ARTEFACTS is set, so a person can look at them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from pbc.challenges import Ledger
from pbc.costed import all_costed_lines
from pbc.engines import connect
from pbc.finance.budgets import make_budget
from pbc.finance.marts import refresh
from pbc.finance.runs import keep_run
from pbc.finance.scheme import read_scheme
from pbc.ingest.load import Ingest
from pbc.keys import ensure_keys
from pbc.provider_contracts.plan import Growth, phase_plan, plan_from_baseline, store_plan
from pbc.quality.run import run_quality
from pbc.reports.sources import Sources
from pbc.settings import Settings
from pbc.warehouse import Source, Warehouse
from tests.finance.conftest import scheme_text

YEAR = "2007/08"
MONTH = dt.date(2007, 10, 1)
REPO = Path(__file__).resolve().parents[2]


def _challenge_two_lines(settings: Settings) -> str:
    """Raise two challenges on one practice's October 2007 spells; accept one. Returns the practice."""
    con, warehouse = connect(settings), Warehouse(settings.warehouse_dir)
    lines = all_costed_lines(con, warehouse, datasets=["apc"])
    lines = lines.filter((lines.MONTH.cast("date") == MONTH) & (lines.COMMISSIONER == "5K5"))
    rows = lines.order_by(["PRACTICE", "RECORD_KEY"]).to_pyarrow().to_pylist()
    practice = rows[0]["PRACTICE"]
    first, second = [r for r in rows if r["PRACTICE"] == practice][:2]
    ledger = Ledger(settings.home)
    accepted = ledger.raise_challenge("apc", first["PROCODE"], first["RECORD_KEY"], practice, "not our patient", "gp")
    ledger.raise_challenge("apc", second["PROCODE"], second["RECORD_KEY"], practice, "day case coded as ordinary", "gp")
    ledger.decide(accepted.id, True, "not registered on the date", "clearing house")
    return practice


@pytest.fixture(scope="session")
def reports_home(tmp_path_factory: pytest.TempPathFactory, reference_warehouse: Warehouse) -> Settings:
    """The small two-year Brent with quality, budget, monitoring, contract plans and two challenges."""
    from pbc.synth.config import SynthConfig
    from pbc.synth.generate import generate

    extracts = tmp_path_factory.mktemp("reports_brent")
    generate(SynthConfig(years=("2006/07", YEAR), scale=0.03), extracts)
    settings = Settings(home=tmp_path_factory.mktemp("reports_home"))
    shutil.copytree(reference_warehouse.root, settings.warehouse_dir)
    ensure_keys(settings)
    warehouse = Warehouse(settings.warehouse_dir)
    Ingest(settings, warehouse, "on-time").run([extracts])
    con = connect(settings)
    run_quality(con, warehouse)
    _challenge_two_lines(settings)
    accepted = Ledger(settings.home).accepted_lines()
    scheme_file = settings.home / "scheme.toml"
    scheme_file.write_text(scheme_text())
    scheme, digest = read_scheme(scheme_file)
    made, inputs = make_budget(con, warehouse, scheme, accepted)
    run_id = keep_run(warehouse, scheme, digest, scheme_file, made, inputs, accepted.num_rows)
    annual = plan_from_baseline(con, warehouse, YEAR, "2006/07", Growth(300), accepted)
    store_plan(
        warehouse,
        YEAR,
        annual,
        phase_plan(con, warehouse, YEAR, annual, "2006/07", accepted),
        Source(path="baseline 2006/07", sha256="", bytes=0),
        {"method": "drafted from baseline", "baseline": "2006/07", "growth_bp": 300},
    )
    refresh(con, warehouse, YEAR, run_id, accepted)
    return settings


@pytest.fixture(scope="session")
def challenged_practice(reports_home: Settings) -> str:
    """The practice whose October 2007 spells were challenged."""
    return next(iter(Ledger(reports_home.home).challenges().values())).practice


@pytest.fixture(scope="session")
def sources(reports_home: Settings) -> Sources:
    """One Sources for the session, so commissioner-wide figures are gathered once, as in a real run."""
    return Sources(reports_home)


@pytest.fixture(scope="session")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path, str], list[Path]]:
    """Keep a PDF's pages as PNG files (and the PDF), copied to artefacts/reports/ when PBC_TEST_ARTEFACTS is set."""
    import pypdfium2

    folder = tmp_path_factory.mktemp("report_artefacts")
    keep = REPO / "artefacts" / "reports" if os.environ.get("PBC_TEST_ARTEFACTS") else None

    def save(pdf: Path, name: str) -> list[Path]:
        document = pypdfium2.PdfDocument(str(pdf))
        try:
            pages = []
            for number in range(len(document)):
                png = folder / f"{name}-page-{number + 1:02d}.png"
                document[number].render(scale=1.5).to_pil().save(png)
                pages.append(png)
        finally:
            document.close()
        shutil.copy(pdf, folder / f"{name}.pdf")
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            for path in [*pages, folder / f"{name}.pdf"]:
                shutil.copy(path, keep / path.name)
        return pages

    return save
