"""Moodle GIFT import: each construct, a realistic Vietnamese bank, and errors that name the line."""

from __future__ import annotations

import unicodedata

import pytest

from app.core.errors import Invalid
from app.core.i18n import translate
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


def message_en(exc: pytest.ExceptionInfo[Invalid]) -> str:
    return translate("en", exc.value.message, **exc.value.params)


def test_a_realistic_vietnamese_bank() -> None:
    questions = parse_gift(BANK)
    assert [q.id for q in questions] == ["otp-1", "mat-khau", "sai-1", "dung-1", "vneid", "q01", "q02"]
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
    assert [(o.id, o.text, o.correct) for o in otp.options] == [
        ("a", "Từ chối và gọi lại tổng đài chính thức của ngân hàng", True),
        ("b", "Đọc mã OTP để được hỗ trợ nhanh", False),
        ("c", "Gửi mã OTP qua Zalo cho người đó", False),
    ]
    # Feedback stays with its answer (shown in the review when chosen); there is no general feedback here.
    assert [o.feedback for o in otp.options] == [
        "Đúng: ngân hàng không bao giờ hỏi mã OTP.",
        "Kẻ gian dùng OTP để rút tiền.",
        "",
    ]
    assert otp.explanation == ""

    assert password.correct_option_ids == {"a", "b"}
    assert [o.weight for o in password.options] == [50, 50, -100]
    assert password.explanation == "Kết hợp cả hai biện pháp là an toàn nhất."

    assert false_statement.correct_option_ids == {"false"}
    assert [o.text for o in false_statement.options] == ["Đúng", "Sai"]
    # {FALSE#if wrong#if right}: each feedback goes with the option that earns it.
    assert [o.feedback for o in false_statement.options] == ["Sai rồi.", "Chính xác: công an không làm vậy."]
    assert true_statement.correct_option_ids == {"true"}

    assert vneid.accepted == ("VNeID", "ứng dụng VNeID")
    assert [a.feedback for a in vneid.answers] == ["", "Đúng vậy."]
    assert vneid.options == ()

    assert (
        escapes.text
        == "Số điện thoại của tổng đài hỗ trợ là 1900 {miễn phí} = 0đ, ký hiệu ~ và # và tỉ lệ 1:1."
    )
    assert missing_word.text == "Đường dây nóng chống lừa đảo ở _____ là một kênh hữu ích."
    assert missing_word.accepted == ("Hải Phòng",)


@pytest.mark.parametrize("marker", ["T", "TRUE", "F", "FALSE"])
def test_true_false_spellings(marker: str) -> None:
    (q,) = parse_gift(f"Mật khẩu 123456 là an toàn.{{{marker}}}")
    assert q.kind == "true_false"
    assert q.correct_option_ids == ({"true"} if marker.startswith("T") else {"false"})


def test_lower_case_true_is_a_short_answer_as_in_moodle() -> None:
    (q,) = parse_gift("Từ tiếng Anh của “đúng”?{true}")
    assert q.kind == "short" and q.accepted == ("true",)


def test_true_false_feedback_goes_with_the_option_that_earns_it_and_general_feedback_is_the_explanation() -> (
    None
):
    (q,) = parse_gift("Câu A.{T#sai rồi#đúng rồi####giải thích chung}")
    assert [o.feedback for o in q.options] == ["đúng rồi", "sai rồi"]
    assert q.explanation == "giải thích chung"
    (q,) = parse_gift("Câu A.{F#sai rồi}")
    assert [o.feedback for o in q.options] == ["sai rồi", ""]


def test_format_tags_set_the_question_format_and_convert_the_answers_to_it() -> None:
    (q,) = parse_gift("::t::[html]<p>Chọn <b>một</b></p>{=[plain]Có <b> ~[markdown]**Không**}")
    assert q.format == "html" and q.text == "<p>Chọn <b>một</b></p>"
    assert [o.text for o in q.options] == ["Có &lt;b&gt;", "<strong>Không</strong>"]
    (q,) = parse_gift("::t::[markdown]Chọn **một**{=[plain]*Có* ~Không}")
    assert q.format == "markdown" and [o.text for o in q.options] == ["\\*Có\\*", "Không"]
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
    assert [q.id for q in questions] == ["cau-1-dinh-danh", "q01", "dac-biet"]


