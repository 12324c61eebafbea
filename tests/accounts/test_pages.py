"""Browser pages: sign-in form, CSRF, forced password change, sign-out, language."""

from __future__ import annotations

from tests.factories import PASSWORD, make_user


def test_sign_in_page_then_account(world, client) -> None:
    r = client.login_page("0912345678")
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "ot_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    page = client.get("/account")
    assert page.status_code == 200
    assert "Nguyễn Văn An" in page.text


def test_wrong_password_shows_vietnamese_message_and_keeps_identifier(world, client) -> None:
    r = client.submit("/login", data={"identifier": "learner", "password": "sai"})
    assert r.status_code == 401
    assert "Sai tên đăng nhập, email, số điện thoại hoặc mật khẩu." in r.text
    assert 'value="learner"' in r.text


def test_account_page_needs_sign_in(world, client) -> None:
    r = client.get("/account")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=/account"


def test_post_without_csrf_token_is_refused(world, client) -> None:
    r = client.post("/login", data={"identifier": "learner", "password": PASSWORD})
    assert r.status_code == 403
    assert "Biểu mẫu đã hết hạn" in r.text
    client.login_page("learner")
    r = client.post("/logout")
    assert r.status_code == 403
    # A token minted for another browser session does not work either.
    other = type(client)(client.app, "haiphong")
    foreign_token = other.csrf_from("/login")
    r = client.post("/logout", data={"csrf_token": foreign_token})
    assert r.status_code == 403
    assert client.get("/account").status_code == 200  # still signed in


def test_csrf_header_accepted_for_htmx(world, client) -> None:
    client.login_page("learner")
    token = client.csrf_from("/account")
    r = client.post("/logout", headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert r.status_code == 204
    assert r.headers["HX-Redirect"] == "/"


def test_forced_password_change_in_browser(world, db, client) -> None:
    make_user(db, world.haiphong, "moi", must_change_password=True)
    db.commit()
    r = client.login_page("moi")
    assert r.headers["location"].startswith("/account/password")
    # Every other page sends the user back to the change form.
    r = client.get("/account")
    assert r.status_code == 303 and r.headers["location"].startswith("/account/password")
    r = client.submit(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "matkhau789", "confirm_password": "khac789xx"},
    )
    assert r.status_code == 422 and "không khớp" in r.text
    r = client.submit(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "matkhau789",
            "confirm_password": "matkhau789",
            "next": "/account",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/account"
    assert client.get("/account").status_code == 200


def test_a_forced_password_change_keeps_the_whole_page_asked_for(world, db, client) -> None:
    """The page asked for before signing in survives the detour, query string and all."""
    make_user(db, world.haiphong, "moi2", must_change_password=True)
    db.commit()
    asked = "/courses?q=mang&group=citizen"
    r = client.submit("/login", data={"identifier": "moi2", "password": PASSWORD, "next": asked})
    assert r.status_code == 303
    assert r.headers["location"] == "/account/password?next=/courses%3Fq%3Dmang%26group%3Dcitizen"
    form = client.get(r.headers["location"])
    assert f'name="next" value="{asked.replace("&", "&amp;")}"' in form.text
    r = client.submit(
        r.headers["location"],
        action="/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "matkhau789",
            "confirm_password": "matkhau789",
            "next": asked,  # the form's hidden field, checked above
        },
    )
    assert r.status_code == 303 and r.headers["location"] == asked


def test_sign_out_clears_session(world, client) -> None:
    client.login_page("learner")
    r = client.submit("/account", action="/logout")
    assert r.status_code == 303
    assert client.get("/account").status_code == 303


def test_open_redirect_refused(world, client) -> None:
    r = client.submit(
        "/login", data={"identifier": "learner", "password": PASSWORD, "next": "//evil.example"}
    )
    assert r.headers["location"] == "/"


def test_language_switch(world, client) -> None:
    assert 'lang="vi"' in client.get("/login").text
    assert "Đăng nhập" in client.get("/login").text
    r = client.submit("/login", action="/lang", data={"lang": "en", "next": "/login"})
    assert r.status_code == 303
    page = client.get("/login").text
    assert 'lang="en"' in page and "Sign in" in page and "Đăng nhập" not in page


def test_cookie_of_one_tenant_is_refused_on_another(world, make_client) -> None:
    hp = make_client("haiphong")
    hp.login_page("learner")
    session_cookie = hp.cookies.get("ot_session")
    qn = make_client("quangninh")
    qn.cookies.set("ot_session", session_cookie)
    r = qn.get("/account")
    assert r.status_code == 303  # treated as signed out
