"""Spark engine: MLlib ALS on Parquet ratings, returning the same factor ranker as implicit.

``invoke train --engine spark [--master local[2] | spark://host:7077]`` writes the model-ready
ratings' interactions (rating >= the fit threshold, as EASE and implicit ALS) as Parquet with
pyarrow (contiguous int32 user/item indices: MLlib's id columns are ints), fits
``pyspark.ml.recommendation.ALS`` with ``implicitPrefs=True`` — its ``regParam`` chosen on a
seeded validation split first (``SPARK_TUNE_REGS``, NDCG@10 of each candidate's lists for the
held-out ratings, recorded in the bundle's params) — collects the item factors and
builds :class:`~src.models.factor_ranker.FactorRanker` with
:func:`~src.models.factor_ranker.factor_ranker_from_factors` — so the bundle (codec
``streamrec.FactorRanker``), serving and evaluation do not know which engine trained it. User
factors are re-solved exactly against the fixed item factors on the driver (one pass, linear
in ratings), the same fold-in every new viewer gets. Cluster use: references/scaling.md.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp
from surprise import SVD

from src.config import (
    ALS_ALPHA,
    ALS_FACTORS,
    ALS_ITERATIONS,
    ALS_REGULARIZATION,
    EASE_FIT_THRESHOLD,
    EASE_SCORE_OFFSET,
    EXTRA_MODULES,
    ITEM_ID_COL,
    RATING_COL,
    RATING_SCALE,
    SEED,
    SPARK_ALS_REG,
    SPARK_CONF,
    SPARK_DEFAULT_MASTER,
    SPARK_STARS_REG,
    SPARK_TUNE_REGS,
    SPARK_TUNE_USERS,
    SPARK_VALIDATION_SHARE,
    TOPN_K,
    USER_COL,
)
from src.models.factor_ranker import FactorRanker, confidence_matrix, factor_ranker_from_factors, top_table
from src.models.split import bernoulli_split
from src.models.topn import _interaction_matrix, check_ratings_frame
from src.utils.ranking_metrics import mean_ranking_metrics
from src.utils.extras import require_extra
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

__all__ = ["write_interactions_parquet", "fit_spark_ranker", "validation_ndcg"]


def write_interactions_parquet(x, path: Path) -> int:
    """Write the stored entries of X (users × items CSR) as Parquet ``u:int32, i:int32, r:float32``.

    In: the interaction matrix, the file path. Out: rows written. Columnar and typed, so
    Spark (local or on a cluster reading shared storage) never parses CSV or Python objects.
    """
    coo = x.tocoo()
    table = pa.table({"u": pa.array(coo.row.astype("int32")), "i": pa.array(coo.col.astype("int32")),
                      "r": pa.array(coo.data.astype("float32"))})
    pq.write_table(table, path)
    return table.num_rows


def validation_ndcg(ranker: FactorRanker, valid: pd.DataFrame, fit_threshold: float,
                    max_users: int = SPARK_TUNE_USERS, k: int = TOPN_K, seed: int = SEED) -> tuple[float, int]:
    """NDCG@k of ``ranker``'s lists (its training items left out) for held-out ratings.

    In: a ranker fitted without ``valid``; the held-out ratings (relevant: rating >=
    ``fit_threshold``, user and item known to the ranker); at most ``max_users`` users (a
    seeded sample), k. Out: (mean NDCG@k, users scored); (nan, 0) when no user qualifies.
    """
    rel = valid[valid[RATING_COL] >= fit_threshold]
    rel = rel[rel[USER_COL].isin(ranker.user_ids) & rel[ITEM_ID_COL].isin(ranker.item_ids)]
    relevant = {int(u): set(g.tolist()) for u, g in rel.groupby(USER_COL)[ITEM_ID_COL]}
    if not relevant:
        return float("nan"), 0
    users = np.array(sorted(relevant), dtype="int64")
    if len(users) > max_users:
        users = np.sort(np.random.default_rng(seed).choice(users, max_users, replace=False))
    rows = np.searchsorted(ranker.user_ids, users)
    top, _ = top_table(ranker.user_factors[rows], ranker.item_factors, ranker.history[rows], k)
    lists = {int(u): [int(ranker.item_ids[c]) for c in r if c >= 0] for u, r in zip(users, top)}
    m = mean_ranking_metrics(lists, {int(u): relevant[int(u)] for u in users}, k, n_items=ranker.n_items)
    return float(m[f"ndcg@{k}"]), len(users)


def fit_spark_ranker(ratings: pd.DataFrame, master: str | None = None, workdir: Path | None = None,
                     factors: int = ALS_FACTORS, iterations: int = ALS_ITERATIONS,
                     spark_reg: float = SPARK_ALS_REG, regularization: float = ALS_REGULARIZATION,
                     alpha: float = ALS_ALPHA, fit_threshold: float = EASE_FIT_THRESHOLD,
                     score_offset: float = EASE_SCORE_OFFSET, seed: int = SEED,
                     conf: dict | None = None, tune_regs: tuple = SPARK_TUNE_REGS,
                     validation_share: float = SPARK_VALIDATION_SHARE, stars: bool = True,
                     stars_reg: float = SPARK_STARS_REG) -> tuple[FactorRanker, SVD | None]:
    """Fit MLlib ALS with Spark: implicit preferences for the lists, explicit for the stars.

    Out: (the :class:`FactorRanker`, and with ``stars`` a ``surprise.SVD`` holding explicit
    ALS factors — see :func:`_stars_svd` — that predicts stars as the Surprise engine's SVD
    does, else None). The rest of this docstring is about the ranker.

    In: model-ready ratings; the Spark master (default ``SPARK_DEFAULT_MASTER``); a folder
    for the Parquet file (a temp folder inside it, removed afterwards; on a cluster it must be
    storage the executors can read); ALS rank/iterations; ``spark_reg`` (MLlib regParam);
    ``regularization``/``alpha`` of the served fold-in (MLlib gets alpha − 1, see config);
    threshold/offset as EASE; seed; extra Spark conf (over ``SPARK_CONF``); ``tune_regs``,
    regParam candidates tried on a seeded ``validation_share`` of the ratings (NDCG@10, see
    :func:`validation_ndcg`) before the final fit on all of them with the best one (fewer
    than two: no tuning, ``spark_reg``). Out: the ranker; its params hold the
    chosen ``spark_reg`` and, when tuned, ``tuning`` (every candidate's NDCG).
    """
    require_extra("spark", EXTRA_MODULES["spark"], "invoke train --engine spark")
    from pyspark.sql import SparkSession

    if alpha < 1:
        raise ValueError(f"alpha must be >= 1 for the Spark engine (MLlib gets alpha - 1), got {alpha}")
    df = check_ratings_frame(ratings)
    hist, users, items = _interaction_matrix(df)
    if not (hist.data >= fit_threshold).any():
        raise ValueError(f"no rating >= {fit_threshold}: nothing to fit ALS on")
    master = master or SPARK_DEFAULT_MASTER
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="spark_als_", dir=workdir))
    builder = SparkSession.builder.master(master).appName("streamrec-als")
    for key, val in {**SPARK_CONF, **(conf or {})}.items():
        builder = builder.config(key, val)
    base = {"model": "als", "engine": "spark", "master": master, "factors": int(factors),
            "iterations": int(iterations), "regularization": float(regularization), "alpha": float(alpha),
            "fit_threshold": float(fit_threshold), "score_offset": float(score_offset), "seed": int(seed)}
    regs = [float(r) for r in tune_regs]
    tuning = None
    try:
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")  # INFO/WARN lines would drown the stage's own log
        try:
            def item_factors_of(h: sp.csr_matrix, reg: float, name: str) -> np.ndarray:
                """Implicit MLlib ALS on the interactions of ratings ``h``: its item factors."""
                model = _fit_als(spark, confidence_matrix(h, fit_threshold), tmp / f"{name}.parquet",
                                 f"{master}, {name}", rank=factors, maxIter=iterations, regParam=reg,
                                 implicitPrefs=True, alpha=alpha - 1.0, seed=seed)
                return _factor_array(model.itemFactors.collect(), h.shape[1], factors)

            if len(regs) > 1:
                tuning = _tune(df, regs, item_factors_of, base, validation_share, seed)
                spark_reg = max(regs, key=lambda r: (tuning["ndcg"][f"{r:g}"], -r))
                log.info("Spark ALS regParam %g chosen on validation (NDCG@%d: %s)", spark_reg, TOPN_K,
                         ", ".join(f"{r}: {v:.4f}" for r, v in tuning["ndcg"].items()))
            item_factors = item_factors_of(hist, spark_reg, "all")
            svd = _stars_svd(spark, hist, users, items, factors, iterations, stars_reg, seed, tmp) \
                if stars else None
        finally:
            spark.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    params = {**base, "spark_reg": float(spark_reg), **({"tuning": tuning} if tuning else {})}
    return factor_ranker_from_factors(hist, users, items, item_factors, params), svd


def _fit_als(spark, x: sp.csr_matrix, parquet: Path, label: str, **als):
    """MLlib ALS (``als``: its parameters) on the stored entries of ``x`` (users × items CSR,
    written to ``parquet``). Out: the fitted ``ALSModel``."""
    from pyspark.ml.recommendation import ALS

    n = write_interactions_parquet(x, parquet)
    log.info("Spark ALS on %s: %d entries, %d users, %d items, %s", label, n, x.shape[0], x.shape[1],
             ", ".join(f"{k} {v}" for k, v in als.items()))
    with timed(log, f"Spark ALS fit ({label}, regParam {als['regParam']:g})"):
        return ALS(userCol="u", itemCol="i", ratingCol="r", coldStartStrategy="drop", **als).fit(
            spark.read.parquet(str(parquet)))


def _factor_array(rows: list, n: int, factors: int) -> np.ndarray:
    """MLlib's collected factor rows (``id``, ``features``) as an n × factors float32 array.

    collect, not toPandas: rank × items floats (60k × 64 = 15 MB) fit the driver. An id MLlib
    never saw (no interactions) gets no row: it stays zero.
    """
    out = np.zeros((n, factors), dtype="float32")
    if rows:
        out[np.array([r["id"] for r in rows], dtype="int64")] = np.array([r["features"] for r in rows],
                                                                         dtype="float32")
    return out


def _stars_svd(spark, hist: sp.csr_matrix, users: np.ndarray, items: np.ndarray, factors: int,
               iterations: int, reg: float, seed: int, tmp: Path) -> SVD:
    """Explicit MLlib ALS on the ratings minus their mean, as a ``surprise.SVD``.

    Why that shape: the Recommender, the API and evaluation read predicted stars from the
    bundle's SVD (:class:`~src.models.pipeline.scorers.SvdStars`: μ + b_u + b_i + q_i·p_u,
    clipped, with the same fold-in for new viewers), so an SVD whose biases are zero and whose
    factors are ALS's serves Spark's stars with no new code path. MLlib's ALS has no biases,
    hence the centring on μ. ``reg_pu`` (the fold-in's ridge) is MLlib's λ times the median
    user's rating count: ALS-WR scales λ by each user's count.
    """
    from src.models.bundle_codecs import svd_from_arrays

    mu = float(hist.data.mean())
    centred = hist.copy()
    centred.data = centred.data - mu   # a rating equal to μ stays a stored (zero) entry
    model = _fit_als(spark, centred, tmp / "ratings.parquet", "explicit, for predicted stars",
                     rank=factors, maxIter=iterations, regParam=reg, implicitPrefs=False, seed=seed)
    pu = _factor_array(model.userFactors.collect(), len(users), factors).astype("float64")
    qi = _factor_array(model.itemFactors.collect(), len(items), factors).astype("float64")
    median_count = float(np.median(np.diff(hist.indptr))) if len(users) else 1.0
    args = {"n_factors": int(factors), "n_epochs": int(iterations), "biased": True,
            "reg_pu": float(reg * max(median_count, 1.0))}
    return svd_from_arrays({"user_ids": np.asarray(users, dtype="int64"), "item_ids": np.asarray(items, dtype="int64"),
                            "pu": pu, "qi": qi, "bu": np.zeros(len(users)), "bi": np.zeros(len(items))},
                           {"args": args, "global_mean": mu, "rating_scale": list(RATING_SCALE),
                            "n_ratings": int(hist.nnz)})


def _tune(df: pd.DataFrame, regs: list[float], item_factors_of, base: dict, share: float, seed: int) -> dict:
    """Fit every regParam in ``regs`` on a seeded ``1 - share`` of the ratings
    (``item_factors_of(ratings CSR, regParam, name)``: the caller's Spark fit) and score each on the rest (:func:`validation_ndcg`). Out: the
    ``tuning`` record: metric, share, users scored, NDCG per regParam (as "%g" strings)."""
    train, valid = bernoulli_split(df, share, seed)
    hist, users, items = _interaction_matrix(train)
    ndcg, scored = {}, 0
    for reg in regs:
        rk = factor_ranker_from_factors(hist, users, items, item_factors_of(hist, reg, f"tune{reg:g}"),
                                        {**base, "spark_reg": reg})
        ndcg[f"{reg:g}"], scored = validation_ndcg(rk, valid, base["fit_threshold"], seed=seed)
    if not scored:
        raise ValueError("no held-out rating to tune Spark ALS on: pass one regParam (tune_regs) "
                         "or more ratings")
    return {"metric": f"ndcg@{TOPN_K}", "validation_share": float(share), "users": int(scored),
            "ndcg": ndcg}
