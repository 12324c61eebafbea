"""Security headers on every response, and `Cache-Control: no-store` on answers to signed-in requests."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# No inline script anywhere: htmx and our own JS are files under /static.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; media-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'; frame-src https://www.youtube-nocookie.com https://player.vimeo.com"
)
# The OpenAPI page: Swagger UI served from /static (vendored, no CDN), started by a file (no inline script).
# Its React views set style attributes, hence inline styles there only.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs",)


def security_headers(path: str, *, hsts: bool) -> dict[str, str]:
    """The headers every answer carries (also the 500 page, which is sent outside this middleware)."""
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": DOCS_CSP if path in DOCS_PATHS else CSP,
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
    if hsts:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def carries_credentials(scope: Scope, cookie_name: str) -> bool:
    """The request sends a bearer token or the session cookie (whether valid or not)."""
    headers = Headers(scope=scope)
    return headers.get("authorization", "").lower().startswith("bearer ") or f"{cookie_name}=" in headers.get(
        "cookie", ""
    )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool = False, session_cookie: str = "") -> None:
        self.app = app
        self.hsts = hsts
        self.session_cookie = session_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        defaults = security_headers(scope["path"], hsts=self.hsts)
        # What a signed-in person reads (their progress, rosters, exports) stays out of every cache, the
        # browser's on a shared computer at the commune office included. Answers that chose their own
        # caching (static files, media) keep it.
        if self.session_cookie and carries_credentials(scope, self.session_cookie):
            defaults["Cache-Control"] = "no-store"

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in defaults.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_wrapper)
