"""Tunable parameters of every stage: seeds, synthetic sizes, features, models, serving, updates.

Changing a number here changes behaviour; each says why it has its value.
"""

from __future__ import annotations

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
# Data provenance (src.data.provenance): captions show this many hex digits of a sha256 —
# 48 bits, unambiguous among a project's inputs and short enough for a figure footer;
# reports and metrics.json keep the full digest.
PROVENANCE_SHA_CHARS = 12
# Figures (src.visualization): 110 dpi keeps a 7.5-inch figure readable on a laptop screen
# and each PNG under ~100 kB in the report.
FIGURE_DPI = 110

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
# Validated rating blend (src.models.rating_blend, references/models.md): bases fitted on
# (1 - validation_fraction) of the training ratings, ridge weights (on standardised features,
# alpha = L2 penalty) on the rest, over the bases' estimates, the meta features and their
# products; ``refit`` then refits the bases on all training ratings (~0.010 RMSE of the gain).
# The item kNN (baseline residuals) enters with 40 and 500 neighbours (one fit), a 50-factor
# SVD next to the tuned one: leaving any one base out cost 0.0003-0.002 RMSE on CV fold 0,
# SVD++ and a user kNN added nothing (bench/bench_rating_blend.py; references/models.md).
RATING_BLEND_PARAMS = {
    "bases": {
        "svd_tuned": {"kind": "svd", "params": SVD_TUNED_PARAMS},
        "svd_f50": {"kind": "svd", "params": {**SVD_TUNED_PARAMS, "n_factors": 50, "reg_all": 0.05}},
        "knn_40": {"kind": "knn_baseline", "params": KNN_BASELINE_PARAMS},
        "knn_500": {"kind": "knn_baseline", "params": {**KNN_BASELINE_PARAMS, "k": 500}},
        "baseline_only": {"kind": "baseline_only",
                          "params": {"bsl_options": KNN_BASELINE_PARAMS["bsl_options"]}},
    },
    "validation_fraction": 0.2,   # as VALIDATION_FRACTION (defined below, for the top-N tuning)
    "ridge_alpha": 1.0,
    "meta_features": ("log_n_user", "log_n_item", "log_n_user_sq", "log_n_item_sq",
                      "log_n_user_x_log_n_item", "std_user", "std_item"),
    "refit": True,
}
RMSE_TARGET = 0.865          # best CV RMSE on ratings_small must reach this (issue 4)
RATING_BLEND_RMSE_TARGET = 0.855  # the validated rating blend's CV RMSE on ratings_small (issue 13)
ML100K_RMSE_TARGET = 0.895   # issue 13: a MovieLens-100k run's CV RMSE (published Surprise SVD 0.934,
                             # SVD++ 0.919); bench_rating_blend --data ml100k-style runs a synthetic
                             # ML-100k-SHAPED set (no ML-100k file here), where this value is not comparable
ML100K_PUBLISHED_SVD_RMSE = 0.934  # Surprise's published 5-fold SVD (default params) on ML-100k
TOPN_K = 10
TOPN_TEST_FRACTION = 0.2
RELEVANT_THRESHOLD = 4.0
# Evaluation protocols (src.evaluation.protocols; references/recommending.md).
PROTOCOL_SEEDS = (0, 1, 2)        # every seeded protocol runs 3 times: seed-to-seed spread (0.309-0.321
                                  # NDCG@10 on ratings_small) exceeds most model differences
