"""In a real Chromium: a trainer uploads a Moodle export (HTML in the question, the options and the feedback,
with a script and an event handler hidden in it); the learner sees it rendered — formatting kept, nothing run
— in the attempt, the result and the review."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, LiveServer, assert_accessible, sign_in

pytestmark = pytest.mark.browser

MOODLE_EXPORT = """\
// question: 12  name: otp
::otp::[html]<p>Ai được hỏi <b>mã OTP</b> của bạn?<script>window.__pwned \\= 1</script></p>{
\t=<p>Không ai cả</p>#<p>Đúng: <em>không ai</em>.<img src\\="x" onerror\\="window.__pwned\\=2"></p>
\t~<p>Nhân viên ngân hàng</p>#<p><strong>Sai</strong>: ngân hàng không bao giờ hỏi OTP.</p>
\t~%50%<p>Chỉ người thân</p>#<p>Vẫn <u>không nên</u>.</p>
\t####<p>Giữ OTP <a href\\="javascript:window.__pwned\\=3">cho riêng mình</a>.</p>
}
"""


def test_html_from_a_moodle_export_is_rendered_sanitised_in_attempt_result_and_review(
    new_context: Any, live_server: LiveServer, tmp_path: Any
) -> None:
    suffix = uuid.uuid4().hex[:4]
    title = f"An toàn OTP {suffix}"
    trainer = new_context(viewport={"width": 1024, "height": 800}).new_page()
    sign_in(trainer, live_server, "trainer")
    trainer.get_by_role("link", name="Soạn bài").click()
    trainer.get_by_label("Tiêu đề").fill(title)
    trainer.get_by_label("Tóm tắt").fill("Không đưa mã OTP cho ai.")
    trainer.get_by_role("button", name="Tạo khóa học").click()
    course_url = trainer.url
    trainer.get_by_label("Phần mới").fill("Phần 1")
    trainer.get_by_role("button", name="Thêm phần").click()
    trainer.get_by_label("Bài học mới").fill("Mã OTP là gì")
    trainer.get_by_role("button", name="Thêm bài học").click()
    trainer.goto(course_url)
    trainer.get_by_role("button", name="Xuất bản").click()
    trainer.get_by_role("link", name="Bài kiểm tra").click()
    trainer.get_by_label("Tiêu đề").fill("Kiểm tra OTP")
    trainer.get_by_role("button", name="Tạo").click()
    expect(trainer).to_have_url(re.compile(r"/author/quizzes/\d+$"))
    quiz_id = int(trainer.url.rsplit("/", 1)[1])
    gift = tmp_path / "otp.gift"
    gift.write_text(MOODLE_EXPORT, encoding="utf-8")
    trainer.get_by_label("Tệp GIFT").set_input_files(str(gift))
    trainer.get_by_role("button", name="Nhập").click()
    expect(trainer.get_by_role("status")).to_contain_text("1")

    learner = new_context(viewport=PHONE).new_page()
    sign_in(learner, live_server, "hocvien1")
    learner.goto(course_url.replace("/author/courses/", "/courses/"))
    learner.get_by_role("button", name="Ghi danh").click()
    learner.goto(live_server.url("haiphong", f"/quizzes/{quiz_id}"))
    learner.get_by_role("button", name="Bắt đầu làm bài").click()

    question = learner.locator("fieldset.question")
    expect(question.locator(".lesson-body b")).to_have_text("mã OTP")
    expect(question.locator("script")).to_have_count(0)
    expect(question).not_to_contain_text("<p>")  # markup is rendered, never shown as text
    assert_accessible(learner)
    question.get_by_text("Chỉ người thân").click()
    learner.get_by_role("button", name="Nộp bài").click()

    expect(learner.get_by_role("heading", level=1)).to_have_text("Kết quả của bạn")
    expect(learner.locator(".score")).to_contain_text("0,5")
    review = learner.locator("section.question")
    expect(review).to_contain_text("đúng một phần")
    expect(review.locator(".feedback u")).to_have_text("không nên")  # the chosen option's HTML feedback
    expect(review.locator(".feedback a")).to_have_text("cho riêng mình")
    assert review.locator(".feedback a").get_attribute("href") is None  # javascript: link dropped
    expect(review).not_to_contain_text("ngân hàng không bao giờ")  # feedback of an option not chosen
    expect(review.locator("[onerror], script")).to_have_count(0)
    assert learner.evaluate("() => window.__pwned") is None
    assert_accessible(learner)
