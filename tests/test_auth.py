"""Accounts and authorisation against a real server on 127.0.0.1 (API only, no Gradio).

The 401/403 matrix covers every write and personal-read endpoint under ``/users/{id}/…``:
no credentials -> 401, a bad token -> 401, another viewer's token -> 403, a training user's
id -> 403, the owner -> 2xx. Also: the sign-up/login contract, CSRF on cookie sessions,
the admin guard (no token, wrong token, cross-site form), and rate limiting.
"""

from __future__ import annotations

import re
import sqlite3

import httpx
import pandas as pd
import pytest

from src.config import SESSION_COOKIE, USER_COL, VIEWER_ID_BASE
from src.data.feedback_store import RatingStore
from tests.harness.accounts import admin_headers, signup
from tests.harness.launcher import ServerProcess

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def api(ws):
    """A real API server (no UI: starts in seconds) and a client for it."""
    with ServerProcess(ws, ui=False) as srv, httpx.Client(base_url=srv.base_url, timeout=30.0) as c:
        yield c


@pytest.fixture(scope="module")
def mids(ws) -> list[int]:
    return [int(i) for i in pd.read_parquet(ws.features, columns=["id"])["id"].head(5)]


@pytest.fixture(scope="module")
def training_user(ws) -> int:
    return int(pd.read_csv(ws.ratings)[USER_COL].iloc[0])


def _endpoints(uid: int, mid: int) -> list[tuple[str, str, dict | None]]:
    """Every route under /users/{uid}/ that needs the owner, in an order where each succeeds
    for the owner (the deletes follow the writes they undo)."""
    return [
        ("POST", f"/users/{uid}/ratings", {"movie_id": mid, "rating": 4.5}),
        ("GET", f"/users/{uid}/ratings", None),
        ("GET", f"/users/{uid}/recommendations", None),
        ("DELETE", f"/users/{uid}/ratings/{mid}", None),
        ("POST", f"/users/{uid}/watchlist", {"movie_id": mid}),
        ("GET", f"/users/{uid}/watchlist", None),
        ("DELETE", f"/users/{uid}/watchlist/{mid}", None),
        ("PUT", f"/users/{uid}/services", {"names": ["Netflix"]}),
        ("GET", f"/users/{uid}/services", None),
        ("PUT", f"/users/{uid}/genres", {"names": []}),
        ("GET", f"/users/{uid}/genres", None),
    ]


