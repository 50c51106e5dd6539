"""Hand-worked tests of the Making Data Count XmR chart.

Every expected number is worked in the comments from the MDC definitions:
mean; MR-bar = mean |x_i - x_(i-1)|; limits = mean +/- 2.66 MR-bar; two-sigma = mean +/- (2/3)(2.66) MR-bar
= mean +/- 1.77333 MR-bar; screening drops moving ranges above 3.267 MR-bar and recomputes MR-bar once.
"""

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pbc.indicators.spc import RULES, xmr

# Alternating 9, 11 (and its mirror 11, 9): mean 10, every moving range 2, so MR-bar 2 and no run or trend.
# Limits 10 +/- 5.32 = 4.68 .. 15.32; two-sigma 10 +/- 3.54667 = 6.45333 .. 13.54667.
# Twelve points, so with baseline=12 any points appended are judged against these limits.
ALTERNATING = [9, 11] * 6
ALTERNATING_END_LOW = [11, 9] * 6


def flagged(result, rule):
    return [p.index for p in result.points if rule in p.rules]


def classes(result):
    return [p.variation for p in result.points]


# --- limits -----------------------------------------------------------------------------------------------


def test_one_to_ten_mean_and_limits():
    # 1..10: mean 55/10 = 5.5; nine moving ranges of 1, MR-bar 1 (none above 3.267, nothing screened).
    # Limits 5.5 +/- 2.66 = 2.84 .. 8.16; two-sigma 5.5 +/- 1.77333 = 3.72667 .. 7.27333.
    r = xmr(range(1, 11), "increase")
    assert r.mean == pytest.approx(5.5)
    assert r.mean_moving_range == pytest.approx(1.0)
    assert r.lower_process_limit == pytest.approx(2.84)
    assert r.upper_process_limit == pytest.approx(8.16)
    assert r.lower_two_sigma == pytest.approx(5.5 - 1.7733333)
    assert r.upper_two_sigma == pytest.approx(5.5 + 1.7733333)
    assert r.periods[0].excluded_moving_ranges == 0
    assert [p.moving_range for p in r.points] == [None] + [1.0] * 9


def test_one_to_ten_rules_and_precedence():
    # 1 and 2 are below 2.84, 9 and 10 above 8.16: outside the limits.
    # All ten rise strictly: one trend of 10 >= 7 points, a "high" signal on every point.
    # Runs: 1..5 below 5.5 (5 points), 6..10 above (5 points): no run of 7.
    # Two of three: only 3 is between 2.84 and 3.72667, only 8 between 7.27333 and 8.16; 1, 2, 9, 10 are
    # beyond the limits and do not count, so no pair: the rule does not fire.
    r = xmr(range(1, 11), "increase")
    assert flagged(r, "outside_limits") == [0, 1, 8, 9]
    assert flagged(r, "trend") == list(range(10))
    assert flagged(r, "run") == []
    assert flagged(r, "two_of_three") == []
    # 1 and 2 are flagged low (outside) and high (rising trend): concern wins.
    assert r.points[0].low_rules == ("outside_limits",)
    assert r.points[0].high_rules == ("trend",)
    assert classes(r) == ["concern"] * 2 + ["improvement"] * 8
    assert r.variation == "improvement"
    assert r.variation_icon == "special_cause_improvement_high"


def test_one_to_ten_decreasing_is_better():
    # Same signals; now "high" is bad, so every point shows concern (1 and 2 are low-good but trend-high-bad).
    r = xmr(range(1, 11), "decrease")
    assert classes(r) == ["concern"] * 10
    assert r.variation_icon == "special_cause_concern_high"


def test_one_to_ten_neutral():
    # No judgement: every special cause is neutral; 1 and 2 (flagged both ways) take their side of the mean.
    r = xmr(range(1, 11), "neutral")
    assert classes(r) == ["neutral"] * 10
    assert [p.direction for p in r.points[:3]] == ["low", "low", "high"]
    assert r.variation_icon == "special_cause_neutral_high"


