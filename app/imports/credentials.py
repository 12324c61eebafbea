"""The sign-in details of newly imported accounts: stored encrypted, handed out once, as XLSX and PDF slips.

The plaintext one-time passwords exist only in memory while an import commits and in the download. At
rest they are encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from SECRET_KEY, and
erased on the first download or when the download window (CREDENTIALS_DOWNLOAD_HOURS) closes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import io
import json
import zipfile
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.audit import service as audit
from app.core import i18n
from app.core.db import utcnow
from app.core.errors import N_, Conflict, Invalid, NotFound
from app.core.pdf_fonts import register_fonts
from app.core.spreadsheets import XLSX_MEDIA_TYPE, write_xlsx
from app.core.text import printable
from app.imports.models import CredentialBatch
from app.tenancy.service import portal_host

FORMATS = ("xlsx", "pdf", "zip")


def _fernet(secret_key: str) -> Fernet:
    key = hmac.new(secret_key.encode(), b"onetouch|credential-batch|v1", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


@dataclass
class Credentials:
    """A decrypted batch: rows of [username, full name, unit, one-time password]."""

    batch_id: int
    rows: list[list[str]]
    password_expires_at: dt.datetime


def store_batch(
    session: Session,
    rows: list[list[str]],
    *,
    secret_key: str,
    hours: int,
    password_expires_at: dt.datetime,
    actor_id: int | None,
) -> CredentialBatch:
    payload = json.dumps(
        {"rows": rows, "password_expires_at": password_expires_at.isoformat()}, ensure_ascii=False
    ).encode()
    batch = CredentialBatch(
        accounts=len(rows),
        payload=_fernet(secret_key).encrypt(payload),
        created_by=actor_id,
        expires_at=utcnow() + dt.timedelta(hours=hours),
    )
    session.add(batch)
    session.flush()
    return batch


def purge_expired(session: Session) -> None:
    """Erase the payloads whose download window has closed (called whenever batches are looked at)."""
    session.execute(
        update(CredentialBatch)
        .where(CredentialBatch.payload.is_not(None), CredentialBatch.expires_at <= utcnow())
        .values(payload=None)
        .execution_options(synchronize_session=False)
    )


def pending_batches(session: Session) -> list[CredentialBatch]:
    purge_expired(session)
    return list(
        session.scalars(
            select(CredentialBatch)
            .where(CredentialBatch.downloaded_at.is_(None), CredentialBatch.expires_at > utcnow())
            .order_by(CredentialBatch.id.desc())
        )
    )


def get_batch(session: Session, batch_id: int) -> CredentialBatch:
    batch = session.get(CredentialBatch, batch_id)
    if batch is None:
        raise NotFound(N_("These sign-in details do not exist."))
    return batch


def take_batch(
    session: Session,
    batch_id: int,
    *,
    secret_key: str,
    actor: User,
    fmt: str,
    client_address: str | None,
) -> Credentials:
    """Decrypt a batch for its one download, erase it, and record who took it."""
    if fmt not in FORMATS:
        raise Invalid(N_("Unknown download format."), code="format")
    batch = get_batch(session, batch_id)
    now = utcnow()
    # Claim the batch with a conditional UPDATE, so two simultaneous downloads cannot both succeed.
    claimed = session.execute(
        update(CredentialBatch)
        .where(CredentialBatch.id == batch.id, CredentialBatch.downloaded_at.is_(None))
        .values(downloaded_at=now, downloaded_by=actor.id, download_format=fmt)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(batch)
        raise Conflict(
            N_(
                "These sign-in details were already downloaded on {date}. "
                "Reset a password to issue a new one."
            ),
            code="credentials_taken",
            date=i18n.format_datetime("vi", batch.downloaded_at),
        )
    payload = session.scalar(select(CredentialBatch.payload).where(CredentialBatch.id == batch.id))
    if payload is None or batch.expires_at <= now:
        raise Conflict(
            N_("These sign-in details have expired and were erased. Reset a password to issue a new one."),
            code="credentials_expired",
        )
    try:
        data = json.loads(_fernet(secret_key).decrypt(payload))
    except InvalidToken as exc:  # SECRET_KEY changed since the import
        raise Conflict(
            N_("These sign-in details can no longer be read."), code="credentials_unreadable"
        ) from exc
    session.execute(
        update(CredentialBatch)
        .where(CredentialBatch.id == batch.id)
        .values(payload=None)
        .execution_options(synchronize_session=False)
    )
    session.expire(batch)
    audit.record(
        session,
        "admin.credentials_downloaded",
        actor_id=actor.id,
        target=f"credential_batch:{batch.id}",
        client_address=client_address,
        detail={"accounts": batch.accounts, "format": fmt},
    )
    session.flush()
    return Credentials(batch_id, data["rows"], dt.datetime.fromisoformat(data["password_expires_at"]))


def credentials_xlsx(creds: Credentials, *, lang: str, portal_url: str) -> bytes:
    t = lambda m: i18n.translate(lang, m)  # noqa: E731
    expires = i18n.format_date(lang, creds.password_expires_at)
    headers = [
        t(N_("Full name")),
        t(N_("Username")),
        t(N_("One-time password")),
        t(N_("Unit")),
        t(N_("Valid until")),
        t(N_("Sign-in address")),
    ]
    rows = (
        [full_name, username, secret, unit, expires, portal_url]
        for username, full_name, unit, secret in creds.rows
    )
    return write_xlsx(headers, rows, title=t(N_("Sign-in details")))


def credentials_pdf(creds: Credentials, *, lang: str, portal_url: str, portal_name: str) -> bytes:
    """Printable slips, 8 per A4 page (2 × 4), with the portal address and a QR code to its sign-in page."""
    import segno
    from fpdf import FPDF

    t = lambda m, **p: i18n.translate(lang, m, **p)  # noqa: E731
    login_url = portal_url.rstrip("/") + "/login"
    qr = io.BytesIO()
    segno.make(login_url, error="m").save(qr, kind="png", scale=6, border=2)
    qr_bytes = qr.getvalue()
    expires = i18n.format_date(lang, creds.password_expires_at)

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margins(10, 10, 10)
    register_fonts(pdf)
    pdf.set_title(t(N_("Sign-in details")))
    width, height = 95.0, 69.0
    labels = (t(N_("Username")), t(N_("One-time password")))
    for index, (username, full_name, unit, secret) in enumerate(creds.rows):
        slot = index % 8
        if slot == 0:
            pdf.add_page()
        x = 10 + (slot % 2) * width
        y = 10 + (slot // 2) * height
        pdf.set_draw_color(150, 150, 150)
        pdf.set_line_width(0.2)
        pdf.rect(x, y, width, height)
        pdf.set_xy(x + 4, y + 4)
        pdf.set_font("DejaVu", "B", 9)
        pdf.cell(width - 8, 5, printable(portal_name)[:60])
        pdf.set_xy(x + 4, y + 10)
        pdf.set_font("DejaVu", "B", 11)
        pdf.cell(width - 36, 6, printable(full_name)[:40])
        pdf.set_font("DejaVu", "", 8)
        pdf.set_xy(x + 4, y + 16)
        pdf.cell(width - 36, 5, printable(unit)[:45])
        for line, (label, value) in enumerate(zip(labels, (username, secret), strict=True)):
            pdf.set_xy(x + 4, y + 24 + line * 11)
            pdf.set_font("DejaVu", "", 8)
            pdf.cell(width - 36, 4, label)
            pdf.set_xy(x + 4, y + 28 + line * 11)
            pdf.set_font("DejaVu", "B", 12)
            pdf.cell(width - 36, 6, value)
        pdf.image(io.BytesIO(qr_bytes), x=x + width - 31, y=y + 12, w=27, h=27)
        pdf.set_font("DejaVu", "", 7)
        pdf.set_xy(x + 4, y + 49)
        pdf.multi_cell(
            width - 8,
            3.5,
            t(
                N_(
                    "Sign in at {url}. This password works once, until {date}: "
                    "choose your own at first sign-in."
                ),
                url=login_url,
                date=expires,
            ),
            align="L",
        )
    if not creds.rows:
        pdf.add_page()
    return bytes(pdf.output())


def credentials_zip(creds: Credentials, *, lang: str, portal_url: str, portal_name: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            f"dang-nhap-{creds.batch_id}.xlsx", credentials_xlsx(creds, lang=lang, portal_url=portal_url)
        )
        archive.writestr(
            f"phieu-dang-nhap-{creds.batch_id}.pdf",
            credentials_pdf(creds, lang=lang, portal_url=portal_url, portal_name=portal_name),
        )
    return out.getvalue()


def render_credentials(
    creds: Credentials, fmt: str, *, lang: str, portal_url: str, portal_name: str
) -> tuple[bytes, str, str]:
    """(content, media type, file name) of a download."""
    if fmt == "xlsx":
        return (
            credentials_xlsx(creds, lang=lang, portal_url=portal_url),
            XLSX_MEDIA_TYPE,
            f"dang-nhap-{creds.batch_id}.xlsx",
        )
    if fmt == "pdf":
        return (
            credentials_pdf(creds, lang=lang, portal_url=portal_url, portal_name=portal_name),
            "application/pdf",
            f"phieu-dang-nhap-{creds.batch_id}.pdf",
        )
    return (
        credentials_zip(creds, lang=lang, portal_url=portal_url, portal_name=portal_name),
        "application/zip",
        f"dang-nhap-{creds.batch_id}.zip",
    )


def portal_url(slug: str, base_domain: str, *, production: bool) -> str:
    host = portal_host(slug, base_domain)
    return f"{'https' if production else 'http'}://{host}"
