"""Train (and tune) StreamRec's models on real viewer ratings and save the model bundle.

``main`` fits a Surprise SVD rating model on the model-ready ratings
(:func:`src.models.ratings_data.load_ratings`: MovieLens ratings mapped to catalogue ids
plus viewer feedback), then the top-N ranker of :mod:`src.models.topn` on the same ratings,
and saves both as a checksummed :class:`~src.models.bundle.ModelBundle`. ``engine`` picks who
trains the ranker: "surprise" (default: SVD + EASE as above), "implicit" (implicit ALS,
:mod:`src.models.factor_ranker`) or "spark" (Spark MLlib ALS, :mod:`src.models.spark_als`);
the two ALS engines write the same factor-ranker component and no SVD (at the scales they
are for, Surprise's SVD does not fit in RAM; references/scaling.md). ``tune`` searches
SVD hyper-parameters by 3-fold CV and saves the best to ``paths.best_params``, which
``main`` then uses (falling back to config ``SVD_TUNED_PARAMS``, found the same way).
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import pandas as pd

from src.config import (
    EASE_INVERSE_PROCESS_MIN_ITEMS,
    EXTRA_MODULES,
    FACTOR_TOP_N,
    ITEM_ID_COL,
    PATHS,
    SEED,
    SVD_DEFAULT_PARAMS,
    SVD_PARAM_GRID,
    SVD_TUNE_FOLDS,
    SVD_TUNE_N_ITER,
    SVD_TUNE_N_JOBS,
    SVD_TUNED_PARAMS,
    TRAIN_ENGINES,
    USER_COL,
    Paths,
)
from src.models.bundle import ModelBundle, save_bundle
from src.models.ratings_data import (
    FrameOrPath,
    load_ratings,
    ratings_sha256,
    to_surprise,
)
from src.models.topn import InverseBeside, ease_from_inverse, ease_gram, spd_inverse
from src.utils.io import write_json_atomic
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

# Surprise's searches have no tqdm hook; joblib's verbose lines ("Done 12 tasks | elapsed")
# are the progress display of a tune run.
TUNE_JOBLIB_VERBOSE = 5

# The SVD keyword arguments a params file may set; anything else is refused so a typo in a
# hand-edited JSON cannot be silently ignored.
SVD_PARAM_NAMES = frozenset({
    "n_factors", "n_epochs", "biased", "init_mean", "init_std_dev", "lr_all", "reg_all",
    "lr_bu", "lr_bi", "lr_pu", "lr_qi", "reg_bu", "reg_bi", "reg_pu", "reg_qi",
})


def check_svd_params(params: dict, source: str = "params") -> dict:
    """Return ``params`` if every key is an SVD argument with a numeric/bool value.

    Raises ValueError naming the offending key (and ``source``) otherwise.
    """
    if not isinstance(params, dict):
        raise ValueError(f"{source}: SVD params must be a JSON object, got {type(params).__name__}")
    for key, val in params.items():
        if key not in SVD_PARAM_NAMES:
            raise ValueError(f"{source}: unknown SVD parameter '{key}'")
        if not isinstance(val, (int, float, bool)):
            raise ValueError(f"{source}: SVD parameter '{key}' must be a number, got {val!r}")
    return dict(params)


def read_best_params(paths: Paths = PATHS) -> dict | None:
    """Return the tuned SVD params saved by :func:`tune`, or None when none were saved."""
    if not paths.best_params.exists():
        return None
    try:
        data = json.loads(paths.best_params.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{paths.best_params} is not valid JSON: {exc}") from exc
    return check_svd_params(data.get("params", data) if isinstance(data, dict) else data,
                            source=str(paths.best_params))


def svd_params_for_training(paths: Paths = PATHS) -> tuple[dict, str]:
    """Return ``(params, source)``: ``paths.best_params`` when ``tune`` ran, else config ``SVD_TUNED_PARAMS``.

    The fallback is the tuned set, not Surprise's defaults: evaluation reports ``svd_tuned``
    with the same rule, so metrics.json always describes the model that is served (Surprise's
    defaults measure worse than biases alone on ratings_small; references/models.md).
    """
    best = read_best_params(paths)
    if best is not None:
        return best, str(paths.best_params)
    return dict(SVD_TUNED_PARAMS), "config.SVD_TUNED_PARAMS"


def fit_svd(ratings: pd.DataFrame, params: dict | None = None, seed: int = SEED):
    """Fit a Surprise SVD on every rating of a model-ready frame; return the fitted model.

    In: ``userId, itemId, rating`` frame, SVD params (default config ``SVD_DEFAULT_PARAMS``;
    checked by :func:`check_svd_params`), random seed. Out: the fitted ``surprise.SVD`` (its
    trainset maps raw ids to inner ids). Also used by the top-N protocol (``topn_eval``).
    """
    from surprise import SVD

    if ratings.empty:
        raise ValueError("cannot train on an empty ratings frame")
    params = check_svd_params(SVD_DEFAULT_PARAMS if params is None else params)
    trainset = to_surprise(ratings).build_full_trainset()
    algo = SVD(**params, random_state=seed)
    algo.fit(trainset)
    return algo


def main(ratings: FrameOrPath = None, links: FrameOrPath = None, paths: Paths = PATHS,
         include_feedback: bool = True, engine: str = "surprise", master: str | None = None,
         ranker_params: dict | None = None) -> Path:
    """Train the SVD rating model and the top-N ranker; save the bundle; return its path.

    In: optional ratings CSV/Parquet/frame and links CSV/frame (default: the ETL's processed
    ratings, read from its Parquet copy when current, plus SQLite viewer feedback), the workspace paths, the ``engine`` (one of
    ``TRAIN_ENGINES``) and, for "spark", the Spark ``master`` URL; ``ranker_params`` are
    keyword arguments of the ALS engines' fit (e.g. ``factors``, ``iterations``: quick runs,
    tests). Out: the new bundle folder under
    ``paths.model_bundles`` (arrays + manifest with params, versions, data sha256, counts,
    timings), made live by switching ``paths.model_pointer`` (:func:`src.models.bundle.save_bundle`).
    """
    if engine not in TRAIN_ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {', '.join(TRAIN_ENGINES)}")
    if master is not None and engine != "spark":
        raise ValueError(f"--master is for --engine spark, not {engine!r}")
    with timed(log, "loading ratings"):
        df = load_ratings(ratings, links, paths=paths, include_feedback=include_feedback)
    if engine != "surprise":
        return _train_factors(df, paths, engine, master, dict(ranker_params or {}))
    params, source = svd_params_for_training(paths)
    log.info("training SVD on %d ratings (%d users, %d items) with %s from %s", len(df),
             df[USER_COL].nunique(), df[ITEM_ID_COL].nunique(), params, source)
    svd, ranker, t_svd, t_rank = _fit_both(df, params)
    metadata = {
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "params_source": source,
        "engine": "surprise",
        "seed": SEED,
        "data": _data_metadata(df),
        "fit_seconds": {"svd": round(t_svd["seconds"], 3), "ranker": round(t_rank["seconds"], 3)},
        "load_seconds": dict(df.attrs.get("load_seconds", {})),
        "metrics": _training_metrics(paths),
    }
    bundle = ModelBundle(svd=svd, ranker=ranker, train_ratings=df, params=params,
                         metadata=metadata)
    with timed(log, "saving the bundle"):
        return save_bundle(bundle, paths)


def _fit_both(df: pd.DataFrame, params: dict) -> tuple:
    """Fit the SVD and EASE, overlapping them when EASE is big: (svd, ranker, SVD timing, EASE timing).

    EASE's time is one dense inverse in LAPACK and Surprise's SVD is single-threaded, so from
    ``EASE_INVERSE_PROCESS_MIN_ITEMS`` items the inverse runs in a second process
    (:class:`~src.models.topn.InverseBeside`, 1 BLAS thread) while the SVD fits here: the train
    takes about the longer of the two instead of their sum. Smaller fits run one after the
    other. A failure in either is raised as it would be alone.
    """
    with timed(log, "EASE Gram matrix") as t_gram:
        g = ease_gram(df)
    if len(g.items) < EASE_INVERSE_PROCESS_MIN_ITEMS:
        with timed(log, "SVD fit") as t_svd:
            svd = fit_svd(df, params)
        with timed(log, f"EASE inverse ({len(g.items)} items)") as t_inv:
            p = spd_inverse(g.gram)
    else:
        with InverseBeside(g.gram) as beside:
            g.gram = None   # the child has its own copy: free ours while the SVD runs
            with timed(log, "SVD fit (EASE's inverse in a second process)") as t_svd:
                svd = fit_svd(df, params)
            with timed(log, f"waiting for EASE's inverse ({len(g.items)} items) after the SVD"):
                p = beside.result()
            t_inv = {"seconds": beside.seconds}
            log.info("EASE inverse (%d items) took %.2fs in its own process", len(g.items), beside.seconds)
    return svd, ease_from_inverse(g, p), t_svd, {"seconds": t_gram["seconds"] + t_inv["seconds"]}


def _data_metadata(df: pd.DataFrame) -> dict:
    """The manifest's description of the training ratings (sha256, counts, load stats)."""
    return {"sha256": ratings_sha256(df), "n_ratings": int(len(df)),
            "n_users": int(df[USER_COL].nunique()), "n_items": int(df[ITEM_ID_COL].nunique()),
            **{f"load_{k}": v for k, v in df.attrs.get("load_stats", {}).items()}}


