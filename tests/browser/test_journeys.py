"""Journeys in a real Chromium: a trainer writes and publishes a course, a learner finds and finishes it;
a learner reads and completes a lesson with JavaScript switched off.

Journeys 1, 2 and 4 (quiz + certificate, reports) join here once those pages exist: sign in with `sign_in`,
walk the pages, call `assert_accessible(page)` on each new page.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, LiveServer, assert_accessible, sign_in

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

    trainer.goto(course_url)
    trainer.get_by_role("button", name="Xuất bản").click()
    expect(trainer.get_by_text("Đã xuất bản", exact=True)).to_be_visible()

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
