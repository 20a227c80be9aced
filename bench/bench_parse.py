"""Benchmark the nested-cell parser against ``ast.literal_eval``, and (``--full``) time the ETL.

Default: the real credits_sample cast/crew cells (Python literals, ~4.5 KB each) replicated
to a few thousand cells; both parsers run on the same cells, outputs must be identical, and
the speed ratio goes to reports/benchmarks.md ("Nested-cell parser", target >= 5x).
``--full``: the cells of the full-scale synthetic credits.csv (~190 MB) for the parser, and
a timing of the whole ETL on the full synthetic dataset ("Full-scale ETL", target <= 15 s).

Usage: ``python bench/bench_parse.py [--full] [--repeat N]``
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from src.config import SHARED_DATA_DIR, Paths  # noqa: E402
from src.data.nested import parse_nested  # noqa: E402
from src.utils.bench import record_benchmark  # noqa: E402
from src.utils.logging import setup_logging  # noqa: E402

SAMPLE_REPLICAS = 43           # 70 real cells x 43 = 3,010 cells
FULL_PARSER_CELLS = 20_000     # cells of the full credits compared (literal_eval is slow)
PARSER_TARGET = 5.0
ETL_TARGET_S = 15.0


def best_of(fn, repeat: int) -> float:
    """Fastest wall time of ``repeat`` runs of ``fn()`` (seconds)."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def compare(cells: list[str], repeat: int) -> dict:
    """Time both parsers on ``cells``; assert identical outputs. Out: timings and ratio."""
    ours = [parse_nested(c) for c in cells]
    naive = [ast.literal_eval(c) for c in cells]
    assert ours == naive, "parser output differs from ast.literal_eval"
    t_naive = best_of(lambda: [ast.literal_eval(c) for c in cells], repeat)
    t_ours = best_of(lambda: [parse_nested(c) for c in cells], repeat)
    mb = sum(map(len, cells)) / 1e6
    return {"cells": len(cells), "mb": mb, "naive": t_naive, "ours": t_ours,
            "ratio": t_naive / t_ours}


def _row(label: str, r: dict) -> str:
    verdict = "PASS" if r["ratio"] >= PARSER_TARGET else "FAIL"
    return (f"| {label} | {r['cells']:,} | {r['mb']:.1f} | {r['naive']:.2f} | {r['ours']:.2f} | "
            f"{r['ratio']:.1f}x | {verdict} |")


def full_etl(repeat: int) -> tuple[list[str], str]:
    """Generate the full synthetic dataset, time the ETL on it. Out: (credits cells, md)."""
    from src.data.make_dataset import main as etl_main
    from src.data.synthetic import generate

    tmp = Path(tempfile.mkdtemp(prefix="streamrec_bench_"))
    ws = Paths.from_root(tmp).ensure()
    generate(ws.raw, scale="full", seed=0)
    sizes = {p.name: p.stat().st_size / 1e6 for p in ws.raw.iterdir() if p.is_file()}
    times, report = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        report = etl_main(paths=ws)
        times.append(time.perf_counter() - t)
    best = min(times)
    per_file = ", ".join(f"{name} {s['seconds']:.1f}s" for name, s in report["inputs"].items())
    movies = next(s for s in report["inputs"].values() if s["kind"] == "movies")
    verdict = "PASS" if best <= ETL_TARGET_S else "FAIL"
    md = (
        f"Whole ETL (`src.data.make_dataset.main`) on `generate(scale='full')`: "
        f"{movies['rows_in']:,} movies, inputs "
        + ", ".join(f"{k} {v:.0f} MB" for k, v in sorted(sizes.items())) + ".\n\n"
        f"| runs | best (s) | target (s) | verdict |\n|---|---|---|---|\n"
        f"| {repeat} | {best:.1f} | {ETL_TARGET_S:.0f} | {verdict} |\n\n"
        f"Per input (read + clean): {per_file}.\n"
    )
    credits = pd.read_csv(ws.raw / "credits.csv", dtype=str, nrows=FULL_PARSER_CELLS // 2)
    cells = list(credits["cast"].dropna()) + list(credits["crew"].dropna())
    shutil.rmtree(tmp, ignore_errors=True)  # ~0.5 GB of generated data and outputs
    return cells, md


def main() -> None:
    """Run the benchmark(s) and record them."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="also the full-scale runs")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    setup_logging()

    credits = pd.read_csv(SHARED_DATA_DIR / "credits_sample.csv.gz", dtype=str)
    sample = (list(credits["cast"]) + list(credits["crew"])) * SAMPLE_REPLICAS
    rows = [_row("credits_sample cells x43", compare(sample, args.repeat))]
    etl_md = None
    if args.full:
        full_cells, etl_md = full_etl(max(1, args.repeat - 1))
        rows.append(_row(f"full synthetic credits, first {len(full_cells):,} cells",
                         compare(full_cells, 1)))
    body = (
        "`src.data.nested.parse_nested` (quote swap + one regex pass + `json.loads`) vs "
        "`ast.literal_eval` per cell, same cells, outputs asserted identical; best of "
        f"{args.repeat} runs. Target >= {PARSER_TARGET:.0f}x.\n\n"
        "| input | cells | MB | literal_eval (s) | ours (s) | speed-up | verdict |\n"
        "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )
    record_benchmark("Nested-cell parser", body)
    print(body)
    if etl_md:
        record_benchmark("Full-scale ETL", etl_md)
        print(etl_md)


if __name__ == "__main__":
    main()
