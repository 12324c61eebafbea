"""A Moodle-style bank (GIFT beside a settings-only quiz file) taken in the browser and through the API: every
new kind rendered, answered and graded with partial credit; Moodle's HTML shown through the lessons' sanitiser
in the attempt, the result and the review; nothing that tells a right answer leaves before submission."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.quizzes.gift import parse_gift
from app.quizzes.models import QuizQuestion
from app.tenancy.scoping import cross_tenant
from tests.factories import QuizCourse, import_courses, in_tenant, learner_client, write_quiz_course

SETTINGS_ONLY = 'title: "Ôn tập theo Moodle"\npass_percent: 50\nshuffle_options: false\n'
BANK = """\
::html::[html]<p>Chọn <b>ứng dụng</b> <span style="color:red">chính thức</span>.<script>alert(1)</script></p>{
  =<strong>VNeID</strong>#<p>Đúng rồi <img src\\=x onerror\\="alert(2)"></p>
  ~%50%Cổng dịch vụ công#<em>Gần đúng</em> BÍ-MẬT-PHẢN-HỒI
  ~Zalo
  ####<p>Giải thích <a href\\="javascript:alert(3)">chung</a></p>
}

::ghep::Ghép tỉnh với tỉnh lỵ {
  =Quảng Ninh -> Hạ Long
  =Nghệ An -> Vinh
  = -> Huế
}

::nam::Năm thành lập nước Việt Nam Dân chủ Cộng hòa?{#
  =1945#Chính xác
  =%50%1945:1#Gần đúng
}

