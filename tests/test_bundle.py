"""Model bundle integrity: round trip, tamper and missing-sidecar refusal, atomic save."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from src.config import ITEM_ID_COL, RATING_COL, TIMESTAMP_COL, USER_COL
from src.models.bundle import (
    BundleIntegrityError,
    ModelBundle,
    load_bundle,
    save_bundle,
    sidecar_path,
)
from src.models.ratings_data import ratings_sha256
from src.models.train_model import fit_svd
from src.utils.io import sha256_file

PARAMS = {"n_factors": 4, "n_epochs": 5}


def _ratings(seed: int = 0, n_users: int = 40, n_items: int = 30) -> pd.DataFrame:
    """Small random ratings frame in the model-ready shape."""
    rng = np.random.default_rng(seed)
    pairs = {(int(u), int(i)) for u, i in zip(rng.integers(1, n_users + 1, 600),
                                             rng.integers(100, 100 + n_items, 600))}
    u, i = np.array(sorted(pairs)).T
    return pd.DataFrame({USER_COL: u, ITEM_ID_COL: i,
                         RATING_COL: rng.integers(1, 11, len(u)) / 2.0,
                         TIMESTAMP_COL: np.arange(len(u), dtype="int64")})


def _bundle(seed: int = 0) -> ModelBundle:
    df = _ratings(seed)
    return ModelBundle(svd=fit_svd(df, PARAMS), ranker=None, train_ratings=df, params=PARAMS,
                       metadata={"data": {"sha256": ratings_sha256(df)}, "metrics": {"x": 1}})


class _Evil:
    """Unpickling this creates a marker file: proves whether a file was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("simulated crash while pickling")


def test_round_trip_keeps_predictions_and_writes_sidecar(tmp_path):
    b = _bundle()
    path = save_bundle(b, tmp_path / "models" / "svd_model.pkl")
    side = json.loads(sidecar_path(path).read_text())
    digest = sha256_file(path)
    assert side["sha256"] == digest and side["version"] == digest[:12]
    assert side["params"] == PARAMS
    assert side["data"]["sha256"] == ratings_sha256(b.train_ratings)
    assert side["libraries"]["scikit-surprise"] and side["created_at"]
    assert side["metrics"] == {"x": 1} and side["has_ranker"] is False

    loaded = load_bundle(path)
    assert loaded.version == digest[:12] == b.version
    pd.testing.assert_frame_equal(loaded.train_ratings, b.train_ratings)
    for u, i in [(1, 100), (7, 111), (40, 129), (999, 100)]:
        assert loaded.svd.predict(u, i).est == pytest.approx(b.svd.predict(u, i).est)


def test_flipped_byte_is_refused(tmp_path):
    path = save_bundle(_bundle(), tmp_path / "m.pkl")
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(BundleIntegrityError, match="checksum"):
        load_bundle(path)


def test_missing_or_broken_sidecar_is_refused(tmp_path):
    path = save_bundle(_bundle(), tmp_path / "m.pkl")
    side = sidecar_path(path)
    side.write_text("{not json")
    with pytest.raises(BundleIntegrityError, match="not valid JSON"):
        load_bundle(path)
    side.unlink()
    with pytest.raises(BundleIntegrityError, match="missing"):
        load_bundle(path)
    with pytest.raises(FileNotFoundError):
        load_bundle(tmp_path / "absent.pkl")


def test_swapped_pickle_is_never_unpickled(tmp_path):
    """A replaced pickle must be rejected BEFORE unpickling (which could run code)."""
    path = save_bundle(_bundle(), tmp_path / "m.pkl")
    marker = tmp_path / "pwned"
    path.write_bytes(pickle.dumps(_Evil(marker)))
    with pytest.raises(BundleIntegrityError):
        load_bundle(path)
    assert not marker.exists()


def test_interrupted_save_keeps_previous_bundle(tmp_path):
    path = save_bundle(_bundle(seed=0), tmp_path / "m.pkl")
    before_pkl, before_side = path.read_bytes(), sidecar_path(path).read_text()
    broken = _bundle(seed=1)
    broken.ranker = _Unpicklable()
    with pytest.raises(RuntimeError, match="simulated crash"):
        save_bundle(broken, path)
    assert path.read_bytes() == before_pkl
    assert sidecar_path(path).read_text() == before_side
    assert load_bundle(path).train_ratings.equals(_bundle(seed=0).train_ratings)
    # No temp files left behind next to the model.
    assert sorted(os.listdir(tmp_path)) == ["m.json", "m.pkl"]


def test_resave_changes_version(tmp_path):
    p = tmp_path / "m.pkl"
    v1 = load_bundle(save_bundle(_bundle(seed=0), p)).version
    v2 = load_bundle(save_bundle(_bundle(seed=2), p)).version
    assert v1 != v2 and len(v1) == len(v2) == 12
