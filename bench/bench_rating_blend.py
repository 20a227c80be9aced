"""Ablation of the validated rating blend (src.models.rating_blend) on ratings_small.

On the same surprise KFold folds as the rating CV (random_state config ``CV_RANDOM_STATE``),
for each fold: split the training part as ``RatingBlend.fit`` does, fit a superset of base
models on the fit part (validation + test estimates), refit them on the whole training part
(test estimates), cache the estimates, then score stack variants (base subsets, meta features
on/off, refit on/off, ridge alpha) on the test part. Prints a table; ``--record`` writes it to
reports/benchmarks.md (section "Rating blend ablation (ratings_small)").

``--cv`` instead runs the real thing: :func:`src.evaluation.rating_cv.cross_validate_ratings`
of baseline_only, knn_baseline, svd_tuned and ``rating_blend`` (plus the fixed svd_knn_blend)
on the same 5 folds, saves the result JSON (``--json``) and records section "Rating blend
(ratings_small)" with the targets; ``--from-json FILE`` records a saved run instead.

``--data ml100k-style`` runs either mode on the seeded MovieLens-100k-SHAPED synthetic set
(:func:`bench.scale_synth.generate_ml100k`: 943 users, 1,682 items, 100,000 ratings, 1-5
stars, a planted taste; no ML-100k file is in /work/shared/data and there is no network) on
the 1-5 scale, with Surprise-default SVD as an extra row (the model of the published 0.934),
and records section "Rating blend (MovieLens-100k-style synthetic)". Its RMSEs are not
comparable to published ML-100k numbers; the ratios within the run are (~5 min on 2 busy
cores, 0.4 GB).

Usage: ``python bench/bench_rating_blend.py [--data ratings_small|ml100k-style] [--folds 5]
[--cache DIR] [--svdpp] [--record]`` or ``python bench/bench_rating_blend.py [--data ...] --cv
[--json FILE] | --from-json FILE``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from bench.recorder import record_benchmark  # noqa: E402
from src.config import (  # noqa: E402
    CV_FOLDS,
    CV_RANDOM_STATE,
    ITEM_ID_COL,
    KNN_BASELINE_PARAMS,
    ML100K_PUBLISHED_SVD_RMSE,
    ML100K_RMSE_TARGET,
    RATING_BLEND_PARAMS,
    RATING_COL,
    RATING_SCALE,
    SHARED_DATA_DIR,
    SEED,
    USER_COL,
)
from src.models.rating_blend import RatingBlend, design_matrix, fit_ridge, meta_matrix, trainset_frame  # noqa: E402
from src.models.ratings_data import load_ratings, to_surprise  # noqa: E402

SECTION = "Rating blend ablation (ratings_small)"
CV_SECTION = "Rating blend (ratings_small)"
ML100K_STYLE = "ml100k-style"
ML100K_LABEL = "MovieLens-100k-style synthetic"
DATA = ("ratings_small", ML100K_STYLE)
# The superset of bases the variants choose from (the config set is RATING_BLEND_PARAMS).
CANDIDATES = {
    **RATING_BLEND_PARAMS["bases"],
    "knn_user": {"kind": "knn_baseline", "params": {**KNN_BASELINE_PARAMS, "k": 100, "sim_options": {
        "name": "pearson_baseline", "user_based": True}}},
}
SVDPP = {"svdpp": {"kind": "svdpp", "params": {"n_factors": 20, "n_epochs": 20,
                                                "cache_ratings": True}}}


def fold_split(trainset, testset) -> tuple:
    """The blend's fit/validation split of one fold's training part, and the pair lists."""
    df = trainset_frame(trainset)
    is_val = np.random.default_rng(SEED).random(len(df)) < RATING_BLEND_PARAMS["validation_fraction"]
    fit_df, val_df = df.loc[~is_val], df.loc[is_val]
    val_pairs = list(zip(val_df[USER_COL], val_df[ITEM_ID_COL]))
    test_pairs = [(u, i) for u, i, _ in testset]
    return df, fit_df, val_df, val_pairs, test_pairs


def fold_meta(trainset, testset) -> dict:
    """Per-pair counts and rating spreads (fit part / whole training part) and the targets."""
    df, fit_df, val_df, val_pairs, test_pairs = fold_split(trainset, testset)
    out = {}
    for tag, part in (("fit", fit_df), ("full", df)):
        for key, col in (("u", USER_COL), ("i", ITEM_ID_COL)):
            g = part.groupby(col)[RATING_COL]
            cnt, std = g.size(), g.std().fillna(0.0)
            pos = 0 if key == "u" else 1
            for side, ps in (("val", val_pairs), ("test", test_pairs)):
                ids = [p[pos] for p in ps]
                out[f"n{key}_{tag}_{side}"] = cnt.reindex(ids).fillna(0).to_numpy(float)
                out[f"s{key}_{tag}_{side}"] = std.reindex(ids).fillna(0).to_numpy(float)
    out["y_val"] = val_df[RATING_COL].to_numpy(float)
    out["y_test"] = np.array([r for _, _, r in testset], float)
    return out


def base_estimates(trainset, testset, name: str, spec: dict) -> dict:
    """One base's estimates on one fold: validation + test (fit-part model), test (refitted)."""
    df, fit_df, _, val_pairs, test_pairs = fold_split(trainset, testset)
    blend = RatingBlend({**RATING_BLEND_PARAMS, "bases": {name: spec}})
    blend._scale = tuple(trainset.rating_scale)
    t0 = time.perf_counter()
    small = blend._fit_bases(fit_df)
    out = {"val": blend._base_estimates(small, val_pairs)[:, 0],
           "test_small": blend._base_estimates(small, test_pairs)[:, 0]}
    del small
    out["test_full"] = blend._base_estimates(blend._fit_bases(df), test_pairs)[:, 0]
    out["seconds"] = np.array(time.perf_counter() - t0)
    return out


