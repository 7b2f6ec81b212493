"""The embedded SQLite default keeps every committed write through a power loss."""

from __future__ import annotations

import pytest

from app.main import create_app
from tests.conftest import make_settings


async def test_sqlite_commits_are_synced_to_disk_in_wal_mode(database_url, tmp_path):
    if not database_url.startswith("sqlite"):
        pytest.skip("a SQLite setting; PostgreSQL syncs its WAL at commit by default")
    app = create_app(make_settings(database_url, tmp_path))
    engine = app.state.engine
    try:
        async with engine.connect() as connection:
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
            synchronous = (await connection.exec_driver_sql("PRAGMA synchronous")).scalar_one()
    finally:
        await engine.dispose()
    assert journal == "wal"
    assert synchronous == 2  # FULL: the WAL is synced at every commit, not only at checkpoints
