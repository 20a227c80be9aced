"""API tests against a real uvicorn server (child process on 127.0.0.1) serving a private copy
of the trained synthetic workspace: every endpoint, 4xx on bad input (never 500), stored
ratings changing recommendations at once, and hot reload under load (incl. a tampered bundle).
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import time
import unicodedata
import urllib.parse

import httpx
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from src.config import LIST_SEP, USER_COL, VIEWER_ID_BASE
from src.serving.schemas import RecommendationList
from tests.harness.accounts import admin_headers, signup

# Slow: a real uvicorn + Gradio server and load/fuzz clients (~20 s); `invoke test --quick` leaves it out.
pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.base_url, timeout=30.0) as c:
        yield c


@pytest.fixture(scope="module")
def catalogue(ws) -> pd.DataFrame:
    """The features table the server loaded, read independently from disk."""
    return pd.read_parquet(ws.features).set_index("id")


@pytest.fixture(scope="module")
def known_user(ws) -> int:
    """The MovieLens user with the most ratings in the workspace."""
    ratings = pd.read_csv(ws.ratings)
    return int(ratings[USER_COL].value_counts().idxmax())


@pytest.fixture(scope="module")
def viewer(client) -> tuple[int, dict]:
    """A signed-up viewer of this module's server: (user_id, bearer headers)."""
    return signup(client, "api")


@pytest.fixture(scope="module")
def admin(ws, server) -> dict:
    """Admin headers (the server wrote the key at start-up)."""
    return admin_headers(ws)


def test_health_genres_docs(client, catalogue):
    h = client.get("/health").json()
    assert h["status"] == "ok" and h["catalogue_size"] == len(catalogue)
    assert isinstance(h["model_version"], str) and h["model_version"]
    genres = client.get("/genres").json()
    on_disk = {g for cell in catalogue["genres"].dropna() for g in str(cell).split(LIST_SEP) if g}
    assert genres and set(genres) <= on_disk
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    for path in ("/health", "/genres", "/movies", "/movies/{movie_id}", "/movies/{movie_id}/similar",
                 "/users/{user_id}/recommendations", "/users/{user_id}/ratings",
                 "/users/{user_id}/ratings/{movie_id}", "/admin/reload", "/auth/signup", "/auth/login",
                 "/users/{user_id}/watchlist", "/users/{user_id}/services"):
        assert path in spec["paths"], path
    # Bearer auth is documented, and /docs loads Swagger UI from this server (works offline).
    assert spec["components"]["securitySchemes"]["viewerToken"]["scheme"] == "bearer"
    docs = client.get("/docs").text
    assert "cdn." not in docs and "/static/swagger/swagger-ui-bundle.js" in docs
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    assert client.get("/ui/").status_code == 200


def _accent(text: str) -> str:
    """Upper-case ``text`` and put accents on its vowels (what a user might type)."""
    table = {"a": "á", "e": "é", "i": "î", "o": "ö", "u": "ü"}
    return unicodedata.normalize("NFC", "".join(table.get(c, c) for c in text.lower())).upper()


def test_search_is_case_and_accent_insensitive(client, catalogue):
    titled = catalogue[catalogue["title"].fillna("").str.len() >= 6]
    mid, title = int(titled.index[0]), str(titled["title"].iloc[0])
    res = client.get("/movies", params={"query": _accent(title), "limit": 100})
    assert res.status_code == 200
    assert mid in [m["id"] for m in res.json()]
    # The exact title ranks first among its matches.
    exact = [m for m in res.json() if m["title"].casefold() == title.casefold()]
    assert res.json()[0]["title"].casefold() == exact[0]["title"].casefold()


def test_search_filters(client, catalogue):
    genre = client.get("/genres").json()[0]
    res = client.get("/movies", params={"genre": genre.lower(), "year_from": 1990, "limit": 50}).json()
    assert res, "expected some titles"
    for m in res:
        assert genre in m["genres"] and m["year"] >= 1990
    series = client.get("/movies", params={"media_type": "series", "limit": 5}).json()
    assert all(m["media_type"] == "series" for m in series)
    assert len(client.get("/movies", params={"limit": 7}).json()) == 7
    assert client.get("/movies", params={"query": "zzzqqq-no-such-title"}).json() == []


def test_movie_detail_and_similar(client, catalogue):
    mid = int(catalogue.index[3])
    detail = client.get(f"/movies/{mid}").json()
    assert detail["id"] == mid and detail["title"] == catalogue.at[mid, "title"]
    assert isinstance(detail["genres"], list)
    sim = client.get(f"/movies/{mid}/similar", params={"n": 5}).json()
    ids = [i["id"] for i in sim["items"]]
    assert 0 < len(ids) <= 5 and mid not in ids and set(ids) <= set(catalogue.index)


