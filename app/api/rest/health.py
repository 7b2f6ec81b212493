"""Liveness and readiness, for load balancers and orchestrators. No token needed."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.schemas.base import Output
from app.db.migrate import current_revision

router = APIRouter(tags=["health"])


class Health(Output):
    status: Literal["ok", "migrations pending", "unavailable"]
    database: str | None = None
    migration: str | None = None
    expected_migration: str | None = None


@router.get("/healthz", response_model=Health, summary="The process answers")
async def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": Health}},
    summary="The database answers and its schema is current",
)
async def readyz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    expected = request.app.state.head_revision
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        current = await current_revision(engine)
    except Exception as exc:  # any failure to reach the database means not ready
        body = Health(
            status="unavailable", database=type(exc).__name__, expected_migration=expected
        )
        return JSONResponse(body.model_dump(), status_code=503)
    ready = current == expected
    body = Health(
        status="ok" if ready else "migrations pending",
        database="ok",
        migration=current,
        expected_migration=expected,
    )
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)
