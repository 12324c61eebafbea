"""Usernames made from Vietnamese names: `Nguyễn Văn An` → `annv`, then `annv2`, `annv3`… in a tenant."""

from __future__ import annotations

import re

from app.core.text import fold, nfc

_NOT_LETTER_OR_DIGIT = re.compile(r"[^a-z0-9]")
FALLBACK = "hocvien"


def username_base(full_name: str) -> str:
    """The given name (last word), then the initials of the family and middle names, folded (`đ` → `d`)."""
    parts = [_NOT_LETTER_OR_DIGIT.sub("", p) for p in fold(nfc(full_name)).split()]
    parts = [p for p in parts if p]
    if not parts:
        return FALLBACK
    base = (parts[-1] + "".join(p[0] for p in parts[:-1]))[:56]
    return base if len(base) >= 2 else FALLBACK


class UsernameAllocator:
    """Collision-free usernames against a set already taken (a counter per base keeps bulk imports linear)."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = taken
        self.next_suffix: dict[str, int] = {}

    def allocate(self, full_name: str) -> str:
        base = username_base(full_name)
        candidate = base
        n = self.next_suffix.get(base, 1)
        if n > 1 or candidate in self.taken:
            n = max(n, 2)
            candidate = f"{base}{n}"
            while candidate in self.taken:
                n += 1
                candidate = f"{base}{n}"
            self.next_suffix[base] = n + 1
        self.taken.add(candidate)
        return candidate
