"""In a real browser (Debian's Chromium, headless, driven by Playwright): sign in, open a cluster and see its chart,
challenge a line as the practice, accept it as the clearing house, and see the practice's spend move at the next
monthly run. Screenshots are kept in test-artifacts/browser/."""

import os
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM = shutil.which("chromium")


@pytest.fixture
def browser_site(web_home, tmp_path, monkeypatch, transactional_db, live_server):
    """A writable copy of the web home served by a live server, with the demo users."""
    home = tmp_path / "home"
    shutil.copytree(web_home, home)
    monkeypatch.setenv("PBC_HOME", str(home))
    monkeypatch.setenv("PBC_WEB_AS_AT", "2007-09")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs an event loop here
    from pbc.web.setup import demo_users

    users = {u["username"]: u for u in demo_users(home)}
    return home, users, live_server.url


@pytest.fixture
def page():
    if CHROMIUM is None:
        pytest.fail("Chromium is missing: `make test` installs Debian's chromium package (scripts/ensure-chromium.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        context.close()
        browser.close()


def sign_in(page, url, user):
    page.goto(f"{url}/login/")
    page.fill("#id_username", user["username"])
    page.fill("#id_password", user["password"])
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_load_state("networkidle")


def sign_out(page):
    page.click("form.pbc-signout button")
    page.wait_for_load_state("networkidle")


def shot(page, name):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def practice_ytd(page, url, practice):
    response = page.request.get(f"{url}/api/monitoring?level=practice")
    assert response.ok
    return next(r for r in response.json()["rows"] if r["PRACTICE"] == practice)["ytd_actual"]


def test_challenge_to_accepted_moves_the_practice_spend(browser_site, page):
    home, users, url = browser_site
    from pbc.challenges import Ledger
    from pbc.costed import costed_lines
    from pbc.engines import connect
    from pbc.finance.marts import refresh
    from pbc.settings import Settings
    from pbc.warehouse import Warehouse

    practice = users["practice"]["organisation"]
    cluster = users["cluster"]["organisation"]

    # a commissioner analyst opens a cluster and sees its chart drawn
    sign_in(page, url, users["analyst"])
    assert page.url.endswith("/commissioner/5K5/")
    shot(page, "1-commissioner")
    page.click(f"a[href='/cluster/{cluster}/']")
    page.wait_for_selector("#chart-pods[data-rendered=true] svg", timeout=20_000)
    assert page.locator("table[data-table=practices] tbody tr").count() >= 1
    shot(page, "2-cluster")
    sign_out(page)

    # the practice challenges one of its priced June outpatient lines
    settings = Settings(home=home)
    con, warehouse = connect(settings), Warehouse(settings.warehouse_dir)
    lines = costed_lines(con, warehouse, "op")
    june = (
        lines.filter(
            (lines.PRACTICE == practice) & (lines.PRICE_PENCE > 0) & (lines.MONTH == lines.MONTH.truncate("M"))
        )
        .to_pyarrow()
        .to_pylist()
    )
    line = next(r for r in june if r["MONTH"].isoformat() == "2007-06-01")
    sign_in(page, url, users["practice"])
    before = practice_ytd(page, url, practice)
    page.goto(f"{url}/practice/{practice}/worklist/?month=2007-06&dataset=op")
    assert page.locator("th:has-text('NHS number')").count() == 1
    page.check(f"input[name=line][value='{line['PROCODE']}|{line['RECORD_KEY']}']")
    page.fill("#reason", "Patient not registered with us on this date")
    shot(page, "3-worklist")
    page.click("button:has-text('Challenge the ticked lines')")
    page.wait_for_load_state("networkidle")
    assert "1 line(s) challenged" in page.content()
    sign_out(page)

    # the clearing house accepts it
    sign_in(page, url, users["clearing"])
    page.goto(f"{url}/clearing-house/")
    card = page.locator(".pbc-decision").first
    card.locator("input[name=reason]").fill("Confirmed against the register")
    shot(page, "4-clearing-house")
    card.locator("button[value=accept]").click()
    page.wait_for_load_state("networkidle")
    assert "accepted" in page.content()
    sign_out(page)

    # the next monthly run leaves the line out: the practice's spend falls by exactly its price
    refresh(con, warehouse, "2007/08", accepted=Ledger(home).accepted_lines())
    sign_in(page, url, users["practice"])
    after = practice_ytd(page, url, practice)
    assert before - after == line["PRICE_PENCE"]
    page.goto(f"{url}/practice/{practice}/")
    page.wait_for_selector("#chart-pods[data-rendered=true] svg", timeout=20_000)
    shot(page, "5-practice-after")
    assert os.path.exists(ARTEFACTS / "5-practice-after.png")
