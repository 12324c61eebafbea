"""Application factory: settings, database, middleware, error handlers, routers and static files."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from cachetools import TTLCache
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import Scope

from app.accounts import routes_api as accounts_api
from app.accounts import routes_html as accounts_html
from app.accounts.deps import LoginRequired, may_upload
from app.accounts.throttle import make_failure_counter
from app.catalog import cache_events  # noqa: F401 - content edits invalidate the cache
from app.catalog import routes_api as catalog_api
from app.catalog import routes_html as catalog_html
from app.certificates import routes_api as certificates_api
from app.certificates import routes_html as certificates_html
from app.cohorts import routes_api as cohorts_api
from app.cohorts import routes_html as cohorts_html
from app.core import driver, i18n
from app.core.bench import BenchHelloMiddleware
from app.core.bodylimit import KB, MB, BodyLimitMiddleware, upload_routes
from app.core.cache import DEFAULT_MAX_ENTRIES, make_cache
from app.core.db import Checkpointer, make_async_engine, make_engine, make_session_factory
from app.core.deps import ids_in_range
from app.core.errors import N_, DomainError, PasswordChangeRequired
from app.core.headers import SecurityHeadersMiddleware, security_headers
from app.core.limits import ConcurrencyLimitMiddleware
from app.core.logging import RequestLogMiddleware, configure_logging
from app.core.settings import Settings
from app.core.web import (
    AUTH_COOKIE,
    STATIC_DIR,
    HashedStaticFiles,
    api_language,
    error_text,
    redirect_to,
    render,
    request_language,
    static_url,
    templates,
)
from app.dispatch import FastDispatchMiddleware
from app.imports import routes_api as imports_api
from app.imports import routes_html as imports_html
from app.imports.jobs import thread_runner
from app.progress import routes_api as progress_api
from app.progress import routes_html as progress_html
from app.progress.presenters import page_cache
from app.progress.runner import LoopConnections
from app.progress.visits import LessonVisits
from app.quizzes import routes_api as quizzes_api
from app.quizzes import routes_html as quizzes_html
from app.reports import routes_api as reports_api
from app.reports import routes_html as reports_html
from app.reports.visits import VisitCounter, VisitFlusher, VisitMiddleware
from app.tenancy import routes_api as tenancy_api
from app.tenancy import routes_html as tenancy_html
from app.tenancy.service import TenantCache
from app.units import routes_api as units_api
from app.units import routes_html as units_html

log = logging.getLogger("onetouch.app")


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def problem(request: Request, status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"Retry-After": str(extra["retry_after"])} if "retry_after" in extra else None
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": "Bearer"}
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def error_page(request: Request, status: int, message: str) -> Response:
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


async def body_too_large(scope: Scope, limit: int) -> Response:
    """The 413 of app.core.bodylimit."""
    size = f"{limit // MB} MB" if limit >= MB else f"{limit // KB} KB"
    message = N_("The request is too large: at most {size} can be sent here.")
    request = Request(scope)
    if is_api(request):
        detail = i18n.translate(api_language(request), message, size=size)
        return problem(request, 413, "Payload too large", detail, code="too_large")
    return error_page(request, 413, i18n.translate(request_language(request), message, size=size))


async def server_error(request: Request, exc: Exception) -> Response:
    # Starlette sends this answer from its outermost layer, past every middleware: the security headers
    # are added here. The exception itself is logged by the server (traceback), as before.
    message = N_("Something went wrong on our side. Please try again in a moment.")
    response: Response
    try:
        if is_api(request):
            detail = i18n.translate(api_language(request), message)
            response = problem(request, 500, "Internal server error", detail, code="server_error")
        else:
            response = error_page(request, 500, i18n.translate(request_language(request), message))
    except Exception:  # the error page itself failed (a template, the session): a plain answer
        response = Response("500 Internal Server Error", status_code=500, media_type="text/plain")
    hsts = request.app.state.settings.is_production
    for name, value in {
        **security_headers(request.url.path, hsts=hsts),
        "Cache-Control": "no-store",
    }.items():
        response.headers.setdefault(name, value)
    return response


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if isinstance(exc, PasswordChangeRequired) and not is_api(request):
            return redirect_to(request, "accounts:password", query={"next": request.url.path})
        if is_api(request):
            lang = api_language(request)
            extra = {"retry_after": exc.params["retry_after"]} if "retry_after" in exc.params else {}
            return problem(
                request,
                exc.status_code,
                exc.title,
                i18n.translate(lang, exc.message, **exc.params),
                code=exc.code,
                **extra,
            )
        return error_page(request, exc.status_code, error_text(request, exc))

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return redirect_to(request, "accounts:login", query={"next": exc.next_url})

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "message": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        if is_api(request):
            lang = api_language(request)
            first = errors[0] if errors else {"loc": [], "message": ""}
            detail = i18n.translate(
                lang,
                N_("The request is not valid: {field}: {message}"),
                field=".".join(first["loc"][1:]) or "body",
                message=first["message"],
            )
            return problem(request, 422, "Invalid input", detail, errors=errors)
        return error_page(
            request, 422, i18n.translate(request_language(request), N_("The form is not valid."))
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if is_api(request) or request.url.path.startswith("/static/"):
            detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
            return problem(request, exc.status_code, detail, detail)
        lang = request_language(request)
        message = N_("Page not found.") if exc.status_code == 404 else N_("The request could not be handled.")
        return error_page(request, exc.status_code, i18n.translate(lang, message))

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def value_out_of_range(request: Request, exc: Exception) -> Response:
        # A value the database column cannot hold: a number past its range (SQLite's driver raises
        # OverflowError, PostgreSQL a DataError) or, on PostgreSQL, text it refuses. Bad input, not a server
        # fault; the checks at the input edge (app.core.numbers, app.core.text) should have caught it first.
        log.info("value the database refused: %s", exc)
        message = (
            N_("A number in the request is out of range.")
            if isinstance(exc, OverflowError)
            else N_("A value in the request is out of range or not allowed.")
        )
        if is_api(request):
            detail = i18n.translate(api_language(request), message)
            return problem(request, 422, "Invalid input", detail, code="out_of_range")
        return error_page(request, 422, i18n.translate(request_language(request), message))

    app.add_exception_handler(Exception, server_error)

    # The database is unreachable or failed mid-request: refused or dropped connections (OperationalError,
    # also when the pool's pre-ping finds the server gone at checkout), a connection closed under us
    # (InterfaceError), or no pooled connection free in time (the pool's TimeoutError). The request's
    # transaction was rolled back, so nothing was acknowledged: answer 503 and let the client retry.
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeoutError)
    async def database_unavailable(request: Request, exc: Exception) -> Response:
        log.error("database error: %s", getattr(exc, "orig", None) or exc)
        lang = request_language(request) if not is_api(request) else api_language(request)
        message = i18n.translate(
            lang, N_("The service is briefly unavailable. Please try again in a moment.")
        )
        response: Response
        if is_api(request):
            response = problem(request, 503, "Service unavailable", message, code="database_unavailable")
        else:
            response = error_page(request, 503, message)
        response.headers["Retry-After"] = "5"
        return response


def install_driver_error_handler(app: FastAPI) -> None:
    @app.exception_handler(DBAPIError)
    @app.exception_handler(OSError)
    async def driver_error(request: Request, exc: Exception) -> Response:
        # asyncpg reports a server that is starting or shutting down (SQLSTATE classes 08 and 57) or a refused
        # connection as a plain DBAPIError or OSError: the database is unavailable, answered as such. Anything
        # else is a server fault.
        if database_unreachable(exc):
            return await app.exception_handlers[OperationalError](request, exc)  # type: ignore[misc,no-any-return]
        log.error("unexpected database error", exc_info=exc)
        lang = request_language(request) if not is_api(request) else api_language(request)
        message = i18n.translate(lang, N_("The request could not be handled."))
        if is_api(request):
            return problem(request, 500, "Internal Server Error", message)
        return error_page(request, 500, message)


def database_unreachable(exc: BaseException) -> bool:
    """Is this the database (or the way to it) being down, rather than a fault of the request or the code?"""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    seen: BaseException | None = exc
    for _ in range(4):  # the error, what SQLAlchemy wrapped, what the driver's adapter wrapped
        if seen is None:
            break
        code = getattr(seen, "sqlstate", None) or getattr(seen, "pgcode", None)
        if isinstance(code, str) and code[:2] in ("08", "57"):
            return True
        if isinstance(seen, ConnectionError | TimeoutError) or type(seen).__name__ in _DRIVER_DISCONNECTS:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


# asyncpg's names for a connection that is gone or cannot be made (no SQLSTATE of their own).
_DRIVER_DISCONNECTS = frozenset({"ConnectionDoesNotExistError", "InterfaceError", "ConnectionFailureError"})


def install_learning_state(app: FastAPI, settings: Settings, engine: Any) -> None:
    """What the learning path's mechanisms keep per worker (docs/performance.md says what each buys)."""
    driver.use_driver_statements(settings.driver_statements)
    # Where each learner was last reading, written in batches (or at once, without the buffer).
    app.state.lesson_visits = LessonVisits() if settings.buffer_lesson_visits else None
    # The learning path on PostgreSQL: on the event loop through asyncpg (app/progress/runner.py).
    app.state.async_engine = (
        make_async_engine(
            settings.database_url,
            # No thread per request: at most the requests the concurrency limit lets in hold a connection.
            pool_size=min(settings.max_concurrent_requests, settings.db_pool_size + settings.db_max_overflow),
            max_overflow=0,
            pool_timeout=settings.db_pool_timeout,
            prepared_statements=settings.db_prepared_statements,
        )
        if settings.db_async and not settings.is_sqlite
        else None
    )
    app.state.page_cache = page_cache(settings.page_cache_mb * 2**20)
    # Content objects (lessons, course plans) parsed from the content cache, per version: not re-parsed per
    # request; bounded, and no older than the content cache's own entries.
    app.state.content_objects = TTLCache(maxsize=DEFAULT_MAX_ENTRIES, ttl=settings.content_cache_seconds)
    # SQLite: the learning path's connections on the event loop (app/progress/runner.py).
    app.state.loop_connections = LoopConnections(engine) if settings.is_sqlite else None