def test_known_user_recommendations_and_filters(client, known_user, catalogue):
    res = client.get(f"/users/{known_user}/recommendations", params={"n": 8}).json()
    RecommendationList.model_validate(res)  # served without pydantic: check the shape here
    assert res["strategy"].startswith("personal") and len(res["items"]) == 8
    assert all(i["id"] in catalogue.index for i in res["items"])
    genres = client.get("/genres").json()[:2]
    res = client.get(f"/users/{known_user}/recommendations",
                     params={"n": 5, "genres": ",".join(genres)}).json()
    assert res["items"]
    for item in res["items"]:
        assert set(item["genres"]) & set(genres), item


def test_stored_ratings_change_recommendations_at_once(client, catalogue):
    uid, hdr = signup(client, "fresh")
    assert uid >= VIEWER_ID_BASE
    # This test's requests are the new viewer's (a client carrying their token).
    with httpx.Client(base_url=str(client.base_url), timeout=30.0, headers=hdr) as client:
        before = client.get(f"/users/{uid}/recommendations", params={"n": 10}).json()
        assert before["strategy"] == "cold-start" and before["ratings_used"] == 0
        # Love the top recommended titles of one genre, dislike those of another.
        genres = client.get("/genres").json()
        loved = client.get("/movies", params={"genre": genres[0], "limit": 3}).json()
        hated = client.get("/movies", params={"genre": genres[-1], "limit": 3}).json()
        for m in loved:
            assert client.post(f"/users/{uid}/ratings", json={"movie_id": m["id"], "rating": 5.0}).status_code == 201
        for m in hated:
            if m["id"] not in {x["id"] for x in loved}:
                assert client.post(f"/users/{uid}/ratings", json={"movie_id": m["id"], "rating": 0.5}).status_code == 201
        stored = client.get(f"/users/{uid}/ratings").json()
        after = client.get(f"/users/{uid}/recommendations", params={"n": 10}).json()
        assert after["strategy"] == "fold-in" and after["ratings_used"] == len(stored)
        after_ids = [i["id"] for i in after["items"]]
        assert after_ids != [i["id"] for i in before["items"]]
        assert not set(after_ids) & {r["movie_id"] for r in stored}, "rated titles must not be recommended"
        for r in stored:
            assert client.delete(f"/users/{uid}/ratings/{r['movie_id']}").status_code == 200
        again = client.get(f"/users/{uid}/recommendations", params={"n": 10}).json()
        assert again["strategy"] == "cold-start"
        assert [i["id"] for i in again["items"]] == [i["id"] for i in before["items"]]


def test_ratings_crud(client, catalogue):
    uid, hdr = signup(client, "crud")
    mid = int(catalogue.index[0])
    r = client.post(f"/users/{uid}/ratings", json={"movie_id": mid, "rating": 3.5}, headers=hdr)
    assert r.status_code == 201 and r.json()["rating"] == 3.5 and r.json()["title"]
    client.post(f"/users/{uid}/ratings", json={"movie_id": mid, "rating": 4}, headers=hdr)
    listed = client.get(f"/users/{uid}/ratings", headers=hdr).json()
    assert [(x["movie_id"], x["rating"]) for x in listed] == [(mid, 4.0)]
    assert client.get("/health").json()["ratings_stored"] >= 1
    assert client.delete(f"/users/{uid}/ratings/{mid}", headers=hdr).json()["deleted"] is True
    gone = client.delete(f"/users/{uid}/ratings/{mid}", headers=hdr)
    assert gone.status_code == 404 and "movie_id" in gone.json()["detail"]
    assert client.get(f"/users/{uid}/ratings", headers=hdr).json() == []


