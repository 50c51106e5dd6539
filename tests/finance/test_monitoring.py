"""Budget monitoring, forecasts and trend indicators against plain sums of the lines, on the two-year Brent."""

import datetime as dt
import json
from collections import defaultdict
from fractions import Fraction

import ibis
import pytest
from click.testing import CliRunner

from pbc.challenges import Ledger
from pbc.cli import main
from pbc.costed import all_costed_lines
from pbc.engines import connect
from pbc.finance.budgets import make_budget
from pbc.finance.marts import mart, refresh
from pbc.finance.monitoring import monthly
from pbc.finance.runs import chosen_run, keep_run, run_table, runs
from pbc.finance.scheme import read_scheme
from pbc.finance.variance import position, summarise
from pbc.phasing import month_start
from pbc.quality.attribution import attribute
from pbc.settings import Settings
from pbc.warehouse import Warehouse
from tests.finance.conftest import scheme_text

YEAR = "2007/08"


def half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


@pytest.fixture
def budgeted(finance_home, tmp_path):
    """The copy of the two-year home with a budget run kept; returns (settings, run)."""
    path = tmp_path / "scheme.toml"
    path.write_text(scheme_text())
    scheme, digest = read_scheme(path)
    con, warehouse = connect(finance_home), Warehouse(finance_home.warehouse_dir)
    made, inputs = make_budget(con, warehouse, scheme)
    keep_run(warehouse, scheme, digest, path, made, inputs, 0)
    return finance_home, chosen_run(warehouse, YEAR)


@pytest.fixture(scope="module")
def lines(two_year_home):
    con = connect(two_year_home)
    return all_costed_lines(con, Warehouse(two_year_home.warehouse_dir)).to_pyarrow().to_pylist()


def test_the_run_records_what_it_was_made_from(budgeted):
    _, run = budgeted
    assert run["SCHEME"] == "test scheme"
    assert len(run["SCHEME_SHA256"]) == 64
    assert json.loads(run["PARAMETERS"])["pace_of_change_percent"] == "25"
    inputs = json.loads(run["INPUTS"])
    assert inputs["snapshots"]["tariff"] is not None
    assert inputs["activity_catalogue_sha256"] is not None
    assert run["CENSUS_LIST_DATE"] <= dt.date(2007, 4, 1)


@pytest.mark.parametrize("elapsed", [3, 9])
def test_monitoring_matches_plain_sums_and_adds_up(budgeted, lines, elapsed):
    settings, run = budgeted
    con, warehouse = connect(settings), Warehouse(settings.warehouse_dir)
    localities = {
        r["PRACTICE"]: r["LOCALITY"] for r in run_table(warehouse, "practice_budgets", run["RUN_ID"]).to_pylist()
    }
    phased = run_table(warehouse, "phased_budgets", run["RUN_ID"]).to_pylist()
    calendar = [month_start(YEAR, i) for i in range(1, 13)]
    where = position([], YEAR, settings, calendar[elapsed - 1], dt.date(2026, 1, 1))
    table = monthly(con, warehouse, run)
    got = {r["PRACTICE"]: r for r in summarise(table, ["PRACTICE"], where).to_pylist()}
    expected = defaultdict(lambda: defaultdict(int))
    for r in phased:
        e = expected[r["PRACTICE"]]
        e["annual"] += r["BUDGET_PENCE"]
        if r["MONTH_INDEX"] <= elapsed:
            e["ytd_budget"] += r["BUDGET_PENCE"]
    for line in lines:
        if line["COMMISSIONER"] != "5K5" or line["POD"] == "OP_UNKNOWN":
            continue
        index = (line["MONTH"].month + 8) % 12 + 1
        e = expected[line["PRACTICE"]]
        if line["FINANCIAL_YEAR"] == YEAR and index <= elapsed:
            e["ytd_actual"] += line["PRICE_PENCE"]
        if line["FINANCIAL_YEAR"] == "2006/07":
            e["previous_year"] += line["PRICE_PENCE"]
            if index <= elapsed:
                e["previous_ytd"] += line["PRICE_PENCE"]
    assert set(got) == set(expected)
    for practice, e in expected.items():
        g = got[practice]
        assert (g["YTD_PLAN_PENCE"], g["YTD_ACTUAL_PENCE"], g["ANNUAL_PLAN_PENCE"]) == (
            e["ytd_budget"],
            e["ytd_actual"],
            e["annual"],
        ), practice
        assert g["FORECAST_RUN_RATE_PENCE"] == half_up(Fraction(e["ytd_actual"] * 12, elapsed))
        seasonal = (
            half_up(Fraction(e["ytd_actual"] * e["previous_year"], e["previous_ytd"]))
            if e["previous_ytd"]
            else half_up(Fraction(e["ytd_actual"] * 12, elapsed))
        )
        assert g["FORECAST_SEASONAL_PENCE"] == seasonal, practice
    clusters = summarise(table, ["LOCALITY"], where).to_pylist()
    whole = summarise(table, ["COMMISSIONER"], where).to_pylist()
    for measure in ("YTD_PLAN_PENCE", "YTD_ACTUAL_PENCE", "ANNUAL_PLAN_PENCE"):
        by_cluster = defaultdict(int)
        for practice, g in got.items():
            by_cluster[localities.get(practice)] += g[measure]
        assert {c["LOCALITY"]: c[measure] for c in clusters} == dict(by_cluster)
        assert whole[0][measure] == sum(by_cluster.values())


