"""Paged list replies: ``limit``/``offset`` query parameters and an ``X-Total-Count`` header.

List endpoints keep a JSON array body (the shape existing clients read) and say how many
items exist in all in the header, as GitHub's and json-server's APIs do; the next page is
``offset + limit`` while that is below the total.
"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import Query
from fastapi.responses import Response

from src.config import MAX_N
from src.serving.service import MAX_OFFSET
from src.serving.schemas import CanonicalInt

TOTAL = "X-Total-Count"
Limit = Annotated[CanonicalInt, Query(ge=1, le=MAX_N, description=f"page size, 1–{MAX_N}")]
Offset = Annotated[CanonicalInt, Query(ge=0, le=MAX_OFFSET, description="items to skip")]
# OpenAPI: document the header on the 200 reply of each paged endpoint.
TOTAL_HEADER = {"responses": {"200": {"headers": {TOTAL: {
    "description": "number of items in all (for the next offset)", "schema": {"type": "integer"}}}}}}


def paged(result: dict) -> Response:
    """A service page ``{items, total, ...}`` as the JSON array with the total in the header."""
    return Response(orjson.dumps(result["items"]), media_type="application/json",
                    headers={TOTAL: str(result["total"])})
