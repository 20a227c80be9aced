"""Model bundle format: arrays + JSON in a versioned folder, one pointer, no pickle.

Round trip (a rebuilt ``surprise.SVD`` predicts exactly what the trained one did; EASE and the
seen ratings come back equal), integrity (a tampered array fails its sha256, a crafted file
cannot run code, a pointer cannot escape the bundles folder), commit as one unit (failed or
SIGKILLed saves leave the previous bundle loadable, stale temp leftovers are cleaned), and
memory mapping (loading does not copy the arrays into the heap).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from src.config import BUNDLE_KEEP, ITEM_ID_COL, RATING_COL, TIMESTAMP_COL, USER_COL, Paths
from src.models.bundle import (
    BundleIntegrityError,
    ModelBundle,
    clean_stale,
    load_current,
    read_current_manifest,
    save_bundle,
)
from src.models.predict_model import Recommender
from src.models.ratings_data import ratings_sha256
from src.models.topn import fit_popularity, fit_ranker
from src.models.train_model import fit_svd
from src.utils.io import sha256_file

PARAMS = {"n_factors": 4, "n_epochs": 5}


def _ratings(seed: int = 0, n_users: int = 40, n_items: int = 30) -> pd.DataFrame:
    """Small random ratings frame in the model-ready shape, with a few duplicate pairs."""
    rng = np.random.default_rng(seed)
    u = rng.integers(1, n_users + 1, 600)
    i = rng.integers(100, 100 + n_items, 600)
    return pd.DataFrame({USER_COL: u, ITEM_ID_COL: i, RATING_COL: rng.integers(1, 11, len(u)) / 2.0,
                         TIMESTAMP_COL: np.arange(len(u), dtype="int64")})


def _bundle(seed: int = 0) -> ModelBundle:
    df = _ratings(seed)
    return ModelBundle(svd=fit_svd(df, PARAMS), ranker=fit_ranker(df, min_count=1), train_ratings=df,
                       params=PARAMS, metadata={"data": {"sha256": ratings_sha256(df)}, "metrics": {"x": 1}})


def _catalogue(ids) -> pd.DataFrame:
    """A minimal features frame over ``ids`` (two genres, a score)."""
    ids = sorted(int(i) for i in ids)
    return pd.DataFrame({"id": ids, "title": [f"T{i}" for i in ids],
                         "genres": ["Drama" if i % 2 else "Comedy|Drama" for i in ids],
                         "score_final": np.linspace(0.1, 0.9, len(ids)), "year": 2000})


class _Evil:
    """Unpickling this creates a marker file: proves whether a file was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _live_folder(paths: Paths) -> Path:
    return paths.model_bundles / json.loads(paths.model_pointer.read_text())["bundle"]


def _rewrite_manifest(paths: Paths, edit) -> None:
    """Edit the live manifest and re-sign it in the pointer (an attacker who can write models/)."""
    folder = _live_folder(paths)
    manifest = json.loads((folder / "manifest.json").read_text())
    edit(manifest, folder)
    raw = (json.dumps(manifest) + "\n").encode()
    (folder / "manifest.json").write_bytes(raw)
    pointer = json.loads(paths.model_pointer.read_text())
    pointer["manifest_sha256"] = hashlib.sha256(raw).hexdigest()
    paths.model_pointer.write_text(json.dumps(pointer))