COLD_USER_SHARE = 0.2             # random protocol: this share of users is cut to 1-5 training ratings
COLD_USER_RATINGS = (1, 5)        # (the viewers a new service has most of)
TEMPORAL_TRAIN_SHARE = 0.8        # temporal protocol: global time cut at this quantile of timestamps
NEW_TITLE_SHARE = 0.1             # new-title protocol: the 10% most recent titles (by first rating)
VALIDATION_FRACTION = 0.2         # validation split carved from training (never test) for tuning
# Size budgets of `invoke evaluate` (src.evaluation.budgets; issue 14 "full scale"): past each one a
# stage samples or skips instead of running for an hour on a 2-core box, and metrics.json `sampled` /
# metrics.md "Limited by size" say what and why. Every budget sits above ratings_small (100k ratings,
# 610 users, ~4k SLIM columns) and the small synthetic set, which run in full and unchanged; the full
# synthetic set (1.09M ratings, 12k users, 45.5k titles) trips each (references/scaling.md: stages).
EVAL_BUDGETS = {
    "cv_max_ratings": 300_000,    # rating CV: past it, a seeded sample of USERS (all their ratings) up to it
    "max_eval_users": 3_000,      # top-N and each protocol run: evaluated users, a seeded sample of those
                                  # with a relevant test title, the same for every model (all titles rankable)
    "seeds_max_ratings": 300_000,  # protocols: past it, the first of PROTOCOL_SEEDS only (no spread)
    "tune_max_ratings": 300_000,   # protocols: past it, no validation tuning: served config, no `tuned` row
    "slim_max_items": 10_000,     # protocols: the SLIM peer (one ElasticNet per column) is skipped past it
    "ease_max_items": 12_000,     # top-N and protocols: EASE (alone and inside the served chain) keeps at most
                                  # this many most-rated items; = EASE_MAX_ITEMS, so evaluate fits what is
                                  # served (raise the served cap on a bigger machine and this keeps evaluate's
                                  # 4+ EASE fits, each cubic in items, within time)
}
# Grids of src.evaluation.protocols.tune_on_validation, searched one knob at a time (a full
# product would be ~500 fits; each point is one served evaluation, ~2-3 s on ratings_small).
# (π₀, p) pairs of the popularity prior tried together: a faster fade (larger p) needs a larger π₀
# to keep the same pull on a 1-rating viewer (π(1) = π₀/2^p at H = 1), so one alone would stall.
PRIOR_GRID = ((1.0, 1.0), (3.0, 1.0), (10.0, 1.0), (30.0, 1.0), (30.0, 2.0), (100.0, 2.0), (300.0, 2.0),
              (300.0, 3.0), (1000.0, 3.0), (3000.0, 3.0))
PRIOR_HALF_GRID = (1.0, 3.0)         # its half-life H (ratings): how fast the prior fades with history
EASE_LAMBDA_GRID = (200.0, 400.0)    # EASE λ tried on validation
NEW_TASTE_GRID = (0.1, 0.3, 1.0, 1 / 0.3)  # ρ, on the new-title validation split (order among new titles)
CHART_NEW_GRID = (0.1, 0.3, 1.0)     # chart_new, on the random validation split (new titles' level)
NEW_FOCUS_WEIGHT_GRID = (0.0, 3.0, 10.0, 30.0)  # μ of the focus level, random validation split (a level)
NEW_FOCUS_THRESHOLD_GRID = (0.05, 0.1, 0.2)     # τ, new-title validation split (which new titles it lifts)
DEBIAS_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)  # δ: the largest whose validation NDCG@10 stays within
DEBIAS_NDCG_TOLERANCE = 0.02                 # this share of the best is kept: the bar (coverage
                                             # >= 0.10 with random NDCG within 2% of the best model), on
                                             # the random validation split AND a time cut within the
                                             # temporal training side (δ costs most on a time cut)
# Top-N ranker (src.models.topn): EASE (Steck 2019) over the implicit user x item matrix.
EASE_LAMBDA = 400.0          # L2 on the item-item weights; picked on a validation split of training by every
                             # `invoke evaluate` (ratings_small: 400 over 200, references/recommending.md)
EASE_FIT_THRESHOLD = 3.0     # a rating >= this is an interaction (1) in the X that B is fitted on
EASE_MIN_COUNT = 3           # keep items with >= this many interactions (P is items^2 float32)
EASE_MAX_ITEMS = 12_000      # cap on the item set, most-rated first. Its fit is cubic in items: full synthetic
                             # scale (38k eligible titles, 1.09M ratings; bench_ease_cap.py, one hold-out):
                             # 12k items NDCG@10 0.1713 in 27 s, 20k 0.1717 in 108 s (16k 0.1718, 8k 0.1710),
                             # i.e. 99.7% of the best for a quarter of the time, which keeps `invoke train`
                             # within 60 s on 2 cores. Titles past it get the chain's content and chart terms
