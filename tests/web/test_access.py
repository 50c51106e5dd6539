"""Who gets through: every page and API endpoint as every role, anonymous users, scoping and CSRF."""

import html
import json
import re

import pytest
from django.test import Client

from pbc.nhs_number import is_valid
from pbc.web import data
from pbc.web.models import AuditEvent
from pbc.web.roles import ROLES

COMMISSIONER_ROLES = [name for name, role in ROLES.items() if role.level == "commissioner"]


def client_for(username):
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


@pytest.fixture
def places(site):
    """Own and other organisations for the demo users: clusters, practices."""
    tree = data.tree()
    mine = site["cluster"]["organisation"]
    other = next(c for c in tree.localities() if c != mine)
    own_practice = site["practice"]["organisation"]
    same_cluster = next(p for p in tree.practices(mine) if p != own_practice)
    return {
        "commissioner": tree.commissioner,
        "cluster": mine,
        "other_cluster": other,
        "practice": own_practice,
        "same_cluster_practice": same_cluster,
        "other_practice": tree.practices(other)[0],
    }


def pages(p):
    """(name, url, who may see it) for every page."""
    commission = set(COMMISSIONER_ROLES)
    return [
        ("commissioner", f"/commissioner/{p['commissioner']}/", commission),
        ("own cluster", f"/cluster/{p['cluster']}/", commission | {"cluster_lead"}),
        ("other cluster", f"/cluster/{p['other_cluster']}/", commission),
        ("own practice", f"/practice/{p['practice']}/", commission | {"cluster_lead", "practice_user"}),
        ("neighbour practice", f"/practice/{p['same_cluster_practice']}/", commission | {"cluster_lead"}),
        ("other practice", f"/practice/{p['other_practice']}/", commission),
        (
            "own worklist",
            f"/practice/{p['practice']}/worklist/?month=2007-06&dataset=op",
            commission | {"cluster_lead", "practice_user"},
        ),
        ("other worklist", f"/practice/{p['other_practice']}/worklist/?month=2007-06&dataset=op", commission),
        ("clearing house", "/clearing-house/", {"clearing_house", "administrator"}),
        ("contracts", "/contracts/", {"commissioner_analyst", "finance_lead", "administrator"}),
        ("audit log", "/audit/", {"administrator"}),
        ("upload", "/upload/", {"commissioner_analyst", "administrator"}),
        ("budgets", "/budgets/", {"commissioner_analyst", "finance_lead", "administrator"}),
        ("incentives", "/incentives/", {"finance_lead", "governance_member", "administrator"}),
        ("unknown practice", "/practice/X99999/", set()),
    ]


def test_every_page_as_every_role(site, places):
    for username, user in site.items():
        client = client_for(username)
        for name, url, allowed in pages(places):
            response = client.get(url)
            expected = 200 if user["role"] in allowed else 403
            assert response.status_code == expected, f"{username} ({user['role']}) on {name}: {response.status_code}"
        home = client.get("/")
        assert home.status_code == 302


def test_nothing_is_served_without_signing_in(site, places):
    client = Client()
    for name, url, _ in pages(places):
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith("/login/")
    for url in ("/api/monitoring", "/api/spend", "/api/trends?code=5K5", "/api/openapi.json"):
        response = client.get(url)
        assert response.status_code == 401, url
    assert client.get("/login/").status_code == 200
    assert client.get("/health").status_code == 200


def test_the_api_gives_each_user_only_their_rows(site, places):
    practice = client_for("practice")
    rows = practice.get("/api/monitoring?level=practice").json()["rows"]
    assert {r["PRACTICE"] for r in rows} == {places["practice"]}
    spend = practice.get("/api/spend?by=PRACTICE,SPECIALTY").json()["rows"]
    assert {r["PRACTICE"] for r in spend} == {places["practice"]}
    assert practice.get(f"/api/trends?code={places['other_practice']}").status_code == 403
    assert practice.get(f"/api/trends?code={places['cluster']}").status_code == 403
    lead = client_for("cluster")
    clusters = lead.get("/api/monitoring?level=cluster").json()["rows"]
    assert {r["LOCALITY"] for r in clusters} == {places["cluster"]}
    everyone = client_for("analyst").get("/api/monitoring?level=cluster").json()["rows"]
    assert len(everyone) == len(data.tree().localities())
    # practices add up to their cluster, to the penny
    by_practice = client_for("analyst").get("/api/monitoring?level=practice").json()["rows"]
    mine = [r for r in by_practice if r["LOCALITY"] == places["cluster"]]
    assert (
        sum(r["ytd_actual"] for r in mine)
        == next(r for r in everyone if r["LOCALITY"] == places["cluster"])["ytd_actual"]
    )
    assert client_for("analyst").get("/api/spend?by=NHS_NUMBER").status_code == 400
    csv = client_for("analyst").get("/api/monitoring?level=cluster&format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    spec = client_for("analyst").get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/api/monitoring", "/api/spend", "/api/trends"}


