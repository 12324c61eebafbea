"""Fonts for generated PDFs: DejaVu Sans (regular and bold), vendored in app/core/fonts with its licence.

fpdf2's built-in fonts are Latin-1 only; DejaVu Sans has every precomposed Vietnamese letter, so NFC text
renders without a shaping engine and extracts back as the same characters. Nothing is downloaded at run time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fpdf import FPDF

FONT_DIR: Final = Path(__file__).resolve().parent / "fonts"
FAMILY: Final = "DejaVu"
FONT_FILES: Final = {"": FONT_DIR / "DejaVuSans.ttf", "B": FONT_DIR / "DejaVuSans-Bold.ttf"}


def register_fonts(pdf: FPDF) -> None:
    """Register the `DejaVu` family, styles "" and "B", on a document; then `set_font(FAMILY, "B", 24)`."""
    for style, path in FONT_FILES.items():
        pdf.add_font(FAMILY, style, path)
