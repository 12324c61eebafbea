"""Turn Vietnam's public registers of administrative units into the project's own compact files.

    python scripts/units_register.py communes-2025 PATH/dvhcvn_20250701   # → app/units/data/communes_2025.csv
    python scripts/units_register.py register-2025-03 PATH/dvhcvn_20250301
                                                    # → tests/fixtures/units/register_2025-03-01.csv.gz

The raw inputs are not part of the repository (see app/units/data/README.md for their sources, dates and
licences); this script is how the files derived from them were made, and how to make them again.

- `communes-2025` reads `1027_CTK-CSCL.md` (Công văn 1027/CTK-CSCL of 25 June 2025: the 3,321 commune-level
  units of the 34 provinces since 1 July 2025, as a Markdown table `Stt | Mã số | Tên | Tỉnh`) and writes
  `province,code,name,kind` rows, `province` being the province's slug (app/reports/data/provinces.csv).
- `register-2025-03` reads `dvhcvn.json` (the GSO's register as of 01/03/2025: 63 provinces, 696 districts,
  10,047 communes) and writes a units file as a province admin would import it, gzipped: `Mã,Tên,Loại,Mã cấp
  trên,Tỉnh` (districts at the top, communes under them; `Tỉnh` is the province's slug, a column the import
  ignores). The tests use it for the national import and for names that differ only by their tone marks.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROVINCES = ROOT / "app" / "reports" / "data" / "provinces.csv"
COMMUNES_2025 = ROOT / "app" / "units" / "data" / "communes_2025.csv"
REGISTER_2025_03 = ROOT / "tests" / "fixtures" / "units" / "register_2025-03-01.csv.gz"
CODE = re.compile(r"^\d{5}$")
PREFIXES = ("tinh ", "thanh pho ", "tp ")
# Thừa Thiên Huế became the centrally-run Thành phố Huế on 1 January 2025; provinces.csv keeps the old name.
OLD_NAMES = {"hue": "thua thien hue"}


def clean(text: str) -> str:
    """One line, NFC, single spaces (the Markdown table breaks long names with `<br>`)."""
    text = unicodedata.normalize("NFC", text.replace("<br>", " "))
    return re.sub(r"\s+", " ", text).strip()


def fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return re.sub(r"\s+", " ", "".join(c for c in text if not unicodedata.combining(c)).lower()).strip()


def province_key(name: str) -> str:
    """`Tỉnh Lâm Đồng`, `Tp Hồ Chí Minh`, `Thành phố Hà Nội` → `lam dong`, `ho chi minh`, `ha noi`."""
    key = fold(name)
    for prefix in PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def province_slugs(column: str) -> dict[str, str]:
    """Folded province name → slug, for the 34 (`successor`) or the 63 (`name`) provinces."""
    slugs: dict[str, str] = {}
    with PROVINCES.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            name, slug = row[column], row["slug" if column == "name" else "successor_slug"]
            slugs[province_key(name)] = slug
    return slugs


def communes_2025(source: Path, out: Path) -> int:
    slugs = province_slugs("successor_name")
    rows: list[tuple[str, str, str, str]] = []
    for line in (source / "1027_CTK-CSCL.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not CODE.match(cells[1]):
            continue  # the header, the separator, and each province's heading row
        code, name, province = cells[1], clean(cells[2]), clean(cells[3])
        slug = slugs.get(province_key(province))
        if slug is None:
            raise SystemExit(f"unknown province {province!r} (code {code})")
        rows.append((slug, code, name, "commune"))
    if len({r[1] for r in rows}) != len(rows):
        raise SystemExit("a commune code appears twice")
    rows.sort(key=lambda r: (r[0], r[1]))
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["province", "code", "name", "kind"])
        writer.writerows(rows)
    return len(rows)


def register_2025_03(source: Path, out: Path) -> int:
    slugs = province_slugs("name")
    data = json.loads((source / "dvhcvn.json").read_text(encoding="utf-8"))["data"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Mã", "Tên", "Loại", "Mã cấp trên", "Tỉnh"])
    count = 0
    for province in data:
        key = province_key(province["name"])
        slug = slugs[OLD_NAMES.get(key, key)]
        for district in province["level2s"]:
            writer.writerow([district["level2_id"], clean(district["name"]), district["type"], "", slug])
            count += 1
            for commune in district["level3s"]:
                row = [
                    commune["level3_id"],
                    clean(commune["name"]),
                    commune["type"],
                    district["level2_id"],
                    slug,
                ]
                writer.writerow(row)
                count += 1
    out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same input gives the same bytes, so regenerating it changes nothing in git.
    out.write_bytes(gzip.compress(buffer.getvalue().encode("utf-8"), compresslevel=9, mtime=0))
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("communes-2025", help="the 3,321 communes since 1 July 2025")
    p.add_argument("source", type=Path, help="the dvhcvn/20250701 folder (1027_CTK-CSCL.md)")
    p.add_argument("--out", type=Path, default=COMMUNES_2025)
    p = sub.add_parser("register-2025-03", help="the 696 districts and 10,047 communes as of 01/03/2025")
    p.add_argument("source", type=Path, help="the dvhcvn folder of 20250301 (dvhcvn.json)")
    p.add_argument("--out", type=Path, default=REGISTER_2025_03)
    args = parser.parse_args(argv)
    if args.command == "communes-2025":
        count = communes_2025(args.source, args.out)
    else:
        count = register_2025_03(args.source, args.out)
    print(f"{count} units → {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