BAD_REQUESTS = [
    # (method, url, json body, field the message must name)
    ("GET", "/users/1/recommendations?genres=NoSuchGenre", None, "genres"),
    ("GET", "/users/1/recommendations?n=0", None, "n"),
    ("GET", "/users/1/recommendations?n=101", None, "n"),
    ("GET", "/users/1/recommendations?n=abc", None, "n"),
    ("GET", "/users/1/recommendations?media_type=opera", None, "media_type"),
    ("GET", "/users/abc/recommendations", None, "user_id"),
    ("GET", "/users/-5/recommendations", None, "user_id"),
    ("GET", "/users/1.5/recommendations", None, "user_id"),
    ("GET", "/users/99999999999999999999999/recommendations", None, "user_id"),
    ("GET", "/movies/abc", None, "movie_id"),
    ("GET", "/movies/999999999", None, "movie_id"),
    ("GET", "/movies/999999999/similar", None, "movie_id"),
    ("GET", "/movies/{mid}/similar?n=-1", None, "n"),
    ("GET", "/movies?limit=0", None, "limit"),
    ("GET", "/movies?limit=1000", None, "limit"),
    ("GET", "/movies?year_from=soon", None, "year_from"),
    ("GET", "/movies?genre=Nope", None, "genres"),
    ("GET", "/movies?media_type=tv", None, "media_type"),
    ("GET", "/movies?query=" + "x" * 300, None, "query"),
    ("POST", "/users/{uid}/ratings", {"movie_id": "{mid}", "rating": 5.5}, "rating"),
    ("POST", "/users/{uid}/ratings", {"movie_id": "{mid}", "rating": 0}, "rating"),
    ("POST", "/users/{uid}/ratings", {"movie_id": "{mid}", "rating": 3.3}, "rating"),
    ("POST", "/users/{uid}/ratings", {"movie_id": "{mid}", "rating": "great"}, "rating"),
    ("POST", "/users/{uid}/ratings", {"movie_id": "{mid}", "rating": None}, "rating"),
    ("POST", "/users/{uid}/ratings", {"movie_id": "{mid}"}, "rating"),
    ("POST", "/users/{uid}/ratings", {"movie_id": 999999999, "rating": 4}, "movie_id"),
    ("POST", "/users/{uid}/ratings", {"movie_id": "abc", "rating": 4}, "movie_id"),
    ("POST", "/users/{uid}/ratings", {"movie_id": 1.5, "rating": 4}, "movie_id"),
    ("POST", "/users/{uid}/ratings", {"movie_id": -3, "rating": 4}, "movie_id"),
    ("POST", "/users/{uid}/ratings", {"rating": 4}, "movie_id"),
    ("POST", "/users/{uid}/ratings", [1, 2], "body"),
    ("POST", "/users/x/ratings", {"movie_id": "{mid}", "rating": 4}, "user_id"),
    ("DELETE", "/users/{uid}/ratings/abc", None, "movie_id"),
]


def _fill(obj, mid: int, uid: int = 0):
    """Substitute the "{mid}" (a real catalogue id) and "{uid}" (the signed-in viewer)
    placeholders in a URL or body."""
    if isinstance(obj, str):
        return int(mid) if obj == "{mid}" else obj.replace("{mid}", str(mid)).replace("{uid}", str(uid))
    if isinstance(obj, dict):
        return {k: _fill(v, mid, uid) for k, v in obj.items()}
    return obj


@pytest.mark.parametrize("method, url, body, field", BAD_REQUESTS)
def test_bad_input_is_4xx_naming_the_field(client, catalogue, viewer, method, url, body, field):
    mid = int(catalogue.index[0])
    uid, hdr = viewer
    res = client.request(method, _fill(url, mid, uid), json=_fill(body, mid, uid), headers=hdr)
    assert 400 <= res.status_code < 500, (res.status_code, res.text)
    assert field in res.json()["detail"], res.json()


_junk = st.one_of(st.text(max_size=30), st.integers(-10**20, 10**20).map(str),
                  st.floats(allow_nan=True).map(str), st.just(""))


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(user=_junk, n=_junk, genres=_junk, media=_junk, movie=_junk, rating=st.one_of(
    _junk, st.floats(allow_nan=False, allow_infinity=False), st.none(), st.booleans()))
def test_fuzzed_input_never_500(client, user, n, genres, media, movie, rating):
    """Random path segments, query values and bodies: always a reply, never a server error."""
    quote = lambda v: urllib.parse.quote(v, safe="") or "0"  # noqa: E731 - tiny helper
    replies = [
        client.get(f"/users/{quote(user)}/recommendations",
                   params={"n": n, "genres": genres, "media_type": media}),
        client.get(f"/movies/{quote(movie)}/similar", params={"n": n}),
        client.get("/movies", params={"query": genres, "genre": media, "limit": n}),
        client.post(f"/users/{quote(user)}/ratings", json={"movie_id": movie, "rating": rating}),
    ]
    for res in replies:
        assert res.status_code < 500, (res.request.url, res.status_code, res.text)


