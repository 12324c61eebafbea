"""Journeys in a real Chromium: a trainer writes and publishes a course, a learner finds and finishes it;
a learner reads and completes a lesson with JavaScript switched off; and the three journeys of the issue:

1. a learner signs in with the one-time password of a bulk import, studies, passes the final test, downloads
   the certificate and verifies it;
2. a province admin imports a spreadsheet (errors, fix, confirm, the one credentials download), creates a
   cohort, reads the report and exports it;
4. the national admin creates a portal, the national trainer publishes a course that the new portal lists,
   and the national report shows the new portal.

Each page of a journey is checked with axe (`assert_accessible`); any console error fails the test.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from app.imports.jobs import thread_runner
from tests.browser.conftest import PHONE, LiveServer, assert_accessible, docs_screenshot, sign_in
from tests.browser.learning import Api, quiz_bank, right_answer, right_option_texts
from tests.browser.live import only_localhost

pytestmark = pytest.mark.browser


def test_trainer_publishes_a_course_that_a_learner_finds_reads_and_completes(
    new_context: Any, live_server: LiveServer
) -> None:
    suffix = uuid.uuid4().hex[:4]
    title = f"Kỹ năng số cho người cao tuổi {suffix}"
    trainer = new_context(viewport={"width": 1024, "height": 800}).new_page()
    sign_in(trainer, live_server, "trainer")

    trainer.get_by_role("link", name="Soạn bài").click()
    expect(trainer.get_by_role("heading", level=1)).to_have_text("Soạn bài")
    assert_accessible(trainer)
    docs_screenshot(trainer, "trainer-authoring", full_page=True)
    trainer.get_by_label("Tiêu đề").fill(title)
    trainer.get_by_label("Tóm tắt").fill("Dùng điện thoại thông minh an toàn, từng bước một.")
    trainer.get_by_role("button", name="Tạo khóa học").click()
    expect(trainer.get_by_role("heading", level=1)).to_have_text(title)
    course_url = trainer.url
    assert_accessible(trainer)

    trainer.get_by_label("Phần mới").fill("Làm quen với điện thoại")
    trainer.get_by_role("button", name="Thêm phần").click()
    trainer.get_by_label("Bài học mới").fill("Bật và tắt máy")
    trainer.get_by_role("button", name="Thêm bài học").click()
    expect(trainer).to_have_url(re.compile(r"/author/lessons/\d+$"))
    lesson_id = int(trainer.url.rsplit("/", 1)[1])
    assert_accessible(trainer)

    # The live preview: htmx posts the Markdown as it is typed and swaps the sanitised HTML in.
    body = trainer.get_by_label("Nội dung (Markdown)")
    preview = trainer.locator("#preview")
    body.fill("# Nút nguồn\n\nGiữ **nút nguồn** trong ba giây.\n\n<script>window.__pwned = 1</script>")
    expect(preview.locator("strong")).to_have_text("nút nguồn")
    expect(preview.locator("h1, h2, h3")).to_have_count(1)
    expect(preview.locator("script")).to_have_count(0)
    assert "__pwned" not in preview.inner_html()
    assert trainer.evaluate("() => window.__pwned") is None
    body.fill("Giữ **nút nguồn** trong ba giây rồi thả tay.")
    expect(preview).to_contain_text("rồi thả tay")
    trainer.get_by_role("button", name="Lưu").click()
    expect(trainer.get_by_role("status")).to_contain_text("Đã lưu")
    docs_screenshot(trainer, "trainer-lesson-editor", full_page=True)

    trainer.goto(course_url)
    trainer.get_by_role("button", name="Xuất bản").click()
    expect(trainer.get_by_text("Đã xuất bản", exact=True)).to_be_visible()
    docs_screenshot(trainer, "trainer-course", full_page=True)

    # A learner on a small phone, in a browser of their own.
    learner = new_context(viewport=PHONE).new_page()
    sign_in(learner, live_server, "hocvien1")
    learner.get_by_role("navigation", name="Menu chính").get_by_role("link", name="Khóa học").click()
    learner.get_by_label("Tìm khóa học").fill(f"KY NANG SO CHO NGUOI CAO TUOI {suffix}")
    learner.get_by_role("button", name="Tìm", exact=True).click()
    expect(learner.get_by_text("1 khóa học")).to_be_visible()
    assert_accessible(learner)
    learner.get_by_role("link", name=title).click()
    learner.get_by_role("button", name="Ghi danh").click()
    learner.goto(live_server.url("haiphong", f"/lessons/{lesson_id}"))
    expect(learner.get_by_role("heading", level=1)).to_have_text("Bật và tắt máy")
    expect(learner.locator(".lesson-body strong")).to_have_text("nút nguồn")
    # Nothing wider than the phone's screen: no sideways scrolling to read.
    assert learner.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(learner)
    learner.get_by_role("button", name="Đánh dấu đã học xong").click()
    expect(learner.locator("#progress")).to_contain_text("100%")
    expect(learner.locator("#progress progress")).to_have_attribute("value", "100")
    learner.get_by_role("link", name="Việc học của tôi").click()
    expect(learner.locator("main")).to_contain_text(title)
    assert_accessible(learner)
    docs_screenshot(learner, "learner-my-learning")


def test_learner_reads_and_completes_a_lesson_without_javascript(
    new_context: Any, live_server: LiveServer
) -> None:
    page = new_context(java_script_enabled=False).new_page()
    sign_in(page, live_server, "hocvien2")
    page.goto(live_server.url("haiphong", "/courses/an-toan-tren-mang"))
    page.get_by_role("button", name="Ghi danh").click()
    # Enrolling opens the first lesson.
    expect(page).to_have_url(re.compile(r"/lessons/\d+$"))
    expect(page.locator(".lesson-body")).not_to_be_empty()
    first_lesson = page.url
    page.get_by_role("button", name="Đánh dấu đã học xong").click()
    # Without JavaScript the form posts and the next lesson opens, with the progress counted.
    expect(page).not_to_have_url(first_lesson)
    expect(page.locator("#progress")).to_contain_text(re.compile(r"\b1/\d+ bài"))
    page.goto(live_server.url("haiphong", "/learning"))
    expect(page.locator("main progress")).to_have_count(1)
    assert page.locator("main progress").get_attribute("value") != "0"


def test_main_actions_are_reachable_with_the_keyboard(new_context: Any, live_server: LiveServer) -> None:
    page = new_context().new_page()
    page.goto(live_server.url("haiphong", "/login"))
    page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.textContent.trim()")
    assert focused == "Chuyển đến nội dung", "the first Tab should reach the skip link"
    page.get_by_label("Tên đăng nhập, email hoặc số điện thoại").fill("hocvien3")
    page.keyboard.press("Tab")
    page.keyboard.type("demo1234")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Đăng nhập"
    # The focused control shows a visible outline.
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login" not in url)
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()


# Helpers of the journeys -------------------------------------------------------------------------

ADMIN_MENU = "Quản trị"
NEW_PASSWORD = "HocTap2026moi"


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def downloaded(page: Any, click: Callable[[], None]) -> tuple[str, bytes]:
    """Click something that starts a download; return the file's suggested name and its bytes."""
    with page.expect_download() as info:
        click()
    download = info.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def xlsx_rows(data: bytes) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def one_time_passwords(data: bytes) -> dict[str, tuple[str, str]]:
    """The credentials XLSX: full name → (username, one-time password)."""
    header, *rows = xlsx_rows(data)
    name, user, secret = (header.index(h) for h in ("Họ và tên", "Tên đăng nhập", "Mật khẩu dùng một lần"))
    return {row[name]: (row[user], row[secret]) for row in rows}


