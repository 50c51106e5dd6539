"""Golden tests of the benchmark tables on the tiny hand-built commissioner (tests/indicators/conftest.py).

Every expected figure is worked by hand from the fixture's lists and activity, with the standard library only:
z from statistics.NormalDist, Byar's limits and Wilson's interval written out (test_methods.hand_byar and
hand_wilson), exact Poisson limits from PHEindicatormethods' published table (test_methods.R_EXACT) or from the
Poisson distribution's own definition. Person-years are the mean of the two 2007/08 lists: A 1300 (1100 men aged
20-24, 200 women aged 70-74), B 1000 (400 / 600), C 100 (100 / 0), D 1000 (500 / 500), 3400 in all.
"""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from pbc.engines import connect
from pbc.errors import NotLoadedError, PbcError
from pbc.indicators.benchmark import funnel_curve, run_benchmarks, stack, summary
from pbc.indicators.compute import COLUMNS
from pbc.indicators.disclosure import DisclosureRule
from pbc.indicators.methods import DSR_NOT_APPLICABLE, HIGH_0001, LOW_0001, LOW_0025, NOT_SIGNIFICANT, funnel_limits
from pbc.settings import Settings
from pbc.warehouse import Warehouse
from tests.indicators.conftest import A, B, C, D
from tests.indicators.test_methods import R_EXACT, hand_byar, hand_wilson, z_of

YEAR = "2007/08"
LEVELS = [0.95, 0.998]
KINGSBURY, WEMBLEY, HARLESDEN = "5K5-KINGSBURY", "5K5-WEMBLEY", "5K5-HARLESDEN"


@pytest.fixture(scope="module")
def duck():
    return connect(Settings(engine="duckdb"))


@pytest.fixture(scope="module")
def practices(duck, tiny_home):
    """Every shipped indicator at practice level, by indicator id."""
    results = run_benchmarks(duck, Warehouse(tiny_home.warehouse_dir), YEAR)
    return {r.definition.id: r for r in results}


@pytest.fixture(scope="module")
def clusters(duck, tiny_home):
    results = run_benchmarks(duck, Warehouse(tiny_home.warehouse_dir), YEAR, level="cluster")
    return {r.definition.id: r for r in results}


def rows(result, breakdown=None):
    """The rows of one breakdown value by unit code."""
    return {r["UNIT"]: r for r in result.table.to_pylist() if r["BREAKDOWN"] == breakdown}


def interval(row, confidence):
    suffix = "95" if confidence == 0.95 else "998"
    return row[f"LOWER_{suffix}"], row[f"UPPER_{suffix}"]


def exact_poisson_by_definition(x, confidence):
    """Solve P(X >= x | L) = a/2 and P(X <= x | U) = a/2 by bisection on the Poisson sums (no scipy)."""
    a = (1 - confidence) / 2

    def cdf(k, mu):
        return sum(math.exp(-mu) * mu**i / math.factorial(i) for i in range(k + 1))

    def solve(f, lo, hi):
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
        return (lo + hi) / 2

    lower = 0.0 if x == 0 else solve(lambda mu: a - (1 - cdf(x - 1, mu)), 0.0, 100.0)
    upper = solve(lambda mu: cdf(x, mu) - a, 0.0, 100.0)
    return lower, upper


