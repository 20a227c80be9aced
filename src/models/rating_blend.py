"""A validated rating blend: several Surprise rating models stacked by ridge regression.

:class:`RatingBlend` is a Surprise algorithm (``fit(trainset)``, ``predict(uid, iid)``,
``test(testset)``), so it is cross-validated on exactly the folds every other rating model
sees (:func:`src.evaluation.rating_cv.cross_validate_ratings`). Its ``fit``:

1. splits the ratings it is given into a fit part and a validation part (each rating to
   validation with probability ``validation_fraction``, seeded) — the caller's test ratings
   are never seen;
2. fits every base model (config ``RATING_BLEND_PARAMS["bases"]``: SVDs, an item kNN on
   baseline residuals, the biases) on the fit part and predicts the validation part;
3. fits ridge weights on the validation part over the base estimates plus meta features
   (config ``meta_features``: ``a = log(1 + n_user)``, ``b = log(1 + n_item)`` — ratings the
   bases had for that user/item —, a², b², ab, and the user's and item's rating spread) and
   the products of each meta feature with every estimate — so the blend can trust the factor
   models more for heavily rated users/items and the biases/neighbours more for sparse ones;
4. with ``refit`` (default), refits every base on all the given ratings (the weights stay):
   the final bases then see 25% more data than the ones the weights were fitted against,
   which measured ~0.010 RMSE better than keeping the smaller bases (references/models.md).

Predictions are clipped to the rating scale. The stack is plain numbers (:meth:`RatingBlend.weights`);
the bases are Surprise models. The blend is an evaluation row (``rating_blend`` in the rating
CV), not the served stars predictor: serving it is not done (references/models.md).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

import numpy as np
import pandas as pd

from src.config import (
    ITEM_ID_COL,
    RATING_BLEND_PARAMS,
    RATING_COL,
    SEED,
    USER_COL,
)
from src.utils.logging import get_logger

log = get_logger(__name__)

# Base model kinds a blend spec may name -> the Surprise class (looked up lazily).
BASE_KINDS = ("svd", "svdpp", "knn_baseline", "baseline_only")


def make_base(kind: str, params: dict, seed: int = SEED):
    """Return a fresh, seeded Surprise algorithm of ``kind`` built with ``params``.

    In: one of ``BASE_KINDS`` and its keyword arguments (config ``RATING_BLEND_PARAMS``).
    Out: an unfitted Surprise algorithm. Unknown kinds raise ValueError.
    """
    from surprise import SVD, BaselineOnly, KNNBaseline, SVDpp

    if kind == "svd":
        return SVD(**params, random_state=seed)
    if kind == "svdpp":
        return SVDpp(**params, random_state=seed)
    if kind == "knn_baseline":
        return KNNBaseline(**params, verbose=False)
    if kind == "baseline_only":
        return BaselineOnly(**params, verbose=False)
    raise ValueError(f"unknown blend base kind {kind!r}; known: {BASE_KINDS}")


def trainset_frame(trainset) -> pd.DataFrame:
    """Return a Surprise ``Trainset``'s ratings as a ``userId, itemId, rating`` frame (raw ids)."""
    rows = np.array(list(trainset.all_ratings()), dtype=float).reshape(-1, 3)
    users = [trainset.to_raw_uid(int(u)) for u in rows[:, 0]]
    items = [trainset.to_raw_iid(int(i)) for i in rows[:, 1]]
    return pd.DataFrame({USER_COL: users, ITEM_ID_COL: items, RATING_COL: rows[:, 2]})


def _to_trainset(df: pd.DataFrame, rating_scale: tuple[float, float]):
    """Build a Surprise full trainset from a ratings frame on ``rating_scale``."""
    from surprise import Dataset, Reader

    data = Dataset.load_from_df(df[[USER_COL, ITEM_ID_COL, RATING_COL]],
                                Reader(rating_scale=rating_scale))
    return data.build_full_trainset()


# Meta features a blend may use (config RATING_BLEND_PARAMS["meta_features"]).
META_FEATURES = ("log_n_user", "log_n_item", "log_n_user_sq", "log_n_item_sq",
                 "log_n_user_x_log_n_item", "std_user", "std_item")


def meta_matrix(n_user: np.ndarray, n_item: np.ndarray, std_user: np.ndarray,
                std_item: np.ndarray, names: Iterable[str]) -> np.ndarray:
    """Return pairs x len(names) meta features of (user, item) pairs.

    In: each pair's user/item rating count and rating standard deviation in the bases'
    training data (0 when unseen), and the feature ``names`` (a subset of ``META_FEATURES``).
    Out: float array; counts enter as ``a = log1p(n_user)``, ``b = log1p(n_item)``.
    """
    a = np.log1p(np.asarray(n_user, dtype=float))
    b = np.log1p(np.asarray(n_item, dtype=float))
    table = {"log_n_user": a, "log_n_item": b, "log_n_user_sq": a * a, "log_n_item_sq": b * b,
             "log_n_user_x_log_n_item": a * b, "std_user": np.asarray(std_user, dtype=float),
             "std_item": np.asarray(std_item, dtype=float)}
    names = list(names)
    unknown = set(names) - set(table)
    if unknown:
        raise ValueError(f"unknown blend meta feature(s) {sorted(unknown)}; known: {META_FEATURES}")
    return np.column_stack([table[n] for n in names]) if names else np.empty((len(a), 0))


