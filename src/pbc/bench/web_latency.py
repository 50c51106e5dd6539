"""Bench: latency of the cluster and practice pages with 20 concurrent signed-in users, on loopback.

The web app is served by `pbc serve` (gunicorn, a threaded worker per core) in its own process over the full
synthetic Brent, set up as `make demo` sets it up: ingested, quality-checked, budgeted from the shipped scheme and
monitored. The home is made once and kept in the bench folder. Each simulated user signs in with a session of its
own; wrk (a C load generator, so the clients do not compete with the server for an interpreter) then runs one
thread and connection per user against the cluster page, then the practice page. Each page is requested once
first, so that the figures are read and the charts built before timing, as they are for every user after the
first one after a monthly run. The report gives the median and 95th percentile per page; the aim is a 95th
percentile under 200 ms.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from pbc import __version__

USERS = 20
SECONDS = 15  # of load per page


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


WRK_SCRIPT = """
-- One signed-in session per wrk thread (a thread is a user), read from the file pbc's bench wrote.
local cookies = {}
for line in io.lines(os.getenv("PBC_WRK_COOKIES")) do table.insert(cookies, line) end
local next_user = 1
function setup(thread)
  thread:set("cookie", cookies[next_user])
  next_user = next_user + 1
end
function request()
  return wrk.format("GET", nil, {Cookie = cookie})
end
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "errors": %d, "seconds": %f, "median_ms": %.1f, "p95_ms": %.1f, '
    .. '"max_ms": %.1f}\\n', summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.timeout, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency.max / 1000))
end
"""


def _cookie(opener: urllib.request.OpenerDirector) -> str:
    jar = next(h.cookiejar for h in opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor))
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def _load(url: str, cookies: Path, script: Path, seconds: int) -> dict[str, Any]:
    """Wrk with USERS threads of one connection each (a user each), for `seconds`; its summary as a dict."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("the web bench needs wrk: `make bench` installs it (scripts/ensure-wrk.sh)")
    out = subprocess.run(
        [wrk, "-t", str(USERS), "-c", str(USERS), "-d", f"{seconds}s", "--timeout", "30s", "-s", str(script), url],
        env={**os.environ, "PBC_WRK_COOKIES": str(cookies)},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


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
        cookies, script = workdir / "wrk-sessions.txt", workdir / "wrk-users.lua"
        cookies.write_text("\n".join(_cookie(s) for s in sessions) + "\n")
        script.write_text(WRK_SCRIPT)
        measured = {name: _load(url, cookies, script, SECONDS) for name, url in pages.items()}
    finally:
        server.terminate()
        server.wait(timeout=30)
    errors = {name: m["errors"] for name, m in measured.items() if m["errors"]}
    if errors:
        raise RuntimeError(f"web bench: requests failed: {errors}")
    return {
        "job": "web_pages",
        "description": f"cluster and practice pages, {USERS} concurrent signed-in users on loopback (pbc serve, wrk)",
        "users": USERS,
        "seconds_per_page": SECONDS,
        "pages": {
            name: {
                "requests": m["requests"],
                "requests_per_second": round(m["requests"] / m["seconds"], 1),
                "median_ms": m["median_ms"],
                "p95_ms": m["p95_ms"],
                "max_ms": m["max_ms"],
            }
            for name, m in measured.items()
        },
        "aim": "p95 under 200 ms",
    }
