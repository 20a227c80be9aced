"""The recommendation fast path (src.serving.fast_path) gives exactly the route's replies.

Two apps over the same workspace, one with the fast path and one without (every read through
FastAPI's route): for plain reads — training users, signed-up viewers with their token and
stored ratings, every filter — status, headers and body are identical and the fast path
answered them; for everything doubtful (bad or repeated parameters, wrong tokens, cookies,
other methods, other paths) the reply is again identical and the fast path did not answer.
Over a real server on 127.0.0.1 too, where uvicorn's own headers come in.
"""

from __future__ import annotations

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from src.config import MAX_N
from src.serving.app import create_app
from tests.harness.launcher import ServerProcess

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def apps(ws):
    """(fast, plain) clients over the same workspace, reply cache off (every read computed)."""
    fast = create_app(ws, with_ui=False, cache_size=0, rate_limits=False)
    plain = create_app(ws, with_ui=False, cache_size=0, rate_limits=False, fast_path=False)
    return (TestClient(fast, base_url="http://testserver"),
            TestClient(plain, base_url="http://testserver"))


@pytest.fixture(scope="module")
def viewers(apps, ws) -> list[tuple[int, str]]:
    """Two viewers signed up (through the fast app; both apps share the stores) with ratings."""
    fast, _ = apps
    ids = [int(i) for i in pd.read_parquet(ws.features, columns=["id"])["id"].head(6)]
    out = []
    for k in range(2):
        res = fast.post("/auth/signup", json={"username": f"fastpath{k}", "password": "password-123"}).json()
        for j, mid in enumerate(ids[k:k + 3]):
            fast.post(f"/users/{res['user_id']}/ratings", json={"movie_id": mid, "rating": 3.5 + j * 0.5},
                      headers={"Authorization": f"Bearer {res['token']}"}).raise_for_status()
        out.append((res["user_id"], res["token"]))
    return out


def _answered(client: TestClient) -> int:
    return client.get("/health").json()["fast_path_replies"]


def _same(apps, url: str, method: str = "GET", **kw) -> httpx.Response:
    """The two apps' replies to one request: equal status, content type and body."""
    fast, plain = apps
    a, b = fast.request(method, url, **kw), plain.request(method, url, **kw)
    assert (a.status_code, a.headers.get("content-type"), a.content) == \
        (b.status_code, b.headers.get("content-type"), b.content), url
    assert a.headers.get("content-length") == b.headers.get("content-length")
    return a


@pytest.fixture(scope="module")
def users(ws) -> list[int]:
    """Four training users of the workspace (read once for the module)."""
    return [int(u) for u in pd.read_csv(ws.ratings, usecols=["userId"])["userId"].drop_duplicates().head(4)]


def test_plain_reads_are_answered_by_the_fast_path_with_the_routes_reply(apps, viewers, users):
    fast, _ = apps
    genres = fast.get("/genres").json()
    platforms = fast.get("/platforms").json()
    queries = ["", "?n=5", f"?n={MAX_N}", f"?genres={genres[0]}", f"?genres={genres[0]},{genres[-1]}&n=3",
               "?media_type=movie&n=7", f"?genres={genres[1].lower()}",
               "?genres=", "?n=10&genres=" + genres[2].replace(" ", "%20")]
    if platforms:
        queries.append(f"?platforms={platforms[0]['platform']}")
    before = _answered(fast)
    sent = 0
    for uid in users:
        for q in queries:
            res = _same(apps, f"/users/{uid}/recommendations{q}")
            assert res.status_code == 200 and res.json()["user_id"] == uid, (uid, q, res.text)
            sent += 1
    for uid, token in viewers:
        for q in queries[:4]:
            res = _same(apps, f"/users/{uid}/recommendations{q}", headers={"Authorization": f"Bearer {token}"})
            assert res.status_code == 200 and res.json()["ratings_used"] == 3
            sent += 1
    # A training user's public read with a valid viewer token attached is still a plain read.
    _same(apps, f"/users/{users[0]}/recommendations", headers={"Authorization": f"Bearer {viewers[0][1]}"})
    sent += 1
    assert _answered(fast) - before == sent


