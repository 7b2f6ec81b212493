"""The ASGI application: create_app() wires settings, storage, errors and routers."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute

from app import __doc__ as package_doc
from app import logs
from app.api import docs, problems
from app.api.graphql import explorer
from app.api.graphql.router import make_router as graphql_router
from app.api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from app.api.rest import (
    audit,
    auth,
    curriculum,
    framework_imports,
    health,
    markbook,
    me,
    people,
    pupil_page,
    pupil_record,
    reports,
    roster,
    score_imports,
    starter,
    targets,
    tenancy,
    values,
)
from app.api.rest.common import extra_schemas, name_form_bodies, problem_media_types
from app.auth.secrets import set_hashing_threads
from app.auth.throttle import SignInThrottle
from app.auth.tokens import TokenIssuer
from app.db.engine import READ_APPLICATION_NAME, create_engine, reading, session_factory
from app.db.migrate import head_revision
from app.services import imports, retention
from app.settings import Settings, get_settings

API_VERSION = "0.1.0"

DESCRIPTION = """
Markbook is a headless assessment-tracking service for schools and multi-academy trusts in
England. Sign in at `POST /v1/auth/token` (OAuth2 password or client_credentials grant) and send
`Authorization: Bearer <token>`; people refresh with `grant_type=refresh_token` and sign out at
`POST /v1/auth/revoke`. Errors are RFC 9457 `application/problem+json`; lists page with
`limit` and an opaque `cursor`.
"""


def operation_id(route: APIRoute) -> str:
    """The route function's name in camel case, e.g. `createSchool`: what generated clients
    name their functions and types by (`create_school` in Python, `createSchool` in
    TypeScript). Function names are unique across routers; a test keeps them so."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _start_sweeper(app: FastAPI, settings: Settings) -> asyncio.Task[None] | None:
    """The background retention sweep (app.services.retention), unless turned off."""
    if not settings.retention_sweep_seconds:
        return None
    app.state.sweeper = asyncio.create_task(
        retention.sweep_forever(
            app.state.sessions,
            every=timedelta(seconds=settings.retention_sweep_seconds),
            job_retention=timedelta(days=settings.import_job_retention_days),
        ),
        name="retention-sweep",
    )
    return app.state.sweeper


REST_ROUTERS = (
    health.router,
    auth.router,
    me.router,
    tenancy.trusts,
    tenancy.schools,
    tenancy.points,
    tenancy.years,
    people.users,
    people.clients,
    audit.router,
    roster.pupils,
    roster.classes,
    roster.groups,
    roster.sync,
    curriculum.subjects,
    curriculum.scales,
    curriculum.measures,
    framework_imports.router,
    score_imports.router,
    curriculum.frameworks,
    starter.router,
    values.router,
    markbook.router,
    pupil_record.router,
    pupil_page.router,
    targets.router,
    reports.router,
    reports.templates,
)


@functools.cache
def rest_routes() -> tuple[BaseRoute, ...]:
    """The REST routers, included once per process. FastAPI works out an included route's
    dependencies and models the first time a request passes it, for each include; built here
    once, every app of the process (one in a server, one per test in the tests) shares that
    work instead of repeating it (~0.3 s an app)."""
    api = APIRouter(generate_unique_id_function=operation_id)
    for router in REST_ROUTERS:
        api.include_router(router)
    return tuple(api.routes)


def create_app(settings: Settings | None = None, *, engine: AsyncEngine | None = None) -> FastAPI:
    settings = settings or get_settings()
    owns_engine = engine is None

    def engine_for(url: str, **options: Any) -> AsyncEngine:
        return create_engine(
            url,
            echo=settings.sql_echo,
            wait_seconds=settings.database_wait_seconds,
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pgbouncer=settings.database_pgbouncer,
            **options,
        )

    engine = engine or engine_for(settings.database_url)
    # Reports and GraphQL read from a replica when one is configured (app.api.deps.
    # get_report_session); this process owns that engine whatever the primary's.
    replica = settings.read_database_url and engine_for(
        settings.read_database_url, application_name=READ_APPLICATION_NAME
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Everything loaded so far (modules, the app, its schemas) lives as long as the process:
        # keep it out of the garbage collector's scans, which large syncs trigger many times.
        gc.freeze()
        await imports.fail_interrupted_jobs(_app.state.sessions)
        sweeper = _start_sweeper(_app, settings)
        yield
        if sweeper is not None:
            sweeper.cancel()
            with suppress(asyncio.CancelledError):
                await sweeper
        if owns_engine:
            await engine.dispose()
        if replica:
            await replica.dispose()

    app = FastAPI(
        title="Markbook",
        version=API_VERSION,
        summary=package_doc,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        # FastAPI's own /docs and /redoc load from a CDN: app.api.docs serves them offline.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = session_factory(engine)
    app.state.read_sessions = session_factory(reading(engine))
    app.state.read_engine = replica or None
    app.state.report_sessions = session_factory(replica or engine)
    app.state.head_revision = head_revision()
    app.state.issuer = TokenIssuer(
        key=settings.signing_key(),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=timedelta(seconds=settings.access_token_ttl_seconds),
        refresh_ttl=timedelta(days=settings.refresh_token_ttl_days),
    )
    app.state.throttle = SignInThrottle.from_settings(
        storage_url=settings.rate_limit_storage_url,
        key_prefix=settings.rate_limit_key_prefix,
        per_account=settings.sign_in_account_limit,
        per_address=settings.sign_in_address_limit,
    )
    set_hashing_threads(settings.hashing_threads)

    problems.install(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)

    app.router.routes.extend(rest_routes())
    app.include_router(graphql_router())
    docs.install(app)  # before the explorer's /static mount, which would shadow /static/docs
    # The explorer's files (GraphiQL and React, vendored): no CDN, so it works offline.
    app.mount(explorer.STATIC_PATH, StaticFiles(directory=explorer.STATIC_DIR), name="static")
    logging.getLogger("markbook").setLevel(settings.log_level)
    logs.install()

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            document = extra_schemas(document, roster.EXTRA_SCHEMAS)
            app.openapi_schema = name_form_bodies(problem_media_types(document))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