def test_malformed_json_body_is_422(client, viewer):
    uid, hdr = viewer
    res = client.post(f"/users/{uid}/ratings", content=b"{not json",
                      headers={**hdr, "content-type": "application/json"})
    assert res.status_code == 422 and "body" in res.json()["detail"]


def test_reload_under_load_drops_nothing(client, server, known_user, admin):
    """Hammer recommendations from 8 threads while reloading three times: all 200."""
    old_version = client.get("/health").json()["model_version"]
    stop_at = time.monotonic() + 60  # bound in time as well as in count

    def hammer(i: int) -> list[int]:
        codes = []
        with httpx.Client(base_url=server.base_url, timeout=30.0) as c:
            for k in range(40):
                if time.monotonic() > stop_at:
                    break
                # Varying n keeps most requests off the reply cache: real recommender work.
                codes.append(c.get(f"/users/{known_user + i % 3}/recommendations",
                                   params={"n": 1 + (7 * i + k) % 40}).status_code)
        return codes

    with cf.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(hammer, i) for i in range(8)]
        reloads = []
        for _ in range(3):
            reloads.append(client.post("/admin/reload", headers=admin))
        codes = [c for f in futures for c in f.result()]
    assert all(r.status_code == 200 for r in reloads), [r.text for r in reloads]
    assert reloads[-1].json()["model_version"] == old_version  # same files, same version
    assert len(codes) > 50 and set(codes) == {200}


def test_reload_with_tampered_bundle_keeps_old_model(client, ws, known_user, admin):
    before = client.get(f"/users/{known_user}/recommendations", params={"n": 5}).json()
    folder = ws.model_bundles / json.loads(ws.model_pointer.read_text())["bundle"]
    weights = folder / "ranker.weights.npy"
    original = weights.read_bytes()
    # A copy, not an in-place write: the running server memory-maps the original file.
    tampered = weights.with_name("tampered.tmp")
    tampered.write_bytes(original[:-16] + b"tampered-bytes!!")
    try:
        tampered.replace(weights)
        res = client.post("/admin/reload", headers=admin)
        assert res.status_code == 409, res.text
        assert "still serving" in res.json()["detail"] and "ranker.weights.npy" in res.json()["detail"]
        assert client.get("/health").json()["model_version"] == before["model_version"]
        still = client.get(f"/users/{known_user}/recommendations", params={"n": 5}).json()
        assert still["items"] == before["items"]
    finally:
        restored = weights.with_name("restored.tmp")
        restored.write_bytes(original)
        restored.replace(weights)
    assert client.post("/admin/reload", headers=admin).status_code == 200


def test_reload_with_missing_bundle_answers_409(client, ws, admin):
    """A pointer naming a bundle that is gone is an error, not a silent switch to cold start."""
    before = client.get("/health").json()["model_version"]
    pointer = ws.model_pointer.read_text()
    try:
        data = json.loads(pointer)
        ws.model_pointer.write_text(json.dumps({**data, "bundle": "20000101T000000000000Z-" + "0" * 12}))
        res = client.post("/admin/reload", headers=admin)
        assert res.status_code == 409 and "manifest" in res.json()["detail"], res.text
        assert client.get("/health").json()["model_version"] == before
    finally:
        ws.model_pointer.write_text(pointer)


# --- the service layer in-process (same workspace copy; the server holds its own Service) ---

def test_normalise_text_folds_accents_and_case():
    from src.serving.service import normalise_text

    assert normalise_text("  Amélie   POULAIN ") == "amelie poulain"
    assert normalise_text("Straße") == "strasse"
    assert normalise_text("Ｔｏｙ Ｓｔｏｒｙ") == "toy story"  # full-width letters (NFKD)
    assert normalise_text(None) == ""


def test_reply_cache_never_serves_stale_lists(ws, known_user):
    from src.serving.service import Service

    svc = Service(ws)
    try:
        first = svc.recommend_user(known_user, n=5)
        assert svc.recommend_user(known_user, n=5) is first        # cached reply reused
        assert svc.recommend_user(known_user, n=6) is not first    # other filters: own entry
        top = first["items"][0]["id"]
        svc.rate(known_user, top, 0.5)                              # the user's ratings changed
        after = svc.recommend_user(known_user, n=5)
        assert after is not first and top not in [i["id"] for i in after["items"]]
        assert after["ratings_used"] == first["ratings_used"] + 1
        svc.unrate(known_user, top)
        svc.reload()                                                # new model generation
        assert len(svc.cache) == 0
        again = svc.recommend_user(known_user, n=5)
        assert again is not first and again["items"] == first["items"]
    finally:
        svc.close()
