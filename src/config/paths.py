"""Where StreamRec's files live: the workspace folders and files, and raw input names.

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
# Real streaming-platform catalogues beside it (JustWatch-derived, show_id; SOURCES.md there).
SHARED_STREAMING_DIR: Path = SHARED_DATA_DIR.parent / "streaming"


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
    def ratings_parquet(self) -> Path:
        """The same ratings as :attr:`ratings`, columnar (Parquet, typed): written by the ETL in
        the same all-or-nothing unit, read by training instead of parsing the CSV."""
        return self.processed / "ratings.parquet"

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

    @property
    def title_sources(self) -> Path:
        """Entity-resolution crosswalk: which source row became which StreamRec id, by which rule."""
        return self.processed / "title_sources.csv"

    @property
    def availability(self) -> Path:
        """Stays of titles on platforms (id, platform, first_seen, last_seen), from snapshots."""
        return self.processed / "availability.csv"

    @property
    def platform_snapshots(self) -> Path:
        """Log of applied platform snapshots (date order per platform is enforced)."""
        return self.processed / "platform_snapshots.csv"

    # --- external / serving ---
    @property
    def title_ids(self) -> Path:
        """StreamRec ids given to titles of non-TMDB sources. In ``external`` (state, not a
        rebuildable output) so a rebuild from data/raw gives every title the same id again."""
        return self.external / "title_ids.csv"

    @property
    def ratings_db(self) -> Path:
        """SQLite store of ratings given through the API/UI."""
        return self.external / "ratings.db"

    @property
    def applied(self) -> Path:
        """Every applied update batch, kept (inputs + report) so `invoke data` can replay them."""
        return self.external / "applied"

    @property
    def accounts_db(self) -> Path:
        """SQLite store of viewer accounts, sessions, watchlists and services (issue 12).

        Beside ``ratings.db`` (serving state, not training input) and separate from it so the
        trainer, which reads every rating, never opens the file holding password hashes.
        """
        return self.external / "accounts.db"

    @property
    def secrets(self) -> Path:
        """Server secrets (the admin key): outside models/ and data/raw so that copying,
        publishing or re-downloading either never carries or clobbers a key."""
        return self.root / "secrets"

    @property
    def admin_key(self) -> Path:
        """Admin token file created (mode 0600) at the server's first start when the
        environment gives none; ``invoke update``/``train --server-url`` read it."""
        return self.secrets / "admin.key"

    @property
    def inbox(self) -> Path:
        """Drop folder for new catalogue batches (``invoke update --inbox``)."""
        return self.external / "incoming"

    # --- models ---
    @property
    def model_pointer(self) -> Path:
        """The pointer naming the live bundle folder (``models/current.json``).

        Switching it (one atomic rename) commits a newly trained bundle as a unit.
        """
        return self.models / "current.json"

    @property
    def model_bundle(self) -> Path:
        """What selects the live model: the pointer file (its existence means "a model is
        expected"), kept under this name for callers that only test whether one exists."""
        return self.model_pointer

    @property
    def model_bundles(self) -> Path:
        """Versioned bundle folders ``models/bundles/<stamp>-<version>/`` (arrays + manifest)."""
        return self.models / "bundles"

    @property
    def serving_cache(self) -> Path:
        """Arrays ``Recommender.load`` derives from one bundle × features file, one folder per
        sha256 key (``models/serving_cache/<key>/``, :mod:`src.models.serving_cache`)."""
        return self.models / "serving_cache"

    @property
    def legacy_model_pickle(self) -> Path:
        """The pickle bundle of StreamRec before issue 11; never loaded (pickles can run code)."""
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

# --- model bundle format (src.models.bundle) ---
# Inside a bundle folder: the manifest (components, one sha256 per array file) beside the
# ``<component>.<array>.npy`` files it lists.
BUNDLE_MANIFEST_NAME = "manifest.json"
# Folders being written by a running train: ``models/bundles/.tmp-<pid>-*`` (the pid tells a
# later run whether the writer is dead, so its leftovers can be removed).
BUNDLE_TMP_PREFIX = ".tmp-"

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

# --- the browser the UI test drives (src.pipeline.browser; invoke test installs it) ---
# Debian's package, not a Playwright download: CI and developer machines reach Debian's
# mirrors but no browser-build host, and one binary serves every Playwright version.
CHROMIUM_APT_PACKAGE = "chromium"
CHROMIUM_ENV = "STREAMREC_CHROMIUM"          # set to use another Chromium build
CHROMIUM_FALLBACK = "/usr/bin/chromium"      # where Debian's package puts it
# Java for the Spark engine (invoke train --engine spark; references/scaling.md): PySpark
# starts a JVM, found via $JAVA_HOME or `java` on PATH; `invoke test` installs Debian's
# headless JRE (Java 17 on bookworm, which Spark 4 requires) when it is missing.
JAVA_APT_PACKAGE = "default-jre-headless"
JAVA_ENV = "JAVA_HOME"
