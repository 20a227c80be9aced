"""Crash safety of catalogue updates: SIGKILL the updater mid-way, then check the workspace.

The updater runs as a real subprocess. ``STREAMREC_UPDATE_PAUSE_AT=<step>`` makes it sleep
at a named step (it logs ``PAUSED at <step>``); the test kills it there with SIGKILL (no
cleanup code runs), and also at random moments. Before the commit point the previous
version must be byte-identical; after it, recovery must complete the new version; in every
case each artifact must load and the next update must succeed.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from src.config import ID_COL, UPDATE_PAUSE_ENV, UPDATE_PAUSE_SECONDS_ENV, Paths
from src.data.catalogue_store import journal_path, recover, staging_root
from src.pipeline import update as upd
from src.utils.paths import project_root
from tests.harness.launcher import copy_workspace
from tests.update_batches import artifact_hashes, batch_rows, write_batch

# Slow: SIGKILL of real update processes (~13 s); `invoke test --quick` leaves it out.
pytestmark = pytest.mark.slow

BASE_ID = 8_000_000
PRE_COMMIT = ("read", "staged", "before_commit")
POST_COMMIT = ("committed", "swapping", "swapped")


@pytest.fixture()
def ws(synthetic_pipeline: Paths, tmp_path) -> Paths:
    """A private copy of the synthetic workspace."""
    return copy_workspace(synthetic_pipeline, tmp_path / "ws")



def _start_update(paths: Paths, files: dict, log: Path, pause_at: str | None) -> subprocess.Popen:
    """Run ``update.main`` on ``files`` in a child process (the real code, own interpreter)."""
    code = ("import sys, json; from pathlib import Path; from src.config import Paths; "
            "from src.pipeline.update import main; "
            "f = json.loads(sys.argv[2]); "
            "main(**{k: (Path(v) if v else None) for k, v in f.items()}, paths=Paths.from_root(sys.argv[1]))")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop(UPDATE_PAUSE_ENV, None)
    if pause_at:
        env[UPDATE_PAUSE_ENV] = pause_at
        env[UPDATE_PAUSE_SECONDS_ENV] = "120"
    fh = open(log, "wb")
    return subprocess.Popen([sys.executable, "-c", code, str(paths.root),
                             json.dumps({k: str(v) if v else None for k, v in files.items()})],
                            cwd=project_root(), env=env, stdout=fh, stderr=subprocess.STDOUT)


def _wait_for(log: Path, text: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    """Poll the child's log until ``text`` appears (fail with the log tail otherwise)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            pytest.fail(f"updater exited ({proc.returncode}) before {text!r}:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"updater never logged {text!r}:\n{log.read_text()[-3000:]}")


def _kill(proc: subprocess.Popen, may_have_finished: bool = False) -> None:
    """SIGKILL the child: no finally blocks, no atexit, like a power cut for the process.

    ``may_have_finished``: at a random moment the child can complete between our poll() and
    the signal; then it exited 0 and the state checks that follow still apply.
    """
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    allowed = (-signal.SIGKILL, 0) if may_have_finished else (-signal.SIGKILL,)
    assert proc.returncode in allowed


def _assert_loadable(paths: Paths) -> pd.DataFrame:
    """Every artifact reads with the readers other stages use; return the features."""
    from src.features.merged_io import read_merged
    from src.features.schema import validate_features

    merged = read_merged(paths.merged)
    feats = validate_features(pd.read_parquet(paths.features))
    assert merged[ID_COL].is_unique and feats[ID_COL].is_unique
    for p in paths.interim.glob("*.csv"):
        pd.read_csv(p)
    return feats


