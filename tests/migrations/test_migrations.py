"""Migrations: one head; upgrade, downgrade and upgrade again; models match the migrated schema."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import app.db.models  # noqa: F401
from app.db.engine import create_engine
from app.db.migrate import alembic_config, downgrade, head_revision, upgrade
from tests.support.pg import in_own_thread


def test_there_is_exactly_one_head(databases):
    script = ScriptDirectory.from_config(alembic_config(databases.template_url))
    assert len(script.get_heads()) == 1, script.get_heads()


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: sa.inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def _diff(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:

            def compare(sync_connection: sa.Connection) -> list[object]:
                context = MigrationContext.configure(
                    sync_connection, opts={"compare_type": True, "compare_server_default": True}
                )
                return list(compare_metadata(context, SQLModel.metadata))

            return await connection.run_sync(compare)
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade_round_trip(databases):
    url = databases.create_empty(f"roundtrip_{uuid.uuid4().hex[:8]}")
    try:
        in_own_thread(upgrade, url)
        model_tables = set(SQLModel.metadata.tables)
        assert model_tables <= await _tables(url)

        in_own_thread(downgrade, url, "base")
        assert await _tables(url) <= {"alembic_version"}

        in_own_thread(upgrade, url)
        assert model_tables <= await _tables(url)
    finally:
        databases.drop(url)


async def test_models_match_the_migrated_schema(databases):
    differences = await _diff(databases.template_url)
    assert differences == [], (
        f"models and migrations differ; autogenerate a migration: {differences}"
    )


async def test_template_is_at_head(databases):
    engine = create_engine(databases.template_url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(
                lambda c: MigrationContext.configure(c).get_current_revision()
            )
    finally:
        await engine.dispose()
    assert current == head_revision()
