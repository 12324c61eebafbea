"""What the certificate API and pages both answer: a certificate as a PDF download."""

from __future__ import annotations

from fastapi.responses import Response

from app.certificates import service
from app.certificates.models import Certificate
from app.core.settings import Settings
from app.core.web import attachment
from app.tenancy.models import TenantContext


def certificate_pdf(
    settings: Settings, tenant: TenantContext, certificate: Certificate, *, lang: str = "vi"
) -> Response:
    data = service.render_pdf(settings, tenant, certificate, lang=lang)
    return attachment(data, service.pdf_filename(certificate), "application/pdf")