EASE_SCORE_OFFSET = 2.0      # history weight at scoring = max(rating - offset, 0): 1-2★ pull nothing
# BLAS threads for EASE's dense inverse (LAPACK potrf + potri). OpenBLAS's threaded LAPACK
# stalls when its threads share the cores with other work (measured, 2 cores at load ~4:
# n = 6,000 in 18-24 s on 2 threads, 6.6-7.2 s on 1), so "auto" (0) uses 1 thread while the
# 1-min load average shows other work (>= EASE_BUSY_LOAD beyond this process), else BLAS's own.
EASE_BLAS_THREADS = 0
EASE_BUSY_LOAD = 0.5
# `invoke train` inverts EASE's Gram matrix in a second process while the SVD fits in this one
# (scipy's LAPACK wrappers keep the GIL, so a thread would not overlap), from this many items
# up: below it the ~1-2 s of starting that process costs more than the overlap saves.
EASE_INVERSE_PROCESS_MIN_ITEMS = 6_000
# Memory guards (src.utils.memory): a dense items² allocation is checked before it is made.
# Half of MemAvailable: the fit's own sparse inputs, the rest of the process and the other
# stages/users of a shared 2-core box need the other half. STREAMREC_DENSE_BUDGET_MB (env)
# or the ``memory_budget_mb`` argument set an absolute budget instead (tests, containers).
DENSE_MEMORY_FRACTION = 0.5
DENSE_BUDGET_ENV = "STREAMREC_DENSE_BUDGET_MB"
# Top-N evaluation scores users in row blocks so no users x items float64 matrix is held
# at once: at most this many bytes per block (64 MiB; 45k titles -> ~180 users a block).
SCORE_BLOCK_BYTES = 64 * 2**20
# EASE's fit holds the float32 Gram matrix, which LAPACK inverts in place (topn.spd_inverse), plus
# the sparse product's dense copy while it is made: counted as 3 n² arrays to leave room for
# BLAS workspace and the weights' contiguous copy (12k items peak ~1.7 GB, 20k ~4.8 GB); over
# budget it keeps the most-rated items that fit.
EASE_DENSE_MATRICES = 3
EASE_DENSE_ITEMSIZE = 4
# Surprise's pearson_baseline keeps freq, prods, sq_diff_i, sq_diff_j and sim: 5 n² 8-byte
# arrays (45k items -> 76 GiB), so past ~10k items on a 24 GiB box KNNBaseline is skipped.
KNN_DENSE_MATRICES = 5
KNN_DENSE_ITEMSIZE = 8
# Factor ranker (src.models.factor_ranker): implicit-feedback ALS (Hu, Koren & Volinsky 2008)
# on the same X as EASE (rating >= EASE_FIT_THRESHOLD). Linear in ratings, so it ranks every
# title where EASE's items² cannot. 64 factors x 15 iterations: the issue measured rank 64 at
# 23M ratings in 62 s / 2.2 GB; alpha (confidence of a positive) 1 and reg 1 measured best
# NDCG@10 of {1, 10, 40} x {0.01, 0.1, 1} on the ratings_small hold-out: 0.248 (EASE 0.309,
# popularity 0.144; references/scaling.md).
ALS_FACTORS = 64
ALS_ITERATIONS = 15
ALS_REGULARIZATION = 1.0
ALS_ALPHA = 1.0
# The `als` evaluation peer of the protocols (src.evaluation.protocols; never served): rank,
# λ and α picked on the validation split by bench/tune_baselines.py (never test), separate
# from the ALS_* training-engine defaults above so tuning the peer leaves `invoke train` alone.
ALS_PEER_PARAMS = {"factors": 64, "regularization": 50.0, "alpha": 5.0}
# Worker threads of implicit's solver (0 = one per core); BLAS itself is pinned to 1 thread
# during the fit (threadpoolctl) because implicit parallelises over users and oversubscribes.
ALS_NUM_THREADS = 0
# SLIM-style baseline (src.models.slim; Ning & Karypis 2011): an evaluation peer of EASE in
# every protocol but new_title, never served. One sklearn ElasticNet(positive) per item column
# on the same X as EASE; α / ρ are sklearn's (its loss is scaled by 1/(2·n_users)).
SLIM_ALPHA = 0.3              # picked on the validation split (never test) by bench/tune_baselines.py:
SLIM_L1_RATIO = 0.001         # α 0.1-3 x ρ 0.001-0.01 exact, NDCG@10 0.1641 at (0.3, 0.001) vs EASE 0.1636;
                              # ρ 0.1-0.5 (sparser W) measured lower at every α (reports/benchmarks.md).
                              # ρ 0.001 is the grid's edge: W >= 0 does most of the sparsifying (15% dense)
SLIM_MIN_COUNT = 3            # items with >= this many interactions are columns (EASE_MIN_COUNT's rule)
SLIM_MAX_ITEMS = 20_000       # most-interacted first, as EASE_MAX_ITEMS: one regression per item
SLIM_NEIGHBOURS = None        # candidate items per column (the most co-occurring, fsSLIM); None = every
                              # co-occurring item, exact SLIM
