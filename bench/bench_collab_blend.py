"""Does a second collaborative model pay inside the served chain? EASE + w · SLIM, measured.

Issue 13 asks for "EASE as today, plus a second model blended with a validation-tuned weight
where it pays". Both EASE and SLIM score a history x linearly (x·B and x·W), so their blend is
one item-item matrix, B + w·s·W (s = ‖B‖_F / ‖W‖_F over the shared items, so w is a share),
and the chain, the bundle and the explanations would serve it unchanged. This bench measures
whether it pays before anything is served:

* w is picked on validation (the seed-0 random protocol's training side, the validation split
  :func:`src.evaluation.protocols.tune_on_validation` uses; never test) over ``--weights``;
* then, for every protocol seed, the served chain (config BlendParams, EASE λ) with B and with
  B + w·s·W is fitted on the training side and measured on test, all users and the cold-user
  slice; the per-user NDCG@10 differences are bootstrapped (2,000 resamples) for a 95% interval;
* for context, the same two rankers alone over the catalogue titles (no chain: no prior,
  genre or content terms; the protocols' ``ease`` baseline path), all users, the same w.

Records section "Second collaborative model in the served chain (ratings_small)" of
``reports/benchmarks.md``. About 2 minutes on 2 shared cores (126 s at load ~6.5).

Usage: ``python bench/bench_collab_blend.py [--weights 0,0.1,0.25,0.5,1,2] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # repo root: src, bench.recorder

from bench.bench_protocols import build_workspace
from bench.recorder import bench_workspace, record_benchmark
from src.utils.logging import get_logger, setup_logging

log = get_logger("bench.collab_blend")
SECTION = "Second collaborative model in the served chain (ratings_small)"


def blended_ranker(ease, slim, share: float):
    """A copy of ``ease`` whose weights are B + share · s · W (SLIM's W reindexed onto EASE's
    columns; s = ‖B‖_F / ‖W‖_F over the shared items). share 0 returns ``ease`` itself."""
    import numpy as np

    if share == 0:
        return ease
    pos = slim.positions(ease.item_ids)          # EASE column -> SLIM column (-1: SLIM lacks it)
    ok = np.flatnonzero(pos >= 0)
    w = slim.weights[pos[ok]][:, pos[ok]].toarray().astype("float32")
    b = np.array(ease.weights, dtype="float32", copy=True)
    scale = float(np.linalg.norm(b[np.ix_(ok, ok)]) / max(np.linalg.norm(w), 1e-12))
    b[np.ix_(ok, ok)] += np.float32(share * scale) * w
    return replace(ease, weights=b)


def per_user_ndcg(lists: dict, relevant: dict, k: int) -> dict:
    """{user: NDCG@k of their list} (src.utils.ranking_metrics.ndcg_at_k, the protocols' metric;
    a missing or empty list scores 0, as mean_ranking_metrics does)."""
    from src.utils.ranking_metrics import ndcg_at_k

    return {u: ndcg_at_k(lists[u], rel, k) if len(lists.get(u, [])) else 0.0
            for u, rel in relevant.items() if len(rel)}


def bootstrap_ci(diff, n: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of the mean of ``diff`` (per-user differences)."""
    import numpy as np

    diff = np.asarray(diff, dtype="float64")
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), size=(n, len(diff)))].mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def main() -> None:
    """Pick w on validation, then measure B vs B + w·s·W in the served chain on test."""
    import numpy as np
    import pandas as pd

    from src.config import EASE_LAMBDA, ITEM_ID_COL, PROTOCOL_SEEDS, TOPN_K, TOPN_TEST_FRACTION, USER_COL, \
        VALIDATION_FRACTION
    from src.evaluation.protocols import _Context
    from src.evaluation.splits import cold_user_cut
    from src.evaluation.topn_eval import ranker_lists, relevant_sets
    from src.models.pipeline.chain import BlendParams
    from src.models.ratings_data import load_ratings
    from src.models.slim import fit_slim
    from src.models.split import bernoulli_split
    from src.models.topn import fit_ranker

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="0,0.1,0.25,0.5,1,2", help="comma-separated shares w of SLIM")
    ap.add_argument("--keep", help="reuse/keep the ETL workspace in this folder")
    args = ap.parse_args()
    setup_logging()
    grid = [float(v) for v in args.weights.split(",")]
    t_all = time.perf_counter()
    with bench_workspace(args.keep, "streamrec-collab-blend-") as root:
        from src.config import Paths

        ws = Paths.from_root(root) if (root / "data" / "processed").exists() else build_workspace(root)
        df = load_ratings(paths=ws, include_feedback=False)
        df = df.drop_duplicates([USER_COL, ITEM_ID_COL], keep="last")
        ctx = _Context(df, pd.read_parquet(ws.features))
        params = BlendParams()
        k = TOPN_K

        def chain_ndcg(train, ranker, relevant, users) -> dict:
            rec = ctx.chain(train, ranker, params)
            return per_user_ndcg(rec.recommend_batch(users, n=k), relevant, k)

        # 1. w on validation (never test).
        train0, _ = bernoulli_split(df, test_fraction=TOPN_TEST_FRACTION, seed=PROTOCOL_SEEDS[0])
        train0, _ = cold_user_cut(train0, PROTOCOL_SEEDS[0])
        fit, val = bernoulli_split(train0, test_fraction=VALIDATION_FRACTION, seed=PROTOCOL_SEEDS[0] + 1000)
        fit, _ = cold_user_cut(fit, PROTOCOL_SEEDS[0] + 1000)
        vrel = relevant_sets(val, fit[USER_COL].unique())
        vusers = np.array(sorted(vrel), dtype="int64")
        ease, slim = fit_ranker(fit, lam=EASE_LAMBDA), fit_slim(fit)
        vgrid = {}
        for w in grid:
            vgrid[w] = float(np.mean(list(chain_ndcg(fit, blended_ranker(ease, slim, w), vrel, vusers).values())))
            log.info("validation w=%g: served NDCG@%d %.4f", w, k, vgrid[w])
        best = max(sorted(vgrid, key=lambda v: v != 0.0), key=vgrid.get)   # ties stay at 0 (no blend)

        # 2. Test, every seed: B vs B + best·s·W in the same chain.
        rows = []
        for seed in PROTOCOL_SEEDS:
            train, test = bernoulli_split(df, test_fraction=TOPN_TEST_FRACTION, seed=seed)
            train, cold = cold_user_cut(train, seed)
            rel = relevant_sets(test, train[USER_COL].unique())
            users = np.array(sorted(rel), dtype="int64")
            t = time.perf_counter()
            e, s = fit_ranker(train, lam=EASE_LAMBDA), fit_slim(train)
            fit_s = time.perf_counter() - t
            mixed = blended_ranker(e, s, best)
            base = chain_ndcg(train, e, rel, users)
            blend = chain_ndcg(train, mixed, rel, users) if best else base
            allowed = np.ones(len(ctx.ids), dtype=bool)
            raw_base = per_user_ndcg(ranker_lists(e, users, ctx.ids, train, allowed, k), rel, k)
            raw_blend = per_user_ndcg(ranker_lists(mixed, users, ctx.ids, train, allowed, k), rel, k)
            cold_set = set(cold.tolist())
            for name, who, was, now in (("all users", users, base, blend),
                                        ("cold users", [u for u in users if u in cold_set], base, blend),
                                        ("all users, rankers alone", users, raw_base, raw_blend)):
                d = [now[u] - was[u] for u in who]
                lo, hi = bootstrap_ci(d, seed=seed)
                rows.append((seed, name, len(who), np.mean([was[u] for u in who]),
                             np.mean([now[u] for u in who]), float(np.mean(d)), lo, hi, fit_s))
                log.info("seed %d %s: %.4f -> %.4f (%+.4f, 95%% CI %+.4f..%+.4f)", seed, name,
                         rows[-1][3], rows[-1][4], rows[-1][5], lo, hi)
        body = [f"Served chain (config BlendParams, EASE λ = {EASE_LAMBDA:g}) with EASE's B alone vs "
                f"B + w·s·W (SLIM, config α/ρ; s = ‖B‖/‖W‖ over the shared items). w picked on the seed-0 "
                f"validation split ({len(vusers)} users; never test) from {grid}: **w = {best:g}**. "
                f"Validation NDCG@{k}: " + ", ".join(f"w={w:g} {v:.4f}" for w, v in vgrid.items()) + ".", "",
                f"| seed | users | n | NDCG@{k} B | NDCG@{k} B + w·s·W | difference | 95% bootstrap CI | "
                "EASE + SLIM fit s |", "|---:|---|---:|---:|---:|---:|---|---:|"]
        body += [f"| {sd} | {nm} | {n} | {b:.4f} | {bl:.4f} | {d:+.4f} | {lo:+.4f} .. {hi:+.4f} | {fs:.1f} |"
                 for sd, nm, n, b, bl, d, lo, hi, fs in rows]
        load = os.getloadavg()
        every = [r for r in rows if r[1] == "all users"]
        pays = best > 0 and all(r[6] > 0 for r in every)
        body += ["", f"Verdict: {'pays' if pays else 'does not pay'} — "
                 + ("every seed's interval is above zero." if pays else
                    ("validation keeps w = 0 (no blend)." if best == 0 else
                     "at least one seed's interval includes or is below zero.")) + " (Judged on the served "
                 "chain, all users; the 'rankers alone' rows, EASE vs EASE + w·s·SLIM without the chain, "
                 "are context.)",
                 "", f"Whole run {time.perf_counter() - t_all:.0f} s (load average at the end "
                 f"{load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}; fit seconds are wall time on shared cores). Regenerate: `python bench/bench_collab_blend.py`."]
        record_benchmark(SECTION, "\n".join(body) + "\n")
        print("\n".join(body))


if __name__ == "__main__":
    main()
