"""Golden tests for pbc.indicators.methods.

Expected values are never produced by the code under test. They come from:
- hand formulas written out below with the standard library only (statistics.NormalDist for z, math);
- Newcombe RG (1998) "Two-sided confidence intervals for the single proportion", Stat Med 17:857-72,
  worked examples for the Wilson score method ("Newcombe 1998");
- closed forms (the exact Poisson upper limit of 0 is -ln(alpha/2));
- the R package PHEindicatormethods' own test fixtures, read from its repository
  (ukhsa-collaboration/PHEindicatormethods, tests/testthat/): testdata_funnel_prop_outputs.csv and
  testdata_funnel_prop_inputs.csv (proportion funnels and significance labels),
  testdata_funnel_ratio_outputs.csv (ratio funnels; each row's *_exp_events columns are also the exact
  Poisson limits of Observed_events) and testdata_funnel_rate_outputs.csv (rate funnels). R finds
  the Poisson points by bisection to about 1e-7, hence the relative tolerances used with them.
"""

import math
from statistics import NormalDist

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pbc.indicators.esp2013 import ESP2013, ESP2013_AGE_BANDS
from pbc.indicators.methods import (
    CI,
    DSR_NOT_APPLICABLE,
    HIGH_0001,
    HIGH_0025,
    LOW_0001,
    LOW_0025,
    NOT_SIGNIFICANT,
    byar_ci,
    crude_rate,
    dsr,
    exact_poisson_ci,
    funnel_limits,
    funnel_significance,
    isr,
    isr_rate,
    poisson_limits,
    wilson_ci,
    wilson_limits,
)

LEVELS = [0.95, 0.998]


def z_of(confidence):
    return NormalDist().inv_cdf((1 + confidence) / 2)


def hand_wilson(x, n, confidence):
    z = z_of(confidence)
    root = z * math.sqrt(z * z + 4 * x * (1 - x / n))
    return (2 * x + z * z - root) / 2 / (n + z * z), (2 * x + z * z + root) / 2 / (n + z * z)


def hand_byar(x, confidence):
    z = z_of(confidence)
    lower = x * (1 - 1 / (9 * x) - z / (3 * math.sqrt(x))) ** 3
    upper = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * math.sqrt(x + 1))) ** 3
    return lower, upper


# Exact Poisson limits (lower, upper) of small counts, from testdata_funnel_ratio_outputs.csv:
# at 95% they are (upper_2s_exp_events, lower_2s_exp_events), at 99.8% (upper_3s_.., lower_3s_..).
R_EXACT = {
    (1, 0.95): (0.025317898, 5.571644585),
    (4, 0.95): (1.089865762, 10.24158653),
    (5, 0.95): (1.623486324, 11.6683331),
    (8, 0.95): (3.453831154, 15.76318696),
    (9, 0.95): (4.11537405, 17.08479966),
    (10, 0.95): (4.795387629, 18.39035799),
    (1, 0.998): (0.001000547, 9.233410143),
    (4, 0.998): (0.42855244, 14.79414916),
    (5, 0.998): (0.739371928, 16.45474478),
    (8, 0.998): (1.970813969, 21.15619716),
    (9, 0.998): (2.452425215, 22.65737951),
    (10, 0.998): (2.960519925, 24.13397235),
}


def phe_poisson_by_hand(x, confidence):
    """PHE's rule from published values: exact below 10 (-ln(a/2) for x = 0, else R_EXACT), Byar's from 10."""
    if x == 0:
        return 0.0, -math.log((1 - confidence) / 2)
    if x < 10:
        return R_EXACT[(x, confidence)]
    return hand_byar(x, confidence)


def label_by_hand(x, n, target):
    """assign_funnel_significance for ratios and rates: the point's own interval against the target."""
    (lo998, hi998), (lo95, hi95) = phe_poisson_by_hand(x, 0.998), phe_poisson_by_hand(x, 0.95)
    if lo998 / n > target:
        return HIGH_0001
    if lo95 / n > target:
        return HIGH_0025
    if hi998 / n < target:
        return LOW_0001
    if hi95 / n < target:
        return LOW_0025
    return NOT_SIGNIFICANT


# --- CI type ----------------------------------------------------------------------------------------


def test_ci_is_named_tuple_of_plain_floats():
    result = wilson_ci(65, 100)
    assert isinstance(result, CI)
    assert result._fields == ("value", "lower", "upper")
    for func in (
        lambda: wilson_ci(65, 100),
        lambda: exact_poisson_ci(3),
        lambda: byar_ci(30),
        lambda: crude_rate(12, 5000),
        lambda: dsr([5, 20, 40], [1000, 2000, 1000], [1, 1, 2]),
        lambda: isr(14, [1000, 2000], [10, 60], [10000, 20000]),
        lambda: isr_rate(14, [1000, 2000], [10, 60], [10000, 20000]),
    ):
        assert all(type(v) is float for v in func())  # np.float64 subclasses float: check the exact type