def test_screening_excludes_large_moving_range_once():
    # 10,11,10,11,10,11,10,11,10,29: eight moving ranges of 1 and one of 29 - 10 = 19.
    # MR-bar = 27/9 = 3; screening threshold 3.267 x 3 = 9.801, so 19 is dropped; MR-bar = 8/8 = 1.
    # Mean = (5 x 10 + 4 x 11 + 29)/10 = 123/10 = 12.3.
    # Screened limits 12.3 +/- 2.66 = 9.64 .. 14.96; unscreened 12.3 +/- 7.98 = 4.32 .. 20.28.
    values = [10, 11, 10, 11, 10, 11, 10, 11, 10, 29]
    screened = xmr(values, "increase")
    assert screened.mean == pytest.approx(12.3)
    assert screened.mean_moving_range == pytest.approx(1.0)
    assert screened.periods[0].excluded_moving_ranges == 1
    assert screened.lower_process_limit == pytest.approx(9.64)
    assert screened.upper_process_limit == pytest.approx(14.96)
    raw = xmr(values, "increase", screen_outliers=False)
    assert raw.mean_moving_range == pytest.approx(3.0)
    assert raw.periods[0].excluded_moving_ranges == 0
    assert raw.lower_process_limit == pytest.approx(4.32)
    assert raw.upper_process_limit == pytest.approx(20.28)
    # The spike is outside either way; the nine points below 12.3 are a run of 9.
    assert flagged(raw, "outside_limits") == [9]
    assert flagged(screened, "outside_limits") == [9]
    assert flagged(screened, "run") == list(range(9))


def test_screening_is_applied_once_only():
    # 0,1,0,1,0,1,0,1,0,5,45: moving ranges eight 1s, then 5, then 40.
    # MR-bar = (8 + 5 + 40)/10 = 5.3; threshold 3.267 x 5.3 = 17.32, so only 40 goes.
    # Recomputed MR-bar = (8 + 5)/9 = 13/9 = 1.4444. 5 is now above 3.267 x 1.4444 = 4.72 but stays:
    # MDC screens once.  Mean = (4 x 1 + 5 + 45)/11 = 54/11.
    r = xmr([0, 1, 0, 1, 0, 1, 0, 1, 0, 5, 45], "increase")
    assert r.mean_moving_range == pytest.approx(13 / 9)
    assert r.periods[0].excluded_moving_ranges == 1
    assert r.upper_process_limit == pytest.approx(54 / 11 + 2.66 * 13 / 9)


def test_constant_series_has_zero_width_limits_and_no_special_cause():
    # Every moving range 0: MR-bar 0, all four lines equal the mean. Strict comparisons mean nothing fires:
    # no point is beyond a limit, every point is on the mean (no run), every step is a tie (no trend).
    r = xmr([4.0] * 15, "increase", target=3)
    assert r.mean == 4.0
    assert r.mean_moving_range == 0.0
    assert r.upper_process_limit == r.lower_process_limit == r.upper_two_sigma == r.lower_two_sigma == 4.0
    assert all(p.rules == () for p in r.points)
    assert r.variation == "common_cause"
    # The target lies below the (zero-width) band and higher is better: consistently passing.
    assert r.assurance == "pass"


# --- trend ------------------------------------------------------------------------------------------------


def test_seven_increasing_values_flag_a_trend():
    # 6,1,2,3,4,5,6,7,3,4: indices 1..7 rise strictly (7 points); 6 -> 1 falls, 7 -> 3 falls.
    # Mean 41/10 = 4.1; moving ranges 5,1,1,1,1,1,1,4,1 = 16, MR-bar 16/9 = 1.7778 (threshold 5.81: none
    # screened). Limits 4.1 +/- 4.7289 = -0.629 .. 8.829; two-sigma 4.1 +/- 3.1526 = 0.947 .. 7.253:
    # nothing outside or beyond two sigma. Sides: + - - - - + + + - - : no run of 7.
    r = xmr([6, 1, 2, 3, 4, 5, 6, 7, 3, 4], "increase")
    assert r.mean_moving_range == pytest.approx(16 / 9)
    assert flagged(r, "trend") == [1, 2, 3, 4, 5, 6, 7]
    assert set(flagged(r, "outside_limits") + flagged(r, "run") + flagged(r, "two_of_three")) == set()
    assert classes(r)[1:8] == ["improvement"] * 7
    # Falling is better: the same trend is a concern.
    assert classes(xmr([6, 1, 2, 3, 4, 5, 6, 7, 3, 4], "decrease"))[1:8] == ["concern"] * 7


