"""Assertions shared by the security tests."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM_JSON = "application/problem+json"

# Every row of every table, by table name: what a refused request must leave as it was.
Snapshot = dict[str, list[tuple[Any, ...]]]


def assert_problem(response: httpx.Response, status: int, context: str) -> dict[str, Any]:
    """An RFC 9457 problem with the given status, and the fields clients rely on."""
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith(PROBLEM_JSON), (
        f"{context}: expected {PROBLEM_JSON}, got {content_type!r}: {response.text[:300]}"
    )
    body = response.json()
    missing = {"type", "title", "status", "detail"} - set(body)
    assert not missing, f"{context}: problem without {sorted(missing)}: {body}"
    assert body["status"] == status, f"{context}: problem status {body['status']} != {status}"
    assert all(isinstance(body[k], str) and body[k] for k in ("type", "title", "detail")), (
        f"{context}: empty problem fields: {body}"
    )
    return body


def describe_changes(before: Snapshot, after: Snapshot) -> str:
    """What differs between two snapshots, row by row, for assertion messages."""
    lines = []
    for table in sorted(set(before) | set(after)):
        old = {repr(row) for row in before.get(table, [])}
        new = {repr(row) for row in after.get(table, [])}
        lines += [f"  {table}: - {row}" for row in sorted(old - new)]
        lines += [f"  {table}: + {row}" for row in sorted(new - old)]
    return "\n".join(lines) or "  (no difference)"


def assert_unchanged(before: Snapshot, after: Snapshot, context: str) -> None:
    assert before == after, f"{context}: a refused request changed what is stored:\n" + (
        describe_changes(before, after)
    )
