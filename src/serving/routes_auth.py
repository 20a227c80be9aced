"""``/auth/*``: sign-up, sign-in, sign-out and "who am I" for API clients (bearer tokens).

Contract (scripts depend on it): ``POST /auth/signup`` ``{username, password}`` -> 201
``{user_id, token}``; ``POST /auth/login`` -> 200 ``{user_id, token}``; a taken username is
409, a wrong password 401, too many attempts 429. The web app signs in through its own form
routes (``src.serving.web``) with a cookie session instead.
"""

from __future__ import annotations

from typing import Annotated, Optional

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials

from src.config import SESSION_COOKIE
from src.data.accounts_store import validate_password, validate_username
from src.serving.auth import (
    Viewer,
    bearer_scheme,
    client_host,
    get_auth,
    require_viewer,
)
from src.serving.schemas import AuthOut, Credentials, ErrorOut, Me
from src.utils.logging import get_logger

log = get_logger(__name__)

router = APIRouter(prefix="/auth", tags=["auth"])
ERRORS = {401: {"model": ErrorOut}, 409: {"model": ErrorOut}, 422: {"model": ErrorOut},
          429: {"model": ErrorOut}}


@router.post("/signup", response_model=AuthOut, status_code=status.HTTP_201_CREATED, responses=ERRORS)
def signup(request: Request, body: Credentials) -> dict:
    """Create a viewer account and return its id and a bearer token."""
    auth = get_auth(request)
    # Malformed names/passwords are refused (422) before they spend a sign-up token.
    validate_username(body.username)
    validate_password(body.password)
    auth.sign_up_limit.take(client_host(request))
    uid = auth.accounts.create_account(body.username, body.password)
    token, _csrf = auth.accounts.new_session(uid, "api")
    return {"user_id": uid, "token": token}


@router.post("/login", response_model=AuthOut, responses=ERRORS)
def login(request: Request, body: Credentials) -> dict:
    """Check a username/password and return a new bearer token (401 if they do not match)."""
    auth = get_auth(request)
    auth.take_sign_in(client_host(request), body.username)
    uid = auth.accounts.verify_login(body.username, body.password)
    if uid is None:
        log.info("failed sign-in from %s", client_host(request))
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password",
                            headers={"WWW-Authenticate": "Bearer"})
    token, _csrf = auth.accounts.new_session(uid, "api")
    return {"user_id": uid, "token": token}


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=ERRORS)
def logout(request: Request, _viewer: Annotated[Viewer, Depends(require_viewer)],
           creds: Annotated[Optional[HTTPAuthorizationCredentials], Depends(bearer_scheme)]) -> None:
    """End the session that authenticated this request (bearer token, or the web cookie)."""
    accounts = get_auth(request).accounts
    accounts.end_session(creds.credentials if creds is not None else request.cookies.get(SESSION_COOKIE))


@router.get("/me", response_model=Me, responses=ERRORS)
async def me(request: Request, viewer: Annotated[Viewer, Depends(require_viewer)]) -> dict:
    """The signed-in viewer's id, username, services and picked genres."""
    accounts = get_auth(request).accounts
    return {"user_id": viewer.user_id, "username": viewer.username,
            "services": accounts.services(viewer.user_id), "genres": accounts.genres(viewer.user_id)}
