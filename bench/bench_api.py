"""Load benchmark of the recommendations endpoint over loopback.

Starts the real server (``python -m src.serving.app``, one uvicorn worker, UI mounted) on a
private copy of a trained workspace — the repo's own when it has a model, else the small
synthetic pipeline built in a temp folder — then runs 32 concurrent clients (asyncio, one
keep-alive HTTP/1.1 connection each) on ``GET /users/{id}/recommendations`` for a fixed number of
requests or at most ``--seconds``. A quarter of the users have ratings stored through the API,
so fold-in is part of the load. Records requests/s, p50/p90/p99 latency and errors in
``reports/benchmarks.md`` (section "API load"). Target: p99 < 50 ms and 0 errors.

Usage: ``python bench/bench_api.py [--requests N] [--seconds S] [--clients C] [--full]``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from src.config import PATHS, USER_COL, Paths
from src.serving.launcher import ServerProcess, copy_workspace
from src.utils.bench import record_benchmark
from src.utils.logging import get_logger, setup_logging

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
               path: str) -> tuple[int, bytes]:
    """One HTTP/1.1 keep-alive GET on an open connection. Out: (status, body)."""
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
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


async def _client(host: str, port: int, users: list[int], budget: dict, deadline: float,
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
            uid = users[i % len(users)]
            i += 1
            t0 = time.perf_counter()
            try:
                status, body = await _get(reader, writer, host, f"/users/{uid}/recommendations?n=10")
            except (OSError, ValueError, asyncio.IncompleteReadError) as exc:
                errors.append(type(exc).__name__)
                return
            if status == 200 and body.startswith(b'{"user_id"'):
                lat.append(time.perf_counter() - t0)
            else:
                errors.append(f"{status} {body[:100]!r}")
    finally:
        writer.close()


async def run_load(base_url: str, users: list[int], clients: int, requests: int,
                   seconds: float) -> dict:
    """Run ``clients`` concurrent connections; out: counts, wall time, latencies (s), errors."""
    url = httpx.URL(base_url)
    host, port = url.host, int(url.port)
    lat: list[float] = []
    errors: list[str] = []
    # Warm-up (not measured): connections, caches, the allocator.
    warm = {"left": WARMUP_REQUESTS}
    await asyncio.gather(*[_client(host, port, users[k::clients] or users, warm,
                                   time.perf_counter() + 30, [], []) for k in range(clients)])
    budget = {"left": requests}
    start = time.perf_counter()
    deadline = start + seconds
    await asyncio.gather(*[_client(host, port, users[k::clients] or users, budget, deadline, lat,
                                   errors) for k in range(clients)])
    wall = time.perf_counter() - start
    return {"ok": len(lat), "errors": errors, "wall": wall, "lat": np.array(lat)}


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark and record it. Out: the summary numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--full", action="store_true", help="more requests (same time cap)")
    args = parser.parse_args(argv)
    setup_logging()
    requests = args.requests * (3 if args.full else 1)

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        ws, source = trained_workspace(Path(tmp))
        ratings = pd.read_csv(ws.ratings)
        users = [int(u) for u in ratings[USER_COL].drop_duplicates().head(200)]
        # Extra users that exist only through the API (fold-in path).
        movie_ids = [int(i) for i in pd.read_parquet(ws.features, columns=["id"])["id"].head(50)]
        api_users = [max(users) + 10_000 + k for k in range(len(users) // FOLD_IN_SHARE)]
        with ServerProcess(ws, ui=True) as srv, httpx.Client(base_url=srv.base_url, timeout=30) as c:
            for k, uid in enumerate(api_users):
                for j in range(5):
                    c.post(f"/users/{uid}/ratings",
                           json={"movie_id": movie_ids[(k + 7 * j) % len(movie_ids)],
                                 "rating": 0.5 + ((k + j) % 10) * 0.5}).raise_for_status()
            mixed = [u for pair in zip(users, api_users + users) for u in pair][: len(users) + len(api_users)]
            res = asyncio.run(run_load(srv.base_url, mixed, args.clients, requests, args.seconds))
            health = c.get("/health").json()
            version = health["model_version"]
            looked_up = health["cache_hits"] + health["cache_misses"]
            hit_rate = health["cache_hits"] / looked_up if looked_up else 0.0

    lat_ms = res["lat"] * 1000
    n_ok, n_err = res["ok"], len(res["errors"])
    rps = (n_ok + n_err) / res["wall"]
    p50, p90, p99 = (float(np.percentile(lat_ms, q)) if n_ok else float("nan") for q in (50, 90, 99))
    verdict = "met" if (p99 < P99_TARGET_MS and n_err == 0) else "NOT met"
    body = (
        f"`GET /users/{{id}}/recommendations?n=10`, {args.clients} concurrent clients "
        f"(asyncio, one keep-alive HTTP/1.1 connection each) on 127.0.0.1, one uvicorn worker with the UI mounted; "
        f"{source}, model {version}; {len(mixed)} users of which {len(api_users)} have ratings "
        f"stored through the API (fold-in). Client and server share the machine. "
        f"Reply-cache hit rate over the run (warm-up included): {hit_rate:.0%} — a reply is "
        f"reused only while the model and that user's stored ratings are unchanged.\n\n"
        "| requests | errors | wall s | requests/s | p50 ms | p90 ms | p99 ms |\n"
        "|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| {n_ok + n_err} | {n_err} | {res['wall']:.1f} | {rps:.0f} | {p50:.1f} | {p90:.1f} | {p99:.1f} |\n\n"
        f"Target p99 < {P99_TARGET_MS:.0f} ms with 0 errors: **{verdict}**."
    )
    if n_err:
        body += f"\n\nFirst errors: {sorted(set(res['errors']))[:5]}"
    path = record_benchmark("API load", body)
    log.info("API load: %d requests, %d errors, %.0f req/s, p50 %.1f ms, p99 %.1f ms -> %s",
             n_ok + n_err, n_err, rps, p50, p99, path)
    return {"requests": n_ok + n_err, "errors": n_err, "rps": rps, "p50_ms": p50, "p90_ms": p90,
            "p99_ms": p99, "cache_hit_rate": hit_rate}


if __name__ == "__main__":
    main()