def test_a_title_that_is_already_an_id_is_kept_as_it_is() -> None:
    assert [q.id for q in parse_gift("::Q8::Hỏi?{T}\n\n::q_01.b::Hỏi?{T}")] == ["Q8", "q_01.b"]


def test_repeated_titles_and_titles_folding_to_one_id_get_distinct_ids() -> None:
    text = (
        "::2-08 TSL::A?{T}\n\n::2-08 TSL::B?{TRUE}\n\n::Câu một::C?{T}\n\n::Cau mot::D?{F}\n\n"
        "::q01::E?{T}\n\nF?{T}"
    )
    assert [q.id for q in parse_gift(text)] == [
        "2-08-tsl",
        "2-08-tsl-2",
        "cau-mot",
        "cau-mot-2",
        "q01",
        "q02",
    ]


def test_untitled_questions_never_take_an_id_already_in_the_quiz() -> None:
    text = "Một?{T}\n\nHai?{F}\n\n::q02::Có tên?{T}"
    assert [q.id for q in parse_gift(text, taken={"q01", "q03"})] == ["q04", "q05", "q02"]


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
    assert [o.weight for o in q.options] == [100, 0, 0]


def test_any_positive_weight_marks_a_right_answer_of_a_multiple_answer_question() -> None:
    (q,) = parse_gift("Chọn?{~%50%A ~%25.5%B ~%-100%C ~%0%D}")
    assert q.correct_option_ids == {"a", "b"}


def test_single_choice_may_weight_wrong_answers_negative() -> None:
    (q,) = parse_gift("Chọn?{=A ~%-50%B ~C}")
    assert q.kind == "single" and q.correct_option_ids == {"a"}
    assert [o.weight for o in q.options] == [100, -50, 0]


def test_short_answer_full_weight_is_accepted_once() -> None:
    (q,) = parse_gift("Thủ đô?{=%100%Hà Nội =Hà Nội}")
    assert q.accepted == ("Hà Nội",)


def test_a_tilde_decides_multiple_choice_before_an_arrow() -> None:
    (q,) = parse_gift("Q{~a (x->y) ~b =c}")
    assert q.kind == "single" and [o.text for o in q.options] == ["a (x->y)", "b", "c"]


def test_several_equals_in_a_choice_question_each_earn_full_credit() -> None:
    (q,) = parse_gift("Chọn {=A =B ~C}")
    assert q.kind == "single" and q.correct_option_ids == {"a", "b"}


def test_missing_word_keeps_the_punctuation_where_the_block_stood() -> None:
    (q,) = parse_gift("Chúa Giê-su đến từ {=Nazareth =%75%Nazereth}.")
    assert q.text == "Chúa Giê-su đến từ _____."
    (q,) = parse_gift("Hai cộng hai bằng {=bốn =4}, đúng không?")
    assert q.text == "Hai cộng hai bằng _____, đúng không?"


def test_text_before_the_first_marker_is_an_answer_as_in_moodle() -> None:
    (q,) = parse_gift("Thủ đô {Hà Nội}")
    assert q.kind == "short" and q.accepted == ("Hà Nội",)


def test_numerical_forms() -> None:
    exact, tolerance, span, weighted = parse_gift(
        "Năm?{#1945}\n\nNăm?{#1945:2}\n\nMột số từ 1 đến 5?{#1..5}\n\n"
        "Năm?{#\n=1945:0#Chính xác\n=%50%1945:2#Gần đúng\n~#Sai}"
    )
    assert [(a.text, a.tolerance, a.weight) for a in exact.answers] == [("1945", 0, 100)]
    assert [(a.text, a.tolerance) for a in tolerance.answers] == [("1945", 2)]
    assert [(a.text, a.tolerance) for a in span.answers] == [("3", 2)]
    assert [(a.text, a.tolerance, a.weight, a.feedback) for a in weighted.answers] == [
        ("1945", 0, 100, "Chính xác"),
        ("1945", 2, 50, "Gần đúng"),
        ("*", 0, 0, "Sai"),
    ]
    assert {q.kind for q in (exact, tolerance, span, weighted)} == {"numerical"}


def test_matching_questions_with_an_extra_answer() -> None:
    (q,) = parse_gift("Ghép tỉnh với tỉnh lỵ {=Quảng Ninh -> Hạ Long =Nghệ An -> Vinh = -> Huế}")
    assert q.kind == "matching"
    assert [(o.id, o.text) for o in q.options] == [("a", "Hạ Long"), ("b", "Vinh"), ("c", "Huế")]
    assert [(a.text, a.option) for a in q.answers] == [("Quảng Ninh", "a"), ("Nghệ An", "b")]