@contextmanager
def background_imports(server: LiveServer, *, threshold: int) -> Iterator[threading.Event]:
    """Run imports over `threshold` rows in the background, each held until the returned gate opens, so the
    page is seen while the job runs (the progress bar) whatever the machine's speed."""
    gate = threading.Event()

    def held_runner(work: Callable[[], None]) -> None:
        def held() -> None:
            gate.wait(30)
            work()

        thread_runner(held)

    old_runner, old_threshold = server.app.state.job_runner, server.settings.import_async_threshold_rows
    server.app.state.job_runner = held_runner
    server.settings.import_async_threshold_rows = threshold
    try:
        yield gate
    finally:
        gate.set()
        server.app.state.job_runner = old_runner
        server.settings.import_async_threshold_rows = old_threshold


def upload(page: Any, name: str, content: str) -> None:
    page.get_by_label("Tệp").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content.encode("utf-8")}
    )
    page.get_by_role("button", name="Kiểm tra tệp").click()


# Journey 1: a learner from a bulk import, to the certificate ------------------------------------------------


def test_journey_1_imported_learner_passes_the_final_test_and_verifies_the_certificate(
    new_context: Any, live_server: LiveServer
) -> None:
    suffix = uuid.uuid4().hex[:6]
    full_name = "Phạm Thị Hương Giang"
    phone = "098" + str(int(suffix, 16) % 10_000_000).zfill(7)
    # The province admin's import (through the API, as a script would), and the one download of the slips.
    admin = Api(live_server.url("haiphong", "")).sign_in("admin")
    sheet = f"Họ và tên,Số điện thoại,Đối tượng\n{full_name},{phone},Cán bộ công chức\n"
    result = admin.call(
        "POST",
        "/api/v1/users/import",
        files={"file": ("hocvien.csv", sheet.encode("utf-8"), "text/csv")},
        data={"dry_run": "false"},
    ).json()
    assert result["created"] == 1 and not result["errors"], result
    slips = admin.call("POST", result["credentials_url"], params={"format": "xlsx"}).content
    username, secret = one_time_passwords(slips)[full_name]

    page = new_context(viewport=PHONE).new_page()
    page.goto(live_server.url("haiphong", "/login"))
    page.get_by_label("Tên đăng nhập, email hoặc số điện thoại").fill(username)
    page.get_by_label("Mật khẩu").fill(secret)
    page.get_by_role("button", name="Đăng nhập").click()
    # A one-time password opens only the change-password form.
    expect(page).to_have_url(re.compile(r"/account/password"))
    expect(page.get_by_text("Vui lòng đặt mật khẩu của riêng bạn", exact=False)).to_be_visible()
    assert_accessible(page)
    docs_screenshot(page, "learner-change-password")
    page.get_by_label("Mật khẩu hiện tại").fill(secret)
    page.get_by_label("Mật khẩu mới", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Nhập lại mật khẩu mới").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Lưu").click()
    expect(page).not_to_have_url(re.compile(r"/account/password"))

    # The catalog, searched without accents.
    page.get_by_role("navigation", name="Menu chính").get_by_role("link", name="Khóa học").click()
    page.get_by_label("Tìm khóa học").fill("chuyen doi so co ban")
    page.get_by_role("button", name="Tìm", exact=True).click()
    title = "Chuyển đổi số cơ bản cho cán bộ, công chức"
    docs_screenshot(page, "learner-catalog-search")
    page.get_by_role("link", name=title).click()
    page.get_by_role("button", name="Ghi danh").click()
    expect(page).to_have_url(re.compile(r"/lessons/\d+$"))
    docs_screenshot(page, "learner-lesson-phone")

    # Read every lesson up to the final test.
    quiz_link = page.get_by_role("link", name=re.compile("^Làm bài kiểm tra"))
    for _ in range(12):
        if quiz_link.count():
            break
        expect(page.locator(".lesson-body")).not_to_be_empty()
        page.get_by_role("button", name="Đánh dấu đã học xong").click()
        expect(page.locator("#progress").get_by_role("status")).to_contain_text("Đã hoàn thành bài học.")
        page.locator("#progress").get_by_role("link", name="Bài tiếp theo").click()
        page.wait_for_load_state()
    expect(page.locator("#progress")).to_contain_text("6/7")
    assert_accessible(page)
    quiz_link.click()

    # The final test: options are shuffled on the page, so the right ones are found by their text.
    expect(page).to_have_url(re.compile(r"/quizzes/\d+$"))
    assert_accessible(page)
    docs_screenshot(page, "learner-quiz")
    page.get_by_role("button", name="Bắt đầu làm bài").click()
    expect(page).to_have_url(re.compile(r"/attempts/\d+$"))
    assert_accessible(page)
    docs_screenshot(page, "learner-attempt")
    bank = quiz_bank("cds-co-ban")
    questions = page.locator("fieldset.question")
    assert questions.count() == 10
    for i in range(questions.count()):
        fieldset = questions.nth(i)
        field_name = fieldset.locator("input").first.get_attribute("name")
        question = bank[field_name.removeprefix("q-")]
        if question.kind == "short":
            fieldset.get_by_role("textbox").fill(right_answer(question))
            continue
        right = {nfc(t) for t in right_option_texts(question)}
        labels = fieldset.locator("label.check")
        for j in range(labels.count()):
            if nfc(labels.nth(j).inner_text().strip()) in right:
                labels.nth(j).locator("input").check()
        assert fieldset.locator("input:checked").count() == len(right), question.id
    page.get_by_role("button", name="Nộp bài").click()
    expect(page.get_by_text("Đạt. Chúc mừng bạn!")).to_be_visible()
    expect(page.locator(".score")).to_contain_text("100%")
    assert_accessible(page)
    docs_screenshot(page, "learner-result")

    # The certificate: its PDF carries the learner's Vietnamese name and the verification address.
    page.get_by_role("link", name="Xem chứng nhận của bạn").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Chứng nhận của tôi")
    expect(page.locator("main")).to_contain_text(title)
    assert_accessible(page)
    docs_screenshot(page, "learner-certificates")
    filename, pdf = downloaded(page, lambda: page.get_by_role("link", name="Tải PDF").click())
    assert filename.endswith(".pdf") and pdf.startswith(b"%PDF-")
    text = nfc(PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert full_name in text and title in text
    found = re.search(r"http://haiphong\.localhost:\d+/verify/[0-9A-Z-]+", text.replace("\n", ""))
    assert found, text
    verify_url = found.group(0)
    assert verify_url.startswith(live_server.url("haiphong", "/verify/"))

    # The QR code's address, opened by anybody (no sign-in).
    stranger = new_context(viewport=PHONE).new_page()
    stranger.goto(verify_url)
    expect(stranger.get_by_role("status")).to_have_text("Chứng nhận này còn hiệu lực.")
    expect(stranger.locator("dl.facts")).to_contain_text(full_name)
    expect(stranger.locator("dl.facts")).to_contain_text(title)
    assert_accessible(stranger)
    docs_screenshot(stranger, "certificate-verify")


# Journey 2: the province admin's bulk import, cohort and report ---------------------------------------------

HEADER = "Họ và tên,Tên đăng nhập,Email,Số điện thoại,Đối tượng\n"


def test_journey_2_province_admin_imports_accounts_creates_a_cohort_and_exports_the_report(
    new_context: Any, live_server: LiveServer, browser: Any
) -> None:
    tag = uuid.uuid4().hex[:5]
    good = [
        f"Trần Văn Hải,hai{tag},hai{tag}@haiphong.gov.vn,,Cán bộ, công chức",
        f"Lê Thị Thu,thu{tag},,,Người dân",
        # A department's spreadsheet can hold a formula: it must reach exports as text, never run.
        f'"=HYPERLINK(""http://evil.example"",""Bấm"")",xss{tag},,,Người dân',
    ]
    bad = [
        f"Ngô Minh Tuấn,tuan{tag},khong-phai-email,,Người dân",  # an email that is not one
        f",vodanh{tag},,,Người dân",  # no name
        f"Đỗ Văn Nam,nam{tag},,,Phi hành gia",  # an unknown target group
    ]
    fixed = [
        f"Ngô Minh Tuấn,tuan{tag},tuan{tag}@haiphong.gov.vn,,Người dân",
        f"Vũ Thị Lan,vodanh{tag},,,Người dân",
        f"Đỗ Văn Nam,nam{tag},,,Người dân",
    ]
    for i, row in enumerate(good + bad):  # the CSV module would quote the group with its comma
        assert row.count(",") >= 4, i
    first = HEADER + "\n".join(good + bad) + "\n"
    second = HEADER + "\n".join(good + fixed) + "\n"
    usernames = [f"hai{tag}", f"thu{tag}", f"xss{tag}", f"tuan{tag}", f"vodanh{tag}", f"nam{tag}"]

    page = new_context(viewport={"width": 1024, "height": 800}).new_page()
    sign_in(page, live_server, "admin")
    page.get_by_role("link", name=ADMIN_MENU).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ADMIN_MENU)
    assert_accessible(page)
    docs_screenshot(page, "admin-home")
    page.get_by_role("link", name="Nhập tài khoản").click()
    assert_accessible(page)

    with background_imports(live_server, threshold=2) as gate:
        upload(page, "tai-khoan.csv", first)
        # Large enough to run in the background: the page polls a progress bar (htmx).
        bar = page.locator("#job-progress progress")
        expect(bar).to_be_visible()
        expect(page.locator("#job-progress")).to_contain_text("Đang kiểm tra tệp…")
        assert_accessible(page)
        docs_screenshot(page, "admin-import-progress")
        gate.set()
        expect(page.get_by_text("Xem trước: chưa có gì được lưu.")).to_be_visible(timeout=15_000)
        errors = page.locator("table").filter(has_text="Thông báo").first
        expect(errors.locator("tbody tr")).to_have_count(3)
        assert_accessible(page)
        docs_screenshot(page, "admin-import-preview", full_page=True)

        # Fixed in the file and uploaded again: no error left.
        page.get_by_role("link", name="Nhập tài khoản").click()
        gate.clear()
        upload(page, "tai-khoan-da-sua.csv", second)
        expect(bar).to_be_visible()
        gate.set()
        expect(page.get_by_text("Xem trước: chưa có gì được lưu.")).to_be_visible(timeout=15_000)
        expect(page.locator("main")).not_to_contain_text("Thông báo")
        gate.clear()
        page.get_by_role("button", name="Tạo 6 và cập nhật 0 tài khoản").click()
        expect(page.locator("#job-progress")).to_contain_text("Đang lưu tài khoản…")
        gate.set()
        expect(page.get_by_text("Hoàn tất: đã tạo 6 tài khoản, cập nhật 0 tài khoản.")).to_be_visible(
            timeout=15_000
        )
    assert_accessible(page)
    docs_screenshot(page, "admin-import-done")

    # The one-time passwords: one download, then never again. A second tab still showing the buttons is
    # refused with a 409 page (its own context: the browser logs that status as a console error, by design).
    old_tab_context = browser.new_context(storage_state=page.context.storage_state(), locale="vi-VN")
    old_tab_context.route("**/*", only_localhost)
    old_tab = old_tab_context.new_page()
    old_tab.goto(page.url)
    _name, data = downloaded(page, lambda: page.get_by_role("button", name="Chỉ XLSX").click())
    slips = one_time_passwords(data)
    assert sorted(u for u, _secret in slips.values()) == sorted(usernames)
    assert all(len(secret) == 12 for _u, secret in slips.values())
    old_tab.get_by_role("button", name="Chỉ XLSX").click()
    expect(old_tab.get_by_role("heading", level=1)).to_have_text("Lỗi 409")
    expect(old_tab.locator("main")).to_contain_text("đã được tải về")
    old_tab_context.close()
    page.reload()
    expect(page.get_by_role("button", name="Chỉ XLSX")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("đã được tải về")

    # A cohort of the new accounts.
    page.get_by_role("link", name="Đợt học").first.click()
    page.get_by_label("Khóa học").select_option("an-toan-tren-mang")
    page.get_by_label("Mã (ví dụ CDS-2026-01)").fill(f"HP-NHAP-{tag}")
    page.get_by_label("Tiêu đề").fill("Đợt học của tài khoản mới nhập")
    page.get_by_role("button", name="Tạo đợt học").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"HP-NHAP-{tag}")
    page.get_by_label("Tên đăng nhập, mỗi dòng một tên").fill("\n".join(usernames))
    page.get_by_role("button", name="Ghi danh", exact=True).click()
    expect(page.locator("main")).to_contain_text("Học viên (6)")
    assert_accessible(page)
    docs_screenshot(page, "cohort-roster", full_page=True)

    # The report counts them, by cohort; the numbers lead to the learners, whose export is safe.
    page.get_by_role("link", name="Báo cáo").first.click()
    page.get_by_role("link", name="Theo đợt học").click()
    row = page.locator("tbody tr").filter(has_text=f"HP-NHAP-{tag}")
    expect(row.locator("td").first).to_have_text("6")
    assert_accessible(page)
    docs_screenshot(page, "admin-report", full_page=True)
    row.locator("td").first.get_by_role("link").click()
    expect(page.locator("main")).to_contain_text("Lê Thị Thu")
    assert_accessible(page)
    docs_screenshot(page, "admin-report-learners", full_page=True)
    name, data = downloaded(page, lambda: page.get_by_role("link", name="CSV").first.click())
    assert name.endswith(".csv")
    cells = [cell for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))) for cell in row]
    assert "Lê Thị Thu" in cells
    formula = next(cell for cell in cells if "HYPERLINK" in cell)
    assert formula.startswith("'="), formula


