"""Durability: every rating the API acknowledged (201) survives the server being SIGKILLed,
including ratings posted concurrently right up to the moment of the kill."""

from __future__ import annotations

import concurrent.futures as cf
import threading
import time

import httpx
import pandas as pd
import pytest

from src.data.feedback_store import RatingStore
from tests.harness.accounts import signup
from tests.harness.launcher import ServerProcess

# Slow: SIGKILL of a real server under load (~10 s); `invoke test --quick` leaves it out.
pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

def test_acknowledged_ratings_survive_sigkill(ws):
    movie_ids = [int(i) for i in pd.read_parquet(ws.features, columns=["id"])["id"].head(40)]
    acked: dict[tuple[int, int], float] = {}
    lock = threading.Lock()
    stop = threading.Event()

    # Rate limits off: the writers post as fast as they can, and every one must be durable.
    srv = ServerProcess(ws, ui=False, extra_args=["--no-rate-limits"]).start()
    try:
        # Sequential phase: some ratings then upserts of the same keys (last value must win).
        with httpx.Client(base_url=srv.base_url, timeout=10.0) as c:
            base_user, base_h = signup(c, "durable")
            writers = [signup(c, f"writer{w}_") for w in range(4)]
            for k, mid in enumerate(movie_ids[:10]):
                for rating in (1.0, 0.5 + (k % 10) * 0.5):
                    r = c.post(f"/users/{base_user}/ratings", json={"movie_id": mid, "rating": rating},
                               headers=base_h)
                    assert r.status_code == 201, r.text
                    acked[(base_user, mid)] = r.json()["rating"]

        def writer(w: int) -> None:
            """Post ratings until told to stop or the server dies; record each 201."""
            uid, hdr = writers[w]
            with httpx.Client(base_url=srv.base_url, timeout=5.0, headers=hdr) as c:
                for i in range(400):  # bounded in count as well as time
                    if stop.is_set():
                        return
                    mid = movie_ids[i % len(movie_ids)]
                    rating = 0.5 + (i % 10) * 0.5
                    try:
                        r = c.post(f"/users/{uid}/ratings", json={"movie_id": mid, "rating": rating})
                    except httpx.HTTPError:
                        return  # the server was killed mid-request: not acknowledged
                    if r.status_code == 201:
                        with lock:
                            acked[(uid, mid)] = r.json()["rating"]

        with cf.ThreadPoolExecutor(4) as pool:
            futures = [pool.submit(writer, w) for w in range(4)]
            time.sleep(1.5)
            srv.kill()  # SIGKILL while the writers are still posting
            stop.set()
            for f in futures:
                f.result()
    finally:
        srv.kill()

    assert len(acked) > 10 + 4, f"too few acknowledged ratings before the kill: {len(acked)}"

    # Straight from the file, before any server touches it again.
    with RatingStore(ws.ratings_db) as store:
        on_disk = {(int(r.userId), int(r.itemId)): float(r.rating)
                   for r in store.all_ratings().itertuples()}
    # Each writer's key (uid, movie) always gets the same rating (40 movies, 10 rating
    # values: i and i+40 share i % 10), so even a post that committed after the kill started
    # cannot change an acknowledged value: every acknowledged key must hold exactly it.
    missing = {k: v for k, v in acked.items() if on_disk.get(k) != v}
    assert not missing, f"lost or changed ratings: {missing}"

    # And through a restarted server.
    with ServerProcess(ws, ui=False) as srv2, httpx.Client(base_url=srv2.base_url, timeout=10.0) as c:
        # The viewer's token survived the kill too (sessions are in accounts.db).
        first = {x["movie_id"]: x["rating"] for x in c.get(f"/users/{base_user}/ratings", headers=base_h).json()}
        assert first == {mid: v for (u, mid), v in acked.items() if u == base_user}
        assert c.get("/health").json()["ratings_stored"] == len(on_disk)
