"""Extract UI strings into app/locale/messages.pot and merge them into the vi and en catalogs.

Usage: `make messages` (then translate the new, empty `msgstr` entries in app/locale/vi/LC_MESSAGES/messages.po).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "app" / "locale"
BIN = Path(sys.executable).parent


def main() -> int:
    pot = LOCALE / "messages.pot"
    subprocess.run(
        [
            str(BIN / "pybabel"),
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "_",
            "--no-location",
            "--sort-output",
            "--omit-header",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
    )
    for lang in ("vi", "en"):
        po = LOCALE / lang / "LC_MESSAGES" / "messages.po"
        action = "update" if po.exists() else "init"
        cmd = [str(BIN / "pybabel"), action, "-i", str(pot), "-d", str(LOCALE), "-l", lang, "--no-wrap"]
        if action == "update":
            cmd += ["--no-fuzzy-matching", "--ignore-obsolete"]
        subprocess.run(cmd, cwd=ROOT, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
