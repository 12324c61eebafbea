"""No input gives a 500 (issue 14): every route of the app, HTML forms and API alike, given hostile values.

The routes come from the app itself (`iter_route_contexts`): each route's path, query, form, file and JSON
body parameters as FastAPI declares them (the same model /openapi.json is made from), so a new route or field
is driven without anyone listing it. Values: non-ASCII digits, control characters, NUL, bidi overrides,
100,000-character strings, huge and negative numbers, wrong types, deep nesting, hostile files; path ids are
hostile or the ids of real objects, so requests reach the services. Each route first meets every theme
(one hostile value in all its fields at once), then a few values hypothesis draws. Every answer must be a
success, a redirect, or a 4xx with the API's problem+json or the HTML error page, on SQLite and on PostgreSQL
alike.

Bounded and reproducible: a fixed number of examples per route, derandomized, no example database.
Signed in as Quảng Ninh's administrator on Quảng Ninh's portal (the objects of test_security_sweep are theirs
there); the session is renewed before each route without the sign-in form (no password hash per route).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from fastapi import UploadFile
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.security import create_access_token, csrf_token_for
from app.core.web import AUTH_COOKIE, CSRF_FIELD
from app.imports.models import ImportJob
from app.tenancy.scoping import cross_tenant
from tests import factories
from tests.test_security_sweep import _other_tenant_objects

EXAMPLES = 2  # generated per route and method, after the themed ones below
# Every field of a request at once (query, form, JSON body), the path holding real ids: each route meets each.
THEMES = ["²" * 19, "\x00", "Nguyễn\x07 Văn\u202e An", "x" * 100_000, "-1", str(2**63)]
# The path's own parameters given these (the rest empty).
PATH_THEMES = ["²" * 19, str(2**63)]
HOST = "quangninh.localhost"

HOSTILE_TEXT = [
    "²" * 19,
    "١٢٣",
    "\x00",
    "a\x00b",
    "Nguyễn\x07 Văn\u202e An",
    "\u2066\ufeff\u200b",
    "x" * 100_000,
    "-1",
    "0",
    "9" * 30,
    str(2**63),
    "1e309",
    "NaN",
    "",
    " ",
    "../../etc/passwd",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%",
    "_",
    "{n}",
    "{0}",
    "%s",
    '=HYPERLINK("http://x")',
    "true",
    "null",
    "2026-02-30",
    "9999-12-31",
    "direct:abc",
]
text = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))
# In an address a value stays under what a client or server takes in a request line (HTTP servers refuse
# longer lines before the app sees them).
url_text = st.one_of(
    st.sampled_from([v for v in HOSTILE_TEXT if len(v) < 1000] + ["y" * 8000]), st.text(max_size=40)
)
numbers = st.sampled_from([0, -1, 1, 2**31, 2**63, 2**64, 10**30, -(10**30), 1e308, -1e308, 0.5])


class RawJSON(str):
    """A body sent as it is (JSON too deep to build as Python objects)."""


DEEP = RawJSON('{"a": ' + '[{"a": ' * 5000 + "1" + "}]" * 5000 + "}")
json_scalars = st.one_of(text, numbers, st.booleans(), st.none(), st.just("\ud800"))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
).map(lambda v: v) | st.just(["x"] * 20_000)
HOSTILE_FILES = [
    b"",
    b"PK\x03\x04 not a workbook",
    b"\xff\xfe\x00\x00",
    "Họ và tên,Tên đăng nhập,Mã,Tên,Loại\n=1+1,a\x00b,X\x07,\u202eY,commune\n".encode(),
    ("Mã,Tên,Loại\n" + "\n" * 10 + "A," + "x" * 5000 + ",commune\n").encode(),
    b"::q1:: Q {=a " + b" ".join(b"~o%d" % i for i in range(30)) + b"}\n",
    b"\x00" * 1000,
]
files = st.sampled_from(HOSTILE_FILES)
# Form fields the pages read from `request.form()` themselves (quiz answers, the question editor).
EXTRA_FORM_FIELDS = ["action", "id", "kind", "text", "points", "option-1", "correct-1", "answer", "answers"]


def _annotation_is_file(annotation: Any) -> bool:
    return annotation is UploadFile or UploadFile in getattr(annotation, "__args__", ())


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"{([^}:]+)(?::[^}]*)?}", lambda m: quote(values[m.group(1)], safe=""), path)


def _request_strategy(route: Any, ids: dict[str, str]) -> st.SearchStrategy[dict[str, Any]]:
    dependant = route.dependant
    path_names = [p.name for p in dependant.path_params]
    path = st.fixed_dictionaries(
        {
            name: st.one_of(st.sampled_from([ids[name]] if name in ids else ["1"]), url_text)
            for name in path_names
        }
    )
    query = st.fixed_dictionaries({p.alias: url_text for p in dependant.query_params})
    form_fields = [p for p in dependant.body_params if not _annotation_is_file(p.field_info.annotation)]
    file_fields = [p for p in dependant.body_params if _annotation_is_file(p.field_info.annotation)]
    api = route.path.startswith("/api/")
    if api and dependant.body_params and not _is_form(dependant):
        body = dependant.body_params[0]
        model = body.field_info.annotation
        fields = getattr(model, "model_fields", {})
        payload = st.one_of(
            st.fixed_dictionaries({name: json_values for name in fields}), json_values, st.just(DEEP)
        )
        return st.fixed_dictionaries({"path": path, "query": query, "json": payload})
    names = [p.alias for p in form_fields] + ([] if api else EXTRA_FORM_FIELDS)
    return st.fixed_dictionaries(
        {
            "path": path,
            "query": query,
            "form": st.fixed_dictionaries({name: text for name in names}),
            "files": st.fixed_dictionaries({p.alias: files for p in file_fields}),
        }
    )


def _themed_cases(route: Any, ids: dict[str, str]) -> list[dict[str, Any]]:
    """Concrete requests every route gets, whatever hypothesis draws: one theme in every field."""
    dependant = route.dependant
    real_path = {p.name: ids.get(p.name, "1") for p in dependant.path_params}
    cases = []
    for theme in THEMES:
        in_url = theme if len(theme) < 1000 else "y" * 8000
        case: dict[str, Any] = {"path": real_path, "query": {p.alias: in_url for p in dependant.query_params}}
        api = route.path.startswith("/api/")
        file_fields = [p for p in dependant.body_params if _annotation_is_file(p.field_info.annotation)]
        form_fields = [p.alias for p in dependant.body_params if p not in file_fields]
        if api and dependant.body_params and not _is_form(dependant):
            fields = getattr(dependant.body_params[0].field_info.annotation, "model_fields", {})
            case["json"] = {name: theme for name in fields}
        else:
            names = form_fields + ([] if api else EXTRA_FORM_FIELDS)
            case["form"] = {name: theme for name in names}
            case["files"] = {p.alias: theme.encode("utf-8", "surrogatepass") for p in file_fields}
        cases.append(case)
    if dependant.path_params:
        for theme in PATH_THEMES:
            empty = {"form": {}, "files": {}} if "json" not in cases[0] else {"json": {}}
            cases.append({"path": {p.name: theme for p in dependant.path_params}, "query": {}, **empty})
    return cases


def _is_form(dependant: Any) -> bool:
    return any(type(p.field_info).__name__ in ("Form", "File") for p in dependant.body_params)


def _renew_session(db: Session, client: TestClient, user_id: int, tenant_id: int) -> str:
    """A fresh token for the admin (a route may have signed them out), as cookie and bearer; its CSRF
    token."""
    db.expire_all()
    with cross_tenant(db):
        user = db.get(User, user_id)
        assert user is not None
        version = user.token_version
    settings_ = client.app.state.settings  # type: ignore[attr-defined]
    token, claims = create_access_token(
        secret=settings_.secret_key,
        algorithm=settings_.jwt_algorithm,
        user_id=user_id,
        tenant_id=tenant_id,
        version=version,
        ttl_minutes=60,
    )
    client.cookies.set(AUTH_COOKIE, token, domain=HOST)
    client.headers["Authorization"] = f"Bearer {token}"
    return csrf_token_for(settings_.secret_key, f"auth:{claims.jti}")


def _bad_answer(route_path: str, response: Any) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"server error {status}: {response.text[:300]}"
    if status < 400:
        return None
    kind = response.headers.get("content-type", "")
    if route_path.startswith("/api/"):
        return (
            None if kind.startswith("application/problem+json") else f"{status} as {kind}, not problem+json"
        )
    if kind.startswith("text/html") or kind.startswith("application/problem+json"):
        return None
    return f"{status} as {kind}, not the error page"


def test_no_input_gives_a_server_error(app: Any, world: factories.World, db: Session) -> None:
    ids = _other_tenant_objects(db, world).ids  # Quảng Ninh's objects: their own, here
    with cross_tenant(db):  # that sweep's import job never ran: here it failed, as a real one can
        db.execute(update(ImportJob).values(status="failed", error="Không đọc được tệp."))
    db.commit()
    admin = world.users["quangninh_admin"]
    client = TestClient(app, base_url=f"http://{HOST}", follow_redirects=False, raise_server_exceptions=False)
    routes = [
        (method, route)
        for route in iter_route_contexts(app.routes)
        if getattr(route, "dependant", None) is not None
        for method in sorted((route.methods or set()) - {"HEAD"})
    ]
    # Signing out and password changes last: they end the session the others use.
    routes.sort(key=lambda mr: ("logout" in mr[1].path or "password" in mr[1].path, mr[1].path, mr[0]))
    problems: list[str] = []
    requests = [0]
    for method, route in routes:
        csrf = _renew_session(db, client, admin.id, world.quangninh.id)
        _driver(client, method, route, ids, csrf, problems, requests)()
    assert len(routes) > 100, "too few routes found: did route discovery break?"
    assert requests[0] >= len(routes) * 3
    assert not problems, "\n".join(sorted(set(problems))[:40])


def _driver(
    client: TestClient,
    method: str,
    route: Any,
    ids: dict[str, str],
    csrf: str,
    problems: list[str],
    requests: list[int],
) -> Any:
    def run(case: dict[str, Any]) -> None:
        url = _fill(route.path, case["path"])
        kwargs: dict[str, Any] = {"params": case["query"]}
        if "json" in case:
            raw = case["json"]
            kwargs["content"] = (raw if isinstance(raw, RawJSON) else json.dumps(raw)).encode(
                "utf-8", "surrogatepass"
            )
            kwargs["headers"] = {"content-type": "application/json"}
        elif method != "GET":
            kwargs["data"] = {**case["form"], CSRF_FIELD: csrf}
            if case["files"]:
                kwargs["files"] = {name: ("f.csv", data, "text/csv") for name, data in case["files"].items()}
        response = client.request(method, url, **kwargs)
        requests[0] += 1
        problem = _bad_answer(route.path, response)
        if problem:
            query = str(kwargs.get("params"))[:150]
            problems.append(f"{method} {route.path} {url[:100]!r} {query}: {problem}")

    for case in _themed_cases(route, ids):
        run = example(case=case)(run)
    return settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )(given(case=_request_strategy(route, ids))(run))
