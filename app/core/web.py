"""Templates, page rendering helpers, content-hashed static files and the CSRF guard for HTML forms."""

from __future__ import annotations

import hashlib
import os
import secrets
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import iter_route_contexts
from fastapi.templating import Jinja2Templates
from starlette.requests import HTTPConnection
from starlette.routing import BaseRoute, NoMatchFound
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from app.core import i18n
from app.core.errors import N_, DomainError, Forbidden
from app.core.security import InvalidToken, csrf_token_for, csrf_token_valid, decode_access_token

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
CSRF_COOKIE = "ot_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LANG_COOKIE = "lang"
AUTH_COOKIE = "ot_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _static_manifest() -> dict[str, str]:
    """Map each static file to a name carrying a hash of its content, e.g. `app.css` → `app.3f2a9c1d.css`."""
    manifest: dict[str, str] = {}
    for path in STATIC_DIR.rglob("*"):
        if path.is_file():
            rel = path.relative_to(STATIC_DIR).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            stem, dot, ext = rel.rpartition(".")
            manifest[rel] = f"{stem}.{digest}.{ext}" if dot else f"{rel}.{digest}"
    return manifest


class HashedStaticFiles(StaticFiles):
    """Serves `name.<hash>.ext` as `name.ext` with a year-long immutable cache lifetime."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory)
        self.manifest = _static_manifest()
        self.reverse = {hashed: rel for rel, hashed in self.manifest.items()}

    async def get_response(self, path: str, scope: Scope) -> Response:
        original = self.reverse.get(path.replace(os.sep, "/"))
        response = await super().get_response(original or path, scope)
        if original and response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        else:
            response.headers.setdefault("Cache-Control", "public, max-age=300")
        return response


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


class RouteUrls:
    """Paths of the app's routes by route name, as the framework builds them (each route's own
    `url_path_for`). The app-wide `url_path_for` searches every included router and raises along the way
    (~0.6 ms a link); here the route is found in a dict, and recent paths are kept."""

    _MAX_PATHS = 4096

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._routes: dict[str, Any] = {}
        for context in iter_route_contexts(routes):
            if context.name:
                self._routes.setdefault(context.name, context)
        self._paths: dict[tuple[object, ...], str] = {}

    def path(self, name: str, params: Mapping[str, object]) -> str:
        key = (name, *params.items())  # the same link from another call site may be kept twice: harmless
        found = self._paths.get(key)
        if found is None:
            route = self._routes.get(name)
            if route is None:
                raise NoMatchFound(name, dict(params))
            found = str(route.url_path_for(name, **params))
            if len(self._paths) >= self._MAX_PATHS:
                self._paths.clear()
            self._paths[key] = found
        return found


_ROUTE_URLS: weakref.WeakKeyDictionary[Any, RouteUrls] = weakref.WeakKeyDictionary()


def route_urls(app: Any) -> RouteUrls:
    """The app's route paths, indexed on first use (after every router is included)."""
    urls = _ROUTE_URLS.get(app)
    if urls is None:
        urls = _ROUTE_URLS[app] = RouteUrls(app.routes)
    return urls


def url_path(request: Request, name: str, /, **params: object) -> str:
    """The path of the route named `name` (`"courses:detail"`, slug=…): a relative link, so it works behind
    the proxy and on every portal's host. A query string is appended by the caller."""
    return route_urls(request.app).path(name, params)


def static_url(request: Request, rel: str) -> str:
    static: HashedStaticFiles = request.app.state.static_files
    return "/static/" + static.manifest.get(rel, rel)


def request_token(connection: HTTPConnection) -> str | None:
    """The sign-in token a request carries: the API's bearer header, else the pages' session cookie."""
    scheme, _, value = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return connection.cookies.get(AUTH_COOKIE) or None


def request_language(request: Request) -> str:
    """The language of a page: the visitor's choice (its cookie), else the portal's default."""
    tenant = getattr(request.state, "tenant", None)
    return i18n.pick_language(
        request.cookies.get(LANG_COOKIE),
        None if tenant is None else tenant.default_language,
    )


def api_language(request: Request) -> str:
    """The language of an API answer (error details, import messages): Accept-Language, else the portal's
    default."""
    tenant = getattr(request.state, "tenant", None)
    return i18n.pick_language(
        request.headers.get("accept-language"), None if tenant is None else tenant.default_language
    )


def error_text(request: Request, exc: DomainError) -> str:
    """A domain error's message in the page's language, for a page that shows it beside the form."""
    return i18n.translate(request_language(request), exc.message, **exc.params)


