"""The Recommender as served: loaded from a trained synthetic workspace (checksum-verified
bundle), and built on the real catalogue + ratings_small for taste and content checks."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from src.models.bundle import ModelBundle
from src.models.predict_model import OUTPUT_COLUMNS, Recommender
from src.models.ratings_data import load_ratings
from src.models.topn import fit_ranker
from src.models.train_model import fit_svd


@pytest.fixture(scope="module")
def synth(synthetic_pipeline) -> Recommender:
    """Recommender.load on the small synthetic workspace (features + trained bundle)."""
    return Recommender.load(synthetic_pipeline)


@pytest.fixture(scope="module")
def real(real_features) -> Recommender:
    """Real TMDB catalogue + EASE/SVD fitted on ratings_small, built in memory."""
    ratings = load_ratings(paths=real_features, include_feedback=False)
    bundle = ModelBundle(svd=fit_svd(ratings), ranker=fit_ranker(ratings), train_ratings=ratings,
                         params={}, metadata={"version": "test"})
    return Recommender(pd.read_parquet(real_features.features), bundle=bundle)


def test_known_user_list_respects_filters_and_seen(synth):
    user = int(synth._user_ids[0])
    seen = synth.seen(user)
    assert synth.known_user(user) and seen
    df = synth.recommend(user, n=15)
    assert list(df.columns) == OUTPUT_COLUMNS and len(df) == 15
    assert not set(df["id"]) & set(seen)
    assert df["id"].isin(synth.catalogue.index).all() and (df["title"] != "").all()
    assert df["reason"].str.startswith("because you rated").any()
    assert df["score"].is_monotonic_decreasing
    for g in ("Horror", "Comedy"):
        dg = synth.recommend(user, genres=[g], n=10)
        assert dg["genres"].str.split("|").map(lambda gs: g in gs).all()
    with_seen = synth.recommend(user, n=50, exclude_seen=False)
    assert set(with_seen["id"]) & set(seen)           # the mask really is what hid them


def test_extra_ratings_fold_in_and_win(synth):
    user = int(synth._user_ids[1])
    base = synth.recommend(user, n=10)
    liked = int(base["id"].iloc[0])
    after = synth.recommend(user, n=10, extra_ratings={liked: 5.0})
    assert liked not in set(after["id"])              # a stored rating counts as seen
    assert not after["id"].equals(base["id"])


def test_unknown_user_and_validation(synth):
    cold = synth.recommend(10**9, genres=["Drama"], n=5)
    assert cold.equals(synth.cold_start(genres=["Drama"], n=5))
    assert (cold["reason"] == "top Drama by score").all()
    assert cold["score"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="Nope"):
        synth.recommend(1, genres=["Nope"])
    for bad in (0, synth_max_plus_one(), 2.5):
        with pytest.raises(ValueError, match="n must"):
            synth.recommend(1, n=bad)
    with pytest.raises(ValueError, match="media_type"):
        synth.cold_start(media_type="podcast")
    with pytest.raises(ValueError, match="unknown movie ids"):
        synth.recommend_for_ratings({-5: 4.0})
    with pytest.raises(ValueError, match="must be in"):
        synth.recommend_for_ratings({int(synth.catalogue.index[0]): 9.0})
    with pytest.raises(KeyError, match="-7"):
        synth.similar_titles(-7)
    pop = synth.popular_titles(n=5, genres=["Comedy"])
    assert pop["score"].is_monotonic_decreasing and pop["reason"].str.startswith("rated by").all()


def synth_max_plus_one() -> int:
    from src.config import MAX_N

    return MAX_N + 1


def test_catalogue_only_serves_cold_start(real_features, capsys):
    rec = Recommender.load(real_features)            # no bundle trained in this workspace
    assert rec.model_version is None and not rec.known_user(1)
    df = rec.recommend(1, n=3)
    assert len(df) == 3 and df["reason"].str.startswith("top ").all()
    # `invoke recommend` prints the same cold-start list through the service layer.
    from src.serving.cli import print_recommendations

    reply = print_recommendations(1, genres="Comedy", n=3, paths=real_features)
    assert "cold start" in capsys.readouterr().out and len(reply["items"]) == 3


@pytest.mark.parametrize("genre", ["Horror", "Science Fiction"])
def test_genre_lover_fold_in_gets_that_genre(real, genre):
    liked = real.popular_titles(n=12, genres=[genre])["id"].tolist()
    df = real.recommend_for_ratings({i: 5.0 for i in liked}, n=10)
    share = df["genres"].str.split("|").map(lambda gs: genre in gs).mean()
    base = real.catalogue["genres"].str.split("|").map(lambda gs: genre in gs).mean()
    assert share >= 0.5 > base
    assert not set(df["id"]) & set(liked)
    assert df["reason"].str.contains("because you rated").all()


def test_similar_titles_of_toy_story(real):
    sim = real.similar_titles(862, n=10)             # Toy Story (Animation|Comedy|Family)
    assert 862 not in set(sim["id"])
    assert (sim["reason"] == "similar to Toy Story").all()
    assert {"Toy Story 2", "Toy Story 3"} <= set(sim["title"])
    fam = sim["genres"].str.split("|").map(lambda gs: bool({"Animation", "Family"} & set(gs)))
    assert fam.mean() >= 0.6
    hybrid = real.similar_titles(862, n=10, user_id=1)
    assert not set(hybrid["id"]) & set(real.seen(1))
    assert len(hybrid) == 10


def test_recommend_for_ratings_is_fast(real):
    ratings = {i: 4.5 for i in real.popular_titles(n=20)["id"].tolist()}
    real.recommend_for_ratings(ratings, n=10)         # warm-up
    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        real.recommend_for_ratings(ratings, n=10, genres=["Drama"])
        times.append(time.perf_counter() - t0)
    assert float(np.median(times)) < 0.050


def test_ranked_prefixes_give_the_full_chain_lists(synth):
    """The known users' ranked prefixes (KnownLists) answer every filter with the list the
    chain ranks from the full score row: for every known user, with prefixes so short that
    narrow filters miss (scored in full) and lists run out (backfilled), wide and narrow
    filters alike; the prefix really answers most requests."""
    from src.models.pipeline.known_lists import KnownLists

    pipe = synth.pipeline
    users = np.arange(len(synth._user_ids))
    known = KnownLists(pipe, synth._known_histories, len(users), depth=40, batch_rows=64)
    h = synth._known_histories(users)
    scores, steps = pipe.score(h)
    assert list(known.steps) == list(steps)
    rare = min(synth.genres, key=lambda g: synth.selector.mask([g]).sum())
    masks = [np.ones(len(synth._ids), dtype=bool), synth.selector.mask(["Drama"]),
             synth.selector.mask([rare]), synth.selector.mask(["Horror", "Comedy"])]
    answered = 0
    for mask in masks:
        full = pipe.rank(h, scores, steps, mask, 15)
        for r in users.tolist():
            hit = known.lookup(r, mask, 15)
            if hit is None:
                continue
            answered += 1
            hr = synth._known_histories(np.array([r]))
            pos, sc, src = pipe.fill(hr, 0, *hit, mask, 15)
            assert pos.tolist() == full[r][0].tolist()
            assert np.array_equal(sc, full[r][1]) and src.tolist() == full[r][2].tolist()
    assert answered > len(users) * 2              # most requests never touch the score row
    assert answered < len(users) * len(masks)     # and the narrow filter did fall through
    # Genres-only filters the prefix misses: the per-genre lists' merge is the full chain's list
    # (one genre, and two whose lists share titles); n past their depth is left to scoring.
    by_genre = 0
    for genres in ([rare], ["Horror", "Comedy"]):
        idx = synth.selector.genre_index(genres)
        mask = synth.selector.mask(genres)
        full = pipe.rank(h, scores, steps, mask, 15)
        for r in users.tolist():
            if known.lookup(r, mask, 15) is not None:
                continue
            hit = known.lookup_genres(r, idx, 15, synth._ids)
            assert hit is not None
            by_genre += 1
            hr = synth._known_histories(np.array([r]))
            pos, sc, src = pipe.fill(hr, 0, *hit, mask, 15)
            assert pos.tolist() == full[r][0].tolist()
            assert np.array_equal(sc, full[r][1]) and src.tolist() == full[r][2].tolist()
            assert known.lookup_genres(r, idx, known.genre_depth + 1, synth._ids) is None
    assert by_genre > len(users) // 2


def test_precomputed_rows_match_the_fold_in_path(synth):
    """A known user's list comes from the ranked prefix built at load; folding their own training
    ratings in as a new viewer computes it per request: same titles, same scores, same
    reasons. The API's dict rows equal the DataFrame."""
    assert synth._known is not None
    for k, genres in enumerate((None, ["Drama"], ["Horror", "Comedy"])):
        user = int(synth._user_ids[k])
        known = synth.recommend(user, genres=genres, n=20)
        folded = synth.recommend_for_ratings(synth.seen(user), genres=genres, n=20)
        assert known["id"].tolist() == folded["id"].tolist()
        assert known["reason"].tolist() == folded["reason"].tolist()
        assert np.allclose(known["score"], folded["score"], rtol=1e-5)
        rows = synth.recommend_rows(user, genres=genres, n=20)
        assert [r["id"] for r in rows] == known["id"].tolist()
        assert [r["reason"] for r in rows] == known["reason"].tolist()
        assert all(isinstance(r["year"], (int, type(None))) for r in rows)
    cold = synth.cold_start_rows(genres=["Drama"], n=5)
    assert [r["id"] for r in cold] == synth.cold_start(genres=["Drama"], n=5)["id"].tolist()


