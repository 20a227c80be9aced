"""The trained-model bundle: arrays and JSON in a versioned folder, selected by one pointer.

Layout (``paths.models``)::

    current.json                              the pointer: {"bundle": "<stamp>-<version>",
                                              "version", "manifest_sha256", ...}
    bundles/<stamp>-<version>/manifest.json   components, params, metadata, and per file its
                                              sha256, size, dtype and shape
    bundles/<stamp>-<version>/<component>.<array>.npy

No pickle anywhere: components are turned into numeric arrays + JSON by the codecs of
:mod:`src.models.bundle_codecs` (the Surprise SVD from its learned parameters, the EASE
ranker, the seen-ratings CSR). Loading reads JSON, checks every file against the manifest's
sha256, and opens arrays with ``np.load(mmap_mode="r", allow_pickle=False)``: a bundle can
hold data, never code, and the arrays are memory-mapped (the OS shares their pages; a reload
does not copy a second model into the heap).

Commit as one unit: :func:`save_bundle` writes a new folder under a temp name, renames it
into place, then switches ``current.json`` with one atomic rename. A kill at any moment
leaves the previous pointer and its folder intact; the next save removes temp folders of
dead writers and keeps ``BUNDLE_KEEP`` committed folders. A pointer that names a missing or
damaged bundle is an error (:class:`BundleIntegrityError`), never a silent "no model".
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata as _md
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from src.config import (
    ARRAY_VERIFY_THREADS,
    BUNDLE_KEEP,
    BUNDLE_MANIFEST_NAME,
    BUNDLE_STALE_TMP_S,
    BUNDLE_TMP_PREFIX,
    PATHS,
    Paths,
)
from src.models.bundle_codecs import codec_by_kind, codec_for
from src.models.seen import SeenRatings
from src.utils.errors import StreamRecError
from src.utils.io import sha256_file, write_json_atomic
from src.utils.logging import get_logger

log = get_logger(__name__)

__all__ = ["BundleIntegrityError", "ModelBundle", "save_bundle", "load_bundle", "load_current",
           "read_current_manifest", "clean_stale", "prune_bundles", "library_versions"]

FORMAT = 2                 # 1 was the pickle + sidecar bundle (no longer read)
VERSION_CHARS = 12         # hex chars of the content digest used as the model version
_LIBRARIES = ("scikit-surprise", "numpy", "pandas", "scipy", "scikit-learn", "streamrec")
# Folder names are generated, so anything else in a pointer (e.g. "../..") is refused.
_FOLDER_RE = re.compile(r"^\d{8}T\d{12}Z-[0-9a-f]{%d}$" % VERSION_CHARS)
_FILE_RE = re.compile(r"^[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.npy$")
_DTYPE_KINDS = "biuf"      # numbers and booleans only: object arrays would need pickle
_COMPONENTS = ("svd", "ranker", "seen")


class BundleIntegrityError(StreamRecError, RuntimeError):
    """The live bundle is missing, damaged or not loadable (message says which file and what to do)."""


class ModelBundle:
    """Everything the recommender needs at serving time.

    ``svd``: fitted ``surprise.SVD`` or None; ``ranker``: a top-N model from
    :mod:`src.models.topn` or None; ``seen``: the training ratings as
    :class:`~src.models.seen.SeenRatings` (built from a ratings frame when one is given as
    ``train_ratings``); ``params``: SVD parameters; ``metadata``: versions, data sha256,
    metrics, created_at (``version`` is filled in by save/load).
    """

    def __init__(self, svd: Any, ranker: object | None, train_ratings: pd.DataFrame | SeenRatings | None,
                 params: dict, metadata: dict | None = None) -> None:
        self.svd = svd
        self.ranker = ranker
        self.seen = (SeenRatings.from_frame(train_ratings) if isinstance(train_ratings, pd.DataFrame)
                     else train_ratings)
        self.params = dict(params or {})
        self.metadata = dict(metadata or {})

    @property
    def train_ratings(self) -> pd.DataFrame | None:
        """The seen ratings as DataFrame[userId, itemId, rating] (built on each access)."""
        return None if self.seen is None else self.seen.to_frame()

    @property
    def version(self) -> str | None:
        """The model version (content digest prefix), once saved or loaded."""
        return self.metadata.get("version")

    def components(self) -> dict[str, Any]:
        """The stored parts by name (``svd``, ``ranker``, ``seen``), those that are set."""
        return {k: v for k, v in (("svd", self.svd), ("ranker", self.ranker), ("seen", self.seen))
                if v is not None}

    def __repr__(self) -> str:
        parts = ", ".join(f"{k}={type(v).__name__}" for k, v in self.components().items())
        return f"ModelBundle({parts}, version={self.version!r})"


def library_versions() -> dict[str, str]:
    """Return the installed versions of the libraries the model was trained with (plus Python)."""
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = _md.version(name)
        except _md.PackageNotFoundError:
            out[name] = "not installed"
    return out


# --- writing -----------------------------------------------------------------------------------

def _json_default(value: Any) -> Any:
    """JSON for numpy scalars and paths in metadata; anything else is a bug, not a string."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"bundle metadata value of type {type(value).__name__} is not JSON: {value!r}")