def test_round_trip_predicts_exactly_and_maps_arrays(workspace):
    b = _bundle()
    folder = save_bundle(b, workspace)
    manifest = read_current_manifest(workspace)
    assert folder.parent == workspace.model_bundles and folder.name.endswith(manifest["version"])
    assert manifest["params"] == PARAMS and manifest["metadata"]["metrics"] == {"x": 1}
    assert manifest["metadata"]["libraries"]["scikit-surprise"] and manifest["metadata"]["created_at"]
    for name, entry in manifest["files"].items():
        assert sha256_file(folder / name) == entry["sha256"], name
    assert not list(folder.glob("*.pkl")) and {p.suffix for p in folder.iterdir()} == {".npy", ".json"}

    loaded = load_current(workspace)
    assert loaded.version == b.version == manifest["version"]
    from surprise import SVD

    assert type(loaded.svd) is SVD and loaded.svd.trainset.n_ratings == b.svd.trainset.n_ratings
    # Exactly equal, known and unknown users and items alike.
    for u in list(range(1, 41)) + [999]:
        for i in list(range(100, 130)) + [5]:
            assert loaded.svd.predict(u, i).est == b.svd.predict(u, i).est, (u, i)
    assert isinstance(loaded.ranker.weights, np.memmap) and not loaded.ranker.weights.flags.writeable
    np.testing.assert_array_equal(loaded.ranker.weights, b.ranker.weights)
    items, ratings = np.array([100, 101, 107]), np.array([5.0, 4.0, 2.0])
    np.testing.assert_array_equal(loaded.ranker.score_history(items, ratings),
                                  b.ranker.score_history(items, ratings))
    # No raw ratings frame: the seen ratings are the deduplicated (user, item, rating) triples.
    expected = (_ratings()[[USER_COL, ITEM_ID_COL, RATING_COL]]
                .drop_duplicates([USER_COL, ITEM_ID_COL], keep="last").sort_values(USER_COL, kind="stable"))
    pd.testing.assert_frame_equal(loaded.train_ratings, expected.reset_index(drop=True))
    # The recommender serves identical lists from the loaded bundle and the in-memory one.
    cat = _catalogue(range(100, 130))
    fresh, again = Recommender(cat, bundle=b), Recommender(cat, bundle=loaded)
    for user in (1, 17, 40):
        assert fresh.recommend_rows(user, n=8) == again.recommend_rows(user, n=8)
    assert fresh.recommend_rows(3, n=5, genres=["Comedy"]) == again.recommend_rows(3, n=5, genres=["Comedy"])


def test_popularity_ranker_round_trips_through_its_codec(workspace):
    df = _ratings()
    save_bundle(ModelBundle(svd=None, ranker=fit_popularity(df), train_ratings=None, params={}), workspace)
    loaded = load_current(workspace)
    assert loaded.svd is None and loaded.seen is None
    np.testing.assert_array_equal(loaded.ranker.counts, fit_popularity(df).counts)


def test_tampered_array_fails_its_sha256(workspace):
    save_bundle(_bundle(), workspace)
    target = _live_folder(workspace) / "ranker.weights.npy"
    data = bytearray(target.read_bytes())
    data[-3] ^= 0x01
    target.write_bytes(bytes(data))
    with pytest.raises(BundleIntegrityError, match=r"ranker\.weights\.npy does not match its sha256"):
        load_current(workspace)


def test_crafted_files_cannot_run_code(workspace, tmp_path):
    """An attacker who can write models/ and re-sign the manifest still cannot execute code."""
    save_bundle(_bundle(), workspace)
    marker = tmp_path / "pwned"
    folder = _live_folder(workspace)
    # 1. An object array (pickle inside a .npy) with a matching sha256 in the manifest.
    np.save(folder / "svd.pu.npy", np.array([_Evil(marker)], dtype=object), allow_pickle=True)
    (folder / "evil.pkl").write_bytes(pickle.dumps(_Evil(marker)))  # never opened: not in the manifest

    def resign(manifest, f):
        entry = manifest["files"]["svd.pu.npy"]
        entry.update(sha256=sha256_file(f / "svd.pu.npy"), bytes=(f / "svd.pu.npy").stat().st_size,
                     dtype="|O", shape=[1])

    _rewrite_manifest(workspace, resign)
    with pytest.raises(BundleIntegrityError, match="svd.pu.npy is not a plain numeric .npy"):
        load_current(workspace)
    assert not marker.exists()
    # 2. A manifest naming a kind that is not a registered data codec (e.g. a class path).
    save_bundle(_bundle(), workspace)
    _rewrite_manifest(workspace, lambda m, _f: m["components"]["ranker"].update(kind="os.system"))
    with pytest.raises(BundleIntegrityError, match="unknown component kind 'os.system'"):
        load_current(workspace)
    # 3. File names and pointers cannot leave the bundle folder.
    save_bundle(_bundle(), workspace)
    _rewrite_manifest(workspace, lambda m, _f: m["files"].update({"../../x.npy": {}}))
    with pytest.raises(BundleIntegrityError, match="invalid array file name"):
        load_current(workspace)
    workspace.model_pointer.write_text(json.dumps({"bundle": "../../etc", "manifest_sha256": "0" * 64}))
    with pytest.raises(BundleIntegrityError, match="does not name a bundle folder"):
        load_current(workspace)
    assert not marker.exists()


