"""``/admin/*``: operator endpoints, behind :func:`~src.serving.auth.require_admin`."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from src.serving.auth import require_admin
from src.serving.schemas import ErrorOut, ReloadResult

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])
ERRORS = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 409: {"model": ErrorOut}}


@router.post("/reload", response_model=ReloadResult, responses=ERRORS)
def reload(request: Request) -> dict:
    """Load the model and catalogue from disk again and swap them in atomically.

    Requests keep being served (by the old model) while it loads; on failure (e.g. a
    bundle whose checksum does not match) the old model stays and the reply is 409.
    Needs the admin token (``Authorization: Bearer``).
    """
    return request.app.state.service.reload()
