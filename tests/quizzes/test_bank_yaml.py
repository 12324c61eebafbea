"""Quiz YAML files: the documented format parses, and every mistake is reported with its line and question."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from app.core.errors import Invalid
from app.core.i18n import translate
from app.quizzes.bank import Option, Question, QuizDefinition, check_bank, load_quiz_file, parse_quiz_yaml

ROOT = Path(__file__).resolve().parents[2]

QUIZ = """\
title: "Kiểm tra cuối khóa"
pass_percent: 70
time_limit_minutes: 20
max_attempts: 3
draw: 3
shuffle_options: true
show_review: false
questions:
  - id: q01
    kind: single
    text: "Ứng dụng định danh điện tử quốc gia là gì?"
    options:
      - text: "VNeID"
        correct: true
      - text: "Zalo"
      - text: "Facebook"
    explanation: "VNeID do Bộ Công an phát triển."
  - id: q02
    kind: multiple
    text: |
      Những việc nào giúp bảo vệ tài khoản?

      - Chọn **mọi** đáp án đúng.
    points: 2
    options:
      - text: "Bật xác thực hai lớp"
        correct: true
      - text: "Dùng mật khẩu mạnh, khác nhau cho mỗi dịch vụ"
        correct: true
      - text: "Gửi mã OTP cho người gọi tự xưng là ngân hàng"
  - id: q03
    kind: true_false
    text: "Cơ quan công an có thể yêu cầu chuyển tiền qua điện thoại để điều tra."
    answer: false
  - id: q04
    kind: short
    text: "Tên ứng dụng định danh điện tử của Bộ Công an?"
    answers: ["VNeID", "ứng dụng VNeID"]
