"""Pydantic models of the StreamRec API: request bodies, replies, and the error shape.

They document the API in the OpenAPI page (``/docs``) and validate input at the edge, so a
bad value becomes a 422 naming the field instead of reaching the recommender.
"""

from __future__ import annotations

from typing import Annotated, Literal, Optional

from src.config import EXTRA_MODULES
from src.utils.extras import require_extra

# Before FastAPI/Gradio imports: without the [serve] extra, one line naming the pip command.
require_extra("serve", EXTRA_MODULES["serve"], __name__)

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, field_validator  # noqa: E402

from src.config import PASSWORD_MAX_LEN, PASSWORD_MIN_LEN  # noqa: E402
from src.data.feedback_store import MAX_ID, validate_rating  # noqa: E402
from src.utils.numbers import parse_canonical_int  # noqa: E402

MediaType = Literal["movie", "series"]


def _canonical_int(value: object) -> int:
    """A path/query value (text) or JSON integer as int; anything looser is a 422.

    Pydantic's lax mode would turn " 12 ", "+5", "1_000" and even "４" into ints; here text
    must be the canonical ASCII spelling (:func:`src.utils.numbers.parse_canonical_int`).
    """
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return parse_canonical_int(value)
        except ValueError:
            raise ValueError("must be an integer written with ASCII digits only (e.g. 12)") from None
    raise ValueError("must be an integer")


# Use for every integer path and query parameter (ids, n, limit, year_from).
CanonicalInt = Annotated[int, BeforeValidator(_canonical_int)]


class RatingIn(BaseModel):
    """Body of ``POST /users/{id}/ratings``: one rating of one catalogue title."""

    model_config = ConfigDict(extra="forbid")

    # StrictInt: "12" or 12.7 are refused rather than silently coerced.
    movie_id: StrictInt = Field(..., ge=0, le=MAX_ID, description="catalogue (TMDB) id", examples=[862])
    rating: float = Field(..., description="0.5 to 5.0 in steps of 0.5", examples=[4.5])

    @field_validator("rating", mode="before")
    @classmethod
    def _half_steps(cls, value: object) -> float:
        """Refuse anything but a JSON number on the 0.5–5.0 scale in half steps (a string such
        as "４" or "4" is refused, a 400-digit integer too; the message names 'rating')."""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"rating must be a JSON number, got {type(value).__name__}")
        return validate_rating(value, "rating")


class RatingOut(BaseModel):
    """One stored rating."""

    user_id: int
    movie_id: int
    rating: float
    timestamp: int = Field(..., description="Unix seconds of the last change")
    title: Optional[str] = None


class Movie(BaseModel):
    """A catalogue title as the API shows it (lists as JSON arrays)."""

    id: int
    title: str
    year: Optional[int] = None
    genres: list[str] = []
    media_type: str = "movie"
    score: Optional[float] = Field(None, description="popularity/quality score_final, 0–1")
    poster_path: Optional[str] = Field(None, description='TMDB poster path, e.g. "/abc.jpg"')
    poster_url: Optional[str] = Field(None, description="TMDB image URL of the poster")


class PlatformStay(BaseModel):
    """One stay of a title on a platform (from dated snapshots)."""

    platform: str
    first_seen: str = Field(..., description="as-of date of the first snapshot listing it")
    last_seen: Optional[str] = Field(None, description="first snapshot without it; null while available")


class PlatformSummary(BaseModel):
    """A platform and what it carries now."""

    platform: str
    titles: int
    movies: int
    series: int
    last_snapshot: Optional[str] = None


class PlatformArrival(Movie):
    """A title on a platform with the date it arrived there."""

    first_seen: str


class MovieDetail(Movie):
    """A title with the descriptive fields the catalogue holds (when present)."""

    overview: Optional[str] = None
    tagline: Optional[str] = None
    release_date: Optional[str] = None
    runtime: Optional[float] = None
    vote_average: Optional[float] = None
    vote_count: Optional[float] = None
    directors: list[str] = []
    cast: list[str] = []
    keywords: list[str] = []
    platforms: list[PlatformStay] = Field([], description="where it can be / could be watched, "
                                          "with first/last seen (last_seen null while available)")
    number_of_seasons: Optional[int] = None


class Recommendation(Movie):
    """One recommended title with its score and the reason it was picked."""

    score: Optional[float] = Field(None, description="the recommender's score (higher ranks first)")
    reason: str = ""
    predicted_rating: Optional[float] = Field(None, description="the SVD's predicted stars for this viewer")


class RecommendationList(BaseModel):
    """Reply of the recommendation endpoints."""

    user_id: Optional[int] = None
    model_version: str
    strategy: str = Field(..., description="personal, fold-in, cold-start or similar")
    ratings_used: int = Field(0, description="stored ratings folded in for this reply")
    items: list[Recommendation]


class Health(BaseModel):
    """Reply of ``GET /health``."""

    status: Literal["ok"]
    model_version: str
    catalogue_size: int
    ratings_stored: int
    loaded_at: float = Field(..., description="Unix time the current model was loaded")
    cache_entries: int = Field(0, description="recommendation replies held in memory")
    cache_hits: int = 0
    cache_misses: int = 0
    fast_path_replies: int = Field(0, description="recommendation reads answered before FastAPI's "
                                                  "routing (src.serving.fast_path); the rest go through it")


class ReloadResult(BaseModel):
    """Reply of ``POST /admin/reload``."""

    status: Literal["reloaded"]
    model_version: str
    previous_model_version: str
    catalogue_size: int
    seconds: float


class DeleteResult(BaseModel):
    """Reply of ``DELETE /users/{id}/ratings/{movie_id}``."""

    deleted: bool
    user_id: int
    movie_id: int


class ErrorOut(BaseModel):
    """Every 4xx reply: ``detail`` is a human message that names the offending field."""

    detail: str | list


# ---------------------------------------------------------------- accounts (issue 12)
class Credentials(BaseModel):
    """Body of ``POST /auth/signup`` and ``POST /auth/login``."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(..., min_length=1, max_length=64, examples=["alice"],
                          description="3-32 letters, digits, '_', '.' or '-' (case-insensitive)")
    password: str = Field(..., min_length=1, max_length=PASSWORD_MAX_LEN, examples=["correct horse"],
                          description=f"{PASSWORD_MIN_LEN}-{PASSWORD_MAX_LEN} characters")


class AuthOut(BaseModel):
    """Reply of sign-up/login: the viewer id and a bearer token for ``Authorization``."""

    user_id: int = Field(..., description="viewer id; viewer ids never collide with training user ids")
    token: str = Field(..., description="send as `Authorization: Bearer <token>`")


class Me(BaseModel):
    """Reply of ``GET /auth/me``: who the token or cookie belongs to."""

    user_id: int
    username: str
    services: list[str] = []
    genres: list[str] = []


class WatchlistIn(BaseModel):
    """Body of ``POST /users/{id}/watchlist``."""

    model_config = ConfigDict(extra="forbid")

    movie_id: StrictInt = Field(..., ge=0, le=MAX_ID, description="catalogue (TMDB) id", examples=[862])


class WatchlistItem(BaseModel):
    """One title on a viewer's watchlist."""

    user_id: int
    movie_id: int
    added_at: int = Field(..., description="Unix seconds it was added")
    title: Optional[str] = None


class NameList(BaseModel):
    """Body and reply of ``PUT/GET /users/{id}/services`` and ``.../genres``."""

    model_config = ConfigDict(extra="forbid")

    names: list[str] = Field(..., max_length=50, examples=[["Netflix", "Disney Plus"]])
