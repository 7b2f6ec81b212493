"""/docs and /redoc load everything from the service itself (the browser tests in tests/browser
show them working in Chromium); here, quickly, that every file the pages name is served."""

from __future__ import annotations

import re

import pytest

from app.api import docs


@pytest.mark.parametrize("path", [docs.DOCS_PATH, docs.REDOC_PATH])
async def test_the_docs_pages_load_only_the_service_s_own_files(client, path):
    page = await client.get(path)
    assert page.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert urls and all(url.startswith(docs.ASSETS_PATH + "/") for url in urls), urls
    assert "//" not in "".join(urls)  # no other host, not even protocol-relative
    assert "fonts.googleapis" not in page.text and "cdn." not in page.text
    for url in urls:
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert (
            asset.content
            == (docs.ASSETS_DIR / url.removeprefix(docs.ASSETS_PATH + "/")).read_bytes()
        )
    assert "/openapi.json" in page.text


async def test_the_docs_pages_name_their_files_under_the_proxy_s_prefix(app):
    import httpx

    transport = httpx.ASGITransport(app=app, root_path="/markbook")
    async with httpx.AsyncClient(transport=transport, base_url="http://markbook.test") as http:
        page = await http.get("/docs")
    assert page.status_code == 200
    assert 'href="/markbook/static/docs/swagger/swagger-ui.css"' in page.text
    assert "'/markbook/openapi.json'" in page.text
    assert "'/markbook/docs/oauth2-redirect'" in page.text


async def test_the_oauth2_redirect_page_is_served(client):
    page = await client.get(docs.OAUTH2_REDIRECT_PATH)
    assert page.status_code == 200
    assert "oauth2" in page.text.lower()


def test_the_shipped_docs_files_carry_their_licences():
    assert "Apache License" in (docs.ASSETS_DIR / "swagger" / "LICENSE").read_text()
    assert "MIT" in (docs.ASSETS_DIR / "redoc" / "redoc.standalone.js.LICENSE.txt").read_text()
    # The package's ReDoc build loads its logo from the service, not from Redocly's CDN.
    assert "cdn.redoc.ly" not in (docs.ASSETS_DIR / "redoc" / "redoc.standalone.js").read_text()
