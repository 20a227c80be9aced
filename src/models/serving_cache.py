"""Serving cache: what ``Recommender.load`` derives from one bundle × one catalogue, kept on disk.

A reload at full scale (25M ratings, 59k titles) spent ~20 s re-deriving the same arrays
from the same two inputs: the TF-IDF matrix of the catalogue texts (and the import of
scikit-learn to fit it) and each training rating's catalogue position and ranker column.
They depend only on the bundle's manifest and the features file, so they are written once
under a key that is the sha256 of both (plus the format, the TF-IDF settings and
scikit-learn's version) and memory-mapped on every later load — by every worker process
serving the same bundle, which then share their pages. The cache also keeps the known users'
ranked lists (:class:`src.models.pipeline.known_lists.KnownLists`: ~4 min to build at 12k
users × 45k titles), which depend on the chain's code and parameters too: the key includes
the sha256 of the source files that make them (:func:`code_version`, ``src/config/params.py``
among them), so an edited blend weight or scorer rebuilds the cache instead of serving
lists the code would no longer make.

Layout: ``paths.serving_cache/<key>/manifest.json`` (per array: sha256, size, dtype, shape,
as a bundle manifest) + ``cache.<name>.npy``. Written under a temp name and renamed into place (a
killed writer leaves no half cache; two writers racing keep the first); read back through
the bundle's checks (:func:`src.models.bundle._load_array`: sha256 of every file, no
pickle). A cache that fails any check is ignored (rebuilt), never trusted. The newest
``SERVING_CACHE_KEEP`` folders are kept.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from src.config import BUNDLE_STALE_TMP_S, CONTENT_MAX_FEATURES, SERVING_CACHE_KEEP, Paths
from src.models.bundle import BundleIntegrityError, _fsync_dir, _load_arrays, _write_array
from src.utils.io import write_json_atomic
from src.utils.logging import get_logger

log = get_logger(__name__)

__all__ = ["FORMAT", "cache_key", "code_version", "read_cache", "write_cache"]

FORMAT = 2
# What the cached arrays are computed by: the chain, the scorers, the recommender's indexes,
# the rankers' scoring and every parameter (relative to the ``src`` package).
_CODE_FILES = ("config/params.py", "models/predict_model.py", "models/content.py", "models/topn.py",
               "models/factor_ranker.py", "models/pipeline")
_MANIFEST = "manifest.json"


def _sklearn_version() -> str:
    """scikit-learn's version without importing it (the import alone is seconds)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scikit-learn")
    except PackageNotFoundError:
        return "absent"


@functools.cache
def code_version() -> str:
    """sha256 over the source files that compute the cached arrays (``_CODE_FILES``), so a
    cache is only used by the code that wrote it (a package version would miss local edits)."""
    root = Path(__file__).resolve().parents[1]   # the src package
    h = hashlib.sha256()
    for rel in _CODE_FILES:
        path = root / rel
        for f in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def cache_key(bundle_manifest_sha256: str | None, features_sha256: str) -> str:
    """The cache folder name of one bundle (its manifest's sha256; None: no bundle) and one
    features file (its bytes' sha256), under this code (:func:`code_version`), its format and
    TF-IDF settings."""
    parts = {"format": FORMAT, "bundle": bundle_manifest_sha256, "features": features_sha256,
             "content_max_features": CONTENT_MAX_FEATURES, "sklearn": _sklearn_version(),
             "code": code_version()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


def read_cache(paths: Paths, key: str) -> dict[str, np.ndarray] | None:
    """The cached arrays of ``key`` (read-only memory maps, every file's sha256 checked), or
    None when there is no such cache or any check fails (logged: it will be rebuilt)."""
    folder = paths.serving_cache / key
    if not (folder / _MANIFEST).is_file():
        return None
    try:
        manifest = json.loads((folder / _MANIFEST).read_text())
        if manifest.get("format") != FORMAT or manifest.get("key") != key:
            raise BundleIntegrityError(f"{folder}: not a format-{FORMAT} cache of {key}")
        return {name.removeprefix("cache.").removesuffix(".npy"): arr
                for name, arr in _load_arrays(folder, manifest["files"]).items()}
    except (BundleIntegrityError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("serving cache %s not used (%s): rebuilding it", folder, exc)
        return None


def write_cache(paths: Paths, key: str, arrays: dict[str, np.ndarray], replace: bool = False) -> Path | None:
    """Write ``arrays`` (numeric) as the cache of ``key`` atomically; prune old caches.

    ``replace``: swap out an existing cache of ``key`` (one written before a factor model's
    known lists were built: ``invoke warm`` adds them). Out: the folder, or None when it could
    not be written (a read-only workspace, a full disk: serving goes on without a cache) or
    another process wrote it first.
    """
    root = paths.serving_cache
    final = root / key
    if final.exists() and not replace:
        return None
    tmp = root / f".{key}.tmp-{os.getpid()}"
    try:
        root.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        # "cache.<name>.npy": the bundle's file-name rule (component.array.npy), checked on read
        files = {f"cache.{name}.npy": _write_array(tmp / f"cache.{name}.npy", arr) for name, arr in arrays.items()}
        write_json_atomic({"format": FORMAT, "key": key, "files": files}, tmp / _MANIFEST)
        _fsync_dir(tmp)
        if replace and final.exists():
            # Moved aside, not deleted in place: a reader that opened it keeps its mapped
            # files, and a loader that finds no folder in between derives the arrays itself.
            old = root / f".{key}.old-{os.getpid()}"
            os.rename(final, old)
            shutil.rmtree(old, ignore_errors=True)
        os.rename(tmp, final)   # fails when another process renamed its copy first: keep theirs
        _fsync_dir(root)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if not final.exists():
            log.warning("serving cache %s not written (%s): the next load derives it again", final, exc)
        return None
    _prune(root)
    return final


def _prune(root: Path, keep: int = SERVING_CACHE_KEEP) -> None:
    """Remove all but the ``keep`` most recently written cache folders, and temp folders
    older than ``BUNDLE_STALE_TMP_S`` (their writer died: a live one finishes in seconds)."""
    now = time.time()
    for p in root.iterdir():
        if p.is_dir() and p.name.startswith(".") and now - p.stat().st_mtime > BUNDLE_STALE_TMP_S:
            shutil.rmtree(p, ignore_errors=True)
    done = sorted((p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in done[keep:]:
        shutil.rmtree(old, ignore_errors=True)