# --- crude rates --------------------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", LEVELS)
def test_referrals_per_1000_worked_by_hand(practices, confidence):
    # A made 13 referrals, B none, C 3 and D 10; per 1,000 person-years.
    table = rows(practices["referrals"])
    a = table[A]
    assert (a["NUMERATOR"], a["DENOMINATOR"], a["VALUE"]) == (13, 1300, pytest.approx(10.0))
    assert interval(a, confidence) == pytest.approx(tuple(v / 1300 * 1000 for v in hand_byar(13, confidence)))
    # No referrals: 0 to -ln(a/2) events in 1,000 person-years.
    b = table[B]
    assert (b["NUMERATOR"], b["VALUE"]) == (0, 0.0)
    assert interval(b, confidence) == (0.0, pytest.approx(-math.log((1 - confidence) / 2)))
    # Three referrals in 100 person-years: exact limits, below 10 events.
    c = table[C]
    assert c["VALUE"] == pytest.approx(30.0)
    assert interval(c, confidence) == pytest.approx(
        tuple(v / 100 * 1000 for v in exact_poisson_by_definition(3, confidence)), rel=1e-6
    )
    # Ten: Byar's from 10.
    assert interval(table[D], confidence) == pytest.approx(hand_byar(10, confidence))
    commissioner = table["5K5"]
    assert commissioner["LEVEL"] == "commissioner"
    assert (commissioner["NUMERATOR"], commissioner["DENOMINATOR"]) == (26, 3400)
    assert commissioner["VALUE"] == pytest.approx(26 / 3400 * 1000)
    assert all(r["COMPARATOR"] == pytest.approx(26 / 3400 * 1000) for r in table.values())


def test_exact_limits_of_three_published_digits():
    # The textbook exact 95% interval for 3 events is 0.619 to 8.767.
    assert exact_poisson_by_definition(3, 0.95) == pytest.approx((0.6187, 8.7673), abs=1e-4)


def test_referrals_funnel_and_significance(practices):
    table = rows(practices["referrals"])
    target = 26 / 3400
    # B expects 1000 * 26/3400 = 7.65 referrals; even the 99.8% exact upper limit of 0 (6.91) is below that.
    assert -math.log(0.001) < 1000 * target
    assert table[B]["SIGNIFICANCE"] == LOW_0001
    assert table[B]["COMPARISON"] == "lower"  # referrals have no polarity: lower, not better
    # A: Byar's 95% interval of 13 (6.9 to 22.2) holds its expected 9.94.
    lo, hi = hand_byar(13, 0.95)
    assert lo < 1300 * target < hi
    assert table[A]["SIGNIFICANCE"] == NOT_SIGNIFICANT
    assert table[A]["COMPARISON"] == "similar"
    # Each unit's funnel limits are the commissioner's funnel at the unit's person-years.
    for unit, people in ((A, 1300), (B, 1000), (C, 100), (D, 1000)):
        limits = funnel_limits("rate", [people], target, multiplier=1000)
        row = table[unit]
        assert row["FUNNEL_X"] == people
        assert row["FUNNEL_LOWER_95"] == pytest.approx(limits.lower[0.95][0])
        assert row["FUNNEL_UPPER_998"] == pytest.approx(limits.upper[0.998][0])
    assert table["5K5"]["FUNNEL_X"] is None
    assert table["5K5"]["SIGNIFICANCE"] is None


def test_year_boundaries_and_filters(practices):
    # The 1 January 2007 list (9,000 men a practice) belongs to 2006/07, and so does the spell ending in March
    # 2007; did-not-attend appointments are not attendances.
    assert rows(practices["referrals"])[A]["DENOMINATOR"] == 1300
    assert rows(practices["emergency_admissions"])[A]["NUMERATOR"] == 8
    first = rows(practices["first_outpatient_attendances"])
    assert {u: first[u]["NUMERATOR"] for u in (A, B, C, D)} == {A: 4, B: 2, C: 0, D: 1}
    assert first[A]["VALUE"] == pytest.approx(4 / 1300 * 1000)


def test_referrals_by_specialty(practices):
    result = practices["referrals_by_specialty"]
    general, trauma = rows(result, "100"), rows(result, "110")
    assert {u: general[u]["NUMERATOR"] for u in (A, B, C, D)} == {A: 10, B: 0, C: 3, D: 0}
    assert {u: trauma[u]["NUMERATOR"] for u in (A, B, C, D)} == {A: 3, B: 0, C: 0, D: 10}
    assert general["5K5"]["VALUE"] == pytest.approx(13 / 3400 * 1000)
    assert general[C]["VALUE"] == pytest.approx(30.0)  # the population does not split by specialty


