"""The tenant comes from the Host header; unknown or inactive subdomains are 404, never another tenant."""

from __future__ import annotations

import pytest

from app.tenancy.service import slug_from_host


@pytest.mark.parametrize(
    ("host", "slug"),
    [
        ("haiphong.localhost:8000", "haiphong"),
        ("HAIPHONG.localhost", "haiphong"),
        ("localhost:8000", "national"),
        ("www.localhost", "national"),
        ("a.b.localhost", None),
        ("national.localhost", None),
        ("haiphong.example.vn", None),
        ("127.0.0.1:8000", None),
        ("[::1]:8000", None),
        ("", None),
    ],
)
def test_slug_from_host(host: str, slug: str | None) -> None:
    assert slug_from_host(host, "localhost") == slug


def test_province_home_is_branded(world, make_client) -> None:
    r = make_client("haiphong").get("/")
    assert r.status_code == 200
    assert "Hải Phòng" in r.text
    assert "Quảng Ninh" not in r.text
    r = make_client("quangninh").get("/")
    assert "Quảng Ninh" in r.text


def test_national_portal_on_bare_domain(world, make_client) -> None:
    r = make_client("national").get("/")
    assert r.status_code == 200
    assert "Cổng quốc gia" in r.text


def test_unknown_subdomain_is_404_page(world, app) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url="http://nowhere.localhost")
    r = client.get("/")
    assert r.status_code == 404
    assert "text/html" in r.headers["content-type"]
    r = client.get("/api/v1/me")
    assert r.status_code == 404
    assert r.json()["detail"]


def test_inactive_tenant_is_404(world, db, make_client) -> None:
    world.quangninh.is_active = False
    db.add(world.quangninh)
    db.commit()
    assert make_client("quangninh").get("/").status_code == 404
    assert make_client("haiphong").get("/").status_code == 200


def test_tenant_colour_served_as_stylesheet(world, make_client) -> None:
    r = make_client("haiphong").get("/brand.css")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/css")
    assert world.haiphong.colour in r.text
