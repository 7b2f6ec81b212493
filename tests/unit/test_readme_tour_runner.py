"""The runner that makes the README's tours a test (tests/support/tour.py): it reads the
console blocks as a shell would and is strict where the README is exact, loose only where an
answer cannot be the same twice (ids, times, tokens) or the README elides with "…"."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from tests.support.tour import Matcher, Shell, ShellError, console_blocks, shown_json, steps

UUID_A = "0c6e3424-30ed-41d0-b468-b6cb73093d14"


def test_commands_run_on_over_continuations_and_open_quotes_and_keep_their_output():
    text = (
        "```console\n"
        "$ curl -s -X POST http://127.0.0.1:8000/x \\\n"
        '    -d \'{"a": [1,\n'
        "          2]}'\n"
        '{"ok": true}\n'
        "$ # a comment is not run\n"
        "$ X=1\n"
        "```\n"
    )
    found = steps(console_blocks(text))
    assert [s.command.splitlines()[0] for s in found] == [
        "curl -s -X POST http://127.0.0.1:8000/x ",
        "X=1",
    ]
    assert found[0].printed == '{"ok": true}'
    assert found[1].printed == ""


def test_words_expand_variables_outside_single_quotes_and_substitute_commands(tmp_path: Path):
    (tmp_path / "a.json").write_text(json.dumps({"items": [{"code": "X", "id": UUID_A}]}))
    shell = Shell(None, {"SCHOOL": "s1", "YEAR": "2026"}, tmp_path)  # type: ignore[arg-type]
    words = asyncio.run(
        shell.words(
            """curl "u/$SCHOOL" -d '{"y": '$YEAR', "s": "$SCHOOL"}' """
            """-H "If-Match: \\"$YEAR\\"" | jq -r .id"""
        )
    )
    assert words == [
        ["curl", "u/s1", "-d", '{"y": 2026, "s": "$SCHOOL"}', "-H", 'If-Match: "2026"'],
        ["jq", "-r", ".id"],
    ]
    asyncio.run(shell.run("""ID=$(jq -r '.items[] | select(.code == "X") | .id' a.json)"""))
    assert shell.variables["ID"] == UUID_A


def test_an_answer_matches_ids_times_and_tokens_by_shape_and_everything_else_exactly():
    matcher = Matcher()
    shown = shown_json(
        '{"id": "0c6e3424-…", "at": "2026-11-23T21:23:47.547213Z", "on": "2026-12-12",'
        ' "n": 26, "name": "Layla", "token": "eyJhbGciOiJIUzI1NiIs…", …}'
    )
    found = {
        "id": UUID_A,
        "at": "2027-01-02T03:04:05Z",
        "on": "2027-12-10",
        "n": 26,
        "name": "Layla",
        "token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.x",
        "extra": 1,
    }
    assert matcher.json(shown, found)
    assert not matcher.json(shown, {**found, "n": 27})
    assert not matcher.json(shown, {**found, "name": "Ben"})
    assert not matcher.json(shown, {**found, "id": "not an id"})
    # Without "…" every member is shown.
    assert not matcher.json(shown_json('{"n": 26}'), {"n": 26, "extra": 1})


def test_elided_lists_hold_the_items_shown_in_any_order_each_once():
    matcher = Matcher()
    shown = shown_json('[…, {"v": 1}, {"v": 2}, …]')
    assert matcher.json(shown, [{"v": 2}, {"v": 3}, {"v": 1}])
    assert not matcher.json(shown, [{"v": 1}, {"v": 3}])
    assert not matcher.json(shown_json('[{"v": 1}, …, {"v": 1}]'), [{"v": 1}])
    assert not matcher.json(shown_json('[{"v": 1}]'), [{"v": 1}, {"v": 2}])


@pytest.mark.parametrize(
    ("shift", "found", "ok"), [(0, 2026, True), (1, 2027, True), (1, 2026, False)]
)
def test_academic_years_move_with_the_calendar(shift: int, found: int, ok: bool):
    assert Matcher(year_shift=shift).json({"academic_year": 2026}, {"academic_year": found}) is ok


def test_csv_lines_match_exactly_but_for_elided_fields_and_lines():
    matcher = Matcher()
    shown = ["Subject,Pupils (Autumn),…", "English,24,c,…", "…", "Maths,28,c,c"]
    assert matcher.lines(
        shown, ["Subject,Pupils (Autumn),x", "English,24,c,1", "a", "b", "Maths,28,c,c"]
    )
    assert not matcher.lines(shown, ["Subject,Pupils (Autumn),x", "English,25,c,1", "Maths,28,c,c"])
    assert not matcher.lines(shown, ["Subject,Pupils (Autumn),x", "English,24,c,1", "Maths,28,c,3"])


def test_a_refused_request_inside_an_assignment_stops_the_step():
    async def refuses(scope, receive, send):  # type: ignore[no-untyped-def]
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b'{"x": 1}'})

    async def run(command: str) -> None:
        transport = httpx.ASGITransport(app=refuses)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await Shell(client, {}, Path(".")).run(command)

    for command in (
        "T=$(curl -s http://127.0.0.1:8000/v1/me | jq -r .x)",
        "T=$(curl -s http://127.0.0.1:8000/v1/me)",
    ):
        with pytest.raises(ShellError, match="401"):
            asyncio.run(run(command))


def test_a_for_loop_runs_its_command_once_per_number(tmp_path: Path):
    shell = Shell(None, {}, tmp_path)  # type: ignore[arg-type]
    asyncio.run(shell.run("for i in $(seq 3); do LAST=$i; done"))
    assert shell.variables["LAST"] == "3"
