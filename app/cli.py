"""The `markbook` command: serve, demo ids, migrate, openapi, create-admin."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path

from app.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_PATH = ROOT / "openapi" / "openapi.json"
GRAPHQL_SDL_PATH = ROOT / "openapi" / "schema.graphql"


def _migrate(revision: str = "head") -> None:
    from app.db.migrate import upgrade

    upgrade(get_settings().database_url, revision)


async def _seed_demo() -> dict[str, str]:
    """Seed the demo trust (adding only what is missing) and answer the ids the tours use."""
    from app.db.engine import create_engine, session_factory
    from app.services.demo import demo_ids, seed_demo

    engine = create_engine(get_settings().database_url)
    try:
        async with session_factory(engine)() as session:
            await seed_demo(session)
            await session.commit()
            return await demo_ids(session)
    finally:
        await engine.dispose()


async def _demo_ids() -> dict[str, str]:
    from app.db.engine import create_engine, session_factory
    from app.services.demo import demo_ids

    engine = create_engine(get_settings().database_url)
    try:
        async with session_factory(engine)() as session:
            return await demo_ids(session)
    finally:
        await engine.dispose()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    settings.signing_key()  # made once here, so that several workers share one generated key
    if settings.auto_migrate and not args.no_migrate:
        _migrate()
    if args.demo:
        from app.services.demo import sign_in_help

        ids = asyncio.run(_seed_demo())
        print(sign_in_help(f"http://{args.host}:{args.port}", ids), flush=True)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
        log_level=settings.log_level.lower(),
    )
    return 0


def cmd_demo_ids(args: argparse.Namespace) -> int:
    from app.services.demo import shell_ids

    ids = asyncio.run(_demo_ids())
    if not ids:
        print("no demo trust here: run `markbook serve --demo` first", file=sys.stderr)
        return 1
    print(shell_ids(ids), end="")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _migrate(args.revision)
    return 0


def openapi_document() -> str:
    from app.main import create_app

    return json.dumps(create_app().openapi(), indent=2, sort_keys=True) + "\n"


def graphql_sdl() -> str:
    from app.api.graphql.schema import sdl

    return sdl()


def cmd_openapi(args: argparse.Namespace) -> int:
    documents = {Path(args.output): openapi_document(), Path(args.sdl_output): graphql_sdl()}
    if args.check:
        stale = [p for p, text in documents.items() if not p.exists() or p.read_text() != text]
        for output in stale:
            print(f"{output} is out of date: run `markbook openapi`", file=sys.stderr)
        return 1 if stale else 0
    for output, text in documents.items():
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text)
        print(f"wrote {output}")
    return 0


async def _create_admin(email: str, name: str, password: str) -> str:
    from app.db.engine import create_engine, session_factory
    from app.services.people import create_system_admin

    engine = create_engine(get_settings().database_url)
    try:
        async with session_factory(engine)() as session:
            user = await create_system_admin(
                session, email=email, display_name=name, password=password
            )
            await session.commit()
            return str(user.id)
    finally:
        await engine.dispose()


def cmd_create_admin(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from app.errors import AppError

    password = os.environ.get("MARKBOOK_ADMIN_PASSWORD") or getpass.getpass("Password: ")
    try:
        user_id = asyncio.run(_create_admin(args.email, args.name, password))
    except (AppError, ValidationError) as exc:
        print(f"create-admin: {exc}", file=sys.stderr)
        return 2
    print(f"system administrator {args.email} ready (id {user_id})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="markbook", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="migrate the database and run the API server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="seed the demo trust and print sign-ins")
    serve.add_argument(
        "--no-migrate", action="store_true", help="do not upgrade the database first"
    )
    serve.set_defaults(handler=cmd_serve)

    demo = commands.add_parser("demo", help="about the demo trust")
    demo_commands = demo.add_subparsers(dest="demo_command", required=True)
    ids = demo_commands.add_parser(
        "ids", help='print the ids the README tours use, as shell assignments: eval "$(...)"'
    )
    ids.set_defaults(handler=cmd_demo_ids)

    migrate = commands.add_parser("migrate", help="upgrade the database schema")
    migrate.add_argument("--revision", default="head")
    migrate.set_defaults(handler=cmd_migrate)

    openapi = commands.add_parser(
        "openapi", help="write openapi/openapi.json and the GraphQL SDL, openapi/schema.graphql"
    )
    openapi.add_argument("--output", default=str(OPENAPI_PATH))
    openapi.add_argument("--sdl-output", default=str(GRAPHQL_SDL_PATH))
    openapi.add_argument("--check", action="store_true", help="fail if the file is out of date")
    openapi.set_defaults(handler=cmd_openapi)

    admin = commands.add_parser(
        "create-admin",
        help="create (or promote) a system administrator; password from "
        "MARKBOOK_ADMIN_PASSWORD or a prompt",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Administrator")
    admin.set_defaults(handler=cmd_create_admin)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