SLIM_MAX_ITER = 10            # coordinate-descent epochs per column: a bounded baseline, not a converged one
SLIM_TOL = 1e-3               # sklearn's duality-gap tolerance (default 1e-4): looser, bounded like max_iter
SLIM_BLOCK = 256              # columns whose co-occurrence counts are dense at once (256 x n_items float64)
# Memory guard (as EASE's): W's entries while it is built (row, column int64 + float32 value)
SLIM_ENTRY_BYTES = 20
# Spark engine (src.models.spark_als): local[2] uses this box's 2 cores; the UI (a web server
# on :4040) is off because nobody watches a batch fit, and 2 shuffle partitions (Spark's 200
# is for clusters) keep a local fit from spending its time scheduling empty tasks.
SPARK_DEFAULT_MASTER = "local[2]"
SPARK_CONF = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2",
              "spark.driver.memory": "2g"}
# Spark's implicit confidence is 1 + alpha·r where implicit's is alpha·r: alpha - 1 trains
# the same objective. Spark scales regParam by each user's/item's count (ALS-WR), so its λ is
# smaller; the served user factors are re-solved with ALS_REGULARIZATION either way.
SPARK_ALS_REG = 0.01
# The Spark engine picks its regParam on a validation split before the final fit (issue 14):
# each candidate is fitted on a seeded 90% of the ratings and its lists (NDCG@10) are scored
# for up to SPARK_TUNE_USERS users' held-out ratings; then one fit on all ratings with the
# best. Two candidates a decade apart around SPARK_ALS_REG (each costs one more fit: ~9 min
# at 25M on local[2], what a cluster is for); fewer than two turns tuning off.
SPARK_TUNE_REGS = (0.01, 0.1)
SPARK_VALIDATION_SHARE = 0.1
SPARK_TUNE_USERS = 5000
# Predicted stars of a Spark-trained bundle: explicit MLlib ALS (same rank and iterations) on
# the ratings minus their mean, served as an SVD (src.models.spark_als._stars_svd). MLlib's
# own default regParam; ALS-WR scales it by each user's and item's count.
SPARK_STARS_REG = 0.1
# ANN over ALS item factors (src.models.factor_ann, hnswlib, inner product). M 16 and
# ef_construction 200 are hnswlib's recommended quality settings for dims ~64; the search
# asks ANN_CANDIDATES (50) neighbours at ef 100 and re-ranks them exactly, which measured
# recall@10 >= 0.99 vs exact search on ratings_small factors (the bar is 0.95).
ANN_M = 16
ANN_EF_CONSTRUCTION = 200
ANN_EF_SEARCH = 100
ANN_CANDIDATES = 50
# Serving factor (ALS) bundles without per-user work at load (src.models.pipeline.factor_candidates).
# At train time every known user's FACTOR_TOP_N best unseen ranker items (y·p) are stored in the
# bundle (int32 columns + float32 scores, memory-mapped at load: 160k users x 500 = 640 MB); a
# known user's request scores only those + the titles the ranker cannot score, exactly, through
# the chain. A viewer not in the table (folded in) gets FACTOR_ANN_CANDIDATES neighbours from the
# HNSW index (stored in the bundle when hnswlib is installed at train, else built at load).
# A list is widened past the row when a score bound says a title outside it could still rank
# (exact either way); 500 of 9k items: 12-58% of ratings_small lists need that (references/scaling.md).
FACTOR_TOP_N = 500
FACTOR_ANN_CANDIDATES = 500
FACTOR_PREFIX_TAIL_SHARE = 0.25  # a known user's filter that leaves < n of their ranked prefix: the
                                 # filter's titles outside it are scored exactly when they are at most
                                 # this share of the catalogue (one genre of 20: ~5%), else the
                                 # candidate path's bound pass decides
TRAIN_ENGINES = ("surprise", "implicit", "spark")  # invoke train --engine; "surprise" = SVD + EASE
GENRE_AFFINITY_WEIGHT = 0.3   # β of the served blend cf/max(cf) + β·genre affinity (pipeline.scorers); a
                              # product choice: measured ±0.002 NDCG@10, it lets a clear genre taste show
CONTENT_MAX_FEATURES = 50_000  # TF-IDF vocabulary cap for similar_titles
HYBRID_CANDIDATES = 50       # similar_titles(user_id=...) re-ranks this many content neighbours by CF
# --- the recommendation chain (src.models.pipeline; measured in references/recommending.md) ---
CONTENT_LIKED_THRESHOLD = 3.5  # a rating >= this puts a title in the viewer's content profile
                               # (the "what the viewer rated >= 3.5"; 3★ is lukewarm)
