"""Test/bench helpers for StreamRec accounts: sign up viewers and read the admin token.

They go through the real API (``POST /auth/signup``) and the real key file the server wrote,
so callers exercise what clients do.
"""

from __future__ import annotations

import itertools
import os

import httpx

from src.config import Paths

_SEQ = itertools.count(1)


def signup(client: httpx.Client, prefix: str = "viewer") -> tuple[int, dict]:
    """Create a fresh viewer. Out: ``(user_id, headers)`` with ``Authorization: Bearer``."""
    name = f"{prefix}{os.getpid()}_{next(_SEQ)}"[:32]
    res = client.post("/auth/signup", json={"username": name, "password": "correct horse 1"})
    res.raise_for_status()
    body = res.json()
    return int(body["user_id"]), {"Authorization": f"Bearer {body['token']}"}


def admin_headers(paths: Paths) -> dict:
    """``Authorization`` with the admin token the server created in ``paths`` at start-up."""
    return {"Authorization": f"Bearer {paths.admin_key.read_text(encoding='utf-8').strip()}"}
