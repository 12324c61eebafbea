"""Rules the codebase keeps everywhere: tenant ids on every table, CSRF on every form route, thin routes."""

from __future__ import annotations

import ast
from pathlib import Path

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


APP_DIR = Path(__file__).resolve().parents[1] / "app"
ROUTE_MODULES = ("routes_api", "routes_html")


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path, root: Path = APP_DIR.parent) -> set[str]:
    """Every module `path` imports, anywhere in it (also inside functions), as dotted names; for
    `from package import name` both `package` and `package.name` (the name may be a module)."""
    module = _module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _is_route_module(name: str) -> bool:
    return name.startswith("app.") and name.rpartition(".")[2] in ROUTE_MODULES


def test_route_modules_are_imported_by_main_only() -> None:
    """Routes stay thin: what two route modules share lives in a service or a presenters module, so no
    module but app/main.py (which mounts the routers) imports a route module."""
    offenders = []
    main_imports = set()
    for path in sorted(APP_DIR.rglob("*.py")):
        routes = {m for m in _imported_modules(path) if _is_route_module(m)}
        if path == APP_DIR / "main.py":
            main_imports = routes
        elif routes:
            offenders.append(f"{path.relative_to(APP_DIR.parent)} imports {', '.join(sorted(routes))}")
    assert not offenders, "\n".join(offenders)
    assert len(main_imports) >= 20, "the import scan missed main.py's routers"


def test_the_route_module_scan_sees_every_kind_of_import(tmp_path: Path) -> None:
    package = tmp_path / "app" / "things"
    package.mkdir(parents=True)
    probe = package / "presenters.py"
    probe.write_text(
        "import app.units.routes_api\n"
        "from app.catalog import routes_html as pages\n"
        "from .routes_api import thing\n"
        "def later():\n"
        "    from app.progress.routes_html import lesson_page\n"
    )
    found = {m for m in _imported_modules(probe, root=tmp_path) if _is_route_module(m)}
    assert found == {
        "app.units.routes_api",
        "app.catalog.routes_html",
        "app.things.routes_api",
        "app.progress.routes_html",
    }


def test_the_jwt_library_is_used_behind_core_security_alone() -> None:
    """python-jose is swapped or upgraded in one place: app/core/security.py (signing, pinned algorithm)."""
    users = {
        str(path.relative_to(APP_DIR.parent))
        for path in APP_DIR.rglob("*.py")
        if any(m == "jose" or m.startswith("jose.") for m in _imported_modules(path))
    }
    assert users == {"app/core/security.py"}
