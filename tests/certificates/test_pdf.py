"""The certificate PDF: Vietnamese text survives intact, code and address are printed, the QR code decodes"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata

import pytest
import segno
from fontTools.ttLib import TTFont
from fpdf import FPDF
from pypdf import PdfReader

from app.certificates.codes import new_certificate_code
from app.certificates.pdf import qr_code, render_certificate_pdf
from app.core.pdf_fonts import FAMILY, FONT_DIR, FONT_FILES, register_fonts

URL = "https://haiphong.onetouch.example.vn/chung-nhan/7KQ2-M9XD-4HNB-V0TE"
# Every letter of the Vietnamese alphabet with every tone, upper and lower case.
VIETNAMESE = (
    "".join(
        unicodedata.normalize("NFC", base + tone)
        for base in "aăâeêioôơuưyAĂÂEÊIOÔƠUƯY"
        for tone in ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
    )
    + "đĐ"
)


def render(**overrides: object) -> bytes:
    args: dict[str, object] = {
        "learner_name": "Nguyễn Thị Ánh Tuyết",
        "course_title": "Chuyển đổi số cơ bản cho cán bộ, công chức",
        "tenant_name": "Cổng đào tạo chuyển đổi số Hải Phòng",
        "issued_on": dt.date(2026, 3, 5),
        "code": "7KQ2-M9XD-4HNB-V0TE",
        "verify_url": URL,
    }
    args.update(overrides)
    return render_certificate_pdf(**args)  # type: ignore[arg-type]


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return unicodedata.normalize("NFC", reader.pages[0].extract_text())


def test_a_one_page_a4_landscape_pdf() -> None:
    pdf = render()
    assert pdf.startswith(b"%PDF-")
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)


@pytest.mark.parametrize(
    "name", ["Nguyễn Thị Ánh Tuyết", "Đặng Văn Đức", "Lê Thị Hồng Nhung", "Vũ Quốc Khánh"]
)
def test_the_vietnamese_name_survives_intact(name: str) -> None:
    text = text_of(render(learner_name=name))
    assert name in text
    raw = PdfReader(io.BytesIO(render(learner_name=name))).pages[0].extract_text()
    assert unicodedata.is_normalized("NFC", raw)  # extracted as precomposed letters, not base + mark


def test_decomposed_input_is_printed_in_nfc() -> None:
    name = "Đặng Văn Đức"
    text = (
        PdfReader(io.BytesIO(render(learner_name=unicodedata.normalize("NFD", name)))).pages[0].extract_text()
    )
    assert name in text


def test_labels_course_portal_date_code_and_address_are_printed() -> None:
    code = new_certificate_code()
    text = text_of(render(code=code))
    for expected in (
        "CHỨNG NHẬN",
        "Hoàn thành khóa học",
        "Chuyển đổi số cơ bản cho cán bộ, công chức",
        "Cổng đào tạo chuyển đổi số Hải Phòng",
        "05/03/2026",
        code,
        URL,
        "Mã chứng nhận",
        "Ngày cấp",
    ):
        assert expected in text, expected


def test_a_long_course_title_wraps_onto_two_lines() -> None:
    title = "Kỹ năng sử dụng Internet an toàn và phòng tránh lừa đảo trực tuyến cho người dân"
    text = text_of(render(course_title=title))
    assert title in re.sub(r"\s+", " ", text)


def test_a_long_name_is_printed_whole_on_two_lines_and_a_long_portal_name_is_shortened() -> None:
    name = "Tôn Nữ Thị Phương Thảo Nguyễn Phúc Vĩnh Long Hoàng Quý Công Chúa Bảo Bảo"
    portal = "Cổng đào tạo chuyển đổi số tỉnh Quảng Ngãi " * 3
    text = re.sub(r"\s+", " ", text_of(render(learner_name=name, tenant_name=portal)))
    assert name in text
    assert "Cổng đào tạo chuyển đổi số tỉnh Quảng Ngãi Cổng đào t" in text and "…" in text


@pytest.mark.parametrize("field", ["learner_name", "course_title", "tenant_name", "code"])
def test_a_certificate_needs_every_part(field: str) -> None:
    with pytest.raises(ValueError):
        render(**{field: "   "})


def test_english_labels_for_an_english_reader() -> None:
    text = text_of(render(lang="en"))
    assert "CERTIFICATE" in text and "Course completion" in text and "Nguyễn Thị Ánh Tuyết" in text


def test_the_qr_code_image_is_the_verification_address() -> None:
    page = PdfReader(io.BytesIO(render())).pages[0]
    images = list(page.images)
    assert len(images) == 1
    picture = images[0].image.convert("L")
    matrix = qr_code(URL).matrix
    modules = len(matrix)
    assert modules == qr_code(URL).symbol_size(border=0)[0]
    # Read the picture back module by module: border of 2 modules, 10 pixels each.
    scale = picture.width // (modules + 4)
    assert picture.width == picture.height == scale * (modules + 4)
    read = [
        [
            picture.getpixel(((2 + x) * scale + scale // 2, (2 + y) * scale + scale // 2)) < 128
            for x in range(modules)
        ]
        for y in range(modules)
    ]
    assert read == [[bool(v) for v in row] for row in matrix]


def test_the_qr_code_is_a_full_qr_code_with_medium_error_correction() -> None:
    qr = qr_code(URL)
    assert not qr.is_micro and qr.error == "M"
    assert qr.matrix == segno.make(URL, error="m", micro=False).matrix
    assert qr_code(URL + "x").matrix != qr.matrix


def test_the_same_certificate_renders_to_the_same_bytes() -> None:
    assert render() == render()
    assert render() != render(code="AAAA-BBBB-CCCC-DDDD")


def test_the_font_is_embedded() -> None:
    reader = PdfReader(io.BytesIO(render()))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = {str(f.get_object()["/BaseFont"]) for f in fonts.values()}
    assert any("DejaVu" in n for n in names), names


def test_only_web_addresses_are_encoded() -> None:
    with pytest.raises(ValueError):
        render(verify_url="javascript:alert(1)")


@pytest.mark.parametrize("style", sorted(FONT_FILES))
def test_the_vendored_fonts_have_every_vietnamese_letter(style: str) -> None:
    cmap = TTFont(FONT_FILES[style]).getBestCmap()
    missing = [ch for ch in VIETNAMESE if ord(ch) not in cmap]
    assert not missing


def test_the_font_licence_ships_with_the_fonts() -> None:
    licence = (FONT_DIR / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")
    assert "Bitstream Vera" in licence and "Arev" in licence


def test_register_fonts_gives_other_documents_the_same_family() -> None:
    pdf = FPDF()
    register_fonts(pdf)
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(text="Phiếu đăng nhập: Trần Văn Đạt")
    text = PdfReader(io.BytesIO(bytes(pdf.output()))).pages[0].extract_text()
    assert "Phiếu đăng nhập: Trần Văn Đạt" in text
