"""Shared pytest fixtures: the real sample data, throw-away workspaces, and session-wide
pipelines (ETL on the real files, the small synthetic dataset end to end) built once.

Fixtures call the same entry points as ``tasks.py`` so the tests exercise what users run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from src.config import SHARED_DATA_DIR, Paths


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of the real sample files (``../shared/data/movies``); CI has it too."""
    if not (SHARED_DATA_DIR / "tmdb_5000_movies.csv.gz").exists():
        # Fail, never skip: CI must run these tests.
        pytest.fail(f"real sample data not found at {SHARED_DATA_DIR} (set STREAMREC_SHARED_DATA)")
    return SHARED_DATA_DIR


@pytest.fixture()
def workspace(tmp_path: Path) -> Paths:
    """An empty StreamRec workspace (data/, models/, reports/) in a temp folder."""
    return Paths.from_root(tmp_path).ensure()


@pytest.fixture(scope="session")
def real_etl(tmp_path_factory, shared_data: Path) -> Paths:
    """Workspace where the ETL ran once on the real sample files."""
    from src.data.make_dataset import main as etl_main

    ws = Paths.from_root(tmp_path_factory.mktemp("real_etl")).ensure()
    etl_main(
        movies=shared_data / "tmdb_5000_movies.csv.gz",
        credits=shared_data / "credits_sample.csv.gz",
        keywords=shared_data / "keywords.csv.gz",
        links=shared_data / "links_small.csv.gz",
        ratings=shared_data / "ratings_small.csv.gz",
        paths=ws,
    )
    return ws


@pytest.fixture(scope="session")
def real_features(real_etl: Paths) -> Paths:
    """The real-data workspace with ``features.parquet`` built."""
    from src.features.build_features import main as features_main

    features_main(paths=real_etl)
    return real_etl


@pytest.fixture(scope="session")
def synthetic_pipeline(tmp_path_factory) -> Paths:
    """Workspace with the small synthetic dataset generated, ETL'd, featurised and trained."""
    from src.data.make_dataset import main as etl_main
    from src.data.synthetic import generate
    from src.features.build_features import main as features_main
    from src.models.train_model import main as train_main

    ws = Paths.from_root(tmp_path_factory.mktemp("synthetic")).ensure()
    generate(ws.raw, scale="small", seed=0)
    etl_main(paths=ws)
    features_main(paths=ws)
    train_main(paths=ws)
    return ws


@pytest.fixture(scope="module")
def ws(synthetic_pipeline: Paths, tmp_path_factory) -> Paths:
    """A private copy of the trained synthetic workspace, shared by one test module.

    Modules that mutate it per test (the update tests) override this with a function-scoped
    copy. The copy leaves out any ratings store so posted ratings never leak between modules.
    """
    from tests.harness.launcher import copy_workspace

    return copy_workspace(synthetic_pipeline, tmp_path_factory.mktemp("ws"))


@pytest.fixture(scope="module")
def server(ws: Paths):
    """The real server (API + UI) on a free 127.0.0.1 port, serving ``ws``."""
    from tests.harness.launcher import ServerProcess

    with ServerProcess(ws, ui=True) as srv:
        yield srv


@pytest.fixture(autouse=True)
def _no_network_matplotlib(monkeypatch):
    """Headless plotting in every test."""
    monkeypatch.setenv("MPLBACKEND", "Agg")
    os.environ.setdefault("MPLBACKEND", "Agg")
