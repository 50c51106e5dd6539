"""Web tests: Django on SQLite (or PostgreSQL when PBC_DATABASE_URL is set, as `make test` does the second time),
over a small two-year Brent with a budget run, monitoring marts, quality findings and a contract plan."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import django
import pytest

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbc.web.settings")
os.environ.setdefault("PBC_WEB_SECRET_KEY", "pbc-tests-only-not-a-secret-0123456789-abcdefghijklmnop")
django.setup()  # before the test modules import the models


@pytest.fixture(scope="session")
def web_home(two_year_home, tmp_path_factory) -> Path:
    """A home with everything the pages read: budget run, marts, quality run, contract plan."""
    from pbc.engines import connect
    from pbc.finance.budgets import make_budget
    from pbc.finance.marts import refresh
    from pbc.finance.runs import keep_run
    from pbc.finance.scheme import read_scheme
    from pbc.provider_contracts.plan import Growth, keep_drafted_plan
    from pbc.quality.run import run_quality
    from pbc.settings import Settings
    from pbc.warehouse import Warehouse
    from tests.finance.conftest import scheme_text

    home = tmp_path_factory.mktemp("web") / "home"
    shutil.copytree(two_year_home.home, home)
    settings = Settings(home=home)
    con, warehouse = connect(settings), Warehouse(settings.warehouse_dir)
    path = home / "scheme.toml"
    path.write_text(scheme_text())
    scheme, digest = read_scheme(path)
    made, inputs = make_budget(con, warehouse, scheme)
    keep_run(warehouse, scheme, digest, path, made, inputs, 0)
    refresh(con, warehouse, "2007/08")
    run_quality(con, warehouse)
    keep_drafted_plan(con, warehouse, "2007/08", "2006/07", Growth(300))
    return home


@pytest.fixture
def site(web_home, monkeypatch, db):
    """The web app over `web_home`, with the demo users (one per role) in the test database."""
    monkeypatch.setenv("PBC_HOME", str(web_home))
    monkeypatch.setenv("PBC_WEB_AS_AT", "2007-09")
    from pbc.web.setup import demo_users

    users = {u["username"]: u for u in demo_users(web_home)}
    return users
