"""The certificate (chứng nhận): an A4 landscape PDF with a QR code to its public verification page."""

from __future__ import annotations

import datetime as dt
import io
from typing import Final

import segno
from fpdf import FPDF

from app.core.errors import N_
from app.core.i18n import VN_TZ, translate
from app.core.pdf_fonts import FAMILY, register_fonts
from app.core.text import nfc

DEFAULT_ACCENT: Final = "#0b5394"
PAGE_W: Final = 297.0  # A4 landscape, millimetres
PAGE_H: Final = 210.0
MARGIN: Final = 24.0
QR_SIZE: Final = 36.0
QR_ERROR_LEVEL: Final = "m"  # survives a crease or a smudge on a printed page


def qr_code(url: str) -> segno.QRCode:
    """The QR code printed on a certificate (a full QR code, never a Micro QR: phones read those poorly)."""
    return segno.make(url, error=QR_ERROR_LEVEL, micro=False)


def qr_png(url: str) -> bytes:
    buf = io.BytesIO()
    qr_code(url).save(buf, kind="png", scale=10, border=2)
    return buf.getvalue()


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    if len(value) != 6:
        raise ValueError(colour)
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _fit_font(pdf: FPDF, text: str, style: str, size: float, min_size: float, width: float) -> None:
    """The largest font size from `size` down to `min_size` at which `text` fits on one line of `width`."""
    while size > min_size:
        pdf.set_font(FAMILY, style, size)
        if pdf.get_string_width(text) <= width:
            return
        size -= 1
    pdf.set_font(FAMILY, style, min_size)


def _balanced(pdf: FPDF, text: str) -> str:
    """Break a long title into two lines of similar width, instead of a full line and an orphaned word."""
    words = text.split(" ")
    if len(words) < 2:
        return text
    best = min(
        range(1, len(words)),
        key=lambda i: max(
            pdf.get_string_width(" ".join(words[:i])), pdf.get_string_width(" ".join(words[i:]))
        ),
    )
    return " ".join(words[:best]) + "\n" + " ".join(words[best:])