def test_csrf_is_required_on_every_form(site, places):
    from django.contrib.auth import get_user_model

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(get_user_model().objects.get(username="practice"))
    url = f"/practice/{places['practice']}/worklist/?month=2007-06&dataset=op"
    assert strict.post(url, {"line": "X|Y", "reason": "test"}).status_code == 403
    clearing = Client(enforce_csrf_checks=True)
    clearing.force_login(get_user_model().objects.get(username="clearing"))
    assert clearing.post("/clearing-house/", {"challenge": "x", "decision": "accept", "reason": "r"}).status_code == 403
    assert Client(enforce_csrf_checks=True).post("/login/", {"username": "a", "password": "b"}).status_code == 403
    assert strict.post("/logout/").status_code == 403
    page = strict.get(url).content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 2  # the challenge form and sign out


def test_only_the_practice_sees_nhs_numbers_and_each_view_is_logged(site, places):
    url = f"/practice/{places['practice']}/worklist/?month=2007-06&dataset=op"
    own = client_for("practice").get(url).content.decode()
    assert "NHS number" in own
    assert AuditEvent.objects.filter(username="practice", action="view_identifiable").count() == 1
    lead = client_for("cluster").get(url).content.decode()
    assert "NHS number" not in lead
    # the practice's page has the record keys and, beside them, its patients' (valid) NHS numbers
    shown = set(re.findall(r">(\d{10})<", own)) - set(re.findall(r">(\d{10})<", lead))
    assert shown
    assert all(is_valid(number) for number in shown)


def test_a_practice_cannot_challenge_another_practices_line(site, places):
    client = client_for("practice")
    url = f"/practice/{places['practice']}/worklist/?month=2007-06&dataset=op"
    forged = client.post(url, {"line": "RV8|NOT-OURS", "reason": "not ours"})
    assert forged.status_code == 403
    lead = client_for("cluster")
    assert lead.post(url, {"line": "RV8|X", "reason": "r"}).status_code == 403  # cluster leads do not challenge


def test_the_cluster_page_compares_its_practices_on_a_funnel_plot(site, places):
    page = client_for("analyst").get(f"/cluster/{places['cluster']}/").content.decode()
    assert 'id="chart-funnel"' in page
    spec = json.loads(html.unescape(re.search(r'id="chart-funnel" data-spec="([^"]+)"', page)[1]))
    assert spec["layer"]  # the limits and the commissioner's value, then the practices
    assert spec["datasets"]  # the practices' points and the curve travel with the spec


def test_every_table_downloads_as_csv_and_xlsx(site, places):
    client = client_for("analyst")
    url = f"/cluster/{places['cluster']}/"
    csv = client.get(url + "?download=csv&table=practices")
    assert csv.status_code == 200
    assert csv.content.decode().splitlines()[0].startswith("Practice,Name,YTD budget")
    xlsx = client.get(url + "?download=xlsx&table=practices")
    assert xlsx.content[:2] == b"PK"
    assert client.get(url + "?download=csv&table=nothing").status_code == 404
    assert AuditEvent.objects.filter(action="download").count() == 2
    assert json.loads(json.dumps(AuditEvent.objects.first().detail))["format"] == "xlsx"


def test_an_upload_is_ingested_in_the_background_with_progress(web_home, tmp_path, monkeypatch, db):
    import shutil
    import time

    from django.core.files.uploadedfile import SimpleUploadedFile

    from pbc.web.setup import demo_users

    home = tmp_path / "home"
    shutil.copytree(web_home, home)
    monkeypatch.setenv("PBC_HOME", str(home))
    demo_users(home)
    client = client_for("analyst")
    bad = SimpleUploadedFile("apc_RV8_2007-04.csv", b"PROCODE,PROVSPNO\nRV8,1\n", content_type="text/csv")
    response = client.post("/upload/", {"extracts": [bad]})
    assert response.status_code == 302
    status_url = response["Location"]
    for _ in range(100):
        page = client.get(status_url).content.decode()
        if "Running" not in page:
            break
        time.sleep(0.1)
    assert "Finished" in page or "Failed" in page
    assert "1 of 1 file(s) done" in page or "Failed" in page
    assert "apc_RV8_2007-04.csv" in page
    assert client.get("/upload/0123/").status_code == 404
    assert client_for("practice").post("/upload/", {"extracts": [bad]}).status_code == 403


def test_pbc_serve_starts_and_answers(web_home, tmp_path):
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PBC_HOME": str(web_home), "PBC_DATABASE_URL": os.environ.get("PBC_DATABASE_URL", "")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "pbc", "serve", "--port", str(port), "--workers", "1", "--as-at", "2007-09"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                    assert response.read() == b"ok"
                    break
            except OSError:
                time.sleep(0.25)
        else:
            raise AssertionError("pbc serve did not answer")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5) as response:
            page = response.read().decode()
        assert "Sign in" in page
        assert "nhsuk-frontend.min.css" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/vendor/nhsuk/nhsuk-frontend.min.css") as css:
            assert css.status == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