def test_a_rerun_gives_the_same_marts_and_a_challenge_moves_exactly_its_line(budgeted, lines):
    settings, _ = budgeted
    con, warehouse = connect(settings), Warehouse(settings.warehouse_dir)
    refresh(con, warehouse, YEAR)
    first = {t: mart(warehouse, t, YEAR) for t in ("budget_monitoring", "spend", "trends")}
    refresh(con, warehouse, YEAR)
    for t, table in first.items():
        again = mart(warehouse, t, YEAR)
        assert again.num_rows == table.num_rows
        assert again.sort_by([(c, "ascending") for c in table.column_names if c != "DENOMINATOR"]).equals(
            table.sort_by([(c, "ascending") for c in table.column_names if c != "DENOMINATOR"])
        )
    line = next(x for x in lines if x["FINANCIAL_YEAR"] == YEAR and x["COMMISSIONER"] == "5K5" and x["PRICE_PENCE"] > 0)
    ledger = Ledger(settings.home)
    raised = ledger.raise_challenge(line["DATASET"], line["PROCODE"], line["RECORD_KEY"], line["PRACTICE"], "dup", "gp")
    ledger.decide(raised.id, True, "duplicate", "clearing house")
    refresh(con, warehouse, YEAR, accepted=ledger.accepted_lines())
    after = mart(warehouse, "budget_monitoring", YEAR).to_pylist()
    before = first["budget_monitoring"].to_pylist()
    key = lambda r: (r["PRACTICE"], r["POD"], r["MONTH"])  # noqa: E731
    moved = {key(r): r["ACTUAL_PENCE"] for r in before}
    for r in after:
        change = moved[key(r)] - r["ACTUAL_PENCE"]
        if key(r) == (line["PRACTICE"], line["POD"], line["MONTH"]):
            assert change == line["PRICE_PENCE"]
        else:
            assert change == 0
        assert r["PLAN_PENCE"] == next(b["PLAN_PENCE"] for b in before if key(b) == key(r))


def test_trend_numerators_match_the_lines_and_add_up(budgeted, two_year_home):
    settings, run = budgeted
    con, warehouse = connect(settings), Warehouse(settings.warehouse_dir)
    refresh(con, warehouse, YEAR)
    trends = mart(warehouse, "trends", YEAR).to_pylist()
    practices = {r["PRACTICE"] for r in run_table(warehouse, "practice_budgets", run["RUN_ID"]).to_pylist()}
    apc = attribute(connect(two_year_home), Warehouse(two_year_home.warehouse_dir), "apc").to_pyarrow().to_pylist()
    emergency = defaultdict(int)
    for spell in apc:
        in_year = dt.date(2007, 4, 1) <= spell["ADMIDATE"] <= dt.date(2008, 3, 31)
        emergency_spell = spell["ADMIMETH"] not in ("11", "12", "13")
        if in_year and emergency_spell and spell["COMMISSIONER"] == "5K5" and spell["PRACTICE"] in practices:
            emergency[(spell["PRACTICE"], spell["ADMIDATE"].replace(day=1))] += 1
    got = {
        (r["CODE"], r["MONTH"]): r["NUMERATOR"]
        for r in trends
        if r["LEVEL"] == "practice" and r["INDICATOR"] == "emergency_admissions"
    }
    assert got == dict(emergency)
    for indicator in ("emergency_admissions", "ae_attendances", "referrals"):
        practice_total = sum(r["NUMERATOR"] for r in trends if r["LEVEL"] == "practice" and r["INDICATOR"] == indicator)
        cluster_total = sum(r["NUMERATOR"] for r in trends if r["LEVEL"] == "cluster" and r["INDICATOR"] == indicator)
        whole = sum(r["NUMERATOR"] for r in trends if r["LEVEL"] == "commissioner" and r["INDICATOR"] == indicator)
        assert practice_total == cluster_total == whole > 0
    weighted = {
        r["CODE"]: r["DENOMINATOR"] for r in trends if r["LEVEL"] == "practice" and r["INDICATOR"] != "follow_up_ratio"
    }
    whole_list = sum(r["LIST_SIZE"] for r in run_table(warehouse, "practice_budgets", run["RUN_ID"]).to_pylist()) / 5
    assert sum(weighted.values()) == pytest.approx(whole_list, rel=1e-6)
    ratios = [r for r in trends if r["INDICATOR"] == "follow_up_ratio" and r["DENOMINATOR"]]
    assert all(r["VALUE"] == pytest.approx(r["NUMERATOR"] / r["DENOMINATOR"], abs=1e-4) for r in ratios)