COUNTS = ("log_n_user", "log_n_item")


def _design(c: dict, est: np.ndarray, tag: str, side: str, meta: tuple) -> np.ndarray:
    """Stack features from the cached per-pair stats (``tag``: fit part or whole training part)."""
    m = meta_matrix(c[f"nu_{tag}_{side}"], c[f"ni_{tag}_{side}"], c[f"su_{tag}_{side}"],
                    c[f"si_{tag}_{side}"], meta)
    return design_matrix(est, m)


def score(c: dict, cols: list[int], meta: tuple, refit: bool, alpha: float) -> float:
    """Test RMSE of one stack variant on one fold's cached estimates."""
    coef, mean, scale, icpt = fit_ridge(_design(c, c["val"][:, cols], "fit", "val", meta), c["y_val"], alpha)
    tag = "full" if refit else "fit"
    xt = _design(c, c["test_full" if refit else "test_small"][:, cols], tag, "test", meta)
    pred = np.clip(((xt - mean) / scale) @ coef + icpt, 0.5, 5.0)
    return float(np.sqrt(np.mean((pred - c["y_test"]) ** 2)))


def load_data(data: str) -> tuple:
    """(model-ready ratings frame, rating scale) of ``data``: ratings_small + links_small, or
    the seeded MovieLens-100k-shaped synthetic set on the 1-5 scale."""
    if data == ML100K_STYLE:
        from bench.scale_synth import generate_ml100k

        return generate_ml100k(seed=SEED), (1.0, 5.0)
    df = load_ratings(SHARED_DATA_DIR / "ratings_small.csv.gz", SHARED_DATA_DIR / "links_small.csv.gz",
                      include_feedback=False)
    return df, RATING_SCALE


def _cv_table(rows: dict) -> list[str]:
    lines = ["| model | RMSE | MAE | rmse std | fit s/fold |", "|---|---:|---:|---:|---:|"]
    for name, r in sorted(rows.items(), key=lambda kv: kv[1]["rmse"]):
        lines.append(f"| {name} | {r['rmse']:.4f} | {r['mae']:.4f} | {r['rmse_std']:.4f} | {r['fit_seconds']:.1f} |")
    return lines


