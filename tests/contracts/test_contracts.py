"""Contract plans and monitoring against plain row-by-row references, on the small synthetic Brent."""

import datetime as dt
import shutil
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from click.testing import CliRunner

from pbc.challenges import Ledger
from pbc.cli import main
from pbc.costed import all_costed_lines
from pbc.engines import connect
from pbc.errors import InputError
from pbc.finance.variance import MonitoringError
from pbc.phasing import month_start
from pbc.provider_contracts.monitoring import (
    forecasts,
    lead_providers,
    monthly,
    position,
    summarise,
    variance_percent,
)
from pbc.provider_contracts.plan import (
    ContractError,
    Growth,
    has_plan,
    phase_plan,
    phased_plan,
    plan_from_baseline,
    read_plan_file,
    store_plan,
)
from pbc.settings import Settings
from pbc.warehouse import Source, Warehouse
from tests.test_phasing import reference_phase

YEAR = "2007/08"


@pytest.fixture
def home(tmp_path, brent_home):
    """A copy of the ingested small Brent home, so plans and challenges stay in this test."""
    shutil.copytree(brent_home.home, tmp_path / "home")
    return Settings(home=tmp_path / "home")


@pytest.fixture(scope="module")
def lines(brent_home):
    """Every costed line of the small Brent, as plain rows (the reference works from these)."""
    con = connect(brent_home)
    return all_costed_lines(con, Warehouse(brent_home.warehouse_dir)).to_pyarrow().to_pylist()


