"""The trained-model bundle: one checksummed pickle plus a JSON sidecar describing it.

``models/svd_model.pkl`` holds a :class:`ModelBundle` (the Surprise SVD rating model, the
top-N ranker, the ratings they were trained on, parameters, metadata). Pickles can run
code when loaded, so the sidecar ``models/svd_model.json`` records the pickle's sha256 and
:func:`load_bundle` refuses to unpickle a file whose bytes do not match it
(:class:`BundleIntegrityError`). Both files are written atomically (temp file + rename), so an
interrupted save leaves the previous bundle usable.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import pickle
import platform
from dataclasses import dataclass, field
from importlib import metadata as _md
from pathlib import Path
from typing import Any

import pandas as pd

from src.utils.io import atomic_path, sha256_file
from src.utils.logging import get_logger

log = get_logger(__name__)

# Characters of the pickle's sha256 used as the human-facing model version.
VERSION_CHARS = 12
SIDECAR_FORMAT = 1
_LIBRARIES = ("scikit-surprise", "numpy", "pandas", "scipy", "scikit-learn", "streamrec")


class BundleIntegrityError(RuntimeError):
    """The model pickle does not match its sidecar (tampered, truncated, or sidecar missing)."""


@dataclass
class ModelBundle:
    """Everything the recommender needs at serving time.

    ``svd``: fitted ``surprise.SVD`` (all model-ready ratings); ``ranker``: the top-N model
    from :mod:`src.models.topn` or None; ``train_ratings``: the model-ready ratings both were
    fitted on (seen items, explanations); ``params``: SVD parameters; ``metadata``: versions,
    data sha256, metrics, created_at (mirrored in the sidecar; ``version``/``sha256`` are
    filled in by :func:`load_bundle`).
    """

    svd: Any
    ranker: object | None
    train_ratings: pd.DataFrame
    params: dict
    metadata: dict = field(default_factory=dict)

    @property
    def version(self) -> str | None:
        """The model version (first 12 hex chars of the pickle sha256), once saved/loaded."""
        return self.metadata.get("version")


def sidecar_path(path: str | os.PathLike) -> Path:
    """Return the JSON sidecar path of a bundle pickle (same name, ``.json``)."""
    return Path(path).with_suffix(".json")


def library_versions() -> dict[str, str]:
    """Return the installed versions of the libraries a pickle depends on (plus Python)."""
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = _md.version(name)
        except _md.PackageNotFoundError:
            out[name] = "not installed"
    return out


def save_bundle(bundle: ModelBundle, path: str | os.PathLike) -> Path:
    """Pickle ``bundle`` atomically to ``path`` and write its JSON sidecar; return ``path``.

    The sidecar holds params, library versions, the training-data sha256, metrics,
    created_at (from ``bundle.metadata``), the pickle's sha256 and the version. Both files
    are complete in temp files before either is renamed into place, so a failure while
    pickling (or a crash) leaves the previous pair untouched.
    """
    path = Path(path)
    meta = dict(bundle.metadata)
    meta.setdefault("created_at", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    meta.setdefault("libraries", library_versions())
    meta.pop("version", None)
    meta.pop("sha256", None)
    bundle.metadata = meta
    side = sidecar_path(path)
    with contextlib.ExitStack() as stack:
        tmp_pkl = stack.enter_context(atomic_path(path))
        with open(tmp_pkl, "wb") as fh:
            pickle.dump(bundle, fh, protocol=pickle.HIGHEST_PROTOCOL)
        digest = sha256_file(tmp_pkl)
        sidecar = {
            "format": SIDECAR_FORMAT,
            "file": path.name,
            "sha256": digest,
            "version": digest[:VERSION_CHARS],
            "size_bytes": tmp_pkl.stat().st_size,
            "params": bundle.params,
            "has_ranker": bundle.ranker is not None,
            "ranker": type(bundle.ranker).__name__ if bundle.ranker is not None else None,
            **{k: v for k, v in meta.items() if k not in {"format", "file", "size_bytes"}},
        }
        tmp_side = stack.enter_context(atomic_path(side))
        tmp_side.write_text(json.dumps(sidecar, indent=2, default=str) + "\n")
        # ExitStack closes in reverse order: the sidecar is renamed first, then the pickle.
        # A crash in between leaves a new sidecar with the old pickle; load_bundle refuses
        # that pair loudly rather than loading a model that does not match its description.
    bundle.metadata.update(version=digest[:VERSION_CHARS], sha256=digest)
    log.info("saved model bundle %s (version %s, %.1f MB)", path, digest[:VERSION_CHARS],
             path.stat().st_size / 1e6)
    return path


def read_sidecar(path: str | os.PathLike) -> dict:
    """Return the sidecar dict of the bundle at ``path``; BundleIntegrityError if missing/invalid."""
    side = sidecar_path(path)
    if not side.exists():
        raise BundleIntegrityError(
            f"model sidecar {side} is missing: refusing to unpickle {path} without a checksum "
            f"(retrain with `invoke train`)")
    try:
        data = json.loads(side.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BundleIntegrityError(f"model sidecar {side} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("sha256"), str):
        raise BundleIntegrityError(f"model sidecar {side} has no 'sha256' field")
    return data


def load_bundle(path: str | os.PathLike) -> ModelBundle:
    """Verify the pickle at ``path`` against its sidecar sha256, then unpickle it.

    In: the bundle pickle path. Out: the :class:`ModelBundle` with ``metadata['version']``
    and ``metadata['sha256']`` set. Raises FileNotFoundError when the pickle is absent and
    BundleIntegrityError (before any unpickling) when the sidecar is missing or the bytes
    do not match it.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model bundle not found: {path} (run `invoke train`)")
    sidecar = read_sidecar(path)
    # Read once and hash those exact bytes, so the file cannot change between check and load.
    blob = path.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != sidecar["sha256"]:
        raise BundleIntegrityError(
            f"model file {path} does not match its sidecar checksum (expected "
            f"{sidecar['sha256'][:VERSION_CHARS]}..., got {digest[:VERSION_CHARS]}...): "
            f"refusing to unpickle a file that may have been tampered with; retrain it")
    bundle = pickle.loads(blob)  # noqa: S301 - bytes verified against the sidecar above
    if not isinstance(bundle, ModelBundle):
        raise BundleIntegrityError(f"{path} holds a {type(bundle).__name__}, not a ModelBundle")
    bundle.metadata = {**bundle.metadata, "version": digest[:VERSION_CHARS], "sha256": digest}
    return bundle
