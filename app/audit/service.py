"""Write and read the audit log. Rows are only ever added: the flush guard refuses changes and deletes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent


def record(
    session: Session,
    action: str,
    *,
    actor_id: int | None = None,
    target: str | None = None,
    client_address: str | None = None,
    detail: dict[str, Any] | None = None,
    tenant_id: int | None = None,
) -> AuditEvent:
    event_row = AuditEvent(
        action=action, actor_id=actor_id, target=target, client_address=client_address, detail=detail
    )
    if tenant_id is not None:
        event_row.tenant_id = tenant_id
    session.add(event_row)
    return event_row


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _append_only(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly("audit events cannot be changed or deleted")