::thu-do::Thủ đô của Việt Nam là {=Hà *#Đúng =%0%*#BÍ-MẬT-SAI}.

::bao-ve::Những cách bảo vệ tài khoản?{
  ~%50%Xác thực hai yếu tố
  ~%50%Mật khẩu mạnh
  ~%-100%Chia sẻ OTP
}
"""


@pytest.fixture()
def qc(world, db, settings, tmp_path) -> QuizCourse:
    folder = write_quiz_course(tmp_path / "courses", "moodle", quiz_yaml=SETTINGS_ONLY)
    (folder / "quizzes" / "kiem-tra.gift").write_text(BANK, encoding="utf-8")
    import_courses(db, world, settings.media_dir, root=folder)
    with in_tenant(db, world.national):
        from app.catalog import service as catalog
        from app.quizzes.models import Quiz

        course = catalog.get_course(db, "moodle")
        lessons = catalog.course_lessons(course)
        quiz_id = db.scalar(select(Quiz.id).where(Quiz.course_id == course.id))
    return QuizCourse("moodle", course.id, quiz_id, lessons[0].id, lessons[1].id)


@pytest.fixture()
def learner(app, qc):  # type: ignore[no-untyped-def]
    client = learner_client(app)
    assert client.api("POST", f"/api/v1/courses/{qc.slug}/enrol").status_code == 201
    return client


def test_the_attempt_api_shows_each_kind_without_its_answers(learner, qc) -> None:
    attempt = learner.api("POST", f"/api/v1/quizzes/{qc.quiz_id}/attempts").json()
    questions = {q["id"]: q for q in attempt["questions"]}
    assert [q["kind"] for q in attempt["questions"]] == [
        "single",
        "matching",
        "numerical",
        "short",
        "multiple",
    ]
    assert questions["html"]["format"] == "html" and questions["ghep"]["format"] == "markdown"
    assert questions["ghep"]["prompts"] == [{"id": "1", "text": "Quảng Ninh"}, {"id": "2", "text": "Nghệ An"}]
    assert {o["text"] for o in questions["ghep"]["options"]} == {"Hạ Long", "Vinh", "Huế"}
    assert questions["nam"]["options"] == [] and questions["thu-do"]["options"] == []
    payload = json.dumps(attempt, ensure_ascii=False)
    for secret in ("BÍ-MẬT", "1945", "Hà *", "weight", "feedback", "correct", "Giải thích", "Đúng rồi"):
        assert secret not in payload, secret


def test_html_is_rendered_sanitised_in_the_attempt(learner, qc) -> None:
    started = learner.submit(f"/quizzes/{qc.quiz_id}", f"/quizzes/{qc.quiz_id}/start")
    page = learner.get(started.headers["location"]).text
    assert "Chọn <b>ứng dụng</b>" in page and "<strong>VNeID</strong>" in page
    assert "alert(" not in page and "style=" not in page
    assert "&lt;p&gt;" not in page and "&lt;strong&gt;" not in page  # markup is not shown as text
    assert 'name="q-ghep-1"' in page and 'name="q-ghep-2"' in page and 'inputmode="decimal"' in page
    assert "BÍ-MẬT" not in page and "Giải thích" not in page


def test_partial_credit_through_the_form_and_a_sanitised_review(learner, qc) -> None:
    started = learner.submit(f"/quizzes/{qc.quiz_id}", f"/quizzes/{qc.quiz_id}/start")
    attempt_url = started.headers["location"]
    attempt = learner.api("GET", "/api/v1" + attempt_url).json()
    options = {q["id"]: {o["text"]: o["id"] for o in q["options"]} for q in attempt["questions"]}
    form = {
        "action": "submit",
        "q-html": options["html"]["Cổng dịch vụ công"],  # 50%
        "q-ghep-1": options["ghep"]["Hạ Long"],  # 1 of 2 pairs: 50%
        "q-ghep-2": options["ghep"]["Huế"],
        "q-nam": "1946",  # within 1945 ± 1: 50%
        "q-thu-do": "hà nội",  # `Hà *`: 100%
        "q-bao-ve": [options["bao-ve"]["Xác thực hai yếu tố"], options["bao-ve"]["Chia sẻ OTP"]],  # 0%
    }
    r = learner.submit(attempt_url, attempt_url + "/submit", form)
    assert r.status_code == 303
    result = learner.get(attempt_url).text
    assert "2,5" in result and "50%" in result  # 2.5 of 5 points
    assert "Gần đúng" in result and "<em>Gần đúng</em>" in result  # the chosen option's feedback, as HTML
    assert "Đúng rồi" not in result  # feedback of an option not chosen
    assert "javascript:" not in result and "onerror" not in result and "alert(" not in result
    assert "Giải thích" in result and "đúng một phần" in result
    review = learner.api("GET", f"/api/v1{attempt_url}/review").json()
    by_id = {q["id"]: q for q in review["questions"]}
    assert [by_id[k]["fraction"] for k in ("html", "ghep", "nam", "thu-do", "bao-ve")] == [
        0.5,
        0.5,
        0.5,
        1,
        0,
    ]
    assert by_id["nam"]["feedback"] == ["Gần đúng"] and by_id["thu-do"]["feedback"] == ["Đúng"]
    assert review["score"] == 2.5 and review["percent"] == 50.0 and review["passed"] is True


def test_api_submission_grades_matching_by_prompt_ids(learner, qc) -> None:
    attempt = learner.api("POST", f"/api/v1/quizzes/{qc.quiz_id}/attempts").json()
    ghep = next(q for q in attempt["questions"] if q["id"] == "ghep")
    choice = {o["text"]: o["id"] for o in ghep["options"]}
    answers = {"ghep": {"1": choice["Hạ Long"], "2": choice["Vinh"]}, "nam": "1945", "thu-do": "Hà Nội"}
    r = learner.api("POST", f"/api/v1/attempts/{attempt['id']}/submit", json={"answers": answers})
    assert r.status_code == 200 and r.json()["score"] == 3.0


def test_the_trainer_downloads_the_bank_as_gift_and_it_reads_back(make_client, db, qc) -> None:
    trainer = make_client("national")
    trainer.login_page("trainer")
    r = trainer.get(f"/author/quizzes/{qc.quiz_id}/gift")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "attachment" in r.headers["content-disposition"]
    assert parse_gift(r.text) == parse_gift(BANK)
    editor = trainer.get(f"/author/quizzes/{qc.quiz_id}").text
    assert f"/author/quizzes/{qc.quiz_id}/gift" in editor
    with cross_tenant(db):
        row = db.scalars(select(QuizQuestion).where(QuizQuestion.key == "ghep")).one()
    page = trainer.get(f"/author/quizzes/{qc.quiz_id}/questions/{row.id}")
    assert page.status_code == 200 and "GIFT" in page.text and 'name="q-ghep-1"' in page.text


def test_the_file_form_round_trip_keeps_every_kind(world, db, settings, tmp_path, qc) -> None:
    from app.catalog.files import export_course
    from app.catalog.storage import DiskStorage
    from app.quizzes.bank import load_quiz_file

    out = tmp_path / "export"
    with in_tenant(db, world.national):
        exported = export_course(db, qc.slug, out, DiskStorage(settings.media_dir))
    quiz_file = exported / "quizzes" / "kiem-tra.yaml"
    text = quiz_file.read_text(encoding="utf-8")
    assert "kind: matching" in text and "kind: numerical" in text and "format: html" in text
    assert "weight: 50" in text and "tolerance: 1" in text and "pairs:" in text
    assert load_quiz_file(quiz_file).questions == parse_gift(BANK)
    stats = import_courses(db, world, settings.media_dir, exported)
    assert stats.changed == 0 and stats.quizzes_unchanged == 1
