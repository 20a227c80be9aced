"""Rating-prediction accuracy: the algorithms compared and one shared cross-validation loop.

Every algorithm is scored on the SAME folds (Surprise ``KFold`` with a fixed
``random_state``), so differences in RMSE/MAE come from the models, not the split. The
comparison set is fixed by the evaluation protocol: NormalPredictor (random, the floor),
BaselineOnly (user + item biases), KNNBaseline (item-based, pearson_baseline similarity),
NMF, SVD with Surprise defaults, SVD with the tuned parameters, and optionally SVD++; the
validated blend ``rating_blend`` (:class:`src.models.rating_blend.RatingBlend`: its stack
weights are fitted on a validation split carved from each fold's training part, never on the
fold's test); plus the fixed-weight blends of ``config.RATING_BLENDS`` (e.g. tuned SVD +
KNNBaseline), computed from the component models' estimates on the same folds.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from src.config import (
    CV_FOLDS,
    CV_RANDOM_STATE,
    DENSE_BUDGET_ENV,
    DENSE_MEMORY_FRACTION,
    ITEM_ID_COL,
    KNN_BASELINE_PARAMS,
    KNN_DENSE_ITEMSIZE,
    KNN_DENSE_MATRICES,
    RATING_BLEND_PARAMS,
    RATING_BLENDS,
    RATING_COL,
    RATING_SCALE,
    SEED,
    SVD_TUNED_PARAMS,
    TOPN_TEST_FRACTION,
    USER_COL,
)
from src.models.rating_blend import RatingBlend
from src.models.ratings_data import to_surprise
from src.models.split import bernoulli_split
from src.utils.logging import get_logger
from src.utils.memory import check_dense, resolve_budget

log = get_logger(__name__)

# Display order (and JSON key order) of the rating models.
NORMAL = "normal_predictor"
BASELINE = "baseline_only"
KNN = "knn_baseline"
NMF_NAME = "nmf"
SVD_DEFAULT = "svd_default"
SVD_TUNED = "svd_tuned"
SVDPP = "svdpp"
RATING_BLEND = "rating_blend"


def seeded_normal_predictor(seed: int = SEED):
    """Return a Surprise ``NormalPredictor`` whose random draws come from its own seeded generator.

    Surprise's draws from numpy's global RNG, so the floor model's RMSE would change from run to
    run; a private generator keeps metrics.json reproducible without touching global state.
    """
    from surprise import NormalPredictor

    class SeededNormalPredictor(NormalPredictor):
        """NormalPredictor drawing from ``np.random.default_rng(seed)``, re-seeded on each fit."""

        def fit(self, trainset):
            self._rng = np.random.default_rng(seed)
            return super().fit(trainset)

        def estimate(self, *_):
            return self._rng.normal(self.trainset.global_mean, self.sigma)

    return SeededNormalPredictor()


def rating_algorithms(tuned_params: dict | None = None, svdpp: bool = False,
                      include: tuple[str, ...] | None = None) -> dict[str, Callable]:
    """Return ``{model name: factory()}`` for the compared rating algorithms.

    In: SVD params for ``svd_tuned`` (default config ``SVD_TUNED_PARAMS``); ``svdpp`` adds
    SVD++ (slow); ``include`` keeps only those names. Out: factories building fresh,
    seeded (where the algorithm is random) Surprise algorithms, in display order.
    """
    from surprise import NMF, SVD, BaselineOnly, KNNBaseline, SVDpp

    tuned = dict(SVD_TUNED_PARAMS if tuned_params is None else tuned_params)
    algos: dict[str, Callable] = {
        NORMAL: seeded_normal_predictor,
        BASELINE: lambda: BaselineOnly(verbose=False),
        KNN: lambda: KNNBaseline(**KNN_BASELINE_PARAMS, verbose=False),
        NMF_NAME: lambda: NMF(random_state=SEED),
        SVD_DEFAULT: lambda: SVD(random_state=SEED),
        SVD_TUNED: lambda: SVD(**tuned, random_state=SEED),
        RATING_BLEND: lambda: RatingBlend(_blend_params(tuned)),
    }
    if svdpp:
        algos[SVDPP] = lambda: SVDpp(random_state=SEED, cache_ratings=True)
    if include is not None:
        unknown = set(include) - set(algos)
        if unknown:
            raise ValueError(f"unknown rating model(s) {sorted(unknown)}; known: {list(algos)}")
        algos = {k: v for k, v in algos.items() if k in include}
    return algos


def _blend_params(tuned: dict) -> dict:
    """Config ``RATING_BLEND_PARAMS`` with its tuned-SVD base using ``tuned`` (the params
    ``svd_tuned`` is evaluated with), so the blend row stacks the SVD the table reports."""
    bases = {name: (dict(spec, params=tuned) if name == SVD_TUNED else spec)
             for name, spec in RATING_BLEND_PARAMS["bases"].items()}
    return {**RATING_BLEND_PARAMS, "bases": bases}


# Rating models whose fit holds dense items² arrays: (how many at once, bytes per element).
# The blend's kNN bases share one KNNBaseline fit, so it holds what KNNBaseline holds.
DENSE_RATING_MODELS = {KNN: (KNN_DENSE_MATRICES, KNN_DENSE_ITEMSIZE),
                       RATING_BLEND: (KNN_DENSE_MATRICES, KNN_DENSE_ITEMSIZE)}


def skip_over_budget(algorithms: dict[str, Callable], n_items: int,
                     memory_budget_mb: float | None = None) -> tuple[dict[str, Callable], dict[str, str]]:
    """Drop the rating models whose dense items² fit would not fit the memory budget.

    In: factories from :func:`rating_algorithms`, the item count of the ratings, an optional
    budget in MiB (default env ``DENSE_BUDGET_ENV`` or ``DENSE_MEMORY_FRACTION`` of available
    RAM). Out: (the factories that fit, ``{model: reason}`` for the skipped ones, each also
    logged as a warning) — checked before any fold is fitted, so nothing is half-allocated.
    """
    budget = resolve_budget(memory_budget_mb, DENSE_BUDGET_ENV, DENSE_MEMORY_FRACTION)
    kept, skipped = {}, {}
    for name, make in algorithms.items():
        reason = (check_dense(name, n_items, *DENSE_RATING_MODELS[name], budget)
                  if name in DENSE_RATING_MODELS else None)
        if reason is None:
            kept[name] = make
        else:
            skipped[name] = reason
            log.warning("skipping %s", reason)
    return kept, skipped


def _errors(est: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Return (RMSE, MAE) of estimates against true ratings."""
    diff = est - truth
    return float(np.sqrt(np.mean(diff ** 2))), float(np.mean(np.abs(diff)))