def test_signup_login_contract(api):
    res = api.post("/auth/signup", json={"username": "contract_a", "password": "password-123"})
    assert res.status_code == 201, res.text
    body = res.json()
    assert set(body) == {"user_id", "token"} and body["user_id"] >= VIEWER_ID_BASE
    again = api.post("/auth/signup", json={"username": "CONTRACT_A", "password": "password-123"})
    assert again.status_code == 409 and "taken" in again.json()["detail"]
    login = api.post("/auth/login", json={"username": "contract_a", "password": "password-123"})
    assert login.status_code == 200 and login.json()["user_id"] == body["user_id"]
    assert login.json()["token"] != body["token"]  # a new session per login
    wrong = api.post("/auth/login", json={"username": "contract_a", "password": "password-124"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert api.post("/auth/login", json={"username": "nobody_here", "password": "password-123"}).status_code == 401
    for bad in ({"username": "ab", "password": "password-123"}, {"username": "ok_name", "password": "short"},
                {"username": "bad name!", "password": "password-123"}, {"username": "x"},
                {"username": "ok_name", "password": "password-123", "admin": True}):
        res = api.post("/auth/signup", json=bad)
        assert res.status_code == 422, (bad, res.text)
    me = api.get("/auth/me", headers={"Authorization": f"Bearer {login.json()['token']}"}).json()
    assert me["username"] == "contract_a" and me["user_id"] == body["user_id"]
    # Sign-out ends that token at once.
    hdr = {"Authorization": f"Bearer {login.json()['token']}"}
    assert api.post("/auth/logout", headers=hdr).status_code == 204
    assert api.get("/auth/me", headers=hdr).status_code == 401


def test_401_403_matrix_over_every_owner_endpoint(api, mids, training_user):
    owner, own_h = signup(api, "owner")
    _other, other_h = signup(api, "other")
    bad_h = {"Authorization": "Bearer " + "x" * 43}
    for method, url, body in _endpoints(owner, mids[0]):
        assert api.request(method, url, json=body).status_code == 401, (method, url)
        assert api.request(method, url, json=body, headers=bad_h).status_code == 401, (method, url)
        assert api.request(method, url, json=body, headers=other_h).status_code == 403, (method, url)
        res = api.request(method, url, json=body, headers=own_h)
        assert 200 <= res.status_code < 300, (method, url, res.status_code, res.text)
    # A viewer cannot write as a MovieLens/training user either.
    for method, url, body in _endpoints(training_user, mids[0]):
        if url.endswith("/recommendations"):
            continue  # training users' recommendations are public reads
        assert api.request(method, url, json=body, headers=own_h).status_code == 403, (method, url)
    # Public reads stay open.
    for url in ("/health", "/genres", "/movies?query=a", f"/movies/{mids[0]}",
                f"/movies/{mids[0]}/similar", f"/users/{training_user}/recommendations"):
        assert api.get(url).status_code == 200, url


def test_ratings_record_who_sent_them(api, ws, mids):
    uid, hdr = signup(api, "prov")
    assert api.post(f"/users/{uid}/ratings", json={"movie_id": mids[1], "rating": 3.0},
                    headers=hdr).status_code == 201
    with RatingStore(ws.ratings_db) as store:
        prov = store.provenance(uid, mids[1])
    assert prov["sent_by"] == uid and prov["client"] == "api" and prov["timestamp"] > 0


def test_tokens_and_passwords_are_not_stored_in_clear(api, ws):
    res = api.post("/auth/signup", json={"username": "secretive", "password": "my secret pw"}).json()
    raw = ws.accounts_db.read_bytes() + b"".join(
        p.read_bytes() for p in ws.accounts_db.parent.glob(ws.accounts_db.name + "-wal"))
    assert res["token"].encode() not in raw and b"my secret pw" not in raw
    con = sqlite3.connect(ws.accounts_db)
    (pw_hash,) = con.execute("SELECT password_hash FROM accounts WHERE username = 'secretive'").fetchone()
    con.close()
    assert pw_hash.startswith("$argon2id$")


def _web_session(web: httpx.Client, name: str) -> tuple[int, str]:
    """Sign up through the web form. Out: (viewer id, CSRF token); the client keeps the cookie."""
    res = web.post("/signup", data={"username": name, "password": "password-123"}, follow_redirects=True)
    assert res.status_code == 200 and SESSION_COOKIE in web.cookies, res.text[:300]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', res.text).group(1)
    return int(web.get("/auth/me").json()["user_id"]), csrf


def test_cookie_writes_need_the_csrf_token(api, mids):
    # A second client on the module's server: its own cookie jar, like another browser.
    with httpx.Client(base_url=str(api.base_url), timeout=30.0) as web:
        uid, csrf = _web_session(web, "cookie_viewer")
        body = {"movie_id": mids[2], "rating": 4.0}
        # JSON API with the cookie: no token, a wrong token, a foreign Origin -> 403.
        assert web.post(f"/users/{uid}/ratings", json=body).status_code == 403
        assert web.post(f"/users/{uid}/ratings", json=body, headers={"X-CSRF-Token": "nope"}).status_code == 403
        assert web.post(f"/users/{uid}/ratings", json=body, headers={
            "X-CSRF-Token": csrf, "Origin": "http://evil.example"}).status_code == 403
        assert web.post(f"/users/{uid}/ratings", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
        # Web forms: the same rule through the csrf_token field.
        form = {"rating": "2.5"}
        assert web.post(f"/title/{mids[2]}/rate", data=form).status_code == 403
        assert web.post(f"/title/{mids[2]}/rate", data={**form, "csrf_token": csrf}).status_code == 303
        assert web.get(f"/users/{uid}/ratings").json()[0]["rating"] == 2.5
        assert web.post("/logout", data={}).status_code == 403  # sign-out is a write too
        assert web.post("/logout", data={"csrf_token": csrf}).status_code == 303
        assert web.get("/auth/me").status_code == 401
        # Signing in again: an HttpOnly, SameSite=Lax cookie (a cross-site POST does not carry it).
        login = web.post("/login", data={"username": "cookie_viewer", "password": "password-123"})
        cookie = login.headers.get("set-cookie", "").lower()
        assert login.status_code == 303 and "httponly" in cookie and "samesite=lax" in cookie
        # A sign-in form posted from another site is refused.
        assert web.post("/login", data={"username": "cookie_viewer", "password": "password-123"},
                        headers={"Origin": "http://evil.example"}).status_code == 403


def test_admin_needs_the_token(api, ws):
    assert api.post("/admin/reload").status_code == 401
    assert api.post("/admin/reload", headers={"Authorization": "Bearer wrong"}).status_code == 403
    _uid, viewer_h = signup(api, "notadmin")
    assert api.post("/admin/reload", headers=viewer_h).status_code == 403
    admin = admin_headers(ws)
    # A cross-site form post is refused even with the token (a browser form cannot set it,
    # but the content type alone marks a form).
    assert api.post("/admin/reload", headers={**admin, "content-type": "application/x-www-form-urlencoded"},
                    content=b"x=1").status_code == 403
    assert api.post("/admin/reload", headers={**admin, "Origin": "http://evil.example"}).status_code == 403
    assert api.post("/admin/reload", headers=admin).status_code == 200
    assert oct(ws.admin_key.stat().st_mode & 0o777) == "0o600"
    assert not str(ws.admin_key).startswith((str(ws.models), str(ws.raw)))


def test_rate_limits(api):
    codes = [api.post("/auth/login", json={"username": "limit_probe", "password": "wrong-password"}).status_code
             for _ in range(8)]
    assert codes[:5] == [401] * 5 and codes[-1] == 429, codes
    limited = api.post("/auth/login", json={"username": "limit_probe", "password": "wrong-password"})
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
    # Another username from the same address still gets its own attempts ...
    assert api.post("/auth/login", json={"username": "other_probe", "password": "wrong-password"}).status_code == 401
    # ... but not unboundedly: the address has a budget of its own (30 at once).
    rotating = [api.post("/auth/login", json={"username": f"rot_{k}", "password": "wrong-password"}).status_code
                for k in range(30)]
    assert rotating[0] == 401 and rotating[-1] == 429, rotating
    uid, hdr = signup(api, "burst")
    writes = [api.put(f"/users/{uid}/services", json={"names": ["Netflix"]}, headers=hdr).status_code
              for _ in range(45)]
    assert writes[0] == 200 and 429 in writes
