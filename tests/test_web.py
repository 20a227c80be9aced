"""The web app at ``/`` in-process (FastAPI TestClient: a real server adds nothing to HTML
checks) over a private copy of the trained synthetic workspace with real SQLite stores.

Covers: sign-up -> onboarding whose genres shape "For you", "Because you liked" only from
ratings >= 4, typo-tolerant search with its empty state, profile edit/delete, offline assets,
no model ids or raw scores on screen, and one viewer unable to touch another's ratings.
"""

from __future__ import annotations

import contextlib
import re
from html import escape, unescape
from typing import Iterator

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from src.config import POSTER_BASE_URL
from src.serving.app import create_app

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def app(ws):
    return create_app(ws, with_ui=False)


@pytest.fixture(scope="module")
def catalogue(ws) -> pd.DataFrame:
    return pd.read_parquet(ws.features).set_index("id")


@contextlib.contextmanager
def _browser(app) -> Iterator[TestClient]:
    """A client with its own cookie jar, like a browser profile. Not entered as TestClient's
    own context manager: that would run the app's shutdown and close the stores."""
    client = TestClient(app, base_url="http://testserver")
    try:
        yield client
    finally:
        client.close()


def _signup(c: TestClient, name: str) -> str:
    """Sign up through the form. Out: the page's CSRF token (the client keeps the cookie)."""
    res = c.post("/signup", data={"username": name, "password": "password-123"})
    assert res.status_code == 200 and res.url.path == "/onboarding", res.text[:300]
    return re.search(r'name="csrf_token" value="([^"]+)"', res.text).group(1)


def _rows(html: str) -> list[str]:
    return [unescape(t) for t in re.findall(r'<h2 id="row-\d+">([^<]+)</h2>', html)]


def _row_ids(html: str, title: str) -> list[int]:
    """Card title ids of the row headed ``title``."""
    part = html.split(f">{escape(title)}</h2>", 1)[1].split("</section>", 1)[0]
    return [int(m) for m in re.findall(r'href="/title/(\d+)" class="card-link"', part)]


def test_visitor_home_is_offline_and_plain(app, catalogue):
    with _browser(app) as c:
        html = c.get("/").text
        assert "Popular right now" in _rows(html)
        # Every stylesheet and script is served by this app; only posters point outside.
        assert re.findall(r'<(?:link|script)[^>]+(?:href|src)="https?:', html) == []
        assert c.get("/static/app/app.css").status_code == 200 and c.get("/static/app/app.js").status_code == 200
        # Cards: poster URL from poster_path, placeholder with title and year beneath it.
        mid = int(re.search(r'href="/title/(\d+)" class="card-link"', html).group(1))
        row = catalogue.loc[mid]
        assert f'src="{POSTER_BASE_URL}{row["poster_path"]}"' in html
        assert f'<div class="placeholder"><span>{escape(row["title"])}</span><span>{int(row["year"])}</span>' in html
        health = c.get("/health").json()
        assert health["model_version"] not in html and "score" not in html.lower()


def test_onboarding_genres_shape_for_you(app, catalogue):
    genre = "Horror"
    with _browser(app) as c:
        csrf = _signup(c, "onboard_h")
        res = c.post("/onboarding", data={"csrf_token": csrf, "genre": [genre], "service": ["Netflix"]})
        assert res.status_code == 200 and res.url.path == "/"
        rows = _rows(res.text)
        assert rows[0] == "For you" and f"Popular in {genre}" in rows
        ids = _row_ids(res.text, "For you")
        assert ids and all(genre in str(catalogue.at[i, "genres"]) for i in ids)
        assert c.get("/auth/me").json()["services"] == ["Netflix"]


def test_because_you_liked_only_from_4_stars(app, catalogue):
    liked, meh = (int(i) for i in catalogue.index[10:12])
    with _browser(app) as c:
        csrf = _signup(c, "liker")
        c.post("/onboarding", data={"csrf_token": csrf, f"rate-{meh}": "3.0"})
        assert not [r for r in _rows(c.get("/").text) if r.startswith("Because you liked")]
        res = c.post(f"/title/{liked}/rate", data={"csrf_token": csrf, "rating": "4.5"},
                     headers={"Accept": "application/json"})
        assert res.status_code == 200 and res.json()["rating"] == 4.5
        html = c.get("/partials/rows").text  # what app.js swaps in after a rating
        assert f"Because you liked {catalogue.at[liked, 'title']}" in _rows(html)
        assert f"Because you liked {catalogue.at[meh, 'title']}" not in _rows(html)
        assert liked not in _row_ids(html, "For you")  # rated titles are not suggested


def test_search_tolerates_typos_and_has_an_empty_state(app, catalogue):
    with _browser(app) as c:
        word = next(w for t in catalogue["title"] for w in str(t).split() if len(w) >= 7 and w.isalpha())
        typo = word[:3] + word[4:]  # drop one letter
        html = c.get("/search", params={"q": typo.lower()}).text
        titles = [unescape(t) for t in re.findall(r'class="card-title">([^<]+)', html)]
        assert any(word.casefold() in t.casefold() for t in titles), (typo, titles[:5])
        common = c.get("/search", params={"q": "the"}).text
        assert len(re.findall(r'class="card-title">', common)) > 8
        assert re.search(r'<span class="meta">\d{4} · (Movie|Series)</span>', common)
        assert "Next" in common  # more pages
        empty = c.get("/search", params={"q": "qqxqzzv"})
        assert empty.status_code == 200 and 'id="no-results"' in empty.text
        assert c.get("/search", params={"q": "x" * 300}).status_code == 422