def _fit_predict(algo, trainset, testset) -> tuple[np.ndarray, float]:
    """Fit ``algo`` on ``trainset``; return (estimates in ``testset`` order, fit seconds)."""
    start = time.perf_counter()
    algo.fit(trainset)
    fit_s = time.perf_counter() - start
    est = np.fromiter((p.est for p in algo.test(testset)), dtype=float, count=len(testset))
    return est, fit_s


def _score(algo, trainset, testset) -> tuple[float, float, float]:
    """Fit ``algo`` on ``trainset``; return (rmse, mae, fit seconds) on ``testset``."""
    est, fit_s = _fit_predict(algo, trainset, testset)
    truth = np.fromiter((r for _, _, r in testset), dtype=float, count=len(testset))
    return (*_errors(est, truth), fit_s)


def _summarise(rows: list[tuple[float, float, float]]) -> dict:
    """Average per-fold (rmse, mae, fit_seconds) into the metrics.json shape."""
    arr = np.asarray(rows, dtype=float)
    return {
        "rmse": round(float(arr[:, 0].mean()), 5),
        "mae": round(float(arr[:, 1].mean()), 5),
        "fit_seconds": round(float(arr[:, 2].mean()), 3),
        "rmse_std": round(float(arr[:, 0].std()), 5),
        "folds": int(len(arr)),
    }


