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
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.api.schemas.roster import RosterSyncEnvelope
from app.auth import guards
from app.auth.policy import Resource
from app.auth.principal import Principal
from app.db.import_jobs import ImportJob
from app.db.tenancy import School
from app.domain.calendar import AcademicYear
from app.errors import AppError, InvalidInput, NotFound
from app.importers import ImportedRoster, parse_ctf, parse_oneroster
from app.logs import describe, redacted_traceback
from app.services import roster_sync

log = logging.getLogger("markbook.imports")

INLINE_PUPILS = 2_000
PARSERS: dict[str, Callable[..., ImportedRoster]] = {"ctf": parse_ctf, "oneroster": parse_oneroster}
DEFAULT_NAMES = {"ctf": "upload.xml", "oneroster": "oneroster.zip"}

RunLater = Callable[[async_sessionmaker[AsyncSession]], Awaitable[None]]


def _summary(result: dict[str, Any], parsed: ImportedRoster) -> dict[str, Any]:
    """What the job keeps of a sync's answer: the counts, and the rows that were refused."""
    counts = ("created", "updated", "unchanged", "rejected", "left", "classes_created")
    return {
        **{name: result[name] for name in counts},
        "rejected_rows": [
            row for row in result["pupils"] + result["classes"] if row["status"] == "rejected"
        ],
        "warnings": parsed.warnings,
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
) -> tuple[ImportJob, RunLater | None]:
    """Read the file and store it now, or return the job and what will store it later."""
    school = await guards.school_to_change(
        session, principal, school_id, Resource.PUPIL, Resource.CLASS
    )
    name = filename or DEFAULT_NAMES[kind]
    parsed = PARSERS[kind](data, filename=name)
    if full and not parsed.complete:
        raise InvalidInput.at(
            "query.full", f"this {kind} file is not a whole roster, so it cannot say who has left"
        )
    year = academic_year or parsed.academic_year or AcademicYear.containing(date.today()).start_year
    envelope = RosterSyncEnvelope(
        academic_year=year,
        mode=mode,  # type: ignore[arg-type]
        full=full,
        classes=parsed.classes,
        pupils=parsed.pupils,
    )
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
            session, principal=principal, envelope=envelope, school=school
        )
        _succeeded(job, result, parsed)
        await session.flush()
        return job, None
    job.status = "queued"
    await session.flush()
    job_id = job.id

    async def run_later(sessions: async_sessionmaker[AsyncSession]) -> None:
        await _run(sessions, job_id, principal, envelope, school.id, parsed)

    return job, run_later


def _succeeded(job: ImportJob, result: dict[str, Any], parsed: ImportedRoster) -> None:
    job.status = "succeeded"
    job.rows_done = job.rows_total
    job.result = _summary(result, parsed)


async def _run(
    sessions: async_sessionmaker[AsyncSession],
    job_id: uuid.UUID,
    principal: Principal,
    envelope: RosterSyncEnvelope,
    school_id: uuid.UUID,
    parsed: ImportedRoster,
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
                session, principal=principal, envelope=envelope, school=school
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
