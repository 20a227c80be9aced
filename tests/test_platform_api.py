"""Platform routes and filters against a real server (127.0.0.1) over a workspace holding
TMDB 5000, the REAL Netflix 2022a snapshot and two small HBO snapshots."""

from __future__ import annotations

from pathlib import Path

import httpx
import pandas as pd
import pytest

from src.config import SHARED_STREAMING_DIR, Paths
from src.data.availability import read_availability
from src.data.make_dataset import main as etl_main
from src.pipeline.update import main as update_main
from tests.harness.launcher import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "references" / "examples" / "platform_snapshot.csv"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def ws(tmp_path_factory, shared_data) -> Paths:
    ws = Paths.from_root(tmp_path_factory.mktemp("platform_api")).ensure()
    etl_main(movies=shared_data / "tmdb_5000_movies.csv.gz", links=shared_data / "links.csv.gz",
             paths=ws)
    update_main(movies=SHARED_STREAMING_DIR / "jw_netflix_titles_2022a.csv.gz",
                platform="netflix", as_of="2022-03-01", paths=ws)
    update_main(movies=EXAMPLE, platform="hbo", as_of="2024-01-01", paths=ws)
    # A month later HBO drops the example film and adds one arrival.
    lines = EXAMPLE.read_text().splitlines()
    later = ws.root / "hbo_later.csv"
    later.write_text("\n".join([lines[0], lines[1], *lines[3:],
                                "tm900009,A Fresh Arrival,MOVIE,New on HBO.,2024,PG,90,['drama'],"
                                "['US'],,,,,5.0,7.0"]) + "\n")
    update_main(movies=later, platform="hbo", as_of="2024-02-20", paths=ws)
    return ws


@pytest.fixture(scope="module")
def client(ws):
    with ServerProcess(ws, ui=False) as server, httpx.Client(base_url=server.base_url, timeout=30) as c:
        yield c


def _open(ws: Paths) -> pd.DataFrame:
    avail = read_availability(ws.availability)
    return avail[avail["last_seen"] == ""]


def test_platforms_with_counts(client, ws):
    rows = {r["platform"]: r for r in client.get("/platforms").json()}
    assert set(rows) == {"netflix", "hbo"}
    assert (rows["netflix"]["titles"], rows["netflix"]["movies"], rows["netflix"]["series"]) == (5850, 3744, 2106)
    assert rows["hbo"]["titles"] == 4 and rows["hbo"]["last_snapshot"] == "2024-02-20"


def test_movies_platform_filter_returns_only_available_titles(client, ws):
    now = _open(ws)
    for params in ({"platform": "netflix", "media_type": "series", "limit": 100},
                   {"platform": "netflix,hbo", "limit": 100},
                   {"platform": "hbo", "query": "taxi"}):
        reply = client.get("/movies", params=params)
        assert reply.status_code == 200, reply.text
        got = reply.json()
        assert got, params
        wanted = params["platform"].split(",")
        allowed = set(now.loc[now["platform"].isin(wanted), "id"])
        assert {m["id"] for m in got} <= allowed, params
        if "media_type" in params:
            assert {m["media_type"] for m in got} == {"series"}
    assert [m["id"] for m in client.get("/movies", params={"platform": "hbo", "query": "taxi"}).json()] == [103]
    assert client.get("/movies", params={"platform": "Not a platform!"}).status_code == 422


def test_movie_detail_lists_platform_stays(client):
    detail = client.get("/movies/103").json()
    stays = {s["platform"]: s for s in detail["platforms"]}
    assert stays["netflix"] == {"platform": "netflix", "first_seen": "2022-03-01", "last_seen": None}
    assert stays["hbo"]["first_seen"] == "2024-01-01" and stays["hbo"]["last_seen"] is None
    film = client.get("/movies", params={"query": "StreamRec Example Film"}).json()[0]
    gone = client.get(f"/movies/{film['id']}").json()["platforms"]
    assert gone == [{"platform": "hbo", "first_seen": "2024-01-01", "last_seen": "2024-02-20"}]


def test_new_arrivals_window(client):
    recent = client.get("/platforms/hbo/new", params={"days": 30}).json()
    assert [r["title"] for r in recent] == ["A Fresh Arrival"]
    assert recent[0]["first_seen"] == "2024-02-20"
    wide = client.get("/platforms/hbo/new", params={"days": 365}).json()
    assert len(wide) == 4 and wide[0]["title"] == "A Fresh Arrival"
    series = client.get("/platforms/hbo/titles", params={"media_type": "series"}).json()
    assert {r["title"] for r in series} == {"StreamRec Example Series", "StreamRec Example Docuseries"}
    assert client.get("/platforms/nosuch/new").status_code == 404
    assert client.get("/platforms/hbo/new", params={"days": 0}).status_code == 422


def test_recommendations_keep_to_the_requested_platforms(client, ws):
    """`?platforms=` (the viewer's services): every listed title is available now on one of
    them; names match in any case; an unknown platform is a 422 naming the known ones."""
    now = _open(ws)
    for plats in ("netflix", "hbo", "netflix,HBO"):
        reply = client.get("/users/1/recommendations", params={"platforms": plats, "n": 20})
        assert reply.status_code == 200, reply.text
        items = reply.json()["items"]
        assert items, plats
        allowed = set(now.loc[now["platform"].isin([p.lower() for p in plats.split(",")]), "id"])
        assert {i["id"] for i in items} <= allowed, plats
    bad = client.get("/users/1/recommendations", params={"platforms": "nowhere"})
    assert bad.status_code == 422 and "netflix" in bad.json()["detail"]


def test_ui_my_services_keeps_to_the_ticked_platform(ws):
    """The Gradio /ui "My services" boxes (real server, Debian Chromium): ticking hbo lists
    only titles available now on hbo, the same titles the API returns for `?platforms=hbo`."""
    from playwright.sync_api import sync_playwright

    from tests.harness.browser import CHROMIUM_ARGS, chromium_path

    hbo_now = set(_open(ws).query("platform == 'hbo'")["id"])
    with ServerProcess(ws, ui=True) as server, sync_playwright() as pw:
        with httpx.Client(base_url=server.base_url, timeout=30) as c:
            expected = c.get("/users/1/recommendations", params={"platforms": "hbo", "n": 10}).json()["items"]
            unfiltered = c.get("/users/1/recommendations", params={"n": 10}).json()["items"]
        assert expected and {i["id"] for i in expected} <= hbo_now
        browser = pw.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.set_default_timeout(60_000)
        page.goto(server.base_url + "/ui/", wait_until="load")
        boxes = page.locator("#rec-services")
        boxes.get_by_label("netflix", exact=True).wait_for()   # every platform is offered
        boxes.get_by_label("hbo", exact=True).check()
        page.locator("#rec-user input").fill("1")
        page.locator("#rec-submit").click()
        page.locator("#rec-status").get_by_text("titles for user 1").wait_for()
        table = page.locator("#rec-table").inner_text()
        browser.close()
    for item in expected:
        assert item["title"] in table
    # Titles of the unfiltered list that are not on hbo stay out of the hbo table.
    others = [i["title"] for i in unfiltered if i["id"] not in hbo_now and i["title"] not in
              {e["title"] for e in expected}]
    assert others and not any(t in table for t in others[:3])
