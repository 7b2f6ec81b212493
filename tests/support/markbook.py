"""A school ready for the markbook: school A1 with the starter pack (national curriculum
frameworks judged on the B/D/S/G depth scale, secure from S), a Year 4 class of four pupils
taught by the world's teacher, and a fifth Year 4 pupil in a class the teacher does not teach.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.db.roster import ClassPupil, ClassTeacher, Enrolment, Pupil, TeachingGroup
from tests.support.roster import add_pupil, this_year
from tests.support.world import World


@dataclass
class Markbook:
    school_id: uuid.UUID
    subject_id: str  # mathematics
    framework_id: str
    objectives: dict[str, list[dict[str, Any]]]  # by curriculum_years label: "4", "3" ...
    class_id: uuid.UUID
    pupils: list[Pupil]  # the class, taught by the world's teacher
    other_pupil: Pupil  # Year 4, in a class the teacher does not teach
    other_class_id: uuid.UUID

    @property
    def url(self) -> str:
        return f"/v1/schools/{self.school_id}/markbook"

    def grid_query(self, **more: Any) -> dict[str, Any]:
        return {"class_id": str(self.class_id), "subject_id": self.subject_id, **more}

    def cell(self, pupil: int, objective: int, descriptor: str | None, **more: Any) -> dict:
        return {
            "pupil_id": str(self.pupils[pupil].id),
            "objective_id": self.objectives["4"][objective]["id"],
            "descriptor": descriptor,
            **more,
        }


async def _class(
    session: AsyncSession, school_id: uuid.UUID, code: str, pupils: list[Pupil]
) -> TeachingGroup:
    class_ = TeachingGroup(
        school_id=school_id, academic_year=this_year(), code=code, name=f"Class {code}"
    )
    session.add(class_)
    await session.flush()
    session.add_all(
        ClassPupil(class_id=class_.id, pupil_id=p.id, school_id=school_id) for p in pupils
    )
    return class_


async def build_markbook(
    session: AsyncSession, client: httpx.AsyncClient, world: World, *, size: int = 4
) -> Markbook:
    school = world.schools["A1"]
    leader = world.headers("school_leader")
    pack = await client.post(f"/v1/schools/{school.id}/starter-pack", headers=leader)
    assert pack.status_code == 200, pack.text
    frameworks = await client.get(
        "/v1/frameworks", params={"school_id": str(school.id)}, headers=leader
    )
    maths = next(
        f for f in frameworks.json()["items"] if f["name"] == "National Curriculum: Mathematics"
    )
    listed = await client.get(
        f"/v1/frameworks/{maths['id']}/objectives", params={"limit": 500}, headers=leader
    )
    assert listed.status_code == 200, listed.text
    objectives: dict[str, list[dict[str, Any]]] = {}
    for objective in listed.json()["items"]:
        objectives.setdefault(objective["curriculum_years"], []).append(objective)

    pupils = [await add_pupil(session, school, 100 + serial) for serial in range(size + 1)]
    session.add_all(
        Enrolment(pupil_id=p.id, school_id=school.id, academic_year=this_year(), year_group="4")
        for p in pupils
    )
    taught = await _class(session, school.id, "4M", pupils[:size])
    other = await _class(session, school.id, "4X", pupils[size:])
    session.add(
        ClassTeacher(class_id=taught.id, user_id=world.users["teacher"].id, school_id=school.id)
    )
    await session.commit()
    return Markbook(
        school_id=school.id,
        subject_id=maths["subject_id"],
        framework_id=maths["id"],
        objectives=objectives,
        class_id=taught.id,
        pupils=pupils[:size],
        other_pupil=pupils[size],
        other_class_id=other.id,
    )