async def close_learning_state(app: FastAPI) -> None:
    if app.state.async_engine is not None:
        await app.state.async_engine.dispose()
    if app.state.loop_connections is not None:
        app.state.loop_connections.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging()
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
        background_checkpoints=settings.sqlite_background_checkpoints,
    )

    visit_counter = VisitCounter()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        flushers: list[VisitFlusher | Checkpointer] = [
            VisitFlusher(
                visit_counter, lambda: app.state.session_factory, interval=settings.visit_flush_seconds
            )
        ]
        if app.state.lesson_visits is not None:
            flushers.append(
                VisitFlusher(
                    app.state.lesson_visits,
                    lambda: app.state.session_factory,
                    interval=settings.lesson_visit_flush_seconds,
                )
            )
        if settings.is_sqlite and settings.sqlite_background_checkpoints:
            flushers.append(Checkpointer(app.state.engine))
        for flusher in flushers:
            flusher.start()
        yield
        for flusher in reversed(flushers):
            flusher.stop()  # the last views reach the database before the engine closes
        app.state.engine.dispose()
        await close_learning_state(app)

    app = FastAPI(
        title="OneTouch API",
        version="1.0",
        description="Multi-tenant MOOC platform. Sign in at /api/v1/auth/token, then send a Bearer token.",
        lifespan=lifespan,
        docs_url=None,  # our own page below: Swagger UI from /static, no CDN, no inline script
        redoc_url=None,
        dependencies=[Depends(ids_in_range)],
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.failure_counter = make_failure_counter(settings.redis_url)
    app.state.tenant_cache = TenantCache(ttl=settings.tenant_cache_seconds)
    app.state.visit_counter = visit_counter
    install_learning_state(app, settings, engine)
    # Shared content (lessons, outlines, catalog): Redis when configured, so every worker sees each edit.
    app.state.cache = make_cache(settings.redis_url)
    app.state.job_runner = thread_runner  # background imports; tests swap in an inline runner
    # Templates are read once per process in production (no stat() of every template file per page).
    templates.env.auto_reload = settings.env == "development"
    static = HashedStaticFiles(STATIC_DIR)
    app.state.static_files = static

    install_error_handlers(app)
    install_driver_error_handler(app)

    if settings.api_docs:

        @app.get("/docs", include_in_schema=False, name="ops:api_docs")
        def api_docs(request: Request) -> Response:
            return templates.TemplateResponse(
                request,
                "api_docs.html",
                {"openapi_url": app.openapi_url, "static_url": lambda rel: static_url(request, rel)},
            )

    @app.get("/healthz", include_in_schema=False, name="ops:healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False, name="ops:readyz")
    def readyz(request: Request) -> Response:
        try:
            with request.app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # any failure means "not ready"
            return JSONResponse({"status": "unavailable", "detail": str(type(exc).__name__)}, status_code=503)
        return JSONResponse({"status": "ok"})

    for router in (
        accounts_api.router,
        tenancy_api.router,
        imports_api.router,
        units_api.router,
        catalog_api.router,
        progress_api.router,
        cohorts_api.router,
        quizzes_api.router,
        certificates_api.router,
        reports_api.router,
        tenancy_html.router,
        accounts_html.router,
        imports_html.router,
        units_html.router,
        catalog_html.router,
        progress_html.router,
        cohorts_html.router,
        quizzes_html.router,
        certificates_html.router,
        reports_html.router,
    ):
        app.include_router(router)
    app.mount("/static", static, name="static")

    # Innermost: the learning path's requests answered in front of the router (same handlers as the routes).
    if settings.fast_dispatch:
        app.add_middleware(FastDispatchMiddleware)
    app.add_middleware(VisitMiddleware, counter=visit_counter)
    app.add_middleware(GZipMiddleware, minimum_size=500)
    # Inside the security headers (a 413 carries them too), outside everything that reads a body.
    app.add_middleware(
        BodyLimitMiddleware,
        anonymous_bytes=settings.max_body_anonymous_kb * KB,
        signed_in_bytes=settings.max_body_kb * KB,
        uploads=lambda: upload_routes(app.routes, settings),
        authorize=may_upload,
        refuse=body_too_large,
    )
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.is_production, session_cookie=AUTH_COOKIE)
    app.add_middleware(
        ConcurrencyLimitMiddleware,
        limit=min(settings.max_concurrent_requests, settings.db_pool_size + settings.db_max_overflow),
        queue_timeout=settings.request_queue_timeout,
    )
    if settings.log_requests:
        app.add_middleware(RequestLogMiddleware)
    if settings.bench_endpoints:
        app.add_middleware(BenchHelloMiddleware)  # outermost: the bare ASGI ceiling for bench/http.py
    return app
