"""The README's tours are tests: every ```console block of README.md runs, in order, against a
freshly seeded demo with the ids `markbook demo ids` prints, as a reader's shell would run it
(tests/support/tour.py), and each answer must match what the README prints after it (status,
the headers it shows, the body; ids, timestamps, dates, tokens and cursors by their shape, "…"
eliding). The sample files the tour posts are read from examples/, as a reader would (in a
later school year than the README's, with their year moved on as an export of that year's
would have it).

Nothing is skipped. Set MARKBOOK_TOUR_ANSWERS=path to have every command's real output
written there, to refresh the README from.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.db.engine import create_engine, session_factory
from app.main import create_app
from app.services.demo import demo_ids
from tests.conftest import TestDatabases as Databases
from tests.conftest import make_client, make_settings
from tests.support.tour import Matcher, Ran, Shell, Step, check, console_blocks, steps

# Both tests read the one run of the tour: on one worker, the demo is seeded once.
pytestmark = pytest.mark.xdist_group("readme_tours")
ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
GRAPHQL = "### GraphQL"


@dataclass
class TourRun:
    """The whole README run once: each command with what it did and why it differs, if it
    does, under the section it is in."""

    steps: list[tuple[str, Step, Ran | None, str | None]] = field(default_factory=list)

    def failures(self, graphql: bool) -> list[str]:
        return [
            f"README block {step.block} ({section}):\n$ {step.command}\n{why}"
            for section, step, _, why in self.steps
            if why is not None and section.startswith(GRAPHQL) == graphql
        ]


def _section(text: str, block_start: int) -> str:
    headings = [m for m in re.finditer(r"^#{2,4} .*$", text, re.M) if m.start() < block_start]
    return headings[-1].group() if headings else ""


@pytest.fixture(scope="module")
async def tour(
    databases: Databases, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[TourRun]:
    """The demo (seeded once a run), then every console block run in order: the tour is one
    session, later blocks use what earlier ones set and wrote."""
    url = databases.demo()
    workdir = tmp_path_factory.mktemp("tour")
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            ids = await demo_ids(session)
        text = README.read_text(encoding="utf-8")
        written = re.search(r"^\s*YEAR=(\d{4})$", text, re.M)
        assert written is not None, "the README's demo no longer prints YEAR="
        matcher = Matcher(year_shift=int(ids["YEAR"]) - int(written.group(1)))
        _copy_examples(workdir / "examples", int(written.group(1)), matcher.year_shift)
        starts = [m.start() for m in re.finditer(r"```console\n", text)]
        blocks = console_blocks(text)
        assert len(blocks) == len(starts) >= 30, "the tour has lost its examples"
        run = TourRun()
        async with make_client(create_app(make_settings(url, workdir), engine=engine)) as client:
            shell = Shell(client, dict(ids), workdir)
            for step in steps(blocks):
                section = _section(text, starts[step.block])
                try:
                    ran: Ran | None = await shell.run(step.command)
                except Exception as error:  # reported with the step, and the tour goes on
                    run.steps.append((section, step, None, f"could not run: {error!r}"))
                    continue
                assert ran is not None
                run.steps.append((section, step, ran, check(step, ran, matcher)))
        _write_answers(run)
        yield run
    finally:
        await engine.dispose()
        databases.drop(url)


def _copy_examples(target: Path, year: int, shift: int) -> None:
    """The sample files, as if exported this school year: they name the README's year (a
    roster sync's `academic_year`, a CTF's year and date), which the calendar has moved on
    from by `shift` years."""
    shutil.copytree(ROOT / "examples", target)
    if not shift:
        return
    moved = {
        f'"academic_year": {year}': f'"academic_year": {year + shift}',
        f"<AcademicYear>{year}/{(year + 1) % 100:02d}<": (
            f"<AcademicYear>{year + shift}/{(year + shift + 1) % 100:02d}<"
        ),
        f"<DateTime>{year}-": f"<DateTime>{year + shift}-",
    }
    for name in ("sync.json", "riverside.xml"):
        text = (target / name).read_text(encoding="utf-8")
        for old, new in moved.items():
            text = text.replace(old, new)
        (target / name).write_text(text, encoding="utf-8")


def _write_answers(run: TourRun) -> None:
    target = os.environ.get("MARKBOOK_TOUR_ANSWERS")
    if not target:
        return
    lines = []
    for _, step, ran, why in run.steps:
        lines.append(f"--- block {step.block}{' DIFFERS' if why else ''}\n$ {step.command}")
        if why:
            lines.append(f"(why: {why[:200]})")
        if ran is not None:
            head, _, body = (
                ran.output.rpartition("\n\n") if ran.show_headers else ("", "", ran.output)
            )
            try:
                body = json.dumps(json.loads(body), indent=1, ensure_ascii=False)
            except ValueError:
                pass
            lines.append((head + "\n\n" if head else "") + body.rstrip("\n"))
    Path(target).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _numbers(text: str) -> list[float]:
    return [float(n) for n in text.split(",")]


async def test_the_rest_tour_answers_as_the_readme_says(tour: TourRun) -> None:
    assert len([s for s in tour.steps if not s[0].startswith(GRAPHQL)]) >= 40
    failures = tour.failures(graphql=False)
    assert not failures, "\n\n".join(failures)


async def test_the_graphql_tour_answers_as_the_readme_says(tour: TourRun) -> None:
    graphql = [s for s in tour.steps if s[0].startswith(GRAPHQL)]
    assert len(graphql) >= 4, "the GraphQL tour has lost its examples"
    failures = tour.failures(graphql=True)
    assert not failures, "\n\n".join(failures)
    # The dashboard's table: each school's rows (all pupils, pupil premium, the rest), then
    # the trust's, each cell the row's figures in column order.
    answers: list[Any] = [
        ran.answer.json() for _, _, ran, _ in graphql if ran is not None and ran.answer
    ]
    dashboard = next(a["data"]["trust"] for a in answers if "trust" in a["data"])
    figures = {
        edge["node"]["name"]: edge["node"]["report"] for edge in dashboard["schools"]["edges"]
    }
    figures["the trust (`trust.report`)"] = dashboard["report"]
    text = README.read_text(encoding="utf-8")
    start = text.index(GRAPHQL)
    table = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in text[start : text.index("\n### ", start + 1)].splitlines()
        if line.startswith("| ") and not line.startswith("| |")
    ]
    assert [row[0] for row in table] == list(figures)
    for name, *cells in table:
        rows = figures[name]["sections"][0]["rows"]
        assert [_numbers(c) for c in cells] == [[c["value"] for c in r["cells"]] for r in rows]
