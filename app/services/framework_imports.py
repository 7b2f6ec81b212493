"""Frameworks from files: a CSV of objectives (the national curriculum's columns) or a 1EdTech
CASE 1.0 JSON package. The file is read whole before anything is stored, and a framework is
created with all its objectives or not at all. The file is read off the event loop."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.schemas.curriculum import FrameworkCreate, ObjectiveIn
from app.auth.principal import Principal
from app.db.curriculum import Framework, Objective
from app.domain.curriculum import CurriculumYears
from app.domain.errors import DomainError
from app.domain.grades import DEFAULT_GRADE_MAPPING, GradeMapping
from app.errors import InvalidInput, field_error
from app.importers.case import parse_case_package
from app.importers.objectives import ImportedFramework, parse_objectives_csv
from app.services import curriculum, offload

Model = TypeVar("Model", bound=BaseModel)
DEFAULT_NAMES = {"csv": "objectives.csv", "case": "case.json"}
OBJECTIVE_KEYS = ("code", "statement", "curriculum_years", "strand", "sub_strand", "is_key")


def _validated(model: type[Model], values: dict[str, Any], prefix: str) -> Model:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput.of([field_error(e, prefix) for e in exc.errors()]) from exc


def _objectives(parsed: ImportedFramework, default_years: str | None) -> list[ObjectiveIn]:
    """The file's objectives; those it gives no curriculum year take ``default_years``."""
    found = []
    for index, item in enumerate(parsed.objectives):
        values: dict[str, Any] = {k: item[k] for k in OBJECTIVE_KEYS}
        if values["curriculum_years"] is None:
            if default_years is None:
                raise InvalidInput.at(
                    f"body.objectives.{index}.curriculum_years",
                    f"objective {values['code']} has no curriculum year: give curriculum_years "
                    "for those the file leaves open",
                )
            values["curriculum_years"] = default_years
        found.append(_validated(ObjectiveIn, values, f"body.objectives.{index}"))
    return found


async def import_framework(
    session: AsyncSession,
    *,
    principal: Principal,
    file_format: str,
    data: bytes,
    filename: str | None,
    owner: dict[str, uuid.UUID | None],
    subject_id: uuid.UUID,
    name: str | None,
    scale_id: uuid.UUID | None = None,
    curriculum_years: str | None,
    grade_mapping: GradeMapping = DEFAULT_GRADE_MAPPING,
) -> tuple[Framework, list[Objective], ImportedFramework]:
    """Store the framework a file describes; answers it, its objectives, and what was read
    (whose ``warnings`` the caller passes on)."""
    if curriculum_years is not None:
        try:
            curriculum_years = CurriculumYears.parse(curriculum_years).label
        except DomainError as exc:
            raise InvalidInput.at("query.curriculum_years", exc.message) from exc
    file_name = filename or DEFAULT_NAMES[file_format]
    if file_format == "case":
        parsed = await offload.read_file(
            parse_case_package, data, filename=file_name, grade_mapping=grade_mapping
        )
    else:
        parsed = await offload.read_file(parse_objectives_csv, data, filename=file_name)
    objectives = _objectives(parsed, curriculum_years)
    values = {
        "name": name or parsed.title or f"{parsed.subject or 'Imported'} objectives",
        "source": parsed.source[:100],
        "subject_id": subject_id,
        "scale_id": scale_id,
        **owner,
    }
    # The name comes from the query or from the file's title: either way, say "name".
    framework = await curriculum.create_framework(
        session,
        principal=principal,
        framework_in=_validated(FrameworkCreate, values, "query"),
        where="query",
    )
    stored = await curriculum.put_objectives(
        session,
        principal=principal,
        framework_id=framework.id,
        objectives=objectives,
        replace=True,
    )
    return framework, stored, parsed
