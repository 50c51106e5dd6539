"""Bench: latency of the cluster and practice pages with 20 concurrent signed-in users, on loopback.

The web app is served by `pbc serve` (gunicorn, a threaded worker per core) in its own process over the full
synthetic Brent, set up as `make demo` sets it up: ingested, quality-checked, budgeted from the shipped scheme and
monitored. The home is made once and kept in the bench folder. Each simulated user signs in with a session of its
own, then asks for the cluster page and a practice page in turn. Each page is requested once first, so that the
figures are read and the charts built before timing, as they are for every user after the first one after a
monthly run. The report gives the median and 95th percentile per page; the aim is a 95th percentile under 200 ms.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from pbc import __version__

USERS = 20
ROUNDS = 15


def prepare(workdir: Path) -> Path:
    """The Brent home the app is served from (made once; about two minutes)."""
    home = workdir / "web-home"
    marker = home / "bench-ready.json"
    if marker.exists() and json.loads(marker.read_text()).get("pbc_version") == __version__:
        return home
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "PBC_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "pbc", "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    marker.write_text(json.dumps({"pbc_version": __version__}))
    return home


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _session(base: str, username: str, password: str) -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page = opener.open(f"{base}/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if token is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token[1], "next": "/"}
    ).encode()
    opener.open(urllib.request.Request(f"{base}/login/", data=form, headers={"Referer": f"{base}/login/"}))
    return opener


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(workdir: Path) -> dict[str, Any]:
    """Serve the app, sign in USERS users, and time ROUNDS requests of each page per user."""
    home = prepare(workdir)
    env = {**os.environ, "PBC_HOME": str(home)}
    logins = json.loads(
        subprocess.run(
            [sys.executable, "-m", "pbc", "demo-users", "--json"], env=env, check=True, capture_output=True, text=True
        ).stdout
    )
    analyst = next(u for u in logins if u["role"] == "commissioner_analyst")
    cluster = next(u for u in logins if u["role"] == "cluster_lead")["organisation"]
    practice = next(u for u in logins if u["role"] == "practice_user")["organisation"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "pbc", "serve", "--port", str(port), "--as-at", "2007-09"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        pages = {"cluster": f"{base}/cluster/{cluster}/", "practice": f"{base}/practice/{practice}/"}
        sessions = [_session(base, analyst["username"], analyst["password"]) for _ in range(USERS)]
        for url in pages.values():
            sessions[0].open(url).read()  # the first reader after a monthly run builds the figures
        timings: dict[str, list[float]] = {name: [] for name in pages}
        lock = threading.Lock()
        failures: list[str] = []

        def user(opener: urllib.request.OpenerDirector) -> None:
            for _ in range(ROUNDS):
                for name, url in pages.items():
                    started = time.perf_counter()
                    try:
                        with opener.open(url, timeout=30) as response:
                            response.read()
                            ok = response.status == 200
                    except OSError as error:
                        ok = False
                        failures.append(f"{name}: {error}")
                    elapsed = (time.perf_counter() - started) * 1000
                    if ok:
                        with lock:
                            timings[name].append(elapsed)

        threads = [threading.Thread(target=user, args=(s,)) for s in sessions]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    if failures:
        raise RuntimeError(f"web bench: {len(failures)} requests failed, e.g. {failures[0]}")
    requests = sum(len(v) for v in timings.values())
    return {
        "job": "web_pages",
        "description": f"cluster and practice pages, {USERS} concurrent signed-in users on loopback (pbc serve)",
        "users": USERS,
        "requests": requests,
        "requests_per_second": round(requests / wall, 1),
        "pages": {
            name: {
                "median_ms": round(statistics.median(values), 1),
                "p95_ms": round(_percentile(values, 0.95), 1),
                "max_ms": round(max(values), 1),
            }
            for name, values in timings.items()
        },
        "aim": "p95 under 200 ms",
    }
