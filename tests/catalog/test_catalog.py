"""The catalog per portal: national courses everywhere, own courses only at home; search; safety."""

from __future__ import annotations

import io
import re

from app.catalog.rendering import embed_url, render_markdown
from tests.factories import import_courses, lesson_ids, make_course


def _slugs(response) -> set[str]:
    return {c["slug"] for c in response.json()["items"]}


def test_national_courses_in_every_province_own_courses_only_at_home(world, db, make_client) -> None:
    national = make_course(db, world.national, "cds-co-ban", "Chuyển đổi số cơ bản")
    make_course(db, world.haiphong, "hp-rieng", "Khóa riêng Hải Phòng")
    make_course(db, world.quangninh, "qn-rieng", "Khóa riêng Quảng Ninh")
    hp, qn = make_client("haiphong"), make_client("quangninh")
    hp.login_api("learner")
    qn.login_api("learner")
    assert _slugs(hp.api("GET", "/api/v1/courses")) == {"cds-co-ban", "hp-rieng"}
    assert _slugs(qn.api("GET", "/api/v1/courses")) == {"cds-co-ban", "qn-rieng"}
    # The same on the pages, signed in or not.
    page = make_client("quangninh").get("/courses").text
    assert "Chuyển đổi số cơ bản" in page and "Khóa riêng Quảng Ninh" in page
    assert "Khóa riêng Hải Phòng" not in page
    # Guessing the other province's course address or lesson ids is a 404.
    assert qn.api("GET", "/api/v1/courses/hp-rieng").status_code == 404
    assert make_client("quangninh").get("/courses/hp-rieng").status_code == 404
    hp_lesson = lesson_ids(db, world.haiphong, make_course(db, world.haiphong, "hp-2", "Khác").id)[0]
    assert qn.api("GET", f"/api/v1/lessons/{hp_lesson}").status_code == 404
    assert qn.api("POST", f"/api/v1/lessons/{hp_lesson}/complete").status_code == 404
    # National course detail is readable from a province.
    r = qn.api("GET", "/api/v1/courses/cds-co-ban")
    assert r.status_code == 200 and r.json()["national"] is True
    assert [x["title"] for x in r.json()["modules"][0]["lessons"]] == ["Bài 1", "Bài 2", "Bài 3"]
    assert national.tenant_id == world.national.id


def test_drafts_are_hidden_from_learners(world, db, make_client) -> None:
    make_course(db, world.national, "nhap", "Bản nháp quốc gia", published=False)
    make_course(db, world.haiphong, "nhap-hp", "Bản nháp Hải Phòng", published=False)
    learner = make_client("haiphong")
    learner.login_api("learner")
    assert _slugs(learner.api("GET", "/api/v1/courses")) == set()
    assert learner.api("GET", "/api/v1/courses/nhap").status_code == 404
    trainer = make_client("haiphong")
    trainer.login_page("trainer")
    assert trainer.get("/courses/nhap-hp").status_code == 200  # own draft, for staff
    assert trainer.get("/courses/nhap").status_code == 404  # never another tenant's draft


def test_search_ignores_diacritics_and_case(world, db, make_client) -> None:
    make_course(db, world.national, "an-toan", "An toàn thông tin cho cán bộ", summary="Mật khẩu mạnh")
    make_course(db, world.national, "cds", "Chuyển đổi số", target_groups=["citizen"])
    client = make_client("haiphong")
    client.login_api("learner")
    assert _slugs(client.api("GET", "/api/v1/courses", params={"q": "an toan"})) == {"an-toan"}
    assert _slugs(client.api("GET", "/api/v1/courses", params={"q": "AN TOÀN"})) == {"an-toan"}
    assert _slugs(client.api("GET", "/api/v1/courses", params={"q": "mat khau"})) == {"an-toan"}
    assert _slugs(client.api("GET", "/api/v1/courses", params={"q": "100%"})) == set()
    assert _slugs(client.api("GET", "/api/v1/courses", params={"target_group": "citizen"})) == {"cds"}
    page = make_client("haiphong").get("/courses", params={"q": "chuyen doi"}).text
    assert "Chuyển đổi số" in page and "An toàn thông tin" not in page


def test_home_page_shows_published_courses(world, db, make_client) -> None:
    make_course(db, world.national, "cds", "Chuyển đổi số cơ bản")
    make_course(db, world.national, "nhap", "Khóa nháp", published=False)
    page = make_client("haiphong").get("/").text
    assert "Chuyển đổi số cơ bản" in page and "Khóa nháp" not in page


