"""`pbc benchmark` as a user meets it: listings, tables, files, profiles and plain errors.

The verb is registered in `pbc.cli` separately; here it runs under pbc's own group class, so errors are printed
and exit codes set exactly as `pbc` does it.
"""

from __future__ import annotations

import json

import click
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from pbc.cli import PbcGroup
from pbc.cli.benchmark import benchmark


@click.group(cls=PbcGroup)
def pbc() -> None:
    """pbc, as the command line builds it."""


pbc.add_command(benchmark)


@pytest.fixture
def run(tiny_home, monkeypatch, tmp_path):
    monkeypatch.setenv("PBC_HOME", str(tiny_home.home))
    monkeypatch.setenv("PBC_ENGINE", "duckdb")
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps tables to the terminal; a wide one keeps cells whole
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(pbc, ["benchmark", *args], catch_exceptions=False)
        assert result.exit_code == code, result.output + result.stderr
        return result

    return invoke


def test_every_verb_has_help(run):
    for verb in ((), ("indicators",), ("run",), ("profile",)):
        assert "Usage: " in run(*verb, "--help").output


def test_indicators_listing(run):
    output = run("indicators").output
    for key in ("emergency_admissions", "day_case_rate", "disease_prevalence"):
        assert key in output
    listed = json.loads(run("indicators", "--json").output)
    ids = [d["id"] for d in listed]
    assert ids == sorted(ids)
    first = listed[0]
    assert set(first) >= {"id", "title", "statistic", "unit", "polarity", "review_date", "description", "file"}


def test_run_summary_and_detail(run):
    summary = run("run", "--year", "2007/08").output
    assert "5K5 2007/08, practice level: 10 indicator(s)" in summary
    assert "emergency_admissions" in summary
    assert "followup_to_first_ratio: 3 events at practices with no denominator" in summary
    detail = run("run", "--year", "2007/08", "--level", "cluster", "--indicator", "emergency_admissions").output
    assert "Kingsbury" in detail
    assert "100.0" in detail  # the commissioner's ratio


def test_run_writes_files_and_json(run, tmp_path):
    out, funnel = tmp_path / "table.csv", tmp_path / "funnel.parquet"
    output = run(
        "run", "--year", "2007/08", "--indicator", "referrals", "--suppress", "--out", str(out), "--funnel", str(funnel)
    ).output
    assert "5 rows written to" in output
    table = pacsv.read_csv(out)
    assert table.num_rows == 5
    rows = {r["UNIT"]: r for r in table.to_pylist()}
    assert rows["E84006"]["SUPPRESSED"] is True
    assert rows["E84006"]["NUMERATOR"] is None
    assert rows["E84002"]["NUMERATOR"] == 15
    curve = pq.read_table(funnel)
    assert curve.num_rows == 100
    assert set(curve["INDICATOR"].to_pylist()) == {"referrals"}
    data = json.loads(run("run", "--year", "2007/08", "--indicator", "day_case_rate", "--json").output)
    assert {r["UNIT"] for r in data["rows"]} == {"5K5", "E84002", "E84003", "E84006"}
    assert data["notes"] == {"day_case_rate": []}


def test_profile_text_and_json(run):
    output = run("profile", "E84002", "--year", "2007/08").output
    assert "population pyramid" in output
    assert "DIABETES" in output
    assert "no activity history" in output
    data = json.loads(run("profile", "5K5-WEMBLEY", "--year", "2007/08", "--json", "--suppress").output)
    assert (data["code"], data["level"], data["commissioner"]) == ("5K5-WEMBLEY", "cluster", "5K5")
    assert len(data["pyramid"]) == 20
    assert {r["CONDITION"] for r in data["prevalence"]} == {"DIABETES", "ASTHMA"}


def test_plain_errors(run, tmp_path):
    result = run("run", "--year", "2007-08", code=1)
    assert "pbc: error: '2007-08' is not a financial year: write it like 2007/08" in result.stderr
    result = run("run", "--year", "2007/08", "--out", "table.xlsx", code=1)
    assert "table.xlsx: name a .csv or .parquet file" in result.stderr
    result = run("run", "--year", "2007/08", "--indicator", "nope", code=1)
    assert "no indicator nope" in result.stderr
    result = run("profile", "ZZZ", "--year", "2007/08", code=1)
    assert "'ZZZ' is not a practice or cluster code" in result.stderr
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "broken.toml").write_text('id = "broken"\ntitle = "x"\n')
    result = run("indicators", "--definitions", str(mine), code=65)
    assert "broken.toml, field description: Field required" in result.stderr
    assert "Nothing was stored." in result.stderr
