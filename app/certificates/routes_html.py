"""Certificate pages: public verification, my certificates with PDF download, and the admin's list."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import Response

from app.accounts.deps import OptionalPageUser, PageAdmin, PageUser
from app.accounts.models import User
from app.certificates import service
from app.certificates.codes import normalize_code
from app.certificates.presenters import certificate_pdf
from app.cohorts import service as cohorts_service
from app.core.deps import AppSettings, DbSession, client_address
from app.core.errors import DomainError, Invalid
from app.core.web import attachment, error_text, html_router, redirect_to, render, request_language
from app.tenancy.deps import CurrentTenant

router = html_router()


@router.get("/verify", name="certificates:verify_form")
def verify_form(
    request: Request,
    tenant: CurrentTenant,
    user: OptionalPageUser,
    code: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """Type a code from a paper certificate; a well-formed one goes to its verification page."""
    error = None
    if code:
        try:
            return redirect_to(request, "certificates:verify", code=normalize_code(code))
        except Invalid as exc:
            error = error_text(request, exc)
    return render(request, "certificates/verify_form.html", {"code": code, "error": error})


@router.get("/verify/{code}", name="certificates:verify")
def verify(
    request: Request, code: str, session: DbSession, tenant: CurrentTenant, user: OptionalPageUser
) -> Response:
    """Public: no sign-in. A code of another portal (or none) is "not found"."""
    certificate = service.find_by_code(session, code)
    return render(request, "certificates/verify.html", {"certificate": certificate})


@router.get("/certificates", name="certificates:mine")
def my_certificates(
    request: Request, session: DbSession, tenant: CurrentTenant, user: PageUser, settings: AppSettings
) -> Response:
    return render(request, "certificates/mine.html", {"certificates": service.my_certificates(session, user)})


@router.get("/certificates/{code}/pdf", name="certificates:pdf")
def download_pdf(
    request: Request,
    code: str,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageUser,
    settings: AppSettings,
) -> Response:
    certificate = service.get_own(session, user, code)
    return certificate_pdf(settings, tenant, certificate, lang=request_language(request))


def _admin_page(request: Request, session: DbSession, admin: User, **extra: object) -> Response:
    cohorts, _ = cohorts_service.list_cohorts(session, admin, limit=200)
    context = {"certificates": service.list_certificates(session, limit=200), "cohorts": cohorts, **extra}
    return render(request, "certificates/admin.html", context, status_code=int(str(extra.get("status", 200))))


@router.get("/admin/certificates", name="certificates:admin")
def admin_list(request: Request, session: DbSession, tenant: CurrentTenant, admin: PageAdmin) -> Response:
    return _admin_page(request, session, admin, revoked=request.query_params.get("revoked"))


@router.post("/admin/certificates/{code}/revoke", name="certificates:revoke")
def admin_revoke(
    request: Request,
    code: str,
    session: DbSession,
    tenant: CurrentTenant,
    admin: PageAdmin,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    certificate = service.find_by_code(session, code)
    try:
        service.revoke(
            session, certificate, actor=admin, reason=reason, client_address=client_address(request)
        )
    except DomainError as exc:
        message = error_text(request, exc)
        return _admin_page(request, session, admin, error=message, status=exc.status_code)
    return redirect_to(request, "certificates:admin", query={"revoked": certificate.code})


@router.post("/admin/cohorts/{cohort_id}/certificates.zip", name="certificates:cohort_zip")
def admin_cohort_zip(
    request: Request,
    cohort_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    admin: PageAdmin,
    settings: AppSettings,
) -> Response:
    """A POST, so a link prefetch cannot trigger the audit-logged download."""
    cohort = cohorts_service.get_managed_cohort(session, admin, cohort_id)
    bundle = service.cohort_zip(
        session, settings, tenant, cohort, actor=admin, client_address=client_address(request)
    )
    return attachment(bundle.data, bundle.filename, "application/zip")