def test_a_tie_breaks_the_trend():
    # 6,1,2,3,3,5,6,7,3,4: the repeated 3 splits the rise into 1,2,3 and 3,5,6,7 (3 and 4 points).
    # Mean 40/10 = 4; MR-bar (5+1+1+0+2+1+1+4+1)/9 = 16/9; two-sigma 4 +/- 3.1526 = 0.847 .. 7.153: none.
    # Sides + - - - - + + + - (4 is on the mean): no run.
    r = xmr([6, 1, 2, 3, 3, 5, 6, 7, 3, 4], "increase")
    assert all(p.rules == () for p in r.points)
    assert r.variation == "common_cause"


def test_trend_length_is_configurable():
    # The same tie-broken series has 3,5,6,7 (4 points) at most; with trend_length=4 those four fire.
    r = xmr([6, 1, 2, 3, 3, 5, 6, 7, 3, 4], "increase", trend_length=4)
    assert flagged(r, "trend") == [4, 5, 6, 7]
    # And 1..6 of the untied series (6 points once 7 is dropped) fires at 6 but not at 7.
    six = [6, 1, 2, 3, 4, 5, 6, 3, 4]
    assert flagged(xmr(six, "increase"), "trend") == []
    assert flagged(xmr(six, "increase", trend_length=6), "trend") == [1, 2, 3, 4, 5, 6]


def test_peak_between_rising_and_falling_trends_is_flagged_both_ways():
    # 1..7 then 6..1 around a peak of 7: the peak ends a rising and starts a falling trend of 7.
    values = [1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1]
    r = xmr(values, "increase")
    peak = r.points[6]
    assert "trend" in peak.high_rules
    assert "trend" in peak.low_rules
    assert peak.variation == "concern"


# --- run --------------------------------------------------------------------------------------------------


def test_run_of_seven_fires():
    # 6,8,6,8,6,8,6 then 4,2,4,2,4,2,4: mean 70/14 = 5 (48 + 22); moving ranges all 2 (6 -> 4 too), MR-bar 2.
    # Limits 5 +/- 5.32; two-sigma 5 +/- 3.54667 = 1.453 .. 8.547: 8 and 2 are inside. Runs: 7 above, 7 below.
    r = xmr([6, 8, 6, 8, 6, 8, 6, 4, 2, 4, 2, 4, 2, 4], "increase")
    assert r.mean == pytest.approx(5.0)
    assert r.mean_moving_range == pytest.approx(2.0)
    assert flagged(r, "run") == list(range(14))
    assert flagged(r, "two_of_three") == []
    assert [p.high_rules for p in r.points[:7]] == [("run",)] * 7
    assert [p.low_rules for p in r.points[7:]] == [("run",)] * 7


def test_run_of_six_does_not_fire_unless_run_length_is_six():
    # 6,8,6,8,6,8 then 4,2,4,2,4,2: mean 60/12 = 5; moving ranges ten 2s and one 4: MR-bar 24/11 = 2.1818.
    # Two-sigma 5 +/- 3.869 = 1.131 .. 8.869: nothing near the limits. Runs of 6 above and 6 below.
    values = [6, 8, 6, 8, 6, 8, 4, 2, 4, 2, 4, 2]
    assert xmr(values, "increase").mean_moving_range == pytest.approx(24 / 11)
    assert all(p.rules == () for p in xmr(values, "increase").points)
    assert flagged(xmr(values, "increase", run_length=6), "run") == list(range(12))


