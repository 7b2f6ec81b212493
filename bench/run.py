"""Time API calls against their raw-SQL floor on the same data, in the same run.

    uv run python -m bench.run --size trust --repeat 50
    uv run python -m bench.run --size trust --reuse --case schools-trust-admin --show-sql
    uv run python -m bench.run --size small --http        # through uvicorn on 127.0.0.1
    uv run python -m bench.run --size trust --reuse --only roster
    uv run python -m bench.run --list
    uv run python -m bench.run --size trust --reuse --only graphql --read-url URL  # a replica

For each case: check once that the API and the floor give the same rows, warm up, then time
the API call and the floor alternately, --repeat times each. Prints medians, p95s and the
API/SQL ratio, and the database round trips one API call makes (counted in-process on an
instrumented engine, outside the timed loop). Write cases reset the database, untimed, before
every call of either side. Results go to bench/results/<timestamp>.json.
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
import tracemalloc
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

from app.auth.tokens import TokenIssuer
from app.db.engine import create_engine
from app.main import create_app
from app.settings import Settings
from bench import generate as gen
from bench.cases import GROUPS  # importing it registers every case
from bench.core import CASES, Case, Context, load_subjects, sign_in

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
JWT_SECRET = "markbook-bench-signing-key-not-for-production-use-0123456789"
BASE_URL = "http://markbook.bench"


# --read-url: the replica the app reads reports and GraphQL from (None: the primary).
READ_URL: str | None = None


def _settings(url: str) -> Settings:
    return Settings(
        database_url=url,
        read_database_url=READ_URL,
        jwt_secret=JWT_SECRET,  # type: ignore[arg-type]
        jwt_secret_file=Path("/nonexistent/markbook-bench-unused"),
        access_token_ttl_seconds=86_400,  # long runs must not outlive their tokens
        auto_migrate=False,
        log_level="WARNING",
        retention_sweep_seconds=0,  # the bench database is not swept
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
    control and pool pings asyncpg sent outside them (BEGIN, COMMIT, a pool's pre-ping ';')."""

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
                    await reset(case, traced)
                    await case.api(traced)
                await reset(case, traced)  # on ctx.pg: not traced
                await _settle()
                tracer.take()
                response = await case.api(traced)
                await _settle()
                traces[case.key] = tracer.take()
                check_response(case, traced, response)
    finally:
        await engine.dispose()
        if app.state.read_engine is not None:
            await app.state.read_engine.dispose()
    return traces


async def floor_round_trips(case: Case, ctx: Context) -> int | None:
    if case.sql is None:
        return None
    seen: list[str] = []

    def logged(record: Any) -> None:
        seen.append(record.query)

    await reset(case, ctx)
    ctx.pg.add_query_logger(logged)
    try:
        await case.sql(ctx)
        await _settle()
    finally:
        ctx.pg.remove_query_logger(logged)
    return len(seen) + case.floor_unlogged


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


def check_response(case: Case, ctx: Context, response: httpx.Response) -> None:
    """Untimed, after every API call: the status, and the case's own check of the body."""
    if response.status_code != case.expect_status:
        raise RuntimeError(
            f"{case.key}: expected HTTP {case.expect_status}, got {response.status_code}: "
            f"{response.text[:300]}"
        )
    if case.check is not None:
        case.check(ctx, response)


async def reset(case: Case, ctx: Context) -> None:
    """Untimed, before every call of a write case: back to the state each call starts from,
    and a collected heap, so that each call pays for the garbage collections its own
    allocations cause and not for a full collection that the other side's made due (in-process,
    a full collection walks the app's ~150,000 long-lived objects: ~100 ms on this machine)."""
    if case.reset is not None:
        await case.reset(ctx)
        gc.collect()


def _first_difference(a: list[Any], b: list[Any]) -> str:
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"first difference at {index}: {x!r} vs {y!r}"
    return f"{len(a)} vs {len(b)} rows"


