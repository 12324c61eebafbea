"""API shapes for certificates."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class CertificateVerification(BaseModel):
    """What anybody holding the code may see (the public verification page shows the same)."""

    code: str
    learner_name: str
    course_title: str
    portal: str
    issued_at: dt.datetime
    valid: bool
    revoked_at: dt.datetime | None
    revoke_reason: str | None = None


class CertificateItem(BaseModel):
    code: str
    course_title: str
    issued_at: dt.datetime
    valid: bool
    pdf_url: str
    verify_url: str


class CertificateList(BaseModel):
    items: list[CertificateItem]
    total: int


class RevokeBody(BaseModel):
    reason: str = Field(max_length=1000)
