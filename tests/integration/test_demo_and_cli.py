"""The demo seed and the `markbook` command against a real database."""

from __future__ import annotations

import sqlalchemy as sa

from app import cli
from app.db.audit import AuditEvent
from app.db.models import (
    AssessmentPoint,
    ClassPupil,
    ClassTeacher,
    Enrolment,
    Framework,
    IntegrationClient,
    Measure,
    MeasureValue,
    Objective,
    ObjectiveJudgement,
    Pupil,
    RoleGrant,
    Scale,
    School,
    TeachingGroup,
    Trust,
    User,
)
from app.domain.roles import Role
from app.services.demo import ACCOUNTS, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_PASSWORD, seed_demo
from app.settings import get_settings
from tests.support.pg import in_own_thread

TABLES = (
    Trust,
    School,
    AssessmentPoint,
    User,
    RoleGrant,
    IntegrationClient,
    AuditEvent,
    Pupil,
    Enrolment,
    TeachingGroup,
    ClassTeacher,
    ClassPupil,
    Framework,
    Objective,
    Scale,
    Measure,
    ObjectiveJudgement,
    MeasureValue,
)


async def _counts(session) -> dict[str, int]:
    return {
        table.__name__: await session.scalar(sa.select(sa.func.count()).select_from(table))
        for table in TABLES
    }


async def test_demo_has_two_schools_and_a_person_of_every_role_and_seeds_once(session, client):
    await seed_demo(session)
    await session.commit()
    first = await _counts(session)
    assert first["Trust"] == 1
    assert first["School"] == 2
    assert first["Pupil"] == 165
    # This year and last, a year group lower, in last year's classes.
    assert first["Enrolment"] == first["ClassPupil"] == 2 * 165
    assert first["TeachingGroup"] == 2 * 7
    assert first["AssessmentPoint"] == 2 * 2 * 3
    # The starter pack, in each school.
    assert (first["Framework"], first["Scale"], first["Measure"]) == (6, 4, 20)
    assert first["Objective"] > 600
    roles = set((await session.scalars(sa.select(RoleGrant.role))).all())
    assert roles == {r.value for r in Role}

    await seed_demo(session)
    await session.commit()
    assert await _counts(session) == first
    await _history_spans_both_years_and_both_schools(session)

    for account in ACCOUNTS:
        response = await client.post(
            "/v1/auth/token",
            data={"grant_type": "password", "username": account.email, "password": DEMO_PASSWORD},
        )
        assert response.status_code == 200, account.email
    response = await client.post(
        "/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": DEMO_CLIENT_ID,
            "client_secret": DEMO_CLIENT_SECRET,
        },
    )
    assert response.status_code == 200

    # The demo teacher sees the pupils of the class they teach, and only those.
    token = await client.post(
        "/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "teacher@oakhill.example.org",
            "password": DEMO_PASSWORD,
        },
    )
    school = await session.scalar(sa.select(School).where(School.urn == "999901"))
    assert school is not None
    pupils = await client.get(
        f"/v1/schools/{school.id}/pupils",
        params={"limit": 1000},
        headers={"Authorization": f"Bearer {token.json()['access_token']}"},
    )
    assert pupils.status_code == 200
    assert len(pupils.json()["items"]) == 26


async def _history_spans_both_years_and_both_schools(session) -> None:
    """Judgements dated across last year's terms and this one's, in both schools; values at
    each point: teacher assessments, scores, the phonics and multiplication tables checks."""
    judged = await session.execute(
        sa.select(School.urn, sa.func.min(ObjectiveJudgement.assessed_on), sa.func.count())
        .select_from(ObjectiveJudgement)
        .join(School, School.id == ObjectiveJudgement.school_id)
        .group_by(School.urn)
    )
    spans = {urn: (earliest, count) for urn, earliest, count in judged}
    assert set(spans) == {"999901", "999902"}
    assert all(count > 3_000 for _, count in spans.values())
    days = await session.scalars(sa.select(ObjectiveJudgement.assessed_on).distinct())
    assert len(set(days)) > 100  # spread across the terms, not all on one day
    measured = await session.execute(
        sa.select(Measure.code, sa.func.count())
        .select_from(MeasureValue)
        .join(Measure, Measure.id == MeasureValue.measure_id)
        .group_by(Measure.code)
    )
    counts = dict(measured.all())
    assert {"READ-TA", "WRIT-TA", "MATH-TA", "STD-READ", "STD-MATH", "PHONICS", "MTC"} <= set(
        counts
    )


async def test_the_demo_pupil_and_parent_see_the_same_named_pupil(
    session, client, database_url, monkeypatch, capsys
):
    monkeypatch.setenv("MARKBOOK_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        assert in_own_thread(cli.main, ["demo", "ids"]) == 1  # nothing seeded yet
        await seed_demo(session)
        await session.commit()
        capsys.readouterr()
        assert in_own_thread(cli.main, ["demo", "ids"]) == 0
    finally:
        get_settings.cache_clear()
    ids = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert set(ids) >= {"SCHOOL", "TRUST", "MATHS", "CLASS_4B", "AUTUMN", "PAGE", "PUPIL", "YEAR"}
    for email in ("pupil@oakhill.example.org", "parent@oakhill.example.org"):
        token = await client.post(
            "/v1/auth/token",
            data={"grant_type": "password", "username": email, "password": DEMO_PASSWORD},
        )
        me = await client.get(
            "/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
        )
        (grant,) = me.json()["roles"]
        assert grant["pupil_name"] == "Priya Patel" and grant["pupil_id"] == ids["PUPIL"]
        assert me.json()["name"].endswith("Patel")


async def test_create_admin_makes_a_system_administrator_who_can_sign_in(
    client, database_url, monkeypatch
):
    monkeypatch.setenv("MARKBOOK_DATABASE_URL", database_url)
    monkeypatch.setenv("MARKBOOK_ADMIN_PASSWORD", "an admin's long password")
    get_settings.cache_clear()
    try:
        args = ["create-admin", "--email", "Ops@Example.org", "--name", "Ops"]
        assert in_own_thread(cli.main, args) == 0
        assert in_own_thread(cli.main, args) == 0  # running it again is harmless
    finally:
        get_settings.cache_clear()
    token = await client.post(
        "/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "ops@example.org",
            "password": "an admin's long password",
        },
    )
    assert token.status_code == 200, token.text
    me = await client.get(
        "/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.json()["everything"] is True
    assert [r["role"] for r in me.json()["roles"]] == ["system_admin"]


async def test_create_admin_refuses_a_short_password(database_url, monkeypatch, capsys):
    monkeypatch.setenv("MARKBOOK_DATABASE_URL", database_url)
    monkeypatch.setenv("MARKBOOK_ADMIN_PASSWORD", "short")
    get_settings.cache_clear()
    try:
        assert in_own_thread(cli.main, ["create-admin", "--email", "ops@example.org"]) == 2
    finally:
        get_settings.cache_clear()
    assert "password" in capsys.readouterr().err


async def test_readyz_is_503_until_the_database_is_migrated(databases, monkeypatch):
    import httpx

    from app.main import create_app
    from app.settings import Settings

    url = databases.create_empty("unmigrated_probe")
    try:
        app = create_app(Settings(database_url=url, jwt_secret="k" * 40))  # type: ignore[arg-type]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/readyz")
        await app.state.engine.dispose()
        assert response.status_code == 503
        assert response.json()["status"] == "migrations pending"
    finally:
        databases.drop(url)
