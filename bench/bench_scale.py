"""Scale benchmark: EASE vs implicit ALS vs Spark MLlib ALS (vs EASE-head + ALS-tail) on one split.

Generates a seeded MovieLens-25M-shaped ratings set (:mod:`bench.scale_synth`), holds out
the same ratings for every engine (:func:`src.evaluation.ranker_holdout.holdout_split`, the
``invoke evaluate`` top-N protocol), and for each engine records train time, peak RSS and
NDCG@10 / precision@10 / catalogue coverage (share of items in anyone's top 10) next to
popularity. Each engine runs in its own spawned process reading
the ratings from Parquet, so its peak RSS is its own (``ru_maxrss``; for Spark that is the
Python driver: the JVM's memory is not in it). EASE runs under the memory guard: past the
budget it keeps the head of the catalogue and the row says how many items it ranked.

``--crossover N [N ...]`` is issue 14's Spark crossover: for each N, the MovieLens-25M shape
scaled to N ratings (users in proportion, all 59k items, so EASE is past its item cap) and
every engine on one hold-out — popularity, EASE (capped), implicit ALS (``--engine
implicit``), EASE on its head items + ALS scores for the tail (:class:`HeadTailRanker`), and
Spark MLlib ALS in ``local[2]`` (``--engine spark``) — one report section per N. Peak RSS is
then the whole process tree's (sampled: the Spark driver's JVM is a child process).

Usage: ``python bench/bench_scale.py [--ratings N --users U --items I] [--spark-ratings N]
[--no-spark] [--full] [--dense-budget-mb MB] [--crossover N ... [--engines E,E] [--spark-driver-memory 6g]]``.
The default size finishes in ~2-3 minutes on 2 shared cores; ``--full`` is the MovieLens-25M
shape (25M ratings, 162k users, 59k items: ~10+ min, 8+ GB); ``--crossover 5000000`` took
60 min under a load average of ~6 (EASE's two fits and their scoring most of it).
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: src, bench.recorder

from bench.recorder import record_benchmark  # noqa: E402
from bench.scale_synth import ML25M, generate  # noqa: E402
from src.config import DENSE_BUDGET_ENV, SEED  # noqa: E402
from src.pipeline.java import find_java  # noqa: E402
from src.utils.logging import get_logger, setup_logging  # noqa: E402

log = get_logger("bench.scale")
SECTION = "Scale: EASE vs implicit ALS vs Spark ALS (synthetic MovieLens-25M shape)"
DEFAULT = {"n_ratings": 1_000_000, "n_users": 10_000, "n_items": 6_000}
ANN_USERS = 1_000  # users whose ANN lists are timed and compared with exact search
SPARK_DEFAULT = {"n_ratings": 200_000, "n_users": 2_500, "n_items": 3_000}
CROSSOVER_ENGINES = ["popularity", "ease", "implicit", "hybrid", "spark"]
CROSSOVER_SECTION = "Spark crossover at {size}: Spark ALS vs implicit ALS vs EASE (synthetic MovieLens-25M shape)"
RSS_SAMPLE_S = 0.5  # how often the process tree's RSS is sampled (the Spark JVM is a child)


class HeadTailRanker:
    """EASE on its (capped) head items, ALS scores for every other item, on one scale.

    In: a fitted EASE ranker (its ``item_ids`` are the head) and a factor ranker over the
    whole catalogue. ``score_users`` returns ALS's columns (every item): head columns get
    EASE's scores; tail columns get the user's ALS scores mapped onto EASE's scale by
    matching, per user, the mean and standard deviation of the two score vectors over the
    head items (the one merge rule measured; nothing tuned). A user EASE does not know (all
    their training ratings on tail items) gets plain ALS scores. Same models contract as the
    rankers (``item_ids``, ``user_ids``, ``score_users``), so :func:`ranker_metrics` scores it.
    """

    def __init__(self, ease, als) -> None:
        self.ease, self.als = ease, als
        self.item_ids, self.user_ids = als.item_ids, als.user_ids
        self.head = als.positions(ease.item_ids)          # ALS column of each EASE column
        if (self.head < 0).any():
            raise ValueError(f"{int((self.head < 0).sum())} EASE items have no ALS factor")
        self.params = {"memory_cap": ease.params.get("memory_cap", "")}

    def score_users(self, user_ids) -> np.ndarray:
        """(len(user_ids) × all items) float32: EASE on the head, scale-matched ALS on the tail."""
        user_ids = np.asarray(user_ids, dtype="int64")
        out = self.als.score_users(user_ids)
        in_ease = np.isin(user_ids, self.ease.user_ids)
        if not in_ease.any():
            return out
        e = self.ease.score_users(user_ids[in_ease])
        a = out[in_ease]
        ah = a[:, self.head]
        sd_a = np.maximum(ah.std(axis=1, keepdims=True), 1e-12)
        mapped = (a - ah.mean(axis=1, keepdims=True)) / sd_a * e.std(axis=1, keepdims=True) + e.mean(
            axis=1, keepdims=True)
        mapped[:, self.head] = e
        out[in_ease] = mapped
        return out


def _tree_rss_bytes(proc) -> int:
    """RSS of ``proc`` plus every live descendant (bytes); processes that vanish count 0."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except Exception:  # noqa: BLE001 - a child that exited between listing and reading
            pass
    return total


