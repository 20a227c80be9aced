"""Full-scale benchmark: ``invoke train --engine implicit`` and serving at the MovieLens-25M shape.

What ``bench_scale.py`` does not: the REAL pipeline, end to end, at 25M ratings. In a
throw-away workspace (``Paths.from_root`` under a temp folder, nothing of the repo touched):

1. generates the seeded MovieLens-25M-shaped ratings (:func:`bench.scale_synth.generate`) and
   writes them as the ETL writes them (``paths.ratings_parquet``: ``userId, movieId, rating,
   timestamp, tmdbId``; tmdbId = the item id), plus a synthetic catalogue
   (``paths.features``) with one title per item (20 genres, one or two each, seeded), so
   every rated item is a catalogue title and the Recommender can serve it;
2. runs :func:`src.models.train_model.main` (``engine="implicit"``, what ``invoke train
   --engine implicit`` calls) in a spawned child: wall, CPU (user + sys), peak RSS
   (``ru_maxrss`` of that child), every ``timed`` stage of its log, the manifest's
   ``fit_seconds``/``load_seconds``, the bundle's size on disk;
3. ``invoke warm`` in a third child (``Recommender.load(build_lists=True)``, BLAS on one
   thread as the task runs it under the server's limits): ranks every known user once into
   the serving cache (the lists known users' requests are answered from); wall, CPU, peak
   RSS, the lists' size;
4. in a fresh child (BLAS limited to one thread, as the server): the features read and
   ``load_current`` alone, then the whole ``Recommender.load`` twice (both read the serving
   cache warm wrote) with wall and RSS, then in-process latency (p50/p99) of
   ``recommend()`` for 1,000 random known users (no filter, one genre, two genres), of
   ``recommend_for_ratings`` for 200 folded-in viewers (8 ratings each), and of
   ``recommend()`` from 32 threads at once (a proxy for 32 clients of the API, which runs
   the Recommender in a thread pool; not the HTTP stack);
5. records ``reports/benchmarks.md`` section "Full scale: ..." with the targets of issue 14
   and a verdict per target.

Usage: ``python bench/bench_fullscale.py [--ratings N --users U --items I]`` (default: the
ML25M shape, 25M / 162k / 59k: ~10-20 min on 2 shared cores; ``--ratings 1000000 --users
10000 --items 6000`` is a ~1 min smoke run). ``--no-record`` prints without writing the report.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import os
import re
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
from src.utils.logging import get_logger, setup_logging  # noqa: E402

log = get_logger("bench.fullscale")
SECTION = "Full scale: invoke train --engine implicit at the MovieLens-25M shape"
N_GENRES = 20
KNOWN_USERS = 1_000     # random known users timed through recommend()
VIEWERS = 200           # folded-in viewers timed through recommend_for_ratings()
VIEWER_RATINGS = 8      # ratings per folded-in viewer
CLIENTS = 32            # concurrent callers of recommend() (the "32 clients")
PER_CLIENT = 20         # requests per concurrent caller
# Issue 14 targets (2 cores, 24 GiB).
TARGET_TRAIN_S = 600.0
TARGET_TRAIN_GB = 8.0
TARGET_P99_MS = 50.0
TARGET_LOAD_S = 2.0


def _rss_gb() -> float:
    """Current resident set of this process (GiB), from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 2**20
    return float("nan")


