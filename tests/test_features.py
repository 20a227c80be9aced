"""Tests of the feature stage: score_final / weighted_rating properties, derived columns on
hand-made rows, the schema check, the merged-CSV reader, and main on the real sample data.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.config import SCORE_POPULARITY_REF, SCORE_VOTE_COUNT_REF, SCORE_WEIGHTS
from src.features.build_features import build_features, main, runtime_bucket
from src.features.merged_io import read_merged, type_merged
from src.features.schema import FeatureSchemaError, validate_features
from src.features.scoring import score_final, weighted_rating, weighted_rating_params


def _merged_rows() -> pd.DataFrame:
    """Three titles in the merged_data6 text form: a classic, a 0-vote series, a huge-popularity hit."""
    return pd.DataFrame({
        "id": ["862", "5", "19995"],
        "media_type": ["movie", "series", ""],
        "title": ["Toy Story", "NA", "Avatar"],
        "overview": ["Toys come ALIVE.", "", "A marine on Pandora."],
        "tagline": ["", "", "Enter the World"],
        "release_date": ["1995-10-30", "", "2009-12-10"],
        "adult": ["False", "", "FALSE"],
        "runtime": ["81", "", "150"],
        "popularity": ["21.9", "0.5", "875.6"],
        "vote_average": ["7.7", "0", "7.2"],
        "vote_count": ["5415", "0", "11800"],
        "genres": ["Animation|Comedy|Family", "Drama", "Action|Science Fiction"],
        "keywords": ["jealousy|toy", "", "space war|alien"],
        "directors": ["John Lasseter", "", "James Cameron"],
        "cast": ["Tom Hanks|Tim Allen|Don Rickles|Jim Varney", "", "Sam Worthington|Zoë Saldana"],
        "collection": ["Toy Story Collection", "", "Avatar Collection"],
    })


@pytest.fixture()
def feats() -> pd.DataFrame:
    return build_features(type_merged(_merged_rows())).set_index("id")


def test_zero_vote_title_gets_defined_scores(feats):
    row = feats.loc[5]
    pop_part = SCORE_WEIGHTS["popularity"] * math.log1p(0.5) / math.log1p(SCORE_POPULARITY_REF)
    assert row["score_final"] == pytest.approx(pop_part)  # no vote term, no NaN
    m, c = weighted_rating_params(feats["vote_average"], feats["vote_count"])
    assert row["weighted_rating"] == pytest.approx(c)
    # C ignores the placeholder 0 average of the unvoted title.
    assert c == pytest.approx((7.7 + 7.2) / 2)


def test_huge_popularity_is_capped_and_score_in_unit_range(feats):
    assert feats["score_final"].between(0, 1).all()
    avatar = feats.loc[19995]
    expected = (SCORE_WEIGHTS["vote_average"] * 0.72
                + SCORE_WEIGHTS["vote_count"] * 1.0     # 11800 > reference 10000: capped
                + SCORE_WEIGHTS["popularity"] * 1.0)    # 875 > reference 500: capped
    assert avatar["score_final"] == pytest.approx(expected)
    assert feats["score_final"].idxmax() == 19995


def test_derived_columns(feats):
    toy, series, avatar = feats.loc[862], feats.loc[5], feats.loc[19995]
    assert (toy["year"], toy["decade"]) == (1995, 1990)
    assert pd.isna(series["year"]) and pd.isna(series["decade"])
    assert feats["year"].dtype == "Int64"
    assert toy["runtime_bucket"] == "<90"
    assert series["runtime_bucket"] == "unknown"          # missing runtime
    assert avatar["runtime_bucket"] == ">150"             # left-closed bins: 150 is not 120-150
    assert toy["cast_top3"] == "Tom Hanks|Tim Allen|Don Rickles"
    assert avatar["media_type"] == "movie" and series["media_type"] == "series"
    assert series["title"] == "NA"                        # text "NA" is a title, not a missing value
    text = toy["text"]
    for token in ("toys come alive.", "johnlasseter", "tomhanks", "animation", "jealousy"):
        assert token in text
    assert text == text.lower() and "  " not in text
    assert "zoësaldana" in avatar["text"] and "sciencefiction" in avatar["text"]
    assert "space war" in avatar["text"]                  # keywords stay words
    dummies = [c for c in feats.columns if c.startswith("genre_")]
    assert set(dummies) == {"genre_Action", "genre_Animation", "genre_Comedy", "genre_Drama",
                            "genre_Family", "genre_Science_Fiction"}
    assert all(feats[c].dtype == "int8" for c in dummies)
    assert feats.loc[19995, "genre_Science_Fiction"] == 1 and feats.loc[862, "genre_Drama"] == 0
    assert feats[dummies].sum(axis=1).tolist() == [3, 1, 2]


def test_runtime_bucket_edges():
    got = runtime_bucket(pd.Series([0, 1, 89.9, 90, 119, 120, 149, 150, 400, np.nan, -5]))
    assert got.tolist() == ["unknown", "<90", "<90", "90-120", "90-120", "120-150", "120-150",
                            ">150", ">150", "unknown", "unknown"]


_avg = st.floats(0, 10, allow_nan=False)
_cnt = st.floats(0, 1e6, allow_nan=False)
_pop = st.floats(0, 1e4, allow_nan=False)
_step = st.floats(0, 1e3, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(_avg, _cnt, _pop, _step)
def test_score_final_monotone_in_each_input(avg, cnt, pop, step):
    base = score_final(avg, cnt, pop)[0]
    assert 0.0 <= base <= 1.0
    assert score_final(min(avg + step / 100, 10.0), cnt, pop)[0] >= base - 1e-12
    assert score_final(avg, cnt + step, pop)[0] >= base - 1e-12
    assert score_final(avg, cnt, pop + step)[0] >= base - 1e-12


def test_score_final_strictly_increases_below_the_caps():
    assert score_final(7, 100, 10)[0] < score_final(8, 100, 10)[0]
    assert score_final(7, 100, 10)[0] < score_final(7, 1000, 10)[0]
    assert score_final(7, 100, 10)[0] < score_final(7, 100, 100)[0]
    # the first vote switches the average term on
    assert score_final(7, 0, 10)[0] < score_final(7, 1, 10)[0]
    assert score_final(0, SCORE_VOTE_COUNT_REF, 0)[0] == pytest.approx(SCORE_WEIGHTS["vote_count"])


def test_score_final_nan_and_bad_input():
    out = score_final([np.nan, 5], [np.nan, np.nan], [np.nan, 1.0])
    assert not np.isnan(out).any() and out[0] == 0.0
    with pytest.raises(ValueError, match="vote_count"):
        score_final(5, -1, 1)
    with pytest.raises(ValueError, match="vote_average"):
        score_final(11, 1, 1)
    with pytest.raises(ValueError, match="weights"):
        score_final(5, 1, 1, weights={"vote_average": 1.0, "vote_count": 0.5, "popularity": 0.0})
    with pytest.raises(ValueError, match="weights"):
        score_final(5, 1, 1, weights={"vote_average": 1.0})


def test_weighted_rating_properties():
    m, c = 100.0, 6.0
    wr = weighted_rating([9.0, 9.0, 9.0, 3.0], [0, 100, 1e7, 100], m, c)
    assert wr[0] == c                                  # no votes -> the prior
    assert wr[1] == pytest.approx((9.0 + c) / 2)       # v == m -> halfway
    assert wr[2] == pytest.approx(9.0, abs=1e-3)       # many votes -> own average
    assert wr[3] == pytest.approx((3.0 + c) / 2)
    assert weighted_rating([5.0], [0], 0.0, 6.5)[0] == 6.5  # 0/0 case defined
    m2, c2 = weighted_rating_params([1, 2, 3, 4, 0], [10, 20, 30, 40, 0], quantile=0.5)
    assert (m2, c2) == (20.0, 2.5)


def test_schema_names_missing_and_wrongly_typed_columns(feats):
    good = feats.reset_index()
    assert validate_features(good) is good
    with pytest.raises(FeatureSchemaError, match="missing column 'score_final'"):
        validate_features(good.drop(columns=["score_final"]))
    bad = good.assign(year=good["year"].astype("str"))
    with pytest.raises(FeatureSchemaError, match="'year' should be Int64"):
        validate_features(bad)
    with pytest.raises(FeatureSchemaError, match="genre_Drama' should be int8"):
        validate_features(good.assign(genre_Drama=good["genre_Drama"].astype("int64")))
    with pytest.raises(FeatureSchemaError, match="score_final"):
        validate_features(good.assign(score_final=[0.1, np.nan, 0.2]))
    with pytest.raises(FeatureSchemaError, match="duplicate ids"):
        validate_features(pd.concat([good, good.iloc[:1]], ignore_index=True))
    with pytest.raises(FeatureSchemaError, match="media_type"):
        validate_features(good.assign(media_type=["movie", "film", "series"]))
    # every problem is reported at once
    with pytest.raises(FeatureSchemaError) as info:
        validate_features(good.drop(columns=["text", "title"]))
    assert len(info.value.problems) == 2


def test_reader_rejects_bad_cells_naming_the_column():
    with pytest.raises(ValueError, match="'vote_count'"):
        type_merged(_merged_rows().assign(vote_count=["12", "many", "3"]))
    with pytest.raises(ValueError, match="'id'"):
        type_merged(_merged_rows().assign(id=["1", "1997-08-20", "3"]))
    with pytest.raises(ValueError, match="'adult'"):
        type_merged(_merged_rows().assign(adult=["False", "maybe", "True"]))
    with pytest.raises(ValueError, match="title"):
        build_features(type_merged(_merged_rows()).drop(columns=["title"]))


def test_main_on_handmade_workspace(workspace):
    _merged_rows().to_csv(workspace.merged, index=False)
    out = main(paths=workspace)
    assert out == workspace.features
    df = validate_features(pd.read_parquet(out))  # types survive the parquet round trip
    assert len(df) == 3 and df["id"].tolist() == [862, 5, 19995]
    assert df.loc[df["id"] == 5, "title"].item() == "NA"
    assert read_merged(workspace.merged).shape[0] == 3
    with pytest.raises(FileNotFoundError, match="merged"):
        main(paths=type(workspace).from_root(workspace.root / "nowhere"))


def test_real_features(real_features):
    df = validate_features(pd.read_parquet(real_features.features))
    merged = pd.read_csv(real_features.merged, dtype=str, keep_default_na=False)
    assert len(df) == len(merged) and df["id"].is_unique
    toy = df.set_index("id").loc[862]
    assert toy["genre_Animation"] == 1 and toy["genre_Family"] == 1 and toy["genre_Drama"] == 0
    assert "johnlasseter" in toy["text"]
    assert toy["year"] == 1995
    genres = {g for cell in merged["genres"] for g in cell.split("|") if g}
    assert {c for c in df.columns if c.startswith("genre_")} == {
        "genre_" + g.replace(" ", "_") for g in genres}
    assert {"genre_Drama", "genre_Comedy", "genre_Horror", "genre_Romance"} <= set(df.columns)
    assert df["score_final"].between(0, 1).all() and df["weighted_rating"].notna().all()
    # well-voted titles outrank obscure ones on average
    assert (df.loc[df["vote_count"] >= 1000, "score_final"].mean()
            > df.loc[df["vote_count"] < 100, "score_final"].mean())