def test_profile_edit_delete_and_watchlist(app, catalogue):
    mid = int(catalogue.index[20])
    with _browser(app) as c:
        csrf = _signup(c, "profiler")
        c.post(f"/title/{mid}/rate", data={"csrf_token": csrf, "rating": "2.0"})
        c.post(f"/title/{mid}/rate", data={"csrf_token": csrf, "rating": "3.5", "next": "/profile"})
        c.post(f"/title/{mid}/watchlist", data={"csrf_token": csrf, "action": "add"})
        page = c.get("/profile").text
        assert escape(catalogue.at[mid, "title"]) in page and 'value="3.5" selected' in page
        assert 'id="my-watchlist"' in page
        title_page = c.get(f"/title/{mid}").text
        assert "Remove from watchlist" in title_page and "Where to watch" in title_page
        c.post(f"/title/{mid}/unrate", data={"csrf_token": csrf})
        c.post(f"/title/{mid}/watchlist", data={"csrf_token": csrf, "action": "remove"})
        page = c.get("/profile").text
        assert "No ratings yet" in page and "Nothing saved yet" in page
        # Open redirects through "next" are refused.
        res = c.post(f"/title/{mid}/rate", data={"csrf_token": csrf, "rating": "4", "next": "//evil.example/"},
                     follow_redirects=False)
        assert res.headers["location"] == f"/title/{mid}"


def test_one_viewer_cannot_change_another(app, catalogue):
    mid = int(catalogue.index[30])
    with _browser(app) as first, _browser(app) as second:
        csrf1 = _signup(first, "first_v")
        first.post(f"/title/{mid}/rate", data={"csrf_token": csrf1, "rating": "5.0"})
        uid1 = first.get("/auth/me").json()["user_id"]
        csrf2 = _signup(second, "second_v")
        # The second viewer's forms only ever touch their own data ...
        second.post(f"/title/{mid}/rate", data={"csrf_token": csrf2, "rating": "1.0"})
        second.post(f"/title/{mid}/unrate", data={"csrf_token": csrf2})
        # ... the first viewer's CSRF token does not work with the second's cookie ...
        assert second.post(f"/title/{mid}/rate", data={"csrf_token": csrf1, "rating": "1.0"}).status_code == 403
        # ... and the API refuses their cookie on the first viewer's id.
        assert second.post(f"/users/{uid1}/ratings", json={"movie_id": mid, "rating": 1.0},
                           headers={"X-CSRF-Token": csrf2}).status_code == 403
        assert second.delete(f"/users/{uid1}/ratings/{mid}", headers={"X-CSRF-Token": csrf2}).status_code == 403
        mine = first.get(f"/users/{uid1}/ratings").json()
        assert [(r["movie_id"], r["rating"]) for r in mine] == [(mid, 5.0)]


def test_signed_out_pages_and_unknown_title(app):
    with _browser(app) as c:
        assert c.get("/profile", follow_redirects=False).headers["location"] == "/login"
        assert c.get("/onboarding", follow_redirects=False).status_code == 303
        assert c.post("/title/1/rate", data={"rating": "4"}, follow_redirects=False).status_code == 303
        assert c.get("/title/999999999").status_code == 404
        page = c.get("/title/999999999", headers={"Accept": "text/html"})  # a browser: a page
        assert page.status_code == 404 and 'id="error-message"' in page.text and "999999999" in page.text
        assert c.post("/title/1/rate", data={"rating": "4"}, headers={"Accept": "text/html"},
                      follow_redirects=False).headers["location"] == "/login"
        bad = c.post("/signup", data={"username": "x", "password": "password-123"})
        assert bad.status_code == 400 and 'id="auth-error"' in bad.text


@pytest.fixture(scope="module")
def platform_app(ws, tmp_path_factory):
    """The app over a workspace copy whose features carry a ``platforms`` column (as issue
    10's availability snapshots add): every other title on Netflix, the rest on Hulu."""
    from src.config import LIST_SEP
    from tests.harness.launcher import copy_workspace

    copy = copy_workspace(ws, tmp_path_factory.mktemp("platforms"))
    feats = pd.read_parquet(copy.features)
    feats["platforms"] = ["Netflix" if k % 2 == 0 else LIST_SEP.join(["Hulu", "Max"])
                          for k in range(len(feats))]
    feats.to_parquet(copy.features, index=False)
    return create_app(copy, with_ui=False), feats.set_index("id")


def test_new_on_my_services_and_where_to_watch(platform_app):
    app, feats = platform_app
    with _browser(app) as c:
        page = c.post("/signup", data={"username": "svc_viewer", "password": "password-123"})
        assert {"Netflix", "Hulu", "Max"} <= set(re.findall(r'name="service" value="([^"]+)"', page.text))
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        home = c.post("/onboarding", data={"csrf_token": csrf, "service": ["Netflix"]}).text
        assert "New on Netflix" in _rows(home)
        ids = _row_ids(home, "New on Netflix")
        assert ids and all(feats.at[i, "platforms"] == "Netflix" for i in ids)
        years = [feats.at[i, "year"] for i in ids]
        assert years == sorted(years, reverse=True)  # newest first
        assert '<span class="badge">Netflix</span>' in home
        hulu = int(feats.index[1])
        title = c.get(f"/title/{hulu}").text
        where = title.split("Where to watch", 1)[1].split("</p>", 1)[0]
        assert "Hulu" in where and "Max" in where
