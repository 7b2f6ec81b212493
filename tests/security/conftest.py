"""Fixtures for the security tests: objects to aim requests at, and a way to see that a refused
request stored nothing.

The shared ``world`` (tests/support/world.py) holds the principals. The access matrix also
needs people and integration clients that are *targets* only, never callers, so that no case
is about a principal acting on itself (which has rules of its own, such as "you cannot disable
your own account"). ``targets`` adds them to the world, one per scope the matrix aims at:

- "A1": a teacher of school A1 and an integration client of A1 (in reach of A1's leader);
- "A":  a trust analyst of trust A and a client of trust A (in reach of trust A's admin only);
- "B1": a teacher of school B1 and a client of B1 (out of reach of everyone in trust A).

It also adds roster objects (tests/support/roster.py) in "A1" and "B1": a pupil enrolled this
year, in a class of this year and in a custom group, and an import job. The world's teacher
teaches the A1 class (so reaches the A1 pupil); "A1-untaught" is an A1 pupil in no class of theirs.
The world's pupil and parent grants name the A1 pupil: it is their own record.

And definitions (tests/support/definitions.py: a subject, a depth scale, a number measure, a
framework with two objectives) owned by school A1 ("A1"), by trust A ("A": read by A1's people,
written only by trust A's admin) and by school B1 ("B1"); and a report template of each of
those, and of trust B ("B"). Each pupil aimed at ("A1", "A1-untaught", "B1") has a target.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import SQLModel

from app.auth.secrets import hash_secret
from app.db.engine import create_engine, session_factory
from app.db.import_jobs import ImportJob
from app.db.people import IntegrationClient, RoleGrant, User
from app.db.reports import ReportTemplate
from app.db.roster import Pupil, PupilGroup, TeachingGroup
from app.db.targets import PupilTarget
from app.db.tenancy import AssessmentPoint, School, Trust
from app.domain.roles import ClientScope, Role
from app.main import create_app
from tests.conftest import TestDatabases, make_client, make_settings
from tests.security.checks import Snapshot
from tests.support.definitions import Definitions, add_definitions, add_template
from tests.support.roster import add_pupil, add_school_roster
from tests.support.world import CLIENT_SECRET, World, build_world

# --- Targets -----------------------------------------------------------------------------
TARGET_ROLES: dict[str, Role] = {"A1": Role.TEACHER, "A": Role.TRUST_ANALYST, "B1": Role.TEACHER}
_SECRET_HASH = hash_secret(CLIENT_SECRET)


@dataclass
class Targets:
    """The world, plus people and clients that only ever receive requests."""

    world: World
    users: dict[str, User] = field(default_factory=dict)
    grants: dict[str, RoleGrant] = field(default_factory=dict)
    clients: dict[str, IntegrationClient] = field(default_factory=dict)
    pupils: dict[str, Pupil] = field(default_factory=dict)
    classes: dict[str, TeachingGroup] = field(default_factory=dict)
    groups: dict[str, PupilGroup] = field(default_factory=dict)
    jobs: dict[str, ImportJob] = field(default_factory=dict)
    definitions: dict[str, Definitions] = field(default_factory=dict)
    templates: dict[str, ReportTemplate] = field(default_factory=dict)
    pupil_targets: dict[str, PupilTarget] = field(default_factory=dict)

    def trust(self, key: str) -> Trust:
        return self.world.trusts[key]

    def school(self, key: str) -> School:
        return self.world.schools[key]

    def point(self, key: str) -> AssessmentPoint:
        return self.world.points[key]

    def scope(self, key: str) -> dict[str, str | None]:
        """JSON for a scope key: {"trust_id": ..., "school_id": None} or the other way round."""
        if key in self.world.trusts:
            return {"trust_id": str(self.trust(key).id), "school_id": None}
        return {"trust_id": None, "school_id": str(self.school(key).id)}


def _scope_ids(world: World, key: str) -> dict[str, uuid.UUID | None]:
    if key in world.trusts:
        return {"trust_id": world.trusts[key].id, "school_id": None}
    return {"trust_id": None, "school_id": world.schools[key].id}


@pytest.fixture
async def targets(world: World, session: AsyncSession) -> Targets:
    return await build_targets(world, session)


TARGETS_SEED = "targets"


def seeded_targets(databases: TestDatabases) -> Targets:
    """The world with its targets, stored once per worker (``databases.seeded``): a test's
    ``databases.fresh(TARGETS_SEED)`` then holds the same rows, faster than building them."""

    async def seed(url: str) -> Targets:
        engine = create_engine(url)
        try:
            app = create_app(make_settings(url, databases.workdir), engine=engine)
            async with session_factory(engine)() as session:
                return await build_targets(await build_world(session, app.state.issuer), session)
        finally:
            await engine.dispose()

    return databases.seeded(TARGETS_SEED, seed)


async def build_targets(world: World, session: AsyncSession) -> Targets:
    found = Targets(world=world)
    for key, role in TARGET_ROLES.items():
        user = User(
            email=f"target.{key.lower()}@world.example.org",
            display_name=f"Target {key}",
            password_hash=None,
        )
        session.add(user)
        await session.flush()
        grant = RoleGrant(user_id=user.id, role=role, **_scope_ids(world, key))
        session.add(grant)
        client = IntegrationClient(
            name=f"target {key}",
            client_id=f"mbc_target_{key.lower()}",
            secret_hash=_SECRET_HASH,
            scopes=[str(ClientScope.ROSTER_READ)],
            **_scope_ids(world, key),
        )
        session.add(client)
        found.users[key], found.grants[key], found.clients[key] = user, grant, client
    await session.flush()
    teachers = {"A1": world.users["teacher"].id, "B1": found.users["B1"].id}
    for serial, (key, teacher_id) in enumerate(teachers.items(), start=1):
        roster = await add_school_roster(
            session,
            world.schools[key],
            serial=serial,
            teacher_id=teacher_id,
            job_creator_id=world.users["system_admin"].id,
        )
        found.pupils[key], found.classes[key] = roster.pupil, roster.class_
        found.groups[key], found.jobs[key] = roster.group, roster.job
    found.pupils["A1-untaught"] = await add_pupil(session, world.schools["A1"], serial=9)
    # The world's pupil and parent see the A1 pupil's record (their own, as it were).
    for name in ("pupil", "parent"):
        world.grants[name].pupil_id = found.pupils["A1"].id
    for key in ("A1", "A", "B1"):
        found.definitions[key] = await add_definitions(session, **_scope_ids(world, key))
    for key in ("A1", "A", "B1", "B"):
        found.templates[key] = await add_template(session, **_scope_ids(world, key))
    # A target (in words) for each pupil aimed at.
    for key in ("A1", "A1-untaught", "B1"):
        pupil = found.pupils[key]
        found.pupil_targets[key] = PupilTarget(
            school_id=pupil.school_id,
            pupil_id=pupil.id,
            text="Know my 7 times table",
            set_on=date.today(),
            set_by=world.users["system_admin"].id,
        )
        session.add(found.pupil_targets[key])
    await session.commit()
    return found


# --- What is stored ----------------------------------------------------------------------
@pytest.fixture
def stored(engine: AsyncEngine) -> Callable[[], Awaitable[Snapshot]]:
    return snapshots(engine)


def snapshots(engine: AsyncEngine) -> Callable[[], Awaitable[Snapshot]]:
    """Every row of every table, read on a connection of its own (so in a transaction that
    starts now and sees what the app committed), sorted so that two snapshots compare equal
    exactly when nothing was added, removed or changed. One statement: each table's rows as
    one JSON array (a refused write takes two snapshots, and the access matrix has a
    thousand such cases)."""
    tables = SQLModel.metadata.sorted_tables
    if engine.dialect.name == "postgresql":
        aggregate, row = sa.func.json_agg, sa.func.json_build_array
    else:
        aggregate, row = sa.func.json_group_array, sa.func.json_array
    statement = sa.select(
        *(
            sa.select(aggregate(row(*table.columns), type_=sa.JSON))
            .select_from(table)
            .scalar_subquery()
            for table in tables
        )
    )

    async def take() -> Snapshot:
        async with engine.connect() as connection:
            arrays = (await connection.execute(statement)).one()
        return {
            table.name: sorted((tuple(found) for found in rows or ()), key=repr)
            for table, rows in zip(tables, arrays, strict=True)
        }

    return take


# --- One world for the cases that must change nothing ----------------------------------------
@dataclass
class Shared:
    client: httpx.AsyncClient
    targets: Targets
    stored: Callable[[], Awaitable[Snapshot]]


@pytest.fixture(scope="module")
async def shared(
    databases: TestDatabases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Shared]:
    """A world (with targets) that many cases share: those that read, and those whose write
    must be refused. Refused writes are proven to change nothing, so sharing is safe; a case
    whose write should succeed gets a world of its own."""
    url = databases.clone()
    settings = make_settings(url, tmp_path_factory.mktemp("shared"))
    # The matrix checks who may see what, not how fast: a loaded CI machine must not trip
    # GraphQL's time budget (tests/api/test_graphql_http.py tests the budget itself).
    settings.graphql_time_budget_seconds = 300.0
    engine = create_engine(settings.database_url)
    app = create_app(settings, engine=engine)
    async with session_factory(engine)() as session:
        world = await build_world(session, app.state.issuer)
        found = await build_targets(world, session)
    async with make_client(app) as client:
        yield Shared(client=client, targets=found, stored=snapshots(engine))
    await engine.dispose()
    databases.drop(url)
