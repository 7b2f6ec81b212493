"""Errors as GraphQL answers them: every error carries ``extensions.code`` (and the field at
fault where there is one); anything unexpected is masked, with the request id to find it in the
logs.

The codes:

- ``GRAPHQL_PARSE_FAILED``: not GraphQL (a syntax error, or more tokens than allowed);
- ``GRAPHQL_VALIDATION_FAILED``: not a query of this schema (an unknown field, a missing
  argument, too deep, too many aliases), with the ``field`` it names;
- ``BAD_INPUT``: a value the query gives is wrong (an id that is not a UUID, `first` over the
  cap, a report definition with an unknown metric), with the ``field``;
- ``NOT_FOUND``;
- ``ROWS_LIMIT`` and ``TIME_LIMIT``: the query asked for too much; it answers nothing;
- ``SERVICE_UNAVAILABLE``: the database is not answering; retry (HTTP 503 with Retry-After);
- ``INTERNAL_SERVER_ERROR``: masked, with the ``request_id``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

from graphql import (
    ArgumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSyntaxError,
    ListValueNode,
    Node,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    VariableDefinitionNode,
    VariableNode,
    print_ast,
)
from graphql.language import Visitor, visit
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.types.base_scalars import UUIDDefinition
from strawberry.types.scalar import ScalarDefinition

from app.context import request_id
from app.db.engine import database_unavailable, statement_timed_out
from app.errors import AppError, InvalidInput, NotFound
from app.logs import describe, redacted_traceback

log = logging.getLogger("markbook.graphql")

BAD_INPUT = "BAD_INPUT"
NOT_FOUND = "NOT_FOUND"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
ROWS_LIMIT = "ROWS_LIMIT"
TIME_LIMIT = "TIME_LIMIT"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
INTERNAL = "INTERNAL_SERVER_ERROR"
# Outcomes that fail the whole query: it answers no data at all, only this error.
WHOLE_QUERY = frozenset({ROWS_LIMIT, TIME_LIMIT, SERVICE_UNAVAILABLE})


def code_of(error: GraphQLError) -> str | None:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) else None


def known(exc: AppError) -> GraphQLError:
    """A service's refusal as a GraphQL error carrying its code (and field, if it names one)."""
    extensions: dict[str, object] = {"code": NOT_FOUND if isinstance(exc, NotFound) else BAD_INPUT}
    if isinstance(exc, InvalidInput) and exc.errors:
        extensions["field"] = exc.errors[0]["field"]
    return GraphQLError(exc.detail, extensions=extensions)


def time_limit(seconds: float) -> GraphQLError:
    return GraphQLError(
        f"the query ran out of its time budget ({seconds:g} s) and was stopped; ask for less "
        "(fewer schools, smaller pages, fewer reports) in one query",
        extensions={"code": TIME_LIMIT, "seconds": seconds},
    )


def unavailable(error: GraphQLError | None = None) -> GraphQLError:
    return GraphQLError(
        "the database is not answering just now; retry shortly",
        nodes=error.nodes if error else None,
        path=error.path if error else None,
        extensions={"code": SERVICE_UNAVAILABLE, "request_id": request_id.get()},
    )


# --- Ids ---------------------------------------------------------------------------------------
def _uuid_literal(node: ValueNode, _variables: Any = None) -> uuid.UUID:
    """An id written in the query: a UUID string, or an error pointing at the value (so the
    argument it was given for can be named)."""
    if isinstance(node, StringValueNode):
        try:
            return uuid.UUID(node.value)
        except ValueError:
            pass
    raise GraphQLError(f"not a UUID: {print_ast(node)}", nodes=node, extensions={"code": BAD_INPUT})


# Strawberry's UUID scalar, but a bad literal is reported at its place in the query.
UUID_SCALAR: ScalarDefinition = dataclasses.replace(UUIDDefinition, parse_literal=_uuid_literal)


# --- Request errors: the query is refused before it runs -----------------------------------
class _Arguments(Visitor):
    """Which argument each value and variable of a document is given for."""

    def __init__(self) -> None:
        super().__init__()
        self.of_value: dict[int, str] = {}
        self.of_variable: dict[str, list[str]] = {}

    def enter_argument(self, node: ArgumentNode, *_args: Any) -> None:
        for inner in _values(node.value):
            self.of_value[id(inner)] = node.name.value
            if isinstance(inner, VariableNode):
                self.of_variable.setdefault(inner.name.value, []).append(node.name.value)


