"""Moodle GIFT import: each construct, a realistic Vietnamese bank, and errors that name the line."""

from __future__ import annotations

import unicodedata

import pytest

from app.core.errors import Invalid
from app.quizzes.bank import Option
from app.quizzes.gift import parse_gift

BANK = """\
// Ngân hàng câu hỏi: An toàn trên không gian mạng
// Biên soạn: Sở Thông tin và Truyền thông

::otp-1::[markdown] Khi có người gọi điện tự xưng là **nhân viên ngân hàng** và xin mã OTP, bạn nên làm gì?{
  =Từ chối và gọi lại tổng đài chính thức của ngân hàng #Đúng: ngân hàng không bao giờ hỏi mã OTP.
  ~Đọc mã OTP để được hỗ trợ nhanh #Kẻ gian dùng OTP để rút tiền.
  ~Gửi mã OTP qua Zalo cho người đó
}

::mat-khau::Những cách nào giúp bảo vệ tài khoản mạng xã hội?{
  ~%50%Bật xác thực hai yếu tố
  ~%50%Dùng mật khẩu mạnh và khác nhau cho mỗi dịch vụ
  ~%-100%Dùng ngày sinh làm mật khẩu
  ####Kết hợp cả hai biện pháp là an toàn nhất.
}

// Câu đúng/sai
::sai-1::Công an có thể yêu cầu người dân chuyển tiền qua điện thoại để "phục vụ điều tra".
{FALSE#Sai rồi.#Chính xác: công an không làm vậy.}

::dung-1::VNeID là ứng dụng định danh điện tử quốc gia.{T}

::vneid::Tên ứng dụng định danh điện tử do Bộ Công an phát triển là gì?{=VNeID =ứng dụng VNeID #Đúng vậy.}

Số điện thoại của tổng đài hỗ trợ là 1900 \\{miễn phí\\} \\= 0đ, ký hiệu \\~ và \\# và tỉ lệ 1\\:1.{T}

Đường dây nóng chống lừa đảo ở {=Hải Phòng} là một kênh hữu ích.
"""


def message(exc: pytest.ExceptionInfo[Invalid]) -> str:
    return exc.value.message.format(**exc.value.params)


def test_a_realistic_vietnamese_bank() -> None:
    questions = parse_gift(BANK)
    assert [q.id for q in questions] == ["otp-1", "mat-khau", "sai-1", "dung-1", "vneid", "q06", "q07"]
    assert [q.kind for q in questions] == [
        "single",
        "multiple",
        "true_false",
        "true_false",
        "short",
        "true_false",
        "short",
    ]
    assert [q.line for q in questions] == [4, 10, 18, 21, 23, 25, 27]

    otp, password, false_statement, true_statement, vneid, escapes, missing_word = questions
    assert (
        otp.text == "Khi có người gọi điện tự xưng là **nhân viên ngân hàng** và xin mã OTP, bạn nên làm gì?"
    )
    assert otp.options == (
        Option("a", "Từ chối và gọi lại tổng đài chính thức của ngân hàng", correct=True),
        Option("b", "Đọc mã OTP để được hỗ trợ nhanh"),
        Option("c", "Gửi mã OTP qua Zalo cho người đó"),
    )
    assert otp.explanation == "Đúng: ngân hàng không bao giờ hỏi mã OTP."  # the right answer's feedback only

    assert password.correct_option_ids == {"a", "b"}
    assert password.explanation == "Kết hợp cả hai biện pháp là an toàn nhất."

    assert false_statement.correct_option_ids == {"false"}
    assert [o.text for o in false_statement.options] == ["Đúng", "Sai"]
    assert false_statement.explanation == "Chính xác: công an không làm vậy."
    assert true_statement.correct_option_ids == {"true"}

    assert vneid.answers == ("VNeID", "ứng dụng VNeID")
    assert vneid.explanation == "Đúng vậy."
    assert vneid.options == ()

    assert (
        escapes.text
        == "Số điện thoại của tổng đài hỗ trợ là 1900 {miễn phí} = 0đ, ký hiệu ~ và # và tỉ lệ 1:1."
    )
    assert missing_word.text == "Đường dây nóng chống lừa đảo ở _____ là một kênh hữu ích."
    assert missing_word.answers == ("Hải Phòng",)


