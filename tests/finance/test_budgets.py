"""Indicative budgets against a plain row-by-row reference, on a small two-year synthetic Brent."""

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from pbc.costed import all_costed_lines
from pbc.engines import connect
from pbc.errors import InputError
from pbc.finance.allocation import allocate, percent_of
from pbc.finance.budgets import gather, make_budget
from pbc.finance.scheme import read_scheme
from pbc.warehouse import Warehouse
from tests.finance.conftest import scheme_text
from tests.test_phasing import reference_phase

PODS = ("APC_EL", "APC_NE", "OP_FIRST", "OP_FU", "AE")


def plain_allocate(total, weights):
    """Largest remainder, plainly: whole shares, then a penny each to the largest remainders, ties by key."""
    keys = sorted(weights)
    whole = sum(Fraction(weights[k]) for k in keys)
    if whole == 0:
        weights, whole = dict.fromkeys(keys, 1), Fraction(len(keys))
    shares = {k: Fraction(weights[k]) * total / whole for k in keys}
    out = {k: int(shares[k]) for k in keys}
    left = total - sum(out.values())
    for k in sorted(keys, key=lambda k: (-(shares[k] - int(shares[k])), keys.index(k)))[:left]:
        out[k] += 1
    return out


def band_of(age):
    if age is None or age < 0:
        return None
    return "95+" if age >= 95 else f"{age // 5 * 5}_{age // 5 * 5 + 4}"


def write_scheme(tmp_path: Path, **kwargs) -> Path:
    path = tmp_path / "scheme.toml"
    path.write_text(scheme_text(**kwargs))
    return path


def reference_budget(settings, scheme, practices):
    """The whole budget worked row by row from the costed lines and the raw list and register rows."""
    con, warehouse = connect(settings), Warehouse(settings.warehouse_dir)
    h = scheme.historic
    at = scheme.budget_year if h.method == "reprice" else None
    lines = all_costed_lines(con, warehouse, at_year=at).to_pyarrow().to_pylist()
    historic, cost_by_band = defaultdict(int), defaultdict(int)
    for line in lines:
        if not (h.baseline_from.replace(day=1) <= line["MONTH"] <= h.baseline_to):
            continue
        if line["COMMISSIONER"] != "5K5" or line["POD"] not in PODS:
            continue
        historic[(line["PRACTICE"], line["POD"])] += line["PRICE_PENCE"]
        sex = {"1": "M", "2": "F"}.get(line["SEX"])
        band = band_of(line["AGE"])
        if sex and band:
            cost_by_band[(line["POD"], band, sex)] += line["PRICE_PENCE"]
    if h.method == "uplift":
        bp = 325
        historic = {k: int((Decimal(v) * (10000 + bp) / 10000).quantize(1, ROUND_HALF_UP)) for k, v in historic.items()}
    lists = defaultdict(int)
    list_table = pq.read_table(warehouse.path("lists", "registered_lists")).to_pylist()
    census = max(r["extract_date"] for r in list_table if r["extract_date"] <= dt.date(2007, 4, 1))
    for r in list_table:
        if r["extract_date"] == census and r["practice_code"] in practices:
            lists[(r["practice_code"], r["age_band"], r["sex"])] += r["patients"]
    patients = defaultdict(int)
    for (_, band, sex), n in lists.items():
        patients[(band, sex)] += n
    registers = pq.read_table(warehouse.path("registers", "register_counts")).to_pylist()
    day = max(r["extract_date"] for r in registers if r["extract_date"] <= dt.date(2007, 4, 1))
    observed, observed_band = defaultdict(int), defaultdict(int)
    need_on = scheme.fair_share.need is not None
    for r in registers:
        if (
            need_on
            and r["extract_date"] == day
            and r["condition"] in ("DIABETES", "CHD")
            and r["practice_code"] in practices
        ):
            observed[r["practice_code"]] += r["register"]
            observed_band[(r["age_band"], r["sex"][0])] += r["register"]
    need = {}
    for p in practices:
        expected = sum(
            (
                Fraction(n * observed_band[(b, s)], patients[(b, s)])
                for (q, b, s), n in lists.items()
                if q == p and patients[(b, s)]
            ),
            Fraction(0),
        )
        need[p] = Fraction(observed[p]) / expected if expected else Fraction(1)
    pace = int(Decimal(scheme.pace_of_change_percent) * 100)
    result, central = {}, {}
    for pod in PODS:
        pot = sum(v for (p, q), v in historic.items() if q == pod)
        top = int((Decimal(pot) * 200 / 10000).quantize(1, ROUND_HALF_UP))
        reserve = int((Decimal(pot) * 150 / 10000).quantize(1, ROUND_HALF_UP))
        shared = pot - top - reserve
        hist = plain_allocate(shared, {p: historic.get((p, pod), 0) for p in practices})
        weighted = {}
        for p in practices:
            w = sum(
                (
                    Fraction(n * cost_by_band.get((pod, b, s), 0), patients[(b, s)])
                    for (q, b, s), n in lists.items()
                    if q == p and patients[(b, s)]
                ),
                Fraction(0),
            )
            weighted[p] = w * (1 + Fraction(1, 2) * (need[p] - 1)) if need_on else w
        fair = plain_allocate(shared, weighted)
        budget = plain_allocate(shared, {p: hist[p] * (10000 - pace) + fair[p] * pace for p in practices})
        central[pod] = (pot, top, reserve)
        for p in practices:
            result[(p, pod)] = (historic.get((p, pod), 0), hist[p], fair[p], budget[p])
    return result, central, lines


