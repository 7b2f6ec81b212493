"""What every request body and page shares: unknown fields refused, no NUL in text, and
one shape of page with a cursor."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlmodel import SQLModel

T = TypeVar("T")


class Input(SQLModel):
    """Base of every request body: unknown fields are rejected, and text may not hold the NUL
    character (PostgreSQL cannot store it, and no school data needs it)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain the NUL character")
        return value


class PageOf(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null at the end."
    )
