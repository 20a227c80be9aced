"""The viewer-facing API in-process (TestClient over a copy of the synthetic workspace):
paging with ``X-Total-Count``, watchlist and services endpoints, poster fields, the
OpenAPI description of bearer auth, and ``notify_server`` sending the admin key."""

from __future__ import annotations

import shutil

import httpx
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from src.config import POSTER_BASE_URL
from src.pipeline.update import notify_server
from src.serving.app import create_app
from tests.harness.launcher import ServerProcess

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def client(ws):
    # Not entered as a context manager: the app's shutdown would close the stores early.
    return TestClient(create_app(ws, with_ui=False), base_url="http://testserver")


@pytest.fixture(scope="module")
def viewer(client) -> tuple[int, dict]:
    res = client.post("/auth/signup", json={"username": "pager", "password": "password-123"}).json()
    return res["user_id"], {"Authorization": f"Bearer {res['token']}"}


def test_movies_are_paged_with_a_total(client):
    first = client.get("/movies", params={"query": "the", "limit": 5})
    total = int(first.headers["x-total-count"])
    assert total > 10 and len(first.json()) == 5
    second = client.get("/movies", params={"query": "the", "limit": 5, "offset": 5}).json()
    assert not {m["id"] for m in second} & {m["id"] for m in first.json()}
    everything = client.get("/movies", params={"query": "the", "limit": 100}).json()
    assert [m["id"] for m in everything[:10]] == [m["id"] for m in first.json() + second]
    past = client.get("/movies", params={"query": "the", "offset": total})
    assert past.json() == [] and past.headers["x-total-count"] == str(total)
    assert client.get("/movies", params={"offset": -1}).status_code == 422


def test_title_payloads_carry_posters(client, ws):
    cat = pd.read_parquet(ws.features, columns=["id", "poster_path"]).set_index("id")
    m = client.get("/movies", params={"limit": 1}).json()[0]
    assert m["poster_path"] == cat.at[m["id"], "poster_path"]
    assert m["poster_url"] == POSTER_BASE_URL + m["poster_path"]
    detail = client.get(f"/movies/{m['id']}").json()
    assert detail["poster_url"] == m["poster_url"] and detail["platforms"] == []
    # Recommendation items are title payloads too.
    for item in client.get(f"/movies/{m['id']}/similar", params={"n": 5}).json()["items"]:
        assert item["poster_path"] == cat.at[item["id"], "poster_path"]
        assert item["poster_url"] == POSTER_BASE_URL + item["poster_path"]


def test_watchlist_services_and_paged_ratings(client, viewer, ws):
    uid, hdr = viewer
    ids = [int(i) for i in pd.read_parquet(ws.features, columns=["id"])["id"].head(4)]
    for mid in ids:
        assert client.post(f"/users/{uid}/watchlist", json={"movie_id": mid}, headers=hdr).status_code == 201
        assert client.post(f"/users/{uid}/ratings", json={"movie_id": mid, "rating": 4}, headers=hdr).status_code == 201
    page = client.get(f"/users/{uid}/watchlist", params={"limit": 3}, headers=hdr)
    assert page.headers["x-total-count"] == "4" and len(page.json()) == 3 and page.json()[0]["title"]
    rest = client.get(f"/users/{uid}/ratings", params={"limit": 3, "offset": 3}, headers=hdr)
    assert rest.headers["x-total-count"] == "4" and len(rest.json()) == 1
    assert client.post(f"/users/{uid}/watchlist", json={"movie_id": 999999999}, headers=hdr).status_code == 404
    assert client.delete(f"/users/{uid}/watchlist/{ids[0]}", headers=hdr).status_code == 200
    assert client.delete(f"/users/{uid}/watchlist/{ids[0]}", headers=hdr).status_code == 404
    assert client.put(f"/users/{uid}/services", json={"names": ["Netflix", "Max"]}, headers=hdr).json() == \
        {"names": ["Max", "Netflix"]}
    assert client.put(f"/users/{uid}/services", json={"names": ["x" * 100]}, headers=hdr).status_code == 422
    assert client.put(f"/users/{uid}/genres", json={"names": ["NoSuchGenre"]}, headers=hdr).status_code == 422
    assert client.get("/auth/me", headers=hdr).json()["services"] == ["Max", "Netflix"]


def test_openapi_documents_bearer_auth(client):
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["viewerToken"] == {**schemes["viewerToken"], "type": "http", "scheme": "bearer"}
    post = spec["paths"]["/users/{user_id}/ratings"]["post"]
    assert {"viewerToken": []} in post["security"] and "401" in post["responses"] and "403" in post["responses"]
    assert {"adminToken": []} in spec["paths"]["/admin/reload"]["post"]["security"]
    assert "security" not in spec["paths"]["/movies"]["get"]  # public read


def test_notify_server_sends_the_admin_key(ws):
    """`invoke update`/`invoke train --server-url` reload a real server with the key file."""
    with ServerProcess(ws, ui=False) as srv:
        assert notify_server(srv.base_url, paths=ws)["status"] == 200
        refused = notify_server(srv.base_url, paths=ws.from_root(ws.root / "elsewhere"))
        assert refused.get("status") == 401


@pytest.mark.slow  # its own server on a workspace without a key (~10 s to start)
def test_admin_without_any_key_answers_loopback_only(ws, tmp_path):
    """No env token and no key file can be made (``secrets`` is a plain file here): the admin
    routes fall back to loopback clients, still refusing browser forms."""
    from tests.harness.launcher import copy_workspace

    copy = copy_workspace(ws, tmp_path / "nokey")
    shutil.rmtree(copy.secrets, ignore_errors=True)  # a key another test's server made
    copy.secrets.write_text("not a folder")
    with ServerProcess(copy, ui=False) as srv, httpx.Client(base_url=srv.base_url, timeout=30.0) as c:
        assert c.post("/admin/reload").status_code == 200  # we are 127.0.0.1
        assert c.post("/admin/reload", data={"x": "1"}).status_code == 403  # a form
    # A non-loopback peer (TestClient's "testclient") is refused.
    app = create_app(copy, with_ui=False)
    assert app.state.auth.admin_token is None
    res = TestClient(app).post("/admin/reload")
    assert res.status_code == 403 and "loopback" in res.json()["detail"]