async def verify(case: Case, ctx: Context) -> int:
    """Both sides give the same rows (and, for a write case, leave the same rows behind);
    returns how many."""
    await reset(case, ctx)
    response = await case.api(ctx)
    check_response(case, ctx, response)
    api_rows = case.api_rows(ctx, response)
    written = await case.readback(ctx) if case.readback is not None else None
    if case.sql is not None:
        assert case.sql_rows is not None, f"{case.key}: sql without sql_rows"
        await reset(case, ctx)
        sql_rows = case.sql_rows(ctx, await case.sql(ctx))
        if api_rows != sql_rows:
            raise Mismatch(
                f"{case.key}: the API gave {len(api_rows)} rows {api_rows[:3]}..., the SQL floor "
                f"{len(sql_rows)} rows {sql_rows[:3]}...; " + _first_difference(api_rows, sql_rows)
            )
    if case.readback is not None:
        assert written is not None
        others = [("the SQL floor", case.sql)] if case.sql is not None else []
        for name, call in [*others, *case.extras.items()]:
            assert call is not None
            await reset(case, ctx)
            await call(ctx)
            theirs = await case.readback(ctx)
            if theirs != written:
                raise Mismatch(
                    f"{case.key}: the API and {name} left different rows behind: "
                    + _first_difference(written, theirs)
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
    repeat: int = 0
    warmup: int = 0
    trace: Trace | None = None
    floor_trips: int | None = None
    peak_memory_mb: float | None = None

    def ratio(self) -> float | None:
        if not self.sql:
            return None
        return statistics.median(self.api) / statistics.median(self.sql)

    def per_second(self, samples: Sequence[float]) -> float | None:
        """Rows per second at the median, for cases whose rows are a unit of work."""
        if self.case.unit is None or not samples:
            return None
        return self.rows / (statistics.median(samples) / 1000)

    def meets_target(self) -> bool | None:
        if self.case.target_ms is None:
            return None
        return statistics.median(self.api) <= self.case.target_ms

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
            "repeat": self.repeat,
            "warmup": self.warmup,
            "unit": self.case.unit,
            "rows_per_second": {
                "api": self.per_second(self.api),
                "sql": self.per_second(self.sql),
                **{name: self.per_second(s) for name, s in self.extras.items()},
            }
            if self.case.unit
            else None,
            "target_ms": self.case.target_ms,
            "meets_target": self.meets_target(),
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
            "api_peak_memory_mb": self.peak_memory_mb,
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
        await reset(case, ctx)
        check_response(case, ctx, await case.api(ctx))
        if case.sql is not None:
            await reset(case, ctx)
            await case.sql(ctx)
        for extra in case.extras.values():
            await reset(case, ctx)
            await extra(ctx)
    gc.collect()
    api: list[float] = []
    api_cpu: list[float] = []
    sql: list[float] = []
    extras: dict[str, list[float]] = {name: [] for name in case.extras}
    for _ in range(repeat):  # alternate, so drift hits both sides alike
        await reset(case, ctx)
        wall, cpu, response = await _timed(case.api, ctx)
        check_response(case, ctx, response)
        api.append(wall)
        api_cpu.append(cpu)
        if case.sql is not None:
            await reset(case, ctx)
            sql.append((await _timed(case.sql, ctx))[0])
        for name, extra in case.extras.items():
            await reset(case, ctx)
            extras[name].append((await _timed(extra, ctx))[0])
    return Outcome(case, rows, api, api_cpu, sql, extras, repeat=repeat, warmup=warmup)


async def peak_memory(case: Case, ctx: Context) -> float:
    """One API call, untimed, under tracemalloc: the peak of the Python memory allocated
    during it, in MiB (in-process: the app's and the client's, the response body included)."""
    await reset(case, ctx)
    gc.collect()
    tracemalloc.start()
    try:
        response = await case.api(ctx)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    check_response(case, ctx, response)
    return peak / 2**20


async def profile(
    case: Case, ctx: Context, *, repeat: int, profiler: str = "cprofile", top: int = 25
) -> str:
    """Profile ``repeat`` API calls (resets left out). cProfile lists functions by own time;
    pyinstrument (``uv run --with pyinstrument``, not a project dependency) samples the call
    tree, awaits included, so the time waiting on PostgreSQL shows where it is awaited."""
    if profiler == "pyinstrument":
        try:
            from pyinstrument import Profiler
        except ImportError as exc:
            raise SystemExit(
                "--profile pyinstrument: run with `uv run --with pyinstrument python -m bench.run`"
            ) from exc
        sampler = Profiler(interval=0.0005, async_mode="enabled")
        for _ in range(repeat):
            await reset(case, ctx)
            sampler.start()
            await case.api(ctx)
            sampler.stop()
        return _crop_tree(sampler.output_text(unicode=True, color=False, show_all=False))
    collector = cProfile.Profile()
    for _ in range(repeat):
        await reset(case, ctx)
        collector.enable()
        await case.api(ctx)
        collector.disable()
    out = io.StringIO()
    pstats.Stats(collector, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


_TREE = " │├└─"


def _crop_tree(text: str, at: str = "run_endpoint_function") -> str:
    """pyinstrument's tree from the endpoint down, dedented: the ~30 levels of client,
    middleware and routing above it would push the app's frames off the screen. Their own
    time is the difference between the total and the endpoint's line."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if at in line), None)
    if start is None:
        return text
    depth = len(lines[start]) - len(lines[start].lstrip(_TREE))
    tree = [lines[start][depth:]]
    for line in lines[start + 1 :]:
        if not line.strip() or len(line) - len(line.lstrip(_TREE)) <= depth:
            break
        tree.append(line[depth:])
    head = [line for line in lines[:start] if line.strip() and line.lstrip(_TREE)[:1].isdigit()]
    total = head[0].lstrip(_TREE).split()[0] if head else "?"
    header = [line for line in lines if "Duration:" in line or "Samples:" in line]
    return "\n".join(
        [*header, f"{total} s in all; from the endpoint down (seconds, all calls together):", *tree]
    )


# --- The app under test ------------------------------------------------------------------
@asynccontextmanager
async def in_process(url: str) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(url)
    app = create_app(_settings(url), engine=engine)
    try:
        # The app's lifespan runs as under uvicorn (its gc.freeze() among what it does).
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
                yield client
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(url: str) -> dict[str, str]:
    """The environment a Markbook server under test runs with: what _settings gives the
    in-process app, as MARKBOOK_* variables."""
    return {
        "MARKBOOK_DATABASE_URL": url,
        "MARKBOOK_JWT_SECRET": JWT_SECRET,
        "MARKBOOK_ACCESS_TOKEN_TTL_SECONDS": "86400",
        "MARKBOOK_AUTO_MIGRATE": "false",
        "MARKBOOK_LOG_LEVEL": "WARNING",
        "MARKBOOK_RETENTION_SWEEP_SECONDS": "0",
        **({"MARKBOOK_READ_DATABASE_URL": READ_URL} if READ_URL else {}),
    }


@asynccontextmanager
async def over_loopback(url: str) -> AsyncIterator[httpx.AsyncClient]:
    """One uvicorn worker in a child process on 127.0.0.1, configured by environment."""
    port = _free_port()
    env = {**os.environ, **server_env(url)}
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


def _rate(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}/s" if value >= 10 else f"{value:.2f}/s"  # pages: a few a second


def render(outcomes: Sequence[Outcome], *, http: bool = False) -> str:
    header = (
        f"{'case':<38} {'rows':>6} {'API med':>8} {'API p95':>8} {'API cpu':>8} {'SQL med':>8}"
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
            f"{o.case.title:<38} {o.rows:>6} {_ms(statistics.median(o.api)):>8}"
            f" {_ms(_p95(o.api)):>8} {_ms(statistics.median(o.api_cpu)):>8}"
            f" {_ms(statistics.median(o.sql) if o.sql else None):>8}"
            f" {_ms(_p95(o.sql) if o.sql else None):>8}"
            f" {'-' if ratio is None else f'{ratio:.1f}x':>8}  {trips:>13}"
        )
        api_median = statistics.median(o.api)
        if o.case.unit is not None:
            note = (
                f"{o.case.title}: {o.rows:,} {o.case.unit}; API {_rate(o.per_second(o.api))}"
                f", SQL floor {_rate(o.per_second(o.sql))}"
            )
            note += f" ({o.repeat} timed calls per side after {o.warmup} warm-up)"
            notes.append(note)
        if o.case.target_ms is not None:
            verdict = "meets it" if o.meets_target() else "MISSES it"
            notes.append(
                f"{o.case.title}: target <= {_ms(o.case.target_ms)} ms (reported, not asserted):"
                f" median {_ms(api_median)} ms {verdict}, p95 {_ms(_p95(o.api))} ms"
            )
        if o.peak_memory_mb is not None:
            notes.append(
                f"{o.case.title}: peak Python memory of one call (tracemalloc, untimed):"
                f" {o.peak_memory_mb:.1f} MiB"
            )
        for name, samples in o.extras.items():
            note = f"{o.case.title}: {name} alone: median {_ms(statistics.median(samples))} ms"
            if o.case.unit is not None:
                note += f" ({_rate(o.per_second(samples))})"
            floor_plus = o.floor_with_extras()
            if floor_plus:
                note += (
                    f"; floor incl. it {_ms(floor_plus)} ms, API/(SQL+{name}) = "
                    f"{api_median / floor_plus:.2f}x, API beyond it {_ms(api_median - floor_plus)}"
                    " ms"
                )
            else:
                note += f"; API/it = {api_median / statistics.median(samples):.1f}x"
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
        "any pool pre-ping), counted once on a separate instrumented in-process engine, untimed.",
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
DEFAULT_REPEAT = 50
DEFAULT_WARMUP = 10


@dataclass
class Options:
    size: gen.Size
    url: str
    cases: list[Case]
    repeat: int | None  # None: each case's own, else DEFAULT_REPEAT
    warmup: int | None
    http: bool
    trace: bool
    show_sql: bool
    profile: str | None  # "cprofile" or "pyinstrument"
    loop: str
    save: bool

    def plan(self, case: Case) -> tuple[int, int]:
        """(timed calls per side, warm-up calls per side) for ``case``."""
        repeat = self.repeat if self.repeat is not None else case.repeat or DEFAULT_REPEAT
        warmup = self.warmup if self.warmup is not None else case.warmup
        return repeat, DEFAULT_WARMUP if warmup is None else warmup


def _describe_plans(options: Options) -> str:
    plans: dict[tuple[int, int], list[str]] = {}
    for case in options.cases:
        plans.setdefault(options.plan(case), []).append(case.key)
    if len(plans) == 1:
        (repeat, warmup), _ = plans.popitem()
        return f"{repeat} timed calls per side after {warmup} warm-up"
    return "; ".join(
        f"{repeat} timed calls per side after {warmup} warm-up for {', '.join(keys)}"
        for (repeat, warmup), keys in plans.items()
    )


async def run(options: Options) -> dict[str, Any]:
    started = datetime.now(UTC)
    load_before = os.getloadavg()
    pg = await asyncpg.connect(gen.asyncpg_dsn(options.url))
    try:
        subjects = await load_subjects(pg)
        server_version = await pg.fetchval("SHOW server_version")
        counts = {
            table: await pg.fetchval(f'SELECT count(*) FROM "{table}"')
            for table in gen.counted_tables(options.size)
        }
        connect = over_loopback if options.http else in_process
        async with connect(options.url) as client:
            ctx = Context(client, pg, subjects, _issuer(_settings(options.url)))
            await sign_in(ctx)
            outcomes: list[Outcome] = []
            profiles: dict[str, str] = {}
            try:
                for case in options.cases:
                    if case.prepare is not None:
                        await case.prepare(ctx)
                    repeat, warmup = options.plan(case)
                    outcome = await measure(case, ctx, repeat=repeat, warmup=warmup)
                    outcome.floor_trips = await floor_round_trips(case, ctx)
                    if case.peak_memory and not options.http:
                        outcome.peak_memory_mb = await peak_memory(case, ctx)
                    outcomes.append(outcome)
                    print(f"  measured {case.key}", file=sys.stderr)
                if options.profile:
                    for case in options.cases:
                        profiles[case.key] = await profile(
                            case, ctx, repeat=options.plan(case)[0], profiler=options.profile
                        )
                if options.trace:
                    traces = await trace_cases(options.cases, ctx, options.url)
                    for outcome in outcomes:
                        outcome.trace = traces.get(outcome.case.key)
            finally:  # write cases put the database back as it was built
                for cleanup in dict.fromkeys(c.cleanup for c in options.cases if c.cleanup):
                    await cleanup(ctx)
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
        f"{mode}; {_describe_plans(options)}; "
        f"loop {options.loop}; PostgreSQL {server_version}; {os.cpu_count()} CPUs; "
        f"load average {load_before[0]:.2f} before, {load[0]:.2f} after"
    )
    print()
    print(render(outcomes, http=options.http))
    if options.show_sql:
        print()
        print(render_traces(outcomes))
    for key, text in profiles.items():
        repeat = options.plan(CASES[key])[0]
        print(f"\n--- {options.profile} profile of {repeat} API calls: {key} ---\n{text}")
    result = {
        "started_at": started.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "size": options.size.name,
        "size_description": options.size.description,
        "row_counts": counts,
        "mode": "http" if options.http else "asgi",
        "repeat": options.repeat,  # null: each case's own (see cases[].repeat)
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


def _select(keys: Sequence[str] | None, groups: Sequence[str] | None = None) -> list[Case]:
    if not keys and not groups:
        return list(CASES.values())
    wanted_groups = [g for group in groups or () for g in group.split(",") if g]
    unknown = [g for g in wanted_groups if g not in GROUPS]
    if unknown:
        raise SystemExit(f"unknown group(s) {', '.join(unknown)}; one of {', '.join(GROUPS)}")
    wanted = [k for group in wanted_groups for k in GROUPS[group]]
    wanted += [k for key in keys or () for k in key.split(",") if k]
    unknown = [k for k in wanted if k not in CASES]
    if unknown:
        raise SystemExit(f"unknown case(s) {', '.join(unknown)}; see --list")
    return [CASES[k] for k in dict.fromkeys(wanted)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--size", choices=sorted(gen.SIZES), default="small")
    parser.add_argument(
        "--repeat",
        type=int,
        help=f"timed calls per side (default {DEFAULT_REPEAT}; fewer for heavy cases)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        help=f"untimed calls per side first (default {DEFAULT_WARMUP}; fewer for heavy cases)",
    )
    parser.add_argument("--case", action="append", help="case key(s) to run; default all")
    parser.add_argument(
        "--only", action="append", help=f"case group(s) to run: {', '.join(GROUPS)}"
    )
    parser.add_argument("--reuse", action="store_true", help="keep a database built alike")
    parser.add_argument("--seed", type=int, default=gen.DEFAULT_SEED)
    parser.add_argument("--server-url", default=gen.DEFAULT_SERVER_URL)
    parser.add_argument("--http", action="store_true", help="through uvicorn on 127.0.0.1")
    parser.add_argument("--no-trace", action="store_true", help="skip counting round trips")
    parser.add_argument("--show-sql", action="store_true", help="print each call's statements")
    parser.add_argument(
        "--profile",
        nargs="?",
        const="cprofile",
        choices=("cprofile", "pyinstrument"),
        help="profile the API calls too (pyinstrument: uv run --with pyinstrument ...)",
    )
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    parser.add_argument("--list", action="store_true", help="list the cases and stop")
    parser.add_argument(
        "--read-url",
        help="the app reads reports and GraphQL from this replica of the bench database "
        "(MARKBOOK_READ_DATABASE_URL; bench/replica.sh starts one); SQL floors stay on the "
        "primary, and round trips count the primary's statements only",
    )
    args = parser.parse_args(argv)
    if args.read_url:
        global READ_URL
        READ_URL = args.read_url
        print(f"reports and GraphQL read from {args.read_url}")
    if args.list:
        for group, keys in GROUPS.items():
            for key in keys:
                case = CASES[key]
                print(f"{case.key:<24} [{group}] {case.title}\n{'':<24} floor: {case.floor}")
                if case.target_ms is not None:
                    print(f"{'':<24} target: <= {case.target_ms:,.0f} ms (reported, not asserted)")
        return 0
    if args.repeat is not None and not 1 <= args.repeat <= 100_000:
        parser.error("--repeat must be 1..100000")
    if args.warmup is not None and not 0 <= args.warmup <= 10_000:
        parser.error("--warmup must be 0..10000")
    size = gen.SIZES[args.size]
    cases = _select(args.case, args.only)
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
