"""Citizens register themselves where the portal allows it; usernames come from their name."""

from __future__ import annotations

from sqlalchemy import select

from app.accounts.models import User
from app.accounts.usernames import username_base
from app.tenancy import service as tenants
from tests.factories import in_tenant

FORM = {
    "full_name": "Nguyễn Văn An",
    "contact": "0987654321",
    "password": "matkhau123",
    "confirm_password": "matkhau123",
}


def test_username_from_vietnamese_name() -> None:
    assert username_base("Nguyễn Văn An") == "annv"
    assert username_base("  Đặng   Thị Đào ") == "daodt"
    assert username_base("Lê") == "le"
    assert username_base("!!!") == "hocvien"


def _register(client, **data):
    return client.submit("/register", data={**FORM, **data})


def test_register_signs_in_with_a_collision_free_username(world, db, make_client) -> None:
    tenants.update_tenant(db, "haiphong", self_registration=True)
    db.commit()
    client = make_client("haiphong")
    r = _register(client)
    assert r.status_code == 303 and r.headers["location"] == "/courses?welcome=annv"
    assert client.get("/learning").status_code == 200  # signed in
    r = _register(make_client("haiphong"), contact="+84 912 000 111")
    assert r.headers["location"] == "/courses?welcome=annv2"
    with in_tenant(db, world.haiphong):
        user = db.scalars(select(User).where(User.username == "annv2")).one()
        assert (user.phone, user.target_group, user.roles) == ("0912000111", "citizen", ["learner"])
    # Same validation as account creation: the email is not valid.
    r = _register(make_client("haiphong"), contact="khong-phai-email@", full_name="Trần Bình")
    assert r.status_code == 422
    r = _register(make_client("haiphong"), contact="binh@example.vn", confirm_password="khac12345")
    assert r.status_code == 422


def test_registration_is_404_where_the_portal_does_not_allow_it(world, make_client) -> None:
    client = make_client("quangninh")
    assert client.get("/register").status_code == 404
    token = client.csrf_from("/login")
    assert client.post("/register", data={**FORM, "csrf_token": token}).status_code == 404
    assert 'href="/register"' not in client.get("/login").text


def test_citizen_picks_their_commune(world, db, make_client) -> None:
    from tests.factories import make_units

    tenants.update_tenant(db, "haiphong", self_registration=True)
    ids = make_units(
        db,
        world.haiphong,
        "Mã,Tên,Loại,Mã cấp trên\nH1,Huyện Thủy Nguyên,district,\n"
        "X1,Xã An Lư,commune,H1\nX2,Phường Đông Hải,commune,\n",
    )
    other = make_units(db, world.quangninh, "Mã,Tên,Loại,Mã cấp trên\nQ1,Xã Quảng Ninh,commune,\n")
    db.commit()
    client = make_client("haiphong")
    page = client.get("/register").text
    assert "Xã An Lư" in page and "Phường Đông Hải" in page
    assert "Huyện Thủy Nguyên" not in page and "Xã Quảng Ninh" not in page
    # Another province's unit, or a district, is refused; nothing is created.
    for bad in (other["Q1"], ids["H1"]):
        r = _register(make_client("haiphong"), unit_id=str(bad))
        assert r.status_code == 422
    r = _register(client, unit_id=str(ids["X1"]))
    assert r.status_code == 303
    with in_tenant(db, world.haiphong):
        user = db.scalars(select(User).where(User.username == "annv")).one()
        assert user.unit_id == ids["X1"]


def _neutral(r) -> bool:  # type: ignore[no-untyped-def]
    return (
        r.status_code == 200
        and "Không thể tạo tài khoản với thông tin này" in r.text
        and 'href="/login"' in r.text
    )


def test_an_existing_phone_or_email_gets_a_neutral_answer_that_confirms_nobody(
    world, db, make_client
) -> None:
    """Found in review: "this phone number is already used" told anyone who has an account."""
    tenants.update_tenant(db, "haiphong", self_registration=True)
    db.commit()
    taken_phone = _register(make_client("haiphong"), contact="0912345678", full_name="Trần Bình")
    taken_email = _register(make_client("haiphong"), contact="an@haiphong.vn", full_name="Trần Bình")
    for r in (taken_phone, taken_email):
        assert _neutral(r), r.text[:500]
        assert "đã được dùng" not in r.text and "already" not in r.text
    # The same words whichever of the two was taken (only the typed contact and the form's token differ).
    assert _notice(taken_phone.text) == _notice(taken_email.text)
    with in_tenant(db, world.haiphong):
        assert db.scalars(select(User).where(User.full_name == "Trần Bình")).all() == []


def _notice(page: str) -> str:
    import re

    found = re.search(r'<p class="alert alert-info"[^>]*>(.*?)</p>', page, re.S)
    assert found, page[:500]
    return found.group(1)


def test_registration_is_throttled_per_address_across_portals(world, db, app, make_client) -> None:
    """Found in review: 15 registrations from one address in 0.9 s."""
    tenants.update_tenant(db, "haiphong", self_registration=True)
    tenants.update_tenant(db, "quangninh", self_registration=True)
    db.commit()
    limit = app.state.settings.register_max_per_address
    for n in range(limit):
        slug = "haiphong" if n % 2 else "quangninh"
        r = _register(make_client(slug), contact=f"09870{n:05d}", full_name=f"Người Thứ {n}")
        assert r.status_code == 303, (n, r.text[:300])
    r = _register(make_client("haiphong"), contact="0987099999", full_name="Người Thừa")
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert "Quá nhiều tài khoản" in r.text
    with in_tenant(db, world.haiphong):
        assert db.scalars(select(User).where(User.phone == "0987099999")).all() == []
