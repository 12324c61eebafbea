"""Admin pages for units (filled below)."""

from app.core.web import html_router

router = html_router()