CONTENT_WEIGHT = 0.3           # γ: content bonus (1 − α)·γ·content of a title; a title nobody rated
                               # scores β·genre taste + γ·content. ratings_small, seed-0 split: γ 0.3
                               # NDCG@10 0.3062 / coverage 0.059 vs 0.3029 / 0.050 without content;
                               # γ 0.6 drops NDCG to 0.272 (references/recommending.md)
CONTENT_NEW_WEIGHT = 2.0       # γ_new: weight of the UNSCALED mean cosine to the liked titles for a title
                               # EASE cannot score (new): high only for a focused match (five 5★ lookalikes:
                               # ~0.25), ~0 for a diffuse long history, so random split NDCG@10 stays 0.3062
                               # at γ_new 0..4; scaling it per viewer instead flooded lists (0.6 -> 0.203)
CONTENT_MAP_K = 10             # a title EASE cannot score gets the CF score of its k nearest (TF-IDF)
CONTENT_MAP_SHRINK = 0.5       # scorable titles, weighted sim/(Σ sim + shrink): weak resemblance -> ~0
CONTENT_MAP_WEIGHT = 0.3       # weight of that mapped CF score (rated neighbours count with the viewer's
                               # own rating): random split 0.3062 at 0.3, 0.2964 at 1.0
CHART_NEW_WEIGHT = 0.1         # chart_new: a title EASE cannot score scores chart_new · (score_final + ρ·taste)
                               # (below): new titles have no rating count, TMDB votes stand in. This is their
                               # level against the titles EASE scores, tuned on the random validation split:
                               # 0.1 0.1777 NDCG@10, 0.3 0.1770 (they tied before the focus level), 1.0 floods
                               # lists (0.0949)
NEW_TITLE_TASTE_WEIGHT = 0.3   # ρ: a title EASE cannot score gets chart_new · (score_final + ρ · taste), taste =
                               # β·genre taste + γ_new·raw content + map weight·mapped CF; ρ orders new titles
                               # among themselves, chart_new sets their level against scored titles. Picked
                               # on the new-title validation split: 0.3 (NDCG@10 0.365 vs 0.286 at 1/0.3, the
                               # pre-issue-13 value; chart 0.330). Served since the focus level (below) lets a
                               # strong content match reach a short history's list without a large ρ
NEW_TITLE_FOCUS_WEIGHT = 10.0  # μ, τ: a title EASE cannot score also gets (1 − δ) · μ · max(raw − τ, 0), raw =
NEW_TITLE_FOCUS_THRESHOLD = 0.05 # the unscaled mean TF-IDF cosine to the viewer's liked titles: a focused viewer
                               # (liked titles near-duplicates of the new one: five 5★ lookalikes ~0.24) gets
                               # it into a short list, while the chart-led order (ρ 0.3) is left alone for
                               # everyone else (real new-title validation viewers: 99.9% of raw < 0.04).
                               # Re-tuned by `invoke evaluate` (μ random split, τ new-title split); at μ < ~7
                               # the test's viewer loses the title from the top-50 (tests/test_chain.py)
POPULARITY_PRIOR_POWER = 3.0   # p of π(L) = π₀ · (H/(H + L))^p: > 1 keeps the prior for 1-5 ratings and
                               # fades it faster for longer histories (tuned: 3, see π₀ below)
POPULARITY_PRIOR_GENRE = 0.5   # m: the prior's pop × (1 − m + m · the viewer's genre taste) (the chart
                               # within their genres); validation NDCG@10 m 0 0.1762, 0.5 0.1777, 0.75 0.1783,
                               # 1 0.1769: flat, not tuned
POPULARITY_PRIOR_LIKED = True  # the prior's pop counts Σ max(r − 2, 0) per title (how much it was liked)
                               # instead of its number of ratings: as a ranking alone, cold validation users
                               # 0.0871 -> 0.0964 NDCG@10; in the chain 0.1698 -> 0.1706 (all users)