@pytest.mark.parametrize("confidence", LEVELS)
def test_followup_to_first_ratio(practices, confidence):
    result = practices["followup_to_first_ratio"]
    general = rows(result, "100")
    # A: 10 follow-ups to 4 firsts; B: none to 2; C's 3 follow-ups have no first attendance and are left out.
    assert general[A]["VALUE"] == pytest.approx(2.5)
    assert interval(general[A], confidence) == pytest.approx(tuple(v / 4 for v in hand_byar(10, confidence)))
    assert general[B]["VALUE"] == 0.0
    assert interval(general[B], confidence) == (0.0, pytest.approx(-math.log((1 - confidence) / 2) / 2))
    assert C not in general
    assert general["5K5"]["VALUE"] == pytest.approx(10 / 6)
    assert "3 events at practices with no denominator" in " ".join(result.notes)
    trauma = rows(result, "110")
    assert set(trauma) == {"5K5", D}
    assert interval(trauma[D], confidence) == pytest.approx(R_EXACT[(1, confidence)], rel=1e-5, abs=1e-6)


# --- proportions --------------------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", LEVELS)
def test_day_case_rate_wilson(practices, confidence):
    table = rows(practices["day_case_rate"])
    assert D not in table  # no elective admissions: nothing to take a proportion of
    assert table[A]["VALUE"] == pytest.approx(70.0)
    assert interval(table[A], confidence) == pytest.approx(tuple(v * 100 for v in hand_wilson(7, 10, confidence)))
    z2 = z_of(confidence) ** 2
    assert (table[B]["VALUE"], *interval(table[B], confidence)) == (0.0, 0.0, pytest.approx(z2 / (4 + z2) * 100))
    assert (table[C]["VALUE"], interval(table[C], confidence)[1]) == (100.0, 100.0)
    assert interval(table[C], confidence)[0] == pytest.approx(2 / (2 + z2) * 100)
    assert table["5K5"]["VALUE"] == pytest.approx(9 / 16 * 100)


def test_day_case_significance_uses_polarity(practices):
    # B did none of its 4 elective admissions as day cases. Wilson's 95% upper limit of 0/4 is
    # z^2 / (4 + z^2) = 0.49, below the commissioner's 0.5625; at 99.8% it is 0.70, above it.
    z95, z998 = z_of(0.95) ** 2, z_of(0.998) ** 2
    assert z95 / (4 + z95) < 9 / 16 < z998 / (4 + z998)
    b = rows(practices["day_case_rate"])[B]
    assert b["SIGNIFICANCE"] == LOW_0025
    assert b["COMPARISON"] == "worse"  # a higher day case rate is better


# --- indirectly standardised ratios ---------------------------------------------------------------------

# Emergency admissions by band: men 20-24: A 2, B 1, C 1 (4 of 2,100 person-years); women 70-74: A 6, B 20,
# D 5 (31 of 1,300). Expected counts apply those rates to each practice's person-years.
EXPECTED = {
    A: 1100 * 4 / 2100 + 200 * 31 / 1300,  # 6.8645
    B: 400 * 4 / 2100 + 600 * 31 / 1300,  # 15.0696
    C: 100 * 4 / 2100,  # 0.1905
    D: 500 * 4 / 2100 + 500 * 31 / 1300,  # 12.8755
}
OBSERVED = {A: 8, B: 21, C: 1, D: 5}


def exact_or_byar(x, confidence):
    """PHE's rule: exact limits below 10 events, Byar's from 10."""
    return exact_poisson_by_definition(x, confidence) if x < 10 else hand_byar(x, confidence)


