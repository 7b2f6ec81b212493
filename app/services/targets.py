"""Pupils' targets: set by those who record the pupil's judgements, read by the pupil and
their parents (app.auth.policy, Resource.TARGET), achieved by a secure judgement.

Every change is an audit event holding the target before and after (app.services.audit), so
a target's history is its audit trail; a target achieved by a judgement is one line in the
markbook write's own audit event, which lists the targets it achieved.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.targets import ClassTargetsIn, TargetIn, TargetRead, TargetsSet, TargetUpdate
from app.auth import guards
from app.auth.guards import NOT_YOURS
from app.auth.policy import Action, Reach, Resource, reach
from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.queries import grid as grid_queries
from app.db.queries import judgements as judgement_queries
from app.db.queries import pupil_record as record_queries
from app.db.queries import roster as roster_queries
from app.db.queries import targets as queries
from app.db.queries.tenancy import get_school
from app.db.roster import Pupil
from app.db.targets import PupilTarget
from app.db.tenancy import School
from app.domain.errors import DomainError
from app.domain.scales import is_secure
from app.domain.schools import school_uses
from app.domain.targets import TargetStatus, check_target_text, closing
from app.errors import Forbidden, InvalidInput, NotFound
from app.services import idempotency
from app.services.audit import record, snapshot

PUPIL_NOT_FOUND = "pupil not found"
TARGET_NOT_FOUND = "target not found"


def target_read(row: Any) -> TargetRead:
    """A row of ``queries.targets_of`` as the API shows it."""
    target: PupilTarget = row[0]
    return TargetRead(
        **target.model_dump(exclude={"created_at"}),
        objective_code=row.objective_code,
        statement=row.statement,
        due_point_name=row.due_point_name,
        due_on=row.due_on,
    )


async def pupil_for_targets(
    session: AsyncSession, principal: Principal, pupil_id: uuid.UUID, action: Action
) -> Pupil:
    """The pupil, if the caller may read their targets (else not found); to change them, if
    they may also write them (else forbidden: a pupil or parent reading their own)."""
    readable = reach(principal, Resource.TARGET, Action.READ)
    writable = reach(principal, Resource.TARGET, Action.WRITE)
    found = (await record_queries.pupils_reached(session, [pupil_id], [readable, writable])).get(
        pupil_id
    )
    if found is None or not found[1][0]:
        raise NotFound(PUPIL_NOT_FOUND)
    pupil, (_, writes) = found
    if action is not Action.READ and not writes:
        raise Forbidden("you may not change this pupil's targets")
    return pupil


async def _school(session: AsyncSession, school_id: uuid.UUID) -> School:
    school = await get_school(session, school_id)
    assert school is not None  # a pupil's school exists while they do
    return school


async def _checked(
    session: AsyncSession, school: School, target_in: TargetIn, where: str = "body"
) -> dict[str, Any]:
    """The target's fields as stored, each checked against the pupil's school: an objective
    of its (or its trust's) frameworks, not archived; a subject it uses (the objective's, if
    both are given); a due point of its own; words on one line. A 422 naming the field
    otherwise."""
    errors: list[dict[str, str]] = []
    subject_id = target_in.subject_id
    objective_id = target_in.objective_id
    text = None
    if target_in.text is not None:
        try:
            text = check_target_text(target_in.text)
        except DomainError as exc:
            errors.append({"field": f"{where}.text", "reason": exc.message})
    elif objective_id is None:
        errors.append(
            {"field": f"{where}.text", "reason": "give the target in words, or an objective"}
        )
    if objective_id is not None:
        objective = (await judgement_queries.objectives_to_judge(session, {objective_id})).get(
            objective_id
        )
        if objective is None or not school_uses(school, objective):
            errors.append(
                {
                    "field": f"{where}.objective_id",
                    "reason": "no such objective in this school's frameworks",
                }
            )
        elif objective.archived:
            errors.append(
                {"field": f"{where}.objective_id", "reason": "this objective is archived"}
            )
        elif subject_id is not None and subject_id != objective.subject_id:
            errors.append(
                {
                    "field": f"{where}.objective_id",
                    "reason": "this objective is of another subject than subject_id",
                }
            )
        else:
            subject_id = objective.subject_id
    elif subject_id is not None:
        subjects = await queries.school_subjects(session, {subject_id})
        if not subjects or not school_uses(school, subjects[0]):
            errors.append(
                {"field": f"{where}.subject_id", "reason": "no such subject in this school"}
            )
    if target_in.due_point_id is not None:
        await _check_point(session, school, target_in.due_point_id, f"{where}.due_point_id", errors)
    if errors:
        raise InvalidInput.of(errors)
    return {
        "subject_id": subject_id,
        "objective_id": objective_id,
        "text": text,
        "due_point_id": target_in.due_point_id,
    }


async def _check_point(
    session: AsyncSession,
    school: School,
    point_id: uuid.UUID,
    field: str,
    errors: list[dict[str, str]],
) -> None:
    point = await queries.get_point(session, point_id)
    if point is None or point.school_id != school.id:
        errors.append({"field": field, "reason": "no such assessment point in this school"})


async def _already_secure(
    session: AsyncSession, pupil_ids: Collection[uuid.UUID], fields: dict[str, Any]
) -> set[uuid.UUID]:
    """The pupils in whose cell of the target's objective a secure judgement stands now (a
    target there would be achieved before it was worked on: it is refused, and the teacher
    picks a next step instead). None for a target in words only."""
    objective_id = fields["objective_id"]
    if objective_id is None:
        return set()
    rows = await record_queries.standing_judgements(
        session, pupil_ids, None, subject_id=fields["subject_id"]
    )
    return {
        row["pupil_id"]
        for row in rows
        if row["objective_id"] == objective_id
        and is_secure(
            Decimal(row["value"]),
            None if row["secure_value"] is None else Decimal(row["secure_value"]),
        )
    }


ALREADY_SECURE = "already secure for this pupil: a target is a next step, choose one not yet secure"


def _new_target(
    principal: Principal, pupil_id: uuid.UUID, school: School, fields: dict[str, Any], today: date
) -> PupilTarget:
    return PupilTarget(
        school_id=school.id,
        pupil_id=pupil_id,
        status=str(TargetStatus.OPEN),
        set_on=today,
        set_by=principal.id,
        **fields,
    )


async def _read_back(session: AsyncSession, targets: Sequence[PupilTarget]) -> list[TargetRead]:
    """The targets as the API shows them, in the order given."""
    await session.flush()
    rows = await queries.targets_of(
        session, {t.pupil_id for t in targets}, target_ids=[t.id for t in targets]
    )
    by_id = {row[0].id: target_read(row) for row in rows}
    return [by_id[t.id] for t in targets]


def _audit(
    session: AsyncSession,
    principal: Principal,
    school: School,
    target: PupilTarget,
    before: dict[str, Any] | None,
) -> None:
    record(
        session,
        principal,
        action="create" if before is None else "update",
        entity=target,
        before=before,
        trust_id=school.trust_id,
        school_id=school.id,
    )


async def set_target(
    session: AsyncSession,
    *,
    principal: Principal,
    pupil_id: uuid.UUID,
    target_in: TargetIn,
    today: date | None = None,
) -> TargetRead:
    """Set a target for one pupil: by a teacher who teaches them, or a leader (or trust
    admin) of their school."""
    pupil = await pupil_for_targets(session, principal, pupil_id, Action.WRITE)
    school = await _school(session, pupil.school_id)
    fields = await _checked(session, school, target_in)
    if await _already_secure(session, [pupil.id], fields):
        raise InvalidInput.at("body.objective_id", ALREADY_SECURE)
    target = _new_target(principal, pupil.id, school, fields, today or date.today())
    session.add(target)
    _audit(session, principal, school, target, None)
    return (await _read_back(session, [target]))[0]


async def _class_to_target(
    session: AsyncSession, principal: Principal, class_id: uuid.UUID
) -> tuple[Any, guards.SchoolReach]:
    """The class and the caller's access to its pupils' targets: not found out of reach,
    forbidden for those who may only read targets."""
    class_ = await roster_queries.get_class(session, class_id)
    if class_ is None or not reach(principal, Resource.CLASS, Action.READ).touches(
        school_id=class_.school_id
    ):
        raise NotFound("class not found")
    access = await guards.school_to_record(session, principal, Resource.TARGET, class_.school_id)
    return class_, access


async def class_targets_request(
    session: AsyncSession,
    *,
    principal: Principal,
    class_id: uuid.UUID,
    targets_in: ClassTargetsIn,
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
) -> tuple[dict[str, Any], bool]:
    """Class targets as the API receives them: access first, then the stored answer for a
    retried ``Idempotency-Key`` (the same targets, not a second set), else the write. Returns
    (answer, replayed)."""
    class_, access = await _class_to_target(session, principal, class_id)

    async def run() -> dict[str, Any]:
        made = await _set_class_targets(
            session, principal=principal, class_=class_, access=access, targets_in=targets_in
        )
        return made.model_dump(mode="json")

    _, answer, replayed = await idempotency.once(
        session,
        principal=principal,
        key=idempotency_key,
        request_fingerprint=request_fingerprint,
        run=run,
        status_code=201,
    )
    return answer, replayed


async def _set_class_targets(
    session: AsyncSession,
    *,
    principal: Principal,
    class_: Any,
    access: guards.SchoolReach,
    targets_in: ClassTargetsIn,
    today: date | None = None,
) -> TargetsSet:
    """Set the same target for many pupils of a class at once (the pupils named, else every
    pupil of the class the caller may set targets for), all or nothing: one target each."""
    school = access.school
    members = await grid_queries.grid_pupils(session, access.write, school.id, class_id=class_.id)
    in_class = [row.id for row in members]
    if targets_in.pupil_ids is None:
        chosen = in_class
    else:
        allowed = set(in_class)
        errors = [
            {"field": f"body.pupil_ids.{index}", "reason": f"{NOT_YOURS} in this class"}
            for index, pupil_id in enumerate(targets_in.pupil_ids)
            if pupil_id not in allowed
        ]
        seen: dict[uuid.UUID, int] = {}
        for index, pupil_id in enumerate(targets_in.pupil_ids):
            if pupil_id in seen:
                errors.append(
                    {
                        "field": f"body.pupil_ids.{index}",
                        "reason": f"the same pupil as body.pupil_ids.{seen[pupil_id]}",
                    }
                )
            seen.setdefault(pupil_id, index)
        if errors:
            raise InvalidInput.of(errors)
        chosen = list(targets_in.pupil_ids)
    if not chosen:
        raise InvalidInput.at("body.pupil_ids", "the class has no pupils you may set targets for")
    fields = await _checked(
        session, school, TargetIn(**targets_in.model_dump(exclude={"pupil_ids"}))
    )
    secured = await _already_secure(session, chosen, fields)
    if secured:
        if targets_in.pupil_ids is None:
            raise InvalidInput.at(
                "body.objective_id",
                f"already secure for {len(secured)} of the class's pupils: name the others "
                "in pupil_ids, or choose an objective not yet secure",
            )
        raise InvalidInput.of(
            [
                {"field": f"body.pupil_ids.{index}", "reason": ALREADY_SECURE}
                for index, pupil_id in enumerate(chosen)
                if pupil_id in secured
            ]
        )
    day = today or date.today()
    targets = [_new_target(principal, pupil_id, school, fields, day) for pupil_id in chosen]
    session.add_all(targets)
    for target in targets:
        _audit(session, principal, school, target, None)
    return TargetsSet(items=await _read_back(session, targets))


async def _target_for(
    session: AsyncSession, principal: Principal, target_id: uuid.UUID, action: Action
) -> PupilTarget:
    """The target, if the caller may read its pupil's targets (else not found); forbidden to
    change unless they may write them."""
    target = await queries.get_target(session, target_id)
    if target is None:
        raise NotFound(TARGET_NOT_FOUND)
    try:
        await pupil_for_targets(session, principal, target.pupil_id, action)
    except NotFound as exc:
        raise NotFound(TARGET_NOT_FOUND) from exc
    return target


async def read_target(
    session: AsyncSession, *, principal: Principal, target_id: uuid.UUID
) -> TargetRead:
    target = await _target_for(session, principal, target_id, Action.READ)
    return (await _read_back(session, [target]))[0]


async def update_target(
    session: AsyncSession,
    *,
    principal: Principal,
    target_id: uuid.UUID,
    update: TargetUpdate,
    today: date | None = None,
) -> TargetRead:
    """Change a target's words, due point or status. Closing (or marking achieved) dates it
    today, by the caller; opening it again clears that. A target keeps some words or an
    objective: its words can be removed only from a target on an objective."""
    target = await _target_for(session, principal, target_id, Action.WRITE)
    school = await _school(session, target.school_id)
    changes = update.model_dump(exclude_unset=True)
    errors: list[dict[str, str]] = []
    before = snapshot(target)
    if "text" in changes:
        text = changes["text"]
        if text is None:
            if target.objective_id is None:
                errors.append(
                    {"field": "body.text", "reason": "a target without an objective needs words"}
                )
        else:
            try:
                text = check_target_text(text)
            except DomainError as exc:
                errors.append({"field": "body.text", "reason": exc.message})
        target.text = text
    if "due_point_id" in changes:
        if changes["due_point_id"] is not None:
            await _check_point(
                session, school, changes["due_point_id"], "body.due_point_id", errors
            )
        target.due_point_id = changes["due_point_id"]
    if changes.get("status") is not None:
        status = TargetStatus(changes["status"])
        if status != target.status:
            target.status = str(status)
            target.closed_on = closing(status, today or date.today())
            target.closed_by = None if target.closed_on is None else principal.id
    elif "status" in changes:
        errors.append({"field": "body.status", "reason": "give open, closed or achieved"})
    if errors:
        raise InvalidInput.of(errors)
    if snapshot(target) != before:
        target.updated_at = utcnow()
    _audit(session, principal, school, target, before)
    return (await _read_back(session, [target]))[0]


async def list_targets(
    session: AsyncSession,
    *,
    principal: Principal,
    pupil_id: uuid.UUID,
    status: TargetStatus | None,
) -> list[TargetRead]:
    """The pupil's targets (of one status, if given): open ones by due date, then closed and
    achieved ones, most recently closed first."""
    pupil = await pupil_for_targets(session, principal, pupil_id, Action.READ)
    rows = await queries.targets_of(
        session, [pupil.id], statuses=None if status is None else [status]
    )
    return [target_read(row) for row in rows]


async def targets_of_pupils(
    session: AsyncSession, pupil_ids: Collection[uuid.UUID], readable: Reach
) -> dict[uuid.UUID, list[TargetRead]]:
    """GraphQL's batch: the targets of each pupil the reach (of targets, to read) covers (the
    others are left out), as ``list_targets`` orders them."""
    reached = await record_queries.pupils_reached(session, pupil_ids, [readable])
    rows = await queries.targets_of(session, set(reached))
    found: dict[uuid.UUID, list[TargetRead]] = {pupil_id: [] for pupil_id in reached}
    for row in rows:
        found[row[0].pupil_id].append(target_read(row))
    return found


async def achieve_secured(
    session: AsyncSession,
    *,
    principal: Principal,
    cells: Collection[tuple[uuid.UUID, uuid.UUID]],
    at: datetime,
) -> list[str]:
    """A markbook write's part: the open targets on cells (pupil, objective) where a secure
    judgement now stands are achieved, dated the day it was judged, by the writer; one
    statement. Returns their ids, for the write's audit event."""
    achieved = await queries.achieve(session, cells, by=principal.id, at=at)
    return sorted(str(row.id) for row in achieved)
