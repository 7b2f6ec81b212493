"""/graphql over HTTP, as the GraphQL-over-HTTP spec has it.

- POST runs a query, with the same bearer token as REST (no token: REST's 401 problem).
  ``Accept: application/graphql-response+json`` gets that media type and its status codes: a
  query refused before it runs (syntax, validation, variables) is a 400, without ``data``.
  ``application/json`` (or no Accept) is the legacy answer: 200 whenever the request was
  well-formed.
- A query that passes its row cap or its time budget fails whole (``ROWS_LIMIT``,
  ``TIME_LIMIT``); the database faltering answers 503 with Retry-After, as REST does.
- GET serves the explorer page to a browser and is refused (405) otherwise: no query runs from
  a link. There is no WebSocket endpoint (the schema has no subscriptions).
"""

from __future__ import annotations

import asyncio
from typing import Any

from cross_web import HTTPException as StrawberryHTTPException
from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from app.api.deps import GRAPHQL_PATH
from app.api.graphql import explorer
from app.api.graphql.context import GraphContext, get_context
from app.api.graphql.errors import (
    INTERNAL,
    SERVICE_UNAVAILABLE,
    WHOLE_QUERY,
    code_of,
    time_limit,
)
from app.api.graphql.schema import schema
from app.api.problems import RETRY_AFTER_SECONDS, problem_response

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
JSON = "application/json"


def _quality(accept: str, media_type: str) -> tuple[float, int]:
    """How much an Accept header wants ``media_type``: (q, how specific the matching range
    is: 2 named, 1 ``application/*``, 0 ``*/*``); (0, -1) if not at all."""
    best = (0.0, -1)
    main = media_type.split("/")[0]
    for part in accept.split(","):
        kind, *params = (p.strip() for p in part.split(";"))
        kind = kind.lower()
        specificity = {media_type: 2, f"{main}/*": 1, "*/*": 0}.get(kind)
        if specificity is None or specificity < best[1]:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = (q, specificity)
    return best


def answer_type(request: Request) -> str:
    """application/graphql-response+json if the client names it and likes it at least as
    much as application/json; otherwise application/json (also for ``*/*`` or no Accept)."""
    accept = request.headers.get("accept", "")
    wanted, named = _quality(accept, GRAPHQL_RESPONSE_JSON)
    legacy, _ = _quality(accept, JSON)
    return GRAPHQL_RESPONSE_JSON if named == 2 and wanted > 0 and wanted >= legacy else JSON


def _refused_before_running(result: ExecutionResult) -> bool:
    """A request error: nothing ran (syntax, validation, variables), so no error has a path."""
    return (
        result.data is None
        and bool(result.errors)
        and all(
            e.path is None and code_of(e) not in WHOLE_QUERY | {INTERNAL} for e in result.errors
        )
    )


async def explorer_or_refusal(request: Request) -> Response:
    if explorer.wants_page(request):
        return explorer.page(request)
    return problem_response(
        request,
        status=405,
        slug="method-not-allowed",
        title="Method not allowed",
        detail=(
            f"GET runs no queries (a query in a link must not run): POST {GRAPHQL_PATH} with "
            'a JSON body {"query": "...", "variables": {...}} and your bearer token; '
            "open it in a browser for the explorer"
        ),
        headers={"Allow": "POST"},
    )


class MarkbookGraphQL(GraphQLRouter):
    def __init__(self) -> None:
        super().__init__(
            schema,
            path=GRAPHQL_PATH,
            context_getter=get_context,
            allow_queries_via_get=False,
            graphql_ide=None,
            include_in_schema=False,
        )
        # Keep Strawberry's POST route only: its GET route would demand a signed-in context
        # before it could serve a page, and its WebSocket route serves subscriptions we have not.
        self.routes[:] = [
            r for r in self.routes if isinstance(r, APIRoute) and r.methods == {"POST"}
        ]
        self.add_api_route(
            GRAPHQL_PATH, explorer_or_refusal, methods=["GET"], include_in_schema=False
        )

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        try:
            return await super().run(request, context=context, root_value=root_value)
        except StrawberryHTTPException as exc:
            # Not a GraphQL request at all (not JSON, no query, batched): said as GraphQL does.
            status = 415 if exc.reason == "Unsupported content type" else exc.status_code
            reason = exc.reason
            if status == 415:
                reason = "send the query as JSON (Content-Type: application/json)"
            body = {"errors": [{"message": reason, "extensions": {"code": "BAD_REQUEST"}}]}
            return Response(
                self.encode_json(body), status_code=status, media_type=answer_type(request)
            )

    async def execute_single(  # type: ignore[override]
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Response,
        context: GraphContext,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        budget = asyncio.timeout(context.seconds)
        try:
            async with budget:
                result = await super().execute_single(
                    request, request_adapter, sub_response, context, root_value, request_data
                )
        except TimeoutError:
            if not budget.expired():
                raise
            await context.abandon()
            result = ExecutionResult(data=None, errors=[time_limit(context.seconds)])
        media_type = answer_type(request)
        sub_response.media_type = media_type
        failed = next((e for e in result.errors or () if code_of(e) in WHOLE_QUERY), None)
        if failed is not None:
            # Past a limit, or the database faltered: no partial answer, only why.
            result = ExecutionResult(data=None, errors=[failed], extensions=result.extensions)
            if code_of(failed) == SERVICE_UNAVAILABLE:
                sub_response.status_code = 503
                sub_response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        elif _refused_before_running(result) and media_type == GRAPHQL_RESPONSE_JSON:
            sub_response.status_code = 400
        return result

    async def process_result(  # type: ignore[override]
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        answer = await super().process_result(request, result)
        if _refused_before_running(result):
            # The query never ran, so the answer has no data entry (not even null).
            answer.pop("data", None)
        return answer

    def create_response(  # type: ignore[override]
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Response
    ) -> Response:
        response = Response(
            self.encode_json(response_data),
            media_type=sub_response.media_type or JSON,
            status_code=sub_response.status_code or 200,
        )
        response.headers.raw.extend(
            (k, v) for k, v in sub_response.headers.raw if k.lower() != b"content-length"
        )
        return response


def make_router() -> GraphQLRouter:
    return MarkbookGraphQL()
