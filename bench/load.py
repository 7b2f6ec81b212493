"""HTTP load: requests a second and latency under concurrent connections, Markbook beside a
minimal app, through a real load generator.

    uv run python -m bench.load --size trust --reuse                  # 1 worker
    uv run python -m bench.load --size trust --reuse --workers 1,2    # and 2 workers
    uv run python -m bench.load --size small --reuse --seconds 3 --connections 1,16

Markbook runs under uvicorn on 127.0.0.1 (``--workers`` processes), and so does bench/minimal.py:
FastAPI with one asyncpg pool and one row a request, what any Python service pays. wrk (Debian's
package `wrk`) drives each target for ``--seconds`` at each connection count, on one thread, after
a one-second warm-up; a Lua hook reports requests, errors, and the 50th and 95th percentile
latency. The ratio is the minimal app's one-row requests a second over the target's, at the same
connection count in the same run: how many times fewer requests Markbook serves. Every answer
must be a 2xx (non-2xx answers are counted and fail the run). The results file records the load
average before and after, since both sides share this machine's cores with wrk and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from bench import generate as gen
from bench.core import load_subjects
from bench.run import RESULTS, ROOT, server_env

# Prints one JSON line when wrk is done (latencies in microseconds).
_REPORT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, '
    .. '"p50_us": %d, "p95_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    server: str  # "minimal" or "markbook"
    path: str  # {school} is the leader's school
    who: str | None  # whose bearer token, or none
    what: str


TARGETS = (
    Target("minimal-healthz", "minimal", "/healthz", None, "minimal app, no database"),
    Target("minimal-one-row", "minimal", "/schools/{school}", None, "minimal app, one row"),
    Target("healthz", "markbook", "/healthz", None, "GET /healthz"),
    Target("me", "markbook", "/v1/me", "teacher", "GET /v1/me (teacher)"),
    Target("school", "markbook", "/v1/schools/{school}", "school_leader", "GET one school"),
    Target(
        "pupils-100",
        "markbook",
        "/v1/schools/{school}/pupils?limit=100",
        "school_leader",
        "GET 100 pupils",
    ),
)
FLOOR = "minimal-one-row"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: str, env: dict[str, str], *, workers: int = 1) -> Iterator[str]:
    """``app`` (an import string, factories end in ``()``) under uvicorn on a free port."""
    port = _free_port()
    factory = app.endswith("()")
    command = [
        sys.executable,
        *("-m", "uvicorn", app.removesuffix("()")),
        *(["--factory"] if factory else []),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        *("--log-level", "warning", "--no-access-log"),
    ]
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # at most ~30 s to listen
            if server.poll() is not None:
                raise RuntimeError(f"{app} exited with {server.returncode}")
            try:
                httpx.get(f"{base}/healthz", timeout=1).raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{app} did not start listening")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wrk(url: str, *, connections: int, seconds: float, token: str | None, script: Path) -> dict:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s"]
    command += ["-s", str(script)]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True)
    line = next(line for line in reversed(done.stdout.splitlines()) if line.startswith("{"))
    result = json.loads(line)
    result["requests_per_second"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def _tokens(base: str, subjects: Any) -> dict[str, str]:
    tokens = {}
    for who in ("teacher", "school_leader"):
        answer = httpx.post(
            f"{base}/v1/auth/token",
            data={
                "grant_type": "password",
                "username": getattr(subjects, who).email,
                "password": subjects.password,
            },
            timeout=30,
        )
        answer.raise_for_status()
        tokens[who] = answer.json()["access_token"]
    return tokens


def measure(
    targets: Sequence[Target],
    bases: dict[str, str],
    tokens: dict[str, str],
    school: str,
    *,
    connections: Sequence[int],
    seconds: float,
    script: Path,
) -> list[dict[str, Any]]:
    rows = []
    for target in targets:  # warm-up: imports, pools, statement caches
        url = bases[target.server] + target.path.format(school=school)
        wrk(url, connections=4, seconds=1, token=tokens.get(target.who or ""), script=script)
    for count in connections:
        for target in targets:
            url = bases[target.server] + target.path.format(school=school)
            token = tokens.get(target.who or "")
            result = wrk(url, connections=count, seconds=seconds, token=token, script=script)
            if result["non_2xx"] or result["errors"]:
                raise RuntimeError(f"{target.key} at {count} connections: {result}")
            rows.append({"target": target.key, "connections": count, **result})
            print(
                f"  {target.key:<16} c={count:<3} {result['requests_per_second']:>8,.0f} req/s",
                file=sys.stderr,
            )
    return rows


def render(runs: dict[int, list[dict[str, Any]]], connections: Sequence[int]) -> str:
    floors = {
        (row["connections"]): row["requests_per_second"]
        for row in runs[min(runs)]
        if row["target"] == FLOOR
    }
    lines = [
        f"{'target':<34}{'workers':>8}{'conns':>6}{'req/s':>9}{'p50 ms':>8}{'p95 ms':>8}"
        f"{'fewer than one-row':>20}"
    ]
    described = {t.key: t.what for t in TARGETS}
    for workers, rows in runs.items():
        for row in rows:
            if workers != min(runs) and row["target"].startswith("minimal"):
                continue
            floor = floors.get(row["connections"])
            ratio = floor / row["requests_per_second"] if floor else None
            lines.append(
                f"{described[row['target']]:<34}{workers:>8}{row['connections']:>6}"
                f"{row['requests_per_second']:>9,.0f}{row['p50_us'] / 1000:>8.2f}"
                f"{row['p95_us'] / 1000:>8.2f}" + (f"{ratio:>19.2f}x" if ratio else f"{'':>20}")
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--size", choices=sorted(gen.SIZES), default="small")
    parser.add_argument("--reuse", action="store_true", help="keep a database built alike")
    parser.add_argument("--seed", type=int, default=gen.DEFAULT_SEED)
    parser.add_argument("--server-url", default=gen.DEFAULT_SERVER_URL)
    parser.add_argument("--seconds", type=float, default=5.0, help="per target and count")
    parser.add_argument("--connections", default="1,16,64", help="comma-separated counts")
    parser.add_argument("--workers", default="1", help="Markbook worker counts, e.g. 1,2")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is needed: apt-get install wrk")
    connections = [int(c) for c in args.connections.split(",")]
    worker_counts = [int(w) for w in args.workers.split(",")]
    built = gen.build(
        gen.SIZES[args.size], server_url=args.server_url, seed=args.seed, reuse=args.reuse
    )
    dsn = gen.asyncpg_dsn(built.url)

    async def subjects_of() -> Any:
        pg = await asyncpg.connect(dsn)
        try:
            return await load_subjects(pg)
        finally:
            await pg.close()

    subjects = asyncio.run(subjects_of())
    school = str(subjects.school_leader.school_id)
    markbook_env = server_env(built.url)
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    runs: dict[int, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "report.lua"
        script.write_text(_REPORT)
        with serving("bench.minimal:app", {"BENCH_MINIMAL_DSN": dsn}) as minimal:
            for workers in worker_counts:
                with serving("app.main:create_app()", markbook_env, workers=workers) as base:
                    tokens = _tokens(base, subjects)
                    targets = [
                        t for t in TARGETS if t.server == "markbook" or workers == worker_counts[0]
                    ]
                    print(f"Markbook with {workers} worker(s):", file=sys.stderr)
                    runs[workers] = measure(
                        targets,
                        {"minimal": minimal, "markbook": base},
                        tokens,
                        school,
                        connections=connections,
                        seconds=args.seconds,
                        script=script,
                    )
    load_after = os.getloadavg()
    print()
    print(
        f"size {args.size}; wrk, 1 thread, {args.seconds:g} s a target and count, on 127.0.0.1; "
        f"{os.cpu_count()} CPUs; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after"
    )
    print(render(runs, connections))
    if len(runs) > 1:
        base_rows = {(r["target"], r["connections"]): r for r in runs[worker_counts[0]]}
        for workers in worker_counts[1:]:
            for row in runs[workers]:
                before = base_rows[(row["target"], row["connections"])]
                gain = row["requests_per_second"] / before["requests_per_second"]
                print(
                    f"{row['target']:<12} c={row['connections']:<3} {workers} workers: "
                    f"{gain:.2f}x the requests a second of {worker_counts[0]}"
                )
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{started.strftime('%Y%m%dT%H%M%SZ')}-{args.size}-load.json"
        result = {
            "started_at": started.isoformat(),
            "size": args.size,
            "seconds": args.seconds,
            "machine": {
                "cpus": os.cpu_count(),
                "load_average_before": load_before,
                "load_average_after": load_after,
                "platform": platform.platform(),
                "python": platform.python_version(),
            },
            "runs": {str(w): rows for w, rows in runs.items()},
        }
        path.write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
