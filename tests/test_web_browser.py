"""Real Chromium (Debian ``chromium`` through Playwright) walks the web app at ``/`` as a new
viewer, at 1280 px and 390 px: sign up -> onboarding -> home rows -> open a title -> rate ->
home refreshes -> search with a typo -> watchlist -> sign out. Every request to anything but
the server is aborted, so the pages must work offline (posters fall back to placeholders).
Screenshots go to ``reports/figures/ui-*.png``. A second browser context, signed in as
another viewer, cannot change the first viewer's ratings.
"""

from __future__ import annotations

import re

import httpx
import pandas as pd
import pytest

from src.config import PATHS, SESSION_COOKIE
from tests.harness.browser import CHROMIUM_ARGS, chromium_path
from tests.harness.launcher import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
WAIT_MS = 20_000
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(scope="module")
def web_server(ws):
    """The API + web app without Gradio (the pages do not need it; starts in seconds)."""
    with ServerProcess(ws, ui=False) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _context(browser, base_url: str, size: tuple[int, int]):
    """A fresh browser profile at ``size`` that can reach nothing but the server."""
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]})
    ctx.route(re.compile(r"^(?!" + re.escape(base_url) + r").*"), lambda route: route.abort())
    page = ctx.new_page()
    page.set_default_timeout(WAIT_MS)
    return ctx, page


def _shot(page, name: str) -> None:
    out = PATHS.figures / f"ui-{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out), full_page=False)
    assert out.stat().st_size > 5_000


def _row_titles(page) -> list[str]:
    return [t.strip() for t in page.locator("section.row h2").all_inner_texts()]


@pytest.mark.parametrize("device", list(WIDTHS))
def test_viewer_journey(browser, web_server, ws, device):
    base = web_server.base_url
    ctx, page = _context(browser, base, WIDTHS[device])
    try:
        page.goto(base + "/")
        page.keyboard.press("Tab")  # keyboard users land on the skip link first
        assert page.evaluate("document.activeElement.className") == "skip"
        # Sign up -> onboarding.
        page.locator("#nav-signup").click()
        page.locator("#username").fill(f"walker_{device}")
        page.locator("#password").fill("password-123")
        page.locator("#auth-submit").click()
        page.wait_for_url("**/onboarding")
        page.get_by_label("Horror", exact=True).check()
        page.locator("input[name=service]").first.check()
        first_select = page.locator("select[id^=rate-]").first
        first_select.select_option("5.0")
        _shot(page, f"onboarding-{device}")
        page.locator("#onboarding-done").click()
        page.wait_for_url(base + "/")
        rows = _row_titles(page)
        assert rows[0] == "For you" and "Popular in Horror" in rows, rows
        assert any(r.startswith("Because you liked") for r in rows), rows
        # Posters cannot load offline: the placeholder (title + year) shows instead.
        page.wait_for_function("document.querySelectorAll('.poster img.failed').length > 0")
        _shot(page, f"home-{device}")
        # Open a title from "For you" and rate it 5 stars; the suggestions below refresh.
        card = page.locator("section.row").first.locator("a.card-link").first
        title = card.locator(".card-title").inner_text().strip()
        card.click()
        page.wait_for_url("**/title/*")
        assert page.locator("h1").inner_text().strip() == title
        page.locator("#rows section.row").first.wait_for()  # lazy rows loaded
        page.locator("form.rate select").select_option("5.0")
        page.locator("form.rate button").click()
        page.locator("form.rate .status").get_by_text("Saved 5.0").wait_for()
        page.locator("#rows").get_by_text(f"Because you liked {title}").wait_for()
        _shot(page, f"title-{device}")
        # Home has refreshed from the new rating.
        page.locator("a.brand").click()
        page.wait_for_url(base + "/")
        assert f"Because you liked {title}" in _row_titles(page)
        # Search with a typo (header form).
        page.locator("#q").fill("hauntng")
        page.locator("#q").press("Enter")
        page.wait_for_url("**/search?q=hauntng*")
        found = page.locator(".card-title").all_inner_texts()
        assert len(found) > 8 and any("Haunting" in t for t in found), found[:5]
        _shot(page, f"search-{device}")
        # Watchlist from a result's title page, then the profile shows it.
        page.locator(".card-link").first.click()
        page.locator("#watchlist-toggle").click()
        page.locator("#watchlist-toggle").get_by_text("Remove from watchlist").wait_for()
        page.locator("#nav-profile").click()
        page.locator("#my-watchlist li").first.wait_for()
        assert page.locator("#my-ratings li").count() >= 2
        _shot(page, f"profile-{device}")
        # Sign out.
        page.locator("#sign-out").click()
        page.locator("#nav-login").wait_for()
        assert not [c for c in ctx.cookies() if c["name"] == SESSION_COOKIE]
    finally:
        ctx.close()


def test_another_context_cannot_change_my_ratings(browser, web_server, ws):
    base = web_server.base_url
    mid = int(pd.read_parquet(ws.features, columns=["id"])["id"].iloc[5])
    me_ctx, me = _context(browser, base, WIDTHS["desktop"])
    them_ctx, them = _context(browser, base, WIDTHS["desktop"])
    try:
        for page, name in ((me, "owner_ctx"), (them, "intruder_ctx")):
            page.goto(base + "/signup")
            page.locator("#username").fill(name)
            page.locator("#password").fill("password-123")
            page.locator("#auth-submit").click()
            page.wait_for_url("**/onboarding")
        me.goto(f"{base}/title/{mid}")
        me.locator("form.rate select").select_option("4.0")
        me.locator("form.rate button").click()
        me.locator("form.rate .status").get_by_text("Saved 4.0").wait_for()
        cookie = next(c["value"] for c in me_ctx.cookies() if c["name"] == SESSION_COOKIE)
        with httpx.Client(base_url=base, cookies={SESSION_COOKIE: cookie}) as c:
            uid = c.get("/auth/me").json()["user_id"]
        # The intruder's page, with its own cookie and CSRF token, aims at the owner's id.
        them.goto(f"{base}/title/{mid}")
        codes = them.evaluate(
            """async ([uid, mid]) => {
                 const csrf = document.querySelector('input[name=csrf_token]').value;
                 const h = {'Content-Type': 'application/json', 'X-CSRF-Token': csrf};
                 const post = await fetch(`/users/${uid}/ratings`, {method: 'POST', headers: h,
                                          body: JSON.stringify({movie_id: mid, rating: 0.5})});
                 const del = await fetch(`/users/${uid}/ratings/${mid}`, {method: 'DELETE', headers: h});
                 return [post.status, del.status];
               }""", [uid, mid])
        assert codes == [403, 403]
        with httpx.Client(base_url=base, cookies={SESSION_COOKIE: cookie}) as c:
            assert [(r["movie_id"], r["rating"]) for r in c.get(f"/users/{uid}/ratings").json()] == [(mid, 4.0)]
    finally:
        me_ctx.close()
        them_ctx.close()
