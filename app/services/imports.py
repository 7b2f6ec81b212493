"""Roster file imports (DfE CTF, OneRoster 1.2 CSV) as jobs a client can poll.

The file is read and checked while the client waits, so a malformed file is refused at once
and nothing is stored. Its rows then go through the same roster sync as an MIS's JSON: small
files in the same request (the job is finished when the answer comes), large ones in a
background job, whose status (queued, running, succeeded, failed) and counts the client polls.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.schemas.roster import RosterSyncEnvelope
from app.auth import guards
from app.auth.policy import Resource
from app.auth.principal import Principal
from app.db.import_jobs import ImportJob
from app.db.queries import import_jobs as job_queries
from app.db.tenancy import School
from app.domain.calendar import AcademicYear
from app.domain.grades import DEFAULT_GRADE_MAPPING, GradeMapping
from app.domain.pupils import YearGroup
from app.errors import AppError, InvalidInput, NotFound, field_error
from app.importers import FileRejected, ImportedRoster, ZipLimits, parse_ctf, parse_oneroster
from app.importers.safety import DEFAULT_ZIP_LIMITS
from app.logs import describe, redacted_traceback
from app.services import offload, roster_sync
from app.settings import Settings

log = logging.getLogger("markbook.imports")

INLINE_PUPILS = 2_000
DEFAULT_NAMES = {"ctf": "upload.xml", "oneroster": "oneroster.zip"}
# Pupil fields a file must give: a CTF always carries a date of birth (the DfE's schema
# requires it), so one without is broken; OneRoster's demographics.csv is optional.
REQUIRED = {"ctf": ("date_of_birth",), "oneroster": ()}

RunLater = Callable[[async_sessionmaker[AsyncSession]], Awaitable[None]]


def zip_limits(settings: Settings) -> ZipLimits:
    """What a OneRoster zip may unpack to, from the MARKBOOK_IMPORT_* settings."""
    return ZipLimits(
        max_total_bytes=settings.import_max_unpacked_bytes,
        max_member_bytes=settings.import_max_file_bytes,
        max_rows=settings.import_max_rows,
    )


def _parse(
    kind: str,
    data: bytes,
    filename: str,
    limits: ZipLimits,
    grade_mapping: GradeMapping = DEFAULT_GRADE_MAPPING,
    year_group: YearGroup | None = None,
) -> ImportedRoster:
    if kind == "oneroster":
        return parse_oneroster(
            data,
            filename=filename,
            limits=limits,
            grade_mapping=grade_mapping,
            year_group=year_group,
        )
    return parse_ctf(data, filename=filename)


def _refusal(exc: FileRejected) -> AppError:
    """A file refused for several problems: each as an error of its own, with the count."""
    return InvalidInput.of(
        [{"field": "body", "reason": problem.located} for problem in exc.problems],
        total=exc.total,
        error_count=exc.total,
    )


def _summary(result: dict[str, Any], parsed: ImportedRoster) -> dict[str, Any]:
    """What the job keeps of a sync's answer: the counts, the rows that were refused, and
    what the uploader should know (the file's warnings, classes stored without a teacher)."""
    counts = (
        "created",
        "updated",
        "unchanged",
        "rejected",
        "left",
        "classes_created",
        "classes_rejected",
    )
    warnings = list(parsed.warnings)
    for missed in result.get("teachers_missed", []):
        index = missed["index"]
        where = (
            parsed.class_sources[index]
            if index < len(parsed.class_sources)
            else f"class {index + 1}"
        )
        emails = ", ".join(missed["emails"])
        warnings.append(
            f"{where}: class {missed['code']} stored without teacher {emails}: no user of the "
            "school has that email yet; import again once they have an account, or add them "
            "to the class (PATCH /v1/classes/{id} teacher_ids)"
        )
    return {
        **{name: result[name] for name in counts},
        "rejected_rows": [
            row for row in result["pupils"] + result["classes"] if row["status"] == "rejected"
        ],
        "warnings": warnings,
        "grade_mapping": parsed.grade_mapping,
    }


def _problem(exc: AppError) -> dict[str, Any]:
    return {
        "type": f"/problems/{exc.slug}",
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "errors": exc.errors,
    }


async def start_import(
    session: AsyncSession,
    *,
    principal: Principal,
    school_id: uuid.UUID,
    kind: str,
    data: bytes,
    filename: str | None,
    mode: str,
    full: bool,
    academic_year: int | None,
    limits: ZipLimits = DEFAULT_ZIP_LIMITS,
    grade_mapping: GradeMapping = DEFAULT_GRADE_MAPPING,
    year_group: YearGroup | None = None,
) -> tuple[ImportJob, RunLater | None]:
    """Read the file and store it now, or return the job and what will store it later.

    The file is read off the event loop (other requests go on being answered meanwhile), and
    a zip only within ``limits``: one that unpacks to more is refused as it is read."""
    school = await guards.school_to_change(
        session, principal, school_id, Resource.PUPIL, Resource.CLASS
    )
    name = filename or DEFAULT_NAMES[kind]
    try:
        parsed = await offload.read_file(
            _parse, kind, data, name, limits, grade_mapping, year_group
        )
    except FileRejected as exc:
        if exc.total > 1:
            raise _refusal(exc) from None
        raise
    if full and not parsed.complete:
        raise InvalidInput.at(
            "query.full", f"this {kind} file is not a whole roster, so it cannot say who has left"
        )
    year = academic_year or parsed.academic_year or AcademicYear.containing(date.today()).start_year
    try:
        envelope = RosterSyncEnvelope(
            academic_year=year,
            mode=mode,  # type: ignore[arg-type]
            full=full,
            classes=parsed.classes,
            pupils=parsed.pupils,
        )
    except ValidationError as exc:
        # Too many pupils or classes for one sync: say so of the file, not of a JSON body.
        errors = [field_error(error) for error in exc.errors()]
        for error in errors:
            error["reason"] = f"{name}: {error['reason']}"
        raise InvalidInput.of(errors) from None
    job = ImportJob(
        school_id=school.id,
        trust_id=school.trust_id,
        kind=kind,
        filename=name,
        status="running",
        rows_total=len(parsed.pupils),
        created_by_type=principal.kind,
        created_by_id=principal.id,
    )
    session.add(job)
    await session.flush()
    if len(parsed.pupils) <= INLINE_PUPILS:
        result = await roster_sync.sync_roster(
            session,
            principal=principal,
            envelope=envelope,
            school=school,
            unknown_teachers="skip",
            required=REQUIRED[kind],
        )
        _succeeded(job, result, parsed)
        await session.flush()
        return job, None
    job.status = "queued"
    await session.flush()
    job_id = job.id

    async def run_later(sessions: async_sessionmaker[AsyncSession]) -> None:
        await _run(sessions, job_id, principal, envelope, school.id, parsed, REQUIRED[kind])

    return job, run_later


def _succeeded(job: ImportJob, result: dict[str, Any], parsed: ImportedRoster) -> None:
    job.status = "succeeded"
    job.problem = None
    job.rows_done = job.rows_total
    job.result = _summary(result, parsed)


async def _run(
    sessions: async_sessionmaker[AsyncSession],
    job_id: uuid.UUID,
    principal: Principal,
    envelope: RosterSyncEnvelope,
    school_id: uuid.UUID,
    parsed: ImportedRoster,
    required: tuple[str, ...],
) -> None:
    async with sessions() as session:
        job = await session.get(ImportJob, job_id)
        assert job is not None
        job.status = "running"
        await session.commit()
    problem: dict[str, Any] | None = None
    try:
        async with sessions() as session:
            school = await session.get(School, school_id)
            if school is None:
                raise NotFound("school not found")
            result = await roster_sync.sync_roster(
                session,
                principal=principal,
                envelope=envelope,
                school=school,
                unknown_teachers="skip",
                required=required,
            )
            job = await session.get(ImportJob, job_id)
            assert job is not None
            _succeeded(job, result, parsed)
            await session.commit()
            return
    except AppError as exc:
        problem = _problem(exc)
    except Exception as exc:
        # By kind and frames: the message may quote the file's rows (pupils' data).
        log.error("import job %s failed: %s\n%s", job_id, describe(exc), redacted_traceback(exc))
        problem = {
            "type": "/problems/internal-error",
            "title": "Internal error",
            "status": 500,
            "detail": f"the import failed on our side; quote job {job_id} when reporting it",
        }
    async with sessions() as session:
        job = await session.get(ImportJob, job_id)
        assert job is not None
        job.status = "failed"
        job.problem = problem
        await session.commit()


async def get_job(session: AsyncSession, *, principal: Principal, job_id: uuid.UUID) -> ImportJob:
    """Import jobs are seen only by those who may import into their school (they name pupils
    by key): to anyone else a job is not found."""
    return await guards.import_job_for(session, principal, job_id)


async def fail_interrupted_jobs(
    sessions: async_sessionmaker[AsyncSession], *, started_at: datetime | None = None
) -> int:
    """At start: a job still queued or running was cut off when the service last stopped
    (its background task died with the process, and its sync, one transaction, stored
    nothing). It is marked failed, saying when the service restarted, so that a client
    polling it learns to upload the file again rather than wait for ever. Answers how many.

    Only jobs last changed before ``started_at`` (default now) are touched. A database that
    does not answer is logged, and does not stop the service starting."""
    started_at = started_at or datetime.now(UTC)
    when = started_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    async with sessions() as session:
        try:
            jobs = await job_queries.unfinished_jobs(session, changed_before=started_at)
        except (SQLAlchemyError, OSError):
            # Not a reason to stay down: /readyz reports the database, and the next start
            # looks again.
            log.exception("could not look for interrupted import jobs")
            return 0
        for job in jobs:
            job.problem = {
                "type": "/problems/service-restarted",
                "title": "Import interrupted",
                "status": 503,
                "detail": f"the service restarted at {when} while this import was "
                f"{job.status}; nothing from the file was stored: upload it again",
                "restarted_at": started_at.isoformat(),
            }
            job.status = "failed"
        await session.commit()
    if jobs:
        log.warning("marked %d interrupted import jobs failed", len(jobs))
    return len(jobs)
