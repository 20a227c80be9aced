"""Chromium for the browser tests: the binary to drive (Debian's, or ``$STREAMREC_CHROMIUM``)
and the flags that make it start fast and quietly in a headless CI box.

A missing browser fails the test with a clear message, never a skip: CI installs it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def chromium_path() -> str:
    """The Chromium binary to drive; fails the test (not skip) when none is installed."""
    path = os.environ.get("STREAMREC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(f"Chromium not found at {path!r}: install Debian's 'chromium' package "
                    "(apt-get install chromium) or set STREAMREC_CHROMIUM to a Chromium binary")
    return path