def _peak_gb() -> float:
    """Peak resident set of this process so far (GiB; ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


class _Stages(logging.Handler):
    """Collects the ``"<what> took <s>s"`` lines :func:`src.utils.logging.timed` writes."""

    PATTERN = re.compile(r"^(.*) took ([0-9.]+)s$")

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.stages: list[tuple[str, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        m = self.PATTERN.match(record.getMessage())
        if m:
            self.stages.append((m.group(1), float(m.group(2))))


def _train_child(root: str, queue) -> None:
    """Child process: ``train_model.main(engine="implicit")`` on the workspace; put its costs."""
    setup_logging("INFO")
    stages = _Stages()
    logging.getLogger("streamrec").addHandler(stages)
    from src.config import Paths
    from src.models.bundle import read_current_manifest
    from src.models.train_model import main

    paths = Paths.from_root(root)
    c0, t0 = os.times(), time.perf_counter()
    folder = main(paths=paths, engine="implicit")
    wall = time.perf_counter() - t0
    c1 = os.times()
    meta = read_current_manifest(paths).get("metadata", {})
    queue.put({"wall_s": wall, "cpu_s": (c1.user - c0.user) + (c1.system - c0.system),
               "peak_rss_gb": _peak_gb(), "stages": stages.stages,
               "fit_seconds": meta.get("fit_seconds", {}), "load_seconds": meta.get("load_seconds", {}),
               "data": meta.get("data", {}),
               "bundle_mib": sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 2**20,
               "folder": Path(folder).name, "root": root})


def _warm_child(root: str, queue) -> None:
    """Child process: what ``invoke warm`` runs (the known users' lists into the serving cache)."""
    setup_logging("INFO")
    stages = _Stages()
    logging.getLogger("streamrec").addHandler(stages)
    from threadpoolctl import threadpool_limits

    from src.config import SERVE_BLAS_THREADS, Paths
    from src.models.predict_model import Recommender

    threadpool_limits(SERVE_BLAS_THREADS, "blas")
    paths = Paths.from_root(root)
    c0, t0 = os.times(), time.perf_counter()
    rec = Recommender.load(paths, build_lists=True)
    wall = time.perf_counter() - t0
    c1 = os.times()
    known = rec._known
    queue.put({"wall_s": wall, "cpu_s": (c1.user - c0.user) + (c1.system - c0.system),
               "peak_rss_gb": _peak_gb(), "stages": stages.stages,
               "depth": known.depth if known is not None else 0,
               "genre_depth": known.genre_depth if known is not None else 0,
               "lists_mib": sum(a.nbytes for a in known.arrays().values()) / 2**20 if known is not None else 0.0,
               "cache_mib": sum(p.stat().st_size for p in paths.serving_cache.rglob("*") if p.is_file()) / 2**20})


def _pct(xs, q) -> float:
    """q-th percentile of seconds ``xs``, in ms."""
    return float(np.percentile(np.asarray(xs) * 1000, q))


def _serve_child(root: str, seed: int, queue) -> None:
    """Child process: load the Recommender like the API does, then time requests."""
    setup_logging("WARNING")
    import pandas as pd

    from src.config import Paths
    from src.models.bundle import load_current
    from src.models.predict_model import Recommender

    from threadpoolctl import threadpool_limits

    from src.config import SERVE_BLAS_THREADS

    threadpool_limits(SERVE_BLAS_THREADS, "blas")   # as the API server does (src.serving.app)
    paths = Paths.from_root(root)
    out: dict = {"rss_start_gb": _rss_gb()}
    t0 = time.perf_counter()
    cat = pd.read_parquet(paths.features)
    t1 = time.perf_counter()
    bundle = load_current(paths)
    t2 = time.perf_counter()
    out["rss_after_bundle_gb"] = _rss_gb()
    del bundle, cat
    # The whole Recommender.load twice, both from the serving cache warm wrote: the first
    # maps it cold (a server start), the second as a reload or another worker does.
    t3 = time.perf_counter()
    Recommender.load(paths)
    t4 = time.perf_counter()
    rec = Recommender.load(paths)
    t5 = time.perf_counter()
    out.update(features_s=t1 - t0, bundle_s=t2 - t1, load_cold_s=t4 - t3, load_s=t5 - t4,
               rss_loaded_gb=_rss_gb(), peak_after_load_gb=_peak_gb(),
               titles=len(rec._ids), n_known=len(rec._user_ids), rankable=int(rec.ranker.n_items))
    rng = np.random.default_rng(seed)
    users = rng.choice(rec._user_ids, size=min(KNOWN_USERS, len(rec._user_ids)), replace=False)
    genre = rec.genres[0]
    out["lists"] = rec._known is not None
    rec.recommend(int(users[0]), n=10)  # first call: lazy parts (none expected) out of the timings
    for name, genres in (("known", None), (f"known, genre {genre}", [genre]),
                         (f"known, genres {genre} or {rec.genres[1]}", rec.genres[:2])):
        times = []
        for u in users.tolist():
            a = time.perf_counter()
            rec.recommend(u, genres=genres, n=10)
            times.append(time.perf_counter() - a)
        out[name] = (_pct(times, 50), _pct(times, 99))
    # folded-in viewers: 8 ratings each of titles drawn by popularity (how a new viewer rates)
    pop = rec._n_ratings / rec._n_ratings.sum()
    times = []
    for _ in range(VIEWERS):
        items = rng.choice(rec._ids, size=VIEWER_RATINGS, replace=False, p=pop)
        stars = rng.choice([2.0, 3.0, 4.0, 4.5, 5.0], size=VIEWER_RATINGS)
        ratings = dict(zip(items.tolist(), stars.tolist()))
        a = time.perf_counter()
        rec.recommend_for_ratings(ratings, n=10)
        times.append(time.perf_counter() - a)
    out["folded in (8 ratings)"] = (_pct(times, 50), _pct(times, 99))
    out["path_stats"] = dict(rec._factor.stats) if rec._factor is not None else {}
    # 32 concurrent callers, as the API's thread pool would run them (GIL: no parallel speed-up)
    lat: list[float] = []
    lock = threading.Lock()
    picks = rng.choice(rec._user_ids, size=(CLIENTS, PER_CLIENT))

    def client(row: np.ndarray) -> None:
        mine = []
        for u in row.tolist():
            a = time.perf_counter()
            rec.recommend(u, n=10)
            mine.append(time.perf_counter() - a)
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=client, args=(picks[i],)) for i in range(CLIENTS)]
    a = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    span = time.perf_counter() - a
    out[f"known, {CLIENTS} threads"] = (_pct(lat, 50), _pct(lat, 99))
    out["threads_rps"] = len(lat) / span
    out["peak_rss_gb"] = _peak_gb()
    queue.put(out)


