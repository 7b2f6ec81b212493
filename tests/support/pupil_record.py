"""A pupil's record as the tests read it through either door (REST and GraphQL): a scene of
judgements and values put straight into the database (history rows and the current state
worked out with the markbook's own rule, so the tests do not depend on the write routes), and
pupil, parent and single-scope integration callers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.tokens import TokenSubject
from app.db.curriculum import Descriptor, Measure, Objective
from app.db.markbook import JudgementState, MeasureValue, ObjectiveJudgement
from app.db.people import IntegrationClient
from app.db.roster import Pupil
from app.domain.markbook import standing
from app.domain.roles import ClientScope
from tests.support.definitions import Definitions, add_definitions
from tests.support.roster import add_school_roster
from tests.support.world import World

# Judgements are dated in the past, a few weeks apart; the "later" is GDS.
TODAY = date.today()
D1, D2, D3 = (TODAY - timedelta(days=days) for days in (60, 40, 20))
BEFORE_ALL = D1 - timedelta(days=1)
T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)


@dataclass
class Scene:
    defs: Definitions
    taught: Pupil  # in a class the world's teacher teaches
    untaught: Pupil  # same school, nobody's class the teacher takes
    elsewhere: Pupil  # a pupil of school A2
    by_code: dict[str, Descriptor]
    history: list[ObjectiveJudgement]
    scale_measure: Measure


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def write_cells(
    session: AsyncSession, rows: list[ObjectiveJudgement]
) -> list[ObjectiveJudgement]:
    """Store judgements as history, and each cell's standing one as its current state."""
    session.add_all(rows)
    await session.flush()
    cells: dict[tuple[uuid.UUID, uuid.UUID], list[ObjectiveJudgement]] = {}
    for row in rows:
        cells.setdefault((row.pupil_id, row.objective_id), []).append(row)
    for (pupil_id, objective_id), history in cells.items():
        latest = standing(history)
        assert latest is not None
        session.add(
            JudgementState(
                pupil_id=pupil_id,
                objective_id=objective_id,
                school_id=latest.school_id,
                subject_id=latest.subject_id,
                judgement_id=latest.id,
                descriptor_id=latest.descriptor_id,
                assessed_on=latest.assessed_on,
                note=latest.note,
                recorded_at=latest.recorded_at,
                recorded_by=latest.recorded_by,
                version=max(r.version for r in history),
            )
        )
    await session.flush()
    return rows


async def add_scene(session: AsyncSession, world: World) -> Scene:
    """In school A1, a pupil the world's teacher teaches (Tilly) with judgements of two
    objectives over three dates and two values at the autumn point, an untaught pupil with
    one of each, and a pupil of A2. Committed."""
    a1 = world.schools["A1"]
    leader = world.users["school_leader"].id
    defs = await add_definitions(session, school_id=a1.id)
    defs.framework.scale_id = defs.scale.id  # judged on the depth scale
    taught = (
        await add_school_roster(
            session, a1, serial=1, teacher_id=world.users["teacher"].id, job_creator_id=leader
        )
    ).pupil
    taught.preferred_forename = "Tilly"
    untaught = (
        await add_school_roster(session, a1, serial=2, teacher_id=None, job_creator_id=leader)
    ).pupil
    elsewhere = (
        await add_school_roster(
            session, world.schools["A2"], serial=3, teacher_id=None, job_creator_id=leader
        )
    ).pupil
    by_code = {d.code: d for d in defs.descriptors}
    n1, n2 = defs.objectives

    def judge(
        pupil: Pupil,
        objective: Objective,
        code: str | None,
        on: date,
        minutes: int,
        note: str | None = None,
    ) -> ObjectiveJudgement:
        return ObjectiveJudgement(
            school_id=a1.id,
            pupil_id=pupil.id,
            objective_id=objective.id,
            subject_id=defs.subject.id,
            descriptor_id=None if code is None else by_code[code].id,
            assessed_on=on,
            note=note,
            recorded_at=at(minutes),
            recorded_by=world.users["teacher"].id,
            version=minutes,
        )

    history = await write_cells(
        session,
        [
            judge(taught, n1, "WT", D1, 1),
            judge(taught, n2, "EXS", D1, 2, note="Knows 6s and 7s"),
            judge(taught, n1, "EXS", D2, 3),
            judge(taught, n2, None, D2, 4),  # cleared
            judge(taught, n1, "GDS", D3, 5, note="Explains it to others"),
            # Recorded last, but assessed on the first day: it stands over WT as at D1.
            judge(taught, n1, "EXS", D1, 6, note="Moderated"),
            judge(untaught, n1, "WT", D1, 7),
        ],
    )

    scale_measure = Measure(
        name="Maths TA",
        code="MA-TA",
        kind="scale",
        scale_id=defs.scale.id,
        subject_id=defs.subject.id,
        school_id=a1.id,
        position=2,
    )
    session.add(scale_measure)
    await session.flush()
    point = world.points["A1"]  # Autumn 2025, assessed on 2025-12-12

    def value(pupil: Pupil, measure: Measure, **columns: object) -> MeasureValue:
        return MeasureValue(
            pupil_id=pupil.id,
            measure_id=measure.id,
            assessment_point_id=point.id,
            school_id=a1.id,
            recorded_at=at(10),
            recorded_by=leader,
            **columns,
        )

    session.add_all(
        [
            value(taught, defs.measure, number=Decimal(104)),
            value(
                taught,
                scale_measure,
                descriptor_id=by_code["EXS"].id,
                number=Decimal(2),
                curriculum_year=4,
            ),
            value(untaught, defs.measure, number=Decimal(95)),
        ]
    )
    await session.commit()
    return Scene(defs, taught, untaught, elsewhere, by_code, history, scale_measure)


async def client_headers(session: AsyncSession, world: World, *scopes: ClientScope) -> dict:
    client = IntegrationClient(
        name=f"only {'+'.join(scopes)}",
        client_id=f"mbc_{uuid.uuid4().hex[:12]}",
        secret_hash="unused",
        scopes=sorted(scopes),
        school_id=world.schools["A1"].id,
    )
    session.add(client)
    await session.commit()
    token = world.issuer.issue(TokenSubject("client", client.id))[0]
    return {"Authorization": f"Bearer {token}"}


async def self_user(client, world: World, role: str, pupil_id: uuid.UUID | None) -> dict:
    """A pupil or parent account made by the school's leader, and its auth headers."""
    grant: dict = {"role": role, "school_id": str(world.schools["A1"].id)}
    if pupil_id is not None:
        grant["pupil_id"] = str(pupil_id)
    response = await client.post(
        "/v1/users",
        json={
            "email": f"{role}.{uuid.uuid4().hex[:8]}@family.example.org",
            "display_name": f"A {role}",
            "grants": [grant],
        },
        headers=world.headers("school_leader"),
    )
    assert response.status_code == 201, response.text
    user = response.json()
    assert [g["pupil_id"] for g in user["grants"]] == [None if pupil_id is None else str(pupil_id)]
    token = world.issuer.issue(TokenSubject("user", uuid.UUID(user["id"])))[0]
    return {"Authorization": f"Bearer {token}"}
