"""Unit kinds (SPEC §4) and the words admins use for them in spreadsheets, folded (no accents, lower case)."""

from __future__ import annotations

from app.core.errors import N_

UNIT_KINDS = {
    "department": N_("Department or agency"),
    "district": N_("District"),
    # District-level cities and towns (thành phố, thị xã thuộc tỉnh): 87 cities and 52 towns before July 2025.
    "city": N_("City or town (district level)"),
    "commune": N_("Commune or ward"),
    "village": N_("Village or residential group"),
    "team": N_("Community digital-technology team"),
    "enterprise": N_("Enterprise"),
}

# Folded spellings (see app.core.spreadsheets.fold_key) → kind.
KIND_ALIASES = {
    "department": "department",
    "so ban nganh": "department",
    "so": "department",
    "ban": "department",
    "nganh": "department",
    "so nganh": "department",
    "co quan": "department",
    "agency": "department",
    "district": "district",
    "quan huyen": "district",
    "quan": "district",
    "huyen": "district",
    "quan huyen thi xa": "district",
    "city": "city",
    "town": "city",
    "thanh pho": "city",
    "thi xa": "city",
    "thanh pho thi xa": "city",
    "thanh pho thuoc tinh": "city",
    "commune": "commune",
    "ward": "commune",
    "xa phuong thi tran": "commune",
    "xa phuong": "commune",
    "xa": "commune",
    "phuong": "commune",
    "thi tran": "commune",
    "dac khu": "commune",  # special zones (Phú Quốc, Côn Đảo…): commune-level since July 2025
    "village": "village",
    "thon to dan pho": "village",
    "thon": "village",
    "to dan pho": "village",
    "ap": "village",
    "ban lang": "village",
    "khu pho": "village",
    "xom": "village",
    "team": "team",
    "to cnscd": "team",
    "to cong nghe so cong dong": "team",
    "to cong nghe so": "team",
    "enterprise": "enterprise",
    "doanh nghiep": "enterprise",
    "cong ty": "enterprise",
}

UNIT_HEADER_ALIASES = {
    "ma": "code",
    "ma don vi": "code",
    "code": "code",
    "ten": "name",
    "ten don vi": "name",
    "name": "name",
    "loai": "kind",
    "loai don vi": "kind",
    "kind": "kind",
    "ma cap tren": "parent",
    "ma don vi cap tren": "parent",
    "cap tren": "parent",
    "parent": "parent",
    "parent code": "parent",
}
UNIT_REQUIRED = ("code", "name", "kind")
MAX_CODE = 64
MAX_NAME = 255
