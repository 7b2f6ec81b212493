"""The policy's guards: what a service asks before it reads or changes something.

Something out of the caller's reach is not found (404), in the same words as something that
does not exist; something they can see but may not change is forbidden (403). A guard asks
the policy once and hands back what it found (the school, and the caller's reach in it), so
that the rest of the request filters with that same answer instead of asking again.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.policy import Action, Reach, Resource, reach
from app.auth.principal import Principal
from app.db.import_jobs import ImportJob
from app.db.queries.roster import get_import_job
from app.db.queries.tenancy import get_school, get_schools, get_trust, school_ids_of_trusts
from app.db.tenancy import School, Trust
from app.errors import Forbidden, NotFound

# Why a row naming a pupil out of the caller's reach (or nobody at all) is refused: the same
# words either way, so that a refusal never reveals who is on another school's roll.
NOT_YOURS = "no such pupil in this school among those you may record for"


@dataclass(frozen=True, slots=True)
class SchoolReach:
    """A school the caller reaches for one resource family, and what they reach of it: to
    read, and (from ``school_to_record``) to record. Queries filter with these."""

    school: School
    read: Reach
    write: Reach = field(default_factory=Reach)


def _noun(resource: Resource) -> str:
    return resource.value.replace("_", " ")


async def school_to_read(
    session: AsyncSession, principal: Principal, resource: Resource, school_id: uuid.UUID
) -> SchoolReach:
    """The school, if the caller reaches some of its ``resource`` (else not found)."""
    readable = reach(principal, resource, Action.READ)
    school = await get_school(session, school_id) if readable.touches(school_id=school_id) else None
    if school is None:
        raise NotFound("school not found")
    return SchoolReach(school, readable)


async def schools_to_read(
    session: AsyncSession,
    principal: Principal,
    resource: Resource,
    school_ids: Collection[uuid.UUID],
) -> dict[uuid.UUID, School]:
    """Of many schools at once, those ``school_to_read`` would find (the caller reaches some
    of their ``resource``), by id; the others are simply not there. One statement."""
    readable = reach(principal, resource, Action.READ)
    wanted = {s for s in school_ids if readable.touches(school_id=s)}
    return {school.id: school for school in await get_schools(session, wanted)}


async def school_for(
    session: AsyncSession, principal: Principal, resource: Resource, school_id: uuid.UUID
) -> School:
    """The school, if the caller reaches some of its ``resource`` (else not found)."""
    return (await school_to_read(session, principal, resource, school_id)).school


async def school_to_record(
    session: AsyncSession, principal: Principal, resource: Resource, school_id: uuid.UUID
) -> SchoolReach:
    """The school, if the caller may record ``resource`` for some of its pupils: not found if
    they reach none of its records, forbidden if they may only read them."""
    found = await school_to_read(session, principal, resource, school_id)
    writable = reach(principal, resource, Action.WRITE)
    if not writable.touches(school_id=found.school.id):
        raise Forbidden(f"you may not change this school's {_noun(resource)}s")
    return SchoolReach(found.school, found.read, writable)


def may(principal: Principal, resource: Resource, action: Action, school: School) -> None:
    """Forbidden unless the caller may ``action`` the school's ``resource`` (all of it)."""
    if not reach(principal, resource, action).covers(school_id=school.id):
        verb = "erase" if action is Action.ERASE else "change"
        raise Forbidden(f"you may not {verb} this school's {_noun(resource)}s")


async def school_to_change(
    session: AsyncSession,
    principal: Principal,
    school_id: uuid.UUID,
    *resources: Resource,
    action: Action = Action.WRITE,
) -> School:
    """The school, if the caller may ``action`` every one of ``resources`` in it: not found if
    they reach none of the first, forbidden if they may not change them all."""
    school = await school_for(session, principal, resources[0], school_id)
    for resource in resources:
        may(principal, resource, action, school)
    return school


async def trust_for(
    session: AsyncSession, principal: Principal, resource: Resource, trust_id: uuid.UUID
) -> Trust:
    """The trust, if the caller reaches some of its ``resource``, trust-wide or in one of its
    schools (else not found, as for ``school_for``)."""
    found = reach(principal, resource, Action.READ)
    trust = None if found.empty else await get_trust(session, trust_id)
    if trust is not None and not found.covers(trust_id=trust.id):
        school_ids = (await school_ids_of_trusts(session, {trust.id}))[trust.id]
        if not any(found.touches(school_id=school_id) for school_id in school_ids):
            trust = None
    if trust is None:
        raise NotFound("trust not found")
    return trust


class Owned(Protocol):
    """A definition, owned by one trust or one school."""

    @property
    def trust_id(self) -> uuid.UUID | None: ...
    @property
    def school_id(self) -> uuid.UUID | None: ...


Item = TypeVar("Item", bound=Owned)


def definition_visible(principal: Principal, item: Item | None, what: str) -> Item:
    """The definition, if the caller may read its owner's definitions (else not found)."""
    if item is None or not reach(principal, Resource.DEFINITION, Action.READ).covers(
        trust_id=item.trust_id, school_id=item.school_id
    ):
        raise NotFound(f"{what} not found")
    return item


def definition_writable(principal: Principal, item: Owned, what: str) -> None:
    """Forbidden unless the caller may change its owner's definitions."""
    if not reach(principal, Resource.DEFINITION, Action.WRITE).covers(
        trust_id=item.trust_id, school_id=item.school_id
    ):
        raise Forbidden(f"you may not change this {what}")


def covers_scope(found: Reach, held: Owned) -> bool:
    """Whether a reach covers the scope something is held in (a role grant's trust or school;
    held service-wide, neither: only a reach over everything covers it)."""
    if held.trust_id is None and held.school_id is None:
        return found.everything
    return found.covers(trust_id=held.trust_id, school_id=held.school_id)


async def import_job_for(
    session: AsyncSession, principal: Principal, job_id: uuid.UUID
) -> ImportJob:
    """An import job, seen only by those who may import into its school (it names pupils by
    key): to anyone else it is not found."""
    job = await get_import_job(session, job_id)
    importers = reach(principal, Resource.PUPIL, Action.WRITE)
    if job is None or job.school_id is None or not importers.covers(school_id=job.school_id):
        raise NotFound("import job not found")
    return job
