"""Bulk roster sync through the REST API: create, re-send, change, full mode, partial mode,
idempotency keys and the all-or-nothing rule."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from app.db.audit import AuditEvent
from app.db.roster import (
    ClassPupil,
    Enrolment,
    Pupil,
    PupilGroup,
    PupilGroupMember,
    StageAssessment,
)
from app.domain.pupils import make_upn


def pupil_row(i: int, **changes: Any) -> dict[str, Any]:
    row = {
        "external_id": f"MIS-{i}",
        "upn": make_upn(f"8012000{25}{i:03d}"),
        "legal_forename": f"Pupil{i}",
        "legal_surname": "Example",
        "date_of_birth": "2016-03-04",
        "sex": "F" if i % 2 else "M",
        "year_group": "4",
        "fsm": i % 3 == 0,
        "sen_status": "N",
        "classes": ["4A"],
    }
    row.update(changes)
    return row


def payload(pupils: list[dict[str, Any]], **envelope: Any) -> dict[str, Any]:
    return {
        "academic_year": 2025,
        "classes": [
            {"code": "4A", "name": "Year 4 Ash", "teacher_emails": ["teacher@world.example.org"]}
        ],
        "pupils": pupils,
        **envelope,
    }


async def count(engine, model) -> int:  # type: ignore[no-untyped-def]
    """Rows now, read on a connection of its own (so it sees what the app committed)."""
    async with engine.connect() as connection:
        query = sa.select(sa.func.count()).select_from(model)
        return (await connection.execute(query)).scalar_one()


async def test_sync_creates_then_resend_changes_nothing(client, world, engine):
    url = f"/v1/schools/{world.schools['A1'].id}/roster/sync"
    headers = world.headers("integration")
    body = payload([pupil_row(i) for i in range(5)])
    first = await client.post(url, json=body, headers=headers)
    assert first.status_code == 200, first.text
    result = first.json()
    assert (result["created"], result["unchanged"], result["classes_created"]) == (5, 0, 1)
    assert await count(engine, Pupil) == 5
    assert await count(engine, Enrolment) == 5
    assert await count(engine, ClassPupil) == 5
    audit_rows = await count(engine, AuditEvent)

    again = await client.post(url, json=body, headers=headers)
    assert again.status_code == 200, again.text
    assert (again.json()["created"], again.json()["unchanged"]) == (0, 5)
    assert await count(engine, AuditEvent) == audit_rows

    body["pupils"][0]["year_group"] = "5"
    changed = await client.post(url, json=body, headers=headers)
    assert (changed.json()["updated"], changed.json()["unchanged"]) == (1, 4)
    assert await count(engine, AuditEvent) == audit_rows + 1


async def test_bad_row_rejects_everything_by_default(client, world, engine):
    url = f"/v1/schools/{world.schools['A1'].id}/roster/sync"
    bad = pupil_row(2, upn="A801200025002")
    response = await client.post(
        url, json=payload([pupil_row(1), bad]), headers=world.headers("integration")
    )
    assert response.status_code == 422, response.text
    fields = [e["field"] for e in response.json()["errors"]]
    assert fields == ["body.pupils.1.upn"]
    assert await count(engine, Pupil) == 0


async def test_partial_mode_keeps_good_rows(client, world, engine):
    url = f"/v1/schools/{world.schools['A1'].id}/roster/sync"
    rows = [pupil_row(1), pupil_row(2, year_group="14"), pupil_row(3, external_id="MIS-1")]
    response = await client.post(
        url, json=payload(rows, mode="partial"), headers=world.headers("integration")
    )
    assert response.status_code == 200, response.text
    statuses = [r["status"] for r in response.json()["pupils"]]
    assert statuses == ["created", "rejected", "rejected"]
    assert await count(engine, Pupil) == 1


async def test_full_mode_marks_missing_pupils_as_left(client, world, engine, session):
    url = f"/v1/schools/{world.schools['A1'].id}/roster/sync"
    headers = world.headers("integration")
    await client.post(url, json=payload([pupil_row(i) for i in range(3)]), headers=headers)
    response = await client.post(
        url, json=payload([pupil_row(0), pupil_row(1)], full=True), headers=headers
    )
    assert response.json()["left"] == 1, response.text
    assert await count(engine, Pupil) == 3
    left = await session.scalar(sa.select(Pupil).where(Pupil.external_id == "MIS-2"))
    assert left is not None and left.left_on is not None


async def test_idempotency_key_replays_and_refuses_a_different_body(client, world, engine):
    url = f"/v1/schools/{world.schools['A1'].id}/roster/sync"
    headers = {**world.headers("integration"), "Idempotency-Key": "sync-2025-11-01"}
    body = payload([pupil_row(1)])
    first = await client.post(url, json=body, headers=headers)
    retry = await client.post(url, json=body, headers=headers)
    assert retry.status_code == 200
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json() == first.json()
    other = await client.post(url, json=payload([pupil_row(2)]), headers=headers)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "header.idempotency-key"
    assert await count(engine, Pupil) == 1


async def test_a_row_rejected_for_an_unknown_class_answers_with_no_id(client, world, engine):
    url = f"/v1/schools/{world.schools['A1'].id}/roster/sync"
    headers = world.headers("integration")
    await client.post(url, json=payload([pupil_row(1)]), headers=headers)
    rows = [pupil_row(1, classes=["9Z"]), pupil_row(2, classes=["9Z"]), pupil_row(3)]
    response = await client.post(url, json=payload(rows, mode="partial"), headers=headers)
    assert response.status_code == 200, response.text
    results = response.json()["pupils"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "created"]
    assert [r["id"] for r in results[:2]] == [None, None]
    assert results[1]["errors"] == [
        {"field": "body.pupils.1.classes.0", "reason": "no class 9Z in 2025/26"}
    ]
    async with engine.connect() as connection:
        stored = {str(i) for i in (await connection.execute(sa.select(Pupil.id))).scalars()}
    assert len(stored) == 2 and results[2]["id"] in stored  # MIS-1 from before, and MIS-3


async def test_a_refused_sync_names_each_refused_pupil_by_key(client, world, engine):
    url = f"/v1/schools/{world.schools['A1'].id}/roster/sync"
    bad = pupil_row(2, external_id=None, classes=["9Z"])
    response = await client.post(
        url, json=payload([pupil_row(1), bad]), headers=world.headers("integration")
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["errors"] == [
        {"field": "body.pupils.1.classes.0", "reason": "no class 9Z in 2025/26", "key": bad["upn"]}
    ]
    assert bad["upn"] in problem["detail"]
    assert await count(engine, Pupil) == 0


async def test_names_are_stored_nfc_and_bidi_overrides_and_future_births_refused(
    client, world, session
):
    url = f"/v1/schools/{world.schools['A1'].id}/roster/sync"
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    rows = [
        pupil_row(1, legal_forename="Zoe\u0308"),
        pupil_row(2, legal_surname="Smith\u202e"),
        pupil_row(3, preferred_forename="Amy\tJane"),
        pupil_row(4, date_of_birth=tomorrow),
    ]
    response = await client.post(
        url, json=payload(rows, mode="partial"), headers=world.headers("integration")
    )
    assert response.status_code == 200, response.text
    results = response.json()["pupils"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected"]
    assert [r["errors"][0]["field"] for r in results[1:]] == [
        "body.pupils.1.legal_surname",
        "body.pupils.2.preferred_forename",
        "body.pupils.3.date_of_birth",
    ]
    stored = await session.scalar(sa.select(Pupil).where(Pupil.external_id == "MIS-1"))
    assert stored is not None and stored.legal_forename == "Zo\u00eb"


async def test_resync_changing_one_field_of_one_pupil_updates_and_audits_only_that_pupil(
    client, world, engine
):
    url = f"/v1/schools/{world.schools['A1'].id}/roster/sync"
    headers = world.headers("integration")
    body = payload([pupil_row(i) for i in range(4)])
    first = await client.post(url, json=body, headers=headers)
    assert first.status_code == 200, first.text
    ids = [row["id"] for row in first.json()["pupils"]]
    async with engine.connect() as connection:
        stamps = dict((await connection.execute(sa.select(Pupil.id, Pupil.updated_at))).all())
        audited = (await connection.execute(sa.select(sa.func.count(AuditEvent.id)))).scalar()

    body["pupils"][2]["fsm"] = not body["pupils"][2]["fsm"]
    response = await client.post(url, json=body, headers=headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["updated"], result["unchanged"]) == (0, 1, 3)
    assert [r["status"] for r in result["pupils"]] == [
        "unchanged",
        "unchanged",
        "updated",
        "unchanged",
    ]
    assert [r["id"] for r in result["pupils"]] == ids
    async with engine.connect() as connection:
        events = (
            await connection.execute(
                sa.select(AuditEvent.entity_id, AuditEvent.before, AuditEvent.after)
                .order_by(AuditEvent.occurred_at)
                .offset(audited)
            )
        ).all()
        now = dict((await connection.execute(sa.select(Pupil.id, Pupil.updated_at))).all())
        fsm = (
            await connection.execute(sa.select(Pupil.fsm).where(Pupil.external_id == "MIS-2"))
        ).scalar_one()
    assert [str(entity_id) for entity_id, _, _ in events] == [ids[2]]
    _, before, after = events[0]
    assert {k for k in after if after[k] != before.get(k)} == {"fsm"}
    assert fsm is body["pupils"][2]["fsm"]
    assert [pupil_id for pupil_id in now if now[pupil_id] != stamps[pupil_id]] == [
        pupil_id for pupil_id in now if str(pupil_id) == ids[2]
    ]


async def test_resync_in_equivalent_spellings_changes_nothing(client, world, engine):
    """What is compared is the row as it would be stored: a UPN in lower case, an
    ethnicity in lower case, 'Y4' for year 4 and a name with a combining accent are the values
    already stored, so the pupil is unchanged and nothing is audited."""
    url = f"/v1/schools/{world.schools['A1'].id}/roster/sync"
    headers = world.headers("integration")
    stored = pupil_row(1, legal_forename="Zo\u00eb", ethnicity="WBRI", year_group="4")
    first = await client.post(url, json=payload([stored]), headers=headers)
    assert first.json()["created"] == 1, first.text
    audited = await count(engine, AuditEvent)

    spelt = pupil_row(
        1,
        upn=stored["upn"].lower(),
        legal_forename="Zoe\u0308",
        ethnicity="wbri",
        year_group="Y4",
    )
    response = await client.post(url, json=payload([spelt]), headers=headers)
    assert response.status_code == 200, response.text
    assert (response.json()["updated"], response.json()["unchanged"]) == (0, 1)
    assert await count(engine, AuditEvent) == audited


async def test_resync_leaving_characteristics_out_keeps_them_and_changes_nothing(
    client, world, session, engine
):
    url = f"/v1/schools/{world.schools['A1'].id}/roster/sync"
    headers = world.headers("integration")
    first = await client.post(url, json=payload([pupil_row(3, eal=True)]), headers=headers)
    assert first.json()["created"] == 1, first.text
    audited = await count(engine, AuditEvent)

    row = pupil_row(3)
    for left_out in ("fsm", "sen_status", "sex", "date_of_birth"):
        del row[left_out]
    response = await client.post(url, json=payload([row]), headers=headers)
    assert response.status_code == 200, response.text
    assert (response.json()["updated"], response.json()["unchanged"]) == (0, 1)
    assert await count(engine, AuditEvent) == audited
    pupil = await session.scalar(sa.select(Pupil).where(Pupil.external_id == "MIS-3"))
    assert pupil is not None
    assert (pupil.fsm, pupil.sen_status, pupil.sex, pupil.eal) == (True, "N", "F", True)
    assert pupil.date_of_birth == date(2016, 3, 4)


async def _memberships(engine) -> tuple[dict[str, set[str]], dict[str, list[str]]]:  # type: ignore[no-untyped-def]
    """Each pupil's custom groups (by name) and stage assessment results, by external id."""
    async with engine.connect() as connection:
        groups = (
            await connection.execute(
                sa.select(Pupil.external_id, PupilGroup.name)
                .join(PupilGroupMember, PupilGroupMember.pupil_id == Pupil.id)
                .join(PupilGroup, PupilGroup.id == PupilGroupMember.group_id)
            )
        ).all()
        stages = (
            await connection.execute(
                sa.select(Pupil.external_id, StageAssessment.result).join(
                    StageAssessment, StageAssessment.pupil_id == Pupil.id
                )
            )
        ).all()
    by_pupil: dict[str, set[str]] = {}
    for external_id, name in groups:
        by_pupil.setdefault(external_id, set()).add(name)
    results: dict[str, list[str]] = {}
    for external_id, result in stages:
        results.setdefault(external_id, []).append(result)
    return by_pupil, {key: sorted(value) for key, value in results.items()}


