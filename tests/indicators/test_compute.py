"""The statistics layer on hand-made counts (no engine): special cases the tiny commissioner does not reach."""

from __future__ import annotations

import math

import pyarrow as pa
import pytest

from pbc.indicators.compute import COLUMNS, compare, compute, merge_empty_bands
from pbc.indicators.definitions import load_definitions
from pbc.indicators.esp2013 import ESP2013
from pbc.indicators.measures import COUNT_COLUMNS, Counts
from pbc.indicators.methods import DSR_NOT_APPLICABLE, HIGH_0001, HIGH_0025, LOW_0001, LOW_0025, NOT_SIGNIFICANT

DEFINITIONS = load_definitions()


def counts(definition: str, numerator: list[tuple], denominator: list[tuple], dates: int = 1) -> Counts:
    """Counts from rows of (PRACTICE, LOCALITY, BREAKDOWN, AGE_BAND, SEX, N)."""

    def table(rows: list[tuple]) -> pa.Table:
        schema = pa.schema([(c, pa.string()) for c in COUNT_COLUMNS[:-1]] + [("N", pa.int64())])
        return pa.Table.from_pylist([dict(zip(COUNT_COLUMNS, r, strict=True)) for r in rows], schema=schema)

    return Counts(DEFINITIONS[definition], "2007/08", "5K5", table(numerator), table(denominator), dates)


def test_merge_empty_bands():
    # Zero-population bands fold into the next older band with their weights; the last into the one before.
    assert merge_empty_bands([1, 2, 3], [0, 10, 0], [5, 6, 7]) == ([6], [10], [18])
    assert merge_empty_bands([1, 2, 3, 4], [10, 0, 20, 30], [1, 2, 3, 4]) == ([1, 5, 4], [10, 20, 30], [1, 5, 4])
    counts_, people, weights = merge_empty_bands([0] * 19, [0] * 18 + [5], list(ESP2013))
    assert (counts_, people, weights) == ([0], [5], [100_000])
    assert merge_empty_bands([1, 2], [3, 4], [5, 6]) == ([1, 2], [3, 4], [5, 6])  # nothing to merge


@pytest.mark.parametrize(
    ("label", "polarity", "word"),
    [
        (HIGH_0001, "low_is_good", "worse"),
        (HIGH_0025, "low_is_good", "worse"),
        (LOW_0025, "low_is_good", "better"),
        (LOW_0001, "high_is_good", "worse"),
        (HIGH_0025, "high_is_good", "better"),
        (HIGH_0025, "neither", "higher"),
        (LOW_0001, "neither", "lower"),
        (NOT_SIGNIFICANT, "low_is_good", "similar"),
        (DSR_NOT_APPLICABLE, "low_is_good", None),
        (None, "neither", None),
    ],
)
def test_compare(label, polarity, word):
    assert compare(label, polarity) == word


def test_practices_without_a_list_are_left_out_and_said_to_be():
    numerator = [("P1", "L1", None, "20_24", "M", 10), ("P9", "L1", None, "20_24", "M", 4)]
    denominator = [("P1", "L1", None, "20_24", "M", 2000)]
    result = compute(counts("referrals", numerator, denominator, dates=2), "practice")
    rows = result.table.to_pylist()
    assert [r["UNIT"] for r in rows] == ["5K5", "P1"]
    assert rows[1]["DENOMINATOR"] == 1000  # 2000 summed over two list dates
    assert rows[0]["NUMERATOR"] == 10  # the commissioner's total is its practices' with a list
    assert "4 events at practices with no denominator (no list, or none counted) left out" in result.notes
    assert tuple(result.table.column_names) == COLUMNS


def test_isr_bands_without_reference_population():
    # Events of women aged 90-94 where no such woman is registered cannot be expected: left out, and said.
    numerator = [("P1", "L1", None, "20_24", "M", 10), ("P1", "L1", None, "90_94", "F", 2)]
    numerator += [("P2", "L1", None, "20_24", "M", 5), ("P2", "L1", None, None, "M", 1)]
    denominator = [("P1", "L1", None, "20_24", "M", 100), ("P2", "L1", None, "20_24", "M", 200)]
    result = compute(counts("emergency_admissions", numerator, denominator), "practice")
    rows = {r["UNIT"]: r for r in result.table.to_pylist()}
    assert rows["P1"]["EXPECTED"] == pytest.approx(100 * 15 / 300)
    assert rows["P1"]["NUMERATOR"] == 10
    assert "2 events in age and sex bands with no registered population left out" in result.notes
    assert "1 event of unknown age or sex left out of the standardised ratios" in result.notes


def test_isr_unit_with_nothing_expected():
    # P2's list has only women aged 70-74, among whom nobody was admitted: E = 0 and the ratio is undefined.
    numerator = [("P1", "L1", None, "20_24", "M", 3)]
    denominator = [("P1", "L1", None, "20_24", "M", 100), ("P2", "L1", None, "70_74", "F", 50)]
    rows = {
        r["UNIT"]: r
        for r in compute(counts("emergency_admissions", numerator, denominator), "practice").table.to_pylist()
    }
    assert rows["P2"]["EXPECTED"] == 0
    assert rows["P2"]["VALUE"] is None
    assert rows["P2"]["NOTE"] == "no events expected: the ratio is undefined"
    assert rows["P2"]["SIGNIFICANCE"] is None


def test_no_events_anywhere_has_no_funnel():
    denominator = [("P1", "L1", None, "20_24", "M", 100), ("P2", "L2", None, "20_24", "M", 200)]
    rows = compute(counts("referrals", [], denominator), "cluster").table.to_pylist()
    assert [r["UNIT"] for r in rows] == ["5K5", "L1", "L2"]
    assert all(r["VALUE"] == 0 for r in rows)
    assert all(r["FUNNEL_LOWER_95"] is None and r["SIGNIFICANCE"] is None for r in rows)
    assert rows[1]["UPPER_95"] == pytest.approx(-math.log(0.025) / 100 * 1000)


def test_practices_outside_any_cluster_count_for_the_commissioner_only():
    numerator = [("P1", "L1", None, "20_24", "M", 10), ("P2", None, None, "20_24", "M", 30)]
    denominator = [("P1", "L1", None, "20_24", "M", 1000), ("P2", None, None, "20_24", "M", 1000)]
    rows = compute(counts("referrals", numerator, denominator), "cluster").table.to_pylist()
    assert [(r["UNIT"], r["NUMERATOR"]) for r in rows] == [("5K5", 40), ("L1", 10)]


def test_dsr_unknown_age_and_effective_population():
    numerator = [("P1", "L1", None, "20_24", "M", 30), ("P1", "L1", None, None, "M", 2)]
    denominator = [("P1", "L1", None, "20_24", "M", 1000), ("P1", "L1", None, "20_24", "F", 1000)]
    result = compute(counts("ae_attendances", numerator, denominator), "practice")
    rows = {r["UNIT"]: r for r in result.table.to_pylist()}
    # One populated band takes all 100,000 of the standard: the DSR is the crude rate, 30 / 2000 per person.
    assert rows["P1"]["VALUE"] == pytest.approx(15.0)
    assert rows["P1"]["FUNNEL_X"] == pytest.approx(2000)
    assert "2 events of unknown age left out of the standardised rates" in result.notes


def test_level_must_be_known():
    with pytest.raises(ValueError, match="level must be one of practice, cluster"):
        compute(counts("referrals", [], []), "sector")