class TreePeak:
    """Samples this process tree's RSS every ``RSS_SAMPLE_S`` in a daemon thread; ``peak``
    is the largest sum seen (ru_maxrss cannot see a live child, e.g. Spark's JVM)."""

    def __init__(self) -> None:
        import psutil

        self._proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss_bytes(self._proc))
            self._stop.wait(RSS_SAMPLE_S)

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._stop.set()
        self._thread.join()
        return self.peak


def _run_engine(engine: str, parquet: str, queue, spark_conf: dict | None = None,
                eval_users: int | None = None) -> None:
    """Child process: read the ratings, split, fit ``engine``, score; put a result dict.

    ``hybrid`` fits EASE and implicit ALS and scores :class:`HeadTailRanker` (its fit time is
    both fits); ``spark_conf`` is extra Spark conf for the ``spark`` engine (driver memory);
    ``eval_users``: score a seeded sample of that many test users (the same for every engine)
    instead of all of them (at 25M, scoring 160k users costs more than most fits)."""
    import pandas as pd

    from src.evaluation.ranker_holdout import holdout_split, ranker_metrics
    from src.models.factor_ranker import fit_factor_ranker
    from src.models.spark_als import fit_spark_ranker
    from src.models.topn import fit_popularity, fit_ranker

    setup_logging("WARNING")
    sampler = TreePeak()
    df = pd.read_parquet(parquet)
    train, _test, relevant = holdout_split(df)
    del df
    if eval_users is not None and len(relevant) > eval_users:
        keep = np.random.default_rng(SEED).choice(np.array(sorted(relevant)), eval_users, replace=False)
        relevant = {int(u): relevant[int(u)] for u in np.sort(keep)}
    fit = {"ease": fit_ranker, "implicit": fit_factor_ranker,
           "spark": lambda t: fit_spark_ranker(t, master="local[2]", conf=spark_conf, tune_regs=(), stars=False)[0],
           "hybrid": lambda t: HeadTailRanker(fit_ranker(t), fit_factor_ranker(t)),
           "popularity": fit_popularity}[engine]
    t0 = time.perf_counter()
    try:
        rk = fit(train)
    except MemoryError as exc:  # the guard refused: a row that says why, not a crash
        sampler.stop()
        queue.put({"engine": engine, "error": str(exc)})
        return
    fit_s = time.perf_counter() - t0
    if engine == "popularity":
        rk.user_ids = train["userId"].drop_duplicates().sort_values().to_numpy()
    t1 = time.perf_counter()
    m = ranker_metrics(rk, train, relevant)
    score_s = time.perf_counter() - t1
    note = getattr(rk, "params", {}).get("memory_cap", "")
    if engine == "hybrid":  # how much of what users liked next lies past EASE's head
        head = set(rk.ease.item_ids.tolist())
        n_rel = sum(len(r) for r in relevant.values())
        n_tail = sum(len(r - head) for r in relevant.values())
        note = (f"EASE on the {len(head):,} head items + scale-matched ALS on the other "
                f"{len(rk.item_ids) - len(head):,}; {n_tail / max(n_rel, 1):.1%} of relevant test items are tail")
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
    self_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    tree_gb = max(sampler.stop() / 2**30, self_gb)  # sampling can miss the process's own peak
    queue.put({"engine": engine, "fit_s": fit_s, "score_s": score_s, "peak_rss_gb": self_gb,
               "tree_rss_gb": tree_gb,
               "ndcg": m["ndcg@10"], "precision": m["precision@10"], "recall": m["recall@10"],
               "coverage": m["coverage"],
               "users": m["users"],
               "items_ranked": len(rk.item_ids), "note": note})


