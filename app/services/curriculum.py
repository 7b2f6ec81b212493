"""Definitions: subjects, frameworks and their objectives, scales and measures.

Each belongs to a trust (shared with all its schools) or to one school. Everyone in a school
reads its own definitions and its trust's; leaders write their school's, trust admins their
trust's and its schools'. Objectives, descriptors and measures are archived, never deleted.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from app.api.schemas.curriculum import (
    DescriptorIn,
    FrameworkCreate,
    FrameworkUpdate,
    MeasureCreate,
    MeasureUpdate,
    ObjectiveIn,
    ObjectiveUpdate,
    OwnerIn,
    ScaleCreate,
    ScaleUpdate,
    SubjectCreate,
    SubjectUpdate,
)
from app.auth.policy import Action, Resource, reach, require_any
from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.curriculum import Descriptor, Framework, Measure, Objective, Scale, Subject
from app.db.queries import curriculum as queries
from app.db.queries.paging import Page
from app.db.queries.tenancy import get_school, get_trust
from app.domain.curriculum import CurriculumYears, check_objective_code
from app.domain.errors import DomainError
from app.domain.scales import (
    DescriptorRule,
    MeasureKind,
    NumberRule,
    ScaleKind,
    check_descriptors,
    check_secure_from,
)
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.audit import record, snapshot

Owned = TypeVar("Owned", Subject, Framework, Scale, Measure)
NOUNS = {Subject: "subject", Framework: "framework", Scale: "scale", Measure: "measure"}


def _invalid(exc: DomainError, prefix: str = "body") -> InvalidInput:
    return InvalidInput.at(f"{prefix}.{exc.field}" if exc.field else prefix, exc.message)


# --- Ownership ---------------------------------------------------------------------------
async def _check_new_owner(
    session: AsyncSession, principal: Principal, owner: OwnerIn, *, where: str = "body"
) -> None:
    """The caller must write definitions somewhere (else 403); the trust or school a new
    definition will belong to must exist within the caller's reach (else 422, as if it did not
    exist) and be theirs to write (else 403)."""
    require_any(principal, Resource.DEFINITION, Action.WRITE)
    field, found = (
        (f"{where}.trust_id", await get_trust(session, owner.trust_id))
        if owner.trust_id is not None
        else (f"{where}.school_id", await get_school(session, owner.school_id))  # type: ignore[arg-type]
    )
    readable = reach(principal, Resource.DEFINITION, Action.READ)
    if not found or not readable.covers(trust_id=owner.trust_id, school_id=owner.school_id):
        raise InvalidInput.at(field, "no such trust or school within your reach")
    if not reach(principal, Resource.DEFINITION, Action.WRITE).covers(
        trust_id=owner.trust_id, school_id=owner.school_id
    ):
        raise Forbidden("you may not add definitions here")


def _visible(principal: Principal, item: Owned | None) -> Owned:
    if item is None or not reach(principal, Resource.DEFINITION, Action.READ).covers(
        trust_id=item.trust_id, school_id=item.school_id
    ):
        raise NotFound(f"{NOUNS[type(item)] if item is not None else 'definition'} not found")
    return item


def _writable(principal: Principal, item: Owned) -> None:
    if not reach(principal, Resource.DEFINITION, Action.WRITE).covers(
        trust_id=item.trust_id, school_id=item.school_id
    ):
        raise Forbidden(f"you may not change this {NOUNS[type(item)]}")


async def _get(
    session: AsyncSession, principal: Principal, model: type[Owned], item_id: uuid.UUID
) -> Owned:
    item = await session.get(model, item_id)
    if item is None:
        raise NotFound(f"{NOUNS[model]} not found")
    return _visible(principal, item)


async def _trust_of(session: AsyncSession, item: Any) -> uuid.UUID | None:
    if item.trust_id is not None:
        return item.trust_id
    school = await get_school(session, item.school_id)
    return school.trust_id if school else None


def _audit(
    session: AsyncSession,
    principal: Principal,
    action: str,
    entity: SQLModel,
    before: dict[str, Any] | None,
    owner: Any,
) -> None:
    record(
        session,
        principal,
        action=action,
        entity=entity,
        before=before,
        trust_id=owner.trust_id,
        school_id=owner.school_id,
    )


async def _usable(
    session: AsyncSession,
    principal: Principal,
    model: type[Owned],
    item_id: uuid.UUID,
    owner: Any,
    field: str,
) -> Owned:
    """A definition another one refers to (a framework's subject, a measure's scale): visible,
    and shared with the referring one's owner (the same school, or its trust)."""
    item = await session.get(model, item_id)
    shared = item is not None and (
        (item.school_id is not None and item.school_id == owner.school_id)
        or (item.trust_id is not None and item.trust_id == await _trust_of(session, owner))
    )
    if item is None or not shared:
        raise InvalidInput.at(field, f"no such {NOUNS[model]} for this trust or school")
    return _visible(principal, item)