def test_short_answer_weights_feedback_and_wildcards() -> None:
    (q,) = parse_gift("Con vật?{=Ếch#Tốt! =%50%Mèo#Cũng được =%0%*#Sai hẳn}")
    assert [(a.text, a.weight, a.feedback) for a in q.answers] == [
        ("Ếch", 100, "Tốt!"),
        ("Mèo", 50, "Cũng được"),
        ("*", 0, "Sai hẳn"),
    ]


def test_html_from_moodle_is_kept_as_html_for_the_sanitiser() -> None:
    (q,) = parse_gift(
        '::h::[html]<p><span style="color: red">Chọn</span> <script>x()</script></p>'
        "{=<b>Có</b>#<i>Đúng</i> ~Không####<p>Chung</p>}"
    )
    assert q.format == "html"
    assert q.options[0].text == "<b>Có</b>" and q.options[0].feedback == "<i>Đúng</i>"
    assert q.explanation == "<p>Chung</p>"  # kept: the pages show it through the sanitiser


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
        ("::x::Trình bày ý kiến của bạn.{}", "Line 14: essay questions ({}) are not imported"),
        ("::x::Đây chỉ là đoạn mô tả.", "Line 14: the question has no answer block {…}: descriptions"),
        ("::x::Năm thành lập?{#năm 1945}", "Line 14: “năm 1945” is not a number"),
        ("::x::Ghép {=A -> B =C}", "Line 14: each answer of a matching question is written"),
        ("::x::Ghép {=A -> B}", "Line 14: a matching question needs at least two answers."),
        ("::x::Chọn {~A ~B ~%-100%C}", "Question x (line 14): a multiple-choice question needs at least one"),
        ("::x::Chọn {~A}", "Line 14: a multiple-choice question needs at least two answers."),
        ("::x::Chọn {~%abc%A ~B}", "Line 14: an answer weight must look like %50% or %-100%."),
        ("::x::Chọn {~%50 A ~B}", "Line 14: an answer weight must look like"),
        (
            "::x::Chọn {~%150%A ~B}",
            "Question x (line 14): an answer weight is a percentage from -100 to 100.",
        ),
        ("::x::Thủ đô {=%0%Hà Nội}", "Question x (line 14): no answer earns any credit."),
        ("::x::Chọn {=A ~ ~B}", "Line 14: an answer is empty."),
        ("::x::Chọn {=A ~#chỉ có phản hồi}", "Line 14: an answer is empty."),
        ("::x Câu hỏi chưa đóng tên {T}", "Line 14: the question title is not closed with ::."),
        ("::x::{T}", "Question x (line 14): the question text is missing."),
        ("::x::Chọn {=A ~a}", "Question x (line 14): the option “a” appears twice."),
        (
            '::x::[html]<p><img src="@@PLUGINFILE@@/so-do.png"></p>{T}',
            "Line 14: the question shows a file from the Moodle course (so-do.png)",
        ),
    ],
)
def test_errors_name_the_line_where_the_question_starts(bad: str, expected: str) -> None:
    with pytest.raises(Invalid) as exc:
        parse_gift(_with_bad_question_on_line_14(bad))
    assert message(exc).startswith(expected), message(exc)


def test_every_problem_of_a_file_is_reported_at_once_in_file_order() -> None:
    text = "::a::Tự luận {}\n\n::b::Tốt {T}\n\n::c::Chọn {~A}\n\n::d::Mô tả\n\n::e::Chọn {~%150%A ~B}\n"
    with pytest.raises(Invalid) as exc:
        parse_gift(text)
    lines = message_en(exc).splitlines()
    assert lines[0] == "The GIFT file has 4 problems; nothing was imported:"
    assert [line.split(":")[0] for line in lines[1:]] == ["Line 1", "Line 5", "Line 7", "Question e (line 9)"]
    assert "Tệp GIFT có 4 lỗi" in translate("vi", exc.value.message, **exc.value.params)


def test_an_empty_bank_is_an_error() -> None:
    for text in ("", "// chỉ có ghi chú\n\n", "$CATEGORY: a\n"):
        with pytest.raises(Invalid) as exc:
            parse_gift(text)
        assert message(exc) == "The GIFT file has no questions."