@pytest.mark.parametrize("url_kw", [
    ("/users/{u}/recommendations?n=0", {}),
    ("/users/{u}/recommendations?n=abc", {}),
    ("/users/{u}/recommendations?n=07", {}),
    ("/users/{u}/recommendations?n=%2B5", {}),
    (f"/users/{{u}}/recommendations?n={MAX_N + 1}", {}),
    ("/users/{u}/recommendations?n=3&n=4", {}),
    ("/users/{u}/recommendations?media_type=film", {}),
    ("/users/{u}/recommendations?genres=NoSuchGenre", {}),
    ("/users/{u}/recommendations?platforms=" + "x" * 300, {}),
    ("/users/{u}/recommendations?platforms=nosuchservice", {}),
    ("/users/{u}/recommendations?unknown=1", {}),
    ("/users/0{u}/recommendations", {}),
    ("/users/-1/recommendations", {}),
    ("/users/99999999999999999999999/recommendations", {}),
    ("/users/{u}/recommendations/", {"follow_redirects": False}),
    ("/users/{u}/recommendations", {"headers": {"Authorization": "Bearer not-a-real-token-000000"}}),
    ("/users/{u}/recommendations", {"headers": {"Authorization": "Basic abc"}}),
    ("/users/{u}/recommendations", {"headers": {"Authorization": "Bearer "}}),
    ("/users/{u}/recommendations", {"cookies": {"streamrec_session": "stale"}}),
    ("/users/{u}/recommendations", {"method": "POST"}),
    ("/users/{u}/recommendations", {"method": "HEAD"}),
])
def test_doubtful_requests_reach_fastapi_and_get_its_reply(apps, users, url_kw):
    fast, _ = apps
    url, kw = url_kw
    kw = dict(kw)
    method = kw.pop("method", "GET")
    if "cookies" in kw:  # per-request cookies are deprecated in httpx: send the header itself
        kw["headers"] = {"Cookie": "; ".join(f"{k}={v}" for k, v in kw.pop("cookies").items())}
    before = _answered(fast)
    res = _same(apps, url.format(u=users[0]), method=method, **kw)
    assert _answered(fast) == before, res.text
    if method == "GET" and "headers" not in kw:
        assert res.status_code in (200, 404, 422, 307), res.text


def test_viewer_reads_need_that_viewers_token(apps, viewers):
    fast, _ = apps
    (uid, token), (_, other) = viewers
    before = _answered(fast)
    assert _same(apps, f"/users/{uid}/recommendations").status_code == 401
    assert _same(apps, f"/users/{uid}/recommendations",
                 headers={"Authorization": f"Bearer {other}"}).status_code == 403
    assert _answered(fast) == before
    assert _same(apps, f"/users/{uid}/recommendations", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert _answered(fast) == before + 1


@pytest.mark.slow
def test_over_a_real_server_the_reply_matches_the_route(ws, users):
    """uvicorn adds its own headers; the fast reply and the route's differ in nothing else."""
    with ServerProcess(ws, ui=False) as srv, httpx.Client(base_url=srv.base_url, timeout=30) as c:
        uid = users[1]
        a = c.get(f"/users/{uid}/recommendations?n=4")
        # An unrelated cookie sends the same read through FastAPI's route.
        b = c.get(f"/users/{uid}/recommendations?n=4", headers={"Cookie": "unrelated=1"})
        health = c.get("/health").json()
    assert a.status_code == b.status_code == 200
    assert a.content == b.content and len(a.json()["items"]) == 4
    drop = {"date"}
    assert {k: v for k, v in a.headers.items() if k not in drop} == \
        {k: v for k, v in b.headers.items() if k not in drop}
    assert health["fast_path_replies"] == 1
