"""The viewer web app at ``/``: server-rendered Jinja2 pages over the serving layer.

Pages: home rows, title page, search, onboarding, profile, sign-in/sign-up. Everything it
needs is served from this package (``templates/``, ``static/``: CSS, one small JS file, no
fonts beyond the system's), so it works offline and without a build step. Forms work without
JavaScript; ``static/app.js`` only enhances them (rate without a reload, then refresh the
suggestions on screen, and poster placeholders when an image cannot load).

Sign-in sets an HttpOnly ``SameSite=Lax`` session cookie; every form that changes something
carries the session's CSRF token (checked by :func:`~src.serving.auth.optional_viewer`), and
the sign-in/sign-up forms, which have no session yet, refuse a foreign ``Origin``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from src.config import (
    CSRF_FORM_FIELD,
    HOME_ROW_SIZE,
    MAX_N,
    ONBOARDING_TITLES,
    SEARCH_PAGE_SIZE,
    SESSION_COOKIE,
    SESSION_TTL_S,
)
from src.data.accounts_store import UsernameTaken
from src.data.feedback_store import validate_id, validate_rating
from src.data.schema import split_list
from src.serving.auth import Viewer, client_host, get_auth, optional_viewer, same_origin
from src.serving.home import home_rows
from src.serving.ratelimit import RateLimited
from src.utils.logging import get_logger

log = get_logger(__name__)

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(include_in_schema=False)
STAR_CHOICES = [x / 2 for x in range(1, 11)]  # 0.5 .. 5.0
# Streaming services offered at onboarding when the catalogue has no platforms column yet
# (issue 10 adds one; then its distinct values are offered instead).
DEFAULT_SERVICES = ("Netflix", "Prime Video", "Disney Plus", "Max", "Hulu", "Apple TV Plus")

MaybeViewer = Annotated[Optional[Viewer], Depends(optional_viewer)]


def mount_static(app) -> None:
    """Serve ``static/`` at ``/static/app`` (CSS, JS; all local)."""
    app.mount("/static/app", StaticFiles(directory=HERE / "static"), name="web-static")


def _service(request: Request):
    return request.app.state.service


def _page(request: Request, name: str, viewer: Viewer | None, code: int = 200, **ctx) -> HTMLResponse:
    """Render a template with the viewer and CSRF token every page's header needs."""
    ctx.update(viewer=viewer, csrf=viewer.csrf if viewer else "", csrf_field=CSRF_FORM_FIELD,
               stars=STAR_CHOICES)
    return templates.TemplateResponse(request, name, ctx, status_code=code)


def _to(url: str) -> RedirectResponse:
    """303 See Other: after a form POST the browser GETs ``url``."""
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def _signed_in(viewer: Viewer | None) -> Viewer:
    """The viewer, or a redirect to the sign-in page (raised as an HTTPException)."""
    if viewer is None:
        raise HTTPException(status.HTTP_303_SEE_OTHER, "sign in first", headers={"Location": "/login"})
    return viewer


def wants_html(request: Request) -> bool:
    """True for a browser page load or form post (``Accept: text/html``), not an API call."""
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, code: int, message: str) -> HTMLResponse:
    """The app's error page: the one-line message and a way home (for browser requests)."""
    return templates.TemplateResponse(request, "error.html", {
        "viewer": None, "csrf": "", "csrf_field": CSRF_FORM_FIELD, "code": code, "message": message},
        status_code=code)


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _write_allowed(request: Request, viewer: Viewer) -> None:
    """Spend one write token of the viewer (RateLimited -> 429 via the app's handler)."""
    get_auth(request).write_limit.take(str(viewer.user_id))


# ------------------------------------------------------------------ pages
@router.get("/", response_class=HTMLResponse)
def home(request: Request, viewer: MaybeViewer) -> HTMLResponse:
    """Home rows (sign-up leads to onboarding first; skipping it is allowed)."""
    rows = home_rows(_service(request), viewer.user_id if viewer else None)
    return _page(request, "home.html", viewer, rows=rows)


@router.get("/partials/rows", response_class=HTMLResponse)
def rows_partial(request: Request, viewer: MaybeViewer) -> HTMLResponse:
    """The home rows alone (``app.js`` swaps them in after a rating)."""
    rows = home_rows(_service(request), viewer.user_id if viewer else None)
    return _page(request, "_rows.html", viewer, rows=rows)


