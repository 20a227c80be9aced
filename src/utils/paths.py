"""Find the project root.

The root is the folder holding the ``.here`` marker, found with pyprojroot so that code
run from ``notebooks/``, ``tests/`` or an installed console script agrees on one root.
``STREAMREC_HOME`` overrides it (a server or test pointed at another workspace).
"""

from __future__ import annotations

import os
from pathlib import Path

from pyprojroot import here as _here


def project_root() -> Path:
    """Return the StreamRec root folder as an absolute ``Path``.

    Order: the ``STREAMREC_HOME`` environment variable if set, else the nearest parent of
    this file (then of the working directory) that holds ``.here``.
    """
    env = os.environ.get("STREAMREC_HOME")
    if env:
        return Path(env).expanduser().resolve()
    # This file sits at <root>/src/utils/paths.py; look upward from it first so that an
    # editable install works from any working directory.
    start = Path(__file__).resolve().parent
    for parent in [start, *start.parents]:
        if (parent / ".here").exists():
            return parent
    return Path(_here(proj_files=(".here",))).resolve()
