"""How long personal details are kept outside a pupil's own record, and their erasure there.

Two places hold pupils' details besides the roster and the markbook (whose rows go with the
pupil, and the audit trail, emptied on erasure):

- stored answers to ``Idempotency-Key`` requests (a sync's answer names pupils by key and id),
  kept 24 hours. When a pupil is erased, every stored answer that names them (by Markbook id,
  UPN or MIS id) is deleted at once: a retry of such a request after the erasure then runs
  afresh rather than replaying, which is safe because every such write is idempotent by its
  natural keys.
- import jobs (file name, rejected rows, warnings, a failed job's problem), kept
  ``import_job_retention_days`` (default 30); after that only the job's kind, status and
  counts remain. When a pupil is erased, every mention of them is taken out of the school's
  jobs (app.domain.erasure), and the file name of a job that mentioned them goes too.

``sweep`` forgets what has expired; the app runs it in the background every
``retention_sweep_seconds`` (and once at start), and it can be called directly.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db.base import utcnow
from app.db.engine import WRITES
from app.db.queries import idempotency as answers
from app.db.queries import import_jobs as jobs
from app.db.roster import Pupil
from app.domain.erasure import Marks, mentions, scrub
from app.services.idempotency import KEY_LIFETIME

log = logging.getLogger("markbook.retention")

# What an expired job's result and problem keep: their counts, status and kind of problem.
EXPIRED_RESULT = {"rejected_rows": [], "warnings": []}
EXPIRED_PROBLEM = {"detail": "the details of this import are no longer kept", "errors": []}


@dataclass(frozen=True, slots=True)
class Swept:
    answers: int
    jobs: int


async def sweep(session: AsyncSession, *, now: datetime, job_retention: timedelta) -> Swept:
    """Forget the idempotency answers older than a day and the personal details of import
    jobs older than ``job_retention``, as at ``now``: two statements. The caller commits."""
    return Swept(
        answers=await answers.forget_answers_before(session, now - KEY_LIFETIME),
        jobs=await jobs.drop_details_before(
            session, now - job_retention, result=EXPIRED_RESULT, problem=EXPIRED_PROBLEM
        ),
    )


async def forget_pupil(session: AsyncSession, pupil: Pupil) -> None:
    """Take the pupil out of stored idempotency answers and their school's import jobs (see
    the module's docstring), as part of erasing them."""
    keys = [str(pupil.id), pupil.upn, pupil.external_id]
    await answers.forget_answers_naming(session, [key for key in keys if key])
    marks = Marks.of(
        keys=keys,
        names=[
            pupil.legal_forename,
            pupil.legal_surname,
            pupil.preferred_forename,
            pupil.preferred_surname,
        ],
    )
    for job in await jobs.jobs_with_details(session, pupil.school_id):
        if mentions([job.result, job.problem, job.filename], marks):
            job.result = scrub(job.result, marks)
            job.problem = scrub(job.problem, marks)
            job.filename = "[erased]"


async def sweep_now(sessions: async_sessionmaker[AsyncSession], retention: timedelta) -> None:
    """One sweep as at now, in a transaction of its own (what the background task runs)."""
    async with sessions() as session:
        if session.get_bind().dialect.name == "sqlite":
            await session.connection(execution_options={WRITES: True})
        swept = await sweep(session, now=utcnow(), job_retention=retention)
        await session.commit()
    if swept.answers or swept.jobs:
        log.info("retention sweep: %d answers, %d import jobs", swept.answers, swept.jobs)


async def sweep_forever(
    sessions: async_sessionmaker[AsyncSession], *, every: timedelta, job_retention: timedelta
) -> None:
    """Sweep now and then every ``every``, until cancelled; a failed sweep is logged and tried
    again next time."""
    while True:
        try:
            await sweep_now(sessions, job_retention)
        except Exception:
            log.exception("retention sweep failed; trying again in %s", every)
        await asyncio.sleep(every.total_seconds())
