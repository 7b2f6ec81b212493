"""Test databases and the app under test.

Every test starts on an empty database migrated at the start of the run (alembic upgrade head,
never create_all): on SQLite a file copy of it; on PostgreSQL one clone per worker (CREATE
DATABASE ... TEMPLATE), emptied before each test (every connection to it ended, every table's
rows deleted), because a clone per test took longer than most tests. Tests of the demo take a
copy of it seeded once per worker (``databases.demo``); tests that need the same rows many
times take them from a seed stored once per worker (``databases.seeded``). Set
MARKBOOK_TEST_DATABASE_URL to a PostgreSQL server URL (any database on it, e.g.
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres) to run on PostgreSQL; SQLite otherwise.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import pytest
from argon2 import PasswordHasher
from hypothesis import settings as hypothesis_settings
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.auth.secrets import use_hasher
from app.db.engine import create_engine, session_factory
from app.db.migrate import upgrade
from app.main import create_app
from app.services.demo import seed_demo
from app.settings import Settings
from tests.support.pg import admin_execute, in_own_thread

SERVER_URL = os.environ.get("MARKBOOK_TEST_DATABASE_URL", "").strip()

# Cheap argon2 parameters for every secret the tests store (argon2id still, each verified as
# in production): a sign-in costs about a millisecond instead of 60-500 ms on a busy machine.
use_hasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

# No deadline on Hypothesis examples: tests prove behaviour, bench/ measures speed, and a
# deadline fails at random when workers share busy cores (make test runs one per core).
hypothesis_settings.register_profile("markbook", deadline=None)
hypothesis_settings.load_profile("markbook")
_counter = itertools.count()
T = TypeVar("T")
# Empties a PostgreSQL test database: ends the connections a test left (their locks with
# them), then deletes every table's rows, foreign keys unchecked (replica role) so that the
# order does not matter. Migrations insert no rows, so empty is as migrated. With a seed
# (TestDatabases.seeded), the seed's rows are then copied back in.
EMPTY = """
DO $$
DECLARE name text;
BEGIN
    PERFORM pg_terminate_backend(pid) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid();
    SET LOCAL session_replication_role = replica;
    FOR name IN
        SELECT format('%%I', tablename) FROM pg_tables
        WHERE schemaname = 'public' AND tablename <> 'alembic_version'
    LOOP
        EXECUTE 'DELETE FROM ' || name;
    END LOOP;
    FOR name IN SELECT format('%%I', tablename) FROM pg_tables WHERE schemaname = '%(seed)s'
    LOOP
        EXECUTE format('INSERT INTO public.%%s SELECT * FROM %(seed)s.%%s', name, name);
    END LOOP;
END
$$
"""
# Keeps a copy of every table's rows in a schema of the same database (a seed).
SAVE_SEED = """
DO $$
DECLARE name text;
BEGIN
    DROP SCHEMA IF EXISTS %(seed)s CASCADE;
    CREATE SCHEMA %(seed)s;
    FOR name IN
        SELECT format('%%I', tablename) FROM pg_tables
        WHERE schemaname = 'public' AND tablename <> 'alembic_version'
    LOOP
        EXECUTE format('CREATE TABLE %(seed)s.%%s AS TABLE public.%%s', name, name);
    END LOOP;