@pytest.mark.parametrize(
    ("method", "pace", "need"), [("reprice", "25", True), ("uplift", "100", False), ("reprice", "0", False)]
)
def test_budget_matches_the_row_by_row_reference(two_year_home, tmp_path, method, pace, need):
    scheme, _ = read_scheme(write_scheme(tmp_path, method=method, pace=pace, need=need))
    con, warehouse = connect(two_year_home), Warehouse(two_year_home.warehouse_dir)
    made, inputs = make_budget(con, warehouse, scheme)
    practices = sorted(inputs.localities)
    expected, central, lines = reference_budget(two_year_home, scheme, set(practices))
    got = {
        (r["PRACTICE"], r["POD"]): (
            r["BASELINE_PENCE"],
            r["HISTORIC_SHARE_PENCE"],
            r["FAIR_SHARE_PENCE"],
            r["BUDGET_PENCE"],
        )
        for r in made.practices.to_pylist()
    }
    assert got == expected
    for r in made.central.to_pylist():
        assert (r["BASELINE_PENCE"], r["TOP_SLICE_PENCE"], r["RESERVE_PENCE"]) == central[r["POD"]]
        # practices add up to what was shared out, and with the top-slice and reserve to the baseline
        shared = sum(v[3] for k, v in got.items() if k[1] == r["POD"])
        assert shared == r["SHARED_PENCE"]
        assert shared + r["TOP_SLICE_PENCE"] + r["RESERVE_PENCE"] == r["BASELINE_PENCE"]
    # clusters are sums of their practices, the commissioner the sum of its clusters
    by_cluster = defaultdict(int)
    for r in made.practices.to_pylist():
        by_cluster[r["LOCALITY"]] += r["BUDGET_PENCE"]
    assert sum(by_cluster.values()) == sum(v[3] for v in got.values())
    # phasing: twelve months per practice and POD, by the POD's baseline season, to the penny
    season = defaultdict(lambda: [0] * 12)
    h = scheme.historic
    for line in lines:
        if h.baseline_from.replace(day=1) <= line["MONTH"] <= h.baseline_to and line["COMMISSIONER"] == "5K5":
            season[line["POD"]][(line["MONTH"].month + 8) % 12] += line["COUNTED"]
    months = defaultdict(dict)
    for r in made.phased.to_pylist():
        months[(r["PRACTICE"], r["POD"])][r["MONTH_INDEX"]] = r["BUDGET_PENCE"]
    for key, value in got.items():
        assert [months[key][m] for m in range(1, 13)] == reference_phase(value[3], season[key[1]]), key