# Journey 4: the national admin's new portal, a national course, the national report -------------------------


def test_journey_4_national_admin_creates_a_portal_that_lists_a_new_national_course(
    new_context: Any, live_server: LiveServer
) -> None:
    tag = uuid.uuid4().hex[:5]
    # A real province (in app/reports/data/provinces.csv): the national report lists every province, even
    # before its first visit; the live server's database is fresh, so the address is free.
    slug, name = "hagiang", "Cổng đào tạo chuyển đổi số Hà Giang"
    admin = new_context(viewport={"width": 1024, "height": 800}).new_page()
    sign_in(admin, live_server, "admin", slug="national")
    admin.get_by_role("link", name=ADMIN_MENU).click()
    admin.get_by_role("link", name="Các cổng").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Các cổng")
    assert_accessible(admin)
    admin.get_by_label("Địa chỉ (tên miền con, ví dụ hagiang)").fill(slug)
    admin.get_by_label("Tên hiển thị").fill(name)
    admin.get_by_label("Người dân được tự đăng ký tài khoản").check()
    admin.get_by_role("button", name="Tạo cổng").click()
    expect(admin.get_by_role("status")).to_have_text(f"Đã tạo cổng {name}.")
    expect(admin.locator("tbody")).to_contain_text(live_server.url(slug, "").rstrip("/"))
    assert_accessible(admin)
    docs_screenshot(admin, "national-portals", full_page=True)

    # The national trainer writes and publishes a course.
    title = f"Dịch vụ công trực tuyến cho người dân {tag}"
    trainer = new_context(viewport={"width": 1024, "height": 800}).new_page()
    sign_in(trainer, live_server, "trainer", slug="national")
    trainer.get_by_role("link", name="Soạn bài").click()
    trainer.get_by_label("Tiêu đề").fill(title)
    trainer.get_by_label("Tóm tắt").fill("Nộp hồ sơ, thanh toán và nhận kết quả trên Cổng Dịch vụ công.")
    trainer.get_by_role("button", name="Tạo khóa học").click()
    expect(trainer.get_by_role("heading", level=1)).to_have_text(title)
    trainer.get_by_label("Phần mới").fill("Bắt đầu")
    trainer.get_by_role("button", name="Thêm phần").click()
    trainer.get_by_label("Bài học mới").fill("Tài khoản định danh điện tử")
    trainer.get_by_role("button", name="Thêm bài học").click()
    expect(trainer).to_have_url(re.compile(r"/author/lessons/\d+$"))
    trainer.go_back()
    trainer.reload()
    trainer.get_by_role("button", name="Xuất bản").click()
    expect(trainer.get_by_text("Đã xuất bản", exact=True)).to_be_visible()

    # A shipped course's final test as the national trainer edits it: settings, questions, a GIFT upload.
    trainer.goto(live_server.url("national", "/author/courses/cds-co-ban/quizzes"))
    trainer.get_by_role("link", name=re.compile("^Kiểm tra cuối khóa")).click()
    expect(trainer.get_by_role("heading", level=2, name="Câu hỏi (18)")).to_be_visible()
    assert_accessible(trainer)
    docs_screenshot(trainer, "trainer-quiz-editor", full_page=True)

    # The new portal's catalog lists it (a national course), before anybody has signed up there.
    visitor = new_context(viewport=PHONE).new_page()
    visitor.goto(live_server.url(slug, "/courses"))
    expect(visitor.locator(".brand")).to_have_text(name)
    visitor.get_by_label("Tìm khóa học").fill(f"DICH VU CONG TRUC TUYEN CHO NGUOI DAN {tag}")
    visitor.get_by_role("button", name="Tìm", exact=True).click()
    expect(visitor.get_by_role("link", name=title)).to_be_visible()
    assert_accessible(visitor)
    docs_screenshot(visitor, "new-portal-catalog")

    # The national report ranks every portal, the new one included.
    admin.get_by_role("link", name="Báo cáo").first.click()
    expect(admin).to_have_url(re.compile(r"/reports/national"))
    expect(admin.get_by_role("heading", level=1)).to_have_text("Báo cáo toàn quốc")
    expect(admin.locator("tbody").first.get_by_role("rowheader", name=name)).to_be_visible()
    assert_accessible(admin)
    docs_screenshot(admin, "national-report", height=1400)
