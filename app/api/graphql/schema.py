"""The read-only schema (writes stay REST) and its limits."""

from __future__ import annotations

import uuid

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from app.api.graphql.errors import UUID_SCALAR, MaskUnexpected, RequestErrorCodes, log_errors
from app.api.graphql.types import Grant, Me, Pupil, School, Trust
from app.domain.roles import PrincipalKind
from app.errors import NotFound
from app.services import auth, tenancy

# The deepest query the schema answers, trust > schools > classes > pupils through their
# connections (edges > node), is 11 fields deep.
MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 2000


@strawberry.type
class Query:
    @strawberry.field(description="The caller and what they may reach.")
    async def me(self, info: strawberry.Info) -> Me:
        principal = info.context.principal
        found = await info.context.call(lambda session: auth.describe(session, principal))
        return Me(
            kind=PrincipalKind(found.kind),
            id=found.id,
            name=found.name,
            email=found.email,
            roles=[
                Grant(
                    role=g.role,
                    trust_id=g.trust_id,
                    school_id=g.school_id,
                    pupil_id=g.pupil_id,
                    pupil_name=g.pupil_name,
                )
                for g in found.roles
            ],
            scopes=list(found.scopes),
            trust_ids=found.trust_ids,
            school_ids=found.school_ids,
            everything=found.everything,
        )

    @strawberry.field(description="A trust you can see; null for any other.")
    async def trust(self, info: strawberry.Info, id: uuid.UUID) -> Trust | None:
        principal = info.context.principal
        try:
            row = await info.context.call(
                lambda session: tenancy.get_trust(session, principal=principal, trust_id=id)
            )
        except NotFound:
            return None
        return Trust.of(row)

    @strawberry.field(description="A school you can see; null for any other.")
    async def school(self, info: strawberry.Info, id: uuid.UUID) -> School | None:
        principal = info.context.principal
        try:
            row = await info.context.call(
                lambda session: tenancy.get_school(session, principal=principal, school_id=id)
            )
        except NotFound:
            return None
        return School.of(row)

    @strawberry.field(
        description="A pupil you reach: with pupil rights their roster details, with markbook "
        "rights their record (pupils and parents: their own); null for any other."
    )
    async def pupil(self, info: strawberry.Info, id: uuid.UUID) -> Pupil | None:
        access = await info.context.loaders.pupil_access.load(id)
        return None if access is None else Pupil.of(access.pupil, access)


# Extensions as classes or factories: each request gets its own instances. The row cap and
# the time budget are the context's and the router's (they come from the settings).
class MarkbookSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry's own logs each error's message and traceback: they may quote a
        # variable's value or a database row. Ours logs only what log_errors says.
        log_errors(errors)


schema = MarkbookSchema(
    query=Query,
    config=StrawberryConfig(auto_camel_case=True),
    extensions=[
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        RequestErrorCodes,
        MaskUnexpected,
    ],
    scalar_overrides={uuid.UUID: UUID_SCALAR},
)


def sdl() -> str:
    """The schema in SDL, as exported to openapi/schema.graphql."""
    return schema.as_str() + "\n"