def cross_validate_ratings(ratings: pd.DataFrame, algorithms: dict[str, Callable],
                           n_splits: int = CV_FOLDS, random_state: int = CV_RANDOM_STATE,
                           blends: dict[str, dict[str, float]] | None = None,
                           rating_scale: tuple[float, float] = RATING_SCALE) -> dict[str, dict]:
    """K-fold CV of each algorithm on the same folds; return ``{name: {rmse, mae, fit_seconds, ...}}``.

    In: a model-ready ratings frame, factories from :func:`rating_algorithms`, the number
    of folds and the fold seed, and ``blends`` (default config ``RATING_BLENDS``:
    ``{blend name: {model: weight}}``). Out: per model the mean RMSE, MAE and fit time over
    folds (plus ``rmse_std`` and ``folds``). A blend is the fixed-weight average of its
    models' estimates on each fold (weights set in config, never fitted on test ratings);
    it is reported only when all its models ran. ``rating_scale`` is the Surprise reader's
    (predictions are clipped to it; default config ``RATING_SCALE``, a 1-5 star set passes
    (1, 5)). One tqdm bar over algorithms x folds.
    """
    from surprise.model_selection import KFold

    if len(ratings) < n_splits:
        raise ValueError(f"need at least {n_splits} ratings for {n_splits}-fold CV, got {len(ratings)}")
    data = to_surprise(ratings, rating_scale)
    # Materialise the folds once so every algorithm sees identical train/test sets.
    folds = list(KFold(n_splits=n_splits, random_state=random_state, shuffle=True).split(data))
    truths = [np.fromiter((r for _, _, r in te), dtype=float, count=len(te)) for _, te in folds]
    # Per model and fold: test-set estimates (kept for the blends) and fit seconds.
    preds: dict[str, list[tuple[np.ndarray, float]]] = {}
    out: dict[str, dict] = {}
    with tqdm(total=len(algorithms) * len(folds), desc="rating CV", unit="fit") as bar:
        for name, make in algorithms.items():
            preds[name] = []
            for trainset, testset in folds:
                bar.set_postfix_str(name)
                preds[name].append(_fit_predict(make(), trainset, testset))
                bar.update(1)
            out[name] = _summarise([(*_errors(est, y), fit_s)
                                    for (est, fit_s), y in zip(preds[name], truths)])
            log.info("%-16s RMSE %.4f  MAE %.4f  fit %.2fs/fold", name, out[name]["rmse"],
                     out[name]["mae"], out[name]["fit_seconds"])
    for name, weights in (blends if blends is not None else RATING_BLENDS).items():
        if not set(weights) <= set(preds):
            continue  # a component was not evaluated in this run
        rows = []
        for f, y in enumerate(truths):
            est = sum(w * preds[m][f][0] for m, w in weights.items()) / sum(weights.values())
            rows.append((*_errors(est, y), sum(preds[m][f][1] for m in weights)))
        out[name] = _summarise(rows)
        log.info("%-16s RMSE %.4f  MAE %.4f  (blend of %s)", name, out[name]["rmse"],
                 out[name]["mae"], weights)
    return out


def holdout_ratings(ratings: pd.DataFrame, algorithms: dict[str, Callable],
                    test_fraction: float = TOPN_TEST_FRACTION, seed: int = SEED) -> dict[str, dict]:
    """One seeded train/test split (:func:`src.models.split.bernoulli_split`); score each algorithm.

    A fast stand-in for :func:`cross_validate_ratings` (tests, quick checks). Out: same
    shape with ``folds == 1``. Test ratings of users/items unseen in training are kept:
    Surprise falls back to the global mean for them, as it would in serving.
    """
    train_df, test_df = bernoulli_split(ratings, test_fraction=test_fraction, seed=seed)
    if train_df.empty or test_df.empty:
        raise ValueError("holdout split left an empty side; give more ratings")
    trainset = to_surprise(train_df).build_full_trainset()
    testset = list(test_df[[USER_COL, ITEM_ID_COL, RATING_COL]].itertuples(index=False, name=None))
    out = {}
    for name, make in tqdm(algorithms.items(), desc="rating holdout", unit="model"):
        out[name] = _summarise([_score(make(), trainset, testset)])
    return out