@router.get("/title/{movie_id}", response_class=HTMLResponse)
def title_page(request: Request, movie_id: int, viewer: MaybeViewer) -> HTMLResponse:
    """One title: details, where to watch, similar titles, the viewer's rating and watchlist."""
    svc = _service(request)
    movie = svc.movie(validate_id(movie_id, "movie_id"))
    uid = viewer.user_id if viewer else None
    similar = svc.cards(svc.similar(movie["id"], n=HOME_ROW_SIZE)["items"], uid)
    mine = {r["movie_id"]: r["rating"] for r in svc.user_ratings(uid)} if uid else {}
    on_list = uid is not None and any(w["movie_id"] == movie["id"] for w in svc.watchlist(uid))
    predicted = svc.predicted_stars(uid).get(movie["id"]) if uid else None
    # Where to watch now: open stays from the availability log, else the catalogue's
    # ``platforms`` column (a workspace whose platforms came with the catalogue file).
    where = ([s["platform"] for s in movie["platforms"] if not s.get("last_seen")]
             or svc.card_rows([movie["id"]])[0]["platforms"])
    return _page(request, "title.html", viewer, movie=movie, similar=similar, where=where,
                 my_rating=mine.get(movie["id"]), on_list=on_list, predicted=predicted)


@router.get("/search", response_class=HTMLResponse)
def search_page(request: Request, viewer: MaybeViewer, q: str = "", offset: int = 0) -> HTMLResponse:
    """Typo-tolerant title search with pages of SEARCH_PAGE_SIZE and a real empty state."""
    svc = _service(request)
    try:
        result = svc.search_page(q, limit=SEARCH_PAGE_SIZE, offset=offset)
        error = None
    except ValueError as exc:
        result, error = {"items": [], "total": 0, "limit": SEARCH_PAGE_SIZE, "offset": 0}, str(exc)
    cards = svc.cards(result["items"], viewer.user_id if viewer else None)
    return _page(request, "search.html", viewer, q=q, result=result, cards=cards, error=error,
                 code=422 if error else 200)


@router.get("/onboarding", response_class=HTMLResponse)
def onboarding(request: Request, viewer: MaybeViewer) -> HTMLResponse:
    """Pick services and genres, rate some popular titles."""
    viewer = _signed_in(viewer)
    svc = _service(request)
    return _page(request, "onboarding.html", viewer, services=available_services(svc),
                 genres=svc.genres(), my_services=svc.services(viewer.user_id),
                 my_genres=svc.picked_genres(viewer.user_id),
                 titles=svc.cards(svc.popular(n=ONBOARDING_TITLES)))


@router.post("/onboarding")
async def onboarding_save(request: Request, viewer: MaybeViewer) -> Response:
    """Store the picks and ratings (``rate-<id>`` fields; empty = not seen), then go home."""
    viewer = _signed_in(viewer)
    svc = _service(request)
    form = await request.form()
    _write_allowed(request, viewer)
    svc.set_services(viewer.user_id, [str(v) for v in form.getlist("service")][:MAX_N])
    svc.set_picked_genres(viewer.user_id, [str(v) for v in form.getlist("genre")][:MAX_N])
    for key, value in form.multi_items():
        if key.startswith("rate-") and value:
            svc.rate(viewer.user_id, validate_id(key[5:], "movie_id"), validate_rating(value),
                     sent_by=viewer.user_id, client="web")
    return _to("/")


@router.get("/profile", response_class=HTMLResponse)
def profile(request: Request, viewer: MaybeViewer) -> HTMLResponse:
    """My ratings (edit, delete), my watchlist, my services."""
    viewer = _signed_in(viewer)
    svc = _service(request)
    return _page(request, "profile.html", viewer, ratings=svc.user_ratings(viewer.user_id),
                 watchlist=svc.watchlist(viewer.user_id), services=available_services(svc),
                 my_services=svc.services(viewer.user_id))


def available_services(svc) -> list[str]:
    """Services a viewer can pick: the catalogue's platforms, else DEFAULT_SERVICES."""
    cat = svc.snapshot.catalogue
    if "platforms" in cat.columns:
        names = sorted({p for cell in cat["platforms"].dropna().unique() for p in split_list(cell)})
        if names:
            return names
    return list(DEFAULT_SERVICES)


# ------------------------------------------------------------------ writes (forms)
@router.post("/title/{movie_id}/rate")
def rate(request: Request, movie_id: int, viewer: MaybeViewer,
         rating: Annotated[str, Form()], next_url: Annotated[str, Form(alias="next")] = "") -> Response:
    """Store the viewer's rating; JSON for ``app.js``, else back to the page it came from."""
    viewer = _signed_in(viewer)
    _write_allowed(request, viewer)
    row = _service(request).rate(viewer.user_id, validate_id(movie_id, "movie_id"),
                                 validate_rating(rating), sent_by=viewer.user_id, client="web")
    if _wants_json(request):
        return JSONResponse(row)
    return _to(_local(next_url) or f"/title/{movie_id}")


