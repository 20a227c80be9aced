"""The Spark engine's validation tuning and explicit-ALS stars on real ratings (ratings_small).

On one seeded 80/20 hold-out of ``ratings_small`` (``holdout_split``), fits
:func:`src.models.spark_als.fit_spark_ranker` in ``local[2]`` twice — with its default
``regParam`` candidates tuned on a validation split of the training side, and with the fixed
``SPARK_ALS_REG`` alone — and reports for each: fit seconds (JVM start and every fit
included), the tuning record, NDCG@10 of the lists on the hold-out (``ranker_metrics``), and
the RMSE of the predicted stars (the explicit ALS served as an SVD) on held-out ratings of
known users and titles, beside the Surprise SVD fitted on the same training side and the
global mean. Records section "Spark engine on ratings_small: validation tuning and explicit
stars" of ``reports/benchmarks.md``.

Usage: ``python bench/bench_spark_engine.py [--no-record]`` (~3 min on 2 cores; needs the
``[spark]`` extra and Java).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # repo root: src, bench.recorder

from bench.recorder import record_benchmark  # noqa: E402
from src.config import (  # noqa: E402
    ITEM_ID_COL, PATHS, RATING_COL, SHARED_DATA_DIR, SPARK_ALS_REG, SPARK_TUNE_REGS, USER_COL,
)
from src.evaluation.ranker_holdout import holdout_split, ranker_metrics  # noqa: E402
from src.models.ratings_data import load_ratings  # noqa: E402
from src.models.spark_als import fit_spark_ranker  # noqa: E402
from src.models.train_model import fit_svd, svd_params_for_training  # noqa: E402
from src.utils.logging import get_logger, setup_logging  # noqa: E402

log = get_logger("bench.spark_engine")
SECTION = "Spark engine on ratings_small: validation tuning and explicit stars"


def _rmse(model, test) -> float:
    """RMSE of ``model.predict(u, i).est`` (a surprise algorithm) on the ratings of ``test``."""
    est = np.array([model.predict(u, i).est for u, i in zip(test[USER_COL], test[ITEM_ID_COL])])
    return float(np.sqrt(np.mean((est - test[RATING_COL].to_numpy()) ** 2)))


def main(argv: list[str] | None = None) -> str:
    """Run both fits and the baselines; record (or print) the section. Out: its Markdown."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-record", action="store_true", help="print, do not write reports/benchmarks.md")
    args = ap.parse_args(argv)
    setup_logging("INFO")
    df = load_ratings(SHARED_DATA_DIR / "ratings_small.csv.gz", SHARED_DATA_DIR / "links_small.csv.gz",
                      include_feedback=False)
    train, test, relevant = holdout_split(df, test_fraction=0.2, seed=0)
    known = test[test[USER_COL].isin(train[USER_COL]) & test[ITEM_ID_COL].isin(train[ITEM_ID_COL])]
    rows = []
    for label, kw in ((f"tuned over {', '.join(f'{r:g}' for r in SPARK_TUNE_REGS)}", {}),
                      (f"fixed regParam {SPARK_ALS_REG:g} (no tuning)", {"tune_regs": ()})):
        t0 = time.perf_counter()
        rk, stars = fit_spark_ranker(train, master="local[2]", **kw)
        seconds = time.perf_counter() - t0
        tuning = rk.params.get("tuning")
        rows.append((label, seconds, rk.params["spark_reg"],
                     "; ".join(f"{r}: {v:.4f}" for r, v in tuning["ndcg"].items()) if tuning else "—",
                     ranker_metrics(rk, train, relevant)["ndcg@10"], _rmse(stars, known)))
    params, source = svd_params_for_training(PATHS)
    t0 = time.perf_counter()
    svd = fit_svd(train, params)
    svd_s = time.perf_counter() - t0
    mean_rmse = float(np.sqrt(np.mean((train[RATING_COL].mean() - known[RATING_COL].to_numpy()) ** 2)))
    lines = [f"`fit_spark_ranker` in `local[2]` on a seeded 80% of ratings_small ({len(train):,} ratings; "
             f"hold-out {len(test):,}, of which {len(known):,} of known users and titles score the stars). "
             "Validation NDCG@10: each candidate fitted on 90% of the training side, scored on the "
             "rest. Hold-out NDCG@10: the served lists (training items left out) against each user's "
             "held-out ratings ≥ the fit threshold. Stars: the explicit ALS (rank and iterations as "
             "the implicit one), served as an SVD.", "",
             "| Spark engine | fit s (all fits, JVM included) | regParam used | validation NDCG@10 per candidate | "
             "hold-out NDCG@10 | stars RMSE |", "|---|---:|---:|---|---:|---:|"]
    lines += [f"| {lb} | {s:.1f} | {reg:g} | {tv} | {nd:.4f} | {rm:.4f} |" for lb, s, reg, tv, nd, rm in rows]
    lines += ["", f"Baselines on the same split: Surprise SVD (params from {source}) stars RMSE "
              f"**{_rmse(svd, known):.4f}** ({svd_s:.1f} s); the training mean {mean_rmse:.4f}.", "",
              "Regenerate: `python bench/bench_spark_engine.py`."]
    body = "\n".join(lines)
    if args.no_record:
        print(body)
    else:
        log.info("recorded in %s", record_benchmark(SECTION, body))
    return body


if __name__ == "__main__":
    main()