END
$$
"""


# --- xdist groups -----------------------------------------------------------------------------
# `make test` runs `--dist loadgroup`: the tests of a module marked
# `pytestmark = pytest.mark.xdist_group("name")` (those sharing a costly module fixture, such as
# the seeded demo) run on one worker. pytest-xdist 3.8 names a test's group by rewriting
# `item._nodeid`, which pytest 9 no longer reads, so its scheduler would spread them over
# every worker (each then seeding the demo again). This scheduler reads the module's mark.
_GROUP_MARK = re.compile(r"^pytestmark\s*=.*xdist_group\(\s*[\"']([^\"']+)[\"']", re.MULTILINE)


@functools.cache
def _module_group(rootpath: Path, path: str) -> str | None:
    try:
        found = _GROUP_MARK.search((rootpath / path).read_text(encoding="utf-8"))
    except OSError:
        return None
    return found.group(1) if found else None


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class ModuleGroups(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            group = _module_group(config.rootpath, nodeid.partition("::")[0])
            return f"group:{group}" if group else super()._split_scope(nodeid)

    return ModuleGroups(config, log)


def pytest_report_header() -> str:
    return f"markbook test database: {'PostgreSQL ' + SERVER_URL if SERVER_URL else 'SQLite'}"


class TestDatabases:
    """Makes fresh, migrated databases for tests, on the configured backend."""

    __test__ = False  # not a test class, though its name says Test

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.run_id = uuid.uuid4().hex[:8]
        self.template_url = self.url_for(f"template_{self.run_id}")
        self.made: list[str] = []
        self.reused: str | None = None  # PostgreSQL: this worker's database, emptied per test
        self.demos: dict[date | None, str] = {}  # the demo seeded as of a day (None: today)
        self.seeds: dict[str, tuple[str, Any]] = {}  # name: (where its rows are, what it holds)

    @property
    def is_postgres(self) -> bool:
        return bool(SERVER_URL)

    def url_for(self, name: str) -> str:
        if self.is_postgres:
            return (
                make_url(SERVER_URL)
                .set(database=f"mbtest_{name}")
                .render_as_string(hide_password=False)
            )
        return f"sqlite+aiosqlite:///{self.workdir / (name + '.db')}"

    def create_empty(self, name: str) -> str:
        url = self.url_for(name)
        if self.is_postgres:
            database = make_url(url).database
            admin_execute(SERVER_URL, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            admin_execute(SERVER_URL, f'CREATE DATABASE "{database}"')
            self.made.append(database)
        return url

    def prepare_template(self) -> None:
        in_own_thread(upgrade, self.create_empty(f"template_{self.run_id}"))

    def clone(self, source: str | None = None) -> str:
        """A new database, a copy of ``source`` (by default the empty migrated template)."""
        source = source or self.template_url
        name = f"t{self.run_id}_{next(_counter)}"
        url = self.url_for(name)
        if self.is_postgres:
            template = make_url(source).database
            admin_execute(SERVER_URL, f'CREATE DATABASE "mbtest_{name}" TEMPLATE "{template}"')
            self.made.append(f"mbtest_{name}")
        else:
            shutil.copyfile(make_url(source).database or "", self.workdir / f"{name}.db")
        return url

    def demo(self, today: date | None = None) -> str:
        """A database of its own holding the demo (app.services.demo) seeded as of ``today``
        (None: the real today). Seeding takes a while, so each worker seeds each day once and
        hands out copies; the caller drops its copy."""
        if today not in self.demos:
            seeded = self.clone()
            in_own_thread(asyncio.run, _seed_demo(seeded, today))
            self.demos[today] = seeded
        return self.clone(self.demos[today])

    def seeded(self, name: str, seed: Callable[[str], Awaitable[T]]) -> T:
        """What ``seed(url)`` stored in an empty database (and returned), seeded once per worker
        and name; ``fresh(name)`` then hands out databases holding those rows, with the same ids,
        faster than seeding each again. ``name`` is a plain identifier."""
        if name not in self.seeds:
            url = self.fresh()
            found = in_own_thread(asyncio.run, seed(url))
            if self.is_postgres:  # a copy of the rows in a schema of the worker's database
                admin_execute(url, SAVE_SEED % {"seed": f"seed_{name}"})
                self.seeds[name] = (f"seed_{name}", found)
            else:  # the file, kept
                self.seeds[name] = (url, found)
        return cast(T, self.seeds[name][1])

    def fresh(self, seed: str | None = None) -> str:
        """An empty migrated database for one test (see the module's docstring), or one holding
        the rows of a seed (see ``seeded``)."""
        where = self.seeds[seed][0] if seed else None
        if not self.is_postgres:
            return self.clone(where)
        if self.reused is None:
            self.reused = self.clone()
            if where is None:
                return self.reused
        admin_execute(self.reused, EMPTY % {"seed": where or ""})
        return self.reused

    def release(self, url: str) -> None:
        """A test is done with its database: dropped, unless it is the worker's to reuse."""
        if url != self.reused:
            self.drop(url)

    def drop(self, url: str) -> None:
        if self.is_postgres:
            database = make_url(url).database
            admin_execute(SERVER_URL, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            self.made.remove(database)
        else:
            Path(make_url(url).database or "").unlink(missing_ok=True)

    def drop_all(self) -> None:
        self.reused = None
        self.demos.clear()
        self.seeds.clear()
        for database in list(self.made):
            admin_execute(SERVER_URL, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        self.made.clear()


async def _seed_demo(url: str, today: date | None) -> None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            await seed_demo(session, today=today)
            await session.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabases]:
    dbs = TestDatabases(tmp_path_factory.mktemp("databases"))
    dbs.prepare_template()
    yield dbs
    dbs.drop_all()


@pytest.fixture
def database_url(databases: TestDatabases) -> Iterator[str]:
    url = databases.fresh()
    yield url
    databases.release(url)


def make_settings(database_url: str, workdir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret="test-signing-key-that-is-long-enough-for-hs256",  # type: ignore[arg-type]
        jwt_secret_file=workdir / "unused-secret",
        max_body_bytes=64 * 1024,
        auto_migrate=False,
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session for arranging and inspecting data directly; commit what the app must see."""
    async with session_factory(engine)() as session:
        yield session


@pytest.fixture
def app(settings: Settings, engine: AsyncEngine):  # type: ignore[no-untyped-def]
    return create_app(settings, engine=engine)


def make_client(app) -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://markbook.test")


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    async with make_client(app) as client:
        yield client


@pytest.fixture
async def world(session: AsyncSession, app):  # type: ignore[no-untyped-def]
    from tests.support.world import build_world

    return await build_world(session, app.state.issuer)
