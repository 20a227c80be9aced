"""``invoke recommend``: the API's recommendations for one user, printed as a table.

The command answers exactly what ``GET /users/{id}/recommendations`` answers: it goes through
the same :class:`~src.serving.service.Service` (stored ratings folded in, genre names matched
case-insensitively by ``Service.parse_genres``), and checks its arguments with the API's own
validators. The user id and ``n`` are checked *before* the model loads (a typo costs no
multi-second load); genre names need the catalogue, so they are checked right after it loads,
before anything is ranked. Core install only: no FastAPI or Gradio import.
"""

from __future__ import annotations

import pandas as pd

from src.config import MAX_N, PATHS, Paths
from src.data.feedback_store import validate_id, validate_int
from src.serving.service import Service


def print_recommendations(user: object, genres: str | None = None, n: object = 10,
                          paths: Paths = PATHS) -> dict:
    """Print the top-``n`` table for ``user`` (cold start when unknown) and return the reply.

    In: the raw command-line values (strings are fine: ``"15"``, ``"drama,Comedy"``, ``"10"``).
    Out: the API's RecommendationList dict. ValueError names the bad option (``--user``,
    ``-n``, ``genres``); FileNotFoundError when the workspace has no features yet.
    """
    uid = validate_id(user, "--user")
    k = validate_int(n, "-n", 1, MAX_N)
    if not paths.features.exists():
        raise FileNotFoundError(f"no catalogue at {paths.features}: run `invoke data`, `invoke features` and `invoke train` first (or `invoke all`)")
    service = Service(paths)
    try:
        reply = service.recommend_user(uid, genres=genres, n=k)
    finally:
        service.close()
    who = {"cold-start": "unknown user: cold start"}.get(reply["strategy"], f"known user, {reply['strategy']}")
    print(f"Top {len(reply['items'])} for user {uid} ({who}; model {reply['model_version']}):")
    table = pd.DataFrame(reply["items"])
    if not table.empty:
        table["genres"] = table["genres"].map(", ".join)
        table["score"] = table["score"].round(4)
        table["year"] = table["year"].astype("Int64")  # whole years; None for undated titles
    with pd.option_context("display.max_colwidth", 60, "display.width", 160):
        print(table.to_string(index=False))
    return reply
