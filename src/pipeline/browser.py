"""The browser the UI test drives: find Debian's Chromium, or install it where we can.

``invoke test`` calls :func:`ensure_chromium` before pytest so that the README's test command
sets up a fresh machine by itself: when no Chromium is found and the process is root on a
system with ``apt-get``, it installs the ``chromium`` package; otherwise it returns a one-line
reason the task prints before exiting with code 2. Playwright is always pointed at this binary
(``executable_path``): it never downloads a browser build of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Callable

from src.config import CHROMIUM_APT_PACKAGE, CHROMIUM_ENV, CHROMIUM_FALLBACK
from src.utils.logging import get_logger

log = get_logger(__name__)


def find_chromium(env: dict | None = None, which: Callable[[str], str | None] = shutil.which,
                  fallback: str = CHROMIUM_FALLBACK) -> Path | None:
    """Out: the Chromium binary to use (``$STREAMREC_CHROMIUM``, ``chromium`` on PATH, then
    ``fallback`` = ``/usr/bin/chromium``), or None when none exists. ``env``/``which``/
    ``fallback`` are injectable for tests."""
    env = os.environ if env is None else env
    if env.get(CHROMIUM_ENV):
        # An explicit choice is never second-guessed: a wrong path is reported, not replaced.
        path = Path(env[CHROMIUM_ENV])
        return path if path.exists() else None
    found = which("chromium")
    if found:
        return Path(found)
    return Path(fallback) if Path(fallback).exists() else None


def install_command(is_root: bool, apt_get: str | None, package: str = CHROMIUM_APT_PACKAGE) -> list[str] | None:
    """The shell command that installs ``package`` (default Chromium) here, or None when this
    machine cannot (not root, or no apt-get). In: whether we are root, the apt-get path (or None)."""
    if not is_root or not apt_get:
        return None
    # ``apt-get update`` first: a fresh container has no package lists yet.
    return ["sh", "-c", f"{apt_get} update -qq && {apt_get} install -y -qq "
                        f"{package} >/dev/null"]


def ensure_chromium(env: dict | None = None, which: Callable[[str], str | None] = shutil.which,
                    is_root: bool | None = None, run: Callable[..., int] | None = None,
                    fallback: str = CHROMIUM_FALLBACK) -> str | None:
    """Make sure Chromium is installed. Out: None when it is (found or just installed), else a
    one-line message saying why not and what to do. Injectable ``env``/``which``/``is_root``/``run``/``fallback``
    let tests exercise every branch without touching the machine."""
    env = os.environ if env is None else env
    if find_chromium(env, which, fallback):
        return None
    if env.get(CHROMIUM_ENV):
        return f"{CHROMIUM_ENV}={env[CHROMIUM_ENV]} does not exist; point it at a Chromium binary"
    manual = (f"install Debian's '{CHROMIUM_APT_PACKAGE}' package (sudo apt-get install "
              f"{CHROMIUM_APT_PACKAGE}) or set {CHROMIUM_ENV}")
    return ensure_debian_package(lambda: find_chromium(env, which, fallback), CHROMIUM_APT_PACKAGE,
                                 "the browser test needs Chromium", manual, which, is_root, run)


def ensure_debian_package(found: Callable[[], object], package: str, purpose: str, manual: str,
                          which: Callable[[str], str | None] = shutil.which,
                          is_root: bool | None = None,
                          run: Callable[..., int] | None = None) -> str | None:
    """Install Debian ``package`` with apt-get when ``found()`` says it is missing and this
    machine can (root + apt-get). Out: None when it is there afterwards, else one line:
    ``purpose`` and why it cannot be installed, or apt-get's failure, then ``manual`` (what
    to do by hand). ``which``/``is_root``/``run`` are injectable for tests."""
    if found():
        return None
    is_root = (os.geteuid() == 0) if is_root is None else is_root
    cmd = install_command(is_root, which("apt-get"), package=package)
    if cmd is None:
        why = "not root" if not is_root else "no apt-get on this system"
        return f"{purpose}, which is missing and cannot be installed here ({why}): {manual}"
    log.warning("%s is missing: installing Debian's %s package (apt-get, one time)", package, package)
    run = run or (lambda c: subprocess.run(c, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}).returncode)
    rc = run(cmd)
    if rc != 0 or not found():
        return f"apt-get could not install {package} (exit {rc}): {manual}"
    return None
