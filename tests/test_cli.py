"""The `pbc` command line as a user meets it: help for every verb, JSON for scripts, plain errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from pbc.cli import main
from tests.test_ods import BRENT_ACTIVE_GP_PRACTICES


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("PBC_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PBC_ENGINE", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args: str, code: int = 0):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output + result.stderr
        return result

    return invoke


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


def test_help_lists_the_verbs(run):
    output = run("--help").output
    for verb in ("demo", "keys", "orgs", "reference", "settings"):
        assert verb in output


@pytest.mark.parametrize("command", list(_all_commands(main)), ids=" ".join)
def test_every_verb_has_help(run, command):
    output = run(*command, "--help").output
    assert "Usage: " in output
    assert len(output.splitlines()) > 3


def test_orgs_for_a_commissioner_as_json(run):
    run("reference", "load", "--json")
    data = json.loads(run("orgs", "--commissioner", "07P", "--active", "--json").output)
    assert sorted(p["code"] for p in data["practices"]) == BRENT_ACTIVE_GP_PRACTICES
    first = data["practices"][0]
    for field in ("code", "name", "postcode", "status", "prescribing_setting", "open_date", "close_date"):
        assert field in first
    assert data["commissioner"]["code"] == "07P"


def test_orgs_summary_text(run):
    run("reference", "load")
    output = run("orgs").output
    assert "Brent PCT 5K5" in output
    assert "North West (LON-NW)" in output


def test_unknown_commissioner(run):
    run("reference", "load", "--json")
    result = run("orgs", "--commissioner", "ZZZ", code=1)
    assert "pbc: error: 'ZZZ' is not a commissioner code pbc knows" in result.stderr


def test_orgs_before_loading_says_what_to_do(run):
    result = run("orgs", code=1)
    assert "run `pbc reference load` (or `make demo`) first" in result.stderr


def test_bad_setting_exits_with_a_config_error(run, monkeypatch):
    monkeypatch.setenv("PBC_ENGINE", "oracle")
    result = run("orgs", code=78)
    assert "PBC_ENGINE='oracle'" in result.stderr


def test_broken_reference_folder(run, reference_copy):
    etr = reference_copy / "ods" / "etr.csv"
    etr.write_text(etr.read_text(encoding="latin-1").replace("RAL,", "RAL;", 1), encoding="latin-1")
    result = run("reference", "load", "--from", str(reference_copy), code=65)
    assert "etr.csv, row " in result.stderr
    assert "Nothing was stored." in result.stderr


def test_lists_and_localities_verbs(run, tmp_path):
    run("reference", "load", "--json")
    members = tmp_path / "m.csv"
    members.write_text("practice_code,locality_code,effective_from,effective_to\nE84002,5K5-KILBURN,2005-04-01,\n")
    data = json.loads(run("reference", "localities", str(members), "--json").output)
    assert data["rows"] == {"locality_memberships": 1}
    data = json.loads(run("orgs", "--commissioner", "5K5", "--on", "2006-01-01", "--json").output)
    assert [(p["code"], p["locality_code"]) for p in data["practices"]] == [("E84002", "5K5-KILBURN")]


def test_settings_and_keys(run, tmp_path):
    data = json.loads(run("settings", "--json").output)
    assert {s["environment"] for s in data["settings"]} >= {"PBC_HOME", "PBC_ENGINE"}
    data = json.loads(run("keys", "init", "--json").output)
    assert data["pseudonymisation"]["created"] is True
    assert Path(data["pseudonymisation"]["path"]).is_file()
    data = json.loads(run("keys", "init", "--json").output)
    assert data["pseudonymisation"]["created"] is False


def test_demo_runs_and_a_second_run_reuses_the_synthetic_data(run):
    output = run("demo").output
    assert "Brent CCG (07P) has 55 active GP practices" in output
    for cluster in ("Harlesden", "Kingsbury", "Kilburn", "Willesden", "Wembley"):
        assert cluster in output
    again = run("demo").output
    assert "already made in" in again


def test_installed_entry_point(tmp_path):
    pbc = Path(sys.executable).parent / "pbc"
    result = subprocess.run([str(pbc), "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("pbc, version ")
