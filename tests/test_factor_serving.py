"""Serving factor (ALS) bundles from candidates: the train-time top-N table (bundle round trip,
exact content), known users' lists from it equal to the full chain's under any filter, a
folded-in viewer through the ANN index, and titles the ranker cannot score still listed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from src.config import BUNDLE_MANIFEST_NAME
from src.models.bundle import ModelBundle, load_bundle, save_bundle
from src.models.bundle_codecs import codec_by_kind
from src.models.factor_ann import FactorAnn
from src.models.factor_ranker import FactorRanker, fit_factor_ranker
import src.models.predict_model as pm
from src.models.predict_model import Recommender

N_TABLE = 30   # of ~2k items: short, so the bound pass must widen many lists


@pytest.fixture(scope="module")
def base(synthetic_pipeline) -> Recommender:
    """The synthetic workspace's Recommender (catalogue + training ratings)."""
    return Recommender.load(synthetic_pipeline)


@pytest.fixture(scope="module")
def als(base) -> FactorRanker:
    """A small ALS ranker on the synthetic training ratings, with a short top-N table."""
    rk = fit_factor_ranker(base.bundle.train_ratings, factors=16, iterations=8)
    rk.build_top_table(N_TABLE)
    return rk


@pytest.fixture(scope="module")
def rec(base, als) -> Recommender:
    """A Recommender serving the ALS ranker (top-N table + ANN index, searched at a high ef)."""
    r = Recommender.from_models(base.catalogue, base.bundle.train_ratings, ranker=als)
    r._factor.ann._ef = 2000
    return r


def _full_lists(rec: Recommender, rows: np.ndarray, mask: np.ndarray, n: int):
    """The full chain's lists (every title scored) of known-user rows."""
    h = rec._known_histories(rows)
    scores, steps = rec.pipeline.score(h)
    return rec.pipeline.rank(h, scores, steps, mask, n)


def test_top_table_is_exact_and_round_trips_through_the_bundle(als, workspace):
    # each row: the N best unseen items by the stored factors, best first
    for r in (0, 5, 77):
        s = als.user_factors[r] @ als.item_factors.T
        seen = als.history.indices[als.history.indptr[r]:als.history.indptr[r + 1]]
        s[seen] = -np.inf
        assert als.top_items[r].tolist() == np.argsort(-s, kind="stable")[:N_TABLE].tolist()
        assert np.allclose(als.top_scores[r], s[als.top_items[r]], rtol=1e-5)
    ann = FactorAnn(als.item_factors)
    rk = FactorRanker(**{f: getattr(als, f) for f in FactorRanker.__dataclass_fields__})
    rk.ann_state = ann.state()
    folder = save_bundle(ModelBundle(svd=None, ranker=rk, train_ratings=None, params=rk.params), workspace)
    files = json.loads((folder / BUNDLE_MANIFEST_NAME).read_text())["files"]
    assert files["ranker.top_items.npy"]["dtype"] == "<i4" and files["ranker.top_scores.npy"]["dtype"] == "<f4"
    assert len(files["ranker.top_items.npy"]["sha256"]) == 64 and "ranker.ann_data_level0.npy" in files
    back = load_bundle(folder).ranker
    assert isinstance(back.top_items, np.memmap)   # mapped at load, not copied
    assert np.array_equal(back.top_items, als.top_items) and np.array_equal(back.top_scores, als.top_scores)
    restored = FactorAnn.from_state(back.item_factors, *back.ann_state)
    p = als.user_factors[3]
    assert restored.top_n(p, n=10)[0].tolist() == ann.top_n(p, n=10)[0].tolist()
    with pytest.raises(ValueError, match="does not match"):
        FactorAnn.from_state(back.item_factors[:-1], *back.ann_state)
    # a table naming columns the ranker does not have is refused when the bundle is read
    codec = codec_by_kind("streamrec.FactorRanker")
    arrays, meta = codec.to_arrays(als)
    arrays["top_items"] = arrays["top_items"].copy()
    arrays["top_items"][0, 0] = als.n_items
    with pytest.raises(ValueError, match="outside"):
        codec.from_arrays(arrays, meta)


