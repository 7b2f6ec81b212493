"""The GraphQL explorer: GraphiQL, from the service's own static files (app/static/graphiql),
so it works without internet access. The page runs nothing by itself; the caller pastes their
bearer token into GraphiQL's header editor."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.api.deps import GRAPHQL_PATH

STATIC_DIR = Path(__file__).parents[2] / "static"
STATIC_PATH = "/static"
ASSETS = f"{STATIC_PATH}/graphiql"

# Everything the page loads comes from this service: scripts, styles, the queries it sends.
# GraphiQL sets styles inline and carries its fonts and icons as data: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Markbook GraphQL explorer</title>
    <link rel="stylesheet" href="{assets}/graphiql.min.css">
    <style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
  </head>
  <body>
    <div id="graphiql" data-endpoint="{endpoint}">Loading the explorer&hellip;</div>
    <noscript>The explorer needs JavaScript. Without it, POST queries to {endpoint}.</noscript>
    <script src="{assets}/react.production.min.js"></script>
    <script src="{assets}/react-dom.production.min.js"></script>
    <script src="{assets}/graphiql.min.js"></script>
    <script src="{assets}/explorer.js"></script>
  </body>
</html>
"""


def wants_page(request: Request) -> bool:
    """A browser opening /graphql asks for HTML by name (``*/*`` alone, as curl sends, is not
    taken as asking for a page)."""
    return "text/html" in request.headers.get("accept", "").lower()


def page(request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "").rstrip("/")
    html = _PAGE.format(assets=escape(root + ASSETS), endpoint=escape(root + GRAPHQL_PATH))
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache",
        },
    )
