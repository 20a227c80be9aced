"""StreamRec's web UI: a Gradio Blocks app mounted at ``/ui`` on the API's FastAPI app.

Four tabs — "Recommendations", "Rate titles", "New here?" and "Similar titles" — whose
callbacks call the same :class:`~src.serving.service.Service` methods as the HTTP API (no
HTTP to itself). Bad input shows a message in the tab's status line instead of raising.
Every component that a browser test drives carries an ``elem_id``.

Who is asking: the web app's session cookie (sign in at ``/``) names the viewer. Ratings are
saved only for a signed-in viewer (never into a typed-in id, so nothing lands in MovieLens
user 1's profile); "Recommendations" shows a training user's list when an id is typed (public,
as in the API) or the signed-in viewer's own; "New here?" needs no account and stores nothing.
The cookie is ``SameSite=Lax``, so a cross-site page cannot drive these callbacks as the viewer.
"""

from __future__ import annotations

import functools
import os
from typing import Any, Callable

# Gradio reports usage to its servers unless told not to; the server must make no outside
# calls, and the variable is read when gradio is imported, hence before the import.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from src.config import EXTRA_MODULES  # noqa: E402
from src.utils.extras import require_extra  # noqa: E402

# Before FastAPI/Gradio imports: without the [serve] extra, one line naming the pip command.
require_extra("serve", EXTRA_MODULES["serve"], __name__)

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402

from src.config import MAX_N, SESSION_COOKIE, VIEWER_ID_BASE  # noqa: E402
from src.data.feedback_store import validate_id  # noqa: E402
from src.serving.service import Service  # noqa: E402
from src.utils.logging import get_logger  # noqa: E402

log = get_logger(__name__)

TABLE_COLUMNS = ["title", "year", "genres", "score", "reason"]
RATED_COLUMNS = ["title", "rating", "movie_id"]
VISITOR_SLOTS = 8          # popular titles a visitor can rate on "New here?"
SEARCH_LIMIT = 20


def items_table(items: list[dict]) -> pd.DataFrame:
    """Recommendation dicts as the table the UI shows (genres joined, score rounded)."""
    rows = [{"title": it["title"], "year": "" if it.get("year") is None else str(it["year"]),
             "genres": ", ".join(it.get("genres") or []),
             "score": None if it.get("score") is None else round(float(it["score"]), 3),
             "reason": it.get("reason", "")} for it in items]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _label(movie: dict) -> str:
    """How a title appears in pick lists: "Title (1999)" plus "[series]" for series."""
    year = f" ({movie['year']})" if movie.get("year") else ""
    kind = " [series]" if movie.get("media_type") == "series" else ""
    return f"{movie['title']}{year}{kind}"


def _signed_in(service: Service, request: gr.Request | None) -> int | None:
    """The viewer id of the web-app session cookie on this Gradio request, or None."""
    raw = getattr(request, "request", None) if request is not None else None
    cookies = getattr(raw, "cookies", None) or {}
    session = service.accounts.session(cookies.get(SESSION_COOKIE))
    return session.user_id if session is not None and session.kind == "web" else None


def _user_id(value: Any, viewer: int | None) -> int:
    """Whose recommendations to show: a typed training user id, else the signed-in viewer.

    ValueError naming ``user id`` when nothing is typed and nobody is signed in, or when the
    typed id is another viewer's (viewer data is private).
    """
    if value is None or value == "":
        if viewer is None:
            raise ValueError("user id: type a training user id, or sign in at / to see your own")
        return viewer
    uid = validate_id(value, "user id")
    if uid >= VIEWER_ID_BASE and uid != viewer:
        raise ValueError("user id: viewer accounts are private; sign in at / as that viewer")
    return uid


def _viewer_or_refuse(service: Service, request: gr.Request | None) -> int:
    """The signed-in viewer, or ValueError telling the visitor how to save ratings."""
    uid = _signed_in(service, request)
    if uid is None:
        raise ValueError("sign in at / to save ratings ('New here?' works without an account)")
    return uid


def _guard(fn: Callable[..., tuple], n_outputs: int) -> Callable[..., tuple]:
    """Wrap a callback so bad input becomes a status message (last output), not a crash.

    ``functools.wraps`` keeps ``fn``'s signature visible, so Gradio still sees (and fills)
    a ``request: gr.Request`` parameter.
    """

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> tuple:
        try:
            return fn(*args, **kwargs)
        except (ValueError, KeyError) as exc:
            msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
            log.info("UI %s refused input: %s", getattr(fn, "__name__", "callback"), msg)
            return tuple([gr.skip()] * (n_outputs - 1)) + (f"⚠️ {msg}",)

    return wrapped


