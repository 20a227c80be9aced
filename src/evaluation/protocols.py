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

Hyper-parameters (EASE λ, the popularity prior's counts, weight, power and half-life, the
new-title taste weight ρ and chart weight, the focus level μ and threshold τ, the popularity
de-bias δ) are tuned once, coordinate-wise, on validation splits carved from training (never
test): the seed-0 random training side; for ρ and τ the new-title training side's own most
recent titles; for δ also a time cut within the temporal training side. The picks make the
``tuned`` row (and the ``ease`` baseline's λ); ``served`` is the chain with the config values
the API serves, so targets judge what is served. ``slim`` and ``als`` use fixed config
values (``SLIM_*`` and ``ALS_PEER_PARAMS`` in src/config/params.py) picked once on the random
validation split by ``bench/tune_baselines.py`` (never on test), not re-tuned per run. Metrics per model: ndcg/recall/map@k, coverage (share of the
candidate titles shown to anyone), mean_popularity_rank (1 = most-rated), series_share;
each the mean over seeds with ``<metric>_std`` beside it.

Size budgets (``config.EVAL_BUDGETS``, :mod:`src.evaluation.budgets`): past them each run's
metrics are over a seeded sample of its users (the same for every model; coverage then counts
the sample's lists), EASE keeps fewer items, one seed runs, tuning and SLIM are skipped; the
``sampled`` block says which. Data within every budget runs exactly as described above.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd

from src.config import (
    ALS_PEER_PARAMS,
    CHART_NEW_GRID,
    DEBIAS_GRID,
    DEBIAS_NDCG_TOLERANCE,
    EASE_LAMBDA,
    EASE_LAMBDA_GRID,
    NEW_FOCUS_THRESHOLD_GRID,
    NEW_FOCUS_WEIGHT_GRID,
    ID_COL,
    ITEM_ID_COL,
    NEW_TASTE_GRID,
    PRIOR_HALF_GRID,
    PRIOR_GRID,
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
from src.evaluation.budgets import ease_item_cap, note, resolve_budgets, sample_eval_users
from src.utils.ranking_metrics import mean_popularity_rank, mean_ranking_metrics, share_in
from src.evaluation.splits import cold_user_cut, new_title_split, temporal_split
from src.evaluation.topn_eval import catalogue_for, count_lists, ranker_lists, relevant_sets
from src.models.content import ContentIndex
from src.models.factor_ranker import fit_factor_ranker
from src.models.pipeline.chain import BlendParams
from src.models.predict_model import Recommender
from src.models.slim import fit_slim, slim_columns
from src.models.split import bernoulli_split
from src.models.topn import check_ratings_frame, fit_ranker
from src.utils.extras import MissingExtraError
from src.utils.logging import get_logger, timed

log = get_logger(__name__)

__all__ = ["TUNED_FIELDS", "aggregate", "list_metrics", "run_protocols", "tune_on_validation"]

_METRICS = ("ndcg", "recall", "map")
# BlendParams fields tune_on_validation chooses (with EASE λ) and every protocol then uses.
TUNED_FIELDS = ("prior_liked", "prior_weight", "prior_power", "prior_half", "new_taste", "chart_new",
                "focus_weight", "focus_threshold", "debias")


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

    def chain(self, train: pd.DataFrame, ranker, params: BlendParams, precompute: bool = True) -> Recommender:
        """The served chain over the catalogue with a fitted EASE ``ranker`` and ``params``
        (``precompute=False``: known users' lists scored on demand, for a sample of them)."""
        return Recommender.from_models(self.cat, train, ranker=ranker, params=params, content=self.content,
                                       precompute=precompute)

    def pop_rank(self, train: pd.DataFrame) -> dict:
        """{title: popularity rank by training ratings} (1 = most rated, ties averaged)."""
        counts = train[ITEM_ID_COL].value_counts().reindex(self.ids).fillna(0)
        return dict(zip(self.ids.tolist(), counts.rank(ascending=False, method="average").tolist()))


def _count_lists(counts, users, ids, train, allowed, k) -> dict:
    """The same ranking by ``counts`` (> 0 only) for every user, seen titles masked (in user blocks)."""
    return count_lists(counts, users, ids, train, allowed, k)


def _peer_lists(train: pd.DataFrame, users: np.ndarray, ids: np.ndarray, allowed: np.ndarray, k: int,
                skipped: dict, slim_max_items: int | None = None) -> dict:
    """Lists of the evaluation-only peers fitted on ``train`` with their config values:
    ``slim`` (src.models.slim, ``SLIM_*``) and ``als`` (implicit ALS,
    src.models.factor_ranker, ``ALS_PEER_PARAMS``).

    ALS needs the [implicit] extra; without it ``als`` is left out and ``skipped["als"]``
    says why (the targets then compare with the peers that ran). Past ``slim_max_items`` item
    columns (one ElasticNet each: ~20k columns take many minutes per fit) ``slim`` is left out
    the same way, with the count in ``skipped["slim"]``.
    """
    out = {}
    n_cols = len(slim_columns(train))
    if slim_max_items is not None and n_cols > slim_max_items:
        skipped["slim"] = (f"{n_cols:,} item columns (one ElasticNet each) > budget slim_max_items "
                           f"{slim_max_items:,}")
        log.warning("slim baseline skipped: %s", skipped["slim"])
    else:
        out["slim"] = ranker_lists(fit_slim(train), users, ids, train, allowed, k)
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


def tune_on_validation(ctx: _Context, train: pd.DataFrame, k: int, seed: int,
                       new_title_train: pd.DataFrame | None = None,
                       temporal_train: pd.DataFrame | None = None, ease_params: dict | None = None) -> dict:
    """The served chain's knobs, one at a time (coordinate-wise), by served NDCG@k on validation.

    In: the shared context, the seed-0 random training side (cut), k, seed, and optionally
    the new-title protocol's training side. Validation is always carved from training, never
    test: a Bernoulli split of ``train`` with the same cold-user cut (so short histories weigh
    in), and — for the new-title order ρ — the most recent NEW_TITLE_SHARE titles of
    ``new_title_train`` made new again (:func:`new_title_split`), ranked among themselves;
    and — for δ, which trades accuracy on a time cut for coverage — optionally a time cut
    within the temporal protocol's training side ``temporal_train`` (:func:`temporal_split`
    of it: the later TEMPORAL_TRAIN_SHARE-quantile ratings are validation, candidates the
    titles rated before that cut).

    Order: EASE λ; the prior's counts (ratings or liked weight); (π₀, p) as pairs; H; ρ (new-title split);
    chart_new (the new titles' level, random split); the focus level μ (random) and τ
    (new-title); then the de-bias δ: the largest value of DEBIAS_GRID whose validation NDCG
    stays within DEBIAS_NDCG_TOLERANCE of the grid's best on the random split AND, when
    ``temporal_train`` is given, on the time-cut one (coverage bought with at most that much
    NDCG on either). ``ease_params``: extra ``fit_ranker`` keywords (the size budget's item cap).
    Out: {"ease_lambda", one entry per :data:`TUNED_FIELDS`, "grid",
    "new_title_grid", "temporal_grid", "validation_users", "new_title_users", "temporal_users"}.
    """
    fit, val = bernoulli_split(train, test_fraction=VALIDATION_FRACTION, seed=seed + 1000)
    fit, _ = cold_user_cut(fit, seed + 1000)
    relevant = relevant_sets(val, fit[USER_COL].unique())
    users = np.array(sorted(relevant), dtype="int64")
    grid: dict[str, float] = {}
    rankers: dict[tuple[str, float], object] = {}

    def _key(lam: float, p: BlendParams) -> str:
        return (f"lambda={lam:g},liked={int(p.prior_liked)},prior={p.prior_weight:g},power={p.prior_power:g},"
                f"half={p.prior_half:g},rho={p.new_taste:g},chart_new={p.chart_new:g},focus={p.focus_weight:g},"
                f"focus_t={p.focus_threshold:g},debias={p.debias:g}")

    def _ndcg(lam: float, p: BlendParams, frame: pd.DataFrame = fit, rel: dict = relevant,
              who: np.ndarray = users, cands: np.ndarray | None = None, store: dict = grid,
              tag: str | None = None) -> float:
        key = _key(lam, p)
        if key not in store:
            tag = tag or ("new" if cands is not None else "random")
            if (tag, lam) not in rankers:   # one EASE fit per λ and split, reused across blend knobs
                rankers[(tag, lam)] = fit_ranker(frame, lam=lam, **(ease_params or {}))
            rec = ctx.chain(frame, rankers[(tag, lam)], p)
            m = mean_ranking_metrics(rec.recommend_batch(who, n=k, candidates=cands), rel, k,
                                     n_items=len(cands) if cands is not None else len(ctx.ids))
            store[key] = round(m[f"ndcg@{k}"], 5)
        return store[key]

    def _first(values, current):
        # The current value is tried first, so on a tie (max keeps the first) a knob stays put:
        # it moves only when validation measures better.
        return sorted(values, key=lambda v: v != current)

    # The accuracy knobs are chosen without de-bias; δ then trades NDCG for coverage, last.
    p = replace(BlendParams(), debias=0.0)
    lam = max(_first(EASE_LAMBDA_GRID, EASE_LAMBDA), key=lambda v: _ndcg(v, p))
    p = replace(p, prior_liked=max(_first((False, True), p.prior_liked),
                                   key=lambda v: _ndcg(lam, replace(p, prior_liked=v))))
    pw, pp = max(_first(PRIOR_GRID, (p.prior_weight, p.prior_power)),
                 key=lambda v: _ndcg(lam, replace(p, prior_weight=v[0], prior_power=v[1])))
    p = replace(p, prior_weight=pw, prior_power=pp)
    p = replace(p, prior_half=max(_first(PRIOR_HALF_GRID, p.prior_half),
                                  key=lambda v: _ndcg(lam, replace(p, prior_half=v))))
    nt_grid: dict[str, float] = {}
    nt_users = 0
    if new_title_train is not None:
        nt_fit, nt_test, nt_new = new_title_split(new_title_train)
        nt_new = np.intersect1d(nt_new, ctx.ids)
        nt_rel = relevant_sets(nt_test[nt_test[ITEM_ID_COL].isin(nt_new)], nt_fit[USER_COL].unique())
        nt_who = np.array(sorted(nt_rel), dtype="int64")
        nt_users = len(nt_who)
        if nt_users:
            rho = max(_first(NEW_TASTE_GRID, p.new_taste),
                      key=lambda v: _ndcg(lam, replace(p, new_taste=v), nt_fit, nt_rel, nt_who, nt_new, nt_grid))
            p = replace(p, new_taste=rho)
    p = replace(p, chart_new=max(_first(CHART_NEW_GRID, p.chart_new),
                                 key=lambda v: _ndcg(lam, replace(p, chart_new=v))))
    # The focus level: μ against the scored titles (random split), τ — which new titles it
    # lifts — among new titles (new-title split). On a split whose viewers never reach the
    # threshold both tie and the configured values stay (a tie keeps the current value).
    p = replace(p, focus_weight=max(_first(NEW_FOCUS_WEIGHT_GRID, p.focus_weight),
                                    key=lambda v: _ndcg(lam, replace(p, focus_weight=v))))
    if nt_users and p.focus_weight:
        p = replace(p, focus_threshold=max(
            _first(NEW_FOCUS_THRESHOLD_GRID, p.focus_threshold),
            key=lambda v: _ndcg(lam, replace(p, focus_threshold=v), nt_fit, nt_rel, nt_who, nt_new, nt_grid)))

    def _within(scored: dict) -> set:
        best = max(scored.values())
        return {d for d, v in scored.items() if v >= (1.0 - DEBIAS_NDCG_TOLERANCE) * best}

    ok = _within({d: _ndcg(lam, replace(p, debias=d)) for d in DEBIAS_GRID})
    tv_grid: dict[str, float] = {}
    tv_users = 0
    if temporal_train is not None:
        # A time cut within the temporal training side: the random split lets the future
        # predict the past, which flatters δ's cost on a time cut (the temporal protocol).
        tv_fit, tv_test, _ = temporal_split(temporal_train)
        tv_known = np.intersect1d(ctx.ids, tv_fit[ITEM_ID_COL].unique())
        tv_rel = relevant_sets(tv_test[tv_test[ITEM_ID_COL].isin(tv_known)], tv_fit[USER_COL].unique())
        tv_who = np.array(sorted(tv_rel), dtype="int64")
        tv_users = len(tv_who)
        if tv_users:
            ok &= _within({d: _ndcg(lam, replace(p, debias=d), tv_fit, tv_rel, tv_who, tv_known, tv_grid,
                                    tag="temporal") for d in DEBIAS_GRID})
    p = replace(p, debias=max(ok) if ok else 0.0)
    out = {"ease_lambda": float(lam), **{f: getattr(p, f) for f in TUNED_FIELDS}, "grid": grid,
           "new_title_grid": nt_grid, "temporal_grid": tv_grid, "validation_users": int(len(users)),
           "new_title_users": int(nt_users), "temporal_users": int(tv_users)}
    log.info("tuned on validation (%d users, %d new-title users, %d temporal users): EASE λ=%g, %s", len(users),
             nt_users, tv_users, lam, {f: out[f] for f in TUNED_FIELDS})
    return out


def _chain_lists(ctx: _Context, train: pd.DataFrame, chains: dict, users: np.ndarray, k: int,
                 candidates: np.ndarray | None = None, ease_params: dict | None = None,
                 precompute: bool = True) -> tuple[dict, object]:
    """Lists of each evaluated chain (``served``: the configuration the API serves; ``tuned``:
    the validation-tuned one, when tuning ran) and the EASE ranker of the last chain (the
    λ-tuned one: the ``ease`` baseline). EASE is fitted once per distinct λ."""
    lists, rankers = {}, {}
    for name, (lam, params) in chains.items():
        if lam not in rankers:
            rankers[lam] = fit_ranker(train, lam=lam, **(ease_params or {}))
        rec = ctx.chain(train, rankers[lam], params, precompute)
        lists[name] = rec.recommend_batch(users, n=k, candidates=candidates)
    return lists, rankers[lam], rec


def _evaluated(relevant: dict, n_known: int, budgets: dict, seed: int, sampled: dict,
               what: str) -> tuple[dict, np.ndarray, bool]:
    """(relevant, users, precompute) of one run, cut to a seeded sample of ``budgets["max_eval_users"]``;
    ``precompute`` is False when the training side knows more users than that budget: its chain
    then scores the evaluated users on demand instead of ranking every known user at build
    (the same lists, src.models.pipeline.known_lists)."""
    cap = budgets.get("max_eval_users")
    users = sample_eval_users(np.array(sorted(relevant), dtype="int64"), cap, seed, sampled, what)
    if len(users) < len(relevant):
        relevant = {u: relevant[u] for u in users.tolist()}
    return relevant, users, cap is None or n_known <= cap


def _random_run(ctx: _Context, df: pd.DataFrame, seed: int, chains: dict, k: int, skipped: dict,
                budgets: dict, sampled: dict):
    """One seed of the random protocol: (all-user metrics, cold-user metrics)."""
    train, test = bernoulli_split(df, test_fraction=TOPN_TEST_FRACTION, seed=seed)
    train, cold = cold_user_cut(train, seed)
    known_users = train[USER_COL].unique()
    relevant, users, pre = _evaluated(relevant_sets(test, known_users), len(known_users), budgets, seed, sampled,
                                      f"random_users_seed{seed}")
    chain, ranker, _ = _chain_lists(ctx, train, chains, users, k, ease_params=budgets.get("ease_params"),
                                    precompute=pre)
    allowed = np.ones(len(ctx.ids), dtype=bool)
    counts = train[ITEM_ID_COL].value_counts().reindex(ctx.ids).fillna(0).to_numpy("float64")
    lists = {**chain,
             "ease": ranker_lists(ranker, users, ctx.ids, train, allowed, k),
             **_peer_lists(train, users, ctx.ids, allowed, k, skipped, budgets.get("slim_max_items")),
             "popularity": _count_lists(counts, users, ctx.ids, train, allowed, k)}
    pop_rank = ctx.pop_rank(train)
    cold_rel = {u: r for u, r in relevant.items() if u in set(cold.tolist())}
    every = {m: list_metrics(v, relevant, k, ctx.ids, pop_rank, ctx.series) for m, v in lists.items()}
    cold_m = {m: list_metrics(v, cold_rel, k, ctx.ids, pop_rank, ctx.series) for m, v in lists.items()}
    return every, cold_m


def _temporal_run(ctx: _Context, df: pd.DataFrame, chains: dict, k: int, skipped: dict, budgets: dict,
                  sampled: dict, seed: int) -> dict:
    """The temporal protocol: candidates are the titles rated before the cut."""
    train, test, cut = temporal_split(df)
    known = np.intersect1d(ctx.ids, train[ITEM_ID_COL].unique())
    known_users = train[USER_COL].unique()
    relevant, users, pre = _evaluated(relevant_sets(test[test[ITEM_ID_COL].isin(known)], known_users),
                                      len(known_users), budgets, seed, sampled, "temporal_users")
    log.info("temporal: cut at %d, %d train / %d test ratings, %d users", cut, len(train), len(test), len(users))
    chain, ranker, _ = _chain_lists(ctx, train, chains, users, k, candidates=known,
                                    ease_params=budgets.get("ease_params"), precompute=pre)
    allowed = np.isin(ctx.ids, known)
    counts = train[ITEM_ID_COL].value_counts().reindex(ctx.ids).fillna(0).to_numpy("float64")
    lists = {**chain,
             "ease": ranker_lists(ranker, users, ctx.ids, train, allowed, k),
             **_peer_lists(train, users, ctx.ids, allowed, k, skipped, budgets.get("slim_max_items")),
             "popularity": _count_lists(counts, users, ctx.ids, train, allowed, k)}
    pop_rank = ctx.pop_rank(train)
    return {m: list_metrics(v, relevant, k, known, pop_rank, ctx.series) for m, v in lists.items()}


def _new_title_runs(ctx: _Context, df: pd.DataFrame, chains: dict, k: int,
                    seeds: tuple[int, ...], budgets: dict, sampled: dict) -> list[dict]:
    """The new-title protocol (one split; the random baseline drawn per seed)."""
    train, test, new = new_title_split(df)
    new = np.intersect1d(new, ctx.ids)   # a new title can only be shown with a catalogue row
    known_users = train[USER_COL].unique()
    relevant, users, pre = _evaluated(relevant_sets(test[test[ITEM_ID_COL].isin(new)], known_users),
                                      len(known_users), budgets, seeds[0], sampled, "new_title_users")
    log.info("new-title: %d new titles in the catalogue, %d users with a relevant one", len(new), len(users))
    chain, _, rec = _chain_lists(ctx, train, chains, users, k, candidates=new, ease_params=budgets.get("ease_params"),
                                 precompute=pre)
    allowed = np.isin(ctx.ids, new)
    test_counts = test[ITEM_ID_COL].value_counts().reindex(ctx.ids).fillna(0).to_numpy("float64")
    # The served chart order (score_final, what a newcomer sees) as descending scores.
    pos = np.searchsorted(ctx.ids, rec.cold_order_ids())
    chart_score = np.zeros(len(ctx.ids))
    chart_score[pos] = np.arange(len(pos), 0, -1, dtype="float64")
    fixed = {**chain,
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
                  seeds: tuple[int, ...] = PROTOCOL_SEEDS, tune: bool = True, budgets: dict | None = None) -> dict:
    """Run every protocol; return the ``protocols`` block of metrics.json.

    In: model-ready ratings in the catalogue's id space (with timestamps), the catalogue
    (None: the rated items as bare titles), k, seeds, whether to tune on validation (False:
    config values), and size-budget overrides (:func:`src.evaluation.budgets.resolve_budgets`;
    default ``config.EVAL_BUDGETS``): past ``seeds_max_ratings`` ratings only the first seed
    runs, past ``tune_max_ratings`` tuning is skipped (config values, ``tuned["skipped"]`` says
    why), past ``slim_max_items`` columns the SLIM peer is skipped, and each run's evaluated
    users are a seeded sample of ``max_eval_users``. Out: {"random", "cold_users", "temporal",
    "new_title": {model: {metric, metric_std, runs}}, "tuned": {...}, "seeds", "peers" (the
    slim/als parameters), "skipped" ({baseline: reason}), "sampled" ({what: reason}, every
    budget that bit), "seconds"}.
    """
    t0 = time.perf_counter()
    budgets = resolve_budgets(budgets)
    sampled: dict[str, str] = {}
    df = check_ratings_frame(ratings).assign(timestamp=ratings["timestamp"].to_numpy("int64"))
    df = df.drop_duplicates([USER_COL, ITEM_ID_COL], keep="last")
    n = len(df)
    if len(seeds) > 1 and budgets.get("seeds_max_ratings") is not None and n > budgets["seeds_max_ratings"]:
        note(sampled, "protocol_seeds", f"seed {seeds[0]} only, not {list(seeds)} (no seed-to-seed spread): "
                                        f"{n:,} ratings > budget seeds_max_ratings {budgets['seeds_max_ratings']:,}")
        seeds = tuple(seeds[:1])
    size_skip = None
    if tune and budgets.get("tune_max_ratings") is not None and n > budgets["tune_max_ratings"]:
        size_skip = (f"skipped, served config used (no `tuned` row): {n:,} ratings > budget tune_max_ratings "
                     f"{budgets['tune_max_ratings']:,}")
        note(sampled, "validation_tuning", size_skip)
        tune = False
    # The item cap is resolved once (on every rating) and handed to each EASE fit below.
    budgets = {**budgets, "ease_params": ease_item_cap(df, budgets.get("ease_max_items"), sampled)}
    with timed(log, "protocol context (catalogue, content index)"):
        ctx = _Context(df, catalogue)
    base = BlendParams()
    if tune:
        with timed(log, "tuning on validation"):
            train0, _ = bernoulli_split(df, test_fraction=TOPN_TEST_FRACTION, seed=seeds[0])
            tuned = tune_on_validation(ctx, cold_user_cut(train0, seeds[0])[0], k, seeds[0],
                                       new_title_train=new_title_split(df)[0],
                                       temporal_train=temporal_split(df)[0],
                                       ease_params=budgets["ease_params"])
    else:
        tuned = {"ease_lambda": EASE_LAMBDA, **{f: getattr(base, f) for f in TUNED_FIELDS}, "grid": {}}
        if size_skip:
            tuned["skipped"] = size_skip
    # `served` is what the API serves (the config defaults a trained bundle is served with);
    # `tuned` is the same chain with this run's validation picks, reported beside it (not
    # served: config values may differ where a product rule overrides the pick, see
    # references/recommending.md). Targets judge `served`.
    chains = {"served": (EASE_LAMBDA, base)}
    if tune:
        chains["tuned"] = (tuned["ease_lambda"], replace(base, **{f: tuned[f] for f in TUNED_FIELDS}))
    every, cold, skipped = [], [], {}
    for seed in seeds:
        with timed(log, f"random protocol, seed {seed}"):
            e, c = _random_run(ctx, df, seed, chains, k, skipped, budgets, sampled)
        every.append(e)
        cold.append(c)
    with timed(log, "temporal protocol"):
        temporal = _temporal_run(ctx, df, chains, k, skipped, budgets, sampled, seeds[0])
    with timed(log, "new-title protocol"):
        new_title = _new_title_runs(ctx, df, chains, k, seeds, budgets, sampled)
    if "slim" in skipped and "slim" not in sampled and "item columns" in skipped["slim"]:
        sampled["slim"] = skipped["slim"]   # a size skip (not a missing extra): listed with the other limits
    out = {"random": aggregate(every), "cold_users": aggregate(cold), "temporal": aggregate([temporal]),
           "new_title": aggregate(new_title), "tuned": tuned, "seeds": list(seeds),
           "relevant_threshold": RELEVANT_THRESHOLD, "peers": _peer_params(), "skipped": skipped, "sampled": sampled,
           "seconds": round(time.perf_counter() - t0, 1)}
    for name in ("random", "cold_users", "temporal", "new_title"):
        log.info("%-10s %s", name, {m: round(v[f"ndcg@{k}"], 4) for m, v in out[name].items()})
    return out
