"""Phasing to the penny: the engine's largest-remainder split against a plain one, on generated figures."""

import datetime as dt
import random

import ibis
import pytest

from pbc.phasing import financial_months, month_index, month_start, phase


def reference_phase(amount: int, weights: list[int]) -> list[int]:
    """Largest remainder, written plainly: whole shares, then a penny each to the largest remainders."""
    if sum(weights) <= 0:
        weights = [1] * 12
    total = sum(weights)
    size, sign = abs(amount), (-1 if amount < 0 else 1)
    shares = [size * w // total for w in weights]
    remainders = [size * w % total for w in weights]
    order = sorted(range(12), key=lambda i: (-remainders[i], i))
    for i in order[: size - sum(shares)]:
        shares[i] += 1
    return [s * sign for s in shares]


def test_reference_phase_worked_examples():
    assert reference_phase(1200, [1] * 12) == [100] * 12
    assert reference_phase(100, [1] * 12) == [9, 9, 9, 9, 8, 8, 8, 8, 8, 8, 8, 8]
    assert reference_phase(10, [0] * 12) == [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]
    assert reference_phase(-100, [1] * 12)[0] == -9
    assert reference_phase(7, [3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]) == [5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]


def test_financial_months():
    assert month_start("2007/08", 1) == dt.date(2007, 4, 1)
    assert month_start("2007/08", 9) == dt.date(2007, 12, 1)
    assert month_start("2007/08", 10) == dt.date(2008, 1, 1)
    assert month_start("2007/08", 12) == dt.date(2008, 3, 1)
    assert len(set(financial_months("2008/09"))) == 12


def test_month_index_on_every_engine(on_every_engine):
    days = [dt.date(2007, m, 15) for m in range(1, 13)]
    t = ibis.memtable({"MONTH": days})
    _, rows = on_every_engine(lambda con: t.select(t.MONTH, I=month_index(t.MONTH)).order_by("MONTH"))
    assert [r[1] for r in rows] == [10, 11, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9]


@pytest.fixture(scope="module")
def generated():
    rng = random.Random(7)
    keys = [f"K{i:03d}" for i in range(150)]
    annual = {
        "KEY": keys,
        "MONEY": [rng.choice([0, 1, 11, 12, 13, rng.randrange(-(10**6), 10**10)]) for _ in keys],
        "ACTIVITY": [rng.randrange(0, 500) for _ in keys],
    }
    weights = {}
    for k in keys[:-10]:  # the last ten keys have no profile: phased flat
        shape = rng.choice(["random", "zeros", "one month", "equal"])
        for m in range(1, 13):
            w = {"random": rng.randrange(0, 10**6), "zeros": 0, "one month": 5 if m == 3 else 0, "equal": 4}[shape]
            weights[(k, m)] = w
    return annual, weights


def test_phase_matches_the_plain_split_on_every_engine(con, generated):
    annual, weights = generated
    profile = ibis.memtable(
        {
            "KEY": [k for k, _ in weights],
            "MONTH_INDEX": [m for _, m in weights],
            "WEIGHT": list(weights.values()),
        }
    )
    phased = con.to_pyarrow(phase(ibis.memtable(annual), ["KEY"], ["MONEY", "ACTIVITY"], profile)).to_pylist()
    got = {(r["KEY"], r["MONTH_INDEX"]): (r["MONEY"], r["ACTIVITY"]) for r in phased}
    assert len(got) == 12 * len(annual["KEY"])
    for key, money, activity in zip(annual["KEY"], annual["MONEY"], annual["ACTIVITY"], strict=True):
        w = [weights.get((key, m), 0) for m in range(1, 13)]
        months = [got[(key, m)] for m in range(1, 13)]
        assert [m[0] for m in months] == reference_phase(money, w), key
        assert [m[1] for m in months] == reference_phase(activity, w), key
        assert sum(m[0] for m in months) == money
