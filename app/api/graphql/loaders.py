"""One DataLoader per relation, made fresh for each request (a loader caches what it loaded,
and what one caller may see is not another's)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.dataloader import DataLoader

from app.api.graphql.limits import SessionTurns
from app.api.schemas.pupil_page import PupilPage
from app.api.schemas.pupil_record import (
    JudgementHistoryItem,
    RecordFigures,
    RecordJudgement,
    RecordValue,
    RecordWorkingYear,
)
from app.api.schemas.targets import TargetRead
from app.auth.principal import Principal
from app.db.curriculum import Descriptor, Framework, Measure, Objective, Scale, Subject
from app.db.reports import ReportTemplate, ReportTemplateVersion
from app.db.roster import Enrolment, Pupil, PupilGroup, TeachingGroup
from app.db.tenancy import AssessmentPoint, School
from app.domain.reports import ReportDefinition, ReportTable
from app.reports.engine import Batch
from app.services import batches, reports
from app.services.batches import CellsKey, FiguresKey, PupilAccess, ValuesKey

T = TypeVar("T")
SchoolKey = tuple[uuid.UUID, uuid.UUID | None]
ReportKey = tuple[uuid.UUID, ReportDefinition]


class TrustBatches:
    """A query's trust reports, each aggregated with its schools' own (``reports.trust_batch``)
    in a task of its own, started as soon as the trust's report is asked for: the schools'
    reports of a dashboard are asked for later (once the schools are loaded), and take theirs
    from it rather than aggregating again."""

    def __init__(self, session: AsyncSession, principal: Principal, lock: SessionTurns) -> None:
        self._session, self._principal, self._lock = session, principal, lock
        self._tasks: dict[ReportKey, asyncio.Task[Batch]] = {}

    def of(self, trust_id: uuid.UUID, definition: ReportDefinition) -> asyncio.Task[Batch]:
        key = (trust_id, definition)
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._run(trust_id, definition))
        return self._tasks[key]

    async def _run(self, trust_id: uuid.UUID, definition: ReportDefinition) -> Batch:
        async with self._lock:
            return await reports.trust_batch(
                self._session, principal=self._principal, trust_id=trust_id, definition=definition
            )

    async def of_definitions(self, definitions: set[ReportDefinition]) -> list[Batch]:
        """The batches of these definitions asked for so far, once they are done (those that
        failed left out)."""
        tasks = [task for (_, d), task in self._tasks.items() if d in definitions]
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return [batch for batch in done if isinstance(batch, Batch)]


@dataclass(frozen=True, slots=True)
class Loaders:
    schools_of_trust: DataLoader[uuid.UUID, list[School]]
    points_of_school: DataLoader[uuid.UUID, list[AssessmentPoint]]
    classes_of_school: DataLoader[uuid.UUID, list[TeachingGroup]]
    pupils_of_class: DataLoader[uuid.UUID, list[Pupil]]
    # Keyed by (school id, its trust's id): a school's own definitions and its trust's.
    subjects_of_school: DataLoader[SchoolKey, list[Subject]]
    scales_of_school: DataLoader[SchoolKey, list[Scale]]
    measures_of_school: DataLoader[SchoolKey, list[Measure]]
    frameworks_of_subject: DataLoader[uuid.UUID, list[Framework]]
    objectives_of_framework: DataLoader[uuid.UUID, list[Objective]]
    descriptors_of_scale: DataLoader[uuid.UUID, list[Descriptor]]
    # A pupil and the parts of them the caller reaches; then those parts.
    pupil_access: DataLoader[uuid.UUID, PupilAccess | None]
    enrolments_of_pupil: DataLoader[uuid.UUID, list[Enrolment]]
    classes_of_pupil: DataLoader[uuid.UUID, list[TeachingGroup]]
    groups_of_pupil: DataLoader[uuid.UUID, list[PupilGroup]]
    working_years_of_pupil: DataLoader[tuple[uuid.UUID, int], list[RecordWorkingYear] | None]
    cells_of_pupil: DataLoader[CellsKey, list[RecordJudgement]]
    judgements_of_pupil: DataLoader[tuple[uuid.UUID, uuid.UUID], list[JudgementHistoryItem]]
    values_of_pupil: DataLoader[ValuesKey, list[RecordValue]]
    figures_of_pupil: DataLoader[FiguresKey, list[RecordFigures]]
    targets_of_pupil: DataLoader[uuid.UUID, list[TargetRead] | None]
    page_of_pupil: DataLoader[tuple[uuid.UUID, int], PupilPage | None]
    # Reports: keyed by (school id, definition), each definition run once for all its schools
    # (or taken from their trust's batch).
    trust_batches: TrustBatches
    report_of_school: DataLoader[ReportKey, ReportTable | None]
    templates_of_school: DataLoader[SchoolKey, list[ReportTemplate] | None]
    templates_of_trust: DataLoader[uuid.UUID, list[ReportTemplate] | None]
    versions_of_template: DataLoader[uuid.UUID, list[ReportTemplateVersion]]


def make_loaders(session: AsyncSession, principal: Principal, lock: SessionTurns) -> Loaders:
    def loader(
        batch: Callable[..., Awaitable[list[T]]], keyword: str, **fixed: Any
    ) -> DataLoader[Any, T]:
        async def load(keys: Sequence[Any]) -> list[T]:
            arguments: dict[str, Any] = {keyword: list(keys), **fixed}
            # One session serves the whole query: its statements take turns.
            async with lock:
                return await batch(session, principal=principal, **arguments)

        return DataLoader(load_fn=load)

    trust_batches = TrustBatches(session, principal, lock)

    async def load_reports(keys: Sequence[ReportKey]) -> list[ReportTable | None]:
        ran = await trust_batches.of_definitions({definition for _, definition in keys})
        async with lock:
            return await reports.school_reports(  # type: ignore[return-value]
                session, principal=principal, keys=list(keys), batches=ran
            )

    return Loaders(
        schools_of_trust=loader(batches.schools_of_trusts, "trust_ids"),
        points_of_school=loader(batches.points_of_schools, "school_ids"),
        classes_of_school=loader(batches.classes_of_schools, "school_ids"),
        pupils_of_class=loader(batches.pupils_of_classes, "class_ids"),
        subjects_of_school=loader(batches.definitions_of_schools, "schools", model=Subject),
        scales_of_school=loader(batches.definitions_of_schools, "schools", model=Scale),
        measures_of_school=loader(batches.definitions_of_schools, "schools", model=Measure),
        frameworks_of_subject=loader(batches.frameworks_of_subjects, "subject_ids"),
        objectives_of_framework=loader(batches.objectives_of_frameworks, "framework_ids"),
        descriptors_of_scale=loader(batches.descriptors_of_scales, "scale_ids"),
        pupil_access=loader(batches.access_to_pupils, "pupil_ids"),
        enrolments_of_pupil=loader(batches.enrolments_of_pupils, "pupil_ids"),
        classes_of_pupil=loader(batches.classes_of_pupils, "pupil_ids"),
        groups_of_pupil=loader(batches.groups_of_pupils, "pupil_ids"),
        working_years_of_pupil=loader(batches.working_years_of_pupils, "keys"),
        cells_of_pupil=loader(batches.cells_of_pupils, "keys"),
        judgements_of_pupil=loader(batches.judgements_of_pupils, "keys"),
        values_of_pupil=loader(batches.values_of_pupils, "keys"),
        figures_of_pupil=loader(batches.figures_of_pupils, "keys"),
        targets_of_pupil=loader(batches.targets_of_pupils, "pupil_ids"),
        page_of_pupil=loader(batches.pages_of_pupils, "keys"),
        trust_batches=trust_batches,
        report_of_school=DataLoader(load_fn=load_reports),
        templates_of_school=loader(batches.templates_of_schools, "schools"),
        templates_of_trust=loader(batches.templates_of_trusts, "trust_ids"),
        versions_of_template=loader(batches.versions_of_templates, "template_ids"),
    )
