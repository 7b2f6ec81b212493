"""The README's GraphQL tour, run against the demo: every query it shows is sent as its caller,
answers without errors, and answers what the README prints (where it elides with "…", any
more; dates and cursors as such, since they move with the year and the seed), and the trust
dashboard's table is the dashboard's figures."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from app.db.models import School, Trust
from app.domain.calendar import AcademicYear
from app.services.demo import DEMO_PASSWORD, seed_demo

README = Path(__file__).resolve().parents[2] / "README.md"
# The tour's callers, by the shell variable holding their token.
CALLERS = {
    "TEACHER": "teacher@oakhill.example.org",
    "TOKEN": "head@oakhill.example.org",
    "GOV": "governor@oakhill.example.org",
    "ANALYST": "analyst@oakhill.example.org",
}
ELIDED = "…"
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _tour() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("### GraphQL")
    return text[start : text.index("\n### ", start + 1)]


def _shown(answer: str) -> Any:
    """An answer as the README prints it, "…" standing for elided list items or fields."""
    text = answer.replace(ELIDED, f'"{ELIDED}"')
    text = re.sub(rf',\s*"{ELIDED}"\s*}}', f', "{ELIDED}": "{ELIDED}"}}', text)
    return json.loads(text)


def _matches(shown: Any, found: Any) -> bool:
    if isinstance(shown, dict):
        if not isinstance(found, dict):
            return False
        keys = [k for k in shown if k != ELIDED]
        if ELIDED not in shown and set(found) != set(keys):
            return False
        for key in keys:
            if key not in found:
                return False
            if key == "endCursor":  # a pupil's id: whether there is one, not which
                if (shown[key] is None) != (found[key] is None):
                    return False
            elif not _matches(shown[key], found[key]):
                return False
        return True
    if isinstance(shown, list):
        if not isinstance(found, list):
            return False
        parts = [item for item in shown if item != ELIDED]
        if len(parts) == len(shown):
            return len(found) == len(shown) and all(map(_matches, shown, found))
        rest = iter(found)  # the items shown, in order, among the others
        return all(any(_matches(part, item) for item in rest) for part in parts)
    if isinstance(shown, str) and DATE.fullmatch(shown):
        return isinstance(found, str) and DATE.fullmatch(found) is not None
    return bool(shown == found)


def _numbers(text: str) -> list[float]:
    return [float(n) for n in text.split(",")]


async def test_the_readme_graphql_tour_answers_as_it_says(session, client):
    await seed_demo(session)
    await session.commit()
    school = await session.scalar(sa.select(School).where(School.urn == "999901"))
    trust = await session.scalar(sa.select(Trust))
    assert school is not None and trust is not None
    tokens = {}
    for name, email in CALLERS.items():
        signed = await client.post(
            "/v1/auth/token",
            data={"grant_type": "password", "username": email, "password": DEMO_PASSWORD},
        )
        tokens[name] = signed.json()["access_token"]

    this_year = AcademicYear.containing(date.today()).start_year
    tour = _tour()
    blocks = re.findall(r"```console\n(.*?)```", tour, re.S)
    assert len(blocks) >= 4, "the tour has lost its examples"
    answers = []
    for block in blocks:
        text = block
        for name, value in {
            "SCHOOL": school.id,
            "TRUST": trust.id,
            "YEAR": this_year,
            "LAST_YEAR": this_year - 1,
        }.items():
            text = text.replace(f"'${name}'", str(value))
        caller = re.search(r"Bearer \$(\w+)", text)
        assert caller is not None, block
        body, _, printed = text.partition("-d '")[2].partition("'\n")
        answer = await client.post(
            "/graphql",
            json=json.loads(body),
            headers={"Authorization": f"Bearer {tokens[caller.group(1)]}"},
        )
        assert answer.status_code == 200, answer.text
        found = answer.json()
        assert "errors" not in found, found["errors"]
        if printed.strip():
            assert _matches(_shown(printed), found), (printed, found)
        answers.append(found)

    # The dashboard's table: each school's rows (all pupils, pupil premium, the rest), then
    # the trust's, each cell the row's figures in column order.
    dashboard = next(a["data"]["trust"] for a in answers if "trust" in a["data"])
    figures = {
        edge["node"]["name"]: edge["node"]["report"] for edge in dashboard["schools"]["edges"]
    }
    figures["the trust (`trust.report`)"] = dashboard["report"]
    table = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in tour.splitlines()
        if line.startswith("| ") and not line.startswith("| |")
    ]
    assert [row[0] for row in table] == list(figures)
    for name, *cells in table:
        rows = figures[name]["sections"][0]["rows"]
        assert [_numbers(c) for c in cells] == [[c["value"] for c in r["cells"]] for r in rows]
