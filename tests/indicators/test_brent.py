"""Every shipped indicator on the synthetic Brent (DuckDB), checked against plain Python and for internal sums.

The plain counts read the stored activity rows with pyarrow and test each row in Python, a second implementation
of what the ibis expressions do, in the spirit of the reference implementations in DESIGN.md.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections import Counter

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pbc.activity import activity
from pbc.engines import connect
from pbc.indicators.benchmark import run_benchmarks, stack
from pbc.indicators.definitions import load_definitions, shipped_codelists
from pbc.indicators.profiles import profile
from pbc.reference.load import LISTS
from pbc.settings import Settings
from pbc.warehouse import Warehouse

YEAR = "2007/08"
START, END = dt.date(2007, 4, 1), dt.date(2008, 3, 31)
EMERGENCY = {"21", "22", "23", "24", "25", "28", "2A", "2B", "2C", "2D"}


@pytest.fixture(scope="module")
def duck():
    return connect(Settings(engine="duckdb"))


@pytest.fixture(scope="module")
def warehouse(brent_indicator_home):
    return Warehouse(brent_indicator_home.warehouse_dir)


@pytest.fixture(scope="module")
def by_level(duck, warehouse):
    return {
        level: {r.definition.id: r for r in run_benchmarks(duck, warehouse, YEAR, level=level)}
        for level in ("practice", "cluster")
    }


def units(result, breakdown=None):
    return {
        r["UNIT"]: r for r in result.table.to_pylist() if r["BREAKDOWN"] == breakdown and r["LEVEL"] != "commissioner"
    }


def commissioner(result, breakdown=None):
    return next(r for r in result.table.to_pylist() if r["BREAKDOWN"] == breakdown and r["LEVEL"] == "commissioner")


def test_every_shipped_definition_computes_on_brent(by_level):
    for level, results in by_level.items():
        assert set(results) == set(load_definitions())
        for key, result in results.items():
            table = result.table.to_pylist()
            assert table, key
            breakdowns = {r["BREAKDOWN"] for r in table}
            for breakdown in breakdowns:
                assert commissioner(result, breakdown)["VALUE"] is not None, (key, breakdown)
            shown = [r for r in table if r["LEVEL"] == level and r["VALUE"] is not None]
            assert shown, (key, level)
            for r in shown:
                assert r["LOWER_998"] <= r["LOWER_95"] <= r["VALUE"] <= r["UPPER_95"] <= r["UPPER_998"], (key, r)
                if r["FUNNEL_LOWER_95"] is not None:
                    assert r["FUNNEL_LOWER_998"] <= r["FUNNEL_LOWER_95"] <= r["COMPARATOR"]
                    assert r["COMPARATOR"] <= r["FUNNEL_UPPER_95"] <= r["FUNNEL_UPPER_998"]
            assert any(r["SIGNIFICANCE"] for r in shown), key
    assert len(units(by_level["practice"]["emergency_admissions"])) == 54
    assert len(units(by_level["cluster"]["emergency_admissions"])) == 5


@pytest.mark.parametrize("key", ["referrals", "first_outpatient_attendances", "emergency_admissions", "day_case_rate"])
def test_units_add_up_to_the_commissioner(by_level, key):
    for level in ("practice", "cluster"):
        result = by_level[level][key]
        total = commissioner(result)
        parts = units(result).values()
        assert sum(r["NUMERATOR"] for r in parts) == total["NUMERATOR"]
        assert sum(r["DENOMINATOR"] for r in parts) == pytest.approx(total["DENOMINATOR"])
        if result.definition.statistic == "isr":
            assert sum(r["EXPECTED"] for r in parts) == pytest.approx(total["NUMERATOR"])


def test_prevalence_expected_matches_observed_per_condition(by_level):
    result = by_level["practice"]["disease_prevalence"]
    conditions = {r["BREAKDOWN"] for r in result.table.to_pylist()}
    assert conditions == {"ASTHMA", "CHD", "COPD", "DIABETES", "HEART_FAILURE", "HYPERTENSION", "STROKE"}
    for condition in conditions:
        parts = units(result, condition).values()
        assert sum(r["EXPECTED"] for r in parts) == pytest.approx(sum(r["NUMERATOR"] for r in parts))


def _acsc_prefixes(groups=None):
    """The ACSC list read straight from its file, as (diagnosis prefixes, excluding procedure prefixes) pairs."""
    data = tomllib.loads((shipped_codelists() / "acsc.toml").read_text())
    return [
        (tuple(c["codes"]), tuple(c.get("exclude_procedures", ())))
        for c in data["condition"]
        if groups is None or c["group"] in groups
    ]


def _is_acsc(diagnosis, procedure, conditions):
    code = (diagnosis or "").replace(".", "").upper()
    operation = (procedure or "").replace(".", "").upper()
    return any(
        code.startswith(codes) and not (exclusions and operation.startswith(exclusions))
        for codes, exclusions in conditions
    )


@pytest.mark.parametrize(("key", "groups"), [("acsc_admissions", None), ("acsc_chronic_admissions", {"chronic"})])
def test_acsc_counts_match_a_plain_reading_of_the_code_list(duck, warehouse, by_level, key, groups):
    spells = activity(duck, warehouse, "apc").to_pyarrow().to_pylist()
    conditions = _acsc_prefixes(groups)
    plain = Counter(
        s["GPPRAC"]
        for s in spells
        if START <= s["DISDATE"] <= END
        and s["ADMIMETH"] in EMERGENCY
        and _is_acsc(s["DIAG_01"], s["OPERTN_01"], conditions)
    )
    table = units(by_level["practice"][key])
    assert {p: r["NUMERATOR"] for p, r in table.items()} == {p: plain.get(p, 0) for p in table}
    assert sum(plain.values()) > 50  # the synthetic Brent has a realistic number of them


def test_referrals_and_population_match_plain_counts(duck, warehouse, by_level):
    referrals = activity(duck, warehouse, "referrals").to_pyarrow()
    plain = Counter(
        r["GPPRAC"]
        for r in referrals.select(["GPPRAC", "REFERRAL_DATE"]).to_pylist()
        if START <= r["REFERRAL_DATE"] <= END
    )
    lists = pq.read_table(warehouse.path(LISTS, "registered_lists"))
    lists = lists.filter(
        pc.and_(pc.greater_equal(lists["extract_date"], START), pc.less_equal(lists["extract_date"], END))
    )
    dates = len(set(lists["extract_date"].to_pylist()))
    people = Counter()
    for r in lists.select(["practice_code", "patients"]).to_pylist():
        people[r["practice_code"]] += r["patients"] / dates
    table = units(by_level["practice"]["referrals"])
    for practice, row in table.items():
        assert row["NUMERATOR"] == plain[practice]
        assert row["DENOMINATOR"] == pytest.approx(people[practice])
        assert row["VALUE"] == pytest.approx(plain[practice] / people[practice] * 1000)


def test_a_rerun_gives_the_same_table(duck, warehouse, by_level):
    # Re-running reads the same snapshot: the same table, row for row (nothing depends on row order or state).
    again = stack(run_benchmarks(duck, warehouse, YEAR, indicators=["emergency_admissions", "ae_attendances"]))
    first = stack([by_level["practice"]["emergency_admissions"], by_level["practice"]["ae_attendances"]])
    assert again.equals(first)


def test_cluster_profile_activity_history(duck, warehouse, by_level):
    result = profile(duck, warehouse, "5K5-KILBURN", YEAR)
    rows = result.activity.to_pylist()
    assert [r["POD"] for r in rows] == ["OP_FIRST", "OP_FU", "APC_EL", "APC_NE", "AE"]
    assert {r["FINANCIAL_YEAR"] for r in rows} == {YEAR}
    people = units(by_level["cluster"]["referrals"])["5K5-KILBURN"]["DENOMINATOR"]
    for r in rows:
        assert r["POPULATION"] == pytest.approx(people)
        assert r["ACTIVITY_PER_1000"] == pytest.approx(r["ACTIVITY"] / people * 1000)
        assert r["COST_PER_HEAD_PENCE"] == pytest.approx(r["COST_PENCE"] / people)
        assert r["COST_PENCE"] > 0
    ae = activity(duck, warehouse, "ae").to_pyarrow().select(["ARRIVALDATE", "GPPRAC"]).to_pylist()
    members = {p for p, r in units(by_level["practice"]["referrals"]).items() if r["CLUSTER"] == "5K5-KILBURN"}
    plain = sum(1 for r in ae if START <= r["ARRIVALDATE"] <= END and r["GPPRAC"] in members)
    assert next(r for r in rows if r["POD"] == "AE")["ACTIVITY"] == plain
    prevalence = {r["CONDITION"]: r for r in result.prevalence.to_pylist()}
    assert len(prevalence) == 7
    pyramid = result.pyramid.to_pylist()
    assert sum(r["MALE_PERCENT"] + r["FEMALE_PERCENT"] for r in pyramid) == pytest.approx(100)
