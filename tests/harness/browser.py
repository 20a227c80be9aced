"""Chromium for the browser tests: the binary to drive (Debian's, or ``$STREAMREC_CHROMIUM``)
and the flags that make it start fast and quietly in a headless CI box.

A missing browser fails the test with a clear message, never a skip: CI installs it.
"""

from __future__ import annotations

import pytest

from src.pipeline.browser import find_chromium

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


def chromium_path() -> str:
    """The Chromium binary to drive; fails the test (not skip) when none is installed."""
    path = find_chromium()  # the same lookup `invoke test` uses to install it when missing
    if path is None:
        pytest.fail("Chromium not found: install Debian's 'chromium' package "
                    "(apt-get install chromium; `invoke test` does it as root) or set STREAMREC_CHROMIUM")
    return str(path)
