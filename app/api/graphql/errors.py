"""Errors as GraphQL answers them: known ones with ``extensions.code`` (and the field at
fault); anything unexpected masked, with the request id to find it in the logs."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from app.context import request_id
from app.errors import AppError, InvalidInput, NotFound

BAD_INPUT = "BAD_INPUT"
NOT_FOUND = "NOT_FOUND"


def known(exc: AppError) -> GraphQLError:
    """A service's refusal as a GraphQL error carrying its code (and field, if it names one)."""
    extensions: dict[str, object] = {"code": NOT_FOUND if isinstance(exc, NotFound) else BAD_INPUT}
    if isinstance(exc, InvalidInput) and exc.errors:
        extensions["field"] = exc.errors[0]["field"]
    return GraphQLError(exc.detail, extensions=extensions)


def _unexpected(error: GraphQLError) -> bool:
    # Syntax and validation errors (and those raised by ``known``) have no original error.
    return error.original_error is not None and not isinstance(error.original_error, GraphQLError)


class MaskUnexpected(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR", "request_id": request_id.get()}
        return masked
