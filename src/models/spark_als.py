"""Spark engine: MLlib ALS on Parquet ratings, returning the same factor ranker as implicit.

``invoke train --engine spark [--master local[2] | spark://host:7077]`` writes the model-ready
ratings' interactions (rating >= the fit threshold, as EASE and implicit ALS) as Parquet with
pyarrow (contiguous int32 user/item indices: MLlib's id columns are ints), fits
``pyspark.ml.recommendation.ALS`` with ``implicitPrefs=True``, collects the item factors and
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

from src.config import (
    ALS_ALPHA,
    ALS_FACTORS,
    ALS_ITERATIONS,
    ALS_REGULARIZATION,
    EASE_FIT_THRESHOLD,
    EASE_SCORE_OFFSET,
    EXTRA_MODULES,
    SEED,
    SPARK_ALS_REG,
    SPARK_CONF,
    SPARK_DEFAULT_MASTER,
)
from src.models.factor_ranker import FactorRanker, confidence_matrix, factor_ranker_from_factors
from src.models.topn import _interaction_matrix, check_ratings_frame
from src.utils.extras import require_extra
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

__all__ = ["write_interactions_parquet", "fit_spark_ranker"]


def write_interactions_parquet(x, path: Path) -> int:
    """Write the nonzeros of X (users × items CSR) as Parquet ``u:int32, i:int32, r:float32``.

    In: the interaction matrix, the file path. Out: rows written. Columnar and typed, so
    Spark (local or on a cluster reading shared storage) never parses CSV or Python objects.
    """
    coo = x.tocoo()
    table = pa.table({"u": pa.array(coo.row.astype("int32")), "i": pa.array(coo.col.astype("int32")),
                      "r": pa.array(coo.data.astype("float32"))})
    pq.write_table(table, path)
    return table.num_rows


def fit_spark_ranker(ratings: pd.DataFrame, master: str | None = None, workdir: Path | None = None,
                     factors: int = ALS_FACTORS, iterations: int = ALS_ITERATIONS,
                     spark_reg: float = SPARK_ALS_REG, regularization: float = ALS_REGULARIZATION,
                     alpha: float = ALS_ALPHA, fit_threshold: float = EASE_FIT_THRESHOLD,
                     score_offset: float = EASE_SCORE_OFFSET, seed: int = SEED,
                     conf: dict | None = None) -> FactorRanker:
    """Fit MLlib ALS (implicit preferences) with Spark; return a :class:`FactorRanker`.

    In: model-ready ratings; the Spark master (default ``SPARK_DEFAULT_MASTER``); a folder
    for the Parquet file (a temp folder inside it, removed afterwards; on a cluster it must be
    storage the executors can read); ALS rank/iterations; ``spark_reg`` (MLlib regParam);
    ``regularization``/``alpha`` of the served fold-in (MLlib gets alpha − 1, see config);
    threshold/offset as EASE; seed; extra Spark conf (over ``SPARK_CONF``). Out: the ranker.
    """
    require_extra("spark", EXTRA_MODULES["spark"], "invoke train --engine spark")
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import SparkSession

    if alpha < 1:
        raise ValueError(f"alpha must be >= 1 for the Spark engine (MLlib gets alpha - 1), got {alpha}")
    df = check_ratings_frame(ratings)
    hist, users, items = _interaction_matrix(df)
    x = confidence_matrix(hist, fit_threshold)
    if x.nnz == 0:
        raise ValueError(f"no rating >= {fit_threshold}: nothing to fit ALS on")
    master = master or SPARK_DEFAULT_MASTER
    if workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="spark_als_", dir=workdir))
    builder = SparkSession.builder.master(master).appName("streamrec-als")
    for key, val in {**SPARK_CONF, **(conf or {})}.items():
        builder = builder.config(key, val)
    try:
        parquet = tmp / "interactions.parquet"
        n = write_interactions_parquet(x, parquet)
        log.info("Spark ALS on %s: %d interactions, %d users, %d items, rank %d, %d iterations",
                 master, n, len(users), len(items), factors, iterations)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("ERROR")  # INFO/WARN lines would drown the stage's own log
        try:
            with timed(log, f"Spark ALS fit ({master})"):
                data = spark.read.parquet(str(parquet))
                als = ALS(rank=factors, maxIter=iterations, regParam=spark_reg, implicitPrefs=True,
                          alpha=alpha - 1.0, userCol="u", itemCol="i", ratingCol="r", seed=seed,
                          coldStartStrategy="drop")
                model = als.fit(data)
                # collect, not toPandas: rank × items floats (60k × 64 = 15 MB) fit the driver.
                rows = model.itemFactors.collect()
        finally:
            spark.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    item_factors = np.zeros((len(items), factors), dtype="float32")
    if rows:  # an item without interactions gets no row from MLlib: it stays zero
        item_factors[np.array([r["id"] for r in rows], dtype="int64")] = np.array(
            [r["features"] for r in rows], dtype="float32")
    params = {"model": "als", "engine": "spark", "master": master, "factors": int(factors),
              "iterations": int(iterations), "spark_reg": float(spark_reg),
              "regularization": float(regularization), "alpha": float(alpha),
              "fit_threshold": float(fit_threshold), "score_offset": float(score_offset), "seed": int(seed)}
    return factor_ranker_from_factors(hist, users, items, item_factors, params)
