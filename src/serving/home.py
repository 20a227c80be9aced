"""The web app's home page rows, built from :class:`~src.serving.service.Service` calls.

Rows, each ``{title, items}`` with plain-language titles and no model ids or scores:

- "For you": the viewer's recommendations (fold-in of their ratings); with fewer than
  ``ONBOARDING_MIN_RATINGS`` ratings it is restricted to the genres picked at onboarding, so
  the picks visibly shape the first suggestions.
- "Because you liked X": titles similar to X, for the viewer's two latest ratings >= 4.
- "New on <service>": newest titles on the viewer's services, when the catalogue has a
  ``platforms`` column (issue 10 adds it).
- "Popular in <genre>": per picked genre (or, for visitors, the top genres).
"""

from __future__ import annotations

from src.config import HOME_ROW_SIZE, LIKED_MIN_RATING, LIST_SEP
from src.serving.service import Service

ONBOARDING_MIN_RATINGS = 3   # below this, "For you" stays within the picked genres
LIKED_ROWS = 2               # "Because you liked" rows shown
GENRE_ROWS = 3               # "Popular in" rows shown


def _row(title: str, cards: list[dict], exclude: set[int]) -> dict | None:
    """A row of cards without the excluded (rated) titles; None when nothing is left."""
    items = [c for c in cards if c["id"] not in exclude][:HOME_ROW_SIZE]
    return {"title": title, "items": items} if items else None


def new_on_services(service: Service, services: list[str], n: int = HOME_ROW_SIZE) -> list[dict]:
    """Newest titles (by year, then score) available on any of ``services``; [] when the
    catalogue has no ``platforms`` column or the viewer picked none."""
    snap = service.snapshot
    cat = snap.catalogue
    if "platforms" not in cat.columns or not services:
        return []
    wanted = {s.casefold() for s in services}
    cells = cat["platforms"].fillna("").astype(str)
    mask = cells.map(lambda cell: bool(wanted & {p.casefold() for p in cell.split(LIST_SEP) if p}))
    picked = cat.index[mask.to_numpy(dtype=bool)]
    order = sorted(picked, key=lambda mid: (-snap.years[cat.index.get_loc(mid)],
                                            -snap.scores[cat.index.get_loc(mid)]))
    return [{"id": int(mid), "reason": ""} for mid in order[:n]]


def home_rows(service: Service, user_id: int | None) -> list[dict]:
    """The home page rows for a signed-in viewer (``user_id``) or a visitor (None)."""
    rows: list[dict | None] = []
    if user_id is None:
        rows.append(_row("Popular right now", service.cards(service.popular(n=HOME_ROW_SIZE)), set()))
        for genre in service.genres()[:GENRE_ROWS]:
            rows.append(_row(f"Popular in {genre}",
                             service.cards(service.popular(n=HOME_ROW_SIZE, genres=[genre])), set()))
        return [r for r in rows if r]
    ratings = service.user_ratings(user_id)
    rated = {r["movie_id"] for r in ratings}
    picked = service.picked_genres(user_id)
    genres = picked if picked and len(ratings) < ONBOARDING_MIN_RATINGS else None
    # An aggregator recommends what the viewer can watch: "For you" keeps to their services
    # (those the catalogue carries), falling back to everything when that leaves nothing.
    services = service.services(user_id)
    mine = service.parse_platforms(services, known_only=True)
    recs = service.recommend_user(user_id, genres=genres, n=HOME_ROW_SIZE, platforms=mine)
    if mine and not recs["items"]:
        recs = service.recommend_user(user_id, genres=genres, n=HOME_ROW_SIZE)
    rows.append(_row("For you" + (f" on {', '.join(mine)}" if mine and recs["items"] else ""),
                     service.cards(recs["items"], user_id), rated))
    liked = [r for r in ratings if r["rating"] >= LIKED_MIN_RATING and r["title"]][:LIKED_ROWS]
    for r in liked:
        sim = service.similar(r["movie_id"], n=HOME_ROW_SIZE + len(rated))
        rows.append(_row(f"Because you liked {r['title']}", service.cards(sim["items"], user_id), rated))
    new = new_on_services(service, services)
    if new:
        rows.append(_row(f"New on {', '.join(services)}", service.cards(new, user_id), rated))
    for genre in (picked or service.genres())[:GENRE_ROWS]:
        pop = service.popular(n=HOME_ROW_SIZE + len(rated), genres=[genre])
        rows.append(_row(f"Popular in {genre}", service.cards(pop, user_id), rated))
    return [r for r in rows if r]
