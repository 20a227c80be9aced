"""What the API answers to bad input: the issue-11 corpus against the real server.

Starts the real server (``python -m src.serving.app --no-ui``) on a private copy of a trained
workspace (the repo's own when it has a model, else the small synthetic pipeline, as in
``bench_api.py``). It sends each case of the bad-input corpus (huge numbers, loose and unicode
ids, wrong types, broken JSON, oversized bodies) and records status, detail and time. One
200 MB upload is streamed while ``/health`` is timed, with the server's RSS read before and
after. The table goes to ``reports/benchmarks.md`` (section "API bad input"). Targets: no 5xx,
no connection reset, 413 before the body is read, and ``/health`` unaffected.

Usage: ``python bench/bench_api_badinput.py`` (about 30 s including the server start).
"""

from __future__ import annotations

import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: src, bench, tests.harness

from bench.bench_api import trained_workspace  # noqa: E402
from bench.recorder import record_benchmark  # noqa: E402
from src.config import API_MAX_BODY_BYTES, USER_COL  # noqa: E402
from src.utils.logging import get_logger, setup_logging  # noqa: E402
from tests.harness.launcher import ServerProcess  # noqa: E402

log = get_logger("bench.api_badinput")

BIG_UPLOAD_BYTES = 200 * 2**20   # the 200 MB body of the issue
HEALTH_PROBES = 40


def corpus(movie: int, user: int) -> list[tuple[str, str, str, dict]]:
    """(case, method, url, httpx keyword arguments) of every bad-input case."""
    rate = f"/users/{user}/ratings"
    js = {"content-type": "application/json"}
    return [
        ("rating `1` + 400 zeros", "POST", rate,
         {"content": b'{"movie_id": %d, "rating": 1%s}' % (movie, b"0" * 400), "headers": js}),
        ("rating 1e400 (JSON float overflow)", "POST", rate,
         {"content": b'{"movie_id": %d, "rating": 1e400}' % movie, "headers": js}),
        ("rating NaN", "POST", rate, {"content": b'{"movie_id": %d, "rating": NaN}' % movie, "headers": js}),
        ('rating "４" (full-width digit)', "POST", rate, {"json": {"movie_id": movie, "rating": "４"}}),
        ('rating "١" (Arabic-Indic digit)', "POST", rate, {"json": {"movie_id": movie, "rating": "١"}}),
        ('rating "4" (string)', "POST", rate, {"json": {"movie_id": movie, "rating": "4"}}),
        ("rating true", "POST", rate, {"json": {"movie_id": movie, "rating": True}}),
        ('movie_id "12" (string)', "POST", rate, {"json": {"movie_id": str(movie), "rating": 4}}),
        ("movie_id 10^400", "POST", rate, {"json": {"movie_id": 10**400, "rating": 4}}),
        ("movie_id 12.5", "POST", rate, {"json": {"movie_id": 12.5, "rating": 4}}),
        ("extra field", "POST", rate, {"json": {"movie_id": movie, "rating": 4, "admin": True}}),
        ("truncated JSON", "POST", rate, {"content": b'{"movie_id": 1, "rat', "headers": js}),
        ("invalid UTF-8 body", "POST", rate, {"content": b"\xff\xfe{}", "headers": js}),
        ("JSON nested 5,000 deep", "POST", rate, {"content": b"[" * 5000 + b"]" * 5000, "headers": js}),
        ("body 64 KiB + 1 byte", "POST", rate, {"content": b" " * (API_MAX_BODY_BYTES + 1), "headers": js}),
        ("body 2 MiB chunked (no Content-Length)", "POST", rate,
         {"content": iter([b"x" * 65536] * 32), "headers": js}),
        ('user id " 12 "', "GET", "/users/%2012%20/ratings", {}),
        ('user id "+5"', "GET", "/users/+5/ratings", {}),
        ('user id "1_000"', "GET", "/users/1_000/ratings", {}),
        ('user id "١"', "GET", "/users/%D9%A1/ratings", {}),
        ('user id "４"', "GET", "/users/%EF%BC%94/ratings", {}),
        ('user id "012"', "GET", "/users/012/ratings", {}),
        ("user id 1 + 400 zeros", "GET", "/users/1" + "0" * 400 + "/ratings", {}),
        ("user id -1", "GET", "/users/-1/ratings", {}),
        ('n " 5"', "GET", f"/users/{user}/recommendations", {"params": {"n": " 5"}}),
        ('n "５"', "GET", f"/users/{user}/recommendations", {"params": {"n": "５"}}),
        ("n 0", "GET", f"/users/{user}/recommendations", {"params": {"n": "0"}}),
        ("n 10^30", "GET", f"/users/{user}/recommendations", {"params": {"n": "1" + "0" * 30}}),
        ("unknown genre", "GET", f"/users/{user}/recommendations", {"params": {"genres": "Nope"}}),
        ("media_type tv", "GET", f"/users/{user}/recommendations", {"params": {"media_type": "tv"}}),
        ("query of 5,000 chars", "GET", "/movies", {"params": {"query": "a" * 5000}}),
        ('year_from "２０００"', "GET", "/movies", {"params": {"year_from": "２０００"}}),
        ("similar to an unknown movie", "GET", "/movies/1/similar", {}),
        ("reload with a 2 MiB body", "POST", "/admin/reload", {"content": b"x" * 2**21}),
    ]