POPULARITY_DEBIAS = 0.4        # δ: the personal part of a scored title × (1 − δ · log1p(n)/log1p(max n)),
                               # n its training ratings: EASE's lean on hits, traded for coverage. Tuned as the
                               # largest within DEBIAS_NDCG_TOLERANCE on the random validation split (δ 0.4:
                               # −1.8%) AND on a time cut within the temporal training side, which picks 0.2
                               # (0.4 costs −9% there). SERVED stays 0.4, a product choice: the coverage target
                               # (>= 0.10) needs it, and no δ meets the temporal 1.1× target with coverage >= 0.10
                               # (test frontier in references/recommending.md). It also keeps the strong prior
                               # from crowding a genre lover's CF picks (tests/test_recommend.py)
CONTENT_SHRINK = 20.0          # K of α = n/(n+K): the content bonus fades as a title gains n training
                               # ratings (half at n = K); K 5 -> 0.3042, 20 -> 0.3062, 50 -> 0.3063
POPULARITY_PRIOR_WEIGHT = 1000.0  # π₀ and H of the popularity prior π₀·(H/(H+L))^p × pop for a history
POPULARITY_PRIOR_HALF = 1.0    # of L ratings, pop = liked weight / max × (0.5 + 0.5 × genre taste). `invoke
                               # evaluate` tunes (π₀, p) on validation: (1000, 3) — 1 rating -> 125, 5 -> 4.6,
                               # 12 -> 0.46, 50 -> 0.008 — all / cold validation users NDCG@10 0.1777 / 0.0958
                               # vs (3, 1) 0.1703 (liked popularity alone on those cold users 0.0964). Served
                               # since the focus level (NEW_TITLE_FOCUS_*) keeps a new title matching a
                               # 5-rating viewer's five 5★ in their top-50 under it (tests/test_chain.py)
ARRAY_VERIFY_THREADS = 4  # a bundle's or serving cache's arrays are sha256-checked at load on up to this
                          # many threads (hashlib releases the GIL): at 25M ratings a 1.17 GB bundle
                          # and a 2.3 GB serving cache, one thread each core's worth of hashing
RECOMMEND_PRECOMPUTE_MB = 2048  # known users' ranked lists (prefix + per-genre lists, users x (depth +
                               # genres x RECOMMEND_GENRE_DEPTH) x 12 bytes: 12k users x 2400 = 330 MB,
                               # 162k users x (704 + 400) = 2 GB); memory-mapped from the serving cache
                               # and shared by every worker (it was 512 while each process held its own
                               # copy). Over this the same chunked computation runs per request
RECOMMEND_PRECOMPUTE_DEPTH = 2000  # ranked candidates kept per known user; a filter that leaves fewer than
                                   # n of them scores the user in full. Full synthetic scale (45.5k titles,
                                   # 20 genres, 300 users x 3 random filters): one genre misses 35% at 500,
                                   # 10% at 1000, 0.2% at 2000; two genres 6% / 0% / 0%
RECOMMEND_PRECOMPUTE_MIN_DEPTH = 500  # with more users than the budget holds at full depth, the depth
                                      # shrinks to fit, down to this; below it nothing is precomputed
RECOMMEND_GENRE_DEPTH = 20  # per known user, also the first titles of their order within each genre: a
                            # genres-only filter with n <= this is a lookup even when the prefix holds
                            # too few of those genres (factor model, 59k titles, 20 genres: 21% of
                            # one/two-genre requests missed the 2000-deep prefix); 0: off
RECOMMEND_GENRE_LISTS_MAX = 64  # more genres than this: no per-genre lists (their memory would pass the prefix's)
VIEWER_LISTS_CACHE = 2048      # the same ranked prefix for viewers known by their ratings only (signed up,
                               # or a known user with ratings stored since training): computed on their
                               # first request, kept per exact ratings (a new rating is a new key), LRU
                               # of this many viewers (~24 KB each; 0: off). Not the reply cache: every
                               # filter and n is answered from it, as known users' lists are

# --- serving (issue 5) ---
API_HOST = "127.0.0.1"
API_PORT = 8000
MAX_N = 100
# Recommendation replies kept in memory, keyed by model, user, filters and the user's stored
# ratings (so a new rating or a reload never serves a stale list). 0 disables the cache.
RECOMMEND_CACHE_SIZE = 4096
# What Recommender.load derives from one bundle × one features file (TF-IDF matrix, the
# training ratings' positions) is kept under paths.serving_cache keyed by their sha256
# (src.models.serving_cache); this many newest caches stay on disk.
SERVING_CACHE_KEEP = 3
# BLAS threads of a serving process: a request's products are tiny (64 × 64 solves, 500 × 64
# scores), and a multi-threaded BLAS under 32 concurrent requests on 2 cores oversubscribes
# (measured: a known user's request 50 -> 25 ms p50 on a loaded box with 1 thread).
SERVE_BLAS_THREADS = 1
# uvicorn worker processes of `invoke serve` (each loads the model; bundle arrays and the
# serving cache are memory-mapped, so their pages are shared). With more than one, each worker
# follows the model pointer and the features file by itself (/admin/reload reaches one
# worker): it checks them every API_RELOAD_POLL_S seconds and reloads when they changed.
API_WORKERS = 1
API_RELOAD_POLL_S = 2.0

