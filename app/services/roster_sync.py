"""Bulk roster sync: classes, pupils, enrolments and memberships from an MIS, in one request.

The sync reads what the schools already hold (one query per table, custom groups and stage
assessments only if some row sends them), works out row by row what would change (comparing
only what each row sends), and then writes only the changes with one set-based statement per
table. A row
that changes nothing writes nothing, audit included, so a nightly re-send of the same roster is
cheap and leaves no trace. In all-or-nothing mode (the default) any bad row rejects the whole
request before anything is written; in partial mode the good rows are stored and the bad ones
reported. ``full`` mode marks pupils on roll this year but missing from the payload as left.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app import context
from app.api.schemas.base import NUL_FREE, json_nul_free
from app.api.schemas.roster import ClassSyncRow, PupilSyncRow, RosterSyncEnvelope, StageAssessmentIn
from app.auth import guards
from app.auth.policy import Action, Resource, reach
from app.auth.principal import Principal
from app.db.base import utcnow
from app.db.queries import bulk
from app.db.queries import roster as queries
from app.db.roster import PUPIL_FIELDS
from app.db.tenancy import School
from app.domain.calendar import AcademicYear
from app.domain.errors import DomainError
from app.domain.pupils import check_dates, is_temporary_upn
from app.domain.roster import PupilChange, changed, replace_set
from app.errors import Forbidden, InvalidInput, field_error
from app.services import idempotency, offload, summaries

# What a pupil row stores on the pupil table, besides its keys and timestamps.
PUPIL_STORED = (*PUPIL_FIELDS, "upn_temporary", "left_on")
_PUPIL_FIELD_SET = frozenset(PUPIL_FIELDS)
ENROLMENT_STORED = ("year_group", "joined_on", "left_on")
# What a row sends of this year's enrolment: its year group and leaving date always, its
# joining date if given (else kept).
_ENROLMENT_SENT = ("year_group", "left_on")
_ENROLMENT_SENT_JOINED = ("year_group", "joined_on", "left_on")
CLASS_STORED = ("name", "subject")
STAGE_FIELDS = tuple(StageAssessmentIn.model_fields)
MAX_REPORTED_ERRORS = 1000
_NO_IDS: frozenset[uuid.UUID] = frozenset()


@dataclass
class _Row:
    """One payload row on its way through the sync."""

    index: int
    key: str
    school: School | None = None
    school_id: uuid.UUID | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    status: str = "unchanged"
    id: uuid.UUID | None = None

    def reject(self, field: str, reason: str) -> None:
        """Refuse the row: nothing of it is stored, so it answers with no id."""
        self.errors.append({"field": field, "reason": reason})
        self.status = "rejected"
        self.id = None

    def result(self) -> dict[str, Any]:
        stored = self.id is not None and self.status != "rejected"
        return {
            "index": self.index,
            "key": self.key,
            "status": self.status,
            "id": str(self.id) if stored else None,
            "errors": self.errors or None,
        }


def _raw_key(raw: dict[str, Any]) -> str:
    for name in ("external_id", "upn"):
        value = raw.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


@dataclass
class _Plan:
    """Everything the sync will write, gathered before anything is written."""

    classes: list[dict[str, Any]] = field(default_factory=list)
    teachers_removed: list[uuid.UUID] = field(default_factory=list)  # class ids
    teachers: list[dict[str, Any]] = field(default_factory=list)
    pupils: list[dict[str, Any]] = field(default_factory=list)
    enrolments: list[dict[str, Any]] = field(default_factory=list)
    memberships_reset: dict[uuid.UUID, set[uuid.UUID]] = field(default_factory=dict)
    memberships: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    group_members_reset: list[uuid.UUID] = field(default_factory=list)  # pupil ids
    group_members: list[dict[str, Any]] = field(default_factory=list)
    stage_reset: list[uuid.UUID] = field(default_factory=list)  # pupil ids
    stage_assessments: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    new_ids: set[uuid.UUID] = field(default_factory=set)  # classes, pupils, enrolments

    def split(self, rows: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
        """(new rows, to insert; stored rows, to update)."""
        new = [row for row in rows if row["id"] in self.new_ids]
        return new, [row for row in rows if row["id"] not in self.new_ids]


@dataclass
class _Stored:
    """What the schools hold of their pupils, indexed for the sync's rows."""

    by_external: dict[tuple[uuid.UUID, str], Any]
    by_upn: dict[tuple[uuid.UUID, str], Any]
    enrolments: dict[uuid.UUID, Any]  # this year's, by pupil
    memberships: dict[uuid.UUID, set[uuid.UUID]]  # class ids, by pupil
    groups: dict[tuple[uuid.UUID, str], uuid.UUID]  # by school and name
    group_names: dict[uuid.UUID, str]
    members: dict[uuid.UUID, set[uuid.UUID]]  # group ids, by pupil
    stages: dict[uuid.UUID, list[dict[str, Any]]]  # stage assessments, by pupil

    @classmethod
    def index(cls, state: dict[str, list[Any]]) -> _Stored:
        stored = cls({}, {}, {}, defaultdict(set), {}, {}, defaultdict(set), defaultdict(list))
        for pupil in state["pupils"]:
            if pupil["external_id"] is not None:
                stored.by_external[(pupil["school_id"], pupil["external_id"])] = pupil
            if pupil["upn"] is not None:
                stored.by_upn[(pupil["school_id"], pupil["upn"])] = pupil
        stored.enrolments = {e["pupil_id"]: e for e in state["enrolments"]}
        for link in state["class_pupils"]:
            stored.memberships[link["pupil_id"]].add(link["class_id"])
        stored.groups = {(g["school_id"], g["name"]): g["id"] for g in state["groups"]}
        stored.group_names = {g["id"]: g["name"] for g in state["groups"]}
        for link in state["group_members"]:
            stored.members[link["pupil_id"]].add(link["group_id"])
        for assessment in state["stage_assessments"]:
            stored.stages[assessment["pupil_id"]].append({k: assessment[k] for k in STAGE_FIELDS})
        return stored