def test_known_users_from_the_table_get_the_full_chain_lists(rec):
    """Every known user, wide and narrow filters: the candidate path (table row + unscorable
    titles, widened by the bound pass) gives exactly the list of scoring every title."""
    assert rec._known is None and rec._factor is not None   # nothing ranked per user at load
    users = np.arange(0, len(rec._user_ids), 4)
    rare = min(rec.genres, key=lambda g: rec.selector.mask([g]).sum())
    masks = [np.ones(len(rec._ids), dtype=bool), rec.selector.mask(["Drama"]),
             rec.selector.mask([rare])]
    rec._factor.stats.update(table=0, full=0, widened=0)
    for mask in masks:
        full = _full_lists(rec, users, mask, 10)
        for k, r in enumerate(users.tolist()):
            got = rec._factor.rank(rec._known_histories(np.array([r])), r, mask, 10)
            if got is not None:
                assert got[0].tolist() == full[k][0].tolist(), r
                assert np.allclose(got[1], full[k][1], rtol=1e-9)
    st = rec._factor.stats
    # most requests are answered from candidates (the rare genre often leaves < 10: full row)
    assert st["table"] > 1.5 * len(users) and st["widened"] > 0, st
    # the public entry points take that path
    user = int(rec._user_ids[4])
    df = rec.recommend(user, genres=["Drama"], n=10)
    assert df["id"].tolist() == rec._ids[_full_lists(rec, np.array([4]), masks[1], 10)[0][0]].tolist()
    batch = rec.recommend_batch(rec._user_ids[:20].tolist(), n=10)
    full = _full_lists(rec, np.arange(20), masks[0], 10)
    assert [batch[int(u)] for u in rec._user_ids[:20]] == [rec._ids[f[0]].tolist() for f in full]


def test_folded_in_viewer_through_the_ann_index_gets_the_exact_list(rec, monkeypatch):
    # the viewers' ranked-prefix cache off: each request takes the ANN path (with it on, only
    # a viewer's prefix misses do)
    monkeypatch.setattr(pm, "VIEWER_LISTS_CACHE", 0)
    rec._factor.stats.update(ann=0)
    users = np.arange(0, len(rec._user_ids), 15)
    full = _full_lists(rec, users, np.ones(len(rec._ids), dtype=bool), 10)
    for k, r in enumerate(users.tolist()):
        folded = rec.recommend_for_ratings(rec.seen(int(rec._user_ids[r])), n=10)
        assert folded["id"].tolist() == rec._ids[full[k][0]].tolist()
    assert rec._factor.stats["ann"] == len(users)


def test_a_title_the_ranker_cannot_score_still_reaches_the_candidates(base, als):
    """A title added after training (no factor) is a candidate of every viewer: restricted to
    new titles, the candidate path lists it as the full chain does."""
    cat = base.catalogue.reset_index(drop=True)
    donor = cat.iloc[int(np.argmax(base._n_ratings))]   # a copy of the most-rated title, new id
    new = donor.copy()
    new["id"] = int(cat["id"].max()) + 1
    rec = Recommender.from_models(pd.concat([cat, new.to_frame().T.astype(cat.dtypes)], ignore_index=True),
                                  base.bundle.train_ratings, ranker=als)
    pos = rec._pos_of[int(new["id"])]
    assert pos in set(rec._factor.unscorable.tolist())
    users = rec._user_ids[:20]
    out = rec.recommend_batch(users.tolist(), n=1, candidates=[int(new["id"])])
    mask = np.zeros(len(rec._ids), dtype=bool)
    mask[pos] = True
    full = _full_lists(rec, np.arange(20), mask, 1)
    assert [out[int(u)] for u in users] == [rec._ids[f[0]].tolist() for f in full]
    assert sum(out[int(u)] == [int(new["id"])] for u in users) > 15
    assert rec._factor.stats["table"] > 15


def test_known_users_lists_of_a_factor_model_give_the_full_chain_lists(base, als, monkeypatch):
    """With the known users' lists built (``invoke warm``), every request equals the full
    chain's list: prefix hits, genres-only filters from the per-genre lists, and filters the
    short prefix misses answered from the prefix plus the filter's other titles."""
    monkeypatch.setattr(pm, "RECOMMEND_PRECOMPUTE_DEPTH", 40)   # short: narrow filters miss it
    monkeypatch.setattr(pm, "RECOMMEND_GENRE_DEPTH", 5)         # below n: genre filters miss too
    rec = Recommender.from_models(base.catalogue, base.bundle.train_ratings, ranker=als, build_lists=True)
    assert rec._known is not None and rec._known.depth == 40 and rec._known.genre_depth == 5
    users = np.arange(0, len(rec._user_ids), 6)
    rare = min(rec.genres, key=lambda g: rec.selector.mask([g]).sum())
    rec._factor.stats.update(table=0, full=0, widened=0, prefix=0)
    for genres in (None, ["Drama"], [rare], ["Horror", "Comedy"]):
        mask = rec.selector.mask(genres)
        full = _full_lists(rec, users, mask, 10)
        for k, r in enumerate(users.tolist()):
            df = rec.recommend(int(rec._user_ids[r]), n=10, genres=genres)
            assert df["id"].tolist() == rec._ids[full[k][0]].tolist(), (genres, r)
            assert np.allclose(df["score"].to_numpy(), full[k][1], rtol=1e-6)
    assert rec._factor.stats["prefix"] > 10, rec._factor.stats   # the prefix + filter path answered
    # n within the genre lists' depth: answered from them, the same lists
    mask = rec.selector.mask([rare])
    full = _full_lists(rec, users, mask, 5)
    for k, r in enumerate(users.tolist()):
        assert rec.recommend(int(rec._user_ids[r]), n=5, genres=[rare])["id"].tolist() == \
            rec._ids[full[k][0]].tolist()
