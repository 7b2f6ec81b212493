"""The England primary starter pack through the API: everything a school needs to begin,
once, however often it is asked for."""

from __future__ import annotations


async def test_starter_pack_gives_a_school_its_setup_once(client, world):
    url = f"/v1/schools/{world.schools['A1'].id}/starter-pack"
    headers = world.headers("school_leader")
    first = await client.post(url, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["created"] == {
        "subjects": 3,
        "scales": 2,
        "measures": 10,
        "assessment_points": 3,
        "frameworks": 3,
        "report_templates": 3,
    }
    again = await client.post(url, headers=headers)
    assert again.json()["created"] == {}
    assert again.json()["already_there"] == first.json()["created"]

    school = {"school_id": str(world.schools["A1"].id)}
    frameworks = (await client.get("/v1/frameworks", params=school, headers=headers)).json()
    counts = {f["name"]: f["objective_count"] for f in frameworks["items"]}
    assert set(counts) == {
        "National Curriculum: English",
        "National Curriculum: Mathematics",
        "National Curriculum: Science",
    }
    assert all(count > 50 for count in counts.values()), counts
    depth = await client.get("/v1/scales", params={**school, "kind": "depth"}, headers=headers)
    scale = depth.json()["items"][0]
    assert (scale["secure_from"], [d["code"] for d in scale["descriptors"]]) == (
        "S",
        ["B", "D", "S", "G"],
    )
    templates = await client.get("/v1/report-templates", params=school, headers=headers)
    assert {t["name"] for t in templates.json()["items"]} == {
        "Data on a page",
        "Below, at and above",
        "Progress matrix",
    }
    # Each runs as it comes, in the school's own subjects, measures and calendar.
    for template in templates.json()["items"]:
        ran = await client.get(
            f"/v1/schools/{school['school_id']}/report-templates/{template['id']}/report",
            headers=headers,
        )
        assert ran.status_code == 200, ran.text
    teacher = await client.post(url, headers=world.headers("teacher"))
    assert teacher.status_code == 403