# --- Wilson -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", LEVELS)
def test_wilson_65_of_100_matches_hand_formula(confidence):
    # PHEindicatormethods' own example is wilson_lower(65, 100) and wilson_lower(65, 100, 99.8).
    lower, upper = hand_wilson(65, 100, confidence)
    assert wilson_ci(65, 100, confidence) == pytest.approx((0.65, lower, upper), rel=1e-12)


def test_wilson_65_of_100_published_digits():
    # 95%: 0.5525 to 0.7364 (hand: (130 + 3.8415 -/+ 1.96 * sqrt(3.8415 + 91)) / 207.683).
    assert wilson_ci(65, 100) == pytest.approx((0.65, 0.5525, 0.7364), abs=5e-5)


@pytest.mark.parametrize(
    ("x", "n", "lower", "upper"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_newcombe_1998_examples(x, n, lower, upper):
    # Newcombe 1998, method 3 (score interval without continuity correction), to 4 decimal places.
    result = wilson_ci(x, n)
    assert result.lower == pytest.approx(lower, abs=5e-5)
    assert result.upper == pytest.approx(upper, abs=5e-5)


@pytest.mark.parametrize("confidence", LEVELS)
def test_wilson_boundaries_are_exact(confidence):
    assert wilson_ci(0, 20, confidence).lower == 0.0
    assert wilson_ci(20, 20, confidence).upper == 1.0
    assert wilson_ci(20, 20, confidence).value == 1.0
    # The other limit at the boundary is the hand formula: z^2 / (n + z^2) for x = 0.
    z2 = z_of(confidence) ** 2
    assert wilson_ci(0, 20, confidence).upper == pytest.approx(z2 / (20 + z2))
    assert wilson_ci(20, 20, confidence).lower == pytest.approx(20 / (20 + z2))


def test_wilson_limits_vectorised_matches_scalar():
    lower, upper = wilson_limits([0, 5, 10], [10, 10, 10], 0.998)
    for i, x in enumerate([0, 5, 10]):
        assert (lower[i], upper[i]) == pytest.approx(wilson_ci(x, 10, 0.998)[1:])


@pytest.mark.parametrize(
    ("x", "n", "message"),
    [(1, 0, "n must be > 0"), (0, 0, "n must be > 0"), (-1, 10, ">= 0"), (11, 10, "<= denominators")],
)
def test_wilson_rejects_bad_inputs(x, n, message):
    with pytest.raises(ValueError, match=message):
        wilson_ci(x, n)


@pytest.mark.parametrize("confidence", [0, 1, 95, -0.5, 1.2, float("nan")])
def test_confidence_must_be_a_fraction(confidence):
    with pytest.raises(ValueError, match="confidence"):
        wilson_ci(5, 10, confidence)
    with pytest.raises(ValueError, match="confidence"):
        exact_poisson_ci(5, confidence)
    with pytest.raises(ValueError, match="confidence"):
        crude_rate(5, 100, confidence)


# --- exact Poisson and Byar's -----------------------------------------------------------------------


@pytest.mark.parametrize("confidence", LEVELS)
def test_exact_poisson_zero(confidence):
    # For x = 0 the upper limit is chi2.ppf(1 - a/2, 2)/2 = -ln(a/2): 3.6889 at 95%, 6.9078 at 99.8%.
    result = exact_poisson_ci(0, confidence)
    assert result == (0.0, 0.0, pytest.approx(-math.log((1 - confidence) / 2), rel=1e-12))


def test_exact_poisson_zero_published_digits():
    assert exact_poisson_ci(0).upper == pytest.approx(3.6889, abs=5e-5)
    assert exact_poisson_ci(0, 0.998).upper == pytest.approx(6.9078, abs=5e-5)


@pytest.mark.parametrize(("x", "confidence"), list(R_EXACT))
def test_exact_poisson_matches_phe_values(x, confidence):
    # R's bisection leaves about 1e-7 absolute error, which matters for the tiny lower limit of 1.
    assert exact_poisson_ci(x, confidence) == pytest.approx((x, *R_EXACT[(x, confidence)]), rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("confidence", LEVELS)
def test_exact_poisson_one_closed_form(confidence):
    # P(X >= 1 | mu) = 1 - exp(-mu) = a/2 gives lower = -ln(1 - a/2); P(X <= 1) = a/2 has no closed form.
    a = 1 - confidence
    assert exact_poisson_ci(1, confidence).lower == pytest.approx(-math.log(1 - a / 2), rel=1e-12)


@pytest.mark.parametrize("confidence", LEVELS)
@pytest.mark.parametrize("x", [2, 10, 65, 100, 1045])
def test_byar_matches_hand_formula(x, confidence):
    assert byar_ci(x, confidence) == pytest.approx((x, *hand_byar(x, confidence)), rel=1e-12)


def test_byar_100_published_digits():
    # 100 * (1 - 1/900 - 1.96/30)^3 = 81.36 and 101 * (1 - 1/909 + 1.96/(3 * sqrt(101)))^3 = 121.63.
    assert byar_ci(100) == pytest.approx((100, 81.3621, 121.6279), abs=1e-4)


def test_byar_zero_and_tiny_counts_floor_at_zero():
    assert byar_ci(0) == (0.0, 0.0, pytest.approx(1 * (1 - 1 / 9 + z_of(0.95) / 3) ** 3))
    # At 99.8% the cube for x = 1 is negative (1 - 1/9 - 3.09/3 < 0): a count's limit cannot be < 0.
    assert 1 - 1 / 9 - z_of(0.998) / 3 < 0
    assert byar_ci(1, 0.998).lower == 0.0


def test_byar_within_0_2_percent_of_exact_from_10():
    # PHE Technical Guide: Confidence intervals (2018), Appendix 1: at 95% Byar's is within 0.2% of the
    # exact value for numerators of 10 or more.
    for x in range(10, 500):
        exact, byar = exact_poisson_ci(x), byar_ci(x)
        assert byar.lower == pytest.approx(exact.lower, rel=0.002)
        assert byar.upper == pytest.approx(exact.upper, rel=0.002)


def test_poisson_limits_switch_at_ten():
    lower, upper = poisson_limits([9, 10], 0.95)
    assert (lower[0], upper[0]) == pytest.approx(R_EXACT[(9, 0.95)], rel=1e-6)
    assert (lower[1], upper[1]) == pytest.approx(hand_byar(10, 0.95), rel=1e-12)


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf")])
def test_counts_must_be_finite_and_non_negative(bad):
    for func in (exact_poisson_ci, byar_ci):
        with pytest.raises(ValueError, match="count"):
            func(bad)


# --- crude rates ------------------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", LEVELS)
def test_crude_rate_zero_count(confidence):
    upper = -math.log((1 - confidence) / 2) / 1000 * 100_000
    assert crude_rate(0, 1000, confidence) == (0.0, 0.0, pytest.approx(upper, rel=1e-12))


@pytest.mark.parametrize("confidence", LEVELS)
def test_crude_rate_uses_exact_below_ten(confidence):
    lower, upper = R_EXACT[(9, confidence)]
    assert crude_rate(9, 1000, confidence) == pytest.approx((900, lower * 100, upper * 100), rel=1e-6)


@pytest.mark.parametrize("confidence", LEVELS)
def test_crude_rate_uses_byar_from_ten(confidence):
    lower, upper = hand_byar(10, confidence)
    result = crude_rate(10, 1000, confidence)
    assert result == pytest.approx((1000, lower * 100, upper * 100), rel=1e-12)
    # ... and not the exact limits, which differ in the third significant figure here.
    assert result.lower != pytest.approx(R_EXACT[(10, confidence)][0] * 100, rel=1e-4)


def test_crude_rate_multiplier():
    # 25 events in 2,000 people per 1,000: 12.5 (Byar's, as 25 >= 10).
    lower, upper = hand_byar(25, 0.95)
    assert crude_rate(25, 2000, multiplier=1000) == pytest.approx((12.5, lower / 2, upper / 2))


@pytest.mark.parametrize(("x", "n"), [(5, 0), (5, -10), (-1, 100), (5, float("nan"))])
def test_crude_rate_rejects_bad_inputs(x, n):
    with pytest.raises(ValueError, match=r">= 0|> 0"):
        crude_rate(x, n)


# --- ESP2013 and DSRs -------------------------------------------------------------------------------


def test_esp2013_layout():
    # PHEindicatormethods' esp2013: 19 bands 0-4 ... 85-89, 90+, from 5000 down to 1000, total 100,000.
    assert len(ESP2013) == len(ESP2013_AGE_BANDS) == 19
    assert ESP2013[0] == 5000
    assert ESP2013[-1] == 1000
    assert sum(ESP2013) == 100_000
    assert ESP2013_AGE_BANDS[0] == "0-4"
    assert ESP2013_AGE_BANDS[-1] == "90+"
    assert ESP2013[:10] == (5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000)
    assert ESP2013[10:] == (7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000)


@pytest.mark.parametrize("confidence", LEVELS)
def test_dsr_three_band_worked_example(confidence):
    # Rates 5/1000, 20/2000, 40/1000 weighted 1:1:2 -> (0.005 + 0.01 + 0.08) / 4 = 0.02375 = 2375 per 100k.
    # var = (5 * (1/1000)^2 + 20 * (1/2000)^2 + 40 * (2/1000)^2) / 4^2 = 1.0625e-5; O = 65.
    value, var, total = 0.02375, 1.0625e-5, 65
    lo, hi = hand_byar(total, confidence)
    lower = (value + math.sqrt(var / total) * (lo - total)) * 100_000
    upper = (value + math.sqrt(var / total) * (hi - total)) * 100_000
    result = dsr([5, 20, 40], [1000, 2000, 1000], [1, 1, 2], confidence)
    assert result == pytest.approx((2375, lower, upper), rel=1e-12)


def test_dsr_three_band_published_digits():
    assert dsr([5, 20, 40], [1000, 2000, 1000], [1, 1, 2]) == pytest.approx((2375, 1775.14, 3096.65), abs=0.01)


@pytest.mark.parametrize("confidence", LEVELS)
def test_dsr_defaults_to_esp2013(confidence):
    # All 10 events in the 90+ band (weight 1000 of 100,000), 1000 people in every band:
    # DSR = 1000 * 10/1000 / 100,000 * 100,000 = 10, and with one band var / O = (1000/1000/100,000)^2,
    # so the Dobson limits collapse to Byar's limits of 10 events: 10 + (L(10) - 10).
    counts = [0] * 18 + [10]
    result = dsr(counts, [1000] * 19, confidence=confidence)
    assert result == pytest.approx((10, *hand_byar(10, confidence)), rel=1e-12)
    # A flat standard would weight the 90+ band 1/19 instead of 1/100: a different rate.
    assert dsr(counts, [1000] * 19, [1] * 19).value == pytest.approx(10 / 1000 / 19 * 100_000)


def test_dsr_total_below_ten_is_nan():
    for counts in ([0] * 18 + [9], [0] * 19, [1] * 9 + [0] * 10):
        result = dsr(counts, [1000] * 19)
        assert all(math.isnan(v) for v in result)
    assert not math.isnan(dsr([1] * 10 + [0] * 9, [1000] * 19).value)


def test_dsr_multiplier():
    per_100k = dsr([5, 20, 40], [1000, 2000, 1000], [1, 1, 2])
    per_1k = dsr([5, 20, 40], [1000, 2000, 1000], [1, 1, 2], multiplier=1000)
    assert per_1k == pytest.approx(tuple(v / 100 for v in per_100k))


@pytest.mark.parametrize(
    ("counts", "populations", "standard", "message"),
    [
        ([1, 2], [10, 20], None, "equal lengths"),
        ([5, 20, 40], [1000, 2000], [1, 1, 2], "equal lengths"),
        ([5, 20, 40], [1000, 0, 1000], [1, 1, 2], "> 0"),
        ([5, -20, 40], [1000, 2000, 1000], [1, 1, 2], ">= 0"),
        ([5, float("nan"), 40], [1000, 2000, 1000], [1, 1, 2], "NaN"),
        ([5, 20, 40], [1000, 2000, 1000], [0, 0, 0], "positive total"),
    ],
)
def test_dsr_rejects_bad_inputs(counts, populations, standard, message):
    with pytest.raises(ValueError, match=message):
        dsr(counts, populations, standard)


# --- ISRs -------------------------------------------------------------------------------------------

# Reference rates 10/10,000 and 60/20,000 applied to 1,000 and 2,000 people: E = 1 + 6 = 7.
# Reference crude rate = 70 / 30,000.
POPS, REF_X, REF_N, EXPECTED, REF_RATE = [1000, 2000], [10, 60], [10000, 20000], 7.0, 70 / 30000


@pytest.mark.parametrize("confidence", LEVELS)
def test_isr_byar_from_ten(confidence):
    lo, hi = hand_byar(14, confidence)
    expected = (200, lo / EXPECTED * 100, hi / EXPECTED * 100)
    assert isr([3, 11], POPS, REF_X, REF_N, confidence) == pytest.approx(expected, rel=1e-12)
    assert isr(14, POPS, REF_X, REF_N, confidence) == pytest.approx(expected, rel=1e-12)  # observed total


@pytest.mark.parametrize("confidence", LEVELS)
def test_isr_exact_below_ten(confidence):
    lo, hi = R_EXACT[(4, confidence)]
    expected = (4 / 7 * 100, lo / 7 * 100, hi / 7 * 100)
    assert isr([1, 3], POPS, REF_X, REF_N, confidence) == pytest.approx(expected, rel=1e-6)


def test_isr_zero_observed():
    assert isr(0, POPS, REF_X, REF_N) == (0.0, 0.0, pytest.approx(-math.log(0.025) / 7 * 100))


def test_isr_multiplier_one_is_plain_ratio():
    assert isr(14, POPS, REF_X, REF_N, multiplier=1).value == pytest.approx(2.0)


@pytest.mark.parametrize("confidence", LEVELS)
def test_isr_rate_is_ratio_times_reference_rate(confidence):
    lo, hi = hand_byar(14, confidence)
    scale = REF_RATE * 100_000 / EXPECTED
    result = isr_rate([3, 11], POPS, REF_X, REF_N, confidence)
    assert result == pytest.approx((14 * scale, lo * scale, hi * scale), rel=1e-12)
    assert result.value == pytest.approx(466.6667, abs=1e-4)  # 2 * 233.33 per 100,000


@pytest.mark.parametrize(
    ("counts", "populations", "ref_x", "ref_n", "message"),
    [
        ([1, 2, 3], POPS, REF_X, REF_N, "equal lengths"),
        (5, [1000], REF_X, REF_N, "equal lengths"),
        (5, POPS, REF_X, [10000, 0], "> 0"),
        (5, [0, 0], REF_X, REF_N, "expected count is zero"),
        (-5, POPS, REF_X, REF_N, ">= 0"),
    ],
)
def test_isr_rejects_bad_inputs(counts, populations, ref_x, ref_n, message):
    with pytest.raises(ValueError, match=message):
        isr(counts, populations, ref_x, ref_n)


# --- funnel limits ----------------------------------------------------------------------------------

# testdata_funnel_prop_outputs.csv: Population, Lower2s0025limit, Upper2s0025limit, Lower3s0001limit,
# Upper3s0001limit, with Baseline 80.642448 (percent).
R_PROP_TARGET = 0.80642448
R_PROP_ROWS = [
    (1, 3.204264, 100, 0, 100),
    (18, 62.390093, 98.894803, 51.864359, 100),
    (41, 68.548635, 92.73626, 61.574398, 99.710497),
    (1008, 78.203374, 83.081521, 76.796814, 84.488082),
    (110000, 80.408963, 80.875933, 80.274317, 81.010578),
]


def test_funnel_limits_proportion_match_r_package():
    limits = funnel_limits("proportion", [r[0] for r in R_PROP_ROWS], R_PROP_TARGET, multiplier=100)
    assert limits.baseline == pytest.approx(80.642448)
    assert limits.denominators == tuple(float(r[0]) for r in R_PROP_ROWS)
    for i, (_, lo95, hi95, lo998, hi998) in enumerate(R_PROP_ROWS):
        assert limits.lower[0.95][i] == pytest.approx(lo95, abs=2e-6)
        assert limits.upper[0.95][i] == pytest.approx(hi95, abs=2e-6)
        assert limits.lower[0.998][i] == pytest.approx(lo998, abs=2e-6)
        assert limits.upper[0.998][i] == pytest.approx(hi998, abs=2e-6)


@pytest.mark.parametrize("confidence", LEVELS)
@pytest.mark.parametrize("n", [50, 137, 5000])
def test_funnel_limits_proportion_touch_target_through_wilson(n, confidence):
    # The lower limit is the proportion whose Wilson upper bound is the target, and vice versa.
    target = 0.3
    limits = funnel_limits("proportion", [n], target, confidence)
    q_low, q_high = limits.lower[confidence][0], limits.upper[confidence][0]
    assert hand_wilson(q_low * n, n, confidence)[1] == pytest.approx(target, rel=1e-9)
    assert hand_wilson(q_high * n, n, confidence)[0] == pytest.approx(target, rel=1e-9)


# testdata_funnel_ratio_outputs.csv: Observed_events O with the expected counts at which O sits on each
# limit (lower_2s_exp_events ...) and the ISR limits there (lower_2s_isr = 100 * O / exp_events ...).
R_RATIO_ROWS = [
    # (O, lower_2s_exp, lower_2s_isr, upper_2s_exp, upper_2s_isr, lower_3s_exp, lower_3s_isr, upper_3s_exp,
    #  upper_3s_isr)
    (
        1,
        5.571644585,
        17.94802207,
        0.025317898,
        3949.774946,
        9.233410143,
        10.83023482,
        0.001000547,
        99945.32721,
    ),
    (
        10,
        18.39035799,
        54.3763205,
        4.795387629,
        208.5337156,
        24.13397235,
        41.43536693,
        2.960519925,
        337.778507,
    ),
    (
        100,
        121.6268111,
        82.21871402,
        81.36400699,
        122.9044681,
        134.9243187,
        74.11562345,
        71.92139974,
        139.0406755,
    ),
    (
        716,
        770.4222128,
        92.93605352,
        664.5083011,
        107.7488421,
        802.60414,
        89.20960712,
        636.1521174,
        112.5516964,
    ),
]


def test_funnel_limits_proportion_clip_at_zero():
    # With n = 20 at 99.8% even 0/20 has Wilson upper z^2 / (20 + z^2) = 0.323 > 0.3: the limit is 0.
    z2 = z_of(0.998) ** 2
    assert z2 / (20 + z2) > 0.3
    limits = funnel_limits("proportion", [20], 0.3, multiplier=100)
    assert limits.lower[0.998] == (0.0,)
    assert limits.lower[0.95][0] > 0


@pytest.mark.parametrize("row", R_RATIO_ROWS)
def test_funnel_limits_ratio_match_r_package(row):
    _, lo2_e, lo2, up2_e, up2, lo3_e, lo3, up3_e, up3 = row
    limits = funnel_limits("ratio", [lo2_e, up2_e, lo3_e, up3_e], 1.0, multiplier=100)
    assert limits.baseline == 100
    assert limits.lower[0.95][0] == pytest.approx(lo2, rel=1e-5)
    assert limits.upper[0.95][1] == pytest.approx(up2, rel=1e-5)
    assert limits.lower[0.998][2] == pytest.approx(lo3, rel=1e-5)
    assert limits.upper[0.998][3] == pytest.approx(up3, rel=1e-5)


def test_funnel_limits_ratio_scale_with_target():
    base = funnel_limits("ratio", [50.0], 1.0)
    doubled = funnel_limits("ratio", [25.0], 2.0)  # same expected count of events, twice the ratio
    assert doubled.lower[0.95][0] == pytest.approx(2 * base.lower[0.95][0])
    assert doubled.upper[0.998][0] == pytest.approx(2 * base.upper[0.998][0])


def test_funnel_limits_ratio_lower_floors_at_zero():
    # Below E = -ln(0.025) = 3.689 even 0 events is inside the 95% interval: no lower limit above 0.
    assert funnel_limits("ratio", [3.0], 1.0).lower[0.95] == (0.0,)
    assert funnel_limits("ratio", [3.8], 1.0).lower[0.95][0] > 0


# testdata_funnel_rate_outputs.csv (dsr per 100,000, years_of_data = 3, baseline 116.1720835):
# Events, lower_2s_population_1_year, lower_2s_limit, upper_2s_population_1_year, upper_2s_limit, ...
R_RATE_TARGET = 116.1720835 / 100_000
R_RATE_ROWS = [
    (
        1,
        1598.675694,
        20.85059119,
        7.264481402,
        4588.535848,
        2649.348525,
        12.58170943,
        0.287087625,
        116108.569,
    ),
    (
        10,
        5276.757672,
        63.17010446,
        1375.943768,
        242.2579623,
        6924.776769,
        48.13632908,
        849.4639547,
        392.4043292,
    ),
    (
        1360,
        411529.9259,
        110.158048,
        369759.5622,
        122.6021934,
        424043.2424,
        106.9073359,
        358342.3275,
        126.5084525,
    ),
]


@pytest.mark.parametrize("row", R_RATE_ROWS)
def test_funnel_limits_rate_match_r_package(row):
    _, lo2_p, lo2, up2_p, up2, lo3_p, lo3, up3_p, up3 = row
    person_years = [3 * p for p in (lo2_p, up2_p, lo3_p, up3_p)]
    limits = funnel_limits("rate", person_years, R_RATE_TARGET, multiplier=100_000)
    assert limits.baseline == pytest.approx(116.1720835)
    assert limits.lower[0.95][0] == pytest.approx(lo2, rel=1e-5)
    assert limits.upper[0.95][1] == pytest.approx(up2, rel=1e-5)
    assert limits.lower[0.998][2] == pytest.approx(lo3, rel=1e-5)
    assert limits.upper[0.998][3] == pytest.approx(up3, rel=1e-5)


def test_funnel_limits_single_confidence_and_scalar_denominator():
    limits = funnel_limits("proportion", 100, 0.5, confidence=0.9)
    assert set(limits.lower) == {0.9}
    assert limits.lower[0.9][0] < 0.5 < limits.upper[0.9][0]
    assert all(type(v) is float for v in limits.lower[0.9] + limits.denominators + (limits.baseline,))


@pytest.mark.parametrize(
    ("kind", "denominators", "target", "message"),
    [
        ("proportion", [10], 1.5, r"\[0, 1\]"),
        ("ratio", [10], 0, "target"),
        ("rate", [10], -1, "target"),
        ("mean", [10], 1, "kind"),
        ("ratio", [10, 0], 1, "> 0"),
        ("ratio", [], 1, "non-empty"),
    ],
)
def test_funnel_limits_reject_bad_inputs(kind, denominators, target, message):
    with pytest.raises(ValueError, match=message):
        funnel_limits(kind, denominators, target)


# --- funnel significance ----------------------------------------------------------------------------


def test_funnel_significance_proportion_matches_r_package():
    # Rows of testdata_funnel_prop_inputs.csv with the significance R assigned (pooled average 80.642448%).
    rows = [
        (35078.4880, 41980, HIGH_0001),  # New Forest PCT
        (24803.6256, 31824, LOW_0001),  # Norwich PCT
        (50050.7443, 61921, NOT_SIGNIFICANT),  # South Gloucestershire PCT
        (26789.2380, 33012, HIGH_0025),  # West Norfolk PCT
        (30277.5312, 37828, LOW_0025),  # North Devon PCT
        (36850.0492, 45449, HIGH_0025),  # North Tees PCT
    ]
    labels = funnel_significance("proportion", [r[0] for r in rows], [r[1] for r in rows], R_PROP_TARGET)
    assert labels == [r[2] for r in rows]


def test_funnel_significance_proportion_default_target_is_pooled():
    # Pooled 320/1000 = 0.32; 150/300 = 0.5 is far above, 50/300 far below, and 120/400 = 0.3 has a
    # Wilson 95% interval of about 0.256 to 0.347, which contains 0.32.
    lower, upper = hand_wilson(120, 400, 0.95)
    assert lower < 0.32 < upper
    labels = funnel_significance("proportion", [150, 50, 120], [300, 300, 400])
    assert labels == [HIGH_0001, LOW_0001, NOT_SIGNIFICANT]


def test_funnel_significance_ratio_by_hand():
    # O vs E against 1, with the point's exact interval below 10 events and Byar's from 10.
    # 130 events on E = 105: Byar's 95% lower 108.6 > 105 but 99.8% lower 97.6 < 105, so High (0.025).
    observed = [8, 151, 0, 16, 130, 62]
    expected = [6.239860227, 106.4429719, 240.6273499, 36.38844667, 105.0, 80.0]
    want = [label_by_hand(o, e, 1.0) for o, e in zip(observed, expected, strict=True)]
    assert want == [NOT_SIGNIFICANT, HIGH_0001, LOW_0001, LOW_0001, HIGH_0025, LOW_0025]
    assert funnel_significance("ratio", observed, expected) == want
    assert funnel_significance("ratio", observed, [e / 2 for e in expected], 2.0) == want  # same O/E tests


@pytest.mark.parametrize("nudge", [1e-6, -1e-6])
def test_funnel_significance_ratio_boundary_is_strict(nudge):
    # 10 events: Byar's 95% upper limit U = 18.3915. With E just below U the interval's top is above the
    # target 1 (not significant); just above U it is wholly below 1, so Low (0.025).
    upper = hand_byar(10, 0.95)[1]
    expected = upper * (1 + nudge)
    assert hand_byar(10, 0.998)[1] / expected > 1
    want = LOW_0025 if nudge > 0 else NOT_SIGNIFICANT
    assert funnel_significance("ratio", [10], [expected]) == [want]


def test_funnel_significance_rate_crude_and_dsr():
    events = [0, 5, 40, 200, 100, 75]
    person_years = [20000, 1000, 20000, 100000, 100000, 40000]
    # Pooled 420 / 281,000 = 1.4947e-3. No events in 20,000 person-years is significantly low: the
    # exact 99.8% upper limit of 0 is 6.91 events, 3.45e-4 per person-year.
    target = sum(events) / sum(person_years)
    want = [label_by_hand(x, n, target) for x, n in zip(events, person_years, strict=True)]
    assert want == [LOW_0001, HIGH_0025, NOT_SIGNIFICANT, HIGH_0001, LOW_0001, NOT_SIGNIFICANT]
    assert funnel_significance("rate", events, person_years) == want
    # DSR funnels: under 10 events is not applicable, and a zero-event point (whose effective population
    # multiplier * O / DSR is undefined) leaves the pooled average: 420 / 261,000 = 1.6092e-3, which
    # moves 200 / 100,000 (99.8% lower limit 1.591e-3) from High (0.001) to High (0.025).
    dsr_target = sum(events) / sum(person_years[1:])
    dsr_want = [label_by_hand(x, n, dsr_target) for x, n in zip(events[2:], person_years[2:], strict=True)]
    assert dsr_want == [NOT_SIGNIFICANT, HIGH_0025, LOW_0001, NOT_SIGNIFICANT]
    dsr_labels = funnel_significance("rate", events, [float("nan"), *person_years[1:]], rate_type="dsr")
    assert dsr_labels == [DSR_NOT_APPLICABLE, DSR_NOT_APPLICABLE, *dsr_want]


@pytest.mark.parametrize(
    ("kind", "x", "n", "message"),
    [
        ("proportion", [5, 11], [10, 10], "<= denominators"),
        ("proportion", [5, -1], [10, 10], ">= 0"),
        ("ratio", [5, 1], [10, 0], "> 0"),
        ("ratio", [5, 1], [10], "equal lengths"),
        ("rate", [5, 1], [10, float("nan")], "> 0|NaN"),
        ("spc", [5], [10], "kind"),
    ],
)
def test_funnel_significance_rejects_bad_inputs(kind, x, n, message):
    with pytest.raises(ValueError, match=message):
        funnel_significance(kind, x, n)


# --- properties -------------------------------------------------------------------------------------

counts = st.integers(min_value=0, max_value=100_000)


@given(st.integers(min_value=1, max_value=10**6), st.data())
def test_wilson_interval_is_ordered_and_nested(n, data):
    x = data.draw(st.integers(min_value=0, max_value=n))
    narrow, wide = wilson_ci(x, n, 0.95), wilson_ci(x, n, 0.998)
    assert 0.0 <= wide.lower <= narrow.lower <= narrow.value <= narrow.upper <= wide.upper <= 1.0


@given(counts)
def test_poisson_intervals_are_ordered_and_nested(x):
    for func in (exact_poisson_ci, byar_ci, lambda x, c: crude_rate(x, 12345, c)):
        narrow, wide = func(x, 0.95), func(x, 0.998)
        assert 0.0 <= wide.lower <= narrow.lower <= narrow.value <= narrow.upper <= wide.upper


@given(counts, st.floats(min_value=0.5, max_value=1e5))
def test_isr_interval_is_ordered_and_nested(x, population):
    narrow = isr(x, [population], [3], [1000], 0.95)
    wide = isr(x, [population], [3], [1000], 0.998)
    assert 0.0 <= wide.lower <= narrow.lower <= narrow.value <= narrow.upper <= wide.upper


@given(st.integers(min_value=1, max_value=10**5), st.floats(min_value=0.01, max_value=0.99))
def test_funnel_bands_nest_around_target(n, target):
    limits = funnel_limits("proportion", [n], target)
    assert limits.lower[0.998][0] <= limits.lower[0.95][0] <= target
    assert target <= limits.upper[0.95][0] <= limits.upper[0.998][0]
    ratio = funnel_limits("ratio", [n / 10], target)
    assert ratio.lower[0.998][0] <= ratio.lower[0.95][0] <= target <= ratio.upper[0.95][0] <= ratio.upper[0.998][0]


@given(st.integers(min_value=1, max_value=5000), st.data(), st.floats(min_value=0.02, max_value=0.98))
def test_proportion_significance_agrees_with_wilson_interval(n, data, target):
    # Below the lower funnel exactly when the point's own Wilson interval lies wholly below the target.
    x = data.draw(st.integers(min_value=0, max_value=n))
    for c in LEVELS:
        lower, upper = hand_wilson(x, n, c)
        assume(abs(upper - target) > 1e-9 and abs(lower - target) > 1e-9)
    [label] = funnel_significance("proportion", [x], [n], target)
    lo998, hi998 = hand_wilson(x, n, 0.998)
    lo95, hi95 = hand_wilson(x, n, 0.95)
    if hi998 < target:
        assert label == LOW_0001
    elif hi95 < target:
        assert label == LOW_0025
    elif lo998 > target:
        assert label == HIGH_0001
    elif lo95 > target:
        assert label == HIGH_0025
    else:
        assert label == NOT_SIGNIFICANT


# --- zero and small counts at both levels -----------------------------------------------------------------


@pytest.mark.parametrize("confidence", LEVELS)
def test_isr_and_isr_rate_of_zero_observed(confidence):
    # O = 0 against E = 7: the ratio is 0 and its upper limit the exact upper limit of 0, -ln(a/2), over E.
    upper = -math.log((1 - confidence) / 2)
    assert isr(0, POPS, REF_X, REF_N, confidence) == (0.0, 0.0, pytest.approx(upper / EXPECTED * 100))
    rate = isr_rate(0, POPS, REF_X, REF_N, confidence)
    assert rate == (0.0, 0.0, pytest.approx(upper / EXPECTED * REF_RATE * 100_000))


@pytest.mark.parametrize("confidence", LEVELS)
def test_crude_rate_of_one_event(confidence):
    # P(X >= 1 | L) = 1 - exp(-L) = a/2, so L = -ln(1 - a/2); the upper limit is R's tabulated value.
    a = 1 - confidence
    result = crude_rate(1, 500, confidence, multiplier=1000)
    assert result.value == 2.0
    assert result.lower == pytest.approx(-math.log(1 - a / 2) * 2, rel=1e-12)
    assert result.upper == pytest.approx(R_EXACT[(1, confidence)][1] * 2, rel=1e-6)


@pytest.mark.parametrize("confidence", LEVELS)
def test_wilson_of_one_small_count(confidence):
    assert wilson_ci(1, 3, confidence) == pytest.approx((1 / 3, *hand_wilson(1, 3, confidence)), rel=1e-12)


def test_ratio_significance_of_zero_observed():
    # 0 observed against 5 expected: 95% exact upper 3.69 < 5 < 99.8% upper 6.91, so Low (0.025); against 8
    # expected, below even the 99.8% limit: Low (0.001); against 3, inside both: not significant.
    assert -math.log(0.025) < 5 < -math.log(0.001) < 8
    assert funnel_significance("ratio", [0, 0, 0], [5, 8, 3]) == [LOW_0025, LOW_0001, NOT_SIGNIFICANT]