def cv_body(res: dict) -> str:
    """Markdown of a rating-CV result with the blend: table, targets, what is served."""
    from src.evaluation.evaluate import compute_targets, target_row

    if res.get("_data") == ML100K_STYLE:
        return ml100k_cv_body(res)
    rows = {k: v for k, v in res.items() if not k.startswith("_")}
    lines = [f"Rating CV of `{', '.join(rows)}` on ratings_small + links_small (99,933 ratings), "
             f"{CV_FOLDS}-fold surprise KFold random_state={CV_RANDOM_STATE}, same folds for all rows; "
             f"whole run {res.get('_seconds', float('nan')):.0f} s on a box shared with other jobs "
             "(fit seconds are wall time, inflated by that load).", ""]
    lines += _cv_table(rows)
    targets = {k: v for k, v in compute_targets(rows, {}).items()
               if k in ("rating_blend_rmse", "rating_blend_beats_svd_tuned", "served_svd_rmse")}
    lines += ["", "| check | target | value | baseline (same run) | verdict |", "|---|---|---:|---:|---|"]
    lines += [target_row(name, t) for name, t in targets.items()]
    lines += ["", "`rating_blend` = `src.models.rating_blend.RatingBlend` with config `RATING_BLEND_PARAMS` "
              "(weights fitted on a validation split of each fold's training part, bases refitted on "
              "the whole training part). It is an evaluation row: the served stars are still "
              "`svd_tuned` (references/models.md)."]
    return "\n".join(lines)


def ml100k_cv_body(res: dict) -> str:
    """Markdown of the MovieLens-100k-style rating CV: the synthetic set, the table, the
    same-run comparisons (what is comparable) and the issue's absolute target as n/a."""
    from src.evaluation.evaluate import target_row
    from src.evaluation.rating_cv import BASELINE, RATING_BLEND, SVD_DEFAULT, SVD_TUNED

    rows = {k: v for k, v in res.items() if not k.startswith("_")}
    d = res.get("_dataset", {})
    rmse = {k: v["rmse"] for k, v in rows.items()}
    lines = [f"Rating CV of `{', '.join(rows)}` on a **synthetic** MovieLens-100k-shaped set "
             f"(`bench/scale_synth.py` `generate_ml100k`, seed {SEED}: {d.get('ratings', 0):,} ratings, "
             f"{d.get('users', 0):,} users, {d.get('items', 0):,} items, 1–5 integer stars, "
             f"{d.get('min_per_user', '?')}–{d.get('max_per_user', '?')} ratings per user, most-rated title "
             f"{d.get('max_per_item', '?')} ratings, mean {d.get('mean', float('nan')):.2f}★; ten planted taste "
             "clusters plus user/item biases and N(0, 0.8) noise before rounding). MovieLens-100k itself is not "
             "in /work/shared/data and there is no network. "
             f"{CV_FOLDS}-fold surprise KFold random_state={CV_RANDOM_STATE}, rating scale 1–5, same folds for all "
             f"rows; whole run {res.get('_seconds', float('nan')):.0f} s on a box shared with other jobs "
             "(fit seconds are wall time, inflated by that load).", ""]
    lines += _cv_table(rows)
    checks = {}
    if RATING_BLEND in rmse and SVD_TUNED in rmse:
        checks["rating_blend_beats_svd_tuned"] = {"target": f"< {SVD_TUNED} RMSE", "value": rmse[RATING_BLEND],
                                                  "baseline": rmse[SVD_TUNED],
                                                  "met": rmse[RATING_BLEND] < rmse[SVD_TUNED]}
    if SVD_TUNED in rmse and BASELINE in rmse:
        checks["svd_tuned_beats_baseline"] = {"target": f"< {BASELINE} RMSE", "value": rmse[SVD_TUNED],
                                              "baseline": rmse[BASELINE], "met": rmse[SVD_TUNED] < rmse[BASELINE]}
    ratio_target = ML100K_RMSE_TARGET / ML100K_PUBLISHED_SVD_RMSE
    if RATING_BLEND in rmse and SVD_DEFAULT in rmse:
        ratio = rmse[RATING_BLEND] / rmse[SVD_DEFAULT]
        checks["rating_blend / svd_default (the target as a ratio)"] = {
            "target": f"<= {ML100K_RMSE_TARGET} / {ML100K_PUBLISHED_SVD_RMSE} = {ratio_target:.3f}",
            "value": round(ratio, 4), "met": ratio <= ratio_target}
    if RATING_BLEND in rmse:
        checks["rating_blend_rmse (issue: ML-100k)"] = {
            "target": f"<= {ML100K_RMSE_TARGET}", "value": rmse[RATING_BLEND], "model": RATING_BLEND, "met": None,
            "verdict": "n/a: synthetic data, not comparable"}
    lines += ["", "| check | target | value | baseline (same run) | verdict |", "|---|---|---:|---:|---|"]
    lines += [target_row(name, t) for name, t in checks.items()]
    ratios = []
    for a, b in ((RATING_BLEND, SVD_TUNED), (RATING_BLEND, SVD_DEFAULT), (RATING_BLEND, BASELINE),
                 (SVD_TUNED, BASELINE)):
        if a in rmse and b in rmse:
            ratios.append(f"{a} / {b} {rmse[a] / rmse[b]:.4f}")
    lines += ["", "Ratios in this run: " + ", ".join(ratios) + ".", "",
              f"**Not comparable with published MovieLens-100k numbers** (Surprise SVD 0.934, SVD++ 0.919; the "
              f"issue's target {ML100K_RMSE_TARGET} is stated for the real ML-100k): a synthetic set's RMSE is set "
              "by its planted noise (here N(0, 0.8) plus rounding to whole stars) and structure, not by real "
              "viewers, so its absolute values say nothing about ML-100k. What is comparable is each model "
              "against the others on the same folds: the ratios above. The ratio row restates the issue's "
              f"target relative to the Surprise-default SVD it quotes ({ratio_target:.3f} × svd_default); it is an "
              "analog only, since how much a blend can gain over SVD depends on how much learnable structure "
              "the data has beyond SVD's."]
    return "\n".join(lines)