@router.post("/title/{movie_id}/unrate")
def unrate(request: Request, movie_id: int, viewer: MaybeViewer,
           next_url: Annotated[str, Form(alias="next")] = "") -> Response:
    """Delete the viewer's rating of the title."""
    viewer = _signed_in(viewer)
    _write_allowed(request, viewer)
    _service(request).unrate(viewer.user_id, validate_id(movie_id, "movie_id"))
    return _to(_local(next_url) or "/profile")


@router.post("/title/{movie_id}/watchlist")
def watchlist(request: Request, movie_id: int, viewer: MaybeViewer,
              action: Annotated[str, Form()] = "add",
              next_url: Annotated[str, Form(alias="next")] = "") -> Response:
    """Add the title to (``action=add``) or remove it from (``remove``) the watchlist."""
    viewer = _signed_in(viewer)
    _write_allowed(request, viewer)
    svc, mid = _service(request), validate_id(movie_id, "movie_id")
    if action == "remove":
        svc.unwatch(viewer.user_id, mid)
    elif action == "add":
        svc.watch_later(viewer.user_id, mid)
    else:
        raise ValueError("action must be 'add' or 'remove'")
    return _to(_local(next_url) or f"/title/{movie_id}")


@router.post("/profile/services")
async def save_services(request: Request, viewer: MaybeViewer) -> Response:
    """Replace the viewer's services from the profile form's checkboxes."""
    viewer = _signed_in(viewer)
    _write_allowed(request, viewer)
    form = await request.form()
    _service(request).set_services(viewer.user_id, [str(v) for v in form.getlist("service")][:MAX_N])
    return _to("/profile")


def _local(url: str) -> str:
    """``url`` when it is a path on this site ("/..." but not "//host"), else "" (no open
    redirects through the ``next`` field)."""
    return url if isinstance(url, str) and url.startswith("/") and not url.startswith("//") \
        and "\\" not in url and len(url) < 500 else ""


# ------------------------------------------------------------------ sign-in
@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, viewer: MaybeViewer) -> HTMLResponse:
    return _page(request, "login.html", viewer, mode="login", error=None, username="")


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request, viewer: MaybeViewer) -> HTMLResponse:
    return _page(request, "login.html", viewer, mode="signup", error=None, username="")


def _start_session(request: Request, uid: int, url: str) -> Response:
    """Open a web session for ``uid``, set its cookie and redirect to ``url``."""
    token, _csrf = get_auth(request).accounts.new_session(uid, "web")
    resp = _to(url)
    resp.set_cookie(SESSION_COOKIE, token, max_age=SESSION_TTL_S, httponly=True, samesite="lax",
                    secure=request.url.scheme == "https", path="/")
    return resp


def _credentials_form(request: Request, mode: str, username: str, password: str) -> Response:
    """Sign in or sign up from the form; the form again with a one-line error when refused."""
    if not same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-site request refused")
    auth = get_auth(request)
    try:
        if mode == "signup":
            auth.sign_up_limit.take(client_host(request))
            uid = auth.accounts.create_account(username, password)
            return _start_session(request, uid, "/onboarding")
        auth.take_sign_in(client_host(request), username)
        uid = auth.accounts.verify_login(username, password)
        if uid is None:
            raise ValueError("wrong username or password")
        return _start_session(request, uid, "/")
    except (ValueError, RateLimited) as exc:
        code = 429 if isinstance(exc, RateLimited) else 409 if isinstance(exc, UsernameTaken) else 400
        return _page(request, "login.html", None, code=code, mode=mode, error=str(exc),
                     username=username[:64])


@router.post("/login")
def login(request: Request, username: Annotated[str, Form(max_length=64)],
          password: Annotated[str, Form(max_length=1024)]) -> Response:
    return _credentials_form(request, "login", username, password)


@router.post("/signup")
def signup(request: Request, username: Annotated[str, Form(max_length=64)],
           password: Annotated[str, Form(max_length=1024)]) -> Response:
    return _credentials_form(request, "signup", username, password)


@router.post("/logout")
def logout(request: Request, viewer: MaybeViewer) -> Response:
    """End the cookie session (CSRF-checked like every cookie write) and go home."""
    if viewer is not None:
        get_auth(request).accounts.end_session(request.cookies.get(SESSION_COOKIE))
    resp = _to("/")
    resp.delete_cookie(SESSION_COOKIE, path="/")
    return resp
