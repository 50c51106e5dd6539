"""`make bench` keeps working: every job's variants run, agree, and report the figures the README promises."""

from __future__ import annotations

import dataclasses

import pyarrow.compute as pc
import pytest

from pbc.bench import JOBS, costing_job, run_job
from pbc.tariff.model import TABLES
from pbc.warehouse import Warehouse


@pytest.mark.parametrize("job", [j for j in JOBS if not j.heavy], ids=[j.name for j in JOBS if not j.heavy])
def test_job_runs_and_variants_agree(job, tmp_path):
    report = run_job(dataclasses.replace(job, repeats=1), tmp_path)
    assert set(report["variants"]) == {"pbc", "duckdb_sql", "pandas"}
    assert len({v["answer"] for v in report["variants"].values()}) == 1
    for figures in report["variants"].values():
        assert figures["rows_per_second"] > 0
        assert figures["peak_mib"] > 0
    assert report["ratio_to_duckdb_sql"] > 0
    assert report["ratio_to_pandas"] > 0


def test_disagreeing_variants_fail_the_bench(tmp_path):
    job = dataclasses.replace(JOBS[0], repeats=1, variants={**JOBS[0].variants, "pandas": _wrong_answer})
    with pytest.raises(RuntimeError, match="the variants disagree"):
        run_job(job, tmp_path)


def _wrong_answer(inputs):
    return "not the same"


def test_a_failing_variant_fails_the_bench_instead_of_hanging(tmp_path):
    job = dataclasses.replace(JOBS[0], repeats=1, variants={**JOBS[0].variants, "pandas": _broken})
    with pytest.raises(RuntimeError, match="bench variant _broken failed: ZeroDivisionError"):
        run_job(job, tmp_path)


def _broken(inputs):
    return str(1 / 0)


def _summary_rows(table):
    """A summary in one comparable form: months as YYYY-MM, counts as ints, rows sorted."""
    rows = []
    for row in table.select([*costing_job.BY, "ACTIVITY", "LINES", "PENCE", "UNPRICED"]).to_pylist():
        month = row.pop("MONTH")
        rows.append(
            (
                None if month is None else str(month)[:7],
                *(v if isinstance(v, str | None) else int(v) for v in row.values()),
            )
        )
    return sorted(rows, key=str)


def _assert_costing_variants_agree(inputs):
    """The three summaries are equal row for row (so are the answers the bench compares); returns the answer."""
    tables = {name: getattr(costing_job, f"summary_{name}")(inputs) for name in ("pbc", "duckdb", "pandas")}
    rows = {name: _summary_rows(table) for name, table in tables.items()}
    assert rows["duckdb"] == rows["pbc"]
    assert rows["pandas"] == rows["pbc"]
    answers = {costing_job.answer(table) for table in tables.values()}
    assert len(answers) == 1
    return answers.pop()


def test_costing_job_variants_agree_on_a_small_home(small_brent, tmp_path):
    """The heavy costing job's three variants, run directly on the small Brent: the same summary, group by group.

    Then again with a tariff that misses a provider's MFF, some HRGs, a treatment function, an A&E HRG and some local
    prices, so the unpriced paths are compared too.
    """
    home = tmp_path / "home"
    costing_job.make_home(small_brent, home)
    inputs = costing_job.inputs_for(home)
    answer = _assert_costing_variants_agree(inputs)
    assert answer.endswith(" 0 unpriced")
    assert f" {inputs['rows']} lines" in answer

    warehouse = Warehouse(home / "warehouse")
    tables = {name: warehouse.read("tariff", name) for name in TABLES}
    apc = tables["apc"]
    tables |= {
        "mff": tables["mff"].slice(1),
        "apc": apc.filter(pc.invert(pc.is_in(apc["hrg"], apc["hrg"].slice(0, 5)))),
        "op": tables["op"].slice(2),
        "ae": tables["ae"].slice(1),
        "local_prices": tables["local_prices"].slice(50),
    }
    warehouse.commit("tariff", tables, [])
    gaps = _assert_costing_variants_agree(costing_job.inputs_for(home))
    assert not gaps.endswith(" 0 unpriced")