def test_sigkill_before_commit_keeps_previous_version_then_after_commit_rolls_forward(ws, tmp_path):
    """One workspace, killed at each pre-commit step, then at the commit point itself."""
    rows = batch_rows(BASE_ID, n_movies=40, n_series=5, seed=21)
    files = write_batch(tmp_path / "batch", "crash", rows)
    new_ids = {r["id"] for r in rows}
    before = artifact_hashes(ws)
    reports_before = set(ws.updates.glob("*.json"))

    for step in PRE_COMMIT:
        log = tmp_path / f"update-{step}.log"
        proc = _start_update(ws, files, log, pause_at=step)
        _wait_for(log, f"PAUSED at {step}", proc)
        _kill(proc)
        # Nothing visible changed; the half-built generation is discarded on recovery.
        assert artifact_hashes(ws) == before, step
        assert not journal_path(ws).exists()
        feats = _assert_loadable(ws)
        assert not new_ids & set(feats[ID_COL])
        action = recover(ws)["action"]
        assert action == ("none" if step == "read" else "discarded_staging"), step
        assert artifact_hashes(ws) == before and not staging_root(ws).exists()
        assert set(ws.updates.glob("*.json")) == reports_before

    from src.models.predict_model import Recommender

    assert len(Recommender.load(ws).catalogue) == len(pd.read_parquet(ws.features))

    # Killed just after the commit point: no file swapped yet, but the new version is durable.
    log = tmp_path / "update-committed.log"
    proc = _start_update(ws, files, log, pause_at="committed")
    _wait_for(log, "PAUSED at committed", proc)
    _kill(proc)
    assert journal_path(ws).exists() and artifact_hashes(ws) == before
    assert recover(ws)["action"] == "rolled_forward"
    new_reports = set(ws.updates.glob("*.json")) - reports_before
    assert len(new_reports) == 1
    rep = json.loads(new_reports.pop().read_text())
    current = artifact_hashes(ws)
    for rel, sha in rep["outputs"].items():
        if rel in current:
            assert current[rel] == sha, rel
    feats = _assert_loadable(ws)
    assert new_ids <= set(feats[ID_COL])
    assert upd.main(**files, paths=ws)["status"] == "unchanged"


@pytest.mark.parametrize("step", POST_COMMIT[1:])
def test_sigkill_after_commit_rolls_forward(synthetic_pipeline, tmp_path, step):
    ws = copy_workspace(synthetic_pipeline, tmp_path / "ws")
    rows = batch_rows(BASE_ID, n_movies=10, n_series=2, seed=23)
    files = write_batch(tmp_path / "batch", "b", rows)
    log = tmp_path / "update.log"
    proc = _start_update(ws, files, log, pause_at=step)
    _wait_for(log, f"PAUSED at {step}", proc)
    _kill(proc)
    _assert_loadable(ws)
    # The next update run recovers first, then applies its own batch.
    more = batch_rows(BASE_ID + 500, n_movies=3, seed=29)
    rep = upd.main(**write_batch(tmp_path / "more", "more", more), paths=ws)
    assert rep["status"] == "applied" and rep["added"] == 3
    feats = _assert_loadable(ws)
    assert {r["id"] for r in rows + more} <= set(feats[ID_COL])
    assert not journal_path(ws).exists() and not staging_root(ws).exists()


def test_sigkill_at_random_moments(synthetic_pipeline, tmp_path):
    """Kill at seeded random delays: always either the old or the new version after recovery."""
    ws = copy_workspace(synthetic_pipeline, tmp_path / "ws")
    rows = batch_rows(BASE_ID, n_movies=30, n_series=3, seed=31)
    files = write_batch(tmp_path / "batch", "r", rows)
    new_ids = {r["id"] for r in rows}
    before = artifact_hashes(ws)
    rng = random.Random(0)
    # Calibrate: how long does a full run take here?
    t0 = time.monotonic()
    probe = copy_workspace(synthetic_pipeline, tmp_path / "probe")
    p = _start_update(probe, files, tmp_path / "probe.log", pause_at=None)
    assert p.wait(timeout=120) == 0, (tmp_path / "probe.log").read_text()[-3000:]
    full = time.monotonic() - t0
    outcomes = []
    for k in range(2):
        log = tmp_path / f"rand{k}.log"
        proc = _start_update(ws, files, log, pause_at=None)
        time.sleep(rng.uniform(0.3, 1.0) * full)
        if proc.poll() is None:
            _kill(proc, may_have_finished=True)
        recover(ws)
        feats = _assert_loadable(ws)
        got = set(feats[ID_COL]) & new_ids
        assert got in (set(), new_ids), f"partial catalogue after kill {k}"
        if not got:
            assert artifact_hashes(ws) == before
        outcomes.append(bool(got))
        if got:
            break
    # Whatever happened, the next update completes and a re-run is a no-op.
    final = upd.main(**files, paths=ws)
    assert final["status"] in ("applied", "unchanged")
    assert new_ids <= set(pd.read_parquet(ws.features)[ID_COL])
    assert upd.main(**files, paths=ws)["status"] == "unchanged"
