"""Scale benchmark: EASE vs implicit ALS (vs Spark MLlib ALS at a small size) on one split.

Generates a seeded MovieLens-25M-shaped ratings set (:mod:`bench.scale_synth`), holds out
the same ratings for every engine (:func:`src.evaluation.ranker_holdout.holdout_split`, the
``invoke evaluate`` top-N protocol), and for each engine records train time, peak RSS and
NDCG@10 / precision@10 / catalogue coverage (share of items in anyone's top 10) next to
popularity. Each engine runs in its own spawned process reading
the ratings from Parquet, so its peak RSS is its own (``ru_maxrss``; for Spark that is the
Python driver: the JVM's memory is not in it). EASE runs under the memory guard: past the
budget it keeps the head of the catalogue and the row says how many items it ranked.

Usage: ``python bench/bench_scale.py [--ratings N --users U --items I] [--spark-ratings N]
[--no-spark] [--full] [--dense-budget-mb MB]``. The default size finishes in ~2-3 minutes on 2 shared cores;
``--full`` is the MovieLens-25M shape (25M ratings, 162k users, 59k items: ~10+ min, 8+ GB).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: src, bench.recorder

from bench.recorder import record_benchmark  # noqa: E402
from bench.scale_synth import ML25M, generate  # noqa: E402
from src.config import DENSE_BUDGET_ENV  # noqa: E402
from src.pipeline.java import find_java  # noqa: E402
from src.utils.logging import get_logger, setup_logging  # noqa: E402

log = get_logger("bench.scale")
SECTION = "Scale: EASE vs implicit ALS vs Spark ALS (synthetic MovieLens-25M shape)"
DEFAULT = {"n_ratings": 1_000_000, "n_users": 10_000, "n_items": 6_000}
ANN_USERS = 1_000  # users whose ANN lists are timed and compared with exact search
SPARK_DEFAULT = {"n_ratings": 200_000, "n_users": 2_500, "n_items": 3_000}


def _run_engine(engine: str, parquet: str, queue) -> None:
    """Child process: read the ratings, split, fit ``engine``, score; put a result dict."""
    import pandas as pd

    from src.evaluation.ranker_holdout import holdout_split, ranker_metrics
    from src.models.factor_ranker import fit_factor_ranker
    from src.models.spark_als import fit_spark_ranker
    from src.models.topn import fit_popularity, fit_ranker

    setup_logging("WARNING")
    df = pd.read_parquet(parquet)
    train, _test, relevant = holdout_split(df)
    fit = {"ease": fit_ranker, "implicit": fit_factor_ranker,
           "spark": lambda t: fit_spark_ranker(t, master="local[2]"),
           "popularity": fit_popularity}[engine]
    t0 = time.perf_counter()
    try:
        rk = fit(train)
    except MemoryError as exc:  # the guard refused: a row that says why, not a crash
        queue.put({"engine": engine, "error": str(exc)})
        return
    fit_s = time.perf_counter() - t0
    if engine == "popularity":
        rk.user_ids = train["userId"].drop_duplicates().sort_values().to_numpy()
    t1 = time.perf_counter()
    m = ranker_metrics(rk, train, relevant)
    score_s = time.perf_counter() - t1
    note = getattr(rk, "params", {}).get("memory_cap", "")
    if engine == "implicit":  # the serving side of factors: ANN candidates + exact re-rank
        from src.models.factor_ann import FactorAnn, ann_recall

        t2 = time.perf_counter()
        ann = FactorAnn(rk.item_factors)
        build_s = time.perf_counter() - t2
        users = rk.user_factors[:ANN_USERS]
        t3 = time.perf_counter()
        for p in users:
            ann.top_n(p, n=10)
        query_ms = (time.perf_counter() - t3) / len(users) * 1000
        note = (f"hnswlib: build {build_s:.1f} s, {query_ms:.2f} ms/query, "
                f"recall@10 {ann_recall(ann, users):.3f} vs exact")
    queue.put({"engine": engine, "fit_s": fit_s, "score_s": score_s,
               "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
               "ndcg": m["ndcg@10"], "precision": m["precision@10"], "coverage": m["coverage"],
               "users": m["users"],
               "items_ranked": len(rk.item_ids), "note": note})


def run_size(size: dict, engines: list[str], tmp: Path, seed: int = 0) -> tuple[dict, list[dict]]:
    """Generate one dataset, run every engine on it in its own process; (data facts, rows)."""
    t0 = time.perf_counter()
    df = generate(size["n_ratings"], size["n_users"], size["n_items"], seed=seed)
    gen_s = time.perf_counter() - t0
    parquet = tmp / f"ratings_{len(df)}.parquet"
    df.to_parquet(parquet)
    facts = {"ratings": len(df), "users": int(df["userId"].nunique()), "items": int(df["itemId"].nunique()),
             "gen_s": gen_s}
    log.info("generated %d ratings (%d users, %d items) in %.1f s", *facts.values())
    ctx = mp.get_context("spawn")
    rows = []
    for engine in engines:
        queue = ctx.Queue()
        proc = ctx.Process(target=_run_engine, args=(engine, str(parquet), queue))
        proc.start()
        res = queue.get()
        proc.join()
        log.info("%s", res)
        rows.append(res)
    return facts, rows


def table(facts: dict, rows: list[dict]) -> list[str]:
    """Markdown lines: one data line, one row per engine."""
    lines = [f"{facts['ratings']:,} ratings, {facts['users']:,} users, {facts['items']:,} items "
             f"(generated in {facts['gen_s']:.1f} s), 80/20 hold-out, seed 0:", "",
             "| engine | train s | peak RSS GB | NDCG@10 | P@10 | coverage | items ranked | score s | note |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['engine']} | | | | | | | | {r['error']} |")
            continue
        lines.append(f"| {r['engine']} | {r['fit_s']:.1f} | {r['peak_rss_gb']:.2f} | {r['ndcg']:.4f} | "
                     f"{r['precision']:.4f} | {r['coverage']:.3f} | {r['items_ranked']:,} | {r['score_s']:.1f} | "
                     f"{r['note']} |")
    return lines + [""]


def main() -> None:
    """Parse the size options, run, record the section in reports/benchmarks.md."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ratings", type=int, default=DEFAULT["n_ratings"])
    ap.add_argument("--users", type=int, default=DEFAULT["n_users"])
    ap.add_argument("--items", type=int, default=DEFAULT["n_items"])
    ap.add_argument("--spark-ratings", type=int, default=SPARK_DEFAULT["n_ratings"])
    ap.add_argument("--no-spark", action="store_true", help="skip the Spark size (no Java here)")
    ap.add_argument("--full", action="store_true", help="the MovieLens-25M shape (long: run on a quiet box)")
    ap.add_argument("--dense-budget-mb", type=float, default=None,
                    help="run EASE under this dense-matrix budget (shows the memory guard's head cut)")
    args = ap.parse_args()
    setup_logging()
    section = SECTION
    if args.dense_budget_mb is not None:  # inherited by the spawned engine processes
        os.environ[DENSE_BUDGET_ENV] = str(args.dense_budget_mb)
        section = f"{SECTION}, dense budget {args.dense_budget_mb:g} MiB"
    main_size = dict(ML25M) if args.full else {"n_ratings": args.ratings, "n_users": args.users,
                                                "n_items": args.items}
    spark_size = {**SPARK_DEFAULT, "n_ratings": args.spark_ratings,
                  "n_users": max(SPARK_DEFAULT["n_users"] * args.spark_ratings // SPARK_DEFAULT["n_ratings"], 1)}
    t0 = time.perf_counter()
    body = []
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        facts, rows = run_size(main_size, ["popularity", "ease", "implicit"], Path(tmp))
        body += ["### One machine: EASE vs implicit ALS", ""] + table(facts, rows)
        if not args.no_spark and find_java() is None:
            body += ["Spark size skipped: no Java here (`invoke test` installs it; see references/scaling.md).", ""]
        elif not args.no_spark:
            facts, rows = run_size(spark_size, ["popularity", "ease", "implicit", "spark"], Path(tmp))
            body += ["### Small size, all three engines (Spark local[2])", ""] + table(facts, rows)
    body += [f"Whole run {time.perf_counter() - t0:.0f} s. Engine defaults from `src/config/params.py` "
             "(EASE λ, ALS rank/iterations/α/λ); Spark's RSS is its Python driver only (the JVM "
             "is another process). Regenerate: `python bench/bench_scale.py` (`--full` for 25M).", ""]
    print(record_benchmark(section, "\n".join(body)))


if __name__ == "__main__":
    main()
