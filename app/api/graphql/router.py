"""/graphql: POST only (GET is refused, so no query runs from a link), the same bearer token."""

from __future__ import annotations

from strawberry.fastapi import GraphQLRouter

from app.api.deps import GRAPHQL_PATH
from app.api.graphql.context import get_context
from app.api.graphql.schema import schema


def make_router() -> GraphQLRouter:
    return GraphQLRouter(
        schema,
        path=GRAPHQL_PATH,
        context_getter=get_context,
        allow_queries_via_get=False,
        # GraphiQL from a CDN would not work offline; no explorer until it is served locally.
        graphql_ide=None,
        include_in_schema=False,
    )
