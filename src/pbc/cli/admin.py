"""Verbs for setting pbc up: `pbc settings` and `pbc keys`."""

from __future__ import annotations

import click

from pbc.cli.output import json_option, print_json, print_table, say
from pbc.keys import PURPOSES, ensure_keys
from pbc.settings import Settings, config_file, load_settings


@click.command()
@json_option
def settings(as_json: bool) -> None:
    """Show the settings in force and where each can be set."""
    current = load_settings()
    rows = [
        {
            "setting": name,
            "environment": f"PBC_{name.upper()}",
            "value": getattr(current, name),
            "meaning": field.description,
        }
        for name, field in Settings.model_fields.items()
    ]
    if as_json:
        print_json({"config_file": config_file(), "settings": rows})
        return
    say(f"config file: {config_file() or 'none (PBC_CONFIG, or pbc.toml in this folder)'}")
    print_table(rows)


@click.group()
def keys() -> None:
    """Manage the pseudonymisation and encryption keys (kept outside the warehouse)."""


@keys.command("init")
@json_option
def keys_init(as_json: bool) -> None:
    """Generate any missing key into PBC_HOME/keys (existing keys are kept)."""
    current = load_settings()
    made = ensure_keys(current)
    result = {p: {"path": current.key_file(p), "created": p in made} for p in PURPOSES}
    if as_json:
        print_json(result)
        return
    for purpose, info in result.items():
        say(f"{purpose} key: {info['path']} ({'created' if info['created'] else 'already there, kept'})")