@pytest.mark.parametrize("marker", ["T", "TRUE", "F", "FALSE", "true", "f"])
def test_true_false_spellings(marker: str) -> None:
    (q,) = parse_gift(f"Mật khẩu 123456 là an toàn.{{{marker}}}")
    assert q.kind == "true_false"
    assert q.correct_option_ids == ({"true"} if marker.upper().startswith("T") else {"false"})


def test_true_false_feedback_prefers_general_then_right_then_wrong() -> None:
    (q,) = parse_gift("Câu A.{T#sai rồi#đúng rồi####giải thích chung}")
    assert q.explanation == "giải thích chung"
    (q,) = parse_gift("Câu A.{T#sai rồi#đúng rồi}")
    assert q.explanation == "đúng rồi"
    (q,) = parse_gift("Câu A.{T#sai rồi}")
    assert q.explanation == "sai rồi"


def test_format_tags_are_dropped_and_text_kept() -> None:
    (q,) = parse_gift("::t::[html]<p>Chọn <b>một</b></p>{=[plain]Có ~[markdown]Không}")
    assert q.text == "<p>Chọn <b>một</b></p>"
    assert [o.text for o in q.options] == ["Có", "Không"]
    (q,) = parse_gift("[moodle]Câu hỏi?{T}")
    assert q.text == "Câu hỏi?"
    (q,) = parse_gift("[lạ]Câu hỏi?{T}")
    assert q.text == "[lạ]Câu hỏi?"  # an unknown tag is text, as in Moodle


def test_comments_blank_lines_crlf_bom_and_nfd_input() -> None:
    text = (
        "\ufeff// đầu tệp\r\n::a::Câu một?{T}\r\n// giữa câu hỏi không tách câu\r\n\r\n\r\n"
        "::b::Câu hai?{F}\r\n"
    )
    questions = parse_gift(unicodedata.normalize("NFD", text))
    assert [q.id for q in questions] == ["a", "b"]
    assert [q.line for q in questions] == [2, 6]
    assert questions[0].text == "Câu một?" and unicodedata.is_normalized("NFC", questions[1].text)


def test_a_comment_inside_a_question_does_not_split_it() -> None:
    (q,) = parse_gift("::a::Câu hỏi\n// ghi chú cho người soạn\n{=Có ~Không}")
    assert q.kind == "single" and q.text == "Câu hỏi"


def test_titles_become_ids_folded_to_ascii_and_positions_fill_in() -> None:
    questions = parse_gift("::Câu 1: Định danh::Hỏi?{T}\n\nKhông tên?{T}\n\n::Đặc biệt!!::Hỏi?{F}")
    assert [q.id for q in questions] == ["cau-1-dinh-danh", "q02", "dac-biet"]


def test_escaped_colon_in_title_and_backslash() -> None:
    (q,) = parse_gift("::Giờ 8\\:30::Đường dẫn C:\\\\Windows?{T}")
    assert q.id == "gio-8-30"
    assert q.text == "Đường dẫn C:\\Windows?"


def test_category_lines_are_ignored() -> None:
    questions = parse_gift("$CATEGORY: $course$/An toàn mạng\n\n::a::Câu?{T}")
    assert [q.id for q in questions] == ["a"]


def test_multiple_answers_zero_and_unweighted_options_are_wrong() -> None:
    (q,) = parse_gift("Chọn?{~%100%A ~B ~%0%C}")
    assert q.kind == "multiple" and q.correct_option_ids == {"a"}


def test_any_positive_weight_marks_a_right_answer_of_a_multiple_answer_question() -> None:
    (q,) = parse_gift("Chọn?{~%50%A ~%25.5%B ~%-100%C ~%0%D}")
    assert q.correct_option_ids == {"a", "b"}


