"""Small real catalogues and ``invoke`` runs for the bad-input tests and bench (not tests).

``movies_text`` writes valid tmdb_5000-schema titles (tests/update_batches.py builders);
``small_catalogue`` runs the real ETL on them in a workspace; ``run_invoke`` runs the real
``invoke`` command against a workspace (``STREAMREC_HOME``) in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from src.config import Paths
from tests.update_batches import batch_rows, tmdb_frame

REPO = Path(__file__).resolve().parents[2]


def movies_text(n: int, start: int = 1) -> str:
    """A tmdb_5000-schema movies CSV of ``n`` valid titles with ids from ``start``."""
    return tmdb_frame(batch_rows(start, n_movies=n, seed=start)).to_csv(index=False)


def small_catalogue(paths: Paths, folder: Path, n: int = 40) -> Paths:
    """Run the real ETL on ``n`` good titles (ids 1..n) written into ``folder``."""
    from src.data.make_dataset import main as etl_main

    folder.mkdir(parents=True, exist_ok=True)
    good = folder / "good.csv"
    good.write_text(movies_text(n))
    etl_main(movies=good, paths=paths)
    return paths


def run_invoke(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``invoke <args>`` from the repo against the workspace rooted at ``home``."""
    env = {**os.environ, "STREAMREC_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "invoke", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
