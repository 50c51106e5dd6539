"""The one-page cluster summary: exactly one A4 page, the figures `pbc monitor show` gives, every cluster at once."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import ibis
import pyarrow.compute as pc
import pytest

from pbc.finance.marts import mart
from pbc.finance.variance import position, summarise
from pbc.money import pounds
from pbc.reports.cluster_summary import summary_context
from pbc.reports.units import clusters_of, find_cluster
from pbc.warehouse import Warehouse
from tests.reports.conftest import YEAR
from tests.reports.helpers import pdf_pages, run

MONTH = dt.date(2007, 12, 1)


@pytest.fixture(scope="module")
def summary_pdf(reports_home, tmp_path_factory, artefacts):
    out = tmp_path_factory.mktemp("summary") / "wembley.pdf"
    result = run(reports_home, "cluster-summary", "--cluster", "wembley", "--month", "2007-12", "--out", str(out))
    assert result.exit_code == 0, result.output
    artefacts(out, "cluster-summary-wembley-2007-12")
    return out


def test_the_summary_is_exactly_one_a4_page(summary_pdf):
    import pypdfium2

    document = pypdfium2.PdfDocument(str(summary_pdf))
    assert len(document) == 1
    width, height = document[0].get_size()
    assert (round(width), round(height)) == (595, 842)  # A4 in points
    document.close()


def test_the_summary_shows_every_part(summary_pdf):
    [text] = pdf_pages(summary_pdf)
    for heading in (
        "Wembley cluster: December 2007",
        "Budget against actual by point of delivery",
        "Largest variances by practice",
        "Largest changes by specialty",
        "Key indicators (SPC)",
        "Data quality (year to date)",
        "Forecast outturn",
        "Emergency admissions",
    ):
        assert heading in text, heading


def test_the_summary_figures_are_those_of_monitor_show(reports_home, sources, summary_pdf):
    """The cluster's year to date and POD rows are summarise()'s over the mart, shown by pbc.money.pounds."""
    rows = mart(Warehouse(reports_home.warehouse_dir), "budget_monitoring", YEAR)
    mine = rows.filter(pc.equal(rows["LOCALITY"], "5K5-WEMBLEY"))
    where = position([], YEAR, reports_home, MONTH, dt.date.today())
    expected = summarise(ibis.memtable(mine.drop_columns(["BUDGET_RUN"])), ["LOCALITY"], where).to_pylist()[0]
    context = summary_context(sources, find_cluster(sources, "5K5-WEMBLEY"), MONTH)
    total = context["total"]
    for column in ("YTD_PLAN_PENCE", "YTD_ACTUAL_PENCE", "YTD_VARIANCE_PENCE", "ANNUAL_PLAN_PENCE"):
        assert total[column] == expected[column], column
    assert total["FORECAST_PENCE"] == expected["FORECAST_SEASONAL_PENCE"]
    assert sum(p["YTD_ACTUAL_PENCE"] for p in context["pods"]) == total["YTD_ACTUAL_PENCE"]
    [text] = pdf_pages(summary_pdf)
    assert pounds(expected["YTD_ACTUAL_PENCE"]) in text
    assert pounds(expected["YTD_PLAN_PENCE"]) in text


def test_largest_variances_and_specialty_changes_are_ordered_and_add_up(sources):
    context = summary_context(sources, find_cluster(sources, "Wembley"), MONTH)
    practices = [abs(r["YTD_VARIANCE_PENCE"]) for r in context["practices"]]
    assert practices == sorted(practices, reverse=True)
    assert 0 < len(practices) <= 5
    changes = context["specialties"]
    assert [abs(r["CHANGE_PENCE"]) for r in changes] == sorted((abs(r["CHANGE_PENCE"]) for r in changes), reverse=True)
    assert all(r["CHANGE_PENCE"] == r["PENCE"] - r["LAST_PENCE"] for r in changes)


def test_indicators_read_the_trend_mart_as_monitor_trend_does(reports_home, sources):
    """The latest emergency admissions rate is the mart's numerator per 1,000 weighted patients, with its SPC icon."""
    context = summary_context(sources, find_cluster(sources, "Wembley"), MONTH)
    emergency = next(t for t in context["trends"] if t.spec.id == "emergency_admissions")
    trends = mart(Warehouse(reports_home.warehouse_dir), "trends", YEAR).to_pylist()
    december = [
        r
        for r in trends
        if r["CODE"] == "5K5-WEMBLEY" and r["INDICATOR"] == "emergency_admissions" and r["MONTH"] == MONTH
    ]
    assert emergency.latest == pytest.approx(december[0]["NUMERATOR"] * 1000 / december[0]["DENOMINATOR"])
    assert len(emergency.months) == 9  # April to December 2007: 2006/07 was not monitored
    assert emergency.spc is not None
    assert emergency.icon == emergency.spc.variation_icon


def test_every_cluster_of_a_commissioner_in_one_command(reports_home, sources, tmp_path):
    result = run(
        reports_home,
        "cluster-summary",
        "--all",
        "--commissioner",
        "5K5",
        "--month",
        "2007-12",
        "--out-dir",
        str(tmp_path),
        "--format",
        "html",
        "--json",
    )
    assert result.exit_code == 0, result.output
    made = json.loads(result.stdout[result.stdout.index("[") :])
    assert {m["cluster"] for m in made} == {c.code for c in clusters_of(sources, "5K5")}
    assert len(made) == 5
    for m in made:
        html = Path(m["file"]).read_text(encoding="utf-8")
        assert "Key indicators (SPC)" in html
        assert "data:image/svg+xml;base64," in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cluster", "Nowhere", "--month", "2007-12", "--out", "x.pdf"], "no cluster is called 'Nowhere'"),
        (["--cluster", "Wembley", "--month", "December", "--out", "x.pdf"], "is not a month"),
        (["--cluster", "Wembley", "--month", "2007-12", "--out", "x.docx"], "name a .pdf or .html file"),
        (["--all", "--month", "2007-12", "--out-dir", "."], "--all needs --commissioner"),
        (["--cluster", "Wembley", "--month", "2008-04", "--out", "x.pdf"], "pbc monitor run --year 2008/09"),
    ],
)
def test_bad_requests_are_refused_with_a_clear_message(reports_home, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    result = run(reports_home, "cluster-summary", *args)
    assert result.exit_code != 0
    assert message in result.output


def test_with_all_a_cluster_that_fails_is_named_at_the_end(reports_home, tmp_path):
    result = run(
        reports_home,
        "cluster-summary",
        "--all",
        "--commissioner",
        "5K5",
        "--month",
        "2008-04",
        "--out-dir",
        str(tmp_path),
        "--format",
        "html",
    )
    assert result.exit_code != 0
    assert "5 of 5 reports were not made" in result.output
    assert "5K5-WEMBLEY: no monitoring for 2008/09 has been run" in result.output