class _Sync:
    def __init__(
        self,
        principal: Principal,
        envelope: RosterSyncEnvelope,
        schools: dict[str, School],
        *,
        fixed_school: School | None,
        unknown_teachers: str = "refuse",
        required: tuple[str, ...] = (),
        nul_free: bool = False,
    ) -> None:
        self.principal = principal
        # The rows' text is known to hold no NUL (the JSON body has none): not searched again.
        self.row_context = {NUL_FREE: True} if nul_free else None
        # Pupil fields this source must give (a CTF always carries a date of birth: one
        # without is broken, though the field is optional for a sync).
        self.required = required
        # "refuse": a class naming a teacher email no user of the school has is refused;
        # "skip" (file imports, whose first run may come before the teachers' accounts): the
        # class is stored without that teacher, and the miss is reported in ``teachers_missed``.
        self.unknown_teachers = unknown_teachers
        self.teachers_missed: list[dict[str, Any]] = []
        self.envelope = envelope
        self.year = envelope.academic_year
        self.schools = schools  # by URN: the schools this sync may write
        self.fixed_school = fixed_school
        # Read once: a school's attributes are the ORM's, dear to read once a row.
        self.school_ids = {urn: school.id for urn, school in schools.items()}
        if fixed_school is not None:
            self.fixed_urn, self.fixed_school_id = fixed_school.urn, fixed_school.id
        self.now = utcnow()
        self.today = date.today()
        self.plan = _Plan()
        self.class_rows: list[_Row] = []
        self.pupil_rows: list[_Row] = []
        self.classes_in: list[tuple[_Row, ClassSyncRow]] = []
        self.rows_of_code: dict[str, list[_Row]] = {}  # class rows by code, as sent
        self.pupils_in: list[tuple[_Row, PupilSyncRow]] = []
        self.class_codes: dict[uuid.UUID, str] | None = None

    # --- reading the payload -------------------------------------------------------------
    def _place(self, row: _Row, urn: str | None, where: str) -> bool:
        """Give the row its school (the sync's, or the one its URN names); False: refused."""
        if self.fixed_school is not None:
            if urn is not None and urn != self.fixed_urn:
                row.reject(f"{where}.school_urn", "not the school this sync is for")
                return False
            row.school, row.school_id = self.fixed_school, self.fixed_school_id
            return True
        if urn is None:
            row.reject(f"{where}.school_urn", "give the URN of the pupil's school")
            return False
        school = self.schools.get(urn)
        if school is None:
            row.reject(f"{where}.school_urn", "no such school within your reach")
            return False
        row.school, row.school_id = school, self.school_ids[urn]
        return True

    def read(self) -> None:
        seen_classes: dict[tuple[uuid.UUID, str], int] = {}
        for index, raw in enumerate(self.envelope.classes):
            where = f"body.classes.{index}"
            row = _Row(index, str(raw.get("code", "")))
            self.class_rows.append(row)
            self.rows_of_code.setdefault(row.key, []).append(row)
            try:
                item = ClassSyncRow.model_validate(raw)
            except ValidationError as exc:
                for error in exc.errors():
                    row.reject(**field_error(error, where))
                continue
            if not self._place(row, item.school_urn, where):
                continue
            first = seen_classes.setdefault((row.school_id, item.code), index)
            if first != index:
                row.reject(f"{where}.code", f"class {item.code} is also in row {first}")
                continue
            self.classes_in.append((row, item))

        seen_keys: dict[tuple[uuid.UUID, str, str], int] = {}
        for index, raw in enumerate(self.envelope.pupils):
            where = f"body.pupils.{index}"
            row = _Row(index, _raw_key(raw))
            self.pupil_rows.append(row)
            try:
                item = PupilSyncRow.model_validate(raw, context=self.row_context)
                check_dates(
                    date_of_birth=item.date_of_birth,
                    joined_on=item.joined_on,
                    left_on=item.left_on,
                    today=self.today,
                )
            except ValidationError as exc:
                for error in exc.errors():
                    row.reject(**field_error(error, where))
                continue
            except DomainError as exc:
                row.reject(f"{where}.{exc.field}", exc.message)
                continue
            for name in self.required:
                if getattr(item, name) is None:
                    row.reject(f"{where}.{name}", "Field required")
            if row.errors:
                continue
            if not self._place(row, item.school_urn, where):
                continue
            duplicate = False
            row_school_id = row.school_id
            for name in ("external_id", "upn"):
                value = getattr(item, name)
                if value is None:
                    continue
                first = seen_keys.setdefault((row_school_id, name, value), index)
                if first != index:
                    row.reject(f"{where}.{name}", f"{name} {value} is also in row {first}")
                    duplicate = True
            if not duplicate:
                self.pupils_in.append((row, item))

    # --- working out the changes ---------------------------------------------------------
    def _audit(
        self,
        *,
        action: str,
        entity_type: str,
        entity_id: uuid.UUID,
        school: School,
        before: dict[str, Any] | None,
        after: dict[str, Any],
    ) -> None:
        self.plan.audit.append(
            {
                "id": uuid.uuid4(),
                "occurred_at": self.now,
                "actor_type": self.principal.kind,
                "actor_id": self.principal.id,
                "request_id": context.request_id.get(),
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "trust_id": school.trust_id,
                "school_id": school.id,
                "before": before,
                "after": after,
            }
        )

    def plan_classes(self, state: dict[str, list[Any]], teachers: dict[Any, uuid.UUID]) -> None:
        stored = {(c["school_id"], c["code"]): c for c in state["classes"]}
        stored_teachers: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
        for link in state["class_teachers"]:
            stored_teachers[link["class_id"]].add(link["user_id"])
        self.class_ids: dict[tuple[uuid.UUID, str], uuid.UUID] = {
            key: c["id"] for key, c in stored.items()
        }
        for row, item in self.classes_in:
            assert row.school is not None
            school = row.school
            where = f"body.classes.{row.index}"
            wanted: set[uuid.UUID] | None = None
            missed: list[str] = []
            if item.teacher_emails is not None:
                wanted = set()
                for position, email in enumerate(item.teacher_emails):
                    user_id = teachers.get((school.id, email.lower()))
                    if user_id is not None:
                        wanted.add(user_id)
                    elif self.unknown_teachers == "skip":
                        missed.append(email)
                    else:
                        row.reject(
                            f"{where}.teacher_emails.{position}",
                            "no teacher or leader of the school has this email",
                        )
            if row.errors:
                continue
            old = stored.get((school.id, item.code))
            if missed:
                self.teachers_missed.append(
                    {"index": row.index, "code": item.code, "emails": missed}
                )
                # The file's teacher list could not be followed whole: add the teachers it
                # names who have accounts, and take no one off the class.
                if old is not None and wanted is not None:
                    wanted |= stored_teachers.get(old["id"], set())
            new = {"name": item.name, "subject": item.subject}
            class_id = old["id"] if old else uuid.uuid4()
            if old is None:
                self.plan.new_ids.add(class_id)
            row.id = class_id
            self.class_ids[(school.id, item.code)] = class_id
            before_teachers = stored_teachers.get(class_id, set())
            added, removed = replace_set(before_teachers, wanted)
            is_changed = changed(old, new)
            if is_changed:
                self.plan.classes.append(
                    {
                        "id": class_id,
                        "school_id": school.id,
                        "academic_year": self.year,
                        "code": item.code,
                        **new,
                        "created_at": old["created_at"] if old else self.now,
                        "updated_at": self.now,
                    }
                )
            if added or removed:
                self.plan.teachers_removed.append(class_id)
                self.plan.teachers += [
                    {"class_id": class_id, "user_id": user_id, "school_id": school.id}
                    for user_id in sorted(wanted or ())
                ]
            if not (is_changed or added or removed):
                continue
            row.status = "updated" if old else "created"
            before = None
            if old:
                before = {
                    **{k: old[k] for k in CLASS_STORED},
                    "teacher_ids": sorted(str(u) for u in before_teachers),
                }
            after_teachers = before_teachers if wanted is None else wanted
            self._audit(
                action="update" if old else "create",
                entity_type="teaching_group",
                entity_id=class_id,
                school=school,
                before=before,
                after={
                    "code": item.code,
                    "academic_year": self.year,
                    **new,
                    "teacher_ids": sorted(str(u) for u in after_teachers),
                },
            )

    def plan_pupils(self, state: dict[str, list[Any]]) -> None:
        """Each pupil row: find the pupil it names (by MIS id, else UPN), check the classes it
        puts them in, and plan whatever it changes (the pupil, this year's enrolment, class and
        group memberships, stage assessments), with one audit event for the pupil. A row that
        changes nothing plans nothing."""
        stored = _Stored.index(state)
        self.synced: set[uuid.UUID] = set()
        for row, item in self.pupils_in:
            assert row.school is not None
            old = self._match(row, item, stored)
            wanted_classes = None if row.errors else self._classes_named(row, item)
            if row.errors:
                continue
            pupil_id = old["id"] if old else uuid.uuid4()
            row.id = pupil_id
            self.synced.add(pupil_id)
            change = self._change(row, pupil_id, old, item, wanted_classes, stored)
            if not change.changes_anything:
                continue
            row.status = "updated" if old else "created"
            self._plan_rows(row.school, change)
            self._audit_pupil(row.school, change, stored)

    def _match(self, row: _Row, item: PupilSyncRow, stored: _Stored) -> Mapping[str, Any] | None:
        """The stored pupil the row names: by MIS id, else by UPN (None: a new pupil). A row
        whose two keys name two different pupils is refused."""
        school_id = row.school_id
        old = stored.by_external.get((school_id, item.external_id)) if item.external_id else None
        by_number = stored.by_upn.get((school_id, item.upn)) if item.upn else None
        if old is not None and by_number is not None and by_number["id"] != old["id"]:
            row.reject(
                f"body.pupils.{row.index}.upn", "this UPN belongs to another pupil of the school"
            )
            return None
        return old or by_number

    def _classes_named(self, row: _Row, item: PupilSyncRow) -> set[uuid.UUID] | None:
        """The classes the row puts the pupil in (None: it does not say), each a class of the
        school this year (else the row is refused)."""
        if item.classes is None:
            return None
        school_id, class_ids = row.school_id, self.class_ids
        wanted: set[uuid.UUID] = set()
        for position, code in enumerate(item.classes):
            class_id = class_ids.get((school_id, code))
            if class_id is None:
                row.reject(f"body.pupils.{row.index}.classes.{position}", self._no_class(code))
            else:
                wanted.add(class_id)
        return wanted

    def _no_class(self, code: str) -> str:
        """Why a pupil cannot be put in class ``code``: it was refused (saying where and why),
        or there is no such class this year."""
        refused = [row for row in self.rows_of_code.get(code, []) if row.errors]
        if refused:
            first = refused[0]
            error = first.errors[0]
            return (
                f"class {code} was refused (body.classes.{first.index}: {error['reason']}), "
                "so the pupil cannot be put in it"
            )
        return f"no class {code} in {AcademicYear(self.year).label}"

    def _groups_named(
        self, school_id: uuid.UUID, item: PupilSyncRow, stored: _Stored
    ) -> set[uuid.UUID] | None:
        """The custom groups the row puts the pupil in (None: it does not say); a group the
        school has not got yet is made."""
        if item.groups is None:
            return None
        wanted: set[uuid.UUID] = set()
        for name in item.groups:
            group_id = stored.groups.get((school_id, name))
            if group_id is None:
                group_id = stored.groups[(school_id, name)] = uuid.uuid4()
                stored.group_names[group_id] = name
                self.plan.groups.append(
                    {
                        "id": group_id,
                        "school_id": school_id,
                        "name": name,
                        "description": None,
                        "created_at": self.now,
                        "updated_at": self.now,
                    }
                )
            wanted.add(group_id)
        return wanted

    def _change(
        self,
        row: _Row,
        pupil_id: uuid.UUID,
        old: Mapping[str, Any] | None,
        item: PupilSyncRow,
        wanted_classes: set[uuid.UUID] | None,
        stored: _Stored,
    ) -> PupilChange:
        """What the row sends for the pupil, beside what is stored now. Fields the row leaves
        out keep their stored values."""
        given = item.model_fields_set
        # The row's validated values (choices as their codes: no dump per row), and the
        # pupil's UPN flag worked out from the UPN it will have. Its leaving date is always
        # sent (none: on roll).
        upn = item.upn if "upn" in given else old["upn"] if old else None
        sent = {**item.__dict__, "upn_temporary": is_temporary_upn(upn)}
        sent_fields = (*(_PUPIL_FIELD_SET & given), "left_on", "upn_temporary")
        sent_enrolment_fields = _ENROLMENT_SENT_JOINED if "joined_on" in given else _ENROLMENT_SENT

        had_stages = stored.stages.get(pupil_id, [])
        new_stages: list[dict[str, Any]] | None = None
        if item.stage_assessments is not None:
            new_stages = [s.model_dump() for s in item.stage_assessments]
            if _stage_key(new_stages) == _stage_key(had_stages):
                new_stages = None
        assert row.school_id is not None
        return PupilChange(
            pupil_id=pupil_id,
            old=old,
            enrolment=stored.enrolments.get(pupil_id),
            sent=sent,
            fields=PUPIL_STORED,
            sent_fields=sent_fields,
            enrolment_fields=ENROLMENT_STORED,
            sent_enrolment_fields=sent_enrolment_fields,
            had_classes=stored.memberships.get(pupil_id, _NO_IDS),
            wanted_classes=wanted_classes,
            had_groups=stored.members.get(pupil_id, _NO_IDS),
            wanted_groups=self._groups_named(row.school_id, item, stored),
            had_stages=had_stages,
            new_stages=new_stages,
        )

    def _plan_rows(self, school: School, change: PupilChange) -> None:
        """The rows to write for a changed pupil: only the tables the change touches."""
        pupil_id, school_id, old = change.pupil_id, school.id, change.old
        if old is None:
            self.plan.new_ids.add(pupil_id)
        if change.pupil_changed:
            self.plan.pupils.append(
                {
                    "id": pupil_id,
                    "school_id": school_id,
                    **change.merged,
                    "created_at": old["created_at"] if old else self.now,
                    "updated_at": self.now,
                }
            )
        if change.enrolment_changed:
            enrolment = change.enrolment
            enrolment_id = enrolment["id"] if enrolment else uuid.uuid4()
            if enrolment is None:
                self.plan.new_ids.add(enrolment_id)
            self.plan.enrolments.append(
                {
                    "id": enrolment_id,
                    "pupil_id": pupil_id,
                    "school_id": school_id,
                    "academic_year": self.year,
                    **change.merged_enrolment,
                    "created_at": enrolment["created_at"] if enrolment else self.now,
                    "updated_at": self.now,
                }
            )
        if change.classes_changed:
            if change.had_classes:
                self.plan.memberships_reset[pupil_id] = change.had_classes
            self.plan.memberships += [
                {"class_id": class_id, "pupil_id": pupil_id, "school_id": school_id}
                for class_id in sorted(change.wanted_classes or ())
            ]
        if change.groups_changed:
            if change.had_groups:
                self.plan.group_members_reset.append(pupil_id)
            self.plan.group_members += [
                {"group_id": group_id, "pupil_id": pupil_id, "school_id": school_id}
                for group_id in sorted(change.wanted_groups or ())
            ]
        if change.new_stages is not None:
            if change.had_stages:
                self.plan.stage_reset.append(pupil_id)
            self.plan.stage_assessments += [
                {
                    "id": uuid.uuid4(),
                    "pupil_id": pupil_id,
                    "school_id": school_id,
                    **stage,
                    "source": "sync",
                    "created_at": self.now,
                }
                for stage in change.new_stages
            ]

    def _class_codes(self) -> dict[uuid.UUID, str]:
        """Each class's code by id, made once (the classes are all planned before pupils)."""
        if self.class_codes is None:
            self.class_codes = {class_id: code for (_, code), class_id in self.class_ids.items()}
        return self.class_codes

    def _audit_pupil(self, school: School, change: PupilChange, stored: _Stored) -> None:
        """One audit event for the pupil: what changed, before and after."""
        old = change.old
        before = _json({k: old[k] for k in PUPIL_STORED}) if old else {}
        after = _json(change.merged)
        if change.enrolment_changed:
            if change.enrolment:
                before["enrolment"] = _json({k: change.enrolment[k] for k in ENROLMENT_STORED})
            after["enrolment"] = _json(change.merged_enrolment)
        if change.classes_changed:
            class_codes = self._class_codes()
            before["classes"] = sorted(class_codes.get(c, str(c)) for c in change.had_classes)
            after["classes"] = sorted(class_codes[c] for c in change.wanted_classes or ())
        if change.groups_changed:
            before["groups"] = sorted(stored.group_names[g] for g in change.had_groups)
            after["groups"] = sorted(stored.group_names[g] for g in change.wanted_groups or ())
        if change.new_stages is not None:
            after["stage_assessments"] = len(change.new_stages)
        self._audit(
            action="update" if old else "create",
            entity_type="pupil",
            entity_id=change.pupil_id,
            school=school,
            before=before if old else None,
            after=after,
        )

    def plan_leavers(self, state: dict[str, list[Any]]) -> list[uuid.UUID]:
        """Full mode: pupils on roll this year whom the payload does not name have left."""
        named = {
            value
            for raw in self.envelope.pupils
            for value in (raw.get("external_id"), raw.get("upn"))
            if isinstance(value, str)
        }
        pupils = {p["id"]: p for p in state["pupils"]}
        schools = {school.id: school for school in self.schools.values()}
        leavers = []
        for enrolment in state["enrolments"]:
            pupil = pupils[enrolment["pupil_id"]]
            if pupil["id"] in self.synced or enrolment["left_on"] is not None:
                continue
            if {pupil["external_id"], pupil["upn"]} & named:
                continue  # named by a rejected row: not known to have left
            school = schools[pupil["school_id"]]
            leavers.append(pupil["id"])
            before = _json({k: pupil[k] for k in PUPIL_STORED})
            merged = {**{k: pupil[k] for k in PUPIL_STORED}, "left_on": self.today}
            self.plan.pupils.append(
                {
                    "id": pupil["id"],
                    "school_id": pupil["school_id"],
                    **merged,
                    "created_at": pupil["created_at"],
                    "updated_at": self.now,
                }
            )
            merged_enrolment = {
                **{k: enrolment[k] for k in ENROLMENT_STORED},
                "left_on": self.today,
            }
            self.plan.enrolments.append(
                {
                    "id": enrolment["id"],
                    "pupil_id": pupil["id"],
                    "school_id": pupil["school_id"],
                    "academic_year": self.year,
                    **merged_enrolment,
                    "created_at": enrolment["created_at"],
                    "updated_at": self.now,
                }
            )
            self._audit(
                action="update",
                entity_type="pupil",
                entity_id=pupil["id"],
                school=school,
                before=before,
                after=_json(merged) | {"enrolment": _json(merged_enrolment)},
            )
        return leavers

    # --- writing -------------------------------------------------------------------------
    async def write(self, session: AsyncSession) -> None:
        """One statement a table (COPY for new rows on PostgreSQL), memberships replaced only
        for the pupils whose memberships changed."""
        plan = self.plan
        for table, rows, stored in (
            (queries.CLASS, plan.classes, CLASS_STORED),
            (queries.PUPIL, plan.pupils, PUPIL_STORED),
            (queries.ENROLMENT, plan.enrolments, ENROLMENT_STORED),
        ):
            new, known = plan.split(rows)
            await bulk.write_rows(session, table, new)
            await bulk.write_rows(
                session, table, known, conflict=["id"], update=(*stored, "updated_at")
            )
        await bulk.delete_where_in(
            session, queries.CLASS_TEACHER, "class_id", plan.teachers_removed
        )
        await bulk.write_rows(session, queries.CLASS_TEACHER, plan.teachers)
        if plan.memberships_reset:
            await bulk.delete_where_in(
                session,
                queries.CLASS_PUPIL,
                "pupil_id",
                plan.memberships_reset,
                queries.CLASS_PUPIL.c.class_id.in_(list(self.class_ids.values())),
            )
        await bulk.write_rows(session, queries.CLASS_PUPIL, plan.memberships)
        await bulk.write_rows(session, queries.GROUP, plan.groups)
        await bulk.delete_where_in(
            session, queries.GROUP_MEMBER, "pupil_id", plan.group_members_reset
        )
        await bulk.write_rows(session, queries.GROUP_MEMBER, plan.group_members)
        await bulk.delete_where_in(session, queries.STAGE_ASSESSMENT, "pupil_id", plan.stage_reset)
        await bulk.write_rows(session, queries.STAGE_ASSESSMENT, plan.stage_assessments)
        await bulk.write_rows(session, queries.AUDIT, plan.audit)