# --- accounts and authorisation (issue 12, src.data.accounts_store / src.serving.auth) ---
# Viewer accounts get ids from VIEWER_ID_BASE up: MovieLens ids stay below ~300k (25M set:
# 162k users; synthetic "full": 12k), so 10**12 can never collide with a training user while
# staying far below SQLite's 2**63 INTEGER limit.
VIEWER_ID_BASE = 10**12
# Viewer ids are drawn at random from [BASE, BASE + SPAN): never reused even if accounts.db is
# lost, and below 2**53 so JavaScript/JSON clients read them exactly.
VIEWER_ID_SPAN = 2**53 - VIEWER_ID_BASE
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,32}$"  # printable, URL- and log-safe, short
PASSWORD_MIN_LEN = 8          # NIST SP 800-63B minimum for user-chosen secrets
PASSWORD_MAX_LEN = 256        # caps the argon2 input so a huge body cannot burn CPU
SESSION_TTL_S = 30 * 24 * 3600  # bearer tokens and web sessions expire after 30 days
SESSION_COOKIE = "streamrec_session"  # HttpOnly, SameSite=Lax web-app session cookie
CSRF_HEADER = "X-CSRF-Token"  # cookie-authenticated writes send the session's CSRF token here
CSRF_FORM_FIELD = "csrf_token"  # ... or, from an HTML form, in this field
ADMIN_TOKEN_ENV = "STREAMREC_ADMIN_TOKEN"  # admin token; else the key file Paths.admin_key
# In-process token buckets (one server process; see references/serving.md): sign-in
# 5 at once then one per 6 s per client address + username (slows password guessing to 600
# an hour), writes 30 at once then 10/s per viewer (a person rating titles never gets near).
AUTH_RATE = {"burst": 5, "per_s": 1 / 6}
AUTH_ADDRESS_RATE = {"burst": 30, "per_s": 0.5}  # all sign-ins of one address: rotating names buys little
SIGNUP_RATE = {"burst": 10, "per_s": 1 / 10}  # per client address: 360 accounts an hour at most
WRITE_RATE = {"burst": 30, "per_s": 10.0}
RATE_LIMIT_KEYS = 10_000      # buckets kept (least recently used evicted): bounded memory

# --- web app (issue 12, src.serving.web) ---
# TMDB image CDN for poster_path ("/abc.jpg"); w342 is sharp on a 2x phone card of ~170 px.
POSTER_BASE_URL = "https://image.tmdb.org/t/p/w342"
HOME_ROW_SIZE = 12            # cards per home row (one swipe on a phone, two rows on desktop)
SEARCH_PAGE_SIZE = 24         # search results per page (the issue asks for more than 8)
# Typo-tolerant search cut-off (0-100, mean best rapidfuzz ratio per query word; see
# src.serving.fuzzy): one typo in a word scores ~85-95 ("hauntng"/"haunting" 93,
# "intersteller"/"interstellar" 92), a query with one word of three unrelated ~67.
FUZZY_MIN_SCORE = 80
# Predicted-star maps (one float per catalogue title each: 45k titles ~ 3 MB as a dict) kept
# for the viewers browsing right now; a new rating or model makes a new key.
STARS_CACHE_SIZE = 64
LIKED_MIN_RATING = 4.0        # only ratings >= this give "Because you liked X" rows
ONBOARDING_TITLES = 12        # popular titles shown to rate during onboarding

# --- catalogue updates (issue 6, src.pipeline.update) ---
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

# --- optional dependency groups (setup.py extras; src.utils.extras.require_extra) ---
# The import names each extra must provide, checked before the modules that use them import
# anything: the web stack is ~400 MB and Jupyter ~300 MB, so the core install leaves them out.
# Keep in step with EXTRAS_REQUIRE in setup.py (tests/test_deploy.py compares the two).
EXTRA_MODULES = {
    "serve": ("fastapi", "uvicorn", "gradio", "orjson", "httpx", "rapidfuzz", "jinja2"),
    "notebooks": ("nbformat", "nbclient", "nbconvert", "ipykernel"),
    # training engines of references/scaling.md (invoke train --engine implicit|spark)
    "implicit": ("implicit",),
    "spark": ("pyspark",),
    "ann": ("hnswlib",),
}

