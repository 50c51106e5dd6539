"""Setting up the web application: Django itself, its database, and the demo users."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

import django


def start_django() -> None:
    """Configure Django for pbc (once per process)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pbc.web.settings")
    django.setup()


def migrate(verbosity: int = 0) -> None:
    """Bring the app database up to date (creating it on first use)."""
    from django.core.management import call_command

    start_django()
    call_command("migrate", interactive=False, verbosity=verbosity)


def demo_user_specs(commissioner: str, localities: dict[str, list[str]]) -> list[dict[str, str]]:
    """One demo user per role: the commissioner's staff, the lead of its first cluster, a practice in it."""
    cluster = sorted(localities)[0]
    practice = sorted(localities[cluster])[0]
    return [
        {"username": "analyst", "role": "commissioner_analyst", "organisation": commissioner},
        {"username": "finance", "role": "finance_lead", "organisation": commissioner},
        {"username": "clearing", "role": "clearing_house", "organisation": commissioner},
        {"username": "governance", "role": "governance_member", "organisation": commissioner},
        {"username": "admin", "role": "administrator", "organisation": commissioner},
        {"username": "cluster", "role": "cluster_lead", "organisation": cluster},
        {"username": "practice", "role": "practice_user", "organisation": practice},
    ]


def demo_users(home: Path) -> list[dict[str, Any]]:
    """Create (or keep) the demo users for the warehouse's latest budget run; passwords kept in PBC_HOME, 0600."""
    from django.contrib.auth import get_user_model

    from pbc.web import data
    from pbc.web.models import Membership

    migrate()
    tree = data.tree()
    by_cluster: dict[str, list[str]] = {}
    for practice, locality in tree.locality_of.items():
        by_cluster.setdefault(locality, []).append(practice)
    store = home / "demo-users.json"
    known: dict[str, str] = json.loads(store.read_text()) if store.exists() else {}
    users = []
    model = get_user_model()
    for spec in demo_user_specs(tree.commissioner, by_cluster):
        password = known.get(spec["username"]) or secrets.token_urlsafe(9)
        known[spec["username"]] = password
        user, created = model.objects.get_or_create(username=spec["username"])
        if created or not user.check_password(password):
            user.set_password(password)  # only when it changes: a new hash would sign everyone out
        user.is_staff = spec["role"] == "administrator"
        user.save()
        Membership.objects.update_or_create(
            user=user, defaults={"role": spec["role"], "organisation": spec["organisation"]}
        )
        users.append({**spec, "password": password, "organisation_name": tree.name(spec["organisation"])})
    fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(known, handle)
    return users
