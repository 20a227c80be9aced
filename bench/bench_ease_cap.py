"""EASE's item cap at full synthetic scale: top-N quality against fit time (issue 14).

EASE's fit is one items² Gram matrix and one dense inverse, so its time grows with the cube
of the items it keeps (``EASE_MAX_ITEMS``, most-rated first). Issue 14 wants ``invoke train``
≤ 60 s on 2 cores at the full synthetic scale (45.5k titles, 1.09M ratings, ~38k titles with
≥ 3 positive ratings), where a 20k-item fit alone takes 100-280 s. This measures what a lower
cap costs: every cap is fitted on the SAME seeded 80/20 hold-out
(:func:`src.evaluation.ranker_holdout.compare_rankers`: candidates = every training title the
user has not rated, so titles past the cap count as misses), with the popularity baseline of
the same run. Titles past the cap are still served by the chain's content and chart terms;
this measures the collaborative ranker alone, the part the cap changes.

Usage: ``python bench/bench_ease_cap.py [--home WS] [--caps 8000 12000 16000 20000] [--no-record]``.
Without ``--home`` it generates the full synthetic workspace first (``invoke demo-data --scale
full`` + ``invoke data``, ~1 min). Records "EASE item cap at full synthetic scale (issue 14)".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # repo root: src, bench.recorder

from bench.recorder import bench_workspace, record_benchmark  # noqa: E402
from src.utils.logging import get_logger, setup_logging  # noqa: E402

log = get_logger("bench.ease_cap")
SECTION = "EASE item cap at full synthetic scale (issue 14)"
CAPS = (8_000, 12_000, 16_000, 20_000)


def _prepare(home: Path) -> None:
    """Full synthetic demo data and the ETL in ``home`` (skipped when its ratings exist)."""
    if (home / "data" / "processed" / "ratings.parquet").exists():
        return
    env = {**os.environ, "STREAMREC_HOME": str(home), "PYTHONPATH": str(ROOT)}
    for step in (("demo-data", "--scale", "full"), ("data",)):
        subprocess.run([sys.executable, "-m", "invoke", *step], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", help="a workspace with the ETL's ratings (default: generate one)")
    ap.add_argument("--caps", type=int, nargs="+", default=list(CAPS))
    ap.add_argument("--no-record", action="store_true", help="print only")
    args = ap.parse_args()
    setup_logging()
    load0 = os.getloadavg()
    with bench_workspace(args.home, "streamrec-easecap-") as home:
        _prepare(home)
        from src.config import ITEM_ID_COL, Paths
        from src.config.params import EASE_FIT_THRESHOLD, EASE_MIN_COUNT
        from src.evaluation.ranker_holdout import compare_rankers
        from src.models.ratings_data import load_ratings
        from src.models.topn import eligible_items, fit_ranker

        ratings = load_ratings(paths=Paths.from_root(home), include_feedback=False)
        pos = eligible_items(ratings, min_count=1, max_items=None)   # every title with a positive rating
        eligible = eligible_items(ratings, max_items=None)            # EASE's item set before the cap
        fitters = {f"EASE, {c:,} items": partial(fit_ranker, max_items=c) for c in sorted(args.caps)}
        t0 = time.perf_counter()
        res = compare_rankers(ratings, fitters)
        total = time.perf_counter() - t0
    lines = [f"{len(ratings):,} ratings, {ratings['userId'].nunique():,} users, "
             f"{ratings[ITEM_ID_COL].nunique():,} titles rated; {len(eligible):,} titles have ≥ "
             f"{EASE_MIN_COUNT} ratings ≥ {EASE_FIT_THRESHOLD:g} (EASE's item set before the cap). One seeded "
             f"80/20 hold-out, every model on it; fit s is the whole `fit_ranker` (Gram + inverse) on the "
             f"training side. Load average at the start {load0[0]:.2f} / {load0[1]:.2f} / {load0[2]:.2f}.", "",
             "| model | items kept | share of positive ratings on kept items | fit s | NDCG@10 | P@10 | R@10 | coverage |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, m in res.items():
        cap = next((c for c in sorted(args.caps) if name == f"EASE, {c:,} items"), None)
        kept = min(cap, len(eligible)) if cap else None
        kept_s = f"{kept:,}" if kept else "—"
        share = f"{float(eligible.iloc[:kept].sum() / pos.sum()):.3f}" if kept else "—"
        lines.append(f"| {name} | {kept_s} | {share} | {m['fit_seconds']:.1f} | {m['ndcg@10']:.4f} | "
                     f"{m['precision@10']:.4f} | {m['recall@10']:.4f} | {m['coverage']:.3f} |")
    best = max((m["ndcg@10"] for n, m in res.items() if n != "popularity"), default=0.0)
    lines += ["", "NDCG@10 relative to the best cap: " + ", ".join(
        f"{n.removeprefix('EASE, ')} {m['ndcg@10'] / best:.3f}" for n, m in res.items() if n != "popularity" and best)
        + f". Whole run {total:.0f} s. Regenerate: `python bench/bench_ease_cap.py`."]
    body = "\n".join(lines) + "\n"
    if not args.no_record:
        record_benchmark(SECTION, body)
    print(body)


if __name__ == "__main__":
    main()
