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

from app.auth.principal import Principal
from app.db.roster import Pupil, TeachingGroup
from app.db.tenancy import AssessmentPoint, School
from app.services import batches

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Loaders:
    schools_of_trust: DataLoader[uuid.UUID, list[School]]
    points_of_school: DataLoader[uuid.UUID, list[AssessmentPoint]]
    classes_of_school: DataLoader[uuid.UUID, list[TeachingGroup]]
    pupils_of_class: DataLoader[uuid.UUID, list[Pupil]]


def make_loaders(session: AsyncSession, principal: Principal, lock: asyncio.Lock) -> Loaders:
    def loader(batch: Callable[..., Awaitable[list[T]]], keyword: str) -> DataLoader[uuid.UUID, T]:
        async def load(keys: Sequence[uuid.UUID]) -> list[T]:
            arguments: dict[str, Any] = {keyword: list(keys)}
            # One session serves the whole query: its statements take turns.
            async with lock:
                return await batch(session, principal=principal, **arguments)

        return DataLoader(load_fn=load)

    return Loaders(
        schools_of_trust=loader(batches.schools_of_trusts, "trust_ids"),
        points_of_school=loader(batches.points_of_schools, "school_ids"),
        classes_of_school=loader(batches.classes_of_schools, "school_ids"),
        pupils_of_class=loader(batches.pupils_of_classes, "class_ids"),
    )