def design_matrix(estimates: np.ndarray, meta: np.ndarray) -> np.ndarray:
    """Return the stacking features ``[e_1..e_M, m_1..m_K, m_k * e_m for every k, m]``.

    In: ``estimates`` (pairs x M bases), ``meta`` (pairs x K meta features, K may be 0).
    Out: pairs x (M + K + K*M) floats, no intercept column. The products let a base's weight
    vary with the meta features (feature-weighted linear stacking, Sill et al. 2009).
    """
    est = np.asarray(estimates, dtype=float)
    meta = np.asarray(meta, dtype=float).reshape(len(est), -1)
    prods = (meta[:, :, None] * est[:, None, :]).reshape(len(est), -1)
    return np.hstack([est, meta, prods])


def fit_ridge(x: np.ndarray, y: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Ridge regression with an unpenalised intercept on standardised features.

    In: features (n x p), targets (n), L2 penalty ``alpha`` (on standardised coefficients).
    Out: ``(coef, mean, scale, intercept)`` with ``y ≈ ((x - mean) / scale) @ coef + intercept``.
    Standardising first makes one ``alpha`` mean the same for estimates (~1-5) and their
    count products (~0-30).
    """
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0  # a constant feature contributes nothing (coef 0 after centring)
    z = (x - mean) / scale
    y_mean = float(y.mean())
    gram = z.T @ z + alpha * np.eye(z.shape[1])
    coef = np.linalg.solve(gram, z.T @ (y - y_mean))
    return coef, mean, scale, y_mean


def _surprise_algo_base():
    """Surprise's ``AlgoBase`` (imported lazily like every Surprise use in the models layer)."""
    from surprise import AlgoBase

    return AlgoBase


class RatingBlend(_surprise_algo_base()):
    """Ridge-stacked blend of Surprise rating models, weights fitted on a validation split.

    In (constructor): ``params`` shaped like config ``RATING_BLEND_PARAMS`` (``bases``:
    ``{name: {"kind", "params"}}``, ``validation_fraction``, ``ridge_alpha``,
    ``meta_features``, ``refit``) and a seed. After :meth:`fit`: ``bases_`` (name -> fitted Surprise model),
    ``coef_``/``mean_``/``scale_``/``intercept_`` (the stack), ``user_stats_`` and
    ``item_stats_`` (raw id -> (rating count, rating std) in the served bases' data) and
    ``validation_rmse_`` (``{base or "blend": RMSE on the validation part}``).
    """

    def __init__(self, params: dict | None = None, seed: int = SEED):
        super().__init__()
        self.params = dict(RATING_BLEND_PARAMS if params is None else params)
        self.seed = int(seed)
        for name, spec in self.params["bases"].items():
            if spec["kind"] not in BASE_KINDS:
                raise ValueError(f"blend base {name!r}: unknown kind {spec['kind']!r}")
        self.base_names = tuple(self.params["bases"])

    # --- fitting -----------------------------------------------------------------------
    def _fit_bases(self, df: pd.DataFrame) -> dict:
        """Fit a fresh copy of every base on ``df``; return ``{name: fitted model}``.

        KNNBaseline's ``k`` is only read when predicting, so bases that differ only in ``k``
        share one fit (similarities + baselines, the costly part) via a shallow copy.
        """
        trainset = _to_trainset(df, self._scale)
        fitted, knn_fits = {}, {}
        for name, spec in self.params["bases"].items():
            params = dict(spec.get("params", {}))
            if spec["kind"] == "knn_baseline":
                key = repr(sorted((k, v) for k, v in params.items() if k != "k"))
                if key in knn_fits:
                    algo = copy.copy(knn_fits[key])
                    algo.k = int(params.get("k", 40))
                    fitted[name] = algo
                    continue
            algo = make_base(spec["kind"], params, self.seed)
            algo.fit(trainset)
            if spec["kind"] == "knn_baseline":
                knn_fits[key] = algo
            fitted[name] = algo
        return fitted

    def fit(self, trainset):
        """Fit bases on a fit part, the stack on the validation part, then (``refit``) the
        bases on all of ``trainset``. In: a Surprise ``Trainset``. Out: ``self``."""
        super().fit(trainset)
        self._scale = tuple(trainset.rating_scale)
        df = trainset_frame(trainset)
        rng = np.random.default_rng(self.seed)
        is_val = rng.random(len(df)) < float(self.params["validation_fraction"])
        fit_df, val_df = df.loc[~is_val], df.loc[is_val]
        if fit_df.empty or val_df.empty:
            raise ValueError(f"blend validation split of {len(df)} ratings left an empty side")
        bases = self._fit_bases(fit_df)
        self._set_stats(fit_df)
        pairs = list(zip(val_df[USER_COL], val_df[ITEM_ID_COL]))
        est = self._base_estimates(bases, pairs)
        y = val_df[RATING_COL].to_numpy(dtype=float)
        x = self._features(est, pairs)
        self.coef_, self.mean_, self.scale_, self.intercept_ = fit_ridge(
            x, y, float(self.params["ridge_alpha"]))
        blend_val = self._combine(x)
        self.validation_rmse_ = {name: _rmse(est[:, j], y) for j, name in enumerate(self.base_names)}
        self.validation_rmse_["blend"] = _rmse(blend_val, y)
        if self.params.get("refit", True):
            # The weights stay; the stats follow the data the final bases are fitted on. The
            # fit-part bases go first, so only one kNN similarity matrix is alive at a time.
            del bases
            bases = self._fit_bases(df)
            self._set_stats(df)
        self.bases_ = bases
        log.debug("rating blend validation RMSE %s", self.validation_rmse_)
        return self

    def _set_stats(self, df: pd.DataFrame) -> None:
        """Per user and per item: (rating count, rating std) of ``df`` — the meta features' source."""
        self.user_stats_ = _stats(df, USER_COL)
        self.item_stats_ = _stats(df, ITEM_ID_COL)

    # --- predicting --------------------------------------------------------------------
    def _base_estimates(self, bases: dict, pairs: list[tuple]) -> np.ndarray:
        """Return pairs x bases estimates (each base's clipped Surprise ``predict``)."""
        out = np.empty((len(pairs), len(self.base_names)), dtype=float)
        for j, name in enumerate(self.base_names):
            algo = bases[name]
            out[:, j] = [algo.predict(u, i).est for u, i in pairs]
        return out

    def _features(self, est: np.ndarray, pairs: list[tuple]) -> np.ndarray:
        """Stacking features of ``pairs`` given their base estimates (stats 0 when unseen)."""
        u = np.array([self.user_stats_.get(p[0], (0.0, 0.0)) for p in pairs], dtype=float).reshape(-1, 2)
        i = np.array([self.item_stats_.get(p[1], (0.0, 0.0)) for p in pairs], dtype=float).reshape(-1, 2)
        meta = meta_matrix(u[:, 0], i[:, 0], u[:, 1], i[:, 1], self.params["meta_features"])
        return design_matrix(est, meta)

    def _combine(self, x: np.ndarray) -> np.ndarray:
        """Apply the stack to features; clip to the rating scale."""
        pred = ((x - self.mean_) / self.scale_) @ self.coef_ + self.intercept_
        return np.clip(pred, *self._scale)

    def predict_many(self, pairs: Iterable[tuple]) -> np.ndarray:
        """Return blended star estimates of ``(raw user, raw item)`` pairs, clipped to the scale."""
        pairs = list(pairs)
        if not pairs:
            return np.empty(0, dtype=float)
        est = self._base_estimates(self.bases_, pairs)
        return self._combine(self._features(est, pairs))

    def estimate(self, u, i):
        """Not used: :meth:`predict` works on raw ids so each base maps them itself."""
        raise NotImplementedError("RatingBlend predicts through predict()/predict_many()")

    def predict(self, uid, iid, r_ui=None, clip=True, verbose=False):
        """Return a Surprise ``Prediction`` of one raw (user, item) pair (always clipped)."""
        from surprise import Prediction

        return Prediction(uid, iid, r_ui, float(self.predict_many([(uid, iid)])[0]), {})

    def test(self, testset, verbose=False):
        """Predict a Surprise testset in one vectorised pass; return ``Prediction`` objects."""
        from surprise import Prediction

        est = self.predict_many([(u, i) for u, i, _ in testset])
        return [Prediction(u, i, r, float(e), {}) for (u, i, r), e in zip(testset, est)]

    def weights(self) -> dict:
        """The stack as plain numbers: ``{"features": [...], "coef", "mean", "scale", "intercept"}``."""
        names, meta = list(self.base_names), list(self.params["meta_features"])
        feats = names + meta + [f"{m}*{n}" for m in meta for n in names]
        return {"features": feats, "coef": self.coef_.tolist(), "mean": self.mean_.tolist(),
                "scale": self.scale_.tolist(), "intercept": float(self.intercept_)}


def _stats(df: pd.DataFrame, col: str) -> dict:
    """``{id: (rating count, rating std)}`` over ``df`` grouped by ``col`` (std 0 for one rating)."""
    g = df.groupby(col)[RATING_COL]
    cnt, std = g.size(), g.std().fillna(0.0)
    return {k: (float(n), float(sd)) for k, n, sd in zip(cnt.index, cnt.to_numpy(), std.to_numpy())}


def _rmse(est: np.ndarray, y: np.ndarray) -> float:
    """Root mean squared error of ``est`` against ``y``."""
    return float(np.sqrt(np.mean((np.asarray(est) - y) ** 2)))