def _stage_key(stages: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return sorted(tuple(str(stage.get(k)) for k in STAGE_FIELDS) for stage in stages)


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, uuid.UUID) else v)
        for k, v in values.items()
    }


def _errors(rows: list[_Row]) -> list[dict[str, str]]:
    """The refused rows' errors, each with its row's key (the MIS id, else the UPN: a CTF's
    pupils have only a UPN), so the sender can find the pupil without counting rows."""
    return [{**error, "key": row.key} if row.key else error for row in rows for error in row.errors]


async def sync_roster(
    session: AsyncSession,
    *,
    principal: Principal,
    envelope: RosterSyncEnvelope,
    school: School | None = None,
    trust_id: uuid.UUID | None = None,
    unknown_teachers: str = "refuse",
    required: tuple[str, ...] = (),
    nul_free: bool = False,
) -> dict[str, Any]:
    """Sync one school's roster (``school``), or a trust's (``trust_id``: rows say their
    school by URN). Returns the counts and a result per row.

    In all-or-nothing mode a refusal lists every row's problems (up to a cap, with the
    count), those found reading the rows and those found against what is stored. With
    ``unknown_teachers="skip"`` a class naming a teacher email no user of the school has is
    stored without them, and the answer's ``teachers_missed`` says so. ``required`` names
    pupil fields, optional in a sync, that this source must give (a row without is refused).
    ``nul_free``: the caller found no NUL in the rows' source (``json_nul_free``).

    The caller must be allowed to write pupils and classes in every school it names; a
    trust-wide sync reaches only the schools the caller may write.
    """
    pupil_reach = reach(principal, Resource.PUPIL, Action.WRITE)
    class_reach = reach(principal, Resource.CLASS, Action.WRITE)
    if school is not None:
        schools = {school.urn: school}
    else:
        assert trust_id is not None
        schools = {
            urn: s
            for urn, s in (await queries.schools_of_trust_by_urn(session, trust_id)).items()
            if pupil_reach.covers(school_id=s.id) and class_reach.covers(school_id=s.id)
        }
        if not schools:
            raise Forbidden("you may not sync pupils and classes in this trust's schools")
    sync = _Sync(
        principal,
        envelope,
        schools,
        fixed_school=school,
        unknown_teachers=unknown_teachers,
        required=required,
        nul_free=nul_free,
    )
    # Checking thousands of rows is CPU work: off the event loop, so other requests go on.
    await offload.read_file(sync.read)
    all_or_nothing = envelope.mode == "all_or_nothing"

    school_ids = {s.id for s in schools.values()}
    await queries.lock_schools(session, school_ids)
    # Groups and stage assessments are read only if some row sends them: a MIS that does not
    # carry them leaves them alone.
    state = await queries.sync_state(
        session,
        school_ids,
        envelope.academic_year,
        groups=any(item.groups is not None for _, item in sync.pupils_in),
        stage_assessments=any(item.stage_assessments is not None for _, item in sync.pupils_in),
    )
    emails = {email.lower() for _, item in sync.classes_in for email in item.teacher_emails or ()}
    teachers = await queries.teachers_by_email(session, school_ids, emails)
    sync.plan_classes(state, teachers)
    await offload.read_file(sync.plan_pupils, state)
    leavers = sync.plan_leavers(state) if envelope.full else []
    rejected = _errors(sync.class_rows) + _errors(sync.pupil_rows)
    if all_or_nothing and rejected:
        raise _rejection(rejected, sync.pupil_rows, sync.class_rows)
    await sync.write(session)
    await summaries.recount_enrolled(session, enrolments=sync.plan.enrolments)

    def count(rows: list[_Row], status: str) -> int:
        return sum(1 for row in rows if row.status == status)

    answer = {
        "academic_year": envelope.academic_year,
        "created": count(sync.pupil_rows, "created"),
        "updated": count(sync.pupil_rows, "updated"),
        "unchanged": count(sync.pupil_rows, "unchanged"),
        "rejected": count(sync.pupil_rows, "rejected"),
        "left": len(leavers),
        "left_pupil_ids": [str(pupil_id) for pupil_id in leavers],
        "classes_created": count(sync.class_rows, "created"),
        "classes_updated": count(sync.class_rows, "updated"),
        "classes_rejected": count(sync.class_rows, "rejected"),
        "pupils": [row.result() for row in sync.pupil_rows],
        "classes": [row.result() for row in sync.class_rows],
    }
    if unknown_teachers == "skip":
        answer["teachers_missed"] = sync.teachers_missed
    return answer


