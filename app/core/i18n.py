"""Message catalogs (Babel/gettext) and Vietnamese-first formatting of dates and numbers.

Catalogs live in `app/locale/<lang>/LC_MESSAGES/messages.po`; they are compiled in memory at start-up,
so there is no build step. Message ids are English; `vi` translates every one of them.
"""

from __future__ import annotations

import datetime as dt
import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.core import Locale
from babel.dates import format_date as _babel_format_date
from babel.dates import format_datetime as _babel_format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")


@cache
def translations(lang: str) -> Translations:
    po_path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return Translations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(fp=buf)


def pick_language(*candidates: str | None) -> str:
    for candidate in candidates:
        if not candidate:
            continue
        for part in candidate.split(","):
            code = part.split(";")[0].strip().lower()[:2]
            if code in LANGUAGES:
                return code
    return DEFAULT_LANGUAGE


def translate(lang: str, message: str, /, **params: Any) -> str:
    """A message in `lang`, its parameters filled in. A parameter that is a list of errors (a file's problems,
    reported together) becomes their messages, translated too, one per line."""
    text = translations(lang).gettext(message)
    if not params:
        return text
    return text.format(**{name: _param(lang, value) for name, value in params.items()})


def _param(lang: str, value: Any) -> Any:
    if isinstance(value, (list, tuple)) and value and all(hasattr(v, "message") for v in value):
        return "\n".join(translate(lang, v.message, **v.params) for v in value)
    return value


def translate_plural(lang: str, singular: str, plural: str, n: int, /, **params: Any) -> str:
    text = translations(lang).ngettext(singular, plural, n)
    return text.format(n=n, **params)


def format_number(lang: str, value: float | int | None, digits: int = 0) -> str:
    if value is None:
        return ""
    fmt = "#,##0" if digits == 0 else "#,##0." + "0" * digits
    return format_decimal(value, format=fmt, locale=Locale.parse(lang))


def format_date(lang: str, value: dt.date | dt.datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(VN_TZ).date()
    if lang == "vi":
        return value.strftime("%d/%m/%Y")
    return _babel_format_date(value, format="medium", locale=Locale.parse(lang))


def format_datetime(lang: str, value: dt.datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(VN_TZ)
    if lang == "vi":
        return local.strftime("%H:%M %d/%m/%Y")
    return _babel_format_datetime(local, format="medium", locale=Locale.parse(lang))