def _big_upload(port: int, user: int, result: dict) -> None:
    """Declare and stream a whole 200 MB body on a raw socket, even after the reply came (the
    worst client: the server must discard it without buffering); note when the reply arrived."""
    start = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall((f"POST /users/{user}/ratings HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
                   f"Content-Length: {BIG_UPLOAD_BYTES}\r\n\r\n").encode())
        s.settimeout(0.0)
        chunk, sent, reply, reply_at = b"x" * 2**20, 0, b"", None
        while sent < BIG_UPLOAD_BYTES:
            try:
                sent += s.send(chunk[: BIG_UPLOAD_BYTES - sent])
            except BlockingIOError:
                time.sleep(0.001)
            except OSError as exc:  # the server closed on us: a reset, reported as such
                result["error"] = type(exc).__name__
                break
            try:
                got = s.recv(4096)
                if got and reply_at is None:
                    reply_at = time.perf_counter() - start
                reply += got
            except BlockingIOError:
                pass
        result.update(status=reply[:12].decode(errors="replace"), sent_mb=sent / 2**20,
                      reply_s=reply_at, seconds=time.perf_counter() - start)


def main() -> str:
    """Run the corpus and the big upload; record and return the Markdown body."""
    setup_logging()
    with tempfile.TemporaryDirectory(prefix="bench-badinput-") as tmp:
        ws, source = trained_workspace(Path(tmp))
        import pandas as pd

        user = int(pd.read_csv(ws.ratings)[USER_COL].value_counts().idxmax())
        with ServerProcess(ws, ui=False) as srv, httpx.Client(base_url=srv.base_url, timeout=30) as c:
            movie = c.get("/movies", params={"limit": 1}).json()[0]["id"]
            rows = ["| case | request | status | reply (`detail`, shortened) | ms |", "|---|---|---|---|---|"]
            worst = 0
            for case, method, url, kwargs in corpus(movie, user):
                start = time.perf_counter()
                try:
                    res = c.request(method, url, **kwargs)
                    status, detail = str(res.status_code), str(res.json().get("detail", ""))[:70]
                    worst = max(worst, res.status_code)
                except (httpx.TransportError, json.JSONDecodeError, AttributeError) as exc:
                    status, detail = "error", type(exc).__name__
                    worst = 999
                ms = (time.perf_counter() - start) * 1000
                shown = url if len(url) <= 40 else url[:37] + "..."
                rows.append(f"| {case} | `{method} {shown}` | {status} | {detail.replace('|', '/')} | {ms:.1f} |")
            proc = psutil.Process(srv.proc.pid)
            rss_before = proc.memory_info().rss / 2**20
            upload: dict = {}
            t = threading.Thread(target=_big_upload, args=(srv.port, user, upload))
            t.start()
            health = []
            while t.is_alive() or len(health) < HEALTH_PROBES:  # probe for as long as the upload runs
                s0 = time.perf_counter()
                c.get("/health")
                health.append((time.perf_counter() - s0) * 1000)
            t.join()
            rss_after = proc.memory_info().rss / 2**20
    health.sort()
    body = "\n".join(rows) + (
        f"\n\nServer: {source}, API only, body cap `API_MAX_BODY_BYTES` = {API_MAX_BODY_BYTES} bytes. "
        f"Highest status seen: {worst} (target: below 500, no transport error).\n\n"
        f"200 MB upload (declared Content-Length, the whole body streamed from a raw socket even "
        f"after the reply): reply `{upload.get('status', '?')}` after "
        f"{(upload.get('reply_s') or float('nan')) * 1000:.0f} ms; {upload.get('sent_mb', float('nan')):.0f} MB "
        f"sent in {upload.get('seconds', float('nan')):.1f} s{', ' + upload['error'] if 'error' in upload else ''}; "
        f"server RSS {rss_before:.0f} -> {rss_after:.0f} MB; "
        f"`/health` during it: median {health[len(health) // 2]:.1f} ms, max {health[-1]:.1f} ms over "
        f"{len(health)} probes. Before the cap the same upload was read whole "
        f"(+611 MB RSS, 10–12 s) and stalled `/health` for 4 s.")
    record_benchmark("API bad input", body)
    print(body)
    return body


if __name__ == "__main__":
    main()
