"""The JVM the Spark engine needs: find Java, or install Debian's headless JRE where we can.

``invoke test`` calls :func:`ensure_java` next to :func:`src.pipeline.browser.ensure_chromium`
so the README's test command sets up a fresh machine for the Spark test too: when no ``java``
is found and the process is root on a system with ``apt-get``, it installs
``default-jre-headless``; otherwise it returns a one-line reason the task prints (exit code 2).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

from src.config import JAVA_APT_PACKAGE, JAVA_ENV
from src.pipeline.browser import ensure_debian_package
from src.utils.logging import get_logger

log = get_logger(__name__)


def find_java(env: dict | None = None, which: Callable[[str], str | None] = shutil.which) -> Path | None:
    """Out: ``$JAVA_HOME/bin/java`` when that exists, else ``java`` on PATH, else None
    (``env``/``which`` injectable for tests)."""
    env = os.environ if env is None else env
    if env.get(JAVA_ENV):
        path = Path(env[JAVA_ENV]) / "bin" / "java"
        if path.exists():
            return path
    found = which("java")
    return Path(found) if found else None


def ensure_java(env: dict | None = None, which: Callable[[str], str | None] = shutil.which,
                is_root: bool | None = None, run: Callable[..., int] | None = None) -> str | None:
    """Make sure a Java runtime is installed. Out: None when it is (found or just installed),
    else a one-line message saying why not and what to do."""
    env = os.environ if env is None else env
    manual = (f"install Debian's '{JAVA_APT_PACKAGE}' (sudo apt-get install {JAVA_APT_PACKAGE}) "
              f"or set {JAVA_ENV} to a Java 17+ runtime")
    return ensure_debian_package(lambda: find_java(env, which), JAVA_APT_PACKAGE,
                                 "the Spark test needs Java", manual, which, is_root, run)
