"""Serving the web application: gunicorn, one worker process per core, figures warmed before the workers fork.

A GIL-bound single process cannot use the second core, and a cluster board opens the same pages at once, so pbc
serves with gunicorn's threaded workers. The app is loaded and the figures the pages read (marts, tree, charts)
are built once in the master before forking, so every worker starts warm and shares them copy-on-write.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication


class PbcServer(BaseApplication):  # type: ignore[misc]
    """gunicorn running pbc's WSGI application with settings given in code (no config file)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply the options given."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Load the app (in the master: preload) and warm the figures the pages read."""
        from pbc.web.wsgi import application

        warm()
        return application


def warm() -> None:
    """Read the figures and build the charts every commissioner, cluster and practice page shows."""
    from pbc.errors import NotLoadedError
    from pbc.web import data, views

    try:
        tree = data.tree()
    except NotLoadedError:
        return  # nothing to show yet: the pages will say what to run
    keep = lambda row: True  # noqa: E731 - warming only: nothing is shown
    for by in (["LOCALITY"], ["POD"], ["PRACTICE"], ["LOCALITY", "PRACTICE"], ["COMMISSIONER"]):
        data.monitoring(tree.year, by, keep)
    for by in (["SPECIALTY"], ["PROCODE"]):
        data.spend(tree.year, by, keep)
    views.warm_indicators(tree)


def serve(host: str, port: int, threads: int, workers: int | None = None) -> None:
    """Serve until stopped."""
    PbcServer(
        {
            "bind": f"{host}:{port}",
            "workers": workers or os.cpu_count() or 2,
            "worker_class": "gthread",
            "threads": threads,
            "preload_app": True,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "timeout": 120,
            "keepalive": 0,  # a kept-alive connection sticks to one worker; closing spreads the load
        }
    ).run()