@pytest.mark.parametrize("confidence", LEVELS)
def test_emergency_admissions_isr_worked_by_hand(practices, confidence):
    result = practices["emergency_admissions"]
    table = rows(result)
    assert sum(EXPECTED.values()) == pytest.approx(35)  # as many expected as observed over the commissioner
    for unit, expected in EXPECTED.items():
        row = table[unit]
        observed = OBSERVED[unit]
        assert (row["NUMERATOR"], row["EXPECTED"]) == (observed, pytest.approx(expected))
        assert row["VALUE"] == pytest.approx(observed / expected * 100)
        limits = tuple(v / expected * 100 for v in exact_or_byar(observed, confidence))
        assert interval(row, confidence) == pytest.approx(limits, rel=1e-6)
    commissioner = table["5K5"]
    assert (commissioner["NUMERATOR"], commissioner["EXPECTED"], commissioner["VALUE"]) == (35, 35, 100)
    # A's spell of a patient of unknown sex cannot be standardised; it is reported, not hidden.
    assert "1 event of unknown age or sex left out of the standardised ratios" in result.notes


def test_emergency_admissions_significance(practices):
    table = rows(practices["emergency_admissions"])
    # D: 5 observed against 12.88 expected. The exact 95% upper limit of 5 (11.67) is below 12.88, the 99.8% one
    # (16.45) above: low at 95%, and fewer emergency admissions is better.
    assert R_EXACT[(5, 0.95)][1] < EXPECTED[D] < R_EXACT[(5, 0.998)][1]
    assert table[D]["SIGNIFICANCE"] == LOW_0025
    assert table[D]["COMPARISON"] == "better"
    # B: 21 against 15.07; Byar's 95% lower limit of 21 (13.0) is below 15.07.
    assert hand_byar(21, 0.95)[0] < EXPECTED[B]
    assert table[B]["SIGNIFICANCE"] == NOT_SIGNIFICANT
    limits = funnel_limits("ratio", [EXPECTED[D]], 1.0, multiplier=100)
    assert table[D]["FUNNEL_X"] == pytest.approx(EXPECTED[D])
    assert table[D]["FUNNEL_LOWER_95"] == pytest.approx(limits.lower[0.95][0])
    assert table[D]["VALUE"] < table[D]["FUNNEL_LOWER_95"]  # outside the 95% funnel, as its label says


@pytest.mark.parametrize("confidence", LEVELS)
def test_emergency_admissions_by_cluster(clusters, confidence):
    # D moved from Kingsbury to Wembley on 1 October 2007: its April list and its June spells (3) count in
    # Kingsbury, its October list and November spells (2) in Wembley.
    table = rows(clusters["emergency_admissions"])
    expected = {
        KINGSBURY: (1100 + 250) * 4 / 2100 + (200 + 250) * 31 / 1300,  # 13.3022
        WEMBLEY: (400 + 250) * 4 / 2100 + (600 + 250) * 31 / 1300,  # 21.5073
        HARLESDEN: 100 * 4 / 2100,
    }
    observed = {KINGSBURY: 11, WEMBLEY: 23, HARLESDEN: 1}
    assert set(table) == {"5K5", *expected}
    for unit, e in expected.items():
        row = table[unit]
        assert (row["NUMERATOR"], row["EXPECTED"], row["DENOMINATOR"]) == (
            observed[unit],
            pytest.approx(e),
            {KINGSBURY: 1800, WEMBLEY: 1500, HARLESDEN: 100}[unit],
        )
        limits = tuple(v / e * 100 for v in exact_or_byar(observed[unit], confidence))
        assert interval(row, confidence) == pytest.approx(limits, rel=1e-6)
        assert row["CLUSTER"] is None
    assert table["5K5"]["VALUE"] == pytest.approx(100)


def test_practice_rows_name_their_cluster(practices):
    table = rows(practices["emergency_admissions"])
    assert {u: table[u]["CLUSTER"] for u in (A, B, C, D)} == {A: KINGSBURY, B: WEMBLEY, C: HARLESDEN, D: WEMBLEY}
    assert table[A]["UNIT_NAME"] == "FORTY WILLOWS SURGERY"
    assert table["5K5"]["UNIT_NAME"] == "Brent PCT"


