"""Operations: health checks, security headers, settings, catalogs."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po
from pydantic import ValidationError

from app.core.i18n import LOCALE_DIR
from app.core.settings import Settings


def test_health_and_readiness(app) -> None:
    from fastapi.testclient import TestClient

    c = TestClient(app)
    assert c.get("/healthz").json() == {"status": "ok"}
    assert c.get("/readyz").json() == {"status": "ok"}


def test_security_headers(world, client) -> None:
    r = client.get("/login")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"


def test_pages_carry_no_inline_script(world, client) -> None:
    import re

    page = client.get("/login").text
    for tag in re.findall(r"<script[^>]*>", page):
        assert "src=" in tag


def test_production_refuses_default_secret() -> None:
    with pytest.raises(ValidationError):
        Settings(env="production", _env_file=None)  # type: ignore[call-arg]
    ok = Settings(env="production", secret_key="x" * 40, _env_file=None)  # type: ignore[call-arg]
    assert ok.secure_cookies


@pytest.mark.parametrize("env", ["Production", "PRODUCTION", " production "])
def test_env_is_read_without_regard_to_case_and_still_refuses_the_development_secret(env: str) -> None:
    """Found in review: `ENV=Production` accepted the public development key (tokens forged with it worked)
    while cookies turned Secure."""
    with pytest.raises(ValidationError):
        Settings(env=env, _env_file=None)  # type: ignore[call-arg]
    assert Settings(env=env, secret_key="x" * 40, _env_file=None).is_production  # type: ignore[call-arg]


@pytest.mark.parametrize("env", ["prod", "staging", "dev", "", "productio"])
def test_an_unknown_env_is_refused_whatever_the_secret(env: str) -> None:
    with pytest.raises(ValidationError, match="ENV must be one of"):
        Settings(env=env, secret_key="x" * 40, _env_file=None)  # type: ignore[call-arg]


def test_the_development_secret_is_accepted_only_in_development_and_test() -> None:
    for env in ("development", "test"):
        assert not Settings(env=env, _env_file=None).is_production  # type: ignore[call-arg]


def test_static_files_have_hashed_names_and_long_cache(world, client) -> None:
    page = client.get("/login").text
    import re

    css = re.search(r'href="(/static/css/app\.[0-9a-f]{10}\.css)"', page)
    assert css, "stylesheet link is not content-hashed"
    r = client.get(css.group(1))
    assert r.status_code == 200
    assert "immutable" in r.headers["cache-control"]


def ui_message_ids() -> set[str]:
    """Every message id in the code and templates, extracted the way `make messages` does."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir

    root = LOCALE_DIR.parents[1]
    method_map = [("app/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {**DEFAULT_KEYWORDS, "N_": None, "_": None}
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(root), method_map, keywords=keywords
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return {m for m in ids if m}


def test_every_ui_string_has_a_vietnamese_translation() -> None:
    """Run `make messages` after adding strings, then translate them in the vi catalog."""
    wanted = ui_message_ids()
    assert len(wanted) > 50
    with (LOCALE_DIR / "vi" / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        catalog = read_po(fh)
    translated = {
        (m.id if isinstance(m.id, str) else m.id[0])
        for m in catalog
        if m.id and (m.string if isinstance(m.string, str) else all(m.string)) and not m.fuzzy
    }
    missing = sorted(wanted - translated)
    assert not missing, f"untranslated strings (run `make messages`, then translate): {missing}"