def _truncate(pdf: FPDF, text: str, width: float) -> str:
    """`text`, cut short with an ellipsis if it is still wider than `width` at the current font size."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _centred(pdf: FPDF, text: str, height: float) -> None:
    pdf.multi_cell(0, height, text, align="C", new_x="LMARGIN", new_y="NEXT")


def render_certificate_pdf(
    *,
    learner_name: str,
    course_title: str,
    tenant_name: str,
    issued_on: dt.date,
    code: str,
    verify_url: str,
    lang: str = "vi",
    accent: str = DEFAULT_ACCENT,
) -> bytes:
    """Render a certificate. Text is NFC-normalised; labels come from the message catalog in `lang`.

    The same arguments always give the same bytes (the PDF's dates are the issue date), so a certificate can
    be rendered on demand instead of stored.
    """
    if not verify_url.startswith(("https://", "http://")):
        raise ValueError("verify_url must be an http(s) URL")
    learner_name, course_title, tenant_name, code = (
        nfc(v) for v in (learner_name, course_title, tenant_name, code)
    )
    if not (learner_name and course_title and tenant_name and code):
        raise ValueError("a certificate needs a learner name, a course title, a portal name and a code")

    def t(message: str, **params: str) -> str:
        return translate(lang, message, **params)

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    register_fonts(pdf)
    issued_at = dt.datetime.combine(issued_on, dt.time(9, 0), tzinfo=VN_TZ)
    pdf.set_creation_date(issued_at)
    pdf.set_title(t(N_("Certificate – {course}"), course=course_title))
    pdf.set_author(tenant_name)
    pdf.set_subject(learner_name)
    pdf.set_creator("OneTouch")
    pdf.set_lang(lang)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(False)
    pdf.add_page()
    width = PAGE_W - 2 * MARGIN
    line_width = width - 2 * pdf.c_margin - 1  # what a centred cell of `width` leaves for its text
    accent_rgb = _rgb(accent)

    # Frame: a heavy outer line and a thin inner one.
    pdf.set_draw_color(*accent_rgb)
    pdf.set_line_width(1.6)
    pdf.rect(10, 10, PAGE_W - 20, PAGE_H - 20)
    pdf.set_line_width(0.4)
    pdf.rect(14, 14, PAGE_W - 28, PAGE_H - 28)

    pdf.set_y(22)
    pdf.set_text_color(90, 90, 90)
    _fit_font(pdf, tenant_name.upper(), "B", 12, 8, line_width)
    _centred(pdf, tenant_name.upper(), 7)

    pdf.ln(5)
    pdf.set_text_color(*accent_rgb)
    pdf.set_font(FAMILY, "B", 40)
    _centred(pdf, t(N_("CERTIFICATE")), 17)
    pdf.set_font(FAMILY, "", 17)
    _centred(pdf, t(N_("Course completion")), 9)

    pdf.ln(6)
    pdf.set_text_color(60, 60, 60)
    pdf.set_font(FAMILY, "", 13)
    _centred(pdf, t(N_("Awarded to")), 7)
    pdf.set_text_color(20, 20, 20)
    _fit_font(pdf, learner_name, "B", 32, 20, line_width)
    if pdf.get_string_width(learner_name) > line_width:
        _centred(pdf, _balanced(pdf, learner_name), 10)
    else:
        _centred(pdf, learner_name, 15)

    pdf.ln(2)
    pdf.set_text_color(60, 60, 60)
    pdf.set_font(FAMILY, "", 13)
    _centred(pdf, t(N_("for completing the course")), 7)
    pdf.set_text_color(20, 20, 20)
    _fit_font(pdf, course_title, "B", 20, 15, line_width)
    if pdf.get_string_width(course_title) > line_width:
        pdf.set_font(FAMILY, "B", 16)
        course_title = _balanced(pdf, course_title)
    _centred(pdf, course_title, 8.5)

    # Bottom left: issuer, date, code. Bottom right: the QR code.
    qr_x, qr_y = PAGE_W - MARGIN - QR_SIZE, PAGE_H - MARGIN - QR_SIZE - 6
    pdf.image(io.BytesIO(qr_png(verify_url)), x=qr_x, y=qr_y, w=QR_SIZE, h=QR_SIZE, alt_text=verify_url)
    pdf.set_text_color(60, 60, 60)
    pdf.set_font(FAMILY, "", 7.5)
    pdf.set_xy(qr_x - 12, qr_y + QR_SIZE + 0.5)
    pdf.cell(QR_SIZE + 24, 4, t(N_("Scan to verify this certificate")), align="C")

    label_w, value_x = 38.0, MARGIN + 40.0
    rows = (
        (t(N_("Issued by")), tenant_name),
        (t(N_("Date of issue")), f"{issued_on:%d/%m/%Y}"),
        (t(N_("Certificate code")), code),
    )
    y = qr_y + 4
    for label, value in rows:
        pdf.set_xy(MARGIN + 2, y)
        pdf.set_font(FAMILY, "", 11)
        pdf.set_text_color(90, 90, 90)
        pdf.cell(label_w, 7, f"{label}:")
        pdf.set_xy(value_x, y)
        pdf.set_text_color(20, 20, 20)
        _fit_font(pdf, value, "B", 12, 8, qr_x - value_x - 8)
        pdf.cell(qr_x - value_x - 6, 7, _truncate(pdf, value, qr_x - value_x - 8))
        y += 8

    # The verification address in full, for readers without a phone camera.
    pdf.set_xy(MARGIN, PAGE_H - 20)
    pdf.set_text_color(90, 90, 90)
    _fit_font(pdf, verify_url, "", 8, 5, line_width)
    pdf.cell(width, 4, verify_url, align="C", link=verify_url)
    return bytes(pdf.output())
