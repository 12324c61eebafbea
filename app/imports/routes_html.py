"""Admin pages for account imports (filled below)."""

from app.core.web import html_router

router = html_router()