def _rejection(
    errors: list[dict[str, str]], pupil_rows: list[_Row], class_rows: list[_Row]
) -> InvalidInput:
    return InvalidInput.of(
        errors[:MAX_REPORTED_ERRORS],
        lead="nothing was stored: ",
        total=len(errors),
        error_count=len(errors),
        rejected=sum(1 for row in pupil_rows if row.errors),
        classes_rejected=sum(1 for row in class_rows if row.errors),
    )


def read_envelope(body: bytes) -> RosterSyncEnvelope:
    """The sync request's envelope from raw JSON (rows are read later, one by one)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput.at("body", f"not valid UTF-8 JSON: {exc}") from exc
    try:
        return RosterSyncEnvelope.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput.of([field_error(e, "body") for e in exc.errors()]) from exc


async def sync_request(
    session: AsyncSession,
    *,
    principal: Principal,
    body: bytes,
    school_id: uuid.UUID | None = None,
    trust_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
    request_fingerprint: str = "",
) -> tuple[int, dict[str, Any], bool]:
    """A sync as the API receives it: access first, then a stored answer for a retried
    ``Idempotency-Key``, else the sync itself. Returns (status, body, replayed)."""
    school = None
    if school_id is not None:
        school = await guards.school_to_change(
            session, principal, school_id, Resource.PUPIL, Resource.CLASS
        )
    else:
        assert trust_id is not None
        await guards.trust_for(session, principal, Resource.PUPIL, trust_id)

    async def run() -> dict[str, Any]:
        envelope = read_envelope(body)
        return await sync_roster(
            session,
            principal=principal,
            envelope=envelope,
            school=school,
            trust_id=trust_id,
            nul_free=json_nul_free(body),
        )

    return await idempotency.once(
        session,
        principal=principal,
        key=idempotency_key,
        request_fingerprint=request_fingerprint,
        run=run,
    )
