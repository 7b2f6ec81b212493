"""Time API calls against their raw-SQL floor on the same data, in the same run.

    uv run python -m bench.run --size trust --repeat 50
    uv run python -m bench.run --size trust --reuse --case schools-trust-admin --show-sql
    uv run python -m bench.run --size small --http        # through uvicorn on 127.0.0.1
    uv run python -m bench.run --list

For each case: check once that the API and the floor give the same rows, warm up, then time
the API call and the floor alternately, --repeat times each. Prints medians, p95s and the
API/SQL ratio, and the database round trips one API call makes (counted in-process on an
instrumented engine, outside the timed loop). Results go to bench/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

import bench.cases  # noqa: F401  (registers every case)
from app.auth.tokens import TokenIssuer
from app.db.engine import create_engine
from app.main import create_app
from app.settings import Settings
from bench import generate as gen
from bench.core import CASES, Case, Context, load_subjects, sign_in

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
JWT_SECRET = "markbook-bench-signing-key-not-for-production-use-0123456789"
BASE_URL = "http://markbook.bench"


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        jwt_secret=JWT_SECRET,  # type: ignore[arg-type]
        jwt_secret_file=Path("/nonexistent/markbook-bench-unused"),
        access_token_ttl_seconds=86_400,  # long runs must not outlive their tokens
        auto_migrate=False,
        log_level="WARNING",
    )


def _issuer(settings: Settings) -> TokenIssuer:
    """The app's issuer, to read the subject of tokens it hands out."""
    return TokenIssuer(
        key=settings.signing_key(),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl=timedelta(seconds=settings.access_token_ttl_seconds),
    )


