"""Benchmark: the evaluation protocols on the real MovieLens sample (ratings_small + links).

Builds a throw-away workspace (ETL + features on the real sample files, so the served chain
has the real catalogue, genres and TF-IDF text), then runs
:func:`src.evaluation.protocols.run_protocols` — random split with a cold-user slice over 3
seeds, temporal cut, new-title — and records served vs popularity / EASE / SLIM / implicit ALS /
chart / random per protocol, the validation-tuned parameters and the target verdicts in
``reports/benchmarks.md`` (section "Recommendation protocols (ratings_small)"). About 3 minutes
on 2 cores (the SLIM peer's four fits are ~1 of them).

Usage: ``python bench/bench_protocols.py [--keep DIR]`` (``invoke bench`` runs it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: src, bench.recorder

from bench.recorder import bench_workspace, record_benchmark
from src.config import SHARED_DATA_DIR, Paths
from src.utils.logging import get_logger, setup_logging, timed

log = get_logger("bench.protocols")
SECTION = "Recommendation protocols (ratings_small)"


def build_workspace(root: Path) -> Paths:
    """ETL + features of the real sample files in ``root``."""
    from src.data.make_dataset import main as etl
    from src.features.build_features import main as features

    ws = Paths.from_root(root).ensure()
    d = SHARED_DATA_DIR
    etl(movies=d / "tmdb_5000_movies.csv.gz", credits=d / "credits_sample.csv.gz",
        keywords=d / "keywords.csv.gz", links=d / "links_small.csv.gz",
        ratings=d / "ratings_small.csv.gz", paths=ws)
    features(paths=ws)
    return ws


def main() -> None:
    """Run the protocols and record them."""
    import pandas as pd

    from src.evaluation.evaluate import protocol_markdown, protocol_targets, target_row
    from src.evaluation.protocols import run_protocols
    from src.models.ratings_data import load_ratings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", help="keep the workspace in this folder (default: a temp folder)")
    ap.add_argument("--full", action="store_true",
                    help="accepted for `invoke bench --full`; the protocols always run on ratings_small")
    args = ap.parse_args()
    setup_logging()
    with bench_workspace(args.keep, "streamrec-protocols-") as root:
        ws = build_workspace(root)
        ratings = load_ratings(paths=ws, include_feedback=False)
        with timed(log, "all protocols") as t:
            proto = run_protocols(ratings, pd.read_parquet(ws.features))
        targets = protocol_targets(proto)
        body = [f"Data: ratings_small mapped to TMDB ids ({len(ratings)} ratings) over the TMDB 5000 "
                f"catalogue; relevant = rating >= 4; mean ± std over runs. Whole run {t['seconds']:.0f} s.", ""]
        body += [line.replace("## Protocol:", "### Protocol:") for line in protocol_markdown(proto)]
        body += [f"Validation grid (served NDCG@10): `{json.dumps(proto['tuned']['grid'])}`", "",
                 "New-title validation grid (the training side's own most recent titles, ranked among "
                 f"themselves; chooses ρ and the focus threshold τ): "
                 f"`{json.dumps(proto['tuned'].get('new_title_grid', {}))}`", "",
                 "Temporal validation grid (a time cut within the temporal protocol's training side, "
                 f"{proto['tuned'].get('temporal_users', 0)} users; δ must stay within tolerance here too): "
                 f"`{json.dumps(proto['tuned'].get('temporal_grid', {}))}`", "",
                 "| check | target | value | baseline (same run) | verdict |", "|---|---|---:|---:|---|"]
        body += [target_row(name, v) for name, v in targets.items()]
        path = record_benchmark(SECTION, "\n".join(body) + "\n")
        print("\n".join(body))
        log.info("recorded in %s", path)


if __name__ == "__main__":
    main()
