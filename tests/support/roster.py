"""Roster objects to aim requests at: a school's pupil (enrolled, in a class and a group), a
class of the current academic year, a custom group and a finished import job.

Classes are made for the *current* academic year, because a teacher reaches the pupils of the
classes they teach this year (app/db/queries/reach.py), whatever the date the tests run on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from app.db.import_jobs import ImportJob
from app.db.roster import (
    ClassPupil,
    ClassTeacher,
    Enrolment,
    Pupil,
    PupilGroup,
    PupilGroupMember,
    TeachingGroup,
)
from app.db.tenancy import School
from app.domain.calendar import AcademicYear
from app.domain.pupils import make_upn


def this_year() -> int:
    """The start year of the academic year today falls in."""
    return AcademicYear.containing(date.today()).start_year


@dataclass
class SchoolRoster:
    pupil: Pupil
    enrolment: Enrolment
    class_: TeachingGroup
    group: PupilGroup
    job: ImportJob


async def add_pupil(session: AsyncSession, school: School, serial: int) -> Pupil:
    """A pupil of the school, keyed by a UPN and external id unique to ``serial``."""
    pupil = Pupil(
        school_id=school.id,
        external_id=f"T-{school.urn}-{serial}",
        upn=make_upn(f"8019999{this_year() % 100:02d}{serial:03d}"),
        legal_forename=f"Target{serial}",
        legal_surname="Pupil",
        date_of_birth=date(2016, 3, 4),
        sex="F",
    )
    session.add(pupil)
    await session.flush()
    return pupil


async def add_school_roster(
    session: AsyncSession,
    school: School,
    *,
    serial: int,
    teacher_id: uuid.UUID | None,
    job_creator_id: uuid.UUID,
) -> SchoolRoster:
    """A pupil enrolled this year, in a class of this year (taught by ``teacher_id``, if any)
    and in a custom group; and an import job of the school. Flushed, not committed."""
    year = this_year()
    pupil = await add_pupil(session, school, serial)
    enrolment = Enrolment(
        pupil_id=pupil.id, school_id=school.id, academic_year=year, year_group="4"
    )
    class_ = TeachingGroup(
        school_id=school.id, academic_year=year, code=f"4T{serial}", name="Year 4 Target"
    )
    group = PupilGroup(school_id=school.id, name=f"Target group {serial}")
    job = ImportJob(
        school_id=school.id,
        trust_id=school.trust_id,
        kind="ctf",
        filename="target.xml",
        status="succeeded",
        rows_total=1,
        rows_done=1,
        result={"created": 1, "updated": 0, "unchanged": 0, "rejected": 0, "left": 0},
        created_by_type="user",
        created_by_id=job_creator_id,
    )
    session.add_all([enrolment, class_, group, job])
    await session.flush()
    session.add(ClassPupil(class_id=class_.id, pupil_id=pupil.id, school_id=school.id))
    session.add(PupilGroupMember(group_id=group.id, pupil_id=pupil.id, school_id=school.id))
    if teacher_id is not None:
        session.add(ClassTeacher(class_id=class_.id, user_id=teacher_id, school_id=school.id))
    await session.flush()
    return SchoolRoster(pupil=pupil, enrolment=enrolment, class_=class_, group=group, job=job)