def test_monthly_agrees_on_every_engine(budgeted, on_every_engine):
    settings, run = budgeted
    warehouse = Warehouse(settings.warehouse_dir)
    _, rows = on_every_engine(lambda con: con.to_pyarrow(monthly(con, warehouse, run)))
    assert len(rows) > 500


def test_budget_and_monitor_commands(finance_home, tmp_path):
    env = {"PBC_HOME": str(finance_home.home)}
    runner = CliRunner()
    path = tmp_path / "scheme.toml"
    path.write_text(scheme_text())
    made = runner.invoke(main, ["budget", "set", str(path)], env=env)
    assert made.exit_code == 0, made.output
    assert "= baseline" in made.output
    assert len(runs(Warehouse(finance_home.warehouse_dir), YEAR)) == 1
    shown = runner.invoke(main, ["budget", "show", "--year", YEAR, "--level", "practice", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["rows"]
    assert runner.invoke(main, ["budget", "runs"], env=env).exit_code == 0
    early = runner.invoke(main, ["monitor", "show", "--year", YEAR], env=env)
    assert early.exit_code != 0
    assert "pbc monitor run" in early.output
    ran = runner.invoke(main, ["monitor", "run", "--year", YEAR], env=env)
    assert ran.exit_code == 0, ran.output
    out = tmp_path / "monitoring.csv"
    report = runner.invoke(
        main, ["monitor", "show", "--year", YEAR, "--month", "2007-09", "--by-pod", "--out", str(out)], env=env
    )
    assert report.exit_code == 0, report.output
    assert "as at September 2007" in report.output
    assert out.exists()
    trend = runner.invoke(
        main, ["monitor", "trend", "--year", YEAR, "--indicator", "emergency_admissions", "--code", "5K5"], env=env
    )
    assert trend.exit_code == 0, trend.output
    assert "process limits" in trend.output
    missing = runner.invoke(main, ["budget", "show", "--year", "2009/10"], env=env)
    assert missing.exit_code != 0
    assert "no budget has been set for 2009/10" in missing.output


def test_summarise_is_exact_on_a_hand_table():
    rows = {
        "PRACTICE": ["A"] * 12,
        "MONTH": [month_start(YEAR, i) for i in range(1, 13)],
        "PLAN_ACTIVITY": [0] * 12,
        "PLAN_PENCE": [100] * 12,
        "ACTUAL_ACTIVITY": [1] * 12,
        "ACTUAL_PENCE": [110, 90, 100, 105, 0, 0, 0, 0, 0, 0, 0, 0],
        "PREVIOUS_ACTUAL_PENCE": [50, 50, 50, 50, 100, 100, 100, 100, 100, 100, 100, 100],
    }
    where = position([], YEAR, Settings(), month_start(YEAR, 4), dt.date(2026, 1, 1))
    result = summarise(ibis.memtable(rows), ["PRACTICE"], where).to_pylist()[0]
    assert result["YTD_PLAN_PENCE"] == 400
    assert result["YTD_ACTUAL_PENCE"] == 405
    assert result["YTD_VARIANCE_PERCENT"] == 1.3  # 1.25% rounds half up
    assert result["FORECAST_RUN_RATE_PENCE"] == 1215
    assert result["FORECAST_PROFILED_PENCE"] == 1215
    assert result["FORECAST_SEASONAL_PENCE"] == 2025  # 405 x 1000 / 200
    assert result["MONTH_VARIANCE_PENCE"] == 5