def build_ui(service: Service) -> gr.Blocks:
    """Build the Blocks app over ``service``. Out: the (not yet launched) ``gr.Blocks``."""
    genres = service.genres()
    services = service.platforms()

    with gr.Blocks(title="StreamRec", analytics_enabled=False) as demo:
        gr.Markdown("# StreamRec\nMovie and series recommendations. "
                    "API docs at [/docs](/docs).")

        # ---------------------------------------------------------------- Recommendations
        with gr.Tab("Recommendations", elem_id="tab-recs"):
            with gr.Row():
                rec_user = gr.Number(label="Training user id (blank: you, when signed in at /)",
                                     value=None, precision=0, elem_id="rec-user")
                rec_n = gr.Slider(1, MAX_N, value=10, step=1, label="How many", elem_id="rec-n")
            rec_genres = gr.CheckboxGroup(genres, label="Genres (none = all)", elem_id="rec-genres")
            rec_media = gr.Radio(["any", "movie", "series"], value="any", label="Type",
                                 elem_id="rec-media")
            # The aggregator's "my services": only titles available now on a ticked platform.
            # Hidden when the catalogue has no platform snapshots (nothing to choose from).
            rec_services = gr.CheckboxGroup(services, label="My services (none = every platform)",
                                            elem_id="rec-services", visible=bool(services))
            rec_btn = gr.Button("Recommend", variant="primary", elem_id="rec-submit")
            rec_status = gr.Markdown(elem_id="rec-status")
            rec_table = gr.Dataframe(headers=TABLE_COLUMNS, interactive=False, wrap=True,
                                     elem_id="rec-table")

            def recommend(user, chosen, n, media, on, request: gr.Request):
                """Recommendations for the typed user id (or the signed-in viewer), filtered by
                genres, type and the ticked services."""
                uid = _user_id(user, _signed_in(service, request))
                res = service.recommend_user(uid, genres=chosen or None, n=int(n),
                                             media_type=None if media == "any" else media,
                                             platforms=on or None)
                note = (f"{len(res['items'])} titles for user {res['user_id']} "
                        f"({res['strategy']}, {res['ratings_used']} of your ratings used, "
                        f"model {res['model_version']})")
                return items_table(res["items"]), note

            rec_btn.click(_guard(recommend, 2), [rec_user, rec_genres, rec_n, rec_media, rec_services],
                          [rec_table, rec_status])

        # ---------------------------------------------------------------- Rate titles
        with gr.Tab("Rate titles", elem_id="tab-rate"):
            gr.Markdown("Ratings are saved for the viewer signed in at [/](/).")
            with gr.Row():
                rate_show = gr.Button("Show my ratings", elem_id="rate-show")
                rate_query = gr.Textbox(label="Search a title", placeholder="e.g. toy story",
                                        elem_id="rate-query")
                rate_search = gr.Button("Search", elem_id="rate-search")
            rate_pick = gr.Dropdown(choices=[], label="Pick a title", elem_id="rate-pick")
            rate_stars = gr.Slider(0.5, 5.0, value=4.0, step=0.5, label="Your rating (stars)",
                                   elem_id="rate-stars")
            rate_btn = gr.Button("Save rating", variant="primary", elem_id="rate-submit")
            rate_status = gr.Markdown(elem_id="rate-status")
            with gr.Row():
                rate_mine = gr.Dataframe(headers=RATED_COLUMNS, interactive=False,
                                         label="Your ratings", elem_id="rate-mine")
                rate_recs = gr.Dataframe(headers=TABLE_COLUMNS, interactive=False, wrap=True,
                                         label="Recommended from them", elem_id="rate-recs")

            def search(query):
                """Search results as dropdown choices (label, id)."""
                hits = service.search(query=query or None, limit=SEARCH_LIMIT)
                choices = [(_label(m), m["id"]) for m in hits]
                first = choices[0][1] if choices else None
                return gr.Dropdown(choices=choices, value=first), f"{len(hits)} matches"

            def mine_and_recs(uid: int) -> tuple[pd.DataFrame, pd.DataFrame]:
                """The user's ratings table and recommendations refreshed from them."""
                rows = service.user_ratings(uid)
                mine = pd.DataFrame([{"title": r["title"], "rating": r["rating"],
                                      "movie_id": r["movie_id"]} for r in rows],
                                    columns=RATED_COLUMNS)
                recs = service.recommend_user(uid, n=10)["items"]
                return mine, items_table(recs)

            def save(movie_id, stars, request: gr.Request):
                """Store the signed-in viewer's rating, then refresh their ratings and list."""
                uid = _viewer_or_refuse(service, request)
                if movie_id in (None, ""):
                    raise ValueError("title: search and pick a title first")
                row = service.rate(uid, int(movie_id), float(stars), sent_by=uid, client="ui")
                mine, recs = mine_and_recs(uid)
                return mine, recs, f"Saved {row['rating']} ★ for {row['title']}"

            def show_mine(request: gr.Request):
                """Load the signed-in viewer's ratings and recommendations."""
                uid = _viewer_or_refuse(service, request)
                mine, recs = mine_and_recs(uid)
                return mine, recs, f"{len(mine)} ratings stored for you"

            rate_search.click(_guard(search, 2), [rate_query], [rate_pick, rate_status])
            rate_query.submit(_guard(search, 2), [rate_query], [rate_pick, rate_status])
            rate_btn.click(_guard(save, 3), [rate_pick, rate_stars], [rate_mine, rate_recs, rate_status])
            rate_show.click(_guard(show_mine, 3), [], [rate_mine, rate_recs, rate_status])

        # ---------------------------------------------------------------- New here?
        with gr.Tab("New here?", elem_id="tab-new"):
            gr.Markdown("No account needed: rate a few titles you know (0 = not seen) and get "
                        "recommendations straight away.")
            new_genres = gr.CheckboxGroup(genres, label="Show popular titles in", elem_id="new-genres")
            new_show = gr.Button("Show popular titles", elem_id="new-show")
            new_ids = gr.State([])
            sliders = [gr.Slider(0, 5.0, value=0, step=0.5, label=f"title {i + 1}",
                                 elem_id=f"new-rate-{i}") for i in range(VISITOR_SLOTS)]
            new_btn = gr.Button("Recommend for me", variant="primary", elem_id="new-submit")
            new_status = gr.Markdown(elem_id="new-status")
            new_table = gr.Dataframe(headers=TABLE_COLUMNS, interactive=False, wrap=True,
                                     elem_id="new-table")

            def show_popular(chosen):
                """Fill the sliders with the most popular titles (optionally in genres)."""
                items = service.popular(n=VISITOR_SLOTS, genres=chosen or None)
                ids = [it["id"] for it in items]
                updates = [gr.Slider(label=_label(items[i]), value=0, visible=True)
                           if i < len(items) else gr.Slider(visible=False)
                           for i in range(VISITOR_SLOTS)]
                return (ids, *updates, f"{len(items)} popular titles: rate those you have seen")

            def visitor(ids, *stars):
                """Recommendations from the visitor's non-zero slider ratings."""
                ratings = {int(mid): float(s) for mid, s in zip(ids, stars) if s and float(s) > 0}
                if not ratings:
                    raise ValueError("rating: rate at least one title above 0")
                res = service.recommend_for_ratings(ratings, n=10)
                return items_table(res["items"]), f"{len(res['items'])} titles from your {len(ratings)} ratings"

            new_show.click(_guard(show_popular, 2 + VISITOR_SLOTS), [new_genres],
                           [new_ids, *sliders, new_status])
            demo.load(_guard(show_popular, 2 + VISITOR_SLOTS), [new_genres],
                      [new_ids, *sliders, new_status])
            new_btn.click(_guard(visitor, 2), [new_ids, *sliders], [new_table, new_status])

        # ---------------------------------------------------------------- Similar titles
        with gr.Tab("Similar titles", elem_id="tab-similar"):
            with gr.Row():
                sim_query = gr.Textbox(label="Search a title", elem_id="sim-query")
                sim_search = gr.Button("Search", elem_id="sim-search")
            sim_pick = gr.Dropdown(choices=[], label="Pick a title", elem_id="sim-pick")
            sim_n = gr.Slider(1, 50, value=10, step=1, label="How many", elem_id="sim-n")
            sim_btn = gr.Button("Find similar", variant="primary", elem_id="sim-submit")
            sim_status = gr.Markdown(elem_id="sim-status")
            sim_table = gr.Dataframe(headers=TABLE_COLUMNS, interactive=False, wrap=True,
                                     elem_id="sim-table")

            def similar(movie_id, n):
                """Titles similar to the picked one."""
                if movie_id in (None, ""):
                    raise ValueError("title: search and pick a title first")
                res = service.similar(int(movie_id), n=int(n))
                title = service.movie(int(movie_id))["title"]
                return items_table(res["items"]), f"{len(res['items'])} titles similar to {title}"

            sim_search.click(_guard(search, 2), [sim_query], [sim_pick, sim_status])
            sim_query.submit(_guard(search, 2), [sim_query], [sim_pick, sim_status])
            sim_btn.click(_guard(similar, 2), [sim_pick, sim_n], [sim_table, sim_status])

    return demo