def test_script_in_lesson_markdown_is_neutralised(world, db, settings, make_client) -> None:
    html = render_markdown(
        "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"
        '[a](javascript:alert(1)) <a href="JaVaScRiPt:alert(2)" onclick="x()">b</a> [c](https://example.vn)'
    )
    assert "<script" not in html and "alert(1)</script" not in html
    assert "onerror" not in html and "onclick" not in html
    assert not re.search(r'href="\s*javascript', html, re.I)
    assert '<a href="https://example.vn" rel="noopener noreferrer">c</a>' in html
    # And through the API, for a lesson imported from a file.
    import_courses(db, world, settings.media_dir)
    client = make_client("haiphong")
    client.login_api("learner")
    assert client.api("POST", "/api/v1/courses/an-toan-mang/enrol").status_code == 201
    first = client.api("GET", "/api/v1/courses/an-toan-mang").json()["modules"][0]["lessons"][0]["id"]
    body = client.api("GET", f"/api/v1/lessons/{first}").json()["body_html"]
    assert "<strong>giả danh</strong>" in body
    assert "<script" not in body and "onerror" not in body
    assert not re.search(r'href="\s*javascript', body, re.I)  # the text may stay; never as a link


def test_embed_links_only_from_allowed_hosts() -> None:
    assert embed_url("https://youtu.be/dQw4w9WgXcQ") == "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"
    assert embed_url("https://vimeo.com/76979871") == "https://player.vimeo.com/video/76979871"
    assert embed_url("https://player.vimeo.com/video/76979871") == "https://player.vimeo.com/video/76979871"
    for bad in (
        "https://evil.example/embed/x",
        "javascript:alert(1)",
        "https://youtube.com.evil.vn/watch?v=a",
    ):
        assert embed_url(bad) is None


def test_lesson_needs_enrolment_or_staff(world, db, make_client) -> None:
    course = make_course(db, world.national, "cds", "Chuyển đổi số")
    first = lesson_ids(db, world.national, course.id)[0]
    learner = make_client("haiphong")
    learner.login_api("learner")
    r = learner.api("GET", f"/api/v1/lessons/{first}")
    assert r.status_code == 403 and r.json()["code"] == "not_enrolled"
    trainer = make_client("haiphong")
    trainer.login_api("trainer")
    assert trainer.api("GET", f"/api/v1/lessons/{first}").status_code == 200


def test_video_served_with_range_requests(world, db, settings, make_client) -> None:
    import_courses(db, world, settings.media_dir)
    client = make_client("quangninh")  # national media, another province
    client.login_api("learner")
    client.api("POST", "/api/v1/courses/an-toan-mang/enrol")
    video_lesson = client.api("GET", "/api/v1/courses/an-toan-mang").json()["modules"][0]["lessons"][1]
    url = client.api("GET", f"/api/v1/lessons/{video_lesson['id']}").json()["video_url"]
    assert url and url.startswith("/media/")
    client.login_page("learner")
    r = client.get(url, headers={"Range": "bytes=0-99"})
    assert r.status_code == 206
    assert len(r.content) == 100 and r.content[4:8] == b"ftyp"
    assert r.headers["content-range"].startswith("bytes 0-99/")
    assert r.headers["content-type"] == "video/mp4"
    full = client.get(url)
    assert full.status_code == 200 and len(full.content) == 536
    # Signed out: no media.
    assert make_client("quangninh").get(url).status_code in (303, 404)


def test_media_of_a_province_is_not_served_to_another(world, db, make_client) -> None:
    course = make_course(db, world.haiphong, "hp", "Hải Phòng riêng", published=False)
    first = lesson_ids(db, world.haiphong, course.id)[0]
    trainer = make_client("haiphong")
    trainer.login_page("trainer")
    pdf = b"%PDF-1.4\nhello\n%%EOF\n"
    _set_kind(trainer, first, "document")
    r = _save_lesson(trainer, first, kind="document", upload=("cam-nang.pdf", pdf, "application/pdf"))
    assert r.status_code == 303, r.text
    page = trainer.get(f"/author/lessons/{first}").text
    media_url = re.search(r'href="(/media/\d+)"', page).group(1)
    assert trainer.get(media_url).content == pdf
    other = make_client("quangninh")
    other.login_page("trainer")
    assert other.get(media_url).status_code == 404


def _set_kind(client, lesson_id: int, kind: str) -> None:
    r = _save_lesson(client, lesson_id, kind=kind)
    assert r.status_code == 303, r.text


def _save_lesson(client, lesson_id: int, *, kind: str = "text", upload=None, **data):
    token = client.csrf_from(f"/author/lessons/{lesson_id}")
    form = {
        "csrf_token": token,
        "title": "Bài học",
        "kind": kind,
        "body_md": "Nội dung",
        "required": "1",
        **data,
    }
    files = {"upload": upload} if upload else None
    return client.post(f"/author/lessons/{lesson_id}", data=form, files=files)