def run_cv(data: str = "ratings_small") -> dict:
    """The rating CV of the blend and its reference rows on ``data`` (minutes)."""
    from src.evaluation.rating_cv import (
        BASELINE,
        KNN,
        RATING_BLEND,
        SVD_DEFAULT,
        SVD_TUNED,
        cross_validate_ratings,
        rating_algorithms,
    )

    df, scale = load_data(data)
    models = (BASELINE, KNN, SVD_TUNED, RATING_BLEND) + ((SVD_DEFAULT,) if data == ML100K_STYLE else ())
    t0 = time.perf_counter()
    res = cross_validate_ratings(df, rating_algorithms(include=models), rating_scale=scale)
    res["_seconds"] = time.perf_counter() - t0
    res["_data"] = data
    per_user, per_item = df.groupby(USER_COL).size(), df.groupby(ITEM_ID_COL).size()
    res["_dataset"] = {"ratings": int(len(df)), "users": int(len(per_user)), "items": int(len(per_item)),
                       "min_per_user": int(per_user.min()), "max_per_user": int(per_user.max()),
                       "max_per_item": int(per_item.max()), "mean": float(df[RATING_COL].mean())}
    return res


def main() -> None:
    """Compute (or load) the cached fold estimates and print/record the variant table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", choices=DATA, default="ratings_small",
                    help="ratings_small (real) or ml100k-style (the seeded MovieLens-100k-shaped synthetic set)")
    ap.add_argument("--folds", type=int, default=CV_FOLDS, help="score the first N of the CV folds")
    ap.add_argument("--cache", default="/tmp/rating_blend_cache")
    ap.add_argument("--svdpp", action="store_true", help="add SVD++ (20 factors) to the candidates")
    ap.add_argument("--record", action="store_true")
    ap.add_argument("--cv", action="store_true", help="run the 5-fold rating CV with the blend row")
    ap.add_argument("--json", help="where --cv saves its result (default /tmp/rating_blend_cv[_DATA].json)")
    ap.add_argument("--from-json", help="record a result saved by --cv (no fitting)")
    args = ap.parse_args()
    synthetic = args.data == ML100K_STYLE
    if args.cv or args.from_json:
        if args.cv:
            res = run_cv(args.data)
            out = args.json or f"/tmp/rating_blend_cv{'_' + args.data if synthetic else ''}.json"
            Path(out).write_text(json.dumps(res, indent=1))
        else:
            res = json.loads(Path(args.from_json).read_text())
        body = cv_body(res)
        print(body)
        record_benchmark(f"Rating blend ({ML100K_LABEL})" if res.get("_data") == ML100K_STYLE else CV_SECTION, body)
        return
    from surprise.model_selection import KFold

    cands = {**CANDIDATES, **(SVDPP if args.svdpp else {})}
    names = list(cands)
    df, scale = load_data(args.data)
    folds = list(KFold(n_splits=CV_FOLDS, random_state=CV_RANDOM_STATE, shuffle=True).split(
        to_surprise(df, scale)))
    cache = Path(args.cache) / args.data if synthetic else Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    per_fold = []
    for f, (trainset, testset) in enumerate(folds[:args.folds]):
        meta_path = cache / f"fold{f}_meta.npz"
        if not meta_path.exists():
            np.savez(meta_path, **fold_meta(trainset, testset))
        c = dict(np.load(meta_path))
        parts, secs = [], []
        for name in names:
            path = cache / f"fold{f}_{name}.npz"
            if not path.exists():
                np.savez(path, **base_estimates(trainset, testset, name, cands[name]))
            b = dict(np.load(path))
            parts.append(b)
            secs.append(f"{name} {float(b['seconds']):.0f}s")
        for key in ("val", "test_small", "test_full"):
            c[key] = np.column_stack([b[key] for b in parts])
        per_fold.append(c)
        print(f"fold {f}: " + ", ".join(secs), flush=True)
    rows = []
    for j, n in enumerate(names):  # each base alone, refitted (what CV would report for it)
        rows.append((n, np.mean([float(np.sqrt(np.mean((c["test_full"][:, j] - c["y_test"]) ** 2)))
                                 for c in per_fold])))
    cfg = [names.index(n) for n in RATING_BLEND_PARAMS["bases"]]
    # The config set (RATING_BLEND_PARAMS), each of its bases left out, each extra candidate added, everything.
    subsets = [cfg] + [[c for c in cfg if c != d] for d in cfg]
    subsets += [cfg + [names.index(n)] for n in names if names.index(n) not in cfg]
    subsets.append(list(range(len(names))))
    metas = {"all": RATING_BLEND_PARAMS["meta_features"], "counts": COUNTS, "none": ()}
    # Meta features x refit on the config set; the other base subsets with the config recipe.
    variants = [(cfg, m, r) for m, r in itertools.product(metas, (True, False))]
    variants += [(cols, "all", True) for cols in subsets[1:]]
    for cols, mname, refit in variants:
        label = ("config" if cols == cfg else "+".join(names[c] for c in cols)) + f" meta={mname} refit={refit}"
        rows.append((label, np.mean([score(c, cols, metas[mname], refit, 1.0) for c in per_fold])))
    for alpha in (0.1, 10.0, 100.0):
        rows.append((f"config set, alpha={alpha}", np.mean([score(c, cfg, metas["all"], True, alpha) for c in per_fold])))
    lines = [f"{len(per_fold)} of the {CV_FOLDS} CV folds (KFold random_state={CV_RANDOM_STATE}); "
             "test RMSE averaged over folds; ridge alpha 1 unless named; `config` = the bases of config RATING_BLEND_PARAMS, meta all = its meta features, counts = log counts only.", "",
             "| variant | RMSE |", "|---|---:|"]
    lines += [f"| {label} | {r:.4f} |" for label, r in rows]
    print("\n".join(lines))
    if synthetic:
        lines[0] = f"{ML100K_LABEL} set (`generate_ml100k`, seed {SEED}; RMSEs not comparable to ML-100k). " + lines[0]
    if args.record:
        record_benchmark(f"Rating blend ablation ({ML100K_LABEL})" if synthetic else SECTION, "\n".join(lines))


if __name__ == "__main__":
    main()