def test_allocation_worked_examples():
    assert allocate(100, {"a": 1, "b": 1, "c": 1}) == {"a": 34, "b": 33, "c": 33}
    assert allocate(10, {"b": 0, "a": 0}) == {"a": 5, "b": 5}
    assert allocate(7, {"a": Fraction(1, 3), "b": Fraction(2, 3)}) == {"a": 2, "b": 5}
    assert allocate(-100, {"a": 1, "b": 2}) == {"a": -33, "b": -67}
    assert allocate(0, {}) == {}
    with pytest.raises(ValueError, match="nobody"):
        allocate(5, {})
    with pytest.raises(ValueError, match="negative"):
        allocate(5, {"a": -1})
    assert percent_of(1000, 250) == 25
    assert percent_of(199, 5000) == 100  # 99.5 rounds half up
    assert percent_of(-199, 5000) == -100


def test_allocation_agrees_with_the_plain_one_on_generated_weights():
    import random

    rng = random.Random(11)
    for _ in range(200):
        keys = [f"P{i}" for i in range(rng.randrange(1, 30))]
        weights = {k: Fraction(rng.randrange(0, 10**9), rng.randrange(1, 10**4)) for k in keys}
        total = rng.randrange(0, 10**11)
        got = allocate(total, weights)
        assert got == plain_allocate(total, weights)
        assert sum(got.values()) == total


def test_scheme_mistakes_are_named_by_file_and_field(tmp_path):
    bad = tmp_path / "bad_scheme.toml"
    bad.write_text(
        scheme_text()
        .replace('"2007/08"', '"2007/09"')
        .replace('top_slice_percent = "2"', 'top_slice_percent = "2.555"')
    )
    with pytest.raises(InputError) as caught:
        read_scheme(bad)
    text = str(caught.value)
    assert "bad_scheme.toml" in text
    assert "budget_year" in text
    assert "top_slice_percent" in text
    broken = tmp_path / "broken.toml"
    broken.write_text("name = ")
    with pytest.raises(InputError, match="not valid TOML"):
        read_scheme(broken)
    no_fair = tmp_path / "no_fair.toml"
    no_fair.write_text(scheme_text().split("[fair_share]")[0])
    with pytest.raises(InputError, match="pace of change needs"):
        read_scheme(no_fair)
    late = tmp_path / "late.toml"
    late.write_text(scheme_text().replace("baseline_to = 2007-03-31", "baseline_to = 2007-05-31"))
    with pytest.raises(InputError, match="must end before the budget year"):
        read_scheme(late)
    extra = tmp_path / "extra.toml"
    extra.write_text(scheme_text() + "\nsurprise = 1\n")
    with pytest.raises(InputError, match="surprise"):
        read_scheme(extra)


def test_the_shipped_brent_scheme_reads():
    from pbc.cli.budget import shipped_scheme

    scheme, digest = read_scheme(shipped_scheme())
    assert scheme.commissioner == "5K5"
    assert scheme.pace_bp == 2500
    assert len(digest) == 64


def test_gathered_sums_agree_on_every_engine(two_year_home, tmp_path, on_every_engine):
    scheme, _ = read_scheme(write_scheme(tmp_path))
    warehouse = Warehouse(two_year_home.warehouse_dir)

    def sums(con):
        import pyarrow as pa

        inputs = gather(con, warehouse, scheme)
        return pa.table(
            {
                "KEY": [str(k) for k in inputs.historic] + [str(k) for k in inputs.cost_by_band],
                "PENCE": list(inputs.historic.values()) + list(inputs.cost_by_band.values()),
            }
        )

    _, rows = on_every_engine(sums)
    assert len(rows) > 100
