"""Settings and keys: sensible defaults, the environment over the file, and errors that say how to fix them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pbc.errors import SettingsError
from pbc.keys import ensure_keys, load_key
from pbc.settings import load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("PBC_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults():
    settings = load_settings()
    assert settings.home == Path("var")
    assert settings.engine == "duckdb"
    assert settings.key_file("pseudonymisation") == Path("var/keys/pseudonymisation.key")
    assert settings.warehouse_dir == Path("var/warehouse")


def test_environment_wins_over_the_file(monkeypatch, tmp_path):
    (tmp_path / "pbc.toml").write_text('home = "/data/pbc"\nengine = "pyspark"\n')
    assert load_settings().engine == "pyspark"
    monkeypatch.setenv("PBC_ENGINE", "DuckDB")
    settings = load_settings()
    assert (settings.engine, settings.home) == ("duckdb", Path("/data/pbc"))


def test_unknown_engine_says_how_to_fix_it(monkeypatch):
    monkeypatch.setenv("PBC_ENGINE", "oracle")
    with pytest.raises(SettingsError, match=r"PBC_ENGINE='oracle'.*set PBC_ENGINE to one of duckdb, pyspark"):
        load_settings()


def test_misspelt_setting_in_the_file(tmp_path):
    (tmp_path / "pbc.toml").write_text('engin = "duckdb"\n')
    with pytest.raises(SettingsError, match=r"engin: not a pbc setting"):
        load_settings()


def test_config_file_that_is_not_there(monkeypatch):
    monkeypatch.setenv("PBC_CONFIG", "/nowhere/pbc.toml")
    with pytest.raises(SettingsError, match=r"PBC_CONFIG names /nowhere/pbc\.toml, which is not a file"):
        load_settings()


def test_bad_number(monkeypatch):
    monkeypatch.setenv("PBC_DUCKDB_THREADS", "0")
    with pytest.raises(SettingsError, match=r"PBC_DUCKDB_THREADS='0'"):
        load_settings()


def test_keys_are_generated_once_and_kept_private(tmp_path):
    settings = load_settings(home=tmp_path / "home")
    made = ensure_keys(settings)
    assert set(made) == {"pseudonymisation", "encryption"}
    key = load_key(settings, "pseudonymisation")
    assert len(key) == 32
    assert oct(made["pseudonymisation"].stat().st_mode & 0o777) == "0o600"
    assert ensure_keys(settings) == {}
    assert load_key(settings, "pseudonymisation") == key
    assert load_key(settings, "encryption") != key
    assert not str(made["pseudonymisation"]).startswith(str(settings.warehouse_dir))


def test_missing_key_says_how_to_get_one(tmp_path):
    settings = load_settings(home=tmp_path / "home")
    with pytest.raises(SettingsError, match=r"run `pbc keys init`.*or set PBC_PSEUDONYMISATION_KEY_FILE"):
        load_key(settings, "pseudonymisation")


def test_short_or_garbled_key(tmp_path):
    key_file = tmp_path / "k"
    settings = load_settings(home=tmp_path, pseudonymisation_key_file=key_file)
    key_file.write_text("abcd\n")
    with pytest.raises(SettingsError, match=r"is 2 bytes; pbc needs at least 32"):
        load_key(settings, "pseudonymisation")
    key_file.write_text("not hex\n")
    with pytest.raises(SettingsError, match=r"is not hexadecimal text"):
        load_key(settings, "pseudonymisation")
