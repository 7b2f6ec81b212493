"""The minimal app the load mode compares Markbook with: FastAPI on the same uvicorn, one
asyncpg pool, one row a request. What any Python service must pay per request; Markbook's
requests a second are reported as a ratio of these (bench/load.py).

    BENCH_MINIMAL_DSN=postgresql://... uvicorn bench.minimal:app
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, HTTPException


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.pool = await asyncpg.create_pool(os.environ["BENCH_MINIMAL_DSN"], max_size=10)
    yield
    await app.state.pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/schools/{school_id}")
async def school(school_id: uuid.UUID) -> dict[str, object]:
    row = await app.state.pool.fetchrow(
        "SELECT id, urn, name, trust_id FROM school WHERE id = $1", school_id
    )
    if row is None:
        raise HTTPException(404)
    return {"id": str(row["id"]), "urn": row["urn"], "name": row["name"]}