def _train_factors(df: pd.DataFrame, paths: Paths, engine: str, master: str | None, kw: dict) -> Path:
    """Fit the ALS factor ranker with ``engine`` ("implicit" or "spark"); save a bundle of
    that ranker + the seen ratings (+ for spark the explicit ALS stars as an SVD; implicit has
    no SVD); return its folder."""
    log.info("training %s ALS on %d ratings (%d users, %d items)", engine, len(df),
             df[USER_COL].nunique(), df[ITEM_ID_COL].nunique())
    svd = None   # implicit: no predicted stars; spark: explicit ALS's, as an SVD
    with timed(log, f"{engine} ALS fit") as t_rank:
        if engine == "implicit":
            from src.models.factor_ranker import fit_factor_ranker

            ranker = fit_factor_ranker(df, **kw)
        else:
            from src.models.spark_als import fit_spark_ranker

            ranker, svd = fit_spark_ranker(df, master=master, workdir=paths.interim, **kw)
    serving = _factor_serving_parts(ranker)
    metadata = {
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "engine": engine, "seed": SEED, "data": _data_metadata(df),
        "fit_seconds": {"ranker": round(t_rank["seconds"], 3), **serving},
        "load_seconds": dict(df.attrs.get("load_seconds", {})),
        "metrics": _training_metrics(paths),
    }
    bundle = ModelBundle(svd=svd, ranker=ranker, train_ratings=df, params=dict(ranker.params),
                         metadata=metadata)
    with timed(log, "saving the bundle"):
        return save_bundle(bundle, paths)


