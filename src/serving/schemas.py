"""Pydantic models of the StreamRec API: request bodies, replies, and the error shape.

They document the API in the OpenAPI page (``/docs``) and validate input at the edge, so a
bad value becomes a 422 naming the field instead of reaching the recommender.
"""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from src.data.feedback_store import MAX_ID, validate_rating

MediaType = Literal["movie", "series"]


class RatingIn(BaseModel):
    """Body of ``POST /users/{id}/ratings``: one rating of one catalogue title."""

    model_config = ConfigDict(extra="forbid")

    # StrictInt: "12" or 12.7 are refused rather than silently coerced.
    movie_id: StrictInt = Field(..., ge=0, le=MAX_ID, description="catalogue (TMDB) id", examples=[862])
    rating: float = Field(..., description="0.5 to 5.0 in steps of 0.5", examples=[4.5])

    @field_validator("rating", mode="before")
    @classmethod
    def _half_steps(cls, value: object) -> float:
        """Refuse ratings off the 0.5–5.0 scale or between half steps (message names 'rating')."""
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