def test_run_of_seven_after_a_fixed_baseline():
    # Baseline 11,9,...,9 ends below the mean of 10, so the run starts with the appended points.
    # Six 12s (above 10, inside 13.547): no run; seven 12s: a run of exactly those seven.
    six = xmr([*ALTERNATING_END_LOW, *[12] * 6], "increase", baseline=12)
    seven = xmr([*ALTERNATING_END_LOW, *[12] * 7], "increase", baseline=12)
    assert flagged(six, "run") == []
    assert flagged(seven, "run") == list(range(12, 19))


def test_a_point_on_the_mean_breaks_a_run():
    # Same baseline; 12,12,12,10,12,12,12: the 10 sits on the mean, leaving two runs of 3.
    r = xmr([*ALTERNATING_END_LOW, 12, 12, 12, 10, 12, 12, 12], "increase", baseline=12)
    assert r.mean == 10
    assert flagged(r, "run") == []


# --- two of three -----------------------------------------------------------------------------------------


def test_two_of_three_beyond_two_sigma_fires():
    # Baseline limits 4.68 .. 15.32, two-sigma 6.45333 .. 13.54667. Appended 14, 10, 14: both 14s are beyond
    # 13.547 but inside 15.32 and two apart, so both are flagged; the 10 between them (on the mean) is not.
    r = xmr([*ALTERNATING, 14, 10, 14], "increase", baseline=12)
    assert flagged(r, "two_of_three") == [12, 14]
    assert r.points[14].variation == "improvement"
    assert r.points[13].variation == "common_cause"


def test_points_beyond_the_limits_do_not_count_towards_two_of_three():
    # 14 (beyond two sigma), 16 (beyond the 15.32 limit), 10: only one point is "near"; 16 is rule 1's.
    r = xmr([*ALTERNATING, 14, 16, 10], "increase", baseline=12)
    assert flagged(r, "two_of_three") == []
    assert flagged(r, "outside_limits") == [13]


def test_two_of_three_needs_same_side_and_a_window_of_three():
    # 14, 6, 14: the 14s are two apart on the high side (6 is beyond the low two-sigma 6.453, alone).
    r = xmr([*ALTERNATING, 14, 6, 14], "increase", baseline=12)
    assert flagged(r, "two_of_three") == [12, 14]
    assert r.points[13].rules == ()
    # 14, 9, 11, 14: three apart, no window of three holds both.
    assert flagged(xmr([*ALTERNATING, 14, 9, 11, 14], "increase", baseline=12), "two_of_three") == []
    # Low side, falling is better: 11, 6, 6 has two of three below 6.453 -> improvement.
    low = xmr([*ALTERNATING, 6, 6], "decrease", baseline=12)
    assert flagged(low, "two_of_three") == [12, 13]
    assert low.variation_icon == "special_cause_improvement_low"


# --- improvement direction --------------------------------------------------------------------------------


def test_improvement_and_concern_swap_with_direction():
    values = [6, 8, 6, 8, 6, 8, 6, 4, 2, 4, 2, 4, 2, 4]  # run of 7 above then 7 below the mean of 5
    up = xmr(values, "increase")
    down = xmr(values, "decrease")
    neutral = xmr(values, "neutral")
    assert classes(up) == ["improvement"] * 7 + ["concern"] * 7
    assert classes(down) == ["concern"] * 7 + ["improvement"] * 7
    assert classes(neutral) == ["neutral"] * 14
    assert up.variation_icon == "special_cause_concern_low"
    assert down.variation_icon == "special_cause_improvement_low"
    assert neutral.variation_icon == "special_cause_neutral_low"


