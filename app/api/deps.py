"""Request dependencies: the session (one per request, committed before the response is sent),
the calling principal, the session reports and GraphQL read from (a replica's when one is
configured), and paging parameters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlowPassword, OAuthFlows
from fastapi.security import OAuth2
from pydantic import AfterValidator, AwareDatetime, BeforeValidator
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.auth.throttle import SignInThrottle
from app.auth.tokens import TokenIssuer
from app.db.engine import WRITES, retry_lost_connection, tune_for_reports
from app.db.queries.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from app.domain.instants import NOT_ISO, in_utc, looks_iso
from app.errors import Unauthorized
from app.services.auth import principal_from_token

TOKEN_URL = "/v1/auth/token"
GRAPHQL_PATH = "/graphql"


_READS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reads that write an audit event (a subject access export): on SQLite they take the write lock
# up front like any write.
_AUDITED_READS = ("/subject-access",)


def _writes(request: Request) -> bool:
    return request.method not in _READS or request.url.path.endswith(_AUDITED_READS)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = request.app.state
    path = request.url.path
    # GraphQL's own statements run on the report session (get_report_session); this one
    # only loads the caller.
    reads_only = not _writes(request) or path == GRAPHQL_PATH
    sessions = state.read_sessions if reads_only else state.sessions
    async with sessions() as session:
        try:
            if (
                _writes(request)
                # Signing in reads (argon2 takes ~0.2 s); GraphQL only reads.
                and path not in (TOKEN_URL, GRAPHQL_PATH)
                and state.engine.dialect.name == "sqlite"
            ):
                # SQLite: a writing request takes the write lock when it begins (see engine).
                await session.connection(execution_options={WRITES: True})
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": the commit happens before the response leaves, so a failed commit is the
# client's error response, never a 200 for data that was not stored.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

oauth2 = OAuth2(
    flows=OAuthFlows(
        password=OAuthFlowPassword(tokenUrl=TOKEN_URL),
        clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_URL),
    ),
    scheme_name="oauth2",
    description="Bearer tokens from POST /v1/auth/token (password, refresh_token or "
    "client_credentials).",
    auto_error=False,
)


# Dependencies are coroutines: FastAPI sends a plain function to the thread pool on every call.
async def get_issuer(request: Request) -> TokenIssuer:
    return request.app.state.issuer


IssuerDep = Annotated[TokenIssuer, Depends(get_issuer)]


async def get_throttle(request: Request) -> SignInThrottle:
    return request.app.state.throttle


ThrottleDep = Annotated[SignInThrottle, Depends(get_throttle)]


async def get_principal(
    session: SessionDep,
    issuer: IssuerDep,
    authorization: Annotated[str | None, Depends(oauth2)],
) -> Principal:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(
            "sign in first: send Authorization: Bearer <token> from POST /v1/auth/token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return await principal_from_token(session, issuer, token.strip())


PrincipalDep = Annotated[Principal, Depends(get_principal)]


@asynccontextmanager
async def _reading(
    request: Request, session: AsyncSession, *, time_limit: float | None
) -> AsyncIterator[AsyncSession]:
    """The session a report or a GraphQL query reads with (see get_report_session)."""
    await session.commit()
    async with request.app.state.report_sessions() as reading:
        # Its first statement, retried once if the pooled connection was found dead.
        await retry_lost_connection(
            reading, lambda: tune_for_reports(reading, time_limit=time_limit)
        )
        yield reading


async def get_report_session(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> AsyncIterator[AsyncSession]:
    """The session a report (run, export, chart, pack) reads its data with (a GraphQL query:
    ``get_graphql_session``): the read replica's (MARKBOOK_READ_DATABASE_URL) when there is
    one, else the primary's. The caller is loaded first, from the primary (``session``): a
    credential or grant changed there takes effect at once, whatever the replica's lag; then
    the primary's connection goes back to the pool. The report reads in one transaction: one
    snapshot, and its SET LOCAL settings (work_mem, GraphQL's statement_timeout) hold for all
    of it. It writes nothing (a hot standby could not take it)."""
    del principal  # only its order matters: loaded before this session opens
    async with _reading(request, session, time_limit=None) as reading:
        yield reading


async def get_graphql_session(
    request: Request, session: SessionDep, principal: PrincipalDep
) -> AsyncIterator[AsyncSession]:
    """The report session of a GraphQL query: PostgreSQL also stops any of its statements
    that outlives the query's time budget, so a query stopped by the router does not go on
    running on the server. Set in the same first statement as the report settings."""
    del principal  # only its order matters: loaded before this session opens
    budget = request.app.state.settings.graphql_time_budget_seconds
    async with _reading(request, session, time_limit=budget) as reading:
        yield reading


# scope="function": the connection goes back before a streamed export is sent.
ReportSessionDep = Annotated[AsyncSession, Depends(get_report_session, scope="function")]
GraphQLSessionDep = Annotated[AsyncSession, Depends(get_graphql_session, scope="function")]


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    cursor: str | None


async def get_paging(
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="Page size.")
    ] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(max_length=1000, description="next_cursor from the previous page."),
    ] = None,
) -> Paging:
    return Paging(limit, cursor)


PagingDep = Annotated[Paging, Depends(get_paging)]


def _iso_only(value: object) -> object:
    """Only an ISO 8601 date and time: pydantic would read 0.5 as seconds since 1970."""
    if isinstance(value, datetime) or looks_iso(value):
        return value
    raise ValueError(NOT_ISO)


# The one rule for instants (app.domain.instants): an offset, written as ISO 8601, that UTC
# can hold (0001-01-01T00:00+00:01 cannot).
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_only), AfterValidator(in_utc)]
UpdatedSince = Annotated[
    Instant | None,
    Query(description="Only rows changed at or after this instant (ISO 8601 with offset)."),
]
