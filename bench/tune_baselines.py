"""Pick the SLIM baseline's α on validation (never test) and time its fit on ratings_small.

The split is the one :func:`src.evaluation.protocols.tune_on_validation` tunes EASE λ on: the
seed-0 random protocol's training side (20% of users cut to 1–5 ratings), from which a
validation side is carved (VALIDATION_FRACTION, seed 1000, the same cold-user cut). Each
model is fitted on the fit side and ranks every catalogue title the user has not rated; NDCG@10
over validation users. Grid: ``SLIM_ALPHA`` candidates at the config ρ / neighbour cap, then
exact SLIM (no neighbour cap) at the best α, with EASE (config λ) and implicit ALS (config
defaults) as references in the same run. Records section "Baseline tuning on validation
(ratings_small)" of ``reports/benchmarks.md``; the chosen α goes into src/config/params.py by
hand. About 2–4 minutes on 2 cores.

Usage: ``python bench/tune_baselines.py [--alphas 0.001,0.01,0.1,1] [--no-exact]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: src, bench.recorder

from bench.bench_protocols import build_workspace
from bench.recorder import record_benchmark
from src.utils.logging import get_logger, setup_logging

log = get_logger("bench.tune_baselines")
SECTION = "Baseline tuning on validation (ratings_small)"


def main() -> None:
    """Fit the grid on the validation split and record NDCG@10 and fit seconds."""
    import numpy as np
    import pandas as pd

    from src.config import (
        EASE_LAMBDA,
        ID_COL,
        SLIM_L1_RATIO,
        SLIM_NEIGHBOURS,
        TOPN_K,
        TOPN_TEST_FRACTION,
        USER_COL,
        VALIDATION_FRACTION,
    )
    from src.evaluation.metrics import mean_ranking_metrics
    from src.evaluation.splits import cold_user_cut
    from src.evaluation.topn_eval import ranker_lists, relevant_sets
    from src.models.factor_ranker import fit_factor_ranker
    from src.models.ratings_data import load_ratings
    from src.models.slim import fit_slim
    from src.models.split import bernoulli_split
    from src.models.topn import fit_ranker

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alphas", default="0.001,0.01,0.1,1", help="comma-separated SLIM α grid")
    ap.add_argument("--no-exact", action="store_true", help="skip exact SLIM (no neighbour cap)")
    ap.add_argument("--keep", help="reuse/keep the ETL workspace in this folder")
    args = ap.parse_args()
    setup_logging()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="streamrec-tune-baselines-"))
    try:
        ws = build_workspace(root) if not (root / "data" / "processed").exists() else None
        from src.config import Paths

        ws = ws or Paths.from_root(root)
        df = load_ratings(paths=ws, include_feedback=False)
        ids = np.sort(pd.read_parquet(ws.features)[ID_COL].to_numpy("int64"))
        seed = 0
        train0, _ = bernoulli_split(df, test_fraction=TOPN_TEST_FRACTION, seed=seed)
        train0, _ = cold_user_cut(train0, seed)
        fit, val = bernoulli_split(train0, test_fraction=VALIDATION_FRACTION, seed=seed + 1000)
        fit, _ = cold_user_cut(fit, seed + 1000)
        relevant = relevant_sets(val, fit[USER_COL].unique())
        users = np.array(sorted(relevant), dtype="int64")
        allowed = np.ones(len(ids), dtype=bool)
        rows: list[tuple[str, float, float, str]] = []

        def score(name: str, fitter, note: str = "") -> float:
            t = time.perf_counter()
            rk = fitter()
            secs = time.perf_counter() - t
            m = mean_ranking_metrics(ranker_lists(rk, users, ids, fit, allowed, TOPN_K), relevant, TOPN_K,
                                     n_items=len(ids))
            nnz = getattr(getattr(rk, "weights", None), "nnz", None)
            rows.append((name, m[f"ndcg@{TOPN_K}"], secs,
                         note or (f"{rk.n_items} items, {nnz} weights" if nnz is not None else f"{rk.n_items} items")))
            log.info("%s: ndcg@%d %.4f, fit %.1f s", name, TOPN_K, m[f"ndcg@{TOPN_K}"], secs)
            return m[f"ndcg@{TOPN_K}"]

        score(f"ease λ={EASE_LAMBDA:g}", lambda: fit_ranker(fit, lam=EASE_LAMBDA))
        score("als (config defaults)", lambda: fit_factor_ranker(fit))
        alphas = [float(a) for a in args.alphas.split(",")]
        got = {a: score(f"slim α={a:g}, ρ={SLIM_L1_RATIO:g}, {SLIM_NEIGHBOURS} neighbours",
                        lambda a=a: fit_slim(fit, alpha=a)) for a in alphas}
        best = max(got, key=got.get)
        if not args.no_exact:
            score(f"slim α={best:g}, ρ={SLIM_L1_RATIO:g}, exact (no neighbour cap)",
                  lambda: fit_slim(fit, alpha=best, neighbours=None))
        body = [f"Validation split of the seed-0 random protocol's training side ({len(fit)} fit ratings, "
                f"{len(users)} validation users with a relevant title; never test), NDCG@{TOPN_K} over "
                f"{len(ids)} catalogue titles. Best SLIM α on this grid: **{best:g}**.", "",
                f"| model | ndcg@{TOPN_K} (validation) | fit s | note |", "|---|---:|---:|---|"]
        body += [f"| {n} | {v:.4f} | {s:.1f} | {note} |" for n, v, s, note in rows]
        record_benchmark(SECTION, "\n".join(body) + "\n")
        print("\n".join(body))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