def test_a_viewer_known_by_ratings_gets_the_full_chain_list_from_one_cached_prefix(synth, monkeypatch):
    """A viewer known only by ratings (here a known user's ratings plus one new) is scored
    once: every later filter is answered from their cached ranked prefix, with exactly the
    list the full chain gives without the cache; a new rating is a new viewer state."""
    import src.models.predict_model as pm

    user = int(synth._user_ids[3])
    ratings = {**synth.seen(user), int(synth._ids[-1]): 5.0}
    rare = min(synth.genres, key=lambda g: synth.selector.mask([g]).sum())
    filters = (None, ["Drama"], [rare], ["Horror", "Comedy"])
    synth._viewer_lists.clear()                           # earlier tests' viewers (shared fixture)
    monkeypatch.setattr(pm, "VIEWER_LISTS_CACHE", 0)      # the reference: the full chain each time
    ref = [synth.recommend_for_ratings(ratings, genres=g, n=15) for g in filters]
    assert not synth._viewer_lists
    monkeypatch.setattr(pm, "VIEWER_LISTS_CACHE", 8)
    got = [synth.recommend_for_ratings(ratings, genres=g, n=15) for g in filters]
    for a, b in zip(ref, got):
        assert a["id"].tolist() == b["id"].tolist() and a["reason"].tolist() == b["reason"].tolist()
        assert np.allclose(a["score"], b["score"], rtol=1e-12, atol=0)
    assert len(synth._viewer_lists) == 1                  # one viewer state, one prefix
    scored = synth.pipeline.score

    def not_again(*_a, **_k):
        raise AssertionError("scored in full although the prefix decides")

    monkeypatch.setattr(synth.pipeline, "score", not_again)
    again = synth.recommend_for_ratings_rows(ratings, genres=["Drama"], n=15)
    assert [r["id"] for r in again] == got[1]["id"].tolist()
    monkeypatch.setattr(synth.pipeline, "score", scored)
    synth.recommend_for_ratings({**ratings, int(synth._ids[-2]): 4.0}, n=5)   # a new rating
    assert len(synth._viewer_lists) == 2
    monkeypatch.setattr(pm, "VIEWER_LISTS_CACHE", 1)      # LRU: the oldest viewer state goes
    synth.recommend_for_ratings({int(synth._ids[0]): 5.0}, n=5)
    assert len(synth._viewer_lists) == 1
    synth._viewer_lists.clear()


def test_training_index_dedupes_and_sorts_only_when_needed_with_the_pandas_result():
    """``_by_user`` (the Recommender's training-ratings index) equals drop_duplicates(keep
    last) + stable sort by user, for frames with repeats, without, and already sorted."""
    from src.models.predict_model import _by_user

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"userId": rng.integers(0, 50, 3000), "itemId": rng.integers(0, 80, 3000) * 10**9,
                       "rating": rng.random(3000)})
    for frame in (df, df.drop_duplicates(["userId", "itemId"])):
        ref = frame.drop_duplicates(["userId", "itemId"], keep="last").sort_values("userId", kind="stable")
        pd.testing.assert_frame_equal(_by_user(frame), ref)
        ordered = ref.sort_values(["userId", "itemId"])
        pd.testing.assert_frame_equal(_by_user(ordered), ordered)