def test_acsc_code_list(practices):
    # All ACSCs: A's asthma (2), angina without a cardiac procedure (1) and urinary infection (1), not the angina
    # with procedure K40.1 nor gastroenteritis A09.9; B's 5 diabetes complications; C's asthma; D's 5 heart failures.
    everything = rows(practices["acsc_admissions"])
    assert {u: everything[u]["NUMERATOR"] for u in (A, B, C, D)} == {A: 4, B: 5, C: 1, D: 5}
    chronic = rows(practices["acsc_chronic_admissions"])
    assert {u: chronic[u]["NUMERATOR"] for u in (A, B, C, D)} == {A: 3, B: 5, C: 1, D: 5}
    # A's expected count of chronic ACSC admissions: men 1/2100, women 13/1300.
    assert chronic[A]["EXPECTED"] == pytest.approx(1100 / 2100 + 200 * 13 / 1300)


@pytest.mark.parametrize("confidence", LEVELS)
def test_disease_prevalence_observed_against_expected(practices, confidence):
    # Registers on 31 March 2008 over the year's last list (1 October 2007): A 1200 men / 200 women, B 400 / 600,
    # C 100 / 0, D 500 / 500. Diabetes: men 1 of 2200, women 60 of 1300.
    result = practices["disease_prevalence"]
    diabetes = rows(result, "DIABETES")
    expected = {
        A: 1200 / 2200 + 200 * 60 / 1300,
        B: 400 / 2200 + 600 * 60 / 1300,
        C: 100 / 2200,
        D: 500 / 2200 + 500 * 60 / 1300,
    }
    observed = {A: 21, B: 30, C: 0, D: 10}
    for unit, e in expected.items():
        row = diabetes[unit]
        assert (row["NUMERATOR"], row["EXPECTED"]) == (observed[unit], pytest.approx(e))
        assert row["DENOMINATOR"] == {A: 1400, B: 1000, C: 100, D: 1000}[unit]
        if observed[unit]:
            limits = tuple(v / e * 100 for v in exact_or_byar(observed[unit], confidence))
            assert interval(row, confidence) == pytest.approx(limits, rel=1e-6)
    assert interval(diabetes[C], confidence) == (
        0.0,
        pytest.approx(-math.log((1 - confidence) / 2) / expected[C] * 100),
    )
    asthma = rows(result, "ASTHMA")
    # Asthma is registered only among men: 55 of 2,200, so A expects 30 and has 50; B expects 10 and has none.
    assert (asthma[A]["EXPECTED"], asthma[A]["VALUE"]) == (pytest.approx(30), pytest.approx(50 / 30 * 100))
    assert (asthma[A]["SIGNIFICANCE"], asthma[A]["COMPARISON"]) == (HIGH_0001, "higher")
    assert (asthma[B]["SIGNIFICANCE"], asthma[B]["COMPARISON"]) == (LOW_0001, "lower")


# --- directly standardised rates ---------------------------------------------------------------------


def dobson(bands, confidence):
    """A DSR per 1,000 with Dobson limits, by hand: bands are (ESP weight, population, events)."""
    total_w = sum(w for w, _, _ in bands)
    observed = sum(x for _, _, x in bands)
    value = sum(w * x / n for w, n, x in bands) / total_w
    var = sum(w * w * x / n / n for w, n, x in bands) / total_w**2
    lo, hi = hand_byar(observed, confidence)
    spread = math.sqrt(var / observed)
    return value * 1000, (value + spread * (lo - observed)) * 1000, (value + spread * (hi - observed)) * 1000