# --- assurance --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("improvement", "target", "expected"),
    [
        # 1..10 has limits 2.84 .. 8.16.
        ("increase", 2, "pass"),  # whole band above the target
        ("increase", 9, "fail"),  # whole band below it
        ("increase", 5, "hit_or_miss"),
        ("decrease", 9, "pass"),
        ("decrease", 2, "fail"),
        ("decrease", 8, "hit_or_miss"),
        ("neutral", 2, None),  # no good side, no assurance
        ("increase", None, None),
    ],
)
def test_assurance(improvement, target, expected):
    assert xmr(range(1, 11), improvement, target=target).assurance == expected


def test_assurance_on_a_limit_is_hit_or_miss():
    # 6,8,... series: limits 5 - 5.32 = -0.32 and 5 + 5.32 = 10.32; on the limit a point can land either side.
    r = xmr([6, 8, 6, 8, 6, 8, 6, 4, 2, 4, 2, 4, 2, 4], "increase", target=5 + 2.66 * 2)
    assert r.assurance == "hit_or_miss"


# --- trial limits, rebasing, baseline ---------------------------------------------------------------------


def test_trial_limits_below_twelve_points():
    assert xmr([1, 2] * 5 + [1], "increase").trial_limits is True  # 11 points
    assert xmr([1, 2] * 6, "increase").trial_limits is False  # 12 points
    # Limits fixed on 11 of 20 points are still trial limits.
    assert xmr([1, 2] * 10, "increase", baseline=11).trial_limits is True


def test_rebasing_gives_each_period_its_own_limits():
    # 1,2,1,2,1,2 | 11,12,11,12,11,12 with a new period at index 6.
    # Each period: mean 1.5 / 11.5, five moving ranges of 1, MR-bar 1: limits -1.16 .. 4.16 and 8.84 .. 14.16.
    # The 2 -> 11 jump (9) belongs to no period. Nothing signals; each period has 6 points: trial limits.
    values = [1, 2, 1, 2, 1, 2, 11, 12, 11, 12, 11, 12]
    r = xmr(values, "increase", rebase_at=[6])
    first, second = r.periods
    assert (first.start, first.stop, second.start, second.stop) == (0, 6, 6, 12)
    assert first.mean == pytest.approx(1.5)
    assert (first.lower_process_limit, first.upper_process_limit) == pytest.approx((-1.16, 4.16))
    assert second.mean == pytest.approx(11.5)
    assert (second.lower_process_limit, second.upper_process_limit) == pytest.approx((8.84, 14.16))
    assert r.mean == pytest.approx(11.5)  # summary = current period
    assert r.points[6].moving_range is None
    assert [p.period for p in r.points] == [0] * 6 + [1] * 6
    assert all(p.rules == () for p in r.points)
    assert first.trial_limits
    assert r.trial_limits
    # Without the rebase: mean 6.5; ranges ten 1s and a 9: MR-bar 19/11 = 1.727, 9 > 5.64 is screened,
    # MR-bar 1, limits 3.84 .. 9.16: every point is outside.
    whole = xmr(values, "increase")
    assert whole.mean_moving_range == pytest.approx(1.0)
    assert flagged(whole, "outside_limits") == list(range(12))


def test_runs_do_not_cross_a_rebase():
    # 1,3,1,3,5,5,5,5 | 10,10,10,10,6,8,6,8. Period means (8 + 20)/8 = 3.5 and (40 + 28)/8 = 8.5.
    # Indices 4..11 (5s, then 10s) are each above their own period's mean: 8 in a row, but 4 + 4 across the
    # boundary, so no run of 7 fires.
    values = [1, 3, 1, 3, 5, 5, 5, 5, 10, 10, 10, 10, 6, 8, 6, 8]
    r = xmr(values, "increase", rebase_at=[8])
    assert [p.mean for p in r.periods] == [3.5, 8.5]
    assert flagged(r, "run") == []


def test_baseline_fixes_limits_and_judges_later_points():
    # Baseline of 12 alternating 9/11: mean 10, MR-bar 2, limits 4.68 .. 15.32; 20 is then outside.
    r = xmr([*ALTERNATING, 20], "increase", baseline=12)
    assert r.mean == 10
    assert r.mean_moving_range == 2
    assert r.periods[0].baseline_points == 12
    assert flagged(r, "outside_limits") == [12]
    assert r.variation_icon == "special_cause_improvement_high"


