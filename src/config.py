"""The one place for StreamRec's paths, file names, column names and tunable parameters.

Stages import from here; nobody builds a data path from strings elsewhere. Paths hang off
a :class:`Paths` value so a test or a server can point a whole stage at another workspace
(``Paths.from_root(tmp)``, or ``STREAMREC_HOME=/some/dir``) without touching the repo.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from src.utils.paths import project_root

PROJ_ROOT: Path = project_root()

# Real sample data beside the checkout (read-only; never copied into the repo).
SHARED_DATA_DIR: Path = Path(
    os.environ.get("STREAMREC_SHARED_DATA", PROJ_ROOT.parent / "shared" / "data" / "movies")
)


@dataclass(frozen=True)
class Paths:
    """Every folder and file a StreamRec workspace uses, derived from one root."""

    root: Path

    @classmethod
    def from_root(cls, root: str | os.PathLike) -> "Paths":
        """Build the paths of a workspace rooted at ``root`` (folders are not created)."""
        return cls(Path(root).resolve())

    # --- folders (cookiecutter-data-science layout) ---
    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def raw(self) -> Path:
        return self.data / "raw"

    @property
    def interim(self) -> Path:
        return self.data / "interim"

    @property
    def processed(self) -> Path:
        return self.data / "processed"

    @property
    def external(self) -> Path:
        return self.data / "external"

    @property
    def quarantine(self) -> Path:
        return self.interim / "quarantine"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def figures(self) -> Path:
        return self.reports / "figures"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    # --- processed files ---
    @property
    def merged(self) -> Path:
        """The merged catalogue, one row per title (``merged_data6.csv``)."""
        return self.processed / "merged_data6.csv"

    @property
    def etl_report(self) -> Path:
        return self.processed / "etl_report.json"

    @property
    def ratings(self) -> Path:
        """Cleaned MovieLens ratings with a ``tmdbId`` column mapped through links."""
        return self.processed / "ratings.csv"

    @property
    def links(self) -> Path:
        return self.processed / "links.csv"

    @property
    def features(self) -> Path:
        return self.processed / "features.parquet"

    @property
    def updates(self) -> Path:
        """Batch reports of incremental catalogue updates."""
        return self.processed / "updates"

    # --- external / serving ---
    @property
    def ratings_db(self) -> Path:
        """SQLite store of ratings given through the API/UI."""
        return self.external / "ratings.db"

    @property
    def inbox(self) -> Path:
        """Drop folder for new catalogue batches (``invoke update --inbox``)."""
        return self.external / "incoming"

    # --- models ---
    @property
    def model_bundle(self) -> Path:
        return self.models / "svd_model.pkl"

    @property
    def best_params(self) -> Path:
        return self.models / "svd_best_params.json"

    @property
    def metrics(self) -> Path:
        return self.reports / "metrics.json"

    @property
    def benchmarks(self) -> Path:
        return self.reports / "benchmarks.md"

    def ensure(self) -> "Paths":
        """Create every folder of the workspace; return self."""
        for p in (
            self.raw, self.interim, self.processed, self.external, self.quarantine,
            self.models, self.figures, self.updates, self.inbox,
        ):
            p.mkdir(parents=True, exist_ok=True)
        return self


PATHS = Paths.from_root(PROJ_ROOT)

# --- raw input file names, searched in data/raw (plain or .gz) in this order ---
RAW_MOVIES_NAMES = ("movies_dataset.csv", "movies_metadata.csv", "tmdb_5000_movies.csv")
RAW_CREDITS_NAMES = ("credits.csv", "credits_sample.csv")
RAW_KEYWORDS_NAMES = ("keywords.csv",)
RAW_LINKS_NAMES = ("links.csv", "links_small.csv")
RAW_RATINGS_NAMES = ("ratings.csv", "ratings_small.csv")
# ETL (src.data.make_dataset): a credits file at least this big (MB on disk) is parsed and
# flattened in a second process while the main one handles the other inputs (the two
# halves take similar time at full scale); smaller ones stay in-process (no ~1 s spawn).
ETL_PARALLEL_CREDITS_MIN_MB = 16.0

# --- column names (one spelling everywhere) ---
ID_COL = "id"            # catalogue (TMDB) id
USER_COL = "userId"
ITEM_COL = "movieId"     # MovieLens item id
TMDB_COL = "tmdbId"
RATING_COL = "rating"
TIMESTAMP_COL = "timestamp"
# Item column of model-ready ratings: the catalogue id (tmdbId) when links map it, else movieId.
ITEM_ID_COL = "itemId"
LIST_SEP = "|"           # separator of list-valued cells in merged_data6.csv / features

# --- reproducibility ---
SEED = 0

# --- synthetic demo data (src.data.synthetic) ---
# Sizes per scale. "small" must generate in < 3 s so the whole pipeline runs in well under a
# minute; "full" mirrors The Movies Dataset (45k titles, ~190 MB credits) and MovieLens (1M+).
# messy_* are the deliberately broken movie rows planted for the ETL (see synthetic_manifest.json).
SYNTHETIC_SCALES = {
    "small": {
        "n_movies": 2_000, "n_users": 300, "mean_ratings_per_user": 100,
        "mean_cast": 8, "mean_crew": 6, "mean_keywords": 6,
        "messy_shifted": 3, "messy_bad_id": 2, "messy_exact_dup": 3, "messy_near_dup": 3,
        "messy_mdy_date": 20, "messy_upper_bool": 20, "messy_missing_numeric": 20,
        "messy_popularity_text": 10, "links_no_tmdb": 5, "links_unknown_tmdb": 3,
        "orphan_side_rows": 2,
    },
    "full": {
        "n_movies": 45_500, "n_users": 12_000, "mean_ratings_per_user": 90,
        "mean_cast": 12, "mean_crew": 10, "mean_keywords": 8,
        "messy_shifted": 3, "messy_bad_id": 5, "messy_exact_dup": 15, "messy_near_dup": 15,
        "messy_mdy_date": 300, "messy_upper_bool": 300, "messy_missing_numeric": 300,
        "messy_popularity_text": 100, "links_no_tmdb": 30, "links_unknown_tmdb": 20,
        "orphan_side_rows": 10,
    },
}
SYNTHETIC_MIN_RATINGS_PER_USER = 20
SYNTHETIC_MANIFEST = "synthetic_manifest.json"

# --- features (issue 3) ---
FOCUS_GENRES = ("Drama", "Comedy", "Horror", "Romance")
# score_final = weighted sum of scaled vote_average, log vote_count and log popularity.
SCORE_WEIGHTS = {"vote_average": 0.5, "vote_count": 0.3, "popularity": 0.2}
WR_VOTE_QUANTILE = 0.90  # m in the IMDB weighted rating = this quantile of vote_count
# Fixed log references for score_final: log1p(x)/log1p(REF), clipped to 1. Fixed (not the
# catalogue's min/max) so a title's score depends only on its own numbers and stays put when
# the updater adds titles. ~99.9th percentile of TMDB (references/features.md).
SCORE_VOTE_COUNT_REF = 10_000.0
SCORE_POPULARITY_REF = 500.0
TOP_CAST = 3
RUNTIME_BINS = (90, 120, 150)  # minutes: <90, 90-120, 120-150, >150 (left-closed), else "unknown"
GENRE_PREFIX = "genre_"        # dummy column = GENRE_PREFIX + genre name with spaces as "_"

# --- models (issue 4) ---
RATING_SCALE = (0.5, 5.0)
SVD_DEFAULT_PARAMS = {"n_factors": 100, "n_epochs": 20, "lr_all": 0.005, "reg_all": 0.02}
# Tune grid (references/models.md): lr_all/reg_all set the factor step/penalty; the biases get
# their own gentle step and light penalty (lr_bu/lr_bi/reg_bu/reg_bi), and a small
# init_std_dev, which together moved SVD from ~0.875 to ~0.864 RMSE on ratings_small.
SVD_PARAM_GRID = {
    "n_factors": [200, 300],
    "n_epochs": [30, 50],
    "lr_all": [0.012, 0.015],
    "reg_all": [0.08, 0.1],
    "init_std_dev": [0.02, 0.05],
    "lr_bu": [0.003], "lr_bi": [0.003], "reg_bu": [0.0], "reg_bi": [0.05],
}
CV_FOLDS = 5
CV_RANDOM_STATE = 0          # surprise KFold seed: every rating model is scored on the same folds
# Tuned SVD (`invoke tune` on ratings_small; references/models.md): what `train` fits and
# `evaluate` reports as svd_tuned when no models/svd_best_params.json exists.
SVD_TUNED_PARAMS = {"n_factors": 300, "n_epochs": 30, "lr_all": 0.015, "reg_all": 0.08,
                    "init_std_dev": 0.02, "lr_bu": 0.003, "lr_bi": 0.003, "reg_bu": 0.0,
                    "reg_bi": 0.05}
SVD_TUNE_N_ITER = None       # RandomizedSearchCV candidates; None = the full SVD_PARAM_GRID (32)
SVD_TUNE_FOLDS = 3
SVD_TUNE_N_JOBS = 1          # folds in parallel; 1 keeps a shared 2-core box usable
# Item-based KNNBaseline; ALS baselines with these penalties fit ratings_small better than
# Surprise's defaults (reg_u 15, reg_i 10, 10 epochs): RMSE 0.8748 -> 0.8730 on one fold.
KNN_BASELINE_PARAMS = {"k": 40, "sim_options": {"name": "pearson_baseline", "user_based": False},
                       "bsl_options": {"method": "als", "n_epochs": 20, "reg_u": 10, "reg_i": 3}}
# Evaluation-only blends: fixed-weight average of models' estimates on the same CV folds.
RATING_BLENDS = {"svd_knn_blend": {"svd_tuned": 0.5, "knn_baseline": 0.5}}
RMSE_TARGET = 0.865          # best CV RMSE on ratings_small must reach this (issue 4)
TOPN_K = 10
TOPN_TEST_FRACTION = 0.2
RELEVANT_THRESHOLD = 4.0
# Top-N ranker (src.models.topn): EASE (Steck 2019) over the implicit user x item matrix.
EASE_LAMBDA = 200.0          # L2 on the item-item weights; tuned on ratings_small (references/recommending.md)
EASE_FIT_THRESHOLD = 3.0     # a rating >= this is an interaction (1) in the X that B is fitted on
EASE_MIN_COUNT = 3           # keep items with >= this many interactions (P is items^2 float32)
EASE_MAX_ITEMS = 20_000      # hard cap on the item set, most-rated first (20k items -> 1.6 GB)
EASE_SCORE_OFFSET = 2.0      # history weight at scoring = max(rating - offset, 0): 1-2★ pull nothing
GENRE_AFFINITY_WEIGHT = 0.3   # β of the served blend cf/max(cf) + β·genre affinity (topn.blend_genre_affinity)
CONTENT_MAX_FEATURES = 50_000  # TF-IDF vocabulary cap for similar_titles
HYBRID_CANDIDATES = 50       # similar_titles(user_id=...) re-ranks this many content neighbours by CF
RECOMMEND_PRECOMPUTE_MB = 256  # known users' blended top-N scores kept in memory at load (users x ranker
                              # items float32); over this the scores are computed per request

# --- serving (issue 5) ---
API_HOST = "127.0.0.1"
API_PORT = 8000
MAX_N = 100
# Recommendation replies kept in memory, keyed by model, user, filters and the user's stored
# ratings (so a new rating or a reload never serves a stale list). 0 disables the cache.
RECOMMEND_CACHE_SIZE = 4096

# --- catalogue updates (issue 6, src.data.update) ---
# Retrain (`invoke update --retrain`) only once this many viewer ratings reached the SQLite
# feedback store since the model's created_at: retraining on a handful is wasted minutes.
RETRAIN_MIN_NEW_RATINGS = 100
UPDATE_SERVER_URL_ENV = "STREAMREC_SERVER_URL"  # when set, POST {url}/admin/reload after a swap
UPDATE_RELOAD_TIMEOUT_S = 5.0                   # short: a slow/down server must not stall cron
UPDATE_PAUSE_ENV = "STREAMREC_UPDATE_PAUSE_AT"  # crash tests: sleep at this step so they can kill
UPDATE_PAUSE_SECONDS_ENV = "STREAMREC_UPDATE_PAUSE_SECONDS"
INBOX_PROCESSED = "processed"  # sub-folders of paths.inbox that files are moved to
INBOX_FAILED = "failed"
# Sibling files of an inbox batch `<stem>.csv[.gz]`: `<stem>.credits.csv[.gz]`, `<stem>.keywords.csv[.gz]`.
INBOX_SIBLING_KINDS = ("credits", "keywords")