"""


def message(exc: pytest.ExceptionInfo[Invalid]) -> str:
    return exc.value.message.format(**exc.value.params)


def test_a_full_quiz_parses_into_typed_questions() -> None:
    quiz = parse_quiz_yaml(QUIZ)
    assert isinstance(quiz, QuizDefinition)
    assert quiz.title == "Kiểm tra cuối khóa"
    assert (quiz.pass_percent, quiz.time_limit_minutes, quiz.max_attempts, quiz.draw) == (70.0, 20, 3, 3)
    assert quiz.shuffle_options is True and quiz.show_review is False
    assert [q.id for q in quiz.questions] == ["q01", "q02", "q03", "q04"]
    assert [q.kind for q in quiz.questions] == ["single", "multiple", "true_false", "short"]
    assert quiz.questions_per_attempt == 3

    q1, q2, q3, q4 = quiz.questions
    assert q1.options == (
        Option("a", "VNeID", correct=True),
        Option("b", "Zalo"),
        Option("c", "Facebook"),
    )
    assert q1.explanation == "VNeID do Bộ Công an phát triển."
    assert q1.points == 1 and q1.line == 9
    assert q2.points == 2
    assert q2.correct_option_ids == {"a", "b"}
    assert q2.text == "Những việc nào giúp bảo vệ tài khoản?\n\n- Chọn **mọi** đáp án đúng."  # Markdown kept
    assert q3.options == (Option("true", "Đúng", correct=False), Option("false", "Sai", correct=True))
    assert q4.accepted == ("VNeID", "ứng dụng VNeID")
    assert q4.options == ()
    assert quiz.question("q03") is q3 and quiz.question("nope") is None


def test_a_single_choice_question_may_have_several_right_options_like_several_equals_in_gift() -> None:
    two_right = QUIZ.replace('      - text: "Zalo"\n', '      - text: "Zalo"\n        correct: true\n')
    quiz = parse_quiz_yaml(two_right)
    assert quiz.questions[0].kind == "single" and quiz.questions[0].correct_option_ids == {"a", "b"}


def test_the_example_in_the_course_format_docs_parses() -> None:
    readme = (ROOT / "docs" / "courses.md").read_text(encoding="utf-8")
    section = readme.split("## Quizzes", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert example is not None
    quiz = parse_quiz_yaml(example.group(1).replace("draw: 10", "draw: 3"))
    assert [q.kind for q in quiz.questions] == ["single", "true_false", "short"]


def test_settings_left_out_take_documented_defaults() -> None:
    quiz = parse_quiz_yaml(
        'title: "Ôn tập"\nquestions:\n  - {id: q1, kind: true_false, text: "Trời xanh.", answer: true}\n'
    )
    assert quiz.pass_percent == 70.0
    assert quiz.time_limit_minutes is None and quiz.max_attempts is None and quiz.draw is None
    assert quiz.shuffle_options is True and quiz.show_review is True
    assert quiz.questions_per_attempt == 1


def test_text_is_nfc_normalised() -> None:
    nfd = unicodedata.normalize("NFD", QUIZ)
    assert nfd != QUIZ
    quiz = parse_quiz_yaml(nfd)
    assert quiz == parse_quiz_yaml(QUIZ)
    for q in quiz.questions:
        for value in (q.text, q.explanation, *q.accepted, *(o.text for o in q.options)):
            assert unicodedata.is_normalized("NFC", value)
    assert quiz.title == "Kiểm tra cuối khóa"


def test_option_ids_are_letters_in_file_order_and_survive_text_edits() -> None:
    edited = QUIZ.replace('"Zalo"', '"Zalo (mạng xã hội)"').replace('"VNeID"\n', '"Ứng dụng VNeID"\n')
    before, after = parse_quiz_yaml(QUIZ).questions[0], parse_quiz_yaml(edited).questions[0]
    assert [o.id for o in before.options] == [o.id for o in after.options] == ["a", "b", "c"]
    assert after.options[1].text == "Zalo (mạng xã hội)"
    assert after.correct_option_ids == {"a"}


def test_short_answers_accept_a_single_string_and_numbers() -> None:
    quiz = parse_quiz_yaml(
        "title: T\nquestions:\n"
        "  - {id: q1, kind: short, text: 'Tổng đài hỗ trợ?', answers: 1900}\n"
        "  - {id: q2, kind: short, text: 'Ứng dụng?', answers: VNeID}\n"
    )
    assert quiz.questions[0].accepted == ("1900",)
    assert quiz.questions[1].accepted == ("VNeID",)


def _replace_question(q: str, new: str) -> str:
    """QUIZ with question `q` (its whole block) replaced by `new`."""
    blocks = re.split(r"(?m)^(?=  - id: )", QUIZ)
    return "".join(new if block.startswith(f"  - id: {q}\n") else block for block in blocks)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            QUIZ.replace('      - text: "VNeID"\n        correct: true\n', '      - text: "VNeID"\n'),
            "Question q01 (line 9): a single-choice question needs at least one option worth full credit.",
        ),
        (
            _replace_question(
                "q02",
                "  - id: q02\n    kind: multiple\n    text: Chọn\n"
                "    options:\n      - text: A\n      - text: B\n",
            ),
            "Question q02 (line 18): a multiple-choice question needs at least one correct option.",
        ),
        (
            QUIZ.replace("    answer: false\n", ""),
            "Question q03 (line 31): a true/false question needs answer: true or answer: false.",
        ),
        (
            QUIZ.replace("    answer: false\n", "    answer: sai\n"),
            "Question q03 (line 31): a true/false question needs answer: true or answer: false.",
        ),
        (
            QUIZ.replace('    answers: ["VNeID", "ứng dụng VNeID"]\n', "    answers: []\n"),
            "Question q04 (line 35): a short-answer question needs at least one accepted answer.",
        ),
        (
            QUIZ.replace("  - id: q04\n", "  - id: q01\n"),
            "Line 35: the question id q01 is already used on line 9.",
        ),
        (
            QUIZ.replace("pass_percent: 70", "pass_percent: 170"),
            "Line 2: pass_percent must be a number from 0 to 100.",
        ),
        (
            QUIZ.replace("pass_percent: 70", "pass_percent: -1"),
            "Line 2: pass_percent must be a number from 0 to 100.",
        ),
        (QUIZ.replace("pass_percent: 70", "pass_percent: bảy mươi"), "Line 2: pass_percent must be"),
        (QUIZ.replace("draw: 3", "draw: 5"), "Line 5: the quiz draws 5 questions but its bank has only 4."),
        (
            QUIZ.replace("draw: 3", "draw: 0"),
            "Line 5: draw must be a whole number from 1 to 500, or left out.",
        ),
        (
            QUIZ.replace("time_limit_minutes: 20", "time_limit_minutes: 9999999999"),
            "Line 3: time_limit_minutes must be a whole number from 1 to 1440, or left out.",
        ),
        (
            QUIZ.replace("max_attempts: 3", "max_attempts: 101"),
            "Line 4: max_attempts must be a whole number from 1 to 100, or left out.",
        ),
        (QUIZ.replace("max_attempts: 3", "max_attempts: 2.5"), "Line 4: max_attempts must be a whole number"),
        (
            QUIZ.replace("time_limit_minutes: 20", "time_limit_minutes: true"),
            "Line 3: time_limit_minutes must",
        ),
        (
            QUIZ.replace("shuffle_options: true", "shuffle_options: 1"),
            "Line 6: shuffle_options must be true or false.",
        ),
        (
            QUIZ.replace("show_review: false", "show_reveiw: false"),
            "Line 7: unknown key show_reveiw; allowed here:",
        ),
        (
            QUIZ.replace(
                '        correct: true\n      - text: "Zalo"', '        corect: true\n      - text: "Zalo"'
            ),
            "Line 14: unknown key corect; allowed here: correct, feedback, text, weight.",
        ),
        (
            QUIZ.replace('    explanation: "VNeID', '    explaination: "VNeID'),
            "Line 17: unknown key explaination",
        ),
        (
            QUIZ.replace("    kind: short\n", "    kind: essay\n"),
            "Question q04 (line 35): unknown kind essay;",
        ),
        (
            QUIZ.replace(
                '    answers: ["VNeID", "ứng dụng VNeID"]\n', "    options: [{text: A}, {text: B}]\n"
            ),
            "Question q04 (line 35): options does not belong in a short question.",
        ),
        (
            QUIZ.replace("    answer: false\n", "    answer: false\n    options: [{text: A}]\n"),
            "Question q03 (line 31): options does not belong in a true_false question.",
        ),
        (QUIZ.replace("  - id: q04\n", "  - id: 4\n"), "Line 35: a question id is text"),
        (QUIZ.replace("  - id: q04\n", "  - id: câu 4\n"), "Line 35: a question id is text"),
        (QUIZ.replace("  - id: q04\n", "  - kind: short\n"), "Line 35: a question id is text"),
        (
            QUIZ.replace('    text: "Tên ứng dụng định danh điện tử của Bộ Công an?"\n', ""),
            "Question q04 (line 35): the question text is missing.",
        ),
        (QUIZ.replace('    text: "Tên ứng dụng', '    text: "  "\n    x: "'), "Line 38: unknown key x"),
        (
            QUIZ.replace("    points: 2\n", "    points: 0\n"),
            "Question q02 (line 18): points must be a whole number",
        ),
        (
            QUIZ.replace('      - text: "Facebook"\n', '      - text: "zalo"\n'),
            "Question q01 (line 9): the option “zalo” appears twice.",
        ),
        (
            QUIZ.replace('      - text: "Facebook"\n', '      - text: ""\n'),
            "Question q01 (line 9): an option has no text.",
        ),
        (
            QUIZ.replace('      - text: "Facebook"\n', "      - correct: false\n"),
            "Question q01 (line 9): an option has no text.",
        ),
        (
            QUIZ.replace('      - text: "Facebook"\n', "      - Facebook\n"),
            "Question q01 (line 9): each option needs text:",
        ),
        (
            QUIZ.replace('      - text: "Zalo"\n      - text: "Facebook"\n', ""),
            "Question q01 (line 9): a question needs at least two options.",
        ),
        (
            QUIZ.replace('      - text: "Zalo"\n', "      - text: yes\n"),
            "Line 15: write text as quoted text.",
        ),
        (QUIZ.replace('title: "Kiểm tra cuối khóa"', 'title: ""'), "Line 1: the quiz needs a title."),
        (QUIZ.replace("questions:\n", "questions: q01\nx:\n"), "Line 9: unknown key x"),
        ("title: T\nquestions: q01\n", "Line 2: questions must be a list."),
        ("title: T\nquestions:\n  - q01\n", "Line 2: question 1 must be a mapping with id, kind and text."),
        ("title: T\n", "The quiz has no questions."),
        ("title: T\nquestions: []\n", "The quiz has no questions."),
        ("", "The quiz file is empty."),
        ("- title: T\n", "Line 1: a quiz file is a mapping"),
        ('title: "Kiểm tra\nquestions: [\n', "Line 3: the file is not valid YAML"),
        ("title: T\n  pass_percent: 70\n bad", "the file is not valid YAML"),
        ("title: !!python/object:os.system ls\n", "the file is not valid YAML"),
    ],
)
def test_mistakes_name_the_line_the_question_and_the_problem(text: str, expected: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse_quiz_yaml(text)
    assert expected in message(exc), message(exc)
    assert exc.value.status_code == 422


def test_errors_are_translated_into_vietnamese() -> None:
    with pytest.raises(Invalid) as exc:
        parse_quiz_yaml(QUIZ.replace("draw: 3", "draw: 5"))
    vi = translate("vi", exc.value.message, **exc.value.params)
    assert vi == "Dòng 5: bài kiểm tra rút 5 câu hỏi nhưng ngân hàng chỉ có 4 câu."


def test_a_bank_from_elsewhere_replaces_the_questions_key() -> None:
    bank = (Question(id="g1", kind="short", text="Ứng dụng?", answers=("VNeID",)),)
    settings = 'title: "Ôn tập"\npass_percent: 80\n'
    quiz = parse_quiz_yaml(settings, bank=bank)
    assert quiz.questions == bank and quiz.pass_percent == 80.0
    with pytest.raises(Invalid) as exc:
        parse_quiz_yaml(QUIZ, bank=bank)
    assert message(exc).startswith("Line 8: this quiz has questions: and also a GIFT question bank")
    with pytest.raises(Invalid) as exc:
        parse_quiz_yaml(settings + "draw: 2\n", bank=bank)
    assert message(exc) == "Line 3: the quiz draws 2 questions but its bank has only 1."


def test_check_bank_rejects_questions_built_in_code_that_could_not_be_graded() -> None:
    good = Question(id="q1", kind="single", text="?", options=(Option("a", "A", True), Option("b", "B")))
    assert check_bank([good]) == (good,)
    with pytest.raises(Invalid):
        check_bank([good, good])
    with pytest.raises(Invalid):
        check_bank([Question(id="q2", kind="single", text="?", options=(Option("a", "A", True),))])
    with pytest.raises(Invalid):
        check_bank([Question(id="q2", kind="short", text="?", answers=("",))])
    with pytest.raises(Invalid):
        check_bank([Question(id="q2", kind="oops", text="?")])  # type: ignore[arg-type]
    with pytest.raises(Invalid):
        check_bank(
            [Question(id="q2", kind="multiple", text="?", options=(Option("a", "A", True), Option("a", "B")))]
        )


def test_load_quiz_file_reads_yaml_and_a_gift_bank_beside_it(tmp_path: Path) -> None:
    (tmp_path / "cuoi-khoa.yaml").write_text(QUIZ, encoding="utf-8")
    assert len(load_quiz_file(tmp_path / "cuoi-khoa.yaml").questions) == 4

    (tmp_path / "on-tap.yaml").write_text('title: "Ôn tập"\ndraw: 2\n', encoding="utf-8")
    (tmp_path / "on-tap.gift").write_text(
        "\ufeff::q1:: Mật khẩu mạnh nên dài ít nhất 8 ký tự. {T}\n\n::q2:: Ứng dụng định danh? {=VNeID}\n",
        encoding="utf-8",
    )
    quiz = load_quiz_file(tmp_path / "on-tap.yaml")
    assert [q.id for q in quiz.questions] == ["q1", "q2"] and quiz.draw == 2

    (tmp_path / "bad.yaml").write_bytes(b"title: Ki\xeam tra\n")  # Latin-1, not UTF-8
    with pytest.raises(Invalid) as exc:
        load_quiz_file(tmp_path / "bad.yaml")
    assert message(exc) == "The file bad.yaml is not UTF-8 text."


def test_the_partial_credit_example_in_the_course_format_docs_parses_and_grades_as_documented() -> None:
    from app.quizzes.grading import fraction

    readme = (ROOT / "docs" / "courses.md").read_text(encoding="utf-8")
    section = readme.split("### Partial credit", 1)[1]
    example = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert example is not None
    quiz = parse_quiz_yaml('title: "Ví dụ"\nquestions:\n' + example.group(1))
    q = {q.id: q for q in quiz.questions}
    assert [x.kind for x in quiz.questions] == [
        "single", "multiple", "true_false", "short", "numerical", "numerical", "matching",
    ]  # fmt: skip
    assert (
        q["q04"].format == "html" and fraction(q["q04"], ["b"]) == 0.5 and fraction(q["q04"], ["c"]) == -0.25
    )
    assert fraction(q["q05"], ["a", "b", "c"]) == 0 and fraction(q["q05"], ["a"]) == 0.5
    assert [o.feedback for o in q["q06"].options] == ["Công an không bao giờ làm vậy.", "Chính xác."]
    assert fraction(q["q07"], "ha noi") == 0.5 and fraction(q["q07"], "Hà Nội") == 1
    assert fraction(q["q08"], "1946") == 0.5 and fraction(q["q09"], "4,5") == 1
    assert [a.text for a in q["q09"].answers] == ["3"]
    assert [o.text for o in q["q10"].options] == ["Hạ Long", "Vinh", "Huế"]
    assert fraction(q["q10"], {"1": "a", "2": "c"}) == 0.5