# --- output and validation --------------------------------------------------------------------------------


def test_to_dict_is_json_ready():
    d = xmr(range(1, 11), "increase", target=2).to_dict()
    text = json.dumps(d)
    assert json.loads(text)["points"][0] == {
        "index": 0,
        "period": 0,
        "value": 1.0,
        "moving_range": None,
        "rules": ["outside_limits", "trend"],
        "high_rules": ["trend"],
        "low_rules": ["outside_limits"],
        "variation": "concern",
        "direction": "low",
    }
    assert d["assurance"] == "pass"
    assert d["mean"] == pytest.approx(5.5)
    assert d["trial_limits"] is True
    assert d["variation_icon"] == "special_cause_improvement_high"
    assert d["periods"][0]["upper_process_limit"] == pytest.approx(8.16)


def test_accepts_numpy_arrays():
    np = pytest.importorskip("numpy")
    assert xmr(np.arange(1, 11), "increase").mean == pytest.approx(5.5)


@pytest.mark.parametrize("values", [[], [3.0]])
def test_too_few_values(values):
    with pytest.raises(ValueError, match="at least 2 values"):
        xmr(values, "increase")


@pytest.mark.parametrize("bad", [None, math.nan, math.inf, "7"])
def test_missing_value_names_its_index(bad):
    with pytest.raises(ValueError, match="index 3"):
        xmr([1, 2, 3, bad, 5], "increase")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"improvement": "up"}, "improvement"),
        ({"improvement": "increase", "run_length": 1}, "run_length"),
        ({"improvement": "increase", "trend_length": True}, "trend_length"),
        ({"improvement": "increase", "baseline": 1}, "baseline"),
        ({"improvement": "increase", "target": math.nan}, "target"),
        ({"improvement": "increase", "rebase_at": [0]}, "rebase_at"),
        ({"improvement": "increase", "rebase_at": [5]}, "rebase_at"),  # last period of 1 point
        ({"improvement": "increase", "rebase_at": [4, 2]}, "rebase_at"),
        ({"improvement": "increase", "rebase_at": [2, 2]}, "rebase_at"),
    ],
)
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        xmr([1, 2, 3, 4, 5, 6], **kwargs)


# --- properties -------------------------------------------------------------------------------------------

series = st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=2, max_size=40)


@given(series, st.booleans())
def test_limits_symmetric_about_the_mean(values, screen):
    r = xmr(values, "increase", screen_outliers=screen)
    tol = 1e-9 * (1 + abs(r.mean) + r.mean_moving_range)
    assert r.upper_process_limit - r.mean == pytest.approx(r.mean - r.lower_process_limit, abs=tol)
    assert r.upper_process_limit - r.mean == pytest.approx(2.66 * r.mean_moving_range, abs=tol)
    assert r.lower_process_limit <= r.lower_two_sigma <= r.mean <= r.upper_two_sigma <= r.upper_process_limit
    assert all(set(p.rules) <= set(RULES) for p in r.points)


@given(series)
def test_mirroring_the_series_swaps_high_and_low(values):
    # Negation is exact in floating point, so -x has exactly the mirrored chart; increase on x reads as
    # decrease on -x.
    r = xmr(values, "increase")
    m = xmr([-v for v in values], "decrease")
    assert m.mean == -r.mean
    assert m.mean_moving_range == r.mean_moving_range
    assert [p.high_rules for p in m.points] == [p.low_rules for p in r.points]
    assert [p.low_rules for p in m.points] == [p.high_rules for p in r.points]
    assert classes(m) == classes(r)


@given(st.floats(-1e6, 1e6, allow_nan=False), st.integers(2, 40))
def test_constant_series_never_signals(value, n):
    r = xmr([value] * n, "increase")
    assert r.upper_process_limit == r.lower_process_limit == r.mean == value
    assert all(p.variation == "common_cause" for p in r.points)
