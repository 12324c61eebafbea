"""In a real Chromium, on a phone: a province admin loads the official communes since 1 July 2025 with the
button, imports a team below one of them, and opens the tree a level at a time (htmx swaps the level in place)
and searches it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, LiveServer, assert_accessible, sign_in

pytestmark = pytest.mark.browser


def test_admin_loads_the_official_communes_and_opens_the_tree_in_place(
    new_context: Any, live_server: LiveServer, tmp_path: Any
) -> None:
    page = new_context(viewport=PHONE).new_page()
    sign_in(page, live_server, "admin", slug="quangngai")
    page.goto(live_server.url("quangngai", "/admin/units"))
    expect(page.get_by_role("heading", name="Xã, phường chính thức từ ngày 01/07/2025")).to_be_visible()
    page.get_by_role("button", name="Nạp xã, phường chính thức").click()
    expect(page.get_by_role("status").first).to_contain_text("đã tạo 96 đơn vị")
    expect(page.locator("#tree > li")).to_have_count(96)
    assert_accessible(page)

    units = tmp_path / "to-cnscd.csv"
    team = "TCN-21025,Tổ CNSCĐ Cẩm Thành,Tổ CNSCĐ,21025"
    units.write_text(f"Mã,Tên,Loại,Mã cấp trên\n{team}\n", encoding="utf-8")
    page.get_by_label("Tệp").set_input_files(str(units))
    page.get_by_role("button", name="Nhập", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("đã tạo 1 đơn vị")

    url = page.url
    commune = page.locator("#tree > li").filter(has_text="Phường Cẩm Thành")
    commune.get_by_role("link", name="1 đơn vị cấp dưới").click()
    expect(commune.locator("ul li")).to_contain_text("Tổ CNSCĐ Cẩm Thành")  # swapped in, no new page
    assert page.url == url
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_label("Tìm đơn vị theo tên hoặc mã").fill("to cnscd cam thanh")
    page.get_by_role("button", name="Tìm", exact=True).click()
    expect(page.locator("main")).to_contain_text("Phường Cẩm Thành")  # where the team sits
    assert_accessible(page)
