"""The admin token of a workspace: env ``STREAMREC_ADMIN_TOKEN`` or ``paths.admin_key``.

In the data layer because both sides use it: the server (``src.serving.auth``) creates and
checks it; clients on this machine (``invoke update``/``invoke train --server-url``,
``src.pipeline.update.notify_server``) read it to call ``/admin/reload``. No web libraries
needed, so the core install can send reloads.
"""

from __future__ import annotations

import os
import secrets

from src.config import ADMIN_TOKEN_ENV, Paths
from src.utils.io import atomic_path
from src.utils.logging import get_logger

log = get_logger(__name__)


def read_admin_token(paths: Paths) -> str | None:
    """The admin token a *client* on this machine sends (``invoke update``/``train
    --server-url``): env ``STREAMREC_ADMIN_TOKEN``, else the key file if it exists, else None."""
    env = os.environ.get(ADMIN_TOKEN_ENV, "").strip()
    if env:
        return env
    try:
        return paths.admin_key.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def load_admin_token(paths: Paths) -> str | None:
    """The admin token: env ``STREAMREC_ADMIN_TOKEN``, else ``paths.admin_key`` (created with a
    fresh random token, mode 0600, when missing). Out: None when neither can be had (the
    admin routes then serve loopback clients only)."""
    env = os.environ.get(ADMIN_TOKEN_ENV, "").strip()
    if env:
        return env
    key = paths.admin_key
    try:
        if not key.exists():
            key.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(key.parent, 0o700)
            with atomic_path(key) as tmp:
                os.chmod(tmp, 0o600)  # before the token is written: never readable by others
                tmp.write_text(secrets.token_urlsafe(32) + "\n", encoding="utf-8")
            log.info("admin key created at %s (mode 0600)", key)
        token = key.read_text(encoding="utf-8").strip()
        return token or None
    except OSError as exc:
        log.warning("no admin key (%s); /admin/* answers loopback clients only", exc)
        return None
