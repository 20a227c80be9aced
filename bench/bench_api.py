"""Load benchmark of the recommendations endpoint over loopback.

Starts the real server (``python -m src.serving.app``, one uvicorn worker, UI mounted) on a
private copy of a trained workspace — the repo's own when it has a model, else the small
synthetic pipeline built in a temp folder — then runs 32 concurrent clients (asyncio, one
keep-alive HTTP/1.1 connection each) on ``GET /users/{id}/recommendations`` for a fixed number of
requests or at most ``--seconds``. Signed-up viewers (``--viewers``) have ratings stored through
the API and send their bearer token, so fold-in and authentication are part of the load, and requests rotate over genre filters (none, one genre, two
genres), so the (user, filter) pairs far outnumber the reply cache and most requests are computed. Records requests/s, p50/p90/p99 latency and errors in
``reports/benchmarks.md`` (section "API load"). Target: p99 < 50 ms and 0 errors.

Runs three times: with the reply cache off (every request computed: the headline row), on (the
default server), and off with a bearer token on every request (authentication cost).

Usage: ``python bench/bench_api.py [--requests N] [--seconds S] [--clients C] [--full]
[--home WS --workers 1,2 --repeat K]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: src, bench.recorder, tests.harness

from bench.recorder import record_benchmark  # noqa: E402
from src.config import PATHS, RECOMMEND_CACHE_SIZE, USER_COL, Paths  # noqa: E402
from src.utils.logging import get_logger, setup_logging  # noqa: E402
from tests.harness.launcher import ServerProcess, copy_workspace  # noqa: E402

log = get_logger("bench.api")

P99_TARGET_MS = 50.0
FOLD_IN_SHARE = 4          # every 4th benchmark user gets stored ratings
WARMUP_REQUESTS = 200


def trained_workspace(tmp: Path) -> tuple[Paths, str]:
    """A workspace to serve: the repo's when trained, else the small synthetic pipeline."""
    if PATHS.model_bundle.exists() and PATHS.features.exists() and PATHS.ratings.exists():
        return copy_workspace(PATHS, tmp / "ws"), "repo workspace"
    from src.data.make_dataset import main as etl_main
    from src.data.synthetic import generate
    from src.features.build_features import main as features_main
    from src.models.train_model import main as train_main

    ws = Paths.from_root(tmp / "ws").ensure()
    generate(ws.raw, scale="small", seed=0)
    etl_main(paths=ws)
    features_main(paths=ws)
    train_main(paths=ws)
    return ws, "synthetic small pipeline"


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str,
               path: str, token: str | None = None) -> tuple[int, bytes]:
    """One HTTP/1.1 keep-alive GET on an open connection, with a bearer ``token`` when given.
    Out: (status, body)."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode())
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("server closed the connection")
    status = int(status_line.split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def _client(host: str, port: int, paths: list[tuple[str, str | None]], budget: dict, deadline: float,
                  lat: list[float], errors: list[str]) -> None:
    """One client on its own keep-alive connection: take requests from the shared budget
    until it or the time runs out, recording each latency and any non-200 reply.

    A minimal HTTP/1.1 client on asyncio streams on purpose: the load generator shares the
    2 cores with the server, and a full client library spends more CPU per request than
    the endpoint being measured, which would then show up as server latency.
    """
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while budget["left"] > 0 and time.perf_counter() < deadline:
            budget["left"] -= 1
            path, token = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            try:
                status, body = await _get(reader, writer, host, path, token)
            except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                errors.append(type(exc).__name__)
                return
            if status == 200 and body.startswith(b'{"user_id"'):
                lat.append(time.perf_counter() - t0)
            else:
                errors.append(f"{status} {body[:100]!r}")
    finally:
        writer.close()


async def run_load(base_url: str, paths: list[tuple[str, str | None]], clients: int, requests: int,
                   seconds: float) -> dict:
    """Run ``clients`` concurrent connections; out: counts, wall time, latencies (s), errors."""
    url = httpx.URL(base_url)
    host, port = url.host, int(url.port)
    lat: list[float] = []
    errors: list[str] = []
    # Warm-up (not measured): connections, caches, the allocator.
    warm = {"left": WARMUP_REQUESTS}
    await asyncio.gather(*[_client(host, port, paths[k::clients] or paths, warm,
                                   time.perf_counter() + 30, [], []) for k in range(clients)])
    budget = {"left": requests}
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*[_client(host, port, paths[k::clients] or paths, budget, deadline, lat,
                                   errors) for k in range(clients)])
    wall = time.perf_counter() - start
    return {"ok": len(lat), "errors": errors, "wall": wall, "lat": np.array(lat)}


def request_paths(users: list[int], genres: list[str], count: int, tokens: dict[int, str],
                  seed: int = 0, token_everywhere: bool = False) -> list[tuple[str, str | None]]:
    """``count`` (path, bearer token or None) pairs: random users, random genre filters.

    Filters: a third none, a third one genre, a third two genres (any of), so the distinct
    (user, filter) pairs (users × (1 + G + G²)) far outnumber the reply cache's entries.
    Viewers (in ``tokens``) send their token; training users' reads are public, and with
    ``token_everywhere`` carry some viewer's valid token too (checked on every request: the
    same work as row one plus authentication).
    """
    rng = np.random.default_rng(seed)
    spare = list(tokens.values()) if token_everywhere else []
    out = []
    for uid, kind, g1, g2 in zip(rng.choice(users, count).tolist(), rng.integers(3, size=count).tolist(),
                                 rng.integers(len(genres), size=count).tolist(),
                                 rng.integers(len(genres), size=count).tolist()):
        q = "" if kind == 0 or not genres else f"&genres={genres[g1]}" + (
            f",{genres[g2]}" if kind == 2 and g2 != g1 else "")
        token = tokens.get(uid) or (spare[len(out) % len(spare)] if spare else None)
        out.append((f"/users/{uid}/recommendations?n=10{q}".replace(" ", "%20"), token))
    return out


def _memory_mib(pid: int) -> dict:
    """RSS / PSS / private MiB of a process and each of its children (uvicorn workers), from
    ``/proc/<pid>/smaps_rollup`` (PSS splits shared pages, e.g. memory-mapped bundle arrays,
    among the processes mapping them; empty off Linux)."""
    import psutil

    out = {}
    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.Error:
        return out
    for p in procs:
        try:
            fields = {}
            for line in Path(f"/proc/{p.pid}/smaps_rollup").read_text().splitlines()[1:]:
                k, v = line.split(":", 1)
                fields[k] = int(v.split()[0]) / 1024
            out[p.pid] = {"rss": fields.get("Rss", 0.0), "pss": fields.get("Pss", 0.0),
                          "private": fields.get("Private_Clean", 0.0) + fields.get("Private_Dirty", 0.0)}
        except (OSError, ValueError, psutil.Error):
            continue
    return out


def run_phase(ws: Paths, users: list[int], n_viewers: int, movie_ids: list[int],
              cache_size: int, args: argparse.Namespace, requests: int, label: str,
              token_everywhere: bool = False, workers: int = 1) -> dict:
    """Start a server with ``cache_size``, sign up ``n_viewers`` viewers with 5 stored ratings
    each, run the load over ``users`` (public reads) plus the viewers (bearer token each).

    Rate limits are off for the set-up (one address signs up every viewer); authentication
    and sessions are on. Out: the table row (requests, errors, wall, rps, percentiles) plus
    model version and cache hit rate.
    """
    extra = ["--cache-size", str(cache_size), "--no-rate-limits", "--workers", str(workers)]
    with ServerProcess(ws, ui=not args.no_ui, extra_args=extra) as srv, \
            httpx.Client(base_url=srv.base_url, timeout=30) as c:
        tokens: dict[int, str] = {}
        for k in range(n_viewers):
            # One server per phase on the same workspace: names unique per server port.
            res = c.post("/auth/signup", json={"username": f"b{srv.port}_{k}", "password": "bench-password"})
            res.raise_for_status()
            uid, token = res.json()["user_id"], res.json()["token"]
            tokens[uid] = token
            for j in range(5):
                c.post(f"/users/{uid}/ratings", headers={"Authorization": f"Bearer {token}"},
                       json={"movie_id": movie_ids[(k + 7 * j) % len(movie_ids)],
                             "rating": 0.5 + ((k + j) % 10) * 0.5}).raise_for_status()
        paths = request_paths(users + list(tokens), c.get("/genres").json(), requests, tokens,
                              token_everywhere=token_everywhere)
        res = asyncio.run(run_load(srv.base_url, paths, args.clients, requests, args.seconds))
        health = c.get("/health").json()
        memory = _memory_mib(srv.proc.pid)
    looked_up = health["cache_hits"] + health["cache_misses"]
    lat_ms = res["lat"] * 1000
    n_ok, n_err = res["ok"], len(res["errors"])
    p50, p90, p99 = (float(np.percentile(lat_ms, q)) if n_ok else float("nan") for q in (50, 90, 99))
    return {"label": label, "cache_size": cache_size, "requests": n_ok + n_err, "errors": n_err,
            "first_errors": sorted(set(res["errors"]))[:5], "wall": res["wall"],
            "rps": (n_ok + n_err) / res["wall"], "p50_ms": p50, "p90_ms": p90, "p99_ms": p99,
            "model_version": health["model_version"], "workers": workers, "memory": memory,
            # one worker's counters (the one /health reached): a share of the requests
            "hit_rate": health["cache_hits"] / looked_up if looked_up else 0.0}


def _users(ws: Paths) -> list[int]:
    """Up to 1,000 training users of the workspace (ratings CSV, else the ratings Parquet)."""
    if ws.ratings.exists():
        col = pd.read_csv(ws.ratings, usecols=[USER_COL])[USER_COL]
    else:
        col = pd.read_parquet(ws.ratings_parquet, columns=[USER_COL])[USER_COL]
    return [int(u) for u in col.drop_duplicates().head(1000)]


def _memory_line(r: dict) -> str:
    """One row's memory: the supervisor (when workers > 1) and each worker, RSS / PSS / private MiB."""
    mem = r.get("memory") or {}
    parts = [f"{m['rss']:,.0f} / {m['pss']:,.0f} / {m['private']:,.0f}" for m in mem.values()]
    return (f"| {r['label']} | {r['workers']} | " + "; ".join(parts) + " | "
            f"{sum(m['pss'] for m in mem.values()):,.0f} |")


