"""Pick the SLIM and implicit-ALS peers' parameters on validation (never test); time their fits.

The split is the one :func:`src.evaluation.protocols.tune_on_validation` tunes EASE λ on: the
seed-0 random protocol's training side (20% of users cut to 1–5 ratings), from which a
validation side is carved (VALIDATION_FRACTION, seed 1000, the same cold-user cut). Each
model is fitted on the fit side and ranks every catalogue title the user has not rated; NDCG@10
over validation users. Grids: implicit ALS rank × λ × α, SLIM α × ρ at the config neighbour
rule (``SLIM_NEIGHBOURS``), then the best pair with the other rule (a cap of 200 / none), with
EASE (config λ) as the reference in the same run; last, the fit time of both at the chosen
values on all of ratings_small. (An earlier grid, α 0.001–1 × ρ 0.01–0.5 with a 200-neighbour
cap, peaked at the low-ρ, high-α corner: hence these ranges.) Records section "Baseline tuning
on validation (ratings_small)" of ``reports/benchmarks.md``; the chosen values go into
src/config/params.py by hand (``SLIM_ALPHA``, ``SLIM_L1_RATIO``, ``ALS_PEER_PARAMS``).
About 5–8 minutes on 2 cores.

Usage: ``python bench/tune_baselines.py [--alphas 0.1,0.3,1,3] [--l1-ratios 0.001,0.01]
[--als-factors 32,64,128] [--als-reg 1,10,50,200] [--als-alpha 1,5,20] [--no-compare] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: src, bench.recorder

from bench.bench_protocols import build_workspace
from bench.recorder import bench_workspace, record_benchmark
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
        SLIM_NEIGHBOURS,
        TOPN_K,
        TOPN_TEST_FRACTION,
        USER_COL,
        VALIDATION_FRACTION,
    )
    from src.utils.ranking_metrics import mean_ranking_metrics
    from src.evaluation.splits import cold_user_cut
    from src.evaluation.topn_eval import ranker_lists, relevant_sets
    from src.models.factor_ranker import fit_factor_ranker
    from src.models.ratings_data import load_ratings
    from src.models.slim import fit_slim
    from src.models.split import bernoulli_split
    from src.models.topn import fit_ranker

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--alphas", default="0.1,0.3,1,3", help="comma-separated SLIM α grid")
    ap.add_argument("--l1-ratios", default="0.001,0.01", help="comma-separated SLIM ρ grid")
    ap.add_argument("--als-factors", default="32,64,128", help="comma-separated ALS rank grid")
    ap.add_argument("--als-reg", default="1,10,50,200", help="comma-separated ALS λ grid")
    ap.add_argument("--als-alpha", default="1,5,20", help="comma-separated ALS α (confidence) grid")
    ap.add_argument("--no-compare", action="store_true",
                    help="skip the best SLIM pair refitted with the other neighbour rule (cap 200 / none)")
    ap.add_argument("--keep", help="reuse/keep the ETL workspace in this folder")
    args = ap.parse_args()
    setup_logging()
    with bench_workspace(args.keep, "streamrec-tune-baselines-") as root:
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
        als = {}
        for f in [int(v) for v in args.als_factors.split(",")]:
            for reg in [float(v) for v in args.als_reg.split(",")]:
                for a in [float(v) for v in args.als_alpha.split(",")]:
                    als[(f, reg, a)] = score(f"als factors={f}, reg={reg:g}, α={a:g}",
                                             lambda f=f, reg=reg, a=a: fit_factor_ranker(
                                                 fit, factors=f, regularization=reg, alpha=a))
        slim = {}
        for a in [float(v) for v in args.alphas.split(",")]:
            for rho in [float(v) for v in args.l1_ratios.split(",")]:
                slim[(a, rho)] = score(f"slim α={a:g}, ρ={rho:g}, {SLIM_NEIGHBOURS or 'all co-occurring'} neighbours",
                                       lambda a=a, rho=rho: fit_slim(fit, alpha=a, l1_ratio=rho))
        best = max(slim, key=slim.get)
        best_als = max(als, key=als.get)
        if not args.no_compare:
            other = 200 if SLIM_NEIGHBOURS is None else None
            score(f"slim α={best[0]:g}, ρ={best[1]:g}, {other or 'all co-occurring'} neighbours",
                  lambda: fit_slim(fit, alpha=best[0], l1_ratio=best[1], neighbours=other))
        # Fit time at the chosen values on all of ratings_small (timing only: nothing is scored).
        t = time.perf_counter()
        full = fit_slim(df, alpha=best[0], l1_ratio=best[1])
        full_s = time.perf_counter() - t
        t = time.perf_counter()
        fit_factor_ranker(df, factors=best_als[0], regularization=best_als[1], alpha=best_als[2])
        full_als_s = time.perf_counter() - t
        body = [f"Validation split of the seed-0 random protocol's training side ({len(fit)} fit ratings, "
                f"{len(users)} validation users with a relevant title; never test), NDCG@{TOPN_K} over "
                f"{len(ids)} catalogue titles. Best on this grid: SLIM α = **{best[0]:g}**, ρ = **{best[1]:g}**; "
                f"ALS factors = **{best_als[0]}**, reg = **{best_als[1]:g}**, α = **{best_als[2]:g}**. "
                f"Fit on all {len(df)} ratings at those values: SLIM {full_s:.1f} s ({full.n_items} items, "
                f"{full.weights.nnz} weights), ALS {full_als_s:.1f} s.", "",
                f"| model | ndcg@{TOPN_K} (validation) | fit s | note |", "|---|---:|---:|---|"]
        body += [f"| {n} | {v:.4f} | {s:.1f} | {note} |" for n, v, s, note in rows]
        record_benchmark(SECTION, "\n".join(body) + "\n")
        print("\n".join(body))


if __name__ == "__main__":
    main()