async def test_resync_changing_only_groups_or_stage_assessments_updates_them(client, world, engine):
    """A row whose pupil, enrolment and classes are as stored still changes what it sends of
    custom groups and stage assessments; rows that leave them out leave them as they are."""
    url = f"/v1/schools/{world.schools['A1'].id}/roster/sync"
    headers = world.headers("integration")
    ks2 = {"stage": "KS2", "subject": "MAT", "method": "TT", "result": "105"}
    rows = [pupil_row(0, groups=["Nurture"], stage_assessments=[ks2]), pupil_row(1)]
    first = await client.post(url, json=payload(rows), headers=headers)
    assert first.json()["created"] == 2, first.text
    assert await _memberships(engine) == ({"MIS-0": {"Nurture"}}, {"MIS-0": ["105"]})
    audited = await count(engine, AuditEvent)

    plain = payload([pupil_row(0), pupil_row(1)])  # neither groups nor stage assessments
    response = await client.post(url, json=plain, headers=headers)
    assert (response.json()["updated"], response.json()["unchanged"]) == (0, 2), response.text
    assert await _memberships(engine) == ({"MIS-0": {"Nurture"}}, {"MIS-0": ["105"]})
    assert await count(engine, AuditEvent) == audited

    regrouped = payload([pupil_row(0, groups=["Nurture"]), pupil_row(1, groups=["Catch-up"])])
    response = await client.post(url, json=regrouped, headers=headers)
    assert [r["status"] for r in response.json()["pupils"]] == ["unchanged", "updated"]
    assert await _memberships(engine) == (
        {"MIS-0": {"Nurture"}, "MIS-1": {"Catch-up"}},
        {"MIS-0": ["105"]},
    )
    assert await count(engine, AuditEvent) == audited + 1

    restaged = payload([pupil_row(0, stage_assessments=[{**ks2, "result": "110"}]), pupil_row(1)])
    response = await client.post(url, json=restaged, headers=headers)
    assert [r["status"] for r in response.json()["pupils"]] == ["updated", "unchanged"]
    assert await _memberships(engine) == (
        {"MIS-0": {"Nurture"}, "MIS-1": {"Catch-up"}},
        {"MIS-0": ["110"]},
    )
    assert await count(engine, AuditEvent) == audited + 2
