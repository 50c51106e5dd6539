"""The cluster information pack: its sections, a page per practice, small-number suppression, figures that agree."""

from __future__ import annotations

import re

import pyarrow.compute as pc
import pytest

from pbc.challenges import Ledger
from pbc.indicators import profiles
from pbc.indicators.disclosure import DEFAULT_RULE
from pbc.reports.cluster_pack import SECTIONS, TEMPLATE, cluster_pack, pack_context
from pbc.reports.history import activity_histories
from pbc.reports.render import render, write
from pbc.reports.sources import Sources
from pbc.reports.units import find_cluster
from tests.reports.conftest import YEAR
from tests.reports.helpers import pdf_pages, run


@pytest.fixture(scope="module")
def pack_pdf(sources, tmp_path_factory, artefacts):
    out = tmp_path_factory.mktemp("pack") / "kilburn.pdf"
    cluster_pack(sources, find_cluster(sources, "Kilburn"), YEAR, out)
    artefacts(out, "cluster-pack-kilburn-2007_08")
    return out


@pytest.fixture(scope="module")
def internal(sources):
    return pack_context(sources, find_cluster(sources, "Kilburn"), YEAR)


@pytest.fixture(scope="module")
def external(sources):
    return pack_context(sources, find_cluster(sources, "Kilburn"), YEAR, external=True)


def test_the_pack_has_every_section_with_its_page_in_the_contents(pack_pdf, internal):
    pages = pdf_pages(pack_pdf)
    assert "Kilburn cluster" in pages[0]
    assert "Information pack 2007/08" in pages[0]
    contents = " ".join(pages[1].split())
    assert contents.startswith("Contents")
    for section in SECTIONS:
        starts = [i + 1 for i, text in enumerate(pages) if text.lstrip().startswith(section.title)]
        assert starts, f"no page starts with {section.title}"
        assert re.search(rf"{re.escape(section.title)}[ .]* {starts[0]}\b", contents), section.title
    practices = internal["practices"]
    assert practices
    for practice in practices:
        assert sum(f"{practice['name']} ({practice['code']})" in text for text in pages) >= 1


def test_each_practice_has_a_page_of_its_own(pack_pdf, internal):
    pages = pdf_pages(pack_pdf)
    headed = [text for text in pages if any(text.lstrip().startswith(p["name"]) for p in internal["practices"])]
    assert len(headed) == len(internal["practices"])
    for text in headed:
        assert "Indicators for 2007/08" in text
        assert "Data quality, 2007/08" in text


def test_the_pack_draws_its_charts(internal):
    figures = internal["figures"]
    assert {"pyramid", "prevalence", "cost", "activity"} <= set(figures)
    for fig in figures.values():
        assert fig.svg.startswith("<svg")
        assert fig.alt
    assert len(internal["funnels"]) == 2


def test_the_history_is_the_profiles_history(reports_home):
    """The shared, all-clusters history equals profiles.activity_history, with and without suppression.

    The profiles count the lines whose challenges were accepted and the reports leave them out (as monitoring
    does), so the comparison is made without the ledger's accepted challenge. Suppression is checked on the
    external pack below.
    """
    sources = Sources(reports_home)
    sources.ledger = Ledger(reports_home.home / "no-challenges")
    mine = activity_histories(sources, "5K5", YEAR, ["5K5-KILBURN"], "cluster")["5K5-KILBURN"]
    theirs = profiles.activity_history(sources.con, sources.warehouse, "5K5-KILBURN", "cluster", "5K5", YEAR, None)
    assert mine.to_pylist() == theirs.to_pylist()
    assert mine.num_rows == 10  # two years, five PODs


def test_an_external_pack_protects_every_count(internal, external):
    """Counts of 1-7 are suppressed and others rounded to 5, in every table a count appears in."""

    def protected(value):
        return value is None or value == 0 or (value >= 10 and value % 5 == 0)

    assert external["marking"].startswith("For wider circulation")
    assert DEFAULT_RULE.describe() in external["notes"]
    counts = [r[k] for r in external["pyramid"] for k in ("MALE", "FEMALE")]
    counts += [r["REGISTER"] for r in external["prevalence"]]
    counts += [r["ACTIVITY"] for r in external["activity"]]
    counts += [r["ACTIVITY"] for r in external["costs"]["providers"]]
    for page in external["practices"]:
        counts.append(page["registered"])
        counts += [r["NUMERATOR"] for r in page["indicators"]]
        counts += [d[k] for d in page["quality"].datasets for k in ("LINES", "FLAGGED")]
    assert all(protected(c) for c in counts), [c for c in counts if not protected(c)]
    small = [c for c in (r[k] for r in internal["pyramid"] for k in ("MALE", "FEMALE")) if 1 <= c <= 7]
    suppressed = [c for c in (r[k] for r in external["pyramid"] for k in ("MALE", "FEMALE")) if c is None]
    assert len(small) == len(suppressed)
    for row in external["costs"]["providers"]:
        if row["ACTIVITY"] is None:
            assert row["PENCE"] is None  # money on a suppressed count is not shown


def test_an_external_pack_recomputes_rates_from_protected_counts(external):
    for row in external["activity"]:
        if row["ACTIVITY"] is not None and row["POPULATION"]:
            assert row["ACTIVITY_PER_1000"] == pytest.approx(row["ACTIVITY"] / row["POPULATION"] * 1000)


def test_the_contract_summary_adds_up(sources, internal):
    costs = internal["costs"]
    assert sum(r["PENCE"] for r in costs["providers"]) == costs["total_pence"]
    assert sum(r["PENCE"] for r in costs["pods"]) == costs["total_pence"]
    assert costs["has_plan"]
    spent = sources.costs("5K5", YEAR)
    mine = spent.filter(pc.and_(pc.equal(spent["LOCALITY"], "5K5-KILBURN"), pc.equal(spent["FINANCIAL_YEAR"], YEAR)))
    assert costs["total_pence"] == pc.sum(mine["PENCE"]).as_py()
    budget = internal["budget"]
    assert sum(r["YTD_ACTUAL_PENCE"] for r in budget["pods"]) == budget["total"]["YTD_ACTUAL_PENCE"]


def test_an_external_pack_says_so_on_its_cover(external, tmp_path, artefacts):
    out = write(render(TEMPLATE, **external), tmp_path / "kilburn-external.pdf")
    pages = pdf_pages(out)
    assert "For wider circulation: small numbers suppressed" in pages[0]
    assert "counts of 1 to 7 are suppressed" in " ".join(pages[0].split())
    artefacts(out, "cluster-pack-kilburn-2007_08-external")


def test_a_year_without_lists_is_refused_saying_what_to_load(reports_home, tmp_path):
    result = run(
        reports_home, "cluster-pack", "--cluster", "Kilburn", "--year", "2004/05", "--out", str(tmp_path / "x.pdf")
    )
    assert result.exit_code != 0
    assert "no registered list sizes dated in 2004/05" in result.output
