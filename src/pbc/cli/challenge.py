"""`pbc challenge`: the challenge ledger from the command line (the web app adds the screens)."""

from __future__ import annotations

import getpass

import click

from pbc.challenges import OPEN, Ledger
from pbc.cli.output import json_option, print_json, print_table, say
from pbc.engines import connect
from pbc.errors import PbcError
from pbc.ingest.contracts import load_contracts
from pbc.quality.attribution import attribute
from pbc.settings import load_settings
from pbc.warehouse import Warehouse


@click.group()
def challenge() -> None:
    """Challenge lines (practices) and decide challenges (clearing house); every step is kept with who and when."""


@challenge.command("raise")
@click.option("--dataset", type=click.Choice(["apc", "op", "ae"]), required=True)
@click.option("--procode", required=True, help="Provider code of the line.")
@click.option("--key", "record_key", required=True, help="The line's record key (PROVSPNO, ATTENDKEY or AEKEY).")
@click.option("--practice", required=True, help="The challenging practice: the line must be attributed to it.")
@click.option("--reason", required=True, help="Why the line is wrong.")
@click.option("--by", default=getpass.getuser, show_default="current user", help="Who raises it.")
@json_option
def raise_(dataset: str, procode: str, record_key: str, practice: str, reason: str, by: str, as_json: bool) -> None:
    """A practice challenges one of its lines."""
    settings = load_settings()
    lines = attribute(connect(settings), Warehouse(settings.warehouse_dir), dataset)
    key = load_contracts()[dataset].key
    found = lines.filter((lines.PROCODE == procode) & (lines[key] == record_key)).select("PRACTICE").to_pyarrow()
    if found.num_rows == 0:
        raise PbcError(f"no {dataset} line {procode} {record_key} is held")
    if practice not in found["PRACTICE"].to_pylist():
        raise PbcError(f"line {procode} {record_key} is attributed to {found['PRACTICE'][0]}, not {practice}")
    made = Ledger(settings.home).raise_challenge(dataset, procode, record_key, practice, reason, by)
    print_json(made.__dict__) if as_json else say(f"challenge {made.id} raised on {dataset} {procode} {record_key}")


@challenge.command("decide")
@click.argument("challenge_id")
@click.option("--accept/--reject", required=True, help="The clearing house's decision.")
@click.option("--reason", required=True, help="Why, for the practice and the provider.")
@click.option("--by", default=getpass.getuser, show_default="current user", help="Who decides.")
@json_option
def decide(challenge_id: str, accept: bool, reason: str, by: str, as_json: bool) -> None:
    """The clearing house accepts or rejects a challenge."""
    made = Ledger(load_settings().home).decide(challenge_id, accept, reason, by)
    print_json(made.__dict__) if as_json else say(f"challenge {made.id} {made.status}")


@challenge.command("list")
@click.option("--status", type=click.Choice([OPEN, "accepted", "rejected"]), help="Only challenges in this state.")
@click.option("--procode", help="Only challenges to this provider.")
@json_option
def list_(status: str | None, procode: str | None, as_json: bool) -> None:
    """The challenges, newest last."""
    rows = [
        c
        for c in Ledger(load_settings().home).challenges().values()
        if (status is None or c.status == status) and (procode is None or c.procode == procode)
    ]
    if as_json:
        print_json([c.__dict__ for c in rows])
        return
    print_table([{k: v for k, v in c.__dict__.items() if k != "history"} for c in rows], title="challenges")