# --- Statistics --------------------------------------------------------------------------
def _p95(samples: Sequence[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def summary(samples: Sequence[float]) -> dict[str, float]:
    return {
        "median_ms": statistics.median(samples),
        "p95_ms": _p95(samples),
        "min_ms": min(samples),
        "mean_ms": statistics.fmean(samples),
    }


# --- Counting round trips ----------------------------------------------------------------
@dataclass
class Trace:
    """What one API call sent to PostgreSQL: SQLAlchemy statements, and the transaction
    control and pool pings asyncpg sent outside them (BEGIN, COMMIT, the pre-ping's ';')."""

    statements: list[str] = field(default_factory=list)
    control: list[str] = field(default_factory=list)

    @property
    def round_trips(self) -> int:
        return len(self.statements) + len(self.control)

    def as_json(self) -> dict[str, Any]:
        return {
            "round_trips": self.round_trips,
            "statements": self.statements,
            "control": self.control,
        }


class Tracer:
    def __init__(self, engine: AsyncEngine) -> None:
        self.trace = Trace()
        event.listen(engine.sync_engine, "before_cursor_execute", self._statement)
        event.listen(engine.sync_engine, "connect", self._connect)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.trace.statements.append(" ".join(statement.split()))

    def _connect(self, dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.driver_connection.add_query_logger(self._logged)

    def _logged(self, record: Any) -> None:
        self.trace.control.append(" ".join(record.query.split()) or "(empty)")

    def take(self) -> Trace:
        taken, self.trace = self.trace, Trace()
        return taken


async def _settle() -> None:
    """asyncpg calls query loggers with call_soon: let them run."""
    for _ in range(3):
        await asyncio.sleep(0)


async def trace_cases(cases: Sequence[Case], ctx: Context, url: str) -> dict[str, Trace]:
    """One API call per case on a separate, instrumented in-process app (after two warm-up
    calls, so connections and statement caches are warm as in the timed loop)."""
    engine = create_engine(url)
    tracer = Tracer(engine)
    app = create_app(_settings(url), engine=engine)
    traces: dict[str, Trace] = {}
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            traced = replace(ctx, client=client)
            for case in cases:
                for _ in range(2):
                    await case.api(traced)
                await _settle()
                tracer.take()
                await case.api(traced)
                await _settle()
                traces[case.key] = tracer.take()
    finally:
        await engine.dispose()
    return traces


async def floor_round_trips(case: Case, ctx: Context) -> int | None:
    if case.sql is None:
        return None
    seen: list[str] = []

    def logged(record: Any) -> None:
        seen.append(record.query)

    ctx.pg.add_query_logger(logged)
    try:
        await case.sql(ctx)
        await _settle()
    finally:
        ctx.pg.remove_query_logger(logged)
    return len(seen)


# --- Timing ------------------------------------------------------------------------------
class Mismatch(Exception):
    """The API and the SQL floor do not give the same rows: the comparison would be void."""


async def _timed(
    call: Callable[[Context], Coroutine[Any, Any, Any]], ctx: Context
) -> tuple[float, float, Any]:
    """Wall time and this thread's CPU time of one call, in ms. In-process, the CPU time is
    the Python work of client and app together; the rest of the wall time is waiting, mostly
    for PostgreSQL."""
    cpu = time.thread_time_ns()
    start = time.perf_counter_ns()
    result = await call(ctx)
    wall = time.perf_counter_ns() - start
    return wall / 1e6, (time.thread_time_ns() - cpu) / 1e6, result


def _check_status(case: Case, response: httpx.Response) -> None:
    if response.status_code != case.expect_status:
        raise RuntimeError(
            f"{case.key}: expected HTTP {case.expect_status}, got {response.status_code}: "
            f"{response.text[:300]}"
        )


async def verify(case: Case, ctx: Context) -> int:
    """Both sides give the same rows; returns how many."""
    response = await case.api(ctx)
    _check_status(case, response)
    api_rows = case.api_rows(ctx, response)
    if case.sql is not None:
        assert case.sql_rows is not None, f"{case.key}: sql without sql_rows"
        sql_rows = case.sql_rows(ctx, await case.sql(ctx))
        if api_rows != sql_rows:
            raise Mismatch(
                f"{case.key}: the API gave {len(api_rows)} rows {api_rows[:3]}..., the SQL floor "
                f"{len(sql_rows)} rows {sql_rows[:3]}..."
            )
    return len(api_rows)


@dataclass
class Outcome:
    case: Case
    rows: int
    api: list[float]
    api_cpu: list[float]
    sql: list[float]
    extras: dict[str, list[float]]
    trace: Trace | None = None
    floor_trips: int | None = None

    def ratio(self) -> float | None:
        if not self.sql:
            return None
        return statistics.median(self.api) / statistics.median(self.sql)

    def floor_with_extras(self) -> float | None:
        if not (self.sql and self.case.extras_in_floor):
            return None
        return statistics.median(self.sql) + sum(statistics.median(s) for s in self.extras.values())

    def as_json(self) -> dict[str, Any]:
        floor_plus = self.floor_with_extras()
        return {
            "key": self.case.key,
            "title": self.case.title,
            "floor": self.case.floor,
            "rows": self.rows,
            "api": summary(self.api),
            "api_cpu": summary(self.api_cpu),
            "sql": summary(self.sql) if self.sql else None,
            "ratio_api_sql": self.ratio(),
            "extras": {name: summary(s) for name, s in self.extras.items()},
            "floor_with_extras_ms": floor_plus,
            "ratio_api_floor_with_extras": (
                statistics.median(self.api) / floor_plus if floor_plus else None
            ),
            "api_round_trips": self.trace.as_json() if self.trace else None,
            "floor_round_trips": self.floor_trips,
            "samples_ms": {
                "api": self.api,
                "api_cpu": self.api_cpu,
                "sql": self.sql,
                **self.extras,
            },
        }


async def measure(case: Case, ctx: Context, *, repeat: int, warmup: int) -> Outcome:
    rows = await verify(case, ctx)
    for _ in range(warmup):
        await case.api(ctx)
        if case.sql is not None:
            await case.sql(ctx)
        for extra in case.extras.values():
            await extra(ctx)
    gc.collect()
    api: list[float] = []
    api_cpu: list[float] = []
    sql: list[float] = []
    extras: dict[str, list[float]] = {name: [] for name in case.extras}
    for _ in range(repeat):  # alternate, so drift hits both sides alike
        wall, cpu, response = await _timed(case.api, ctx)
        _check_status(case, response)
        api.append(wall)
        api_cpu.append(cpu)
        if case.sql is not None:
            sql.append((await _timed(case.sql, ctx))[0])
        for name, extra in case.extras.items():
            extras[name].append((await _timed(extra, ctx))[0])
    return Outcome(case, rows, api, api_cpu, sql, extras)


async def profile(case: Case, ctx: Context, *, repeat: int, top: int = 25) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        await case.api(ctx)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


# --- The app under test ------------------------------------------------------------------
@asynccontextmanager
async def in_process(url: str) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(url)
    app = create_app(_settings(url), engine=engine)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def over_loopback(url: str) -> AsyncIterator[httpx.AsyncClient]:
    """One uvicorn worker in a child process on 127.0.0.1, configured by environment."""
    port = _free_port()
    env = {
        **os.environ,
        "MARKBOOK_DATABASE_URL": url,
        "MARKBOOK_JWT_SECRET": JWT_SECRET,
        "MARKBOOK_ACCESS_TOKEN_TTL_SECONDS": "86400",
        "MARKBOOK_AUTO_MIGRATE": "false",
        "MARKBOOK_LOG_LEVEL": "WARNING",
    }
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "uvicorn", "app.main:create_app", "--factory"),
        *("--host", "127.0.0.1", "--port", str(port)),
        *("--log-level", "warning", "--no-access-log"),
        cwd=ROOT,
        env=env,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(200):  # wait for the server to listen: at most ~20 s
                if server.returncode is not None:
                    raise RuntimeError(f"uvicorn exited with {server.returncode}")
                try:
                    (await client.get("/healthz")).raise_for_status()
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            else:
                raise RuntimeError("uvicorn did not start listening")
            yield client
    finally:
        if server.returncode is None:
            server.terminate()
            try:
                await asyncio.wait_for(server.wait(), timeout=10)
            except TimeoutError:
                server.kill()
                await server.wait()


# --- Reporting ---------------------------------------------------------------------------
def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}" if value < 100 else f"{value:.1f}"


def render(outcomes: Sequence[Outcome], *, http: bool = False) -> str:
    header = (
        f"{'case':<38} {'rows':>4} {'API med':>8} {'API p95':>8} {'API cpu':>8} {'SQL med':>8}"
        f" {'SQL p95':>8} {'API/SQL':>8}  {'trips API/SQL':>13}"
    )
    lines = [header, "-" * len(header)]
    notes: list[str] = []
    for o in outcomes:
        ratio = o.ratio()
        trips = (
            f"{o.trace.round_trips if o.trace else '-'}/"
            f"{o.floor_trips if o.floor_trips is not None else '-'}"
        )
        lines.append(
            f"{o.case.title:<38} {o.rows:>4} {_ms(statistics.median(o.api)):>8}"
            f" {_ms(_p95(o.api)):>8} {_ms(statistics.median(o.api_cpu)):>8}"
            f" {_ms(statistics.median(o.sql) if o.sql else None):>8}"
            f" {_ms(_p95(o.sql) if o.sql else None):>8}"
            f" {'-' if ratio is None else f'{ratio:.1f}x':>8}  {trips:>13}"
        )
        for name, samples in o.extras.items():
            note = f"{o.case.title}: {name} alone: median {_ms(statistics.median(samples))} ms"
            floor_plus = o.floor_with_extras()
            if floor_plus:
                api_median = statistics.median(o.api)
                note += (
                    f"; floor incl. it {_ms(floor_plus)} ms, API/(SQL+{name}) = "
                    f"{api_median / floor_plus:.2f}x, API beyond it {_ms(api_median - floor_plus)}"
                    " ms"
                )
            notes.append(note)
    lines.append("")
    lines += [
        "times in ms (median, p95 of the timed calls; API and SQL alternate call by call).",
        "API cpu: median CPU time of this process's thread per API call: "
        + ("over HTTP that is the client's alone." if http else "in-process that is client +"),
        *(
            []
            if http
            else [
                "app Python work (not argon2's worker threads); the rest of API med is waiting,"
                " mostly on PostgreSQL."
            ]
        ),
        "trips: PostgreSQL round trips of one call (statements + BEGIN/COMMIT + the pool's",
        "pre-ping), counted once on a separate instrumented in-process engine, untimed.",
    ]
    return "\n".join(lines + [f"  * {n}" for n in notes])


def render_traces(outcomes: Sequence[Outcome]) -> str:
    lines = []
    for o in outcomes:
        if o.trace is None:
            continue
        lines.append(f"{o.case.title}: {o.trace.round_trips} round trips")
        lines += [f"    control: {q}" for q in o.trace.control]
        lines += [f"    sql:     {q[:160]}" for q in o.trace.statements]
    return "\n".join(lines)


def _git() -> dict[str, Any]:
    def run(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    return {"commit": run("rev-parse", "HEAD"), "dirty": bool(run("status", "--porcelain"))}


# --- Main --------------------------------------------------------------------------------
@dataclass
class Options:
    size: gen.Size
    url: str
    cases: list[Case]
    repeat: int
    warmup: int
    http: bool
    trace: bool
    show_sql: bool
    profile: bool
    loop: str
    save: bool


async def run(options: Options) -> dict[str, Any]:
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    pg = await asyncpg.connect(gen.asyncpg_dsn(options.url))
    try:
        subjects = await load_subjects(pg)
        server_version = await pg.fetchval("SHOW server_version")
        counts = {
            table: await pg.fetchval(f'SELECT count(*) FROM "{table}"') for table in gen.TABLES
        }
        connect = over_loopback if options.http else in_process
        async with connect(options.url) as client:
            ctx = Context(client, pg, subjects, _issuer(_settings(options.url)))
            await sign_in(ctx)
            outcomes: list[Outcome] = []
            for case in options.cases:
                if case.prepare is not None:
                    await case.prepare(ctx)
                outcome = await measure(case, ctx, repeat=options.repeat, warmup=options.warmup)
                outcome.floor_trips = await floor_round_trips(case, ctx)
                outcomes.append(outcome)
                print(f"  measured {case.key}", file=sys.stderr)
            profiles = (
                {c.key: await profile(c, ctx, repeat=options.repeat) for c in options.cases}
                if options.profile
                else {}
            )
            if options.trace:
                traces = await trace_cases(options.cases, ctx, options.url)
                for outcome in outcomes:
                    outcome.trace = traces.get(outcome.case.key)
    finally:
        await pg.close()

    load = os.getloadavg()
    mode = "HTTP via uvicorn on 127.0.0.1" if options.http else "in-process ASGI (httpx)"
    print()
    print(
        f"size {options.size.name} ({options.size.description}): "
        + ", ".join(f"{n:,} {t}" for t, n in counts.items())
    )
    print(
        f"{mode}; {options.repeat} timed calls per side after {options.warmup} warm-up; "
        f"loop {options.loop}; PostgreSQL {server_version}; {os.cpu_count()} CPUs; "
        f"load average {load_before[0]:.2f} before, {load[0]:.2f} after"
    )
    print()
    print(render(outcomes, http=options.http))
    if options.show_sql:
        print()
        print(render_traces(outcomes))
    for key, text in profiles.items():
        print(f"\n--- profile of {options.repeat} API calls: {key} ---\n{text}")
    result = {
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "size": options.size.name,
        "size_description": options.size.description,
        "row_counts": counts,
        "mode": "http" if options.http else "asgi",
        "repeat": options.repeat,
        "warmup": options.warmup,
        "loop": options.loop,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": load,
            "platform": platform.platform(),
            "python": platform.python_version(),
            "postgresql": server_version,
        },
        "git": _git(),
        "cases": [o.as_json() for o in outcomes],
    }
    if options.save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = started.strftime("%Y%m%dT%H%M%SZ")
        path = RESULTS / f"{stamp}-{options.size.name}-{result['mode']}.json"
        path.write_text(json.dumps(result, indent=2, default=str) + "\n")
        print(f"\nwrote {path.relative_to(ROOT)}")
    return result


def _select(keys: Sequence[str] | None) -> list[Case]:
    if not keys:
        return list(CASES.values())
    wanted = [k for key in keys for k in key.split(",") if k]
    unknown = [k for k in wanted if k not in CASES]
    if unknown:
        raise SystemExit(f"unknown case(s) {', '.join(unknown)}; see --list")
    return [CASES[k] for k in wanted]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--size", choices=sorted(gen.SIZES), default="small")
    parser.add_argument("--repeat", type=int, default=50, help="timed calls per side")
    parser.add_argument("--warmup", type=int, default=10, help="untimed calls per side first")
    parser.add_argument("--case", action="append", help="case key(s) to run; default all")
    parser.add_argument("--reuse", action="store_true", help="keep a database built alike")
    parser.add_argument("--seed", type=int, default=gen.DEFAULT_SEED)
    parser.add_argument("--server-url", default=gen.DEFAULT_SERVER_URL)
    parser.add_argument("--http", action="store_true", help="through uvicorn on 127.0.0.1")
    parser.add_argument("--no-trace", action="store_true", help="skip counting round trips")
    parser.add_argument("--show-sql", action="store_true", help="print each call's statements")
    parser.add_argument("--profile", action="store_true", help="cProfile the API calls too")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    parser.add_argument("--list", action="store_true", help="list the cases and stop")
    args = parser.parse_args(argv)
    if args.list:
        for case in CASES.values():
            print(f"{case.key:<24} {case.title}\n{'':<24} floor: {case.floor}")
        return 0
    if not 1 <= args.repeat <= 100_000 or not 0 <= args.warmup <= 10_000:
        parser.error("--repeat must be 1..100000 and --warmup 0..10000")
    size = gen.SIZES[args.size]
    cases = _select(args.case)
    # Build first, outside any event loop: the build runs loops of its own.
    built = gen.build(size, server_url=args.server_url, seed=args.seed, reuse=args.reuse)
    options = Options(
        size=size,
        url=built.url,
        cases=cases,
        repeat=args.repeat,
        warmup=args.warmup,
        http=args.http,
        trace=not args.no_trace,
        show_sql=args.show_sql,
        profile=args.profile,
        loop=args.loop,
        save=not args.no_save,
    )
    loop_factory = None
    if args.loop == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(run(options))
    return 0


if __name__ == "__main__":
    sys.exit(main())