def _in_child(target, *args) -> dict:
    """Run ``target(*args, queue)`` in a spawned process; its result dict (error re-raised)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    while True:
        try:
            res = queue.get(timeout=5)
            break
        except Exception:  # queue.Empty: still running, unless it died
            if not proc.is_alive():
                raise RuntimeError(f"{target.__name__} died with exit code {proc.exitcode}") from None
    proc.join()
    return res


def write_workspace(root: Path, n_ratings: int, n_users: int, n_items: int, seed: int = 0) -> dict:
    """Generate the ratings + catalogue into the workspace at ``root``; return data facts."""
    import pandas as pd

    from src.config import Paths

    paths = Paths.from_root(root).ensure()
    t0 = time.perf_counter()
    df = generate(n_ratings, n_users, n_items, seed=seed)
    gen_s = time.perf_counter() - t0
    rng = np.random.default_rng(seed + 1)
    # the ETL's columns: MovieLens movieId + the catalogue's tmdbId (here the same id)
    df = df.rename(columns={"itemId": "movieId"})
    df["timestamp"] = rng.integers(1_000_000_000, 1_600_000_000, len(df))
    df["tmdbId"] = df["movieId"]
    df.to_parquet(paths.ratings_parquet, index=False)
    facts = {"ratings": len(df), "users": int(df["userId"].nunique()),
             "items": int(df["movieId"].nunique()), "gen_s": gen_s,
             "parquet_mib": paths.ratings_parquet.stat().st_size / 2**20}
    del df
    # one catalogue title per generated item id (rated or not): every item is servable
    ids = np.arange(1, n_items + 1, dtype="int64")
    names = [f"G{g}" for g in range(N_GENRES)]
    g1, g2 = rng.integers(0, N_GENRES, n_items), rng.integers(0, N_GENRES, n_items)
    two = rng.random(n_items) < 0.5
    cat = pd.DataFrame({"id": ids, "title": [f"Title {i}" for i in ids],
                        "genres": [f"{names[a]}|{names[b]}" if t and a != b else names[a]
                                   for a, b, t in zip(g1, g2, two)],
                        "media_type": "movie", "year": rng.integers(1950, 2024, n_items),
                        "score_final": rng.random(n_items),
                        "vote_count": rng.integers(0, 5_000, n_items).astype("float64")})
    cat.to_parquet(paths.features, index=False)
    facts["titles"] = len(cat)
    return facts


def verdict(ok: bool) -> str:
    return "met" if ok else "**NOT met**"


def report(facts: dict, tr: dict, wm: dict, sv: dict, load_avg: tuple, total_s: float) -> str:
    """The benchmarks.md body: data, training costs, serving costs, targets and verdicts."""
    d = facts
    lines = [f"Seeded synthetic ratings (`bench/scale_synth.py`): **{d['ratings']:,} ratings, "
             f"{d['users']:,} users, {d['items']:,} items** (generated in {d['gen_s']:.0f} s; "
             f"{d['parquet_mib']:.0f} MiB ratings Parquet as the ETL writes it), synthetic catalogue of "
             f"{d['titles']:,} titles (one per item, {N_GENRES} genres). Load average at the start "
             f"{load_avg[0]:.2f} / {load_avg[1]:.2f} / {load_avg[2]:.2f} (1/5/15 min; shared box).", "",
             "### Training: `train_model.main(engine=\"implicit\")` in a spawned process", "",
             f"Wall **{tr['wall_s']:.0f} s**, CPU {tr['cpu_s']:.0f} s (user + sys, "
             f"{tr['cpu_s'] / max(tr['wall_s'], 1e-9):.2f} cores busy on average), peak RSS "
             f"**{tr['peak_rss_gb']:.2f} GiB**, bundle {tr['bundle_mib']:,.0f} MiB on disk.", "",
             "| stage (the trainer's log) | seconds |", "|---|---:|"]
    lines += [f"| {what.replace(tr['root'], '<workspace>')} | {s:.1f} |" for what, s in tr["stages"]]
    lines += ["", f"Manifest: load_seconds {json.dumps({k: round(v, 1) for k, v in tr['load_seconds'].items()})}, "
              f"fit_seconds {json.dumps(tr['fit_seconds'])}.", "",
              "### `invoke warm`: `Recommender.load(build_lists=True)` in a spawned process", "",
              f"Wall **{wm['wall_s']:.0f} s**, CPU {wm['cpu_s']:.0f} s, peak RSS {wm['peak_rss_gb']:.2f} GiB: "
              f"every known user's ranked prefix ({wm['depth']:,} deep) and per-genre lists "
              f"({wm['genre_depth']} deep), {wm['lists_mib']:,.0f} MiB; serving cache on disk "
              f"{wm['cache_mib']:,.0f} MiB (memory-mapped by every worker).", "",
              "| stage (its log) | seconds |", "|---|---:|"]
    lines += [f"| {what} | {s:.1f} |" for what, s in wm["stages"]]
    lines += ["", "### Serving: a fresh process, as the API loads it", "",
              f"Features read {sv['features_s']:.2f} s; **`load_current` (bundle) {sv['bundle_s']:.2f} s**; "
              f"the whole `Recommender.load` from the serving cache: **{sv['load_cold_s']:.1f} s** the "
              f"first time, **{sv['load_s']:.1f} s** the second (a reload, another worker); "
              f"RSS {sv['rss_start_gb']:.2f} → {sv['rss_after_bundle_gb']:.2f} (bundle) → "
              f"{sv['rss_loaded_gb']:.2f} GiB loaded (peak {sv['peak_after_load_gb']:.2f}; the first "
              f"load's objects were dropped). BLAS limited to 1 thread, as the API server does. "
              f"{sv['titles']:,} titles, {sv['rankable']:,} rankable by the ALS ranker, "
              f"{sv['n_known']:,} known users; their lists "
              f"{'read from the cache' if sv['lists'] else 'NOT available (over RECOMMEND_PRECOMPUTE_MB): candidate path'}.", "",
              "| requests (in-process, n = 10) | p50 ms | p99 ms |", "|---|---:|---:|"]
    for key in [k for k in sv if k.startswith("known") or k.startswith("folded")]:
        p50, p99 = sv[key]
        lines.append(f"| {key} | {p50:.1f} | {p99:.1f} |")
    lines += ["", f"Candidate paths taken ({'; '.join(f'{k} {v}' for k, v in sv['path_stats'].items())}); "
              f"{CLIENTS} threads: {sv['threads_rps']:.0f} requests/s. Serving process peak RSS "
              f"{sv['peak_rss_gb']:.2f} GiB.", "",
              "### Issue 14 targets", "",
              "| target | measured | verdict |", "|---|---|---|"]
    every = sv["rankable"] >= d["items"]
    p99_32 = sv[f"known, {CLIENTS} threads"][1]
    lines += [f"| `invoke train` ≤ {TARGET_TRAIN_S / 60:.0f} min wall | {tr['wall_s'] / 60:.1f} min | "
              f"{verdict(tr['wall_s'] <= TARGET_TRAIN_S)} |",
              f"| ≤ {TARGET_TRAIN_GB:.0f} GB peak RSS | {tr['peak_rss_gb']:.2f} GiB | "
              f"{verdict(tr['peak_rss_gb'] * 2**30 / 1e9 <= TARGET_TRAIN_GB)} |",
              f"| every title rankable | {sv['rankable']:,} of {d['items']:,} rated items | {verdict(every)} |",
              f"| serving p99 < {TARGET_P99_MS:.0f} ms at {CLIENTS} clients | in-process, {CLIENTS} threads: "
              f"p99 {p99_32:.0f} ms (single caller p99 {sv['known'][1]:.0f} ms; the HTTP stack: "
              "\"API load: factor bundle\") | "
              f"{verdict(p99_32 < TARGET_P99_MS)} (proxy) |",
              f"| bundle load ≤ {TARGET_LOAD_S:.0f} s | `load_current` {sv['bundle_s']:.2f} s "
              f"(whole `Recommender.load` from the serving cache: {sv['load_cold_s']:.1f} s first, "
              f"{sv['load_s']:.1f} s again) | {verdict(sv['bundle_s'] <= TARGET_LOAD_S)} "
              f"(bundle); {verdict(sv['load_s'] <= TARGET_LOAD_S)} (whole load, cached) |",
              "", f"Whole run {total_s:.0f} s. Regenerate: `python bench/bench_fullscale.py` "
              "(default: the ML25M shape; `--ratings/--users/--items` for a smaller size)."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ratings", type=int, default=ML25M["n_ratings"])
    ap.add_argument("--users", type=int, default=ML25M["n_users"])
    ap.add_argument("--items", type=int, default=ML25M["n_items"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-record", action="store_true", help="print, do not write reports/benchmarks.md")
    ap.add_argument("--workspace", help="build the workspace here and keep it (e.g. for "
                    "`bench_api.py --home`), instead of a temp folder removed at the end")
    args = ap.parse_args()
    setup_logging("INFO")
    load_avg = os.getloadavg()
    t0 = time.perf_counter()
    import contextlib

    keep = contextlib.nullcontext(args.workspace) if args.workspace else None
    with keep or tempfile.TemporaryDirectory(prefix="bench_fullscale_") as tmp:
        facts = write_workspace(Path(tmp), args.ratings, args.users, args.items, args.seed)
        log.info("workspace: %s", facts)
        tr = _in_child(_train_child, tmp)
        log.info("train: %s", {k: v for k, v in tr.items() if k != "stages"})
        wm = _in_child(_warm_child, tmp)
        log.info("warm: %s", {k: v for k, v in wm.items() if k != "stages"})
        sv = _in_child(_serve_child, tmp, args.seed)
        log.info("serve: %s", sv)
    body = report(facts, tr, wm, sv, load_avg, time.perf_counter() - t0)
    if args.ratings != ML25M["n_ratings"]:
        body = f"Size: NOT the full shape (smoke/partial run).\n\n{body}"
    print(body)
    if not args.no_record:
        record_benchmark(SECTION, body)


if __name__ == "__main__":
    main()