def test_legacy_pickle_is_refused_never_unpickled(workspace, tmp_path):
    marker = tmp_path / "pwned"
    workspace.legacy_model_pickle.write_bytes(pickle.dumps(_Evil(marker)))
    with pytest.raises(BundleIntegrityError, match="pickle bundle from an older StreamRec"):
        load_current(workspace)
    assert not marker.exists()
    save_bundle(_bundle(), workspace)  # the first array bundle replaces it
    assert not workspace.legacy_model_pickle.exists() and load_current(workspace) is not None


def test_missing_or_broken_bundle_when_expected_is_an_error(workspace):
    assert load_current(workspace) is None  # never trained: no model, not an error
    save_bundle(_bundle(), workspace)
    folder = _live_folder(workspace)
    (folder / "seen.ratings.npy").unlink()
    with pytest.raises(BundleIntegrityError, match="seen.ratings.npy is missing"):
        load_current(workspace)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(BundleIntegrityError, match="does not match the pointer's checksum"):
        load_current(workspace)
    workspace.model_pointer.write_text("{")
    with pytest.raises(BundleIntegrityError, match="not valid JSON"):
        load_current(workspace)


def test_failed_save_keeps_previous_bundle_and_leaves_no_temp(workspace):
    save_bundle(_bundle(seed=0), workspace)
    pointer_before = workspace.model_pointer.read_text()
    broken = _bundle(seed=1)
    broken.ranker = object()  # no codec: fails after the SVD arrays were written
    with pytest.raises(TypeError, match="no bundle codec"):
        save_bundle(broken, workspace)
    assert workspace.model_pointer.read_text() == pointer_before
    assert load_current(workspace).svd.predict(1, 100).est == _bundle(seed=0).svd.predict(1, 100).est
    assert [p.name for p in workspace.model_bundles.iterdir()] == [_live_folder(workspace).name]


def test_stale_leftovers_are_cleaned_and_old_bundles_pruned(workspace):
    save_bundle(_bundle(seed=0), workspace)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale_dir = workspace.model_bundles / f".tmp-{dead.pid}-abc"
    live_dir = workspace.model_bundles / f".tmp-{os.getpid()}-busy"   # a writer still running
    for d in (stale_dir, live_dir):
        d.mkdir()
        (d / "svd.pu.npy").write_bytes(b"half")
    old_tmp = workspace.models / ".current.json.x1.tmp"
    new_tmp = workspace.models / ".current.json.x2.tmp"
    old_tmp.write_text("{")
    new_tmp.write_text("{")
    os.utime(old_tmp, (time.time() - 3600, time.time() - 3600))
    assert clean_stale(workspace) == {"tmp_folders": 1, "tmp_files": 1}
    assert not stale_dir.exists() and live_dir.exists() and not old_tmp.exists() and new_tmp.exists()
    versions = [save_bundle(_bundle(seed=s), workspace).name for s in range(1, BUNDLE_KEEP + 2)]
    kept = sorted(p.name for p in workspace.model_bundles.iterdir() if not p.name.startswith("."))
    assert kept == sorted(versions[-BUNDLE_KEEP:]) and _live_folder(workspace).name == versions[-1]


