"""The serving cache (what Recommender.load derives from one bundle × one features file) and
a worker's model following: a second load reads the cache and serves the same lists, a
damaged cache is rebuilt rather than trusted, a new features file gets a new key, and a
Service with ``follow_model`` reloads by itself when the model pointer is replaced."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pandas as pd
import pytest

from src.models import serving_cache
from src.models.predict_model import Recommender
from tests.harness.launcher import copy_workspace


@pytest.fixture()
def ws(synthetic_pipeline, tmp_path):
    """A private copy of the trained synthetic workspace without any serving cache."""
    paths = copy_workspace(synthetic_pipeline, tmp_path / "ws")
    import shutil

    shutil.rmtree(paths.serving_cache, ignore_errors=True)
    return paths


def _mapped(a: np.ndarray) -> bool:
    """Whether ``a`` is (a view of) a memory-mapped file: read from the cache, not computed."""
    return isinstance(a, np.memmap) or isinstance(getattr(a, "base", None), np.memmap)


def _lists(rec: Recommender) -> list[list[int]]:
    users = rec._user_ids[:25].tolist()
    return [rec.recommend(u, n=10)["id"].tolist() for u in users] + \
        [rec.recommend(users[0], genres=[rec.genres[1]], n=10)["id"].tolist()]


def test_second_load_reads_the_cache_and_serves_the_same_lists(ws):
    first = Recommender.load(ws)
    folders = [p for p in ws.serving_cache.iterdir() if not p.name.startswith(".")]
    assert len(folders) == 1
    manifest = json.loads((folders[0] / "manifest.json").read_text())
    assert {"cache.content_data.npy", "cache.tr_cat.npy", "cache.tr_rk.npy"} <= set(manifest["files"])
    second = Recommender.load(ws)
    # the content index came from the cache (no vectorizer: nothing was refitted) ...
    assert first.content.vectorizer is not None and second.content.vectorizer is None
    assert _mapped(second._tr_cat)
    # ... and it is the same index, the same positions, the same lists
    assert (first.content.matrix != second.content.matrix).nnz == 0
    assert np.array_equal(first._tr_cat, second._tr_cat) and np.array_equal(first._tr_rk, second._tr_rk)
    assert np.array_equal(first._n_ratings, second._n_ratings)
    assert _lists(first) == _lists(second)
    assert second.similar_titles(int(second._ids[3]), n=5)["id"].tolist() == \
        first.similar_titles(int(first._ids[3]), n=5)["id"].tolist()


def test_a_damaged_cache_is_rebuilt_not_trusted(ws):
    good = _lists(Recommender.load(ws))
    folder = next(p for p in ws.serving_cache.iterdir() if not p.name.startswith("."))
    path = folder / "cache.tr_cat.npy"
    arr = np.load(path)
    arr[:] = 0                                   # every rating on title 0: wrong, same shape
    np.save(path, arr)
    assert serving_cache.read_cache(ws, folder.name) is None   # sha256 no longer matches
    rec = Recommender.load(ws)
    assert rec.content.vectorizer is not None    # derived again, from the inputs
    assert _lists(rec) == good


def test_new_features_get_a_new_key(ws):
    Recommender.load(ws)
    cat = pd.read_parquet(ws.features)
    cat.loc[0, "title"] = "A Title Nobody Had Before"
    cat.to_parquet(ws.features, index=False)
    rec = Recommender.load(ws)
    assert rec.content.vectorizer is not None    # not the old cache
    assert len([p for p in ws.serving_cache.iterdir() if not p.name.startswith(".")]) == 2
    assert rec.catalogue["title"].iloc[0] == "A Title Nobody Had Before"


def test_a_following_service_reloads_when_the_pointer_is_replaced(ws, monkeypatch):
    from src.serving import service as service_mod

    monkeypatch.setattr(service_mod, "API_RELOAD_POLL_S", 0.05)
    svc = service_mod.Service(ws, cache_size=0, follow_model=True)
    try:
        before = svc.snapshot
        time.sleep(0.3)
        assert svc.snapshot is before            # nothing changed: no reload
        pointer = ws.model_pointer
        tmp = pointer.with_suffix(".tmp")
        tmp.write_bytes(pointer.read_bytes())    # the same model, committed again (new inode)
        os.replace(tmp, pointer)
        deadline = time.monotonic() + 60
        while svc.snapshot is before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert svc.snapshot is not before and svc.snapshot.model_version == before.model_version
    finally:
        svc.close()


@pytest.mark.slow
def test_two_workers_both_follow_a_new_model(ws):
    """`--workers 2`: two processes answer on one port, and after the pointer is replaced
    both serve a freshly loaded model (each /health reply names its worker's load time)."""
    import httpx

    from tests.harness.launcher import ServerProcess

    def loads_seen(url: str, tries: int = 60) -> set[float]:
        seen = set()
        for _ in range(tries):   # a new connection each time: either worker may accept it
            seen.add(httpx.get(url, timeout=10).json()["loaded_at"])
            if len(seen) == 2:
                break
        return seen

    with ServerProcess(ws, ui=False, extra_args=["--workers", "2", "--no-rate-limits"]) as srv:
        url = srv.base_url + "/health"
        deadline = time.monotonic() + 120
        before: set[float] = set()
        while len(before) < 2 and time.monotonic() < deadline:   # until both workers answer
            before |= loads_seen(url)
            time.sleep(0.2)
        assert len(before) == 2, before
        t0 = time.time()
        pointer = ws.model_pointer
        tmp = pointer.with_suffix(".tmp")
        tmp.write_bytes(pointer.read_bytes())
        os.replace(tmp, pointer)
        after: set[float] = set()
        while len(after) < 2 and time.monotonic() < deadline:
            after |= {t for t in loads_seen(url) if t > t0}
            time.sleep(0.2)
        assert len(after) == 2, (before, after)
        assert httpx.get(srv.base_url + f"/users/{1}/recommendations?n=3", timeout=10).status_code in (200, 404)


def test_known_users_lists_come_from_the_cache_and_follow_the_code(ws, monkeypatch):
    from src.models.pipeline import scorers

    first = Recommender.load(ws)
    assert first._known is not None and not first._known.from_cache and not _mapped(first._known.pos)   # built

    def not_again(*_a, **_k):
        raise AssertionError("the content map was rebuilt although the cache holds it")

    with monkeypatch.context() as m:
        m.setattr(scorers, "content_map", not_again)
        second = Recommender.load(ws)
    # read back, not rebuilt: the lists are the cache's memory maps, the same arrays and steps
    assert second._known.from_cache and _mapped(second._known.pos)
    assert np.array_equal(first._known.pos, second._known.pos)
    assert np.array_equal(first._known.scores, second._known.scores)
    assert list(first._known.steps) == list(second._known.steps)
    # ... and so is the CF -> new-title content map (the same sparse matrix)
    m1, m2 = first.pipeline.collab.map, second.pipeline.collab.map
    assert m1.nnz and (m1 != m2).nnz == 0
    assert _lists(first) == _lists(second)
    # other chain code (a scorer or a parameter edited) is another key: never the old lists
    key = serving_cache.cache_key("m", "f")
    monkeypatch.setattr(serving_cache, "code_version", lambda: "edited")
    assert serving_cache.cache_key("m", "f") != key
    third = Recommender.load(ws)
    assert not third._known.from_cache
    assert len([p for p in ws.serving_cache.iterdir() if not p.name.startswith(".")]) == 2


def test_cached_lists_that_do_not_fit_are_rebuilt(ws):
    from src.models.pipeline.known_lists import KnownLists

    rec = Recommender.load(ws)
    arrays = rec._known.arrays()
    n_users, depth, n_titles = len(rec._user_ids), rec._known.depth, len(rec._ids)
    g = (len(rec.genres), rec._known.genre_depth)
    assert g[0] > 0 and g[1] > 0
    assert KnownLists.from_arrays(arrays, n_users, depth, n_titles, g) is not None
    assert KnownLists.from_arrays(arrays, n_users + 1, depth, n_titles, g) is None     # other users
    assert KnownLists.from_arrays(arrays, n_users, depth, int(arrays["pos"].max()), g) is None  # fewer titles
    assert KnownLists.from_arrays(arrays, n_users, depth, n_titles, (g[0] + 1, g[1])) is None  # other genres
    bad = {**arrays, "steps": np.full(n_users, 7, dtype="int8")}                     # no such step
    assert KnownLists.from_arrays(bad, n_users, depth, n_titles, g) is None
    bad = {**arrays, "gpos": np.full_like(arrays["gpos"], n_titles)}                  # outside the catalogue
    assert KnownLists.from_arrays(bad, n_users, depth, n_titles, g) is None


def test_invoke_warm_writes_the_cache_the_next_load_reads(ws):
    """`invoke warm` (run by `invoke all` after train) leaves the whole serving cache, known
    users' lists included, so the server's first load reads it instead of building it."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "STREAMREC_HOME": str(ws.root), "PYTHONPATH": str(root)}
    res = subprocess.run([sys.executable, "-m", "invoke", "warm"], cwd=root, env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    folders = [p for p in ws.serving_cache.iterdir() if not p.name.startswith(".")]
    assert len(folders) == 1
    files = set(json.loads((folders[0] / "manifest.json").read_text())["files"])
    assert {"cache.known_pos.npy", "cache.cmap_indptr.npy", "cache.content_data.npy"} <= files
    rec = Recommender.load(ws)
    assert rec._known.from_cache and _mapped(rec._known.pos)
    assert len([p for p in ws.serving_cache.iterdir() if not p.name.startswith(".")]) == 1
