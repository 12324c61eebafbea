"""Production: an IP address is no portal (404, as before); the unknown-portal page names no portal but the
national one, at its canonical address."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from app.core.settings import Settings
from app.main import create_app
from tests import factories
from tests.tenancy.test_ip_hosts import on_host

HREF = re.compile(r'href="(https?://[^"]+)"')


@pytest.fixture(scope="module")
def app_instance(settings: Settings, engine: Engine) -> Iterator[Any]:
    """Replaces conftest's app for this module: the same database, ENV=production."""
    production = create_app(settings.model_copy(update={"env": "production"}))
    assert production.state.settings.is_production
    yield production
    production.state.engine.dispose()


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:8000", "[::1]:8000", "192.168.1.5", "203.0.113.9:443"]
)
def test_an_ip_address_is_no_portal(world: factories.World, app: Any, host: str) -> None:
    page = on_host(app, host).get("/")
    assert page.status_code == 404
    assert "Cổng quốc gia" not in page.text and "Hải Phòng" not in page.text
    api = on_host(app, host).get("/api/v1/courses")
    assert api.status_code == 404 and api.json()["code"] == "unknown_tenant"
    # A token of the national portal opens nothing there either.
    national = factories.Browser(app, "national")
    token = national.post("/api/v1/auth/token", data={"username": "admin", "password": factories.PASSWORD})
    assert token.status_code == 200
    me = on_host(app, host).get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"}
    )
    assert me.status_code == 404


@pytest.mark.parametrize("host", ["haiphong.192-168-1-5.sslip.io", "192-168-1-5.sslip.io"])
def test_the_lan_names_of_development_are_no_portal(world: factories.World, app: Any, host: str) -> None:
    assert on_host(app, host).get("/").status_code == 404


@pytest.mark.parametrize("host", ["nowhere.localhost", "127.0.0.1:8000", "nowhere.localhost:8443"])
def test_unknown_portal_links_to_the_national_portal_only(
    world: factories.World, app: Any, host: str
) -> None:
    r = on_host(app, host).get("/")
    assert r.status_code == 404
    assert "Không có cổng nào ở địa chỉ này." in r.text
    assert HREF.findall(r.text) == ["https://localhost"]  # the canonical address: https, the standard port
    assert "Đến cổng quốc gia" in r.text
    assert "Hải Phòng" not in r.text and "Quảng Ninh" not in r.text  # no list of portals to a stranger


def test_names_still_resolve(world: factories.World, make_client: Any) -> None:
    assert make_client("haiphong").get("/").status_code == 200
    r = make_client("national").get("/")
    assert r.status_code == 200 and "alert-info" not in r.text