def test_versions_follow_content(workspace, tmp_path):
    v1 = save_bundle(_bundle(seed=0), workspace).name.split("-")[-1]
    v2 = save_bundle(_bundle(seed=2), workspace).name.split("-")[-1]
    v1_again = save_bundle(_bundle(seed=0), Paths.from_root(tmp_path / "other")).name.split("-")[-1]
    assert v1 != v2 and v1 == v1_again and len(v1) == 12


_SAVER = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from tests.test_bundle import _bundle
    from src.config import Paths
    from src.models.bundle import save_bundle
    paths = Paths.from_root({ws!r})
    bundles = [_bundle(seed=s) for s in range(3)]
    print("ready", flush=True)
    k = 0
    while True:
        save_bundle(bundles[k % 3], paths)
        k += 1
""")


def test_sigkill_during_saves_always_leaves_a_loadable_bundle(workspace):
    """Kill a process that saves bundles in a loop at random moments: the pointer always names
    a complete bundle, and the next save cleans the dead writer's temp folder."""
    save_bundle(_bundle(seed=0), workspace)
    root = str(Path(__file__).resolve().parents[1])
    rng = np.random.default_rng(0)
    for _ in range(3):
        child = subprocess.Popen([sys.executable, "-c", _SAVER.format(root=root, ws=str(workspace.root))],
                                 stdout=subprocess.PIPE, cwd=root)
        assert child.stdout.readline().strip() == b"ready"
        time.sleep(float(rng.uniform(0.05, 0.6)))
        child.send_signal(signal.SIGKILL)
        child.wait()
        loaded = load_current(workspace)
        assert loaded.svd is not None and loaded.ranker is not None and len(loaded.seen) > 0
    save_bundle(_bundle(seed=1), workspace)
    assert not [p for p in workspace.model_bundles.iterdir() if p.name.startswith(".tmp-")]


def test_loading_maps_arrays_instead_of_copying_them(workspace):
    """RssAnon (heap, not file pages) grows far less than the arrays' size on load."""
    rng = np.random.default_rng(0)
    n_items = 2500  # 25 MB of float32 EASE weights
    df = pd.DataFrame({USER_COL: rng.integers(0, 3000, 60_000), ITEM_ID_COL: rng.integers(0, n_items, 60_000),
                       RATING_COL: rng.integers(6, 11, 60_000) / 2.0})
    save_bundle(ModelBundle(svd=None, ranker=fit_ranker(df, min_count=1), train_ratings=df, params={}), workspace)
    weights_mb = n_items ** 2 * 4 / 2**20

    def rss_anon_mb() -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no RssAnon in /proc/self/status")

    before = rss_anon_mb()
    loaded = load_current(workspace)
    grew = rss_anon_mb() - before
    assert float(loaded.ranker.weights.sum()) != 0.0  # touch every page of the weights
    grew_after_touch = rss_anon_mb() - before
    assert grew < weights_mb / 4 and grew_after_touch < weights_mb / 4, (grew, grew_after_touch, weights_mb)


@pytest.mark.parametrize("command", [["-m", "invoke", "recommend", "--user", "1"],
                                     ["-m", "invoke", "serve", "--port", "1"],
                                     ["-m", "invoke", "warm"],
                                     ["-m", "src.serving.app", "--no-ui", "--port", "1"]])
def test_cli_with_a_broken_bundle_is_one_line_exit_2(workspace, command):
    """`invoke recommend` and the server's command line (what `invoke serve` runs) refuse a
    pointer to a damaged bundle with one line and exit code 2, never a traceback."""
    _catalogue(range(100, 130)).to_parquet(workspace.features, index=False)
    save_bundle(_bundle(), workspace)
    (_live_folder(workspace) / "svd.qi.npy").write_bytes(b"\x93NUMPY garbage")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "STREAMREC_HOME": str(workspace.root), "PYTHONPATH": str(root)}
    res = subprocess.run([sys.executable, *command], cwd=root, env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if ln and " INFO " not in ln and " WARNING " not in ln]
    assert "Traceback" not in res.stderr and len(lines) == 1, res.stderr
    assert "svd.qi.npy does not match its sha256" in lines[0] and "invoke train" in lines[0]