def csrf_binding(request: Request) -> str:
    """What the CSRF token is bound to: the signed-in token's id, else the anonymous browser cookie."""
    cached = getattr(request.state, "csrf_binding", None)
    if cached:
        return cached
    raw = request.cookies.get(AUTH_COOKIE)
    if raw:
        settings = request.app.state.settings
        try:
            claims = decode_access_token(raw, secret=settings.secret_key, algorithm=settings.jwt_algorithm)
        except InvalidToken:
            claims = None
        if claims is not None:
            request.state.csrf_binding = f"auth:{claims.jti}"
            return request.state.csrf_binding
    nonce = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf_nonce", None)
    if not nonce:
        nonce = secrets.token_urlsafe(24)
        request.state.new_csrf_nonce = nonce
    request.state.csrf_binding = f"anon:{nonce}"
    return request.state.csrf_binding


def csrf_token(request: Request) -> str:
    binding = csrf_binding(request)
    cached: tuple[str, str] | None = getattr(request.state, "csrf_token_of", None)  # an HMAC: once a request
    if cached is None or cached[0] != binding:
        cached = (binding, csrf_token_for(request.app.state.settings.secret_key, binding))
        request.state.csrf_token_of = cached
    return cached[1]


def page_context(request: Request, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    lang = request_language(request)
    urls = route_urls(request.app)
    ctx: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "languages": i18n.LANGUAGE_NAMES,
        "tenant": getattr(request.state, "tenant", None),
        "current_user": getattr(request.state, "user", None),
        "current_roles": getattr(request.state, "user_roles", ()),
        "is_admin": bool({"tenant_admin", "national_admin"} & set(getattr(request.state, "user_roles", ()))),
        "_": lambda message, **params: i18n.translate(lang, message, **params),
        "ngettext": lambda s, p, n, **params: i18n.translate_plural(lang, s, p, n, **params),
        "format_date": lambda v: i18n.format_date(lang, v),
        "format_datetime": lambda v: i18n.format_datetime(lang, v),
        "format_number": lambda v, digits=0: i18n.format_number(lang, v, digits),
        "static_url": lambda rel: static_url(request, rel),
        "url": lambda name, **params: urls.path(name, params),
        "csrf_token": csrf_token(request),
        "csrf_field": CSRF_FIELD,
        "is_htmx": is_htmx(request),
    }
    if extra:
        ctx.update(extra)
    return ctx


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    response = templates.TemplateResponse(
        request, template, page_context(request, context), status_code=status_code, headers=headers
    )
    finish_browser_response(request, response)
    return response


def render_fragment(request: Request, template: str, context: Mapping[str, Any] | None = None) -> str:
    """A template rendered to a string with the page context (for a piece of a page assembled elsewhere)."""
    return templates.get_template(template).render(page_context(request, context))


def finish_browser_response(request: Request, response: Response) -> None:
    """Set the anonymous CSRF cookie when this response minted one."""
    nonce = getattr(request.state, "new_csrf_nonce", None)
    if nonce:
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.secure_cookies,
            path="/",
        )


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def redirect(request: Request, url: str, status_code: int = 303) -> Response:
    """A redirect that also works for htmx requests (which would otherwise swap the target page in)."""
    if is_htmx(request):
        response: Response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=status_code)
    finish_browser_response(request, response)
    return response


def redirect_to(
    request: Request, name: str, /, *, query: Mapping[str, object] | None = None, **params: object
) -> Response:
    """A redirect to the route named `name`; `query` becomes its query string (percent-encoded, `/` kept)."""
    url = url_path(request, name, **params)
    if query:
        url += "?" + urlencode(query, safe="/", quote_via=quote)
    return redirect(request, url)


async def verify_csrf(request: Request) -> None:
    """Refuse a state-changing browser request whose CSRF token does not match its session."""
    if request.method in SAFE_METHODS:
        return
    presented = request.headers.get(CSRF_HEADER)
    if not presented:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            presented = value if isinstance(value, str) else None
    if not csrf_token_valid(request.app.state.settings.secret_key, csrf_binding(request), presented):
        raise Forbidden(
            N_("The form has expired or did not come from this site. Please reload the page and try again."),
            code="csrf",
        )


def html_router(**kwargs: Any) -> APIRouter:
    """The router every HTML page module uses: CSRF is checked on every state-changing request."""
    deps = list(kwargs.pop("dependencies", []))
    return APIRouter(dependencies=[Depends(verify_csrf), *deps], include_in_schema=False, **kwargs)


def attachment(data: bytes, filename: str, media_type: str, *, cache: str = "no-store") -> Response:
    """A file download. Personal data (slips, certificates, exports) is kept by no cache, not even the
    browser's on a shared computer."""
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": cache},
    )
