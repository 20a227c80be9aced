"""The evaluation protocols of ``invoke evaluate``: random (+ cold-user slice), temporal, new-title.

Every list of the ``served`` model comes from
:meth:`src.models.predict_model.Recommender.recommend_batch` — the chain the API serves —
fitted on the protocol's training side only. Baselines in the same run, each fitted on the same
training side: ``ease`` (EASE alone: the ranker served before the chain), ``slim`` (SLIM-style
sparse non-negative item-item regression, :mod:`src.models.slim`), ``als`` (implicit ALS,
:func:`src.models.factor_ranker.fit_factor_ranker`; left out, with the reason in ``skipped``,
without the [implicit] extra), ``popularity`` (training counts) and, for new titles, ``chart``
(the served cold-start order: score_final) and ``random``. ``slim`` and ``als`` are evaluation
peers only (never served) and run in random, cold_users and temporal but not new_title: both
score only items with training ratings, and a new title has none, so their lists there would be
empty by construction.

* **random** — each rating to test with p = TOPN_TEST_FRACTION (seeded), and 20% of users
  cut to 1–5 training ratings (every model refit on the cut data); ``cold_users`` reports
  those users alone. Over PROTOCOL_SEEDS.
* **temporal** — a global time cut (TEMPORAL_TRAIN_SHARE of timestamps before it): each
  user's later ratings are test; candidates = titles rated before the cut. Deterministic:
  one run (its spread is 0 by construction).
* **new_title** — the NEW_TITLE_SHARE most recent titles lose all their ratings from
  training; only they are ranked, as new arrivals; metrics over new titles only. The
  ``popularity`` baseline here counts their ratings in test (popularity among the new
  titles, an optimistic oracle); ``chart`` is what a newcomer is shown. Deterministic split;
  ``random`` is averaged over PROTOCOL_SEEDS.

Hyper-parameters (EASE λ, the popularity-prior weight) are tuned once, on a validation split
carved from the seed-0 random training side (never test), by the served model's NDCG@k, and
used for every protocol (also by the ``ease`` baseline). ``slim`` and ``als`` use fixed config
values (``SLIM_*`` and ``ALS_PEER_PARAMS`` in src/config/params.py) picked once on that same
validation split by ``bench/tune_baselines.py`` (never on test), not re-tuned per run.
Metrics per model: ndcg/recall/map@k, coverage (share of the candidate titles shown to
anyone), mean_popularity_rank (1 = most-rated), series_share; each the mean over seeds with
``<metric>_std`` beside it.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd

from src.config import (
    ALS_PEER_PARAMS,
    EASE_LAMBDA,
    EASE_LAMBDA_GRID,
    ID_COL,
    ITEM_ID_COL,
    PRIOR_WEIGHT_GRID,
    PROTOCOL_SEEDS,
    RELEVANT_THRESHOLD,
    SLIM_ALPHA,
    SLIM_L1_RATIO,
    SLIM_MAX_ITER,
    SLIM_NEIGHBOURS,
    TOPN_K,
    TOPN_TEST_FRACTION,
    USER_COL,
    VALIDATION_FRACTION,
)
from src.evaluation.metrics import mean_popularity_rank, mean_ranking_metrics, share_in
from src.evaluation.splits import cold_user_cut, new_title_split, temporal_split
from src.evaluation.topn_eval import catalogue_for, count_lists, ranker_lists, relevant_sets
from src.models.content import ContentIndex
from src.models.factor_ranker import fit_factor_ranker
from src.models.pipeline.chain import BlendParams
from src.models.predict_model import Recommender
from src.models.slim import fit_slim
from src.models.split import bernoulli_split
from src.models.topn import check_ratings_frame, fit_ranker
from src.utils.extras import MissingExtraError
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

__all__ = ["aggregate", "list_metrics", "run_protocols", "tune_on_validation"]

_METRICS = ("ndcg", "recall", "map")


def list_metrics(lists: dict, relevant: dict, k: int, candidates: np.ndarray, pop_rank: dict,
                 series: set) -> dict:
    """ndcg/recall/map@k over users with a relevant item, coverage of ``candidates``,
    mean popularity rank and series share of the shown titles."""
    users = [u for u in relevant if u in lists]
    shown = {u: lists[u] for u in users}
    m = mean_ranking_metrics(shown, relevant, k, n_items=max(len(candidates), 1))
    out = {f"{name}@{k}": m[f"{name}@{k}"] for name in _METRICS}
    out["coverage"] = m["coverage"]
    nonempty = [v for v in shown.values() if len(v)]
    out["mean_popularity_rank"] = mean_popularity_rank(nonempty, pop_rank) if nonempty else float("nan")
    out["series_share"] = share_in(nonempty, series) if nonempty else float("nan")
    out["users"] = m["users"]
    return out


def aggregate(runs: list[dict]) -> dict:
    """{model: {metric: mean}} over runs, with ``<metric>_std`` (population std) and ``runs``."""
    out: dict = {}
    for model in runs[0]:
        vals = {key: [r[model][key] for r in runs] for key in runs[0][model]}
        out[model] = {}
        for key, v in vals.items():
            out[model][key] = float(np.mean(v))
            if key != "users":
                out[model][f"{key}_std"] = float(np.std(v))
        out[model]["runs"] = len(runs)
    return out


class _Context:
    """What every protocol run shares: the catalogue, its TF-IDF index, titles that are series."""

    def __init__(self, ratings: pd.DataFrame, catalogue: pd.DataFrame | None) -> None:
        self.cat = catalogue_for(ratings, catalogue)
        self.ids = np.sort(self.cat[ID_COL].to_numpy("int64"))
        probe = Recommender(self.cat)   # builds the content index once, in catalogue order
        self.content: ContentIndex = probe.content
        media = self.cat["media_type"] if "media_type" in self.cat.columns else pd.Series("movie", index=self.cat.index)
        self.series = set(self.cat.loc[media.eq("series").to_numpy(), ID_COL].astype("int64").tolist())

    def served(self, train: pd.DataFrame, lam: float, params: BlendParams) -> tuple[Recommender, object]:
        """Fit EASE on ``train`` and build the served chain over the catalogue."""
        ranker = fit_ranker(train, lam=lam)
        return Recommender.from_models(self.cat, train, ranker=ranker, params=params, content=self.content), ranker

    def pop_rank(self, train: pd.DataFrame) -> dict:
        """{title: popularity rank by training ratings} (1 = most rated, ties averaged)."""
        counts = train[ITEM_ID_COL].value_counts().reindex(self.ids).fillna(0)
        return dict(zip(self.ids.tolist(), counts.rank(ascending=False, method="average").tolist()))


def _count_lists(counts, users, ids, train, allowed, k) -> dict:
    """The same ranking by ``counts`` (> 0 only) for every user, seen titles masked (in user blocks)."""
    return count_lists(counts, users, ids, train, allowed, k)


def _peer_lists(train: pd.DataFrame, users: np.ndarray, ids: np.ndarray, allowed: np.ndarray, k: int,
                skipped: dict) -> dict:
    """Lists of the evaluation-only peers fitted on ``train`` with their config values:
    ``slim`` (src.models.slim, ``SLIM_*``) and ``als`` (implicit ALS,
    src.models.factor_ranker, ``ALS_PEER_PARAMS``).

    ALS needs the [implicit] extra; without it ``als`` is left out and ``skipped["als"]``
    says why (the targets then compare with the peers that ran).
    """
    out = {"slim": ranker_lists(fit_slim(train), users, ids, train, allowed, k)}
    try:
        als = fit_factor_ranker(train, **ALS_PEER_PARAMS)
    except MissingExtraError as exc:
        skipped["als"] = str(exc)
        log.warning("als baseline skipped: %s", exc)
    else:
        out["als"] = ranker_lists(als, users, ids, train, allowed, k)
    return out


def _peer_params() -> dict:
    """The fixed (validation-picked, config) parameters of the slim and als peers, for the report."""
    return {"slim": {"alpha": SLIM_ALPHA, "l1_ratio": SLIM_L1_RATIO, "neighbours": SLIM_NEIGHBOURS,
                     "max_iter": SLIM_MAX_ITER},
            "als": dict(ALS_PEER_PARAMS)}


def tune_on_validation(ctx: _Context, train: pd.DataFrame, k: int, seed: int) -> dict:
    """EASE λ then the prior weight π₀, by served NDCG@k on a validation split of ``train``.

    The validation side is carved from ``train`` (never test) with the same cold-user cut,
    so short histories weigh in the choice. Out: {"ease_lambda", "prior_weight", "grid"}.
    """
    fit, val = bernoulli_split(train, test_fraction=VALIDATION_FRACTION, seed=seed + 1000)
    fit, _ = cold_user_cut(fit, seed + 1000)
    relevant = relevant_sets(val, fit[USER_COL].unique())
    users = np.array(sorted(relevant), dtype="int64")
    grid: dict[str, float] = {}

    def _ndcg(lam: float, prior: float) -> float:
        rec, _ = ctx.served(fit, lam, BlendParams(prior_weight=prior))
        m = mean_ranking_metrics(rec.recommend_batch(users, n=k), relevant, k, n_items=len(ctx.ids))
        grid[f"lambda={lam:g},prior={prior:g}"] = round(m[f"ndcg@{k}"], 5)
        return m[f"ndcg@{k}"]

    base = BlendParams()
    lam = max(EASE_LAMBDA_GRID, key=lambda v: _ndcg(v, base.prior_weight))
    prior = max(PRIOR_WEIGHT_GRID, key=lambda p: grid.get(f"lambda={lam:g},prior={p:g}") or _ndcg(lam, p))
    log.info("tuned on validation (%d users): EASE λ=%g, prior weight=%g; grid %s", len(users), lam, prior, grid)
    return {"ease_lambda": float(lam), "prior_weight": float(prior), "grid": grid,
            "validation_users": int(len(users))}


def _random_run(ctx: _Context, df: pd.DataFrame, seed: int, lam: float, params: BlendParams, k: int,
                skipped: dict):
    """One seed of the random protocol: (all-user metrics, cold-user metrics)."""
    train, test = bernoulli_split(df, test_fraction=TOPN_TEST_FRACTION, seed=seed)
    train, cold = cold_user_cut(train, seed)
    relevant = relevant_sets(test, train[USER_COL].unique())
    users = np.array(sorted(relevant), dtype="int64")
    rec, ranker = ctx.served(train, lam, params)
    allowed = np.ones(len(ctx.ids), dtype=bool)
    counts = train[ITEM_ID_COL].value_counts().reindex(ctx.ids).fillna(0).to_numpy("float64")
    lists = {"served": rec.recommend_batch(users, n=k),
             "ease": ranker_lists(ranker, users, ctx.ids, train, allowed, k),
             **_peer_lists(train, users, ctx.ids, allowed, k, skipped),
             "popularity": _count_lists(counts, users, ctx.ids, train, allowed, k)}
    pop_rank = ctx.pop_rank(train)
    cold_rel = {u: r for u, r in relevant.items() if u in set(cold.tolist())}
    every = {m: list_metrics(v, relevant, k, ctx.ids, pop_rank, ctx.series) for m, v in lists.items()}
    cold_m = {m: list_metrics(v, cold_rel, k, ctx.ids, pop_rank, ctx.series) for m, v in lists.items()}
    return every, cold_m


def _temporal_run(ctx: _Context, df: pd.DataFrame, lam: float, params: BlendParams, k: int,
                  skipped: dict) -> dict:
    """The temporal protocol: candidates are the titles rated before the cut."""
    train, test, cut = temporal_split(df)
    known = np.intersect1d(ctx.ids, train[ITEM_ID_COL].unique())
    relevant = relevant_sets(test[test[ITEM_ID_COL].isin(known)], train[USER_COL].unique())
    users = np.array(sorted(relevant), dtype="int64")
    log.info("temporal: cut at %d, %d train / %d test ratings, %d users", cut, len(train), len(test), len(users))
    rec, ranker = ctx.served(train, lam, params)
    allowed = np.isin(ctx.ids, known)
    counts = train[ITEM_ID_COL].value_counts().reindex(ctx.ids).fillna(0).to_numpy("float64")
    lists = {"served": rec.recommend_batch(users, n=k, candidates=known),
             "ease": ranker_lists(ranker, users, ctx.ids, train, allowed, k),
             **_peer_lists(train, users, ctx.ids, allowed, k, skipped),
             "popularity": _count_lists(counts, users, ctx.ids, train, allowed, k)}
    pop_rank = ctx.pop_rank(train)
    return {m: list_metrics(v, relevant, k, known, pop_rank, ctx.series) for m, v in lists.items()}


def _new_title_runs(ctx: _Context, df: pd.DataFrame, lam: float, params: BlendParams, k: int,
                    seeds: tuple[int, ...]) -> list[dict]:
    """The new-title protocol (one split; the random baseline drawn per seed)."""
    train, test, new = new_title_split(df)
    new = np.intersect1d(new, ctx.ids)   # a new title can only be shown with a catalogue row
    relevant = relevant_sets(test[test[ITEM_ID_COL].isin(new)], train[USER_COL].unique())
    users = np.array(sorted(relevant), dtype="int64")
    log.info("new-title: %d new titles in the catalogue, %d users with a relevant one", len(new), len(users))
    rec, _ = ctx.served(train, lam, params)
    allowed = np.isin(ctx.ids, new)
    test_counts = test[ITEM_ID_COL].value_counts().reindex(ctx.ids).fillna(0).to_numpy("float64")
    # The served chart order (score_final, what a newcomer sees) as descending scores.
    pos = np.searchsorted(ctx.ids, rec.cold_order_ids())
    chart_score = np.zeros(len(ctx.ids))
    chart_score[pos] = np.arange(len(pos), 0, -1, dtype="float64")
    fixed = {"served": rec.recommend_batch(users, n=k, candidates=new),
             "popularity": _count_lists(test_counts, users, ctx.ids, train, allowed, k),
             "chart": _count_lists(chart_score, users, ctx.ids, train, allowed, k)}
    pop_rank = ctx.pop_rank(train)
    runs = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        lists = dict(fixed, random=_count_lists(rng.random(len(ctx.ids)) + 1e-9, users, ctx.ids, train, allowed, k))
        runs.append({m: list_metrics(v, relevant, k, new, pop_rank, ctx.series) for m, v in lists.items()})
    return runs


def run_protocols(ratings: pd.DataFrame, catalogue: pd.DataFrame | None = None, k: int = TOPN_K,
                  seeds: tuple[int, ...] = PROTOCOL_SEEDS, tune: bool = True) -> dict:
    """Run every protocol; return the ``protocols`` block of metrics.json.

    In: model-ready ratings in the catalogue's id space (with timestamps), the catalogue
    (None: the rated items as bare titles), k, seeds, whether to tune on validation (False:
    config values). Out: {"random", "cold_users", "temporal", "new_title": {model:
    {metric, metric_std, runs}}, "tuned": {...}, "seeds", "peers" (the slim/als parameters),
    "skipped" ({baseline: reason}), "seconds"}.
    """
    t0 = time.perf_counter()
    df = check_ratings_frame(ratings).assign(timestamp=ratings["timestamp"].to_numpy("int64"))
    df = df.drop_duplicates([USER_COL, ITEM_ID_COL], keep="last")
    ctx = _Context(df, catalogue)
    base = BlendParams()
    if tune:
        with timed(log, "tuning on validation"):
            train0, _ = bernoulli_split(df, test_fraction=TOPN_TEST_FRACTION, seed=seeds[0])
            tuned = tune_on_validation(ctx, cold_user_cut(train0, seeds[0])[0], k, seeds[0])
    else:
        tuned = {"ease_lambda": EASE_LAMBDA, "prior_weight": base.prior_weight, "grid": {}}
    lam, params = tuned["ease_lambda"], replace(base, prior_weight=tuned["prior_weight"])
    every, cold, skipped = [], [], {}
    for seed in seeds:
        with timed(log, f"random protocol, seed {seed}"):
            e, c = _random_run(ctx, df, seed, lam, params, k, skipped)
        every.append(e)
        cold.append(c)
    with timed(log, "temporal protocol"):
        temporal = _temporal_run(ctx, df, lam, params, k, skipped)
    with timed(log, "new-title protocol"):
        new_title = _new_title_runs(ctx, df, lam, params, k, seeds)
    out = {"random": aggregate(every), "cold_users": aggregate(cold), "temporal": aggregate([temporal]),
           "new_title": aggregate(new_title), "tuned": tuned, "seeds": list(seeds),
           "relevant_threshold": RELEVANT_THRESHOLD, "peers": _peer_params(), "skipped": skipped,
           "seconds": round(time.perf_counter() - t0, 1)}
    for name in ("random", "cold_users", "temporal", "new_title"):
        log.info("%-10s %s", name, {m: round(v[f"ndcg@{k}"], 4) for m, v in out[name].items()})
    return out
