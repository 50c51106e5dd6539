"""The practice monthly report: referrals, activity and validation status, as a PDF and as an XLSX worklist."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from pbc.challenges import Ledger
from pbc.costed import all_costed_lines
from pbc.quality.attribution import attribute
from pbc.reports.practice_monthly import month_context
from pbc.reports.workbook import write_workbook
from pbc.warehouse import Warehouse
from tests.reports.conftest import MONTH
from tests.reports.helpers import pdf_pages, run


@pytest.fixture(scope="module")
def context(sources, challenged_practice):
    return month_context(sources, challenged_practice, MONTH)


@pytest.fixture(scope="module")
def lines(reports_home, sources, challenged_practice):
    """The practice's costed lines of the month, worked out directly from the costed activity."""
    costed = all_costed_lines(sources.con, Warehouse(reports_home.warehouse_dir))
    costed = costed.filter((costed.PRACTICE == challenged_practice) & (costed.MONTH.cast("date") == MONTH))
    return costed.to_pyarrow().to_pylist()


def test_activity_and_money_are_every_line_of_the_month(context, lines):
    total = context["activity_total"]
    assert total["LINES"] == len(lines)
    assert total["ACTIVITY"] == sum(r["COUNTED"] for r in lines)
    assert total["PENCE"] == sum(r["PRICE_PENCE"] or 0 for r in lines)
    by_pod = Counter()
    for r in lines:
        by_pod[r["POD"]] += r["PRICE_PENCE"] or 0
    assert {r["POD"]: r["PENCE"] for r in context["activity_by_pod"]} == dict(by_pod)


def test_challenges_are_marked_and_an_accepted_line_leaves_the_charge(reports_home, context, lines):
    challenges = list(Ledger(reports_home.home).challenges().values())
    accepted = next(c for c in challenges if c.status == "accepted")
    price = next(r["PRICE_PENCE"] for r in lines if r["RECORD_KEY"] == accepted.record_key)
    assert context["challenges"] == {"open": 1, "accepted": 1, "rejected": 0}
    assert context["activity_total"]["CHARGED_PENCE"] == context["activity_total"]["PENCE"] - price
    spells = next(v for v in context["validation"] if v["DATASET"] == "apc")
    assert (spells["OPEN"], spells["ACCEPTED"]) == (1, 1)
    assert {r["RECORD_KEY"] for r in context["flagged_lines"]} >= {c.record_key for c in challenges}


def test_referrals_are_those_made_in_the_month(reports_home, sources, context, challenged_practice):
    referrals = attribute(sources.con, Warehouse(reports_home.warehouse_dir), "referrals")
    month = referrals.filter(
        (referrals.PRACTICE == challenged_practice)
        & (referrals.ACTIVITY_DATE.year() == MONTH.year)
        & (referrals.ACTIVITY_DATE.month() == MONTH.month)
    )
    expected = month.count().to_pyarrow().as_py()
    assert context["referral_count"] == expected > 0
    assert sum(r["TOTAL"] for r in context["referrals_by_specialty"]) == expected
    assert all(r["ROUTINE"] + r["URGENT"] + r["TWO_WEEK_WAIT"] == r["TOTAL"] for r in context["referrals_by_specialty"])


def test_the_pdf_and_the_workbook(reports_home, sources, challenged_practice, context, tmp_path, artefacts):
    import openpyxl

    pdf, xlsx = tmp_path / "monthly.pdf", tmp_path / "monthly.xlsx"
    result = run(
        reports_home, "practice-monthly", "--practice", challenged_practice, "--month", "2007-10", "--out", str(pdf)
    )
    assert result.exit_code == 0, result.output
    write_workbook(context, xlsx)
    text = " ".join(pdf_pages(pdf))
    for heading in ("Validation status", "Activity charged to the practice", "Referrals made, by specialty"):
        assert heading in text
    artefacts(pdf, f"practice-monthly-{challenged_practice}-2007-10")
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["Summary", "Validation", "Rules", "Activity", "Providers", "Referrals", "Lines"]
    activity = list(book["Activity"].iter_rows(min_row=2, values_only=True))
    assert sum(Decimal(str(row[4])) for row in activity) == Decimal(context["activity_total"]["PENCE"]).scaleb(-2)
    assert book["Activity"]["E2"].number_format.startswith('"£"')
    worklist = list(book["Lines"].iter_rows(min_row=2, values_only=True))
    assert len(worklist) == len(context["flagged_lines"])
    assert {row[7] for row in worklist} >= {"accepted", "open"}


def test_an_unknown_practice_or_an_empty_month_is_refused(reports_home, tmp_path):
    result = run(
        reports_home, "practice-monthly", "--practice", "Z99999", "--month", "2007-10", "--out", str(tmp_path / "x.pdf")
    )
    assert result.exit_code != 0
    assert "'Z99999' is not a practice code" in result.output
    result = run(
        reports_home, "practice-monthly", "--practice", "E84002", "--month", "2001-10", "--out", str(tmp_path / "x.pdf")
    )
    assert result.exit_code != 0
    assert "no activity or referrals of E84002 are held for October 2001" in result.output
    result = run(
        reports_home, "practice-monthly", "--practice", "E84002", "--month", "2007-10", "--out", str(tmp_path / "x.csv")
    )
    assert result.exit_code != 0
    assert ".xlsx" in result.output
