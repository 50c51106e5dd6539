"""`pbc synth` end to end: realism within 15%, valid test-range NHS numbers, faults that are really there,
determinism, and files that pbc's own loaders accept."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import duckdb
import numpy as np
import pytest
from click.testing import CliRunner

from pbc.cli import main
from pbc.nhs_number import valid_mask
from pbc.reference.load import LISTS, LOCALITIES, load_list_sizes, load_locality_memberships
from pbc.synth.config import DEFAULT_FAULT_RATES, SynthConfig
from pbc.synth.generate import generate
from pbc.synth.report import realism_report

SMALL = SynthConfig(years=("2007/08",), scale=0.03)


def _truth(out: Path) -> list[dict[str, str]]:
    with (out / "truth" / "faults.csv").open() as handle:
        return list(csv.DictReader(handle))


def _read(out: Path, dataset: str, columns: str) -> list[tuple]:
    files = [str(p) for p in sorted((out / "extracts" / dataset).glob("*.csv"))]
    files += [str(p) for p in sorted((out / "extracts" / "resubmissions").glob(f"{dataset}_*.csv"))]
    return (
        duckdb.connect()
        .execute(f"select {columns}, filename from read_csv(?, all_varchar=true, filename=true)", [files])
        .fetchall()
    )


def test_brent_realism_is_within_15_percent_of_every_target(brent):
    report = realism_report(brent[0])
    outside = [m for m in report["metrics"] if not m["within"]]
    assert outside == []
    assert report["all_within"]
    metrics = {m["metric"] for m in report["metrics"]}
    assert {"gp_referrals_per_1000", "op_followup_ratio", "emergency_admissions_per_1000", "list_turnover"} <= metrics


def test_brent_practices_and_clusters(brent):
    out, manifest = brent
    with (out / "reference" / "practices.csv").open() as handle:
        practices = list(csv.DictReader(handle))
    assert len(practices) == 53
    assert sum(int(p["list_size"]) for p in practices) == 270_000
    clusters = {p["locality_code"] for p in practices}
    assert clusters == {"5K5-HARLESDEN", "5K5-KINGSBURY", "5K5-KILBURN", "5K5-WILLESDEN", "5K5-WEMBLEY"}
    assert manifest["financial_years"] == ["2005/06", "2006/07", "2007/08"]


def test_nhs_numbers_are_test_range_and_valid_except_the_injected_ones(brent):
    out = brent[0]
    invalid_truth = {(t["dataset"], t["record_key"]) for t in _truth(out) if t["fault_type"] == "invalid_nhs_number"}
    assert invalid_truth
    for dataset, key in (("apc", "PROVSPNO"), ("op", "ATTENDKEY"), ("ae", "AEKEY")):
        rows = _read(out, dataset, f"NEWNHSNO, {key}")
        numbers = np.array([r[0] for r in rows])
        assert all(n.startswith("999") for n in numbers)
        invalid = {(dataset, r[1]) for r, ok in zip(rows, valid_mask(numbers), strict=True) if not ok}
        assert invalid == {t for t in invalid_truth if t[0] == dataset}


def test_every_injected_fault_is_in_the_files(brent):
    out = brent[0]
    truth = _truth(out)
    kinds = {t["fault_type"] for t in truth}
    assert kinds == set(DEFAULT_FAULT_RATES)
    keys = {"apc": "PROVSPNO", "op": "ATTENDKEY", "ae": "AEKEY"}
    present = {ds: {r[0] for r in _read(out, ds, keys[ds])} for ds in keys}
    for fault in truth:
        if fault["fault_type"] == "resubmission":
            assert (out / "extracts" / "resubmissions" / fault["file"]).is_file()
        else:
            assert fault["record_key"] in present[fault["dataset"]], fault


def test_day_cases_coded_as_ordinary_are_same_day_electives(brent):
    out = brent[0]
    keys = {t["record_key"] for t in _truth(out) if t["fault_type"] == "daycase_as_ordinary"}
    rows = [r for r in _read(out, "apc", "PROVSPNO, CLASSPAT, ADMIMETH, ADMIDATE, DISDATE") if r[0] in keys]
    assert rows
    assert all(r[1] == "1" and r[2] in {"11", "12", "13"} and r[3] == r[4] for r in rows)
    ordinary_same_day = [
        r
        for r in _read(out, "apc", "PROVSPNO, CLASSPAT, ADMIMETH, ADMIDATE, DISDATE")
        if r[1] == "1" and r[2] in {"11", "12", "13"} and r[3] == r[4]
    ]
    assert {r[0] for r in ordinary_same_day} == keys


def test_reference_files_load_into_pbc(brent, loaded_warehouse):
    out = brent[0]
    load_locality_memberships(loaded_warehouse, out / "reference" / "locality_memberships.csv")
    assert loaded_warehouse.read(LOCALITIES, "locality_memberships").num_rows == 53
    for path in sorted((out / "reference" / "lists").glob("*.csv"))[:2]:
        load_list_sizes(loaded_warehouse, path)
    lists = loaded_warehouse.read(LISTS, "registered_lists")
    assert abs(sum(lists["patients"].to_pylist()) / 2 - 270_000) < 5_000


def test_registers_hold_adults_for_adult_conditions(brent):
    out = brent[0]
    with next((out / "reference" / "registers").glob("*.csv")).open() as handle:
        rows = list(csv.DictReader(handle))
    children = [r for r in rows if r["CONDITION"] == "HYPERTENSION" and r["AGE_GROUP_5"] in {"0_4", "5_9", "10_14"}]
    assert children == []
    assert {r["CONDITION"] for r in rows} == {
        "DIABETES",
        "CHD",
        "COPD",
        "ASTHMA",
        "HEART_FAILURE",
        "STROKE",
        "HYPERTENSION",
    }


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_and_another_seed_other_data(tmp_path):
    generate(SMALL, tmp_path / "a")
    generate(SMALL, tmp_path / "b")
    generate(SynthConfig(years=SMALL.years, scale=SMALL.scale, seed=2), tmp_path / "c")
    a, b, c = (_digests(tmp_path / x) for x in "abc")
    assert a == b
    differing = [name for name in a if name in c and a[name] != c[name]]
    assert any(name.startswith("extracts/") for name in differing)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--years", "2007/09"], "is not a financial year"),
        (["--scale", "0"], "scale must be above 0"),
        (["--fault-rate", "made_up=0.1"], "unknown fault types: made_up"),
        (["--fault-rate", "duplicate_spell"], "write it as NAME=RATE"),
    ],
)
def test_bad_options_say_what_is_wrong(tmp_path, options, message):
    result = CliRunner().invoke(main, ["synth", "--out", str(tmp_path / "x"), *options])
    assert result.exit_code != 0
    assert message in result.output + result.stderr


def test_cli_makes_and_reports(tmp_path):
    runner = CliRunner()
    made = runner.invoke(
        main,
        [
            "synth",
            "--commissioner",
            "brent",
            "--years",
            "2007/08",
            "--scale",
            "0.03",
            "--out",
            str(tmp_path / "s"),
            "--json",
        ],
        catch_exceptions=False,
    )
    assert made.exit_code == 0, made.output
    assert json.loads(made.output)["commissioners"] == ["5K5"]
    refused = runner.invoke(main, ["synth", "--out", str(tmp_path / "s")])
    assert refused.exit_code == 1
    assert "is not empty" in refused.stderr
    reported = runner.invoke(main, ["synth", "--report", str(tmp_path / "s"), "--json"], catch_exceptions=False)
    assert reported.exit_code == 0
    assert {"metrics", "all_within"} <= set(json.loads(reported.output))