def main(argv: list[str] | None = None) -> list[dict]:
    """Run the benchmark with the reply cache off (headline) and on (the default); record both.

    ``--home DIR`` serves a copy of that trained workspace instead (e.g. a factor bundle at
    59k titles) and records its own section; ``--workers 1,2`` runs the cache-off phase once
    per worker count (and records each server's memory: RSS / PSS / private per process).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="per phase (capped by --seconds)")
    parser.add_argument("--seconds", type=float, default=30.0, help="time cap per phase")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--viewers", type=int, default=64,
                        help="signed-up viewers with stored ratings (each sign-up is an argon2 hash)")
    parser.add_argument("--home", help="serve a copy of this trained workspace (own report section)")
    parser.add_argument("--workers", default="1", help="comma-separated worker counts (cache-off phase each)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each cache-off phase this many times (fresh server each; the spread)")
    parser.add_argument("--no-ui", action="store_true", help="API only (no Gradio)")
    parser.add_argument("--full", action="store_true", help="accepted for `invoke bench --full`; same run")
    parser.add_argument("--section", help="report section for --home (default \"API load: factor bundle "
                        "(--home workspace)\"; one per workspace size)")
    parser.add_argument("--no-record", action="store_true",
                        help="print the section instead of recording it (another bench quotes it)")
    args = parser.parse_args(argv)
    setup_logging()
    worker_counts = [int(w) for w in str(args.workers).split(",") if w.strip()]

    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        if args.home:
            ws, source = copy_workspace(Paths.from_root(args.home), Path(tmp) / "ws"), f"workspace {args.home}"
        else:
            ws, source = trained_workspace(Path(tmp))
        users = _users(ws)
        # Extra users that exist only through the API (the fold-in path).
        movie_ids = [int(i) for i in pd.read_parquet(ws.features, columns=["id"])["id"].head(50)]
        n_viewers = min(args.viewers, len(users) // FOLD_IN_SHARE)
        # --repeat: each worker count's cache-off phase that many times, alternating, each on a
        # fresh server, so the table shows the run-to-run spread of the same code.
        rows = [run_phase(ws, users, n_viewers, movie_ids, 0, args, args.requests,
                          ("off" if w == 1 else f"off, {w} workers") + (f", run {k + 1}" if args.repeat > 1 else ""),
                          workers=w)
                for k in range(args.repeat) for w in worker_counts]
        if not args.home:
            rows.append(run_phase(ws, users, n_viewers, movie_ids, RECOMMEND_CACHE_SIZE, args, args.requests,
                                  f"on ({RECOMMEND_CACHE_SIZE} entries)"))
            # Authenticated row: row one's requests, each carrying a valid bearer token (a
            # session lookup and check per request), cache off.
            rows.append(run_phase(ws, users, n_viewers, movie_ids, 0, args, args.requests,
                                  "off, every request authenticated", token_everywhere=True))

    table = ["| reply cache | cache hits | requests | errors | wall s | requests/s | p50 ms | p90 ms | p99 ms | p99 < 50 ms, 0 errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        ok = r["p99_ms"] < P99_TARGET_MS and r["errors"] == 0
        label = r["label"]
        table.append(f"| {label} | {r['hit_rate']:.0%} | {r['requests']} | {r['errors']} | "
                     f"{r['wall']:.1f} | {r['rps']:.0f} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | "
                     f"{r['p99_ms']:.1f} | {'met' if ok else 'NOT met'} |")
    off_rows = rows[:args.repeat * len(worker_counts)]   # the cache-off phases, run first
    met = sum(r["p99_ms"] < P99_TARGET_MS and r["errors"] == 0 for r in off_rows)
    if args.repeat > 1:
        table.append(f"\nCache off: p99 < 50 ms with 0 errors in **{met} of {len(off_rows)}** runs.")
    workers_note = (" one uvicorn worker" if worker_counts == [1] else
                    f" {' / '.join(map(str, worker_counts))} uvicorn worker process(es) (row label)")
    body = (
        f"`GET /users/{{id}}/recommendations?n=10`, {args.clients} concurrent clients (asyncio, one "
        f"keep-alive HTTP/1.1 connection each) on 127.0.0.1,{workers_note} "
        f"{'without the UI' if args.no_ui else 'with the UI mounted'}, at most {args.requests} requests "
        f"or {args.seconds:.0f} s per row; {source}, "
        f"model {rows[0]['model_version']}; {len(users) + n_viewers} users in random order, "
        f"{n_viewers} of them signed-up viewers known only through ratings stored via the API "
        "(fold-in), whose requests carry their bearer token"
        + ("" if args.home else "; in the last row every request, "
           "training users' public reads included, carries a valid viewer token, so each is "
           "authenticated (session lookup) on the same workload as the first row")
        + ". Rate limits off "
        "(one address signs up every viewer); authentication on. Each "
        "request has a random genre filter (none / one genre / two genres, a third each). "
        "Client and server share the 2 cores. The reply cache (on by default) reuses a reply "
        "only while the model and that user's stored ratings are unchanged; the 'off' row "
        "(headline) is every request computed from scratch. "
        f"Load average when the run started: {load[0]:.1f} (1 min) on {os.cpu_count()} cores: "
        "other work on the box takes its share of the cores.\n\n" + "\n".join(table)
    )
    if len(worker_counts) > 1 or args.home:
        body += ("\n\nServer memory after the load (MiB, `/proc/<pid>/smaps_rollup`; with workers the "
                 "first entry is uvicorn's supervisor): PSS splits pages shared between processes — "
                 "the memory-mapped bundle and serving cache — among them, so the PSS sum is what the "
                 "server costs the machine.\n\n| row | workers | per process RSS / PSS / private | PSS sum |\n"
                 "|---|---:|---|---:|\n" + "\n".join(_memory_line(r) for r in rows))
    for r in rows:
        if r["errors"]:
            body += f"\n\nErrors with cache size {r['cache_size']}: {r['first_errors']}"
    section = "API load" if not args.home else (args.section or "API load: factor bundle (--home workspace)")
    if args.no_record:
        print(body)
        path = "stdout (--no-record)"
    else:
        path = record_benchmark(section, body)
    for r in rows:
        log.info("API load (%s): %d requests, %d errors, %.0f req/s, p50 %.1f ms, p99 %.1f ms",
                 r["label"], r["requests"], r["errors"], r["rps"], r["p50_ms"], r["p99_ms"])
    log.info("recorded in %s", path)
    return rows


if __name__ == "__main__":
    main()