def run_size(size: dict, engines: list[str], tmp: Path, seed: int = 0, spark_conf: dict | None = None,
             on_row=None, eval_users: int | None = None) -> tuple[dict, list[dict]]:
    """Generate one dataset, run every engine on it in its own process; (data facts, rows).

    ``on_row(facts, rows_so_far)`` is called after each engine (the crossover records its
    section as it goes, so a long run cut short still leaves what it measured)."""
    t0 = time.perf_counter()
    df = generate(size["n_ratings"], size["n_users"], size["n_items"], seed=seed)
    gen_s = time.perf_counter() - t0
    parquet = tmp / f"ratings_{len(df)}.parquet"
    df.to_parquet(parquet)
    facts = {"ratings": len(df), "users": int(df["userId"].nunique()), "items": int(df["itemId"].nunique()),
             "gen_s": gen_s}
    del df  # the children read the Parquet: the parent's copy would only add to the box's load
    log.info("generated %d ratings (%d users, %d items) in %.1f s", *facts.values())
    ctx = mp.get_context("spawn")
    rows = []
    for engine in engines:
        queue = ctx.Queue()
        proc = ctx.Process(target=_run_engine, args=(engine, str(parquet), queue, spark_conf, eval_users))
        proc.start()
        res = _result(proc, queue, engine)
        proc.join()
        res["load"] = os.getloadavg()[0]
        log.info("%s", res)
        rows.append(res)
        if on_row is not None:
            on_row(facts, rows)
    return facts, rows


def _result(proc, queue, engine: str) -> dict:
    """The child's result dict, or an error row when it died without one (e.g. killed for
    memory), instead of waiting forever on the queue."""
    import queue as queue_mod

    while True:
        try:
            return queue.get(timeout=5)
        except queue_mod.Empty:
            if not proc.is_alive():
                try:
                    return queue.get(timeout=1)
                except queue_mod.Empty:
                    return {"engine": engine, "error": f"the engine's process died (exit code {proc.exitcode})"}


def table(facts: dict, rows: list[dict], tree: bool = False) -> list[str]:
    """Markdown lines: one data line, one row per engine (``tree``: the process tree's sampled
    peak RSS and the load average after each engine, as the crossover records them)."""
    lines = [f"{facts['ratings']:,} ratings, {facts['users']:,} users, {facts['items']:,} items "
             f"(generated in {facts['gen_s']:.1f} s), 80/20 hold-out, seed 0:", ""]
    extra = " peak RSS tree GB | load |" if tree else ""
    lines += [f"| engine | train s | peak RSS GB |{extra} NDCG@10 | P@10 | R@10 | coverage | items ranked | "
              "score s | note |",
              "|---|---:|---:|" + ("---:|---:|" if tree else "") + "---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['engine']} | | |{' | |' if tree else ''} | | | | | | {r['error']} |")
            continue
        more = f" {r['tree_rss_gb']:.2f} | {r['load']:.1f} |" if tree else ""
        lines.append(f"| {r['engine']} | {r['fit_s']:.1f} | {r['peak_rss_gb']:.2f} |{more} {r['ndcg']:.4f} | "
                     f"{r['precision']:.4f} | {r['recall']:.4f} | {r['coverage']:.3f} | {r['items_ranked']:,} | "
                     f"{r['score_s']:.1f} | {r['note']} |")
    return lines + [""]


def verdicts(rows: list[dict]) -> list[str]:
    """The crossover's comparisons, from the rows measured so far: Spark vs implicit (train
    time ratio, NDCG@10 difference) and EASE-head + ALS-tail vs implicit ALS and vs EASE."""
    by = {r["engine"]: r for r in rows if "error" not in r}
    out = []
    if "spark" in by and "implicit" in by:
        sp_, im = by["spark"], by["implicit"]
        out.append(f"- Spark vs implicit ALS, same split: {sp_['fit_s'] / im['fit_s']:.1f}x the train time, "
                   f"NDCG@10 {sp_['ndcg'] - im['ndcg']:+.4f}, R@10 {sp_['recall'] - im['recall']:+.4f}.")
    if "hybrid" in by and "implicit" in by:
        hy, im = by["hybrid"], by["implicit"]
        line = (f"- EASE head + ALS tail vs implicit ALS (whole catalogue): NDCG@10 {hy['ndcg']:.4f} vs "
                f"{im['ndcg']:.4f} ({hy['ndcg'] / im['ndcg']:.2f}x), coverage {hy['coverage']:.3f} vs "
                f"{im['coverage']:.3f}, train {hy['fit_s'] / im['fit_s']:.1f}x")
        if "ease" in by:
            line += f"; vs EASE alone (head only): NDCG@10 {hy['ndcg'] - by['ease']['ndcg']:+.4f}"
        out.append(line + ".")
    return out + [""] if out else []


