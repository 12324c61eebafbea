"""Invalidate cached content when courses, modules, lessons or media change, whoever changes them.

The authoring pages, the course-file importer and any future service all go through the ORM, so the ORM's
events are the one place that sees every change: a flush with such rows, or a bulk UPDATE/DELETE on their
tables, bumps the `content` version at once (this worker's readers stop using old entries) and again at
commit or rollback (a reader that cached the old rows between the flush and the commit is discarded too).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from app.catalog.models import Course, CourseModule, Lesson, MediaFile
from app.core.cache import CONTENT, bump_everywhere

_CONTENT_CLASSES: tuple[type, ...] = (Course, CourseModule, Lesson, MediaFile)
_DIRTY = "content_changed"


def watch(*classes: type) -> None:
    """Count changes to these models as content changes too (a higher layer's content: quizzes)."""
    global _CONTENT_CLASSES
    _CONTENT_CLASSES = tuple(dict.fromkeys((*_CONTENT_CLASSES, *classes)))


def _touches_content(objects: Any) -> bool:
    return any(isinstance(obj, _CONTENT_CLASSES) for obj in objects)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _ctx: Any) -> None:
    if _touches_content(session.new) or _touches_content(session.dirty) or _touches_content(session.deleted):
        session.info[_DIRTY] = True
        bump_everywhere(CONTENT)


@event.listens_for(Session, "do_orm_execute")
def _bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and any(
        issubclass(m.class_, _CONTENT_CLASSES) for m in state.all_mappers
    ):
        state.session.info[_DIRTY] = True
        bump_everywhere(CONTENT)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_DIRTY, False):
        bump_everywhere(CONTENT)


@event.listens_for(Session, "after_soft_rollback")
def _after_soft_rollback(session: Session, _previous: Any) -> None:
    # Also a savepoint's rollback: a reader in this session may have cached the rows it undid.
    if session.info.get(_DIRTY):
        bump_everywhere(CONTENT)
        if not session.in_transaction():
            session.info.pop(_DIRTY, None)