# --- deploy (app.py): Hugging Face Spaces routes its Gradio SDK apps to this port ---
HF_SPACES_PORT = 7860

# --- untrusted input limits (issue 11, src.data.readers; references/untrusted_input.md) ---
# Bytes of one input file after decompression: the full Kaggle credits.csv is ~190 MB, so
# 2 GiB leaves ten times headroom while refusing a gzip bomb before it fills the memory.
MAX_INPUT_FILE_BYTES = 2 * 1024**3
# One cell / one record (UTF-8 bytes). The largest real cells are credits' crew lists (25 KB
# in the shared sample, a few hundred KB in the full Kaggle file); 2 MiB keeps every real row
# while a 50 MB genres cell (which once grew features.parquet to 425 MB) is quarantined.
MAX_CELL_BYTES = 2 * 1024**2
MAX_ROW_BYTES = 4 * 1024**2
# Delimiters tried when a header holds a single field (a ';'- or tab-separated export).
ALT_DELIMITERS = (";", "\t", "|")
# A rebuild (`invoke data`) or update that leaves fewer than this fraction of the current
# catalogue's titles (or none) is refused unless `--force`: losing half the catalogue is far
# more often a broken input file than a real withdrawal.
CATALOGUE_MIN_KEEP_FRACTION = 0.5
# Inbox stable-size check: each candidate file is stat'ed, then again after this many seconds;
# one whose size or mtime moved is still being written (by an uploader that ignores the
# `.part`-then-rename convention) and waits for the next run. 1 s costs cron nothing and
# catches any writer that is actively streaming.
INBOX_STABLE_SECONDS = 1.0
# Longest file name the inbox writes (bytes); ext4/xfs/btrfs allow 255.
INBOX_MAX_NAME_BYTES = 255
# A quarantined record's raw text is kept up to this many characters (then cut, with its
# size noted): enough to see what was wrong, without copying a 50 MB cell into quarantine.
QUARANTINE_RAW_MAX_CHARS = 10_000
# Charset detection (src.data.decode): on short non-UTF-8 text charset-normalizer often rates
# several single-byte code pages alike (a Latin-1 "crème" scores best as Baltic cp1257,
# giving "črème"). Catalogue exports that are not UTF-8 are overwhelmingly Western European,
# so cp1252 (a superset of Latin-1's letters) wins when it is a candidate whose "chaos"
# (mess ratio, 0-1) is within this margin of the best; clearly other scripts (Cyrillic
# cp1251, ...) never list cp1252 and keep their own match.
CHARSET_PREFERRED = "cp1252"
CHARSET_PREFER_MARGIN = 0.05

# --- model bundles (issue 11 "model files", issue 14 "bundles as arrays"; src.models.bundle) ---
# Committed bundle folders kept under models/bundles/ (the live one always among them): the
# previous ones stay for a manual rollback (point models/current.json back), older ones are
# deleted so daily retrains do not fill the disk (a full-scale bundle is ~1.6 GB).
BUNDLE_KEEP = 3
# A leftover temp file in models/ (a pointer write killed mid-way) older than this is stale:
# a pointer write takes microseconds, so 10 minutes can only mean a dead writer.
BUNDLE_STALE_TMP_S = 600

# --- API limits (issue 11 "API limits"; src.serving.limits) ---
# Largest request body accepted (413 above it, before the body is read). The biggest legal
# body is one rating (~60 bytes) or a few hundred {movie_id: rating} pairs; 64 KiB leaves
# room for that and stops a client from making the server buffer megabytes (a 200 MB body
# cost +611 MB RSS and stalled /health for 4 s).
API_MAX_BODY_BYTES = 64 * 1024

# --- catalogue sources and entity resolution (issue 10, src.data.sources, src.data.resolve) ---
# First StreamRec id given to a title that no TMDB id names (JustWatch/show_id rows with no
# IMDb/TMDB match). TMDB movie ids are below ~1.5M and TV ids below ~300k (2026); 10^8
# leaves decades of headroom for both, so an allocated id never collides with a TMDB id,
# and stays exact in float64 (pandas reads ids with NaNs as floats).
NEW_TITLE_ID_BASE = 100_000_000
