"""Development: an IP address opens the national portal, linking to the provinces; unknown portals list them.

The suite runs with ENV=test, which behaves as development here (only ENV=production refuses IP hosts;
tests/tenancy/test_production_hosts.py checks that).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.accounts.routes_html import AUTH_COOKIE
from app.core.web import LANG_COOKIE
from app.tenancy.service import addresses_seen_from, slug_from_host
from tests import factories
from tests.factories import Browser
from tests.test_vietnamese_ui import untranslated

LINK = re.compile(r'<a href="(http://[^"]+)">([^<]+)</a>')


def on_host(app: Any, host: str) -> Browser:
    """A browser that opens the server by `host` (an IP address, or a name the test makes up)."""
    browser = Browser(app, "national")
    browser.base_url = f"http://{host}"  # type: ignore[assignment]
    return browser


def banner_links(html: str) -> dict[str, str]:
    aside = re.search(r'<aside class="alert alert-info"[^>]*>(.*?)</aside>', html, re.S)
    return {name: url for url, name in LINK.findall(aside.group(1))} if aside else {}


@pytest.mark.parametrize(
    ("host", "slug"),
    [
        ("127.0.0.1:8000", "national"),
        ("[::1]:8000", "national"),
        ("192.168.1.5:8000", "national"),
        ("10.0.0.7", "national"),
        ("haiphong.192-168-1-5.sslip.io:8000", "haiphong"),
        ("192-168-1-5.sslip.io:8000", "national"),
        ("www.192-168-1-5.sslip.io", "national"),
        ("haiphong.--1.sslip.io", "haiphong"),  # ::1
        ("a.b.192-168-1-5.sslip.io", None),
        ("haiphong.sslip.io", None),
        ("haiphong.192-168-1-500.sslip.io", None),
        ("haiphong.localhost:8000", "haiphong"),
        ("localhost:8000", "national"),
        ("nowhere.example.vn", None),
        ("[::1", None),
        ("", None),
    ],
)
def test_development_resolves_ip_hosts_and_lan_names(host: str, slug: str | None) -> None:
    assert slug_from_host(host, "localhost", development=True, lan_dns="sslip.io") == slug


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8000", "[::1]:8000", "192.168.1.5", "haiphong.192-168-1-5.sslip.io"]
)
def test_without_development_an_ip_or_lan_name_is_no_portal(host: str) -> None:
    assert slug_from_host(host, "localhost") is None


def test_addresses_follow_what_the_browser_can_resolve(settings: Any) -> None:
    # On the computer itself: *.localhost, on the port the browser used.
    assert (
        addresses_seen_from("127.0.0.1:8123", "http", settings).url("haiphong")
        == "http://haiphong.localhost:8123"
    )
    assert addresses_seen_from("[::1]:8000", "http", settings).url("national") == "http://localhost:8000"
    # From a phone on the Wi-Fi: names that the public wildcard DNS answers with the same LAN address.
    phone = addresses_seen_from("192.168.1.5:8000", "http", settings)
    assert phone.url("quangninh") == "http://quangninh.192-168-1-5.sslip.io:8000"
    assert phone.url("national") == "http://192-168-1-5.sslip.io:8000"
    assert phone.lan == "sslip.io"
    assert addresses_seen_from("haiphong.192-168-1-5.sslip.io", "http", settings).url("national") == (
        "http://192-168-1-5.sslip.io"
    )
    off = settings.model_copy(update={"lan_wildcard_dns": ""})
    assert (
        addresses_seen_from("192.168.1.5:8000", "http", off).url("haiphong")
        == "http://haiphong.localhost:8000"
    )


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "[::1]:8000"])
def test_loopback_address_serves_the_national_portal_with_links_to_the_provinces(
    world: factories.World, app: Any, host: str
) -> None:
    r = on_host(app, host).get("/")
    assert r.status_code == 200
    assert "<h1>Cổng quốc gia</h1>" in r.text
    assert banner_links(r.text) == {
        "Hải Phòng": "http://haiphong.localhost:8000",
        "Quảng Ninh": "http://quangninh.localhost:8000",
    }
    assert "sslip.io" not in r.text  # the computer itself resolves *.localhost
    # Every page of the portal carries it, and the links open the provinces.
    assert banner_links(on_host(app, host).get("/courses").text)
    province = on_host(app, "haiphong.localhost:8000").get("/")
    assert "<h1>Hải Phòng</h1>" in province.text and not banner_links(province.text)


def test_lan_address_links_to_names_a_phone_can_open(world: factories.World, app: Any, db: Any) -> None:
    world.quangninh.is_active = False  # an inactive portal is not offered
    db.add(world.quangninh)
    db.commit()
    r = on_host(app, "192.168.1.5:8000").get("/")
    assert r.status_code == 200 and "<h1>Cổng quốc gia</h1>" in r.text
    links = banner_links(r.text)
    assert links == {"Hải Phòng": "http://haiphong.192-168-1-5.sslip.io:8000"}
    assert "sslip.io" in r.text.split("</aside>")[0].split("<aside")[1]  # says the names need the Internet
    # The phone follows the link: the same server answers as Hải Phòng.
    province = on_host(app, "haiphong.192-168-1-5.sslip.io:8000").get("/")
    assert province.status_code == 200 and "<h1>Hải Phòng</h1>" in province.text


def test_no_banner_on_the_national_portal_by_name(world: factories.World, make_client: Any) -> None:
    r = make_client("national").get("/")
    assert r.status_code == 200 and not banner_links(r.text)


def test_a_sign_in_on_an_ip_address_belongs_to_the_national_portal(world: factories.World, app: Any) -> None:
    national = on_host(app, "127.0.0.1:8000")
    assert national.login_page("admin").status_code == 303
    token = national.cookies.get(AUTH_COOKIE)
    assert token
    assert national.get("/account").status_code == 200  # signed in, on the national portal
    # The same cookie presented to a province is refused, page and API alike.
    province = on_host(app, "haiphong.localhost:8000")
    province.cookies.set(AUTH_COOKIE, token, domain="haiphong.localhost")
    assert province.get("/account").status_code == 303  # to the sign-in page
    api = province.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401 and api.json()["code"] == "wrong_tenant"
    # And a province's sign-in is refused on the IP address (it is the national portal there).
    learner = on_host(app, "haiphong.localhost:8000")
    learner.login_page("learner")
    other = learner.cookies.get(AUTH_COOKIE)
    assert other
    api = on_host(app, "127.0.0.1:8000").get("/api/v1/me", headers={"Authorization": f"Bearer {other}"})
    assert api.status_code == 401 and api.json()["code"] == "wrong_tenant"


def test_unknown_portal_lists_the_portals_in_development(world: factories.World, app: Any) -> None:
    r = on_host(app, "nowhere.localhost:8000").get("/")
    assert r.status_code == 404
    assert "Không có cổng nào ở địa chỉ này." in r.text
    assert dict((name, url) for url, name in LINK.findall(r.text)) == {
        "Cổng quốc gia": "http://localhost:8000",
        "Hải Phòng": "http://haiphong.localhost:8000",
        "Quảng Ninh": "http://quangninh.localhost:8000",
    }
    # Reached through the LAN name service, the links stay there.
    r = on_host(app, "nowhere.192-168-1-5.sslip.io:8000").get("/")
    assert r.status_code == 404
    assert "http://haiphong.192-168-1-5.sslip.io:8000" in r.text
    # The API answers a problem, without the page's links.
    api = on_host(app, "nowhere.localhost:8000").get("/api/v1/courses")
    assert api.status_code == 404 and api.json()["code"] == "unknown_tenant"


@pytest.mark.parametrize("host", ["nowhere.localhost:8000", "192.168.1.5:8000"])
def test_the_new_texts_are_vietnamese(world: factories.World, app: Any, host: str) -> None:
    pages = {}
    for lang in ("vi", "en"):
        browser = on_host(app, host)
        browser.cookies.set(LANG_COOKIE, lang)
        pages[lang] = browser.get("/").text
    assert untranslated(pages["vi"], pages["en"]) == []
    assert pages["vi"] != pages["en"]