def _fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (new names) to disk, so a rename survives a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_array(path: Path, arr: np.ndarray) -> dict:
    """Write one numeric array as .npy (fsynced); out: its manifest entry."""
    arr = np.ascontiguousarray(arr)
    if arr.dtype.kind not in _DTYPE_KINDS:
        raise TypeError(f"{path.name}: only numeric arrays go into a bundle, got dtype {arr.dtype}")
    with open(path, "wb") as fh:
        np.save(fh, arr, allow_pickle=False)
        fh.flush()
        os.fsync(fh.fileno())
    return {"sha256": sha256_file(path), "bytes": path.stat().st_size, "dtype": arr.dtype.str,
            "shape": list(arr.shape)}


def save_bundle(bundle: ModelBundle, paths: Paths = PATHS, keep: int = BUNDLE_KEEP) -> Path:
    """Write ``bundle`` as a new versioned folder and make it the live one; return the folder.

    In: the bundle, the workspace, how many committed folders to keep. Steps: remove stale
    temp leftovers of killed runs; write every component's arrays and the manifest into
    ``bundles/.tmp-<pid>-*``; rename it to ``bundles/<stamp>-<version>``; switch
    ``current.json`` (atomic rename: the commit point); delete the pre-array pickle files and
    folders past ``keep``. An exception or a kill before the switch leaves the previous
    bundle live.
    """
    clean_stale(paths)
    paths.model_bundles.mkdir(parents=True, exist_ok=True)
    meta = dict(bundle.metadata)
    meta.setdefault("created_at", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    meta.setdefault("libraries", library_versions())
    meta.pop("version", None)
    tmp = Path(tempfile.mkdtemp(prefix=f"{BUNDLE_TMP_PREFIX}{os.getpid()}-", dir=paths.model_bundles))
    try:
        components, files = {}, {}
        for name, obj in bundle.components().items():
            codec = codec_for(obj)
            arrays, comp_meta = codec.to_arrays(obj)
            names = {}
            for key, arr in arrays.items():
                fname = f"{name}.{key}.npy"
                files[fname] = _write_array(tmp / fname, arr)
                names[key] = fname
            components[name] = {"kind": codec.kind, "meta": comp_meta, "arrays": names}
        content = json.dumps({"components": components, "files": files}, sort_keys=True,
                             default=_json_default)
        version = hashlib.sha256(content.encode()).hexdigest()[:VERSION_CHARS]
        manifest = {"format": FORMAT, "version": version, "params": bundle.params,
                    "components": components, "files": files, "metadata": meta}
        raw = (json.dumps(manifest, indent=2, default=_json_default) + "\n").encode()
        with open(tmp / BUNDLE_MANIFEST_NAME, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o755)  # mkdtemp makes 0700; a server run by another user must read it
        _fsync_dir(tmp)
        stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        final = paths.model_bundles / f"{stamp}-{version}"
        os.rename(tmp, final)
        _fsync_dir(paths.model_bundles)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_json_atomic({"format": FORMAT, "bundle": final.name, "version": version,
                       "manifest_sha256": hashlib.sha256(raw).hexdigest(),
                       "created_at": meta["created_at"]}, paths.model_pointer)
    for legacy in (paths.legacy_model_pickle, paths.legacy_model_pickle.with_suffix(".json")):
        with contextlib.suppress(FileNotFoundError):
            legacy.unlink()
            log.info("removed the pre-array pickle bundle file %s", legacy)
    prune_bundles(paths, keep)
    bundle.metadata = {**meta, "version": version}
    size = sum(f["bytes"] for f in files.values())
    log.info("saved model bundle %s (version %s, %d arrays, %.1f MB)", final, version, len(files), size / 1e6)
    return final


# --- housekeeping -------------------------------------------------------------------------------

def _pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (another user's counts as alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(paths: Paths = PATHS) -> dict[str, int]:
    """Remove leftovers of killed runs: temp bundle folders whose writer process is gone and
    temp files in ``models/`` older than ``BUNDLE_STALE_TMP_S``. Out: counts removed."""
    out = {"tmp_folders": 0, "tmp_files": 0}
    if paths.model_bundles.is_dir():
        for entry in paths.model_bundles.iterdir():
            m = re.match(rf"^{re.escape(BUNDLE_TMP_PREFIX)}(\d+)-", entry.name)
            if m and entry.is_dir() and not entry.is_symlink() and not _pid_alive(int(m.group(1))):
                shutil.rmtree(entry, ignore_errors=True)
                out["tmp_folders"] += 1
    if paths.models.is_dir():
        now = time.time()
        for entry in paths.models.iterdir():
            # atomic_path temp names: ".<target>.<random>.tmp" (pointer, params, old pickles).
            if (entry.name.startswith(".") and entry.name.endswith(".tmp") and entry.is_file()
                    and now - entry.stat().st_mtime > BUNDLE_STALE_TMP_S):
                entry.unlink(missing_ok=True)
                out["tmp_files"] += 1
    if any(out.values()):
        log.info("removed stale model temp leftovers of killed runs: %s", out)
    return out


def prune_bundles(paths: Paths = PATHS, keep: int = BUNDLE_KEEP) -> list[str]:
    """Delete committed bundle folders beyond the ``keep`` newest, never the live one.

    A running server that still maps an old folder's arrays keeps reading them (Linux frees
    a deleted file's pages when the last mapping goes). Out: the names removed.
    """
    if not paths.model_bundles.is_dir():
        return []
    pointer = _read_pointer(paths) if paths.model_pointer.exists() else None
    live = pointer["bundle"] if pointer else None
    folders = sorted(e.name for e in paths.model_bundles.iterdir() if _FOLDER_RE.match(e.name) and e.is_dir())
    keep_set = set(folders[-max(int(keep), 1):]) | {live}
    removed = [f for f in folders if f not in keep_set]
    for name in removed:
        shutil.rmtree(paths.model_bundles / name, ignore_errors=True)
    if removed:
        log.info("removed %d old bundle folder(s), keeping %d: %s", len(removed), len(folders) - len(removed),
                 ", ".join(removed))
    return removed


# --- reading ------------------------------------------------------------------------------------

def _json_file(path: Path, what: str, expected_sha256: str | None = None) -> tuple[dict, bytes]:
    """A JSON object file as (dict, raw bytes), its bytes checked against ``expected_sha256``
    first when given; BundleIntegrityError naming the file otherwise."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BundleIntegrityError(f"{what} {path} is missing: retrain with `invoke train`") from None
    except OSError as exc:
        raise BundleIntegrityError(f"{what} {path} cannot be read ({exc.strerror}): retrain with `invoke train`") from None
    if expected_sha256 is not None and hashlib.sha256(raw).hexdigest() != expected_sha256:
        raise BundleIntegrityError(f"{what} {path} does not match the pointer's checksum (damaged, tampered "
                                   f"or replaced): retrain with `invoke train`")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleIntegrityError(f"{what} {path} is not valid JSON ({exc}): retrain with `invoke train`") from None
    if not isinstance(data, dict):
        raise BundleIntegrityError(f"{what} {path} is not a JSON object: retrain with `invoke train`")
    return data, raw


def _read_pointer(paths: Paths) -> dict:
    """The validated pointer ``current.json`` (bundle folder name and manifest sha256)."""
    pointer, _ = _json_file(paths.model_pointer, "model pointer")
    if not (isinstance(pointer.get("bundle"), str) and _FOLDER_RE.match(pointer["bundle"])
            and isinstance(pointer.get("manifest_sha256"), str)):
        raise BundleIntegrityError(f"model pointer {paths.model_pointer} does not name a bundle folder "
                                   f"and manifest checksum: retrain with `invoke train`")
    return pointer


def _read_manifest(folder: Path, manifest_sha256: str | None) -> dict:
    """The manifest of a bundle folder, checked against the pointer's sha256 when given."""
    manifest, _ = _json_file(folder / BUNDLE_MANIFEST_NAME, "bundle manifest", manifest_sha256)
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("components"), dict) \
            or not isinstance(manifest.get("files"), dict):
        raise BundleIntegrityError(f"bundle manifest {folder / BUNDLE_MANIFEST_NAME} is not a format-{FORMAT} "
                                   f"manifest: retrain with `invoke train`")
    return manifest


def _load_array(folder: Path, name: object, entry: object) -> np.ndarray:
    """One verified, memory-mapped array of the manifest (sha256, size, dtype, shape checked)."""
    if not isinstance(name, str) or not _FILE_RE.match(name) or not isinstance(entry, dict):
        raise BundleIntegrityError(f"bundle {folder} lists an invalid array file name {name!r}")
    path = folder / name
    where = f"bundle array {path}"
    if not path.is_file():
        raise BundleIntegrityError(f"{where} is missing: retrain with `invoke train`")
    if path.stat().st_size != entry.get("bytes") or sha256_file(path) != entry.get("sha256"):
        raise BundleIntegrityError(f"{where} does not match its sha256 in the manifest (damaged or "
                                   f"tampered): retrain with `invoke train`")
    try:
        # allow_pickle=False: an object array (the only .npy content that can carry code) is
        # refused by numpy itself; mmap_mode="r" maps the file read-only instead of copying it.
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise BundleIntegrityError(f"{where} is not a plain numeric .npy file ({exc}): retrain with "
                                   f"`invoke train`") from None
    if arr.dtype.kind not in _DTYPE_KINDS:
        raise BundleIntegrityError(f"{where} holds dtype {arr.dtype}, not numbers: retrain with `invoke train`")
    if arr.dtype.str != entry.get("dtype") or list(arr.shape) != entry.get("shape"):
        raise BundleIntegrityError(f"{where} has dtype {arr.dtype.str} shape {list(arr.shape)}, the manifest "
                                   f"says {entry.get('dtype')} {entry.get('shape')}")
    return arr


def _load_arrays(folder: Path, files: object) -> dict[str, np.ndarray]:
    """:func:`_load_array` of every entry of a manifest's ``files``, in their order; raises the
    first failure. Verified largest first on up to ``ARRAY_VERIFY_THREADS`` threads: the
    sha256 of each file is most of a load (1.17 GB of bundle and 2.3 GB of serving cache at
    25M ratings) and hashlib releases the GIL, so the cores hash files side by side."""
    if not isinstance(files, dict):
        raise BundleIntegrityError(f"{folder}: the manifest's files are not a mapping")

    def size(item) -> int:
        entry = item[1]
        b = entry.get("bytes") if isinstance(entry, dict) else None
        return b if isinstance(b, int) else 0

    items = sorted(files.items(), key=size, reverse=True)
    threads = max(1, min(ARRAY_VERIFY_THREADS, os.cpu_count() or 1, len(items)))
    if threads == 1:
        arrays = [_load_array(folder, name, entry) for name, entry in items]
    else:
        with ThreadPoolExecutor(threads, thread_name_prefix="verify") as pool:
            arrays = list(pool.map(lambda item: _load_array(folder, *item), items))
    loaded = dict(zip((name for name, _ in items), arrays))
    return {name: loaded[name] for name in files}


def load_bundle(folder: str | os.PathLike, manifest_sha256: str | None = None) -> ModelBundle:
    """Load the bundle folder ``folder`` without running any code from it.

    In: the folder, optionally the manifest's expected sha256 (from the pointer). Out: the
    :class:`ModelBundle` (``version`` set) whose arrays are read-only memory maps. Raises
    BundleIntegrityError naming the file when the manifest is missing/invalid/mismatched, an
    array is missing, fails its sha256, is not a plain numeric ``.npy``, or a component cannot
    be rebuilt from its arrays.
    """
    folder = Path(folder)
    manifest = _read_manifest(folder, manifest_sha256)
    files = manifest["files"]
    loaded = _load_arrays(folder, files)
    parts: dict[str, Any] = {}
    for cname, comp in manifest["components"].items():
        try:
            if cname not in _COMPONENTS or not isinstance(comp, dict) or not isinstance(comp.get("arrays"), dict):
                raise ValueError(f"unknown or malformed component {cname!r}")
            codec = codec_by_kind(comp.get("kind"))
            arrays = {key: loaded[fname] for key, fname in comp["arrays"].items()}
            parts[cname] = codec.from_arrays(arrays, comp.get("meta") or {})
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise BundleIntegrityError(f"bundle {folder}: component {cname!r} cannot be rebuilt "
                                       f"({type(exc).__name__}: {exc}): retrain with `invoke train`") from None
    meta = manifest.get("metadata") if isinstance(manifest.get("metadata"), dict) else {}
    params = manifest.get("params") if isinstance(manifest.get("params"), dict) else {}
    return ModelBundle(svd=parts.get("svd"), ranker=parts.get("ranker"), train_ratings=parts.get("seen"),
                       params=params, metadata={**meta, "version": manifest.get("version"),
                                                "bundle": folder.name,
                                                # what derived caches key on (committed folders never change)
                                                "manifest_sha256": sha256_file(folder / BUNDLE_MANIFEST_NAME)})


def read_current_manifest(paths: Paths = PATHS) -> dict | None:
    """The live bundle's manifest (checked against the pointer), or None when no pointer exists."""
    if not paths.model_pointer.exists():
        return None
    pointer = _read_pointer(paths)
    return _read_manifest(paths.model_bundles / pointer["bundle"], pointer["manifest_sha256"])


def load_current(paths: Paths = PATHS) -> ModelBundle | None:
    """Load the bundle ``current.json`` points to; None when no model was ever trained.

    A pointer to a missing or broken bundle raises BundleIntegrityError (a model is expected),
    and so does a pre-array pickle bundle with no pointer: it is never unpickled.
    """
    if not paths.model_pointer.exists():
        if paths.legacy_model_pickle.exists():
            raise BundleIntegrityError(
                f"{paths.legacy_model_pickle} is a pickle bundle from an older StreamRec; it is not "
                f"loaded because unpickling can run code: run `invoke train` to write an array bundle")
        return None
    pointer = _read_pointer(paths)
    return load_bundle(paths.model_bundles / pointer["bundle"], pointer["manifest_sha256"])