def _factor_serving_parts(ranker) -> dict:
    """Precompute what serving a factor bundle reads instead of scoring at load: every known
    user's top-``FACTOR_TOP_N`` table and (with the [ann] extra) the HNSW index over the item
    factors, both stored in the bundle. Out: their build seconds (for the manifest)."""
    from src.utils.extras import missing_modules

    out = {}
    with timed(log, "known users' top-N table") as t:
        ranker.build_top_table(FACTOR_TOP_N)
    out["top_table"] = round(t["seconds"], 3)
    if not missing_modules(EXTRA_MODULES["ann"]):
        from src.models.factor_ann import FactorAnn

        with timed(log, f"HNSW index over {ranker.n_items} item factors") as t:
            ranker.ann_state = FactorAnn(ranker.item_factors).state()
        out["ann_index"] = round(t["seconds"], 3)
    else:
        log.info("hnswlib not installed ([ann] extra): no ANN index in the bundle; folded-in "
                 "viewers are scored over every title")
    return out


def _training_metrics(paths: Paths) -> dict:
    """Return the rating/top-N metrics of the last evaluation run, if any, for the manifest."""
    if not paths.metrics.exists():
        return {}
    try:
        m = json.loads(paths.metrics.read_text())
    except json.JSONDecodeError:
        log.warning("%s is not valid JSON; the bundle manifest gets no metrics", paths.metrics)
        return {}
    return {k: m.get(k) for k in ("rating", "topn", "created_at") if k in m}