def test_upload_type_is_checked_from_content(world, db, make_client) -> None:
    course = make_course(db, world.haiphong, "hp", "Hải Phòng riêng")
    first = lesson_ids(db, world.haiphong, course.id)[0]
    trainer = make_client("haiphong")
    trainer.login_page("trainer")
    _set_kind(trainer, first, "video")
    # An HTML file named like a video is refused.
    r = _save_lesson(
        trainer, first, kind="video", upload=("clip.mp4", b"<html><script>x</script>", "video/mp4")
    )
    assert r.status_code == 422 and "Loại tệp này không được chấp nhận" in r.text
    # A PDF is not a video.
    r = _save_lesson(trainer, first, kind="video", upload=("clip.mp4", b"%PDF-1.4 xx", "video/mp4"))
    assert r.status_code == 422
    # A real MP4 (by its bytes) is accepted, whatever its name.
    mp4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200
    r = _save_lesson(trainer, first, kind="video", upload=("clip.bin", mp4, "application/octet-stream"))
    assert r.status_code == 303


def test_upload_size_limit(world, db, make_client, app) -> None:
    course = make_course(db, world.haiphong, "hp", "Hải Phòng riêng")
    first = lesson_ids(db, world.haiphong, course.id)[0]
    trainer = make_client("haiphong")
    trainer.login_page("trainer")
    _set_kind(trainer, first, "document")
    settings = app.state.settings
    old = settings.media_max_upload_mb
    settings.media_max_upload_mb = 1
    try:
        big = b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10)
        r = _save_lesson(trainer, first, kind="document", upload=("to.pdf", big, "application/pdf"))
    finally:
        settings.media_max_upload_mb = old
    assert r.status_code == 422 and "quá lớn" in r.text


def test_live_preview_is_sanitised(world, make_client) -> None:
    trainer = make_client("haiphong")
    trainer.login_page("trainer")
    token = trainer.csrf_from("/author")
    r = trainer.post(
        "/author/preview",
        data={"body_md": "# Tiêu đề\n\n<script>alert(1)</script><b onmouseover=x()>đậm</b>"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert r.status_code == 200
    assert "<h1>Tiêu đề</h1>" in r.text and "<b>đậm</b>" in r.text
    assert "<script" not in r.text and "onmouseover" not in r.text and "<html" not in r.text
    # Learners cannot use the preview, and CSRF is required.
    learner = make_client("haiphong")
    learner.login_page("learner")
    token = learner.csrf_from("/account")
    assert (
        learner.post("/author/preview", data={"body_md": "x"}, headers={"X-CSRF-Token": token}).status_code
        == 403
    )
    assert trainer.post("/author/preview", data={"body_md": "x"}).status_code == 403


def test_upload_storage_refuses_unknown_types(tmp_path) -> None:
    import pytest

    from app.catalog.storage import DOCUMENT_TYPES, DiskStorage
    from app.core.errors import Invalid

    storage = DiskStorage(tmp_path)
    with pytest.raises(Invalid):
        storage.save(1, io.BytesIO(b"GIF89a....."), max_bytes=1000, allowed=DOCUMENT_TYPES)
    stored = storage.save(1, io.BytesIO(b"%PDF-1.7 ok"), max_bytes=1000, allowed=DOCUMENT_TYPES)
    assert stored.key.startswith("1/") and stored.key.endswith(".pdf")
    assert list((tmp_path / "1").iterdir()) == [tmp_path / stored.key]


def test_every_lesson_kind_renders_for_a_learner(world, db, settings, make_client) -> None:
    import_courses(db, world, settings.media_dir)
    client = make_client("haiphong")
    client.login_page("learner")
    client.submit("/courses/an-toan-mang", action="/courses/an-toan-mang/enrol")
    client.login_api("learner")
    modules = client.api("GET", "/api/v1/courses/an-toan-mang").json()["modules"]
    lessons = {x["kind"] + str(i): x for m in modules for i, x in enumerate(m["lessons"])}
    pages = {key: client.get(f"/lessons/{x['id']}") for key, x in lessons.items()}
    assert all(p.status_code == 200 for p in pages.values())
    text = "".join(p.text for p in pages.values())
    assert '<video class="player" controls preload="metadata" src="/media/' in text
    assert "Mở tài liệu (PDF" in text and 'href="/quizzes/' in text
    assert 'src="https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ"' in text
    quiz = next(x for x in lessons.values() if x["kind"] == "quiz")
    assert quiz["quiz_slug"] == "kiem-tra" and isinstance(quiz["quiz_id"], int)
