"""Rules the codebase keeps everywhere: tenant ids on every table, CSRF on every form route."""

from __future__ import annotations

from fastapi.routing import APIRoute, iter_route_contexts

import app.models  # noqa: F401
from app.core.db import Base
from app.core.web import verify_csrf
from app.tenancy.models import TenantScoped

GLOBAL_TABLES = {"tenant"}


def test_every_table_is_tenant_scoped_or_declared_global() -> None:
    for table in Base.metadata.sorted_tables:
        if table.name in GLOBAL_TABLES:
            continue
        assert "tenant_id" in table.c, f"{table.name} has no tenant_id"


def test_every_tenant_owned_model_uses_the_mixin() -> None:
    for mapper in Base.registry.mappers:
        table = mapper.local_table
        if table.name not in GLOBAL_TABLES:
            assert issubclass(mapper.class_, TenantScoped), mapper.class_


def test_tenant_owned_tables_have_an_index_leading_with_tenant_id() -> None:
    for table in Base.metadata.sorted_tables:
        if table.name in GLOBAL_TABLES:
            continue
        leading = [next(iter(ix.columns)).name for ix in table.indexes]
        leading += [
            next(iter(c.columns)).name
            for c in table.constraints
            if hasattr(c, "columns") and c.columns and c.__class__.__name__ == "UniqueConstraint"
        ]
        assert "tenant_id" in leading, table.name


def _api_routes(app) -> list[APIRoute]:  # type: ignore[no-untyped-def]
    """Every APIRoute, also those of included routers: since FastAPI 0.16x `app.routes` holds an included
    router as one opaque entry, so a plain loop over it silently checked only the top-level routes."""
    routes = [r.original_route for r in iter_route_contexts(app.routes)]
    found = [r for r in routes if isinstance(r, APIRoute)]
    assert len(found) > 60, "route discovery found too few routes"
    return found


def _dependency_calls(route: APIRoute) -> set:
    calls = set()
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        if dep.call is not None:
            calls.add(dep.call)
        stack.extend(dep.dependencies)
    return calls


def test_every_state_changing_page_route_checks_csrf(app) -> None:
    for route in _api_routes(app):
        if route.path.startswith("/api/"):
            continue
        if route.methods & {"POST", "PUT", "PATCH", "DELETE"}:
            assert verify_csrf in _dependency_calls(route), f"{route.path} lacks CSRF protection"


def test_api_routes_do_not_read_the_session_cookie(app) -> None:
    from app.accounts.deps import _page_user_optional

    for route in _api_routes(app):
        if route.path.startswith("/api/"):
            assert _page_user_optional not in _dependency_calls(route), route.path
