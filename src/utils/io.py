"""Atomic writes and checksums.

Every data and model file StreamRec writes goes through :func:`atomic_path`: content is
written to a temporary file in the same folder and renamed over the target only once it
is complete, so an interrupted run leaves the previous good file in place (rename within
one file system is atomic on POSIX).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

from src.utils.errors import OutputVerifyError

# The process umask, read once at import: reading it means setting it, and doing that per
# write would briefly give every other thread's new files a umask of 0.
_UMASK = os.umask(0)
os.umask(_UMASK)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it onto ``target`` on success.

    In: the final path. Out (yield): a fresh temp path in the same folder to write to.
    On an exception the temp file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix or ".tmp", dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    # mkstemp creates 0600 files; give the result the permissions a plain open() would
    # (0666 minus the umask) so servers and other users can read the outputs.
    os.chmod(tmp_path, 0o666 & ~_UMASK)
    try:
        yield tmp_path
        # fsync so that a power cut after the rename cannot leave an empty file.
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_csv_atomic(df: pd.DataFrame, target: str | os.PathLike, **kwargs: Any) -> Path:
    """Write ``df`` to CSV at ``target`` atomically (``index=False`` unless given)."""
    kwargs.setdefault("index", False)
    with atomic_path(target) as tmp:
        df.to_csv(tmp, **kwargs)
    return Path(target)


def write_parquet_atomic(df: pd.DataFrame, target: str | os.PathLike) -> Path:
    """Write ``df`` to Parquet at ``target`` atomically, verified before the rename.

    The staged file is read back in full (pyarrow) and must hold ``df``'s rows and columns;
    otherwise :class:`~src.utils.errors.OutputVerifyError` is raised and ``target`` keeps
    its previous version, so no stage ever commits a file the next one cannot load.
    """
    target = Path(target)
    with atomic_path(target) as tmp:
        write_parquet_verified(df, tmp, name=target.name)
    return target


def write_parquet_verified(df: pd.DataFrame, tmp: str | os.PathLike, name: str | None = None) -> None:
    """Write ``df`` to the (staged) Parquet file ``tmp`` and check it reads back as
    ``df``'s rows x columns; :class:`~src.utils.errors.OutputVerifyError` naming ``name``
    otherwise. For callers that stage several outputs and commit them together."""
    import pyarrow.parquet as pq

    name = name or Path(tmp).name
    df.to_parquet(tmp, index=False)
    try:
        table = pq.read_table(tmp)
    except Exception as exc:  # any reader failure means the file is unusable
        raise OutputVerifyError(f"{name}: the new file does not read back ({exc}); "
                                "the previous version was kept") from exc
    if table.num_rows != len(df) or table.num_columns != df.shape[1]:
        raise OutputVerifyError(
            f"{name}: the new file reads back as {table.num_rows} x "
            f"{table.num_columns}, not {len(df)} x {df.shape[1]}; the previous version "
            "was kept")


def write_json_atomic(obj: Any, target: str | os.PathLike) -> Path:
    """Write ``obj`` as pretty JSON at ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
    return Path(target)


def write_text_atomic(text: str, target: str | os.PathLike) -> Path:
    """Write ``text`` at ``target`` atomically."""
    with atomic_path(target) as tmp:
        tmp.write_text(text)
    return Path(target)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Return the hex sha256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()