@pytest.mark.parametrize("confidence", LEVELS)
def test_ae_attendances_dsr_worked_by_hand(practices, confidence):
    # With people only aged 20-24 and 70-74, the empty ESP2013 bands merge into the next older populated band
    # (the 90+ band, last, into the younger one): 0-24 weighs 5000 + 5500 * 3 + 6000 = 27,500 and 25-90+ the
    # other 72,500 of the 100,000.
    table = rows(practices["ae_attendances"])
    a = dobson([(27500, 1100, 10), (72500, 200, 4)], confidence)
    assert a[0] == pytest.approx(17.0)  # (27500 * 10/1100 + 72500 * 4/200) / 100,000 * 1,000
    assert (table[A]["VALUE"], *interval(table[A], confidence)) == pytest.approx(a)
    b = dobson([(27500, 400, 0), (72500, 600, 12)], confidence)
    assert b[0] == pytest.approx(14.5)
    assert (table[B]["VALUE"], *interval(table[B], confidence)) == pytest.approx(b)
    whole = dobson([(27500, 2100, 13), (72500, 1300, 25)], confidence)
    assert (table["5K5"]["VALUE"], *interval(table["5K5"], confidence)) == pytest.approx(whole)


def test_ae_dsr_not_published_below_ten_events(practices):
    table = rows(practices["ae_attendances"])
    for unit, events in ((C, 3), (D, 9)):
        row = table[unit]
        assert row["NUMERATOR"] == events
        assert (row["VALUE"], row["LOWER_95"], row["FUNNEL_X"]) == (None, None, None)
        assert row["SIGNIFICANCE"] == DSR_NOT_APPLICABLE
        assert row["COMPARISON"] is None
        assert "fewer than 10 events" in row["NOTE"]
    # A's point on the DSR funnel: the effective population O / DSR = 14 / 0.017 person-years.
    assert table[A]["FUNNEL_X"] == pytest.approx(14 / 0.017)
    target = table["5K5"]["VALUE"] / 1000
    limits = funnel_limits("rate", [14 / 0.017], target, multiplier=1000)
    assert table[A]["FUNNEL_UPPER_95"] == pytest.approx(limits.upper[0.95][0])


# --- small-number suppression ------------------------------------------------------------------------------


def test_suppressed_table_recomputes_from_protected_counts(duck, tiny_home):
    [result] = run_benchmarks(
        duck, Warehouse(tiny_home.warehouse_dir), YEAR, indicators=["referrals"], rule=DisclosureRule()
    )
    table = rows(result)
    # A: 13 referrals published as 15, so its rate is 15 / 1300 * 1000 with limits of 15.
    assert (table[A]["NUMERATOR"], table[A]["DENOMINATOR"]) == (15, 1300)
    assert table[A]["VALUE"] == pytest.approx(15 / 1300 * 1000)
    assert interval(table[A], 0.95) == pytest.approx(tuple(v / 1300 * 1000 for v in hand_byar(15, 0.95)))
    # C's 3 referrals are suppressed, with everything worked from them; B's zero is shown.
    c = table[C]
    assert (c["NUMERATOR"], c["VALUE"], c["LOWER_95"], c["SIGNIFICANCE"]) == (None, None, None, None)
    assert (c["SUPPRESSED"], c["COMPARISON"], c["DENOMINATOR"]) == (True, "suppressed", 100)
    assert (table[B]["NUMERATOR"], table[B]["SUPPRESSED"]) == (0, False)
    # The commissioner's 26 becomes 25: the comparator and the funnel are drawn from the protected total.
    assert table["5K5"]["NUMERATOR"] == 25
    assert table["5K5"]["VALUE"] == pytest.approx(25 / 3400 * 1000)
    assert table[A]["FUNNEL_LOWER_95"] == pytest.approx(
        funnel_limits("rate", [1300], 25 / 3400, multiplier=1000).lower[0.95][0]
    )
    assert any("suppressed" in note for note in result.notes)
    assert summary(result)[0]["suppressed"] == 1


