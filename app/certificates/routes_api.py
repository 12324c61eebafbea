"""Certificate API: public verification, my certificates, PDF download, revocation, a cohort's ZIP."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.accounts.deps import ApiAdmin, ApiUser
from app.certificates import service
from app.certificates.models import Certificate
from app.certificates.presenters import certificate_pdf
from app.certificates.schemas import CertificateItem, CertificateList, CertificateVerification, RevokeBody
from app.cohorts import service as cohorts_service
from app.core.deps import AppSettings, DbSession, client_address
from app.core.settings import Settings
from app.core.web import attachment, url_path
from app.tenancy.deps import CurrentTenant
from app.tenancy.models import TenantContext

router = APIRouter(prefix="/api/v1", tags=["certificates"])


def verification(certificate: Certificate, tenant: TenantContext) -> CertificateVerification:
    return CertificateVerification(
        code=certificate.code,
        learner_name=certificate.learner_name,
        course_title=certificate.course_title,
        portal=tenant.display_name,
        issued_at=certificate.issued_at,
        valid=not certificate.is_revoked,
        revoked_at=certificate.revoked_at,
        revoke_reason=certificate.revoke_reason,
    )


def certificate_item(
    request: Request, certificate: Certificate, tenant: TenantContext, settings: Settings
) -> CertificateItem:
    return CertificateItem(
        code=certificate.code,
        course_title=certificate.course_title,
        issued_at=certificate.issued_at,
        valid=not certificate.is_revoked,
        pdf_url=url_path(request, "api:certificate_pdf", code=certificate.code),
        verify_url=service.verify_url(settings, tenant.slug, certificate.code),
    )


@router.get("/certificates/{code}", response_model=CertificateVerification, name="api:certificate_verify")
def verify(code: str, session: DbSession, tenant: CurrentTenant) -> CertificateVerification:
    """Public: is this a certificate of this portal, and is it still valid? No sign-in needed."""
    return verification(service.find_by_code(session, code), tenant)


@router.get("/me/certificates", response_model=CertificateList, name="api:my_certificates")
def my_certificates(
    request: Request, session: DbSession, tenant: CurrentTenant, user: ApiUser, settings: AppSettings
) -> CertificateList:
    items = [certificate_item(request, c, tenant, settings) for c in service.my_certificates(session, user)]
    return CertificateList(items=items, total=len(items))


@router.get("/certificates/{code}/pdf", name="api:certificate_pdf")
def download_pdf(
    code: str, session: DbSession, tenant: CurrentTenant, user: ApiUser, settings: AppSettings
) -> Response:
    """The certificate as a PDF, for its owner."""
    certificate = service.get_own(session, user, code)
    return certificate_pdf(settings, tenant, certificate)


@router.post(
    "/certificates/{code}/revoke", response_model=CertificateVerification, name="api:certificate_revoke"
)
def revoke(
    code: str, body: RevokeBody, request: Request, session: DbSession, tenant: CurrentTenant, admin: ApiAdmin
) -> CertificateVerification:
    certificate = service.find_by_code(session, code)
    service.revoke(
        session, certificate, actor=admin, reason=body.reason, client_address=client_address(request)
    )
    return verification(certificate, tenant)


@router.post("/cohorts/{cohort_id}/certificates.zip", name="api:cohort_certificates")
def cohort_certificates(
    cohort_id: int,
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    admin: ApiAdmin,
    settings: AppSettings,
) -> Response:
    """Every certificate of a cohort as PDFs in one ZIP (audit-logged)."""
    cohort = cohorts_service.get_managed_cohort(session, admin, cohort_id)
    bundle = service.cohort_zip(
        session, settings, tenant, cohort, actor=admin, client_address=client_address(request)
    )
    return attachment(bundle.data, bundle.filename, "application/zip")