async def list_owned(
    session: AsyncSession,
    *,
    principal: Principal,
    model: type[Owned],
    school_id: uuid.UUID | None,
    filters: dict[str, Any],
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[Owned]:
    """Definitions within reach; with ``school_id``, those the school uses (its own and its
    trust's)."""
    readable = require_any(principal, Resource.DEFINITION, Action.READ)
    trust_id = None
    if school_id is not None:
        school = await get_school(session, school_id)
        if school is None or not readable.covers(school_id=school_id):
            raise NotFound("school not found")
        trust_id = school.trust_id
    return await queries.list_owned(
        session,
        readable,
        model,
        school_id=school_id,
        trust_id=trust_id,
        filters=filters,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )


async def _code_free(
    session: AsyncSession, model: type[Owned], owner: Any, column: str, value: str, besides: Any
) -> None:
    if await queries.taken(session, model, owner, column, value, besides=besides):
        raise Conflict(f"there is already a {NOUNS[model]} with {column} {value} here")


# --- Subjects ----------------------------------------------------------------------------
async def create_subject(
    session: AsyncSession, *, principal: Principal, subject_in: SubjectCreate
) -> Subject:
    await _check_new_owner(session, principal, subject_in)
    await _code_free(session, Subject, subject_in, "code", subject_in.code, None)
    subject = Subject.model_validate(subject_in)
    session.add(subject)
    _audit(session, principal, "create", subject, None, subject)
    await session.flush()
    return subject


async def get_subject(
    session: AsyncSession, *, principal: Principal, subject_id: uuid.UUID
) -> Subject:
    return await _get(session, principal, Subject, subject_id)


async def update_subject(
    session: AsyncSession, *, principal: Principal, subject_id: uuid.UUID, subject_in: SubjectUpdate
) -> Subject:
    subject = await get_subject(session, principal=principal, subject_id=subject_id)
    _writable(principal, subject)
    changes = subject_in.model_dump(exclude_unset=True)
    if "code" in changes:
        await _code_free(session, Subject, subject, "code", changes["code"], subject.id)
    before = snapshot(subject)
    subject.sqlmodel_update(changes)
    _audit(session, principal, "update", subject, before, subject)
    await session.flush()
    return subject


# --- Scales ------------------------------------------------------------------------------
def _check_scale(kind: ScaleKind, secure_from: str | None, descriptors: Sequence[DescriptorIn]):  # type: ignore[no-untyped-def]
    rules = [DescriptorRule(d.code, d.value, d.band, d.colour) for d in descriptors]
    try:
        check_descriptors(rules)
        check_secure_from(kind, rules, secure_from)
    except DomainError as exc:
        raise _invalid(exc) from exc


async def create_scale(
    session: AsyncSession, *, principal: Principal, scale_in: ScaleCreate
) -> tuple[Scale, list[Descriptor]]:
    await _check_new_owner(session, principal, scale_in)
    _check_scale(scale_in.kind, scale_in.secure_from, scale_in.descriptors)
    await _code_free(session, Scale, scale_in, "name", scale_in.name, None)
    scale = Scale.model_validate(scale_in.model_dump(exclude={"descriptors"}))
    session.add(scale)
    await session.flush()  # the scale's row first: its descriptors refer to it
    descriptors = [
        Descriptor.model_validate(d, update={"scale_id": scale.id, "position": index})
        for index, d in enumerate(scale_in.descriptors, start=1)
    ]
    session.add_all(descriptors)
    _audit(session, principal, "create", scale, None, scale)
    await session.flush()
    return scale, descriptors


async def get_scale(
    session: AsyncSession, *, principal: Principal, scale_id: uuid.UUID
) -> tuple[Scale, list[Descriptor]]:
    scale = await _get(session, principal, Scale, scale_id)
    return scale, (await queries.descriptors_of(session, [scale.id]))[scale.id]


async def update_scale(
    session: AsyncSession, *, principal: Principal, scale_id: uuid.UUID, scale_in: ScaleUpdate
) -> tuple[Scale, list[Descriptor]]:
    """Descriptors keep their identity by code, so judgements made with them stay; one left
    out of a new list is archived, and one sent again is brought back."""
    scale, stored = await get_scale(session, principal=principal, scale_id=scale_id)
    _writable(principal, scale)
    changes = scale_in.model_dump(exclude_unset=True, exclude={"descriptors"})
    if "name" in changes:
        await _code_free(session, Scale, scale, "name", changes["name"], scale.id)
    sent = scale_in.descriptors if "descriptors" in scale_in.model_fields_set else None
    active = [d for d in stored if not d.archived]
    kind = ScaleKind(scale.kind)
    secure_from = changes.get("secure_from", scale.secure_from)
    if sent is not None:
        _check_scale(kind, secure_from, sent)
    else:
        _check_scale(kind, secure_from, [DescriptorIn.model_validate(d) for d in active])
    before = snapshot(scale) | {"descriptors": [snapshot(d) for d in stored]}
    scale.sqlmodel_update(changes)
    if sent is not None:
        by_code = {d.code: d for d in stored}
        for position, item in enumerate(sent, start=1):
            descriptor = by_code.pop(item.code, None)
            if descriptor is None:
                descriptor = Descriptor(scale_id=scale.id, position=position, **item.model_dump())
                session.add(descriptor)
                stored.append(descriptor)
            descriptor.sqlmodel_update(item.model_dump())
            descriptor.position, descriptor.archived = position, False
        for position, leftover in enumerate(by_code.values(), start=len(sent) + 1):
            leftover.archived, leftover.position = True, position
        scale.updated_at = utcnow()
    after_descriptors = [snapshot(d) for d in stored]
    if before["descriptors"] != after_descriptors:
        scale.updated_at = utcnow()
    record(
        session,
        principal,
        action="update",
        entity=scale,
        before=before,
        trust_id=scale.trust_id,
        school_id=scale.school_id,
    )
    await session.flush()
    return scale, sorted(stored, key=lambda d: d.position)


# --- Measures ----------------------------------------------------------------------------
_NUMBER_FIELDS = ("minimum", "maximum", "decimals", "expected_from", "above_from")


async def create_measure(
    session: AsyncSession, *, principal: Principal, measure_in: MeasureCreate
) -> Measure:
    """A data column. Scale measures name a scale the owner can use; number measures a range
    (and optionally where expected and above start); other kinds neither."""
    await _check_new_owner(session, principal, measure_in)
    await _code_free(session, Measure, measure_in, "code", measure_in.code, None)
    kind = MeasureKind(measure_in.kind)
    if kind is MeasureKind.SCALE:
        if measure_in.scale_id is None:
            raise InvalidInput.at("body.scale_id", "a scale measure needs its scale")
        await _usable(session, principal, Scale, measure_in.scale_id, measure_in, "body.scale_id")
    elif measure_in.scale_id is not None:
        raise InvalidInput.at("body.scale_id", f"a {kind} measure has no scale")
    numbers = {f: getattr(measure_in, f) for f in _NUMBER_FIELDS}
    if kind is MeasureKind.NUMBER:
        if measure_in.minimum is None or measure_in.maximum is None:
            missing = "minimum" if measure_in.minimum is None else "maximum"
            raise InvalidInput.at(f"body.{missing}", "a number measure needs minimum and maximum")
        try:
            NumberRule(
                measure_in.minimum,
                measure_in.maximum,
                measure_in.decimals or 0,
                measure_in.expected_from,
                measure_in.above_from,
            ).check()
        except DomainError as exc:
            raise _invalid(exc) from exc
    else:
        for name, value in numbers.items():
            if value is not None:
                raise InvalidInput.at(f"body.{name}", f"only number measures have a {name}")
    if measure_in.subject_id is not None:
        await _usable(
            session, principal, Subject, measure_in.subject_id, measure_in, "body.subject_id"
        )
    measure = Measure.model_validate(
        measure_in,
        update={"decimals": measure_in.decimals or 0} if kind is MeasureKind.NUMBER else {},
    )
    session.add(measure)
    _audit(session, principal, "create", measure, None, measure)
    await session.flush()
    return measure


async def get_measure(
    session: AsyncSession, *, principal: Principal, measure_id: uuid.UUID
) -> Measure:
    return await _get(session, principal, Measure, measure_id)


async def update_measure(
    session: AsyncSession, *, principal: Principal, measure_id: uuid.UUID, measure_in: MeasureUpdate
) -> Measure:
    measure = await get_measure(session, principal=principal, measure_id=measure_id)
    _writable(principal, measure)
    before = snapshot(measure)
    measure.sqlmodel_update(measure_in.model_dump(exclude_unset=True))
    _audit(session, principal, "update", measure, before, measure)
    await session.flush()
    return measure


# --- Frameworks and objectives -----------------------------------------------------------
async def create_framework(
    session: AsyncSession,
    *,
    principal: Principal,
    framework_in: FrameworkCreate,
    where: str = "body",
) -> Framework:
    """``where`` says where the caller gave the owner and subject: the body, or the query of
    a framework import."""
    await _check_new_owner(session, principal, framework_in, where=where)
    await _usable(
        session, principal, Subject, framework_in.subject_id, framework_in, f"{where}.subject_id"
    )
    if framework_in.scale_id is not None:
        await _depth_scale(session, principal, framework_in.scale_id, framework_in, where)
    await _code_free(session, Framework, framework_in, "name", framework_in.name, None)
    framework = Framework.model_validate(framework_in)
    session.add(framework)
    _audit(session, principal, "create", framework, None, framework)
    await session.flush()
    return framework


async def get_framework(
    session: AsyncSession, *, principal: Principal, framework_id: uuid.UUID
) -> Framework:
    return await _get(session, principal, Framework, framework_id)


async def update_framework(
    session: AsyncSession,
    *,
    principal: Principal,
    framework_id: uuid.UUID,
    framework_in: FrameworkUpdate,
) -> Framework:
    framework = await get_framework(session, principal=principal, framework_id=framework_id)
    _writable(principal, framework)
    changes = framework_in.model_dump(exclude_unset=True)
    if "name" in changes:
        await _code_free(session, Framework, framework, "name", changes["name"], framework.id)
    if "scale_id" in changes:
        await _depth_scale(session, principal, changes["scale_id"], framework, "body")
    before = snapshot(framework)
    framework.sqlmodel_update(changes)
    _audit(session, principal, "update", framework, before, framework)
    await session.flush()
    return framework


async def _depth_scale(
    session: AsyncSession, principal: Principal, scale_id: uuid.UUID, owner: Any, where: str
) -> Scale:
    """The scale a framework's objectives are judged on: a depth scale its owner may use."""
    scale = await _usable(session, principal, Scale, scale_id, owner, f"{where}.scale_id")
    if scale.kind != ScaleKind.DEPTH:
        raise InvalidInput.at(
            f"{where}.scale_id", f"objectives are judged on a depth scale, not a {scale.kind} one"
        )
    return scale


def _objective_values(item: ObjectiveIn, field: str) -> dict[str, Any]:
    try:
        check_objective_code(item.code)
        years = CurriculumYears.parse(item.curriculum_years)
    except DomainError as exc:
        raise InvalidInput.at(f"{field}.{exc.field or 'curriculum_years'}", exc.message) from exc
    return {
        **item.model_dump(),
        "curriculum_years": years.label,
        "year_from": years.first,
        "year_to": years.last,
    }


async def put_objectives(
    session: AsyncSession,
    *,
    principal: Principal,
    framework_id: uuid.UUID,
    objectives: list[ObjectiveIn],
    replace: bool,
) -> list[Objective]:
    """Add objectives (``replace=False``: new codes go at the end, known codes are updated) or
    replace the whole list (``replace=True``: the list's order is the new order; objectives
    left out are archived, never deleted, so their judgements stay)."""
    framework = await get_framework(session, principal=principal, framework_id=framework_id)
    _writable(principal, framework)
    seen: dict[str, int] = {}
    values = []
    for index, item in enumerate(objectives):
        field = f"body.objectives.{index}"
        if item.code in seen:
            raise InvalidInput.at(
                f"{field}.code", f"code {item.code} is also objective {seen[item.code]}"
            )
        seen[item.code] = index
        values.append(_objective_values(item, field))
    stored = await queries.objectives_of(session, framework.id)
    by_code = {o.code: o for o in stored}
    now = utcnow()
    next_position = 1 if replace else max((o.position for o in stored), default=0) + 1
    for value in values:
        objective = by_code.get(value["code"])
        position = next_position
        if objective is None:
            objective = Objective(framework_id=framework.id, position=position, **value)
            session.add(objective)
            stored.append(objective)
            next_position += 1
        else:
            if replace:
                next_position += 1
            else:
                position = objective.position
            before = (snapshot(objective), objective.archived)
            objective.sqlmodel_update({**value, "position": position, "archived": False})
            if (snapshot(objective), objective.archived) != before:
                objective.updated_at = now
    if replace:
        for objective in stored:
            if objective.code not in seen and not objective.archived:
                objective.archived, objective.updated_at = True, now
                objective.position = next_position
                next_position += 1
    framework.updated_at = now
    record(
        session,
        principal,
        action="update",
        entity=framework,
        before=None,
        trust_id=framework.trust_id,
        school_id=framework.school_id,
    )
    await session.flush()
    return sorted(stored, key=lambda o: o.position)


async def get_objective(
    session: AsyncSession, *, principal: Principal, objective_id: uuid.UUID
) -> tuple[Objective, Framework]:
    objective = await session.get(Objective, objective_id)
    if objective is None:
        raise NotFound("objective not found")
    framework = await session.get(Framework, objective.framework_id)
    if framework is None:
        raise NotFound("objective not found")
    try:
        _visible(principal, framework)
    except NotFound:
        raise NotFound("objective not found") from None
    return objective, framework


async def update_objective(
    session: AsyncSession,
    *,
    principal: Principal,
    objective_id: uuid.UUID,
    objective_in: ObjectiveUpdate,
) -> Objective:
    """Editing a statement keeps the objective (and its judgements): it is the same objective,
    better worded."""
    objective, framework = await get_objective(
        session, principal=principal, objective_id=objective_id
    )
    _writable(principal, framework)
    changes = objective_in.model_dump(exclude_unset=True)
    for name in ("statement", "curriculum_years", "is_key", "archived"):
        if name in changes and changes[name] is None:
            raise InvalidInput.at(f"body.{name}", "may not be null")
    if "curriculum_years" in changes:
        try:
            years = CurriculumYears.parse(changes["curriculum_years"])
        except DomainError as exc:
            raise InvalidInput.at("body.curriculum_years", exc.message) from exc
        changes |= {
            "curriculum_years": years.label,
            "year_from": years.first,
            "year_to": years.last,
        }
    before = snapshot(objective)
    objective.sqlmodel_update(changes)
    record(
        session,
        principal,
        action="update",
        entity=objective,
        before=before,
        trust_id=framework.trust_id,
        school_id=framework.school_id,
    )
    await session.flush()
    return objective


async def list_objectives(
    session: AsyncSession,
    *,
    principal: Principal,
    framework_id: uuid.UUID,
    include_archived: bool,
    curriculum_year: int | None,
    cursor: str | None,
    limit: int,
) -> Page[Objective]:
    framework = await get_framework(session, principal=principal, framework_id=framework_id)
    return await queries.list_objectives(
        session,
        framework.id,
        include_archived=include_archived,
        curriculum_year=curriculum_year,
        cursor=cursor,
        limit=limit,
    )


# --- What a page of definitions answers with ---------------------------------------------
async def descriptors_of(
    session: AsyncSession, scales: Sequence[Scale]
) -> dict[uuid.UUID, list[Descriptor]]:
    """Each scale's descriptors in their order on the scale, archived ones included: one
    statement for the whole page of scales."""
    return await queries.descriptors_of(session, [scale.id for scale in scales])


async def objective_counts(
    session: AsyncSession, frameworks: Sequence[Framework]
) -> dict[uuid.UUID, int]:
    """How many objectives each framework holds, archived ones not counted (a framework with
    none is left out): one statement for the whole page of frameworks."""
    return await queries.objective_counts(session, [framework.id for framework in frameworks])