def test_suppressed_ratio_keeps_the_expected_count(duck, tiny_home):
    [result] = run_benchmarks(
        duck, Warehouse(tiny_home.warehouse_dir), YEAR, indicators=["emergency_admissions"], rule=DisclosureRule()
    )
    table = rows(result)
    assert table[A]["NUMERATOR"] == 10  # 8 rounded to 5
    assert table[A]["VALUE"] == pytest.approx(10 / EXPECTED[A] * 100)
    assert (table[C]["SUPPRESSED"], table[D]["SUPPRESSED"]) == (True, True)
    assert table[B]["NUMERATOR"] == 20


# --- the table as a whole ---------------------------------------------------------------------------------


def test_stack_and_funnel_curve(practices):
    table = stack(practices.values())
    assert tuple(table.column_names) == COLUMNS
    assert table.num_rows == sum(r.table.num_rows for r in practices.values())
    curve = funnel_curve(practices["emergency_admissions"], points=20)
    assert curve.num_rows == 20
    xs = curve["X"].to_pylist()
    assert xs[0] == pytest.approx(min(EXPECTED.values()) * 0.8)
    assert xs[-1] == pytest.approx(max(EXPECTED.values()) * 1.2)
    assert set(curve["BASELINE"].to_pylist()) == {100.0}
    for row in curve.to_pylist():
        assert row["LOWER_998"] <= row["LOWER_95"] <= 100 <= row["UPPER_95"] <= row["UPPER_998"]
    by_condition = funnel_curve(practices["disease_prevalence"], points=5)
    assert set(by_condition["BREAKDOWN"].to_pylist()) == {"ASTHMA", "DIABETES"}


def test_summary_counts_units(practices):
    [row] = summary(practices["emergency_admissions"])
    assert row == {
        "indicator": "emergency_admissions",
        "breakdown": None,
        "commissioner_value": 100.0,
        "units": 4,
        "better": 1,
        "similar": 3,
        "worse": 0,
        "suppressed": 0,
        "not_compared": 0,
    }


def test_bad_requests_say_what_to_do(duck, tiny_home, tmp_path):
    warehouse = Warehouse(tiny_home.warehouse_dir)
    with pytest.raises(PbcError, match="write it like 2007/08"):
        run_benchmarks(duck, warehouse, "2007-08")
    with pytest.raises(NotLoadedError, match="no registered list sizes dated in 2005/06"):
        run_benchmarks(duck, warehouse, "2005/06")
    with pytest.raises(PbcError, match=r"no registered lists of '5K7'.*commissioners with lists: 5K5"):
        run_benchmarks(duck, warehouse, YEAR, commissioner="5K7")
    with pytest.raises(PbcError, match="no indicator nonsense"):
        run_benchmarks(duck, warehouse, YEAR, indicators=["nonsense"])
    with pytest.raises(PbcError, match="--level"):
        run_benchmarks(duck, warehouse, YEAR, level="sector")
    with pytest.raises(NotLoadedError, match="no registered list sizes"):
        run_benchmarks(duck, Warehouse(tmp_path / "empty"), YEAR)


@pytest.mark.spark
def test_indicator_values_agree_on_duckdb_and_spark(on_every_engine, tiny_home):
    # One Spark job counts all three (the counting is one union query), and the three cover every way pbc counts:
    # admitted care filtered and through a code list, referrals aged from a date of birth and broken down by
    # specialty, disease registers over the year-end list; the other indicators reuse these paths.
    warehouse = Warehouse(tiny_home.warehouse_dir)
    chosen = ["acsc_admissions", "referrals_by_specialty", "disease_prevalence"]

    def table(con) -> pa.Table:
        return stack(run_benchmarks(con, warehouse, YEAR, indicators=chosen, commissioner="5K5"))

    names, result = on_every_engine(table)
    assert names == COLUMNS
    assert len(result) == 5 + 2 * 5 + 2 * 5