def tune(ratings: FrameOrPath = None, links: FrameOrPath = None, paths: Paths = PATHS,
         n_iter: int | None = SVD_TUNE_N_ITER, grid: dict | None = None,
         cv: int = SVD_TUNE_FOLDS, n_jobs: int = SVD_TUNE_N_JOBS) -> dict:
    """Search SVD hyper-parameters by CV; save and return the best params and scores.

    In: ratings/links as for :func:`main`; ``grid`` (default config ``SVD_PARAM_GRID``,
    lists of values for n_factors, n_epochs, lr_all, reg_all); ``n_iter`` sampled
    combinations (RandomizedSearchCV, seeded) or None for the full grid (GridSearchCV);
    ``cv`` folds; ``n_jobs``. Out: ``{"params", "rmse", "mae", "n_candidates", ...}``,
    also written atomically to ``paths.best_params`` (read by :func:`main` and evaluation).
    """
    from surprise import SVD
    from surprise.model_selection import GridSearchCV, KFold, RandomizedSearchCV

    df = load_ratings(ratings, links, paths=paths)
    grid = dict(grid or SVD_PARAM_GRID)
    for key, values in grid.items():
        check_svd_params({key: values[0]}, source="SVD_PARAM_GRID")
    grid["random_state"] = [SEED]
    n_total = 1
    for key, values in grid.items():
        n_total *= len(values)
    folds = KFold(n_splits=cv, random_state=SEED, shuffle=True)
    if n_iter is None or n_iter >= n_total:
        search = GridSearchCV(SVD, grid, measures=["rmse", "mae"], cv=folds, n_jobs=n_jobs,
                              joblib_verbose=TUNE_JOBLIB_VERBOSE)
        n_cand = n_total
    else:
        search = RandomizedSearchCV(SVD, grid, n_iter=n_iter, measures=["rmse", "mae"], cv=folds,
                                    n_jobs=n_jobs, random_state=SEED,
                                    joblib_verbose=TUNE_JOBLIB_VERBOSE)
        n_cand = n_iter
    log.info("tuning SVD: %d candidate(s) x %d folds on %d ratings", n_cand, cv, len(df))
    with timed(log, "SVD tuning") as t:
        search.fit(to_surprise(df))
    best = {k: v for k, v in search.best_params["rmse"].items() if k != "random_state"}
    results = pd.DataFrame(search.cv_results)
    table = [
        {**{k: v for k, v in p.items() if k != "random_state"},
         "rmse": round(float(r), 5), "mae": round(float(m), 5)}
        for p, r, m in zip(results["params"], results["mean_test_rmse"], results["mean_test_mae"])
    ]
    table.sort(key=lambda row: row["rmse"])
    out = {
        "params": best,
        "rmse": round(float(search.best_score["rmse"]), 5),
        "mae": round(float(results.loc[results["rank_test_rmse"] == 1, "mean_test_mae"].iloc[0]), 5),
        "cv_folds": cv,
        "n_candidates": n_cand,
        "search": "grid" if n_cand == n_total else "randomized",
        "seconds": round(t["seconds"], 2),
        "data_sha256": ratings_sha256(df),
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "results": table,
    }
    write_json_atomic(out, paths.best_params)
    log.info("best SVD params %s: CV RMSE %.4f, MAE %.4f (saved to %s)", best, out["rmse"],
             out["mae"], paths.best_params)
    return out