def crossover_size(n_ratings: int) -> dict:
    """The MovieLens-25M shape at ``n_ratings``: users in proportion, every one of its items
    (so at 5M the catalogue is still ~3x EASE's item cap)."""
    return {"n_ratings": n_ratings, "n_items": ML25M["n_items"],
            "n_users": max(1, round(ML25M["n_users"] * n_ratings / ML25M["n_ratings"]))}


def _size_label(n_ratings: int) -> str:
    """25000000 -> '25M ratings', 187000 -> '187k ratings'."""
    if n_ratings >= 1_000_000:
        return f"{n_ratings / 1e6:g}M ratings"
    return f"{n_ratings / 1e3:g}k ratings"


def run_crossover(sizes: list[int], engines: list[str], spark_conf: dict | None,
                  eval_users: int | None = None) -> None:
    """Issue 14's crossover: each size in its own report section (so 5M and 25M can be run,
    and re-run, separately)."""
    for n in sizes:
        load0 = os.getloadavg()[0]
        t0 = time.perf_counter()
        record = functools.partial(_record_crossover, n=n, engines=engines, spark_conf=spark_conf,
                                   load0=load0, t0=t0, eval_users=eval_users)
        with tempfile.TemporaryDirectory(prefix="bench_crossover_") as tmp:
            run_size(crossover_size(n), engines, Path(tmp), spark_conf=spark_conf, on_row=record,
                     eval_users=eval_users)


def _record_crossover(facts: dict, rows: list[dict], n: int, engines: list[str], spark_conf: dict | None,
                      load0: float, t0: float, eval_users: int | None = None) -> None:
    """Write (or rewrite) the crossover section of size ``n`` with the rows measured so far."""
    todo = engines[len(rows):]
    scored = rows[-1].get("users") if rows else None
    body = table(facts, rows, tree=True) + verdicts(rows) + [
        (f"Scored on a seeded sample of {eval_users:,} test users (the same for every engine; "
         f"{scored:,} with a relevant item). " if eval_users and scored else "") +
        (f"Not measured yet (run in progress or cut short): {', '.join(todo)}. " if todo else "") +
        f"Elapsed {time.perf_counter() - t0:.0f} s; load average (1 min) before: "
        f"{load0:.1f} (2 cores, shared box). Each engine in its own spawned process on the same hold-out "
        "(`src.evaluation.ranker_holdout`: the `invoke evaluate` top-N protocol); train s = the "
        "engine's fit including the exact user-factor re-solve (Spark: JVM start, Parquet write, "
        "MLlib fit, collect). peak RSS = the Python process (`ru_maxrss`); tree = the sampled "
        "RSS of the process and its children (Spark's JVM). `ease` is capped at "
        "`EASE_MAX_ITEMS` most-rated items (the rest are never ranked); `hybrid` = EASE on "
        "that head + implicit ALS scores on the tail, mapped per user onto EASE's scale "
        "(mean/std over the head; `bench_scale.HeadTailRanker`), train s = both fits. "
        f"Spark conf over `SPARK_CONF`: {spark_conf or 'none'}. Regenerate: "
        f"`python bench/bench_scale.py --crossover {n}"
        + (f" --eval-users {eval_users}" if eval_users else "")
        + (f" --spark-driver-memory {spark_conf['spark.driver.memory']}"
           if spark_conf and "spark.driver.memory" in spark_conf else "") + "`.", ""]
    print(record_benchmark(CROSSOVER_SECTION.format(size=_size_label(n)), "\n".join(body)))


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
    ap.add_argument("--crossover", type=int, nargs="+", metavar="N",
                    help="issue 14's Spark crossover at these rating counts (e.g. 5000000 25000000)")
    ap.add_argument("--engines", default=",".join(CROSSOVER_ENGINES),
                    help="engines of --crossover, comma-separated")
    ap.add_argument("--eval-users", type=int, default=None,
                    help="--crossover: score a seeded sample of this many test users (same for every engine)")
    ap.add_argument("--spark-driver-memory", default=None,
                    help="spark.driver.memory for --crossover (local mode: the whole Spark heap)")
    args = ap.parse_args()
    setup_logging()
    if args.crossover:
        engines = [e for e in args.engines.split(",") if e]
        unknown = set(engines) - set(CROSSOVER_ENGINES)
        if unknown:
            ap.error(f"unknown engines {sorted(unknown)}; choose from {CROSSOVER_ENGINES}")
        if "spark" in engines and find_java() is None:
            ap.error("--crossover with spark needs Java (see references/scaling.md)")
        conf = {"spark.ui.showConsoleProgress": "false"}  # progress bars would fill the log
        if args.spark_driver_memory:
            conf["spark.driver.memory"] = args.spark_driver_memory
        run_crossover(args.crossover, engines, conf, args.eval_users)
        return
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
