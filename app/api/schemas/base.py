"""What every request body and page shares: unknown fields refused, types taken as JSON gives
them (never coerced), no NUL in text, and one shape of page with a cursor."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError, core_schema
from sqlmodel import SQLModel

T = TypeVar("T")
# Scalars JSON gives directly, validated strictly: true/false only for a boolean (not 0 or
# "yes"), a JSON number for a number (not "5"; an integer for an integer, not 1.0 or true).
# Texts that name other types (ids, dates, choices) are read from strings as ever: pydantic's
# strict mode would refuse them, since request bodies reach it as parsed Python values.
_STRICT_SCALARS = frozenset({"bool", "int", "float"})
# Dates and times only as text: pydantic would read a number as seconds since 1970.
_DATES = frozenset({"date", "datetime"})


def _text_not_number(value: Any) -> Any:
    if isinstance(value, int | float):
        raise ValueError("give a date as ISO 8601 text, not a number")
    return value


def _is_date_check(schema: dict[str, Any]) -> bool:
    function = schema.get("function")
    return isinstance(function, dict) and function.get("function") is _text_not_number


def _strict_scalars(schema: Any) -> None:
    """Make the scalars of a model's core schema (``handler``'s answer) strict, in place."""
    if isinstance(schema, dict):
        if schema.get("type") in _STRICT_SCALARS:
            schema["strict"] = True
        elif _is_date_check(schema):  # already made (schemas are cached and shared)
            return
        elif schema.get("type") in _DATES:
            inner = dict(schema)
            schema.clear()
            schema.update(core_schema.no_info_before_validator_function(_text_not_number, inner))
            return
        for value in schema.values():
            _strict_scalars(value)
    elif isinstance(schema, list):
        for item in schema:
            _strict_scalars(item)


class PlainInput(BaseModel):
    """Base of a request body read in bulk (a sync's rows): Input's rules on a plain pydantic
    model. SQLModel's own validation wraps every model built and costs more than the checks
    themselves when a request carries thousands of rows."""

    model_config = ConfigDict(extra="forbid")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[BaseModel], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = handler(source)
        _strict_scalars(schema)
        return schema

    @model_validator(mode="after")
    def _no_nul(self, info: ValidationInfo) -> Any:
        # Once per model, not once per field, in a plain loop: a sync validates thousands of
        # rows, and this runs for each (unless the whole body was found free of NUL).
        if info.context is not None and info.context.get(NUL_FREE):
            return self
        found = []
        for name, value in self.__dict__.items():
            if isinstance(value, str):
                if "\x00" not in value:
                    continue
            elif not isinstance(value, list) or not any(
                isinstance(t, str) and "\x00" in t for t in value
            ):
                continue
            found.append(InitErrorDetails(type=_NUL, loc=(name,), input=value))
        if found:
            raise ValidationError.from_exception_data(type(self).__name__, found)
        return self


# Validation context (``model_validate(..., context={NUL_FREE: True})``): the caller has made
# sure no text in the input holds NUL (``json_nul_free``), so no model searches for it again.
NUL_FREE = "nul_free"


def json_nul_free(body: bytes) -> bool:
    """Whether no text in the JSON document ``body`` can hold NUL. JSON writes it only as the
    escape \\u0000 (a raw control character is not valid JSON); a body with NUL bytes (UTF-16
    or UTF-32, which JSON readers also take) is not vouched for."""
    return b"\\u0000" not in body and b"\x00" not in body


class Input(PlainInput, SQLModel):
    """Base of every request body: unknown fields are rejected, and text may not hold the NUL
    character (PostgreSQL cannot store it, and no school data needs it)."""


_NUL = PydanticCustomError("value_error", "must not contain the NUL character")


def no_defaults(schema: dict[str, Any]) -> None:
    """A model's ``json_schema_extra``: its fields' defaults kept out of the document. For
    members that are left out when they have no value (a problem's ``errors``, a form's
    fields), where generators would read a default as "always sent"."""
    for field in schema.get("properties", {}).values():
        field.pop("default", None)


class Output(BaseModel):
    """Mixed into every response model: the service always sends every field (null where it
    has no value), so the document marks every field required, defaults or not. Pydantic
    leaves a field with a default optional unless told."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


class PageOf(Output, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null at the end."
    )
