"""Who is asking: bearer tokens, cookie sessions with CSRF protection, and the admin guard.

FastAPI dependencies used by the routers:

- :func:`optional_viewer` / :func:`require_viewer`: the signed-in viewer from
  ``Authorization: Bearer <token>`` (API) or the ``streamrec_session`` cookie (web app);
  ``require_viewer`` answers 401 (with ``WWW-Authenticate: Bearer``) when there is none.
  A cookie-authenticated unsafe request (POST/PUT/DELETE) must also carry the session's CSRF
  token in the ``X-CSRF-Token`` header or a ``csrf_token`` form field (synchronizer token),
  and an ``Origin`` header, when sent, must be this server: else 403. Bearer requests need
  neither, since browsers never attach a bearer token by themselves.
- :func:`require_owner`: the viewer must be the ``{user_id}`` of the path (403 otherwise) and
  within the write rate limit for unsafe methods (429).
- :func:`require_admin`: ``/admin/*`` needs the admin token (env ``STREAMREC_ADMIN_TOKEN`` or
  the key file created at first start); when neither can be had, loopback clients only. A
  browser form (form/text content types, or a foreign ``Origin``) is always refused, so a
  cross-site page cannot POST to ``/admin/reload``.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from typing import Annotated, Optional
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from src.config import (
    ADMIN_TOKEN_ENV,
    AUTH_ADDRESS_RATE,
    AUTH_RATE,
    CSRF_FORM_FIELD,
    CSRF_HEADER,
    SESSION_COOKIE,
    SIGNUP_RATE,
    WRITE_RATE,
)
from src.data.accounts_store import AccountStore, Session
from src.data.feedback_store import MAX_ID
from src.serving.ratelimit import TokenBucket
from src.serving.schemas import CanonicalInt
from src.utils.logging import get_logger

log = get_logger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Content types a cross-site HTML form (or fetch without a CORS preflight) can send.
BROWSER_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")

bearer_scheme = HTTPBearer(
    auto_error=False, scheme_name="viewerToken",
    description="The `token` from `POST /auth/signup` or `POST /auth/login`.")
admin_scheme = HTTPBearer(
    auto_error=False, scheme_name="adminToken",
    description=f"The admin token: ${ADMIN_TOKEN_ENV}, or the server's `secrets/admin.key`.")


@dataclass(frozen=True)
class Viewer:
    """The signed-in viewer of one request and how they proved it ("bearer" or "cookie")."""

    user_id: int
    username: str
    via: str
    csrf: str


class Auth:
    """The app's authentication state: the account store, admin token and rate limiters."""

    def __init__(self, accounts: AccountStore, admin_token: str | None, rate_limits: bool = True) -> None:
        self.accounts = accounts
        self.admin_token = admin_token
        self._sign_in_name = TokenBucket(AUTH_RATE["burst"], AUTH_RATE["per_s"], "sign-in attempts",
                                         enabled=rate_limits)
        self._sign_in_address = TokenBucket(AUTH_ADDRESS_RATE["burst"], AUTH_ADDRESS_RATE["per_s"],
                                            "sign-in attempts", enabled=rate_limits)
        self.sign_up_limit = TokenBucket(SIGNUP_RATE["burst"], SIGNUP_RATE["per_s"], "sign-ups",
                                         enabled=rate_limits)
        self.write_limit = TokenBucket(WRITE_RATE["burst"], WRITE_RATE["per_s"], "writes",
                                       enabled=rate_limits)


    def take_sign_in(self, address: str, username: str) -> None:
        """Spend a sign-in token of the address + username and one of the address (RateLimited)."""
        self._sign_in_address.take(address)
        self._sign_in_name.take(f"{address}|{username.casefold()}")


def get_auth(request: Request) -> Auth:
    """The app's :class:`Auth` (set by ``create_app``)."""
    return request.app.state.auth


def client_host(request: Request) -> str:
    """The peer address of the request ("" when unknown, e.g. under a test transport)."""
    return request.client.host if request.client else ""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8 and ::1 (and TestClient's "testclient" pseudo-host is not)."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def same_origin(request: Request) -> bool:
    """False when the request carries an ``Origin`` (or, lacking one, a ``Referer``) of
    another host:port than the one it was sent to; True when it carries neither."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True
    if origin == "null":  # sandboxed frames and some redirects: never this app's own pages
        return False
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def _check_csrf(request: Request, session: Session) -> None:
    """403 unless an unsafe cookie-authenticated request proves it came from our own page."""
    if request.method in SAFE_METHODS:
        return
    if not same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site request refused")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(BROWSER_FORM_TYPES[:2]):
        sent = (await request.form()).get(CSRF_FORM_FIELD)  # parsed once; routes reuse it
    if not isinstance(sent, str) or not hmac.compare_digest(sent, session.csrf):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong")


async def optional_viewer(
    request: Request,
    creds: Annotated[Optional[HTTPAuthorizationCredentials], Depends(bearer_scheme)],
) -> Viewer | None:
    """The signed-in viewer, or None. A bearer token wins over a cookie; a bad bearer token
    is a 401 (the client meant to sign in), a stale cookie just means "signed out"."""
    auth = get_auth(request)
    if creds is not None:
        session = auth.accounts.session(creds.credentials)
        if session is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or expired token",
                                headers={"WWW-Authenticate": "Bearer"})
        return Viewer(session.user_id, session.username, "bearer", session.csrf)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        session = auth.accounts.session(cookie)
        if session is not None and session.kind == "web":
            await _check_csrf(request, session)
            return Viewer(session.user_id, session.username, "cookie", session.csrf)
    return None


async def require_viewer(
    viewer: Annotated[Optional[Viewer], Depends(optional_viewer)],
) -> Viewer:
    """The signed-in viewer, or 401."""
    if viewer is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "sign in first (Authorization: Bearer <token>)",
                            headers={"WWW-Authenticate": "Bearer"})
    return viewer


async def require_owner(
    request: Request,
    user_id: Annotated[CanonicalInt, Path(ge=0, le=MAX_ID, description="viewer id (from /auth/signup)")],
    viewer: Annotated[Viewer, Depends(require_viewer)],
) -> Viewer:
    """The viewer, when they are the path's ``user_id`` (403 otherwise); writes also spend one
    token of the viewer's write bucket (429 when empty)."""
    if viewer.user_id != user_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "you can only see and change your own data")
    if request.method not in SAFE_METHODS:
        get_auth(request).write_limit.take(str(viewer.user_id))
    return viewer


async def require_admin(
    request: Request,
    creds: Annotated[Optional[HTTPAuthorizationCredentials], Depends(admin_scheme)],
) -> None:
    """Pass admin requests: the right admin token, or (no token configured) a loopback client.

    Browser-form requests and foreign origins are refused first (403), whatever they carry.
    """
    ctype = request.headers.get("content-type", "").lower()
    if ctype.startswith(BROWSER_FORM_TYPES) or not same_origin(request) \
            or request.headers.get("sec-fetch-site") == "cross-site":
        raise HTTPException(status.HTTP_403_FORBIDDEN, "admin endpoints refuse browser form posts")
    token = get_auth(request).admin_token
    if token is None:
        if not is_loopback(client_host(request)):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "admin endpoints answer loopback clients only")
        return
    if creds is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "admin token required",
                            headers={"WWW-Authenticate": "Bearer"})
    if not hmac.compare_digest(creds.credentials.encode(), token.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong admin token")
