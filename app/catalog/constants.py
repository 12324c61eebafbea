"""Limits and labels of the catalog."""

from __future__ import annotations

from app.catalog.models import DOCUMENT, QUIZ, TEXT, VIDEO
from app.core.errors import N_

LESSON_KIND_LABELS = {
    TEXT: N_("Text"),
    VIDEO: N_("Video"),
    DOCUMENT: N_("Document (PDF)"),
    QUIZ: N_("Quiz"),
}
CATALOG_PAGE_SIZE = 20
API_PAGE_SIZE = 50  # courses per page of the list API by default
HOME_FEATURED = 6
MAX_TITLE = 300
MAX_SUMMARY = 2000
MAX_BODY = 200_000
MAX_LESSON_MINUTES = 24 * 60
