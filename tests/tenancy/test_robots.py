"""What search engines get: each portal's robots.txt as plain text, and a description of the portal."""

from __future__ import annotations


def test_robots_txt_is_plain_text_on_every_portal(world, make_client) -> None:
    for slug in ("haiphong", "national"):
        r = make_client(slug).get("/robots.txt")
        assert r.status_code == 200 and r.headers["content-type"] == "text/plain; charset=utf-8"
        lines = r.text.splitlines()
        assert lines[0] == "User-agent: *" and "<" not in r.text
        # Signed-in pages, the API and the verification pages (they name learners) stay out of search engines.
        for path in ("/admin", "/api/", "/verify", "/learning", "/attempts/"):
            assert f"Disallow: {path}" in lines
        assert "Disallow: /" not in lines and "Disallow: /courses" not in lines
    assert make_client("khongco").get("/robots.txt").status_code == 404


def test_each_portal_describes_itself(world, make_client) -> None:
    haiphong = make_client("haiphong").get("/").text
    quangninh = make_client("quangninh").get("/").text
    assert '<meta name="description" content="Hải Phòng: ' in haiphong
    assert '<meta name="description" content="Quảng Ninh: ' in quangninh
