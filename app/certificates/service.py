"""Issuing, finding, rendering, revoking and bundling certificates.

A certificate is issued in the same transaction that completes its course (`app.progress.service`), once per
enrolment. It belongs to the learner's tenant: verification on any other portal finds nothing. PDFs are
rendered on demand (the renderer is deterministic), with a QR code to `/verify/{code}` on the issuing portal.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit import service as audit
from app.catalog.models import Course
from app.certificates.codes import new_certificate_code, normalize_code
from app.certificates.models import Certificate
from app.certificates.pdf import render_certificate_pdf
from app.cohorts.models import Cohort
from app.core.db import utcnow
from app.core.errors import N_, Invalid, NotFound
from app.core.i18n import VN_TZ
from app.core.settings import Settings
from app.core.text import nfc
from app.progress.models import Enrolment
from app.tenancy.models import TenantContext
from app.tenancy.service import portal_host

_CODE_TRIES = 5


def get_for_enrolment(session: Session, enrolment_id: int) -> Certificate | None:
    return session.scalars(select(Certificate).where(Certificate.enrolment_id == enrolment_id)).first()


def issue_certificate(
    session: Session, enrolment: Enrolment, course: Course, *, now: dt.datetime | None = None
) -> Certificate:
    """The enrolment's certificate, issued now if it has none; sets `enrolment.certified_at`."""
    existing = get_for_enrolment(session, enrolment.id)
    if existing is not None:
        return existing
    now = now or utcnow()
    user = session.get(User, enrolment.user_id)
    if user is None:
        raise NotFound(N_("Account not found."), code="user_not_found")
    for _ in range(_CODE_TRIES):
        certificate = Certificate(
            code=new_certificate_code(),
            user_id=enrolment.user_id,
            course_id=course.id,
            enrolment_id=enrolment.id,
            learner_name=nfc(user.full_name or user.username),
            course_title=nfc(course.title),
            issued_at=now,
        )
        try:
            with session.begin_nested():
                session.add(certificate)
        except IntegrityError:
            found = get_for_enrolment(session, enrolment.id)
            if found is not None:  # issued concurrently
                return found
            continue  # the vanishing chance of a code collision: draw another
        enrolment.certified_at = now
        session.flush()
        return certificate
    raise RuntimeError("could not draw a free certificate code")


def find_by_code(session: Session, code: str) -> Certificate:
    """This portal's certificate with this code (typed in any reasonable form); else "not found"."""
    try:
        canonical = normalize_code(code)
    except Invalid:
        raise NotFound(
            N_("No certificate has this code on this portal."), code="certificate_not_found"
        ) from None
    certificate = session.scalars(select(Certificate).where(Certificate.code == canonical)).first()
    if certificate is None:
        raise NotFound(N_("No certificate has this code on this portal."), code="certificate_not_found")
    return certificate


def get_own(session: Session, user: User, code: str) -> Certificate:
    """A certificate its owner may download (anyone else's is "not found")."""
    certificate = find_by_code(session, code)
    if certificate.user_id != user.id:
        raise NotFound(N_("No certificate has this code on this portal."), code="certificate_not_found")
    return certificate


def my_certificates(session: Session, user: User) -> list[Certificate]:
    return list(
        session.scalars(
            select(Certificate).where(Certificate.user_id == user.id).order_by(Certificate.issued_at.desc())
        )
    )


def list_certificates(session: Session, *, limit: int = 100, offset: int = 0) -> list[Certificate]:
    return list(
        session.scalars(
            select(Certificate)
            .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def portal_origin(settings: Settings, tenant_slug: str) -> str:
    """`http(s)://{slug}.{BASE_DOMAIN}[:port]`, the bare domain for the national portal.

    https in production (where a proxy serves the standard port); in development the port `onetouch serve`
    listens on, unless it is 80 or 443.
    """
    host = portal_host(tenant_slug, settings.base_domain)
    if settings.is_production:
        return f"https://{host}"
    port = "" if settings.port in (80, 443) else f":{settings.port}"
    return f"http://{host}{port}"


def verify_url(settings: Settings, tenant_slug: str, code: str) -> str:
    return f"{portal_origin(settings, tenant_slug)}/verify/{code}"


def issued_on(certificate: Certificate) -> dt.date:
    return certificate.issued_at.astimezone(VN_TZ).date()


def render_pdf(
    settings: Settings, tenant: TenantContext, certificate: Certificate, *, lang: str = "vi"
) -> bytes:
    return render_certificate_pdf(
        learner_name=certificate.learner_name,
        course_title=certificate.course_title,
        tenant_name=tenant.display_name,
        issued_on=issued_on(certificate),
        code=certificate.code,
        verify_url=verify_url(settings, tenant.slug, certificate.code),
        lang=lang,
        accent=tenant.colour,
    )


def pdf_filename(certificate: Certificate) -> str:
    return f"chung-nhan-{certificate.code}.pdf"


def revoke(
    session: Session,
    certificate: Certificate,
    *,
    actor: User,
    reason: str,
    client_address: str | None = None,
    now: dt.datetime | None = None,
) -> Certificate:
    """Revoke a certificate (once; revoking again changes nothing) and write it to the audit log."""
    reason = nfc(reason or "")
    if not reason:
        raise Invalid(N_("Give a reason for revoking the certificate."), code="revoke_reason")
    if certificate.revoked_at is not None:
        return certificate
    certificate.revoked_at = now or utcnow()
    certificate.revoke_reason = reason[:1000]
    certificate.revoked_by_id = actor.id
    audit.record(
        session,
        "certificate.revoked",
        actor_id=actor.id,
        target=certificate.code,
        client_address=client_address,
        detail={"reason": certificate.revoke_reason, "user_id": certificate.user_id},
    )
    session.flush()
    return certificate


@dataclass
class CohortBundle:
    filename: str
    data: bytes
    count: int


def cohort_zip(
    session: Session,
    settings: Settings,
    tenant: TenantContext,
    cohort: Cohort,
    *,
    actor: User,
    client_address: str | None = None,
) -> CohortBundle:
    """Every certificate of a cohort's learners as PDFs in one ZIP (revoked ones too, marked in the name)."""
    certificates = list(
        session.scalars(
            select(Certificate)
            .join(Enrolment, Enrolment.id == Certificate.enrolment_id)
            .where(Enrolment.cohort_id == cohort.id)
            .order_by(Certificate.learner_name, Certificate.id)
        )
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for certificate in certificates:
            name = pdf_filename(certificate)
            if certificate.is_revoked:
                name = name.replace(".pdf", "-revoked.pdf")
            info = zipfile.ZipInfo(name, date_time=issued_on(certificate).timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, render_pdf(settings, tenant, certificate))
    audit.record(
        session,
        "certificate.cohort_downloaded",
        actor_id=actor.id,
        target=cohort.code,
        client_address=client_address,
        detail={"cohort_id": cohort.id, "certificates": len(certificates)},
    )
    session.flush()
    return CohortBundle(f"chung-nhan-{cohort.code}.zip", buf.getvalue(), len(certificates))
