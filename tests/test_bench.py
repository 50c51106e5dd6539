"""`make bench` keeps working: every job's variants run, agree, and report the figures the README promises."""

from __future__ import annotations

import dataclasses

import pytest

from pbc.bench import JOBS, run_job


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
