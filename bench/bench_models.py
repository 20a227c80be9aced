"""Model accuracy benchmark on the real MovieLens sample (ratings_small + links_small).

Runs the full evaluation (:func:`src.evaluation.evaluate.main`: 5-fold CV of every rating model on
the same folds, then the top-N protocol) in a throw-away workspace, and records in
``reports/benchmarks.md`` (section "Model accuracy (ratings_small)") the RMSE/MAE table, the
top-N table (NDCG@10 of served vs ease vs popularity vs svd_predicted) and the target verdicts:
best RMSE <= config.RMSE_TARGET, tuned SVD below BaselineOnly and SVD defaults, served
above popularity, the protocols block — all against baselines measured in the same run. Takes minutes.

Usage: ``python bench/bench_models.py [--svdpp] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: src, bench.recorder, tests.harness

from bench.recorder import record_benchmark  # noqa: E402
from src.config import SHARED_DATA_DIR, TOPN_K, Paths  # noqa: E402
from src.evaluation import evaluate  # noqa: E402
from src.utils.logging import get_logger, setup_logging, timed  # noqa: E402

log = get_logger("bench.models")
SECTION = "Model accuracy (ratings_small)"


def body_markdown(m: dict, seconds: float) -> str:
    """Format the evaluation result as the benchmark section body (tables + verdicts)."""
    ds = m["dataset"]
    k = TOPN_K
    lines = [
        f"Data: `ratings_small.csv.gz` + `links_small.csv.gz` -> {ds['n_ratings']} ratings, "
        f"{ds['n_users']} users, {ds['n_items']} catalogue items ({ds.get('load_unmapped', 0)} "
        f"unmapped ratings dropped, {ds.get('load_duplicates', 0)} duplicate user/item collapsed). "
        f"Whole run {seconds:.0f} s.", "",
        f"Rating accuracy, {m['protocol']['rating']['folds']}-fold CV (surprise KFold "
        f"random_state={m['protocol']['rating']['kfold_random_state']}, same folds for all); "
        f"svd_tuned = `{m['protocol']['rating']['svd_tuned_params']}` "
        f"({m['protocol']['rating']['svd_tuned_source']}):", "",
        "| model | RMSE | MAE | fit s/fold |", "|---|---:|---:|---:|",
    ]
    for name, r in sorted(m["rating"].items(), key=lambda kv: kv[1]["rmse"]):
        lines.append(f"| {name} | {r['rmse']:.4f} | {r['mae']:.4f} | {r['fit_seconds']:.2f} |")
    if m.get("topn"):
        lines += ["", f"Top-{k} (each rating to test with p=0.2, seed 0; relevant = rating >= 4):", "",
                  f"| model | ndcg@{k} | precision@{k} | recall@{k} | map@{k} | coverage |",
                  "|---|---:|---:|---:|---:|---:|"]
        for name, r in m["topn"].items():
            lines.append(f"| {name} | {r[f'ndcg@{k}']:.4f} | {r[f'precision@{k}']:.4f} | "
                         f"{r[f'recall@{k}']:.4f} | {r[f'map@{k}']:.4f} | {r['coverage']:.4f} |")
    lines += ["", "| check | target | value | baseline (same run) | verdict |",
              "|---|---|---:|---:|---|"]
    lines += [evaluate.target_row(name, t) for name, t in m["targets"].items()]
    lines += ["", "`svd_knn_blend` (50/50 average of svd_tuned and knn_baseline estimates, fixed "
              "weights) and `rating_blend` (ridge-stacked bases, weights fitted on a validation split "
              "of each fold's training part; `src.models.rating_blend`) are evaluation-only; the "
              "served rating model is `svd_tuned` (`served_svd_rmse`)."]
    return "\n".join(lines)


def main() -> None:
    """Parse arguments, run the evaluation in a temp workspace, record the section."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--svdpp", action="store_true", help="also evaluate SVD++ (slow)")
    ap.add_argument("--full", action="store_true", help="accepted for `invoke bench --full`; same run")
    ap.add_argument("--keep", help="write the workspace (metrics.json, metrics.md, figures) here")
    args = ap.parse_args()
    setup_logging()
    tmp = Path(tempfile.mkdtemp(prefix="bench_models_"))
    root = Path(args.keep) if args.keep else tmp
    try:
        ws = Paths.from_root(root).ensure()
        with timed(log, "model evaluation on ratings_small") as t:
            m = evaluate.main(ratings=SHARED_DATA_DIR / "ratings_small.csv.gz",
                              links=SHARED_DATA_DIR / "links_small.csv.gz", svdpp=args.svdpp,
                              paths=ws)
        path = record_benchmark(SECTION, body_markdown(m, t["seconds"]))
        log.info("recorded %s in %s", SECTION, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