def _values(node: Node) -> Iterator[Node]:
    """A value and every value (and object field) inside it."""
    yield node
    if isinstance(node, ListValueNode):
        for item in node.values:
            yield from _values(item)
    elif isinstance(node, ObjectValueNode):
        for member in node.fields:
            yield member
            yield from _values(member.value)


# graphql-core says where in a variable's value it went wrong: "... invalid value at .a[0].b: ..."
_VALUE_PATH = re.compile(r" invalid value at ((?:\.\w+|\[\d+\])+)[:;]")


def _classify(error: GraphQLError, arguments: _Arguments, validating: bool) -> dict[str, Any]:
    """The code (and field) of an error that refused the whole request: ``validating`` if
    validation found it (a variable's value found wrong is found later, by execution)."""
    if isinstance(error, GraphQLSyntaxError):
        return {"code": PARSE_FAILED}
    node = error.nodes[0] if error.nodes else None
    if isinstance(node, VariableDefinitionNode):
        variable = node.variable.name.value
        used_for = sorted(set(arguments.of_variable.get(variable, [])))
        field = used_for[0] if len(used_for) == 1 else f"${variable}"
        # Where in the value (an input object's field): "definition.metrics[0].metric".
        if not validating and (inside := _VALUE_PATH.search(error.message)):
            field += inside.group(1)
        # A variable declared wrong is the query's mistake; a value given wrong, the input's.
        return {"code": VALIDATION_FAILED if validating else BAD_INPUT, "field": field}
    if isinstance(node, ValueNode | ObjectFieldNode):
        field = arguments.of_value.get(id(node))
        return {"code": BAD_INPUT, **({"field": field} if field else {})}
    if isinstance(node, FieldNode | ArgumentNode):
        return {"code": VALIDATION_FAILED, "field": node.name.value}
    return {"code": VALIDATION_FAILED}


class RequestErrorCodes(SchemaExtension):
    """Codes for the errors that refuse a query before it runs (syntax, validation, variables),
    which graphql-core reports without one."""

    def __init__(self) -> None:
        super().__init__()
        self._found_validating: set[int] = set()

    def on_validate(self) -> Iterator[None]:
        yield
        self._found_validating = {id(e) for e in self.execution_context.pre_execution_errors or ()}

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if not errors or getattr(result, "data", None) is not None:
            return
        arguments = _Arguments()
        if (document := self.execution_context.graphql_document) is not None:
            visit(document, arguments)
        for error in errors:
            if (
                error.path is not None
                or _unexpected(error)
                or code_of(error) not in (None, BAD_INPUT)
            ):
                continue
            # What the error already says (a bad id's BAD_INPUT) stands; the field is added.
            found = _classify(error, arguments, id(error) in self._found_validating)
            error.extensions = {**found, **(error.extensions or {})}


# --- Errors while the query runs -------------------------------------------------------------
def _unexpected(error: GraphQLError) -> bool:
    # Syntax and validation errors (and those raised by ``known``) have no original error.
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


def log_errors(errors: list[GraphQLError]) -> None:
    """Log what went wrong on our side (an unexpected error, the database faltering) by kind,
    frames and request id; never messages, which may quote a variable's value or a row.
    A query's own mistakes (syntax, validation, bad input, not found) are the client's to
    read in the answer, not ours to log."""
    for error in errors:
        if not _unexpected(error):
            continue
        cause = error.original_error
        assert cause is not None
        path = ".".join(str(p) for p in error.path or ())
        if database_unavailable(cause):
            log.warning(
                "database unavailable at %s [request_id=%s]: %s",
                path,
                request_id.get(),
                describe(cause),
            )
        else:
            log.error(
                "unhandled error at %s %s [request_id=%s]\n%s",
                path,
                describe(cause),
                request_id.get(),
                redacted_traceback(cause),
            )


class MaskUnexpected(MaskErrors):
    """Unexpected errors say nothing of their cause. The database faltering or cutting off a
    statement is not a bug: those say so, still without the cause's words."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        cause = error.original_error
        if cause is not None and database_unavailable(cause):
            return unavailable(error)
        masked = super().anonymise_error(error)
        if cause is not None and statement_timed_out(cause):
            masked.message = "a statement of the query ran out of the query's time budget"
            masked.extensions = {"code": TIME_LIMIT}
        else:
            masked.extensions = {"code": INTERNAL, "request_id": request_id.get()}
        return masked