def test_single_choice_may_weight_wrong_answers_negative() -> None:
    (q,) = parse_gift("Chọn?{=A ~%-50%B ~C}")
    assert q.kind == "single" and q.correct_option_ids == {"a"}


def test_short_answer_full_weight_is_accepted() -> None:
    (q,) = parse_gift("Thủ đô?{=%100%Hà Nội =Hà Nội}")
    assert q.answers == ("Hà Nội",)


def _with_bad_question_on_line_14(bad: str) -> str:
    good = "::c{n}::Câu {n}?{{T}}\n"
    lines = [good.format(n=n) for n in range(1, 7)]  # 6 questions on lines 1, 3, 5, 7, 9, 11
    return "\n".join(lines) + "\n// câu hỏi lỗi\n" + bad + "\n\n::cuoi::Câu cuối?{F}\n"


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("::x::Câu hỏi {=A ~B", "Line 14: unclosed answer block (a { without its })."),
        ("::x::Câu hỏi {=A ~B\n~C", "Line 14: unclosed answer block"),
        ("::x::Câu hỏi {=A {~B}", "Line 14: unclosed answer block"),
        ("::x::Câu hỏi =A ~B}", "Line 14: a } closes an answer block that was never opened."),
        ("::x::Câu {=A ~B} và {=C ~D}", "Line 14: a question has exactly one answer block"),
        (
            "::x::Ghép tỉnh với tỉnh lỵ {=Quảng Ninh -> Hạ Long =Hải Phòng -> Hải Phòng}",
            "Line 14: matching questions",
        ),
        ("::x::Năm thành lập?{#1945:1}", "Line 14: numerical questions ({#…}) are not supported."),
        ("::x::Trình bày ý kiến của bạn.{}", "Line 14: essay questions ({}) are not supported."),
        ("::x::Đây chỉ là đoạn mô tả.", "Line 14: the question has no answer block {…}"),
        ("::x::Chọn {=A ~%50%B ~C}", "Line 14: partial credit (50%) is not supported"),
        ("::x::Thủ đô {=%50%Hà Nội =Hà Nội}", "Line 14: partial credit (50%) is not supported"),
        ("::x::Chọn {=A =B ~C}", "Line 14: a single-choice question has more than one right answer (=)"),
        ("::x::Chọn {~A ~B ~%-100%C}", "Line 14: no right answer"),
        ("::x::Chọn {~A}", "Line 14: a multiple-choice question needs at least two answers."),
        ("::x::Chọn {~%abc%A ~B}", "Line 14: an answer weight must look like %50% or %-100%."),
        ("::x::Chọn {~%50 A ~B}", "Line 14: an answer weight must look like"),
        ("::x::Thủ đô {Hà Nội}", "Line 14: there is text before the first answer"),
        ("::x::Chọn {=A ~ ~B}", "Line 14: an answer is empty."),
        ("::x::Chọn {=A ~#chỉ có phản hồi}", "Line 14: an answer is empty."),
        ("::x Câu hỏi chưa đóng tên {T}", "Line 14: the question title is not closed with ::."),
        ("::x::{T}", "Question x (line 14): the question text is missing."),
        ("::x::Chọn {=A ~a}", "Question x (line 14): the option “a” appears twice."),
        ("::c1::Trùng tên {T}", "Line 14: the question id c1 is already used on line 1."),
    ],
)
def test_errors_name_the_line_where_the_question_starts(bad: str, expected: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse_gift(_with_bad_question_on_line_14(bad))
    assert message(exc).startswith(expected), message(exc)


def test_an_empty_bank_is_an_error() -> None:
    for text in ("", "// chỉ có ghi chú\n\n", "$CATEGORY: a\n"):
        with pytest.raises(Invalid) as exc:
            parse_gift(text)
        assert message(exc) == "The GIFT file has no questions."
