"""XLSX files are XML: a workbook that declares XML entities (the "billion laughs" family) is refused, never
expanded. openpyxl parses through defusedxml when it is installed, hence the direct dependency."""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook


def workbook_with_an_entity() -> bytes:
    book = Workbook()
    book.active.append(["Họ và tên"])
    book.active.append(["PLACEHOLDER"])
    plain = io.BytesIO()
    book.save(plain)
    source = zipfile.ZipFile(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                declared = '<!DOCTYPE worksheet [<!ENTITY name "Nguyễn Văn An">]>' + data.decode()
                data = declared.replace("PLACEHOLDER", "&name;").encode()
            target.writestr(name, data)
    return out.getvalue()


def test_a_workbook_declaring_xml_entities_is_refused_not_expanded(world, client) -> None:
    client.login_api("admin")
    r = client.api(
        "POST",
        "/api/v1/users/import",
        files={"file": ("ds.xlsx", workbook_with_an_entity(), "application/octet-stream")},
        data={"dry_run": "true"},
        headers={"Accept-Language": "vi"},
    )
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "format" and r.json()["detail"] == "Không mở được tệp Excel."
    assert "Nguyễn Văn An" not in r.text
