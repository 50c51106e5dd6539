"""`pbc serve` and `pbc demo-users`: run the web application, and list the demo logins."""

from __future__ import annotations

import os
import re
from typing import Any

import click

from pbc.cli.output import json_option, print_json, print_table, say
from pbc.settings import load_settings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--as-at", "as_at", help="Report pages as at this month (YYYY-MM); default the latest with activity.")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Threads per worker.")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: one per core).")
def serve(host: str, port: int, as_at: str | None, threads: int, workers: int | None) -> None:
    """Serve the web application (gunicorn), after bringing its database up to date."""
    if as_at is not None:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", as_at):
            raise click.BadParameter(f"{as_at!r} is not a month like 2007-09", param_hint="--as-at")
        os.environ["PBC_WEB_AS_AT"] = as_at
    os.environ.setdefault("PBC_WEB_HOSTS", f"{host},127.0.0.1,localhost")
    from pbc.web.server import serve as run
    from pbc.web.setup import migrate

    migrate()
    say(f"pbc is serving on http://{host}:{port}/ (Ctrl-C to stop)")
    run(host, port, threads, workers)


@click.command("demo-users")
@json_option
def demo_users(as_json: bool) -> None:
    """Create the demo users (one per role) if needed and list their logins."""
    from pbc.web.setup import demo_users as make
    from pbc.web.setup import start_django

    start_django()
    users = make(load_settings().home)
    if as_json:
        print_json(users)
        return
    show_logins(users, "demo logins")


def show_logins(users: list[dict[str, Any]], title: str) -> None:
    """The demo logins as a table for people."""
    print_table(
        [
            {
                "username": u["username"],
                "password": u["password"],
                "role": u["role"],
                "organisation": u["organisation_name"],
            }
            for u in users
        ],
        title=title,
    )
