"""Time the feature stage at catalogue scale (45k titles) and record it in reports/benchmarks.md.

The small synthetic dataset is generated and ETL'd in a temp workspace, its merged catalogue is
replicated (fresh ids) to ``--titles`` rows, and ``build_features.main`` (read CSV, type, build,
validate, write parquet) is timed over a few repeats. Target: <= 5 s for 45k titles on 2 cores.
Usage: ``python bench/bench_features.py [--titles 45000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: src, bench.recorder, tests.harness

from bench.recorder import record_benchmark  # noqa: E402
from src.config import Paths  # noqa: E402
from src.data.make_dataset import main as etl_main  # noqa: E402
from src.data.synthetic import generate  # noqa: E402
from src.features.build_features import main as features_main  # noqa: E402
from src.utils.io import write_csv_atomic  # noqa: E402
from src.utils.logging import setup_logging  # noqa: E402

TARGET_SECONDS = 5.0


def run(titles: int, repeats: int) -> dict:
    """Build a ``titles``-row merged catalogue and time the feature stage ``repeats`` times.

    Out: {"titles", "columns", "seconds": [...], "median"}.
    """
    with tempfile.TemporaryDirectory() as tmp:
        ws = Paths.from_root(tmp).ensure()
        generate(ws.raw, scale="small", seed=0)
        etl_main(paths=ws)
        base = pd.read_csv(ws.merged, dtype=str, keep_default_na=False)
        reps = -(-titles // len(base))
        big = pd.concat([base] * reps, ignore_index=True).iloc[:titles].copy()
        big["id"] = [str(i + 1) for i in range(len(big))]  # replicas need unique ids
        write_csv_atomic(big, ws.merged)
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            features_main(paths=ws)
            seconds.append(time.perf_counter() - start)
        cols = pd.read_parquet(ws.features).shape[1]
    return {"titles": len(big), "columns": cols, "seconds": seconds, "median": statistics.median(seconds)}


def main() -> None:
    """Parse arguments, run the benchmark, print and record the result."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--titles", type=int, default=45_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="accepted for `invoke bench`; same run")
    args = parser.parse_args()
    setup_logging("WARNING")
    res = run(args.titles, args.repeats)
    verdict = "met" if res["median"] <= TARGET_SECONDS else "NOT met"
    body = (
        "| titles | output columns | runs (s) | median (s) | target |\n|---|---|---|---|---|\n"
        f"| {res['titles']:,} | {res['columns']} | {', '.join(f'{s:.2f}' for s in res['seconds'])} "
        f"| {res['median']:.2f} | <= {TARGET_SECONDS:.0f} s: {verdict} |\n\n"
        "`build_features.main`: read merged_data6.csv, type it, genre dummies, scores, text, "
        "validate, write parquet (synthetic catalogue replicated to the size above)."
    )
    print(body)
    record_benchmark("Feature build", body)


if __name__ == "__main__":
    main()