def grow(value: int, bp: int) -> int:
    return int((Decimal(value) * (10000 + bp) / 10000).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def test_growth_is_read_exactly():
    assert Growth.parse("3") == 300
    assert Growth.parse("3.5%") == 350
    assert Growth.parse("-1.25") == -125
    assert Growth.parse("-0.5") == -50
    for bad in ("three", "3.125", "1e3", ""):
        with pytest.raises(ContractError, match="percentage"):
            Growth.parse(bad)
    assert Growth(200, {"APC_NE": 450}).of("APC_NE") == 450
    assert Growth(200, {"APC_NE": 450}).of("OP_FU") == 200


def test_plan_from_baseline_matches_the_lines_summed_by_hand(brent_home, lines):
    growth = Growth(300, {"APC_NE": 525})
    con = connect(brent_home)
    plan = plan_from_baseline(con, Warehouse(brent_home.warehouse_dir), YEAR, YEAR, growth).to_pylist()
    expected = defaultdict(lambda: [0, 0])
    for line in lines:
        if line["FINANCIAL_YEAR"] == YEAR:
            key = (line["PROCODE"], line["PURCODE"], line["POD"], line["SPECIALTY"])
            expected[key][0] += line["COUNTED"]
            expected[key][1] += line["PRICE_PENCE"]
    got = {(r["PROCODE"], r["COMMISSIONER"], r["POD"], r["SPECIALTY"]): (r["ACTIVITY"], r["PENCE"]) for r in plan}
    assert set(got) == set(expected)
    for key, (activity, pence) in expected.items():
        bp = growth.of(key[2])
        assert got[key] == (grow(activity, bp), grow(pence, bp)), key


def test_phasing_follows_the_baseline_season_to_the_penny(brent_home, lines):
    con, warehouse = connect(brent_home), Warehouse(brent_home.warehouse_dir)
    annual = plan_from_baseline(con, warehouse, YEAR, YEAR, Growth(0))
    phased = phase_plan(con, warehouse, YEAR, annual, YEAR).to_pylist()
    weights = defaultdict(lambda: [0] * 12)
    for line in lines:
        if line["FINANCIAL_YEAR"] == YEAR:
            index = (line["MONTH"].month + 8) % 12
            weights[(line["PROCODE"], line["POD"])][index] += line["COUNTED"]
    months = defaultdict(dict)
    for r in phased:
        months[(r["PROCODE"], r["COMMISSIONER"], r["POD"], r["SPECIALTY"])][r["MONTH_INDEX"]] = r
        assert r["MONTH"] == month_start(YEAR, r["MONTH_INDEX"])
    for row in annual.to_pylist():
        key = (row["PROCODE"], row["COMMISSIONER"], row["POD"], row["SPECIALTY"])
        w = weights[(row["PROCODE"], row["POD"])]
        assert [months[key][m]["PENCE"] for m in range(1, 13)] == reference_phase(row["PENCE"], w), key
        assert [months[key][m]["ACTIVITY"] for m in range(1, 13)] == reference_phase(row["ACTIVITY"], w), key


def test_a_plan_without_a_baseline_is_phased_flat(brent_home):
    con, warehouse = connect(brent_home), Warehouse(brent_home.warehouse_dir)
    annual = plan_from_baseline(con, warehouse, YEAR, YEAR, Growth(0)).slice(0, 3)
    phased = phase_plan(con, warehouse, YEAR, annual, None).to_pylist()
    for row in annual.to_pylist():
        mine = sorted(
            (
                r
                for r in phased
                if (r["PROCODE"], r["POD"], r["SPECIALTY"]) == (row["PROCODE"], row["POD"], row["SPECIALTY"])
            ),
            key=lambda r: r["MONTH_INDEX"],
        )
        assert [r["PENCE"] for r in mine] == reference_phase(row["PENCE"], [0] * 12)


def reference_monitoring(lines, plan_rows, year, elapsed, accepted=frozenset()):
    """Plan against actual per provider, written plainly from the lines and the stored monthly plan."""
    calendar = [month_start(year, i) for i in range(1, 13)]
    out = defaultdict(lambda: defaultdict(int))
    for r in plan_rows:
        o = out[r["PROCODE"]]
        o["annual_plan"] += r["PENCE"]
        if calendar.index(r["MONTH"]) < elapsed:
            o["ytd_plan"] += r["PENCE"]
            o["ytd_plan_activity"] += r["ACTIVITY"]
        if calendar.index(r["MONTH"]) == elapsed - 1:
            o["month_plan"] += r["PENCE"]
    for line in lines:
        if line["FINANCIAL_YEAR"] != year or (line["DATASET"], line["PROCODE"], line["RECORD_KEY"]) in accepted:
            continue
        o = out[line["PROCODE"]]
        position_in_year = calendar.index(line["MONTH"])
        if position_in_year < elapsed:
            o["ytd_actual"] += line["PRICE_PENCE"]
            o["ytd_actual_activity"] += line["COUNTED"]
        if position_in_year == elapsed - 1:
            o["month_actual"] += line["PRICE_PENCE"]
    for o in out.values():
        run_rate = Fraction(o["ytd_actual"] * 12, elapsed)
        o["run_rate"] = int(run_rate + Fraction(1, 2)) if run_rate >= 0 else -int(-run_rate + Fraction(1, 2))
        if o["ytd_plan"]:
            profiled = Fraction(o["ytd_actual"] * o["annual_plan"], o["ytd_plan"])
            o["profiled"] = int(profiled + Fraction(1, 2))
        else:
            o["profiled"] = o["run_rate"]
    return out


def _kept_plan(home, growth_bp=300):
    con, warehouse = connect(home), Warehouse(home.warehouse_dir)
    annual = plan_from_baseline(con, warehouse, YEAR, YEAR, Growth(growth_bp))
    store_plan(warehouse, YEAR, annual, phase_plan(con, warehouse, YEAR, annual, YEAR), Source("test", "", 0), {})
    return con, warehouse


@pytest.mark.parametrize("elapsed", [1, 7, 12])
def test_monitoring_matches_the_plain_sums(home, lines, elapsed):
    con, warehouse = _kept_plan(home)
    plan_rows = phased_plan(con, warehouse, YEAR).to_pyarrow().to_pylist()
    where = position([], YEAR, home, month_start(YEAR, elapsed), dt.date(2026, 1, 1))
    got = {r["PROCODE"]: r for r in summarise(monthly(con, warehouse, YEAR), ["PROCODE"], where).to_pylist()}
    expected = reference_monitoring(lines, plan_rows, YEAR, elapsed)
    assert set(got) == set(expected)
    for procode, e in expected.items():
        g = got[procode]
        assert g["ANNUAL_PLAN_PENCE"] == e["annual_plan"]
        assert (g["YTD_PLAN_PENCE"], g["YTD_ACTUAL_PENCE"]) == (e["ytd_plan"], e["ytd_actual"])
        assert g["YTD_VARIANCE_PENCE"] == e["ytd_actual"] - e["ytd_plan"]
        assert (g["YTD_PLAN_ACTIVITY"], g["YTD_ACTUAL_ACTIVITY"]) == (e["ytd_plan_activity"], e["ytd_actual_activity"])
        assert (g["MONTH_PLAN_PENCE"], g["MONTH_ACTUAL_PENCE"]) == (e["month_plan"], e["month_actual"])
        assert (g["FORECAST_RUN_RATE_PENCE"], g["FORECAST_PROFILED_PENCE"]) == (e["run_rate"], e["profiled"])
    # the contract's figures add up across levels, to the penny
    detail = summarise(monthly(con, warehouse, YEAR), ["PROCODE", "COMMISSIONER", "POD", "SPECIALTY"], where)
    assert sum(detail.column("YTD_ACTUAL_PENCE").to_pylist()) == sum(e["ytd_actual"] for e in expected.values())


def test_forecast_and_variance_arithmetic():
    assert forecasts(ytd_actual=600, ytd_plan=500, annual_plan=1200, elapsed=6) == (1200, 1440)
    assert forecasts(ytd_actual=100, ytd_plan=0, annual_plan=1200, elapsed=3) == (400, 400)
    assert forecasts(ytd_actual=1, ytd_plan=3, annual_plan=1, elapsed=12) == (1, 0)  # 1/3 rounds down
    assert forecasts(ytd_actual=1, ytd_plan=2, annual_plan=1, elapsed=8) == (2, 1)  # 1.5 rounds half up
    assert variance_percent(1105, 1000) == 10.5
    assert variance_percent(0, 1000) == -100.0
    assert variance_percent(5, 0) is None


def test_an_accepted_challenge_moves_exactly_that_line(home, lines):
    con, warehouse = _kept_plan(home)
    where = position([], YEAR, home, month_start(YEAR, 12), dt.date(2026, 1, 1))
    before = {r["PROCODE"]: r for r in summarise(monthly(con, warehouse, YEAR), ["PROCODE"], where).to_pylist()}
    line = next(x for x in lines if x["DATASET"] == "apc" and x["PRICE_PENCE"] > 0 and x["FINANCIAL_YEAR"] == YEAR)
    ledger = Ledger(home.home)
    raised = ledger.raise_challenge("apc", line["PROCODE"], line["RECORD_KEY"], line["PRACTICE"], "not ours", "gp")
    ledger.decide(raised.id, True, "agreed", "clearing house")
    accepted = ledger.accepted_lines()
    after = {
        r["PROCODE"]: r for r in summarise(monthly(con, warehouse, YEAR, accepted), ["PROCODE"], where).to_pylist()
    }
    for procode, b in before.items():
        moved = line["PRICE_PENCE"] if procode == line["PROCODE"] else 0
        assert after[procode]["YTD_ACTUAL_PENCE"] == b["YTD_ACTUAL_PENCE"] - moved
        assert after[procode]["ANNUAL_PLAN_PENCE"] == b["ANNUAL_PLAN_PENCE"]
    expected = reference_monitoring(
        lines,
        phased_plan(con, warehouse, YEAR).to_pyarrow().to_pylist(),
        YEAR,
        12,
        {("apc", line["PROCODE"], line["RECORD_KEY"])},
    )
    assert after[line["PROCODE"]]["YTD_ACTUAL_PENCE"] == expected[line["PROCODE"]]["ytd_actual"]


def test_a_plan_kept_again_for_the_year_replaces_the_first(home):
    con, warehouse = _kept_plan(home, 0)
    first = phased_plan(con, warehouse, YEAR).to_pyarrow()
    _kept_plan(home, 1000)
    again = phased_plan(con, warehouse, YEAR).to_pyarrow()
    assert again.num_rows == first.num_rows
    assert sum(again.column("PENCE").to_pylist()) > sum(first.column("PENCE").to_pylist())
    assert has_plan(warehouse, YEAR)
    assert not has_plan(warehouse, "2008/09")


def test_the_plan_file_is_checked_row_by_row_and_nothing_is_kept(home, tmp_path):
    good = tmp_path / "plan.csv"
    good.write_text(
        "Provider code,Commissioner code,POD,Specialty,Activity,Value (£)\n"
        "RV8,5K5,APC_NE,300,1200,2400000.00\n"
        "RV8,5K5,OP_FIRST,101,500,65000\n"
    )
    table = read_plan_file(good)
    assert table.column("PENCE").to_pylist() == [240000000, 6500000]
    bad = tmp_path / "bad_plan.csv"
    bad.write_text(
        "Provider code,Commissioner code,POD,Specialty,Activity,Value (£)\n"
        "RV8,5K5,APC_XX,300,1200,2400000.00\n"
        "RV8,5K5,OP_FIRST,101,500,65000.125\n"
        "RV8,5K5,OP_FIRST,101,-1,1\n"
    )
    with pytest.raises(InputError) as caught:
        read_plan_file(bad)
    text = str(caught.value)
    assert "bad_plan.csv" in text
    assert "row 2" in text
    assert "POD" in text
    assert "row 3" in text
    assert "PENCE" in text
    assert "row 4" in text
    assert "ACTIVITY" in text
    env = {"PBC_HOME": str(home.home)}
    result = CliRunner().invoke(main, ["contract", "plan", "--year", YEAR, "--file", str(bad)], env=env)
    assert result.exit_code == 65, result.output
    assert not has_plan(Warehouse(home.warehouse_dir), YEAR)


def test_lead_commissioner_view(brent_home):
    con, warehouse = connect(brent_home), Warehouse(brent_home.warehouse_dir)
    assert "RV8" in lead_providers(con, warehouse, "5K5", YEAR)  # the 2006/07 table carries forward
    with pytest.raises(ContractError, match="no lead commissioner table"):
        lead_providers(con, warehouse, "5K5", "2001/02")
    with pytest.raises(ContractError, match="leads no provider"):
        lead_providers(con, warehouse, "XXX", YEAR)


def test_months_final_after_their_freeze_date(brent_home):
    where = position([month_start(YEAR, 5)], YEAR, brent_home, None, dt.date(2007, 10, 1))
    assert where.as_at == dt.date(2007, 8, 1)
    assert where.elapsed == 5
    # freeze: two months after, on the 20th: April's is 20 June, July's 20 September, August's 20 October
    assert where.final_through == dt.date(2007, 7, 1)
    assert where.provisional == [dt.date(2007, 8, 1)]
    with pytest.raises(MonitoringError, match="not a month of"):
        position([], YEAR, brent_home, dt.date(2009, 1, 1), dt.date(2026, 1, 1))


def test_monthly_figures_agree_on_every_engine(home, on_every_engine):
    _kept_plan(home)
    warehouse = Warehouse(home.warehouse_dir)
    _, rows = on_every_engine(lambda con: con.to_pyarrow(monthly(con, warehouse, YEAR)))
    assert len(rows) > 100


def test_contract_commands(home, tmp_path):
    env = {"PBC_HOME": str(home.home)}
    runner = CliRunner()
    made = runner.invoke(
        main,
        ["contract", "plan", "--year", YEAR, "--baseline", YEAR, "--growth", "2.5", "--pod-growth", "AE=4"],
        env=env,
    )
    assert made.exit_code == 0, made.output
    assert "plan kept" in made.output
    out = tmp_path / "monitor.csv"
    shown = runner.invoke(
        main,
        ["contract", "monitor", "--year", YEAR, "--month", "2007-10", "--level", "pod", "--out", str(out)],
        env=env,
    )
    assert shown.exit_code == 0, shown.output
    assert "as at October 2007" in shown.output
    assert out.exists()
    lead = runner.invoke(main, ["contract", "monitor", "--year", YEAR, "--lead", "5K5", "--json"], env=env)
    assert lead.exit_code == 0, lead.output
    assert '"PROCODE": "RV8"' in lead.output
    wrong = runner.invoke(main, ["contract", "monitor", "--year", YEAR, "--month", "October"], env=env)
    assert wrong.exit_code != 0
    assert "not a month like" in wrong.output
    none = runner.invoke(main, ["contract", "monitor", "--year", "2009/10"], env=env)
    assert none.exit_code != 0
    assert "no contract plan for 2009/10" in none.output
