"""Twenty teachers' writes at once on overlapping cells: every accepted judgement is in the
history, none is lost, each cell's current judgement is the last accepted, and a write made
from a grid that has changed since is refused (412) rather than overwriting unseen."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from app.db.markbook import JudgementState, ObjectiveJudgement
from tests.support.markbook import Markbook, build_markbook

WRITERS = 20
DESCRIPTORS = ("B", "D", "S", "G")


def _cells(mb: Markbook, writer: int) -> list[dict[str, Any]]:
    """Each writer judges every pupil on two objectives; neighbours share one of them."""
    first = writer % 5
    return [
        mb.cell(pupil, objective, DESCRIPTORS[writer % 4], note=f"writer {writer}")
        for pupil in range(len(mb.pupils))
        for objective in (first, first + 1)
    ]


async def _history(session) -> list[Any]:  # type: ignore[no-untyped-def]
    await session.rollback()  # a fresh snapshot of what the writers committed
    statement = sa.select(
        ObjectiveJudgement.id,
        ObjectiveJudgement.pupil_id,
        ObjectiveJudgement.objective_id,
        ObjectiveJudgement.note,
        ObjectiveJudgement.version,
    )
    return list(await session.execute(statement))


async def _check_last_write_stands(session, history) -> None:  # type: ignore[no-untyped-def]
    last: dict[tuple[Any, Any], Any] = {}
    for row in history:
        key = (row.pupil_id, row.objective_id)
        if key not in last or row.version > last[key].version:
            last[key] = row
    states = await session.execute(
        sa.select(JudgementState.pupil_id, JudgementState.objective_id, JudgementState.judgement_id)
    )
    assert {(s.pupil_id, s.objective_id): s.judgement_id for s in states} == {
        key: row.id for key, row in last.items()
    }


async def test_concurrent_writers_without_if_match_lose_nothing(client, world, session):
    mb = await build_markbook(session, client, world)
    headers = world.headers("teacher")
    responses = await asyncio.gather(
        *(
            client.post(mb.url, json={"cells": _cells(mb, w)}, headers=headers)
            for w in range(WRITERS)
        )
    )
    assert [r.status_code for r in responses] == [200] * WRITERS, [r.text for r in responses]
    versions = [r.json()["version"] for r in responses]
    assert len(set(versions)) == WRITERS

    history = await _history(session)
    by_writer = defaultdict(int)
    for row in history:
        by_writer[row.note] += 1
    assert by_writer == {f"writer {w}": len(_cells(mb, w)) for w in range(WRITERS)}
    await _check_last_write_stands(session, history)


async def test_concurrent_writers_from_one_grid_get_412_and_retry(client, world, session):
    mb = await build_markbook(session, client, world)
    headers = world.headers("teacher")
    query = {"class_id": str(mb.class_id)}
    read = await client.get(mb.url, params=mb.grid_query(), headers=headers)
    etag = read.headers["ETag"]

    # All twenty wrote from the grid they all read: one is accepted, the rest are stale.
    first_round = await asyncio.gather(
        *(
            client.post(
                mb.url,
                params=query,
                json={"cells": _cells(mb, w)},
                headers={**headers, "If-Match": etag},
            )
            for w in range(WRITERS)
        )
    )
    statuses = [r.status_code for r in first_round]
    assert sorted(statuses) == [200] + [412] * (WRITERS - 1), statuses
    for response in first_round:
        if response.status_code == 412:
            assert response.json()["cells"], "a 412 lists the cells changed since"

    async def until_accepted(writer: int) -> int:
        for _attempt in range(10 * WRITERS):
            grid = await client.get(mb.url, params=mb.grid_query(), headers=headers)
            sent = await client.post(
                mb.url,
                params=query,
                json={"cells": _cells(mb, writer)},
                headers={**headers, "If-Match": grid.headers["ETag"]},
            )
            if sent.status_code == 200:
                return int(sent.json()["version"])
            assert sent.status_code == 412, sent.text
        raise AssertionError(f"writer {writer} was never accepted")

    refused = [w for w, status in enumerate(statuses) if status == 412]
    await asyncio.gather(*(until_accepted(w) for w in refused))

    history = await _history(session)
    by_writer = defaultdict(int)
    for row in history:
        by_writer[row.note] += 1
    # Each writer's judgements are in the history exactly once: refused writes left nothing.
    assert by_writer == {f"writer {w}": len(_cells(mb, w)) for w in range(WRITERS)}
    await _check_last_write_stands(session, history)
