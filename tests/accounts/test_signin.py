"""Sign-in by username, email or phone; throttling; tokens bound to a tenant and revocable."""

from __future__ import annotations

import datetime as dt

import pytest
from jose import jwt
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.tenancy.scoping import cross_tenant
from tests.conftest import TEST_SECRET
from tests.factories import PASSWORD, make_user


@pytest.mark.parametrize(
    "identifier", ["learner", "LEARNER", "an@haiphong.vn", "AN@HaiPhong.vn", "0912345678", "+84 912 345 678"]
)
def test_sign_in_by_username_email_or_phone(world, client, identifier: str) -> None:
    r = client.post("/api/v1/auth/token", data={"username": identifier, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    client.token = body["access_token"]
    me = client.api("GET", "/api/v1/me").json()
    assert me["username"] == "learner"
    assert me["tenant"] == "haiphong"


def test_wrong_password_is_401_with_clear_detail(world, client) -> None:
    r = client.post(
        "/api/v1/auth/token",
        data={"username": "learner", "password": "nope12345"},
        headers={"Accept-Language": "vi"},
    )
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "Sai tên đăng nhập" in r.json()["detail"]
    r = client.post(
        "/api/v1/auth/token",
        data={"username": "learner", "password": "nope12345"},
        headers={"Accept-Language": "en"},
    )
    assert "Wrong username" in r.json()["detail"]


def test_user_of_other_tenant_cannot_sign_in_here(world, make_client) -> None:
    make_user_client = make_client("quangninh")
    r = make_user_client.post("/api/v1/auth/token", data={"username": "an@haiphong.vn", "password": PASSWORD})
    assert r.status_code == 401


def test_token_from_one_tenant_is_401_on_another(world, make_client) -> None:
    hp = make_client("haiphong")
    token = hp.login_api("learner")
    qn = make_client("quangninh")
    r = qn.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    assert r.json()["code"] == "wrong_tenant"


def test_account_throttled_after_repeated_failures(world, client, app) -> None:
    limit = app.state.settings.login_max_failures_per_account
    for _ in range(limit):
        assert (
            client.post(
                "/api/v1/auth/token", data={"username": "learner", "password": "x1x1x1x1"}
            ).status_code
            == 401
        )
    # Even the right password is refused while throttled, whichever identifier names the account.
    for identifier in ("learner", "0912345678"):
        r = client.post("/api/v1/auth/token", data={"username": identifier, "password": PASSWORD})
        assert r.status_code == 429, identifier
        assert int(r.headers["Retry-After"]) > 0
    # Another account from the same address still works.
    assert (
        client.post("/api/v1/auth/token", data={"username": "trainer", "password": PASSWORD}).status_code
        == 200
    )


def test_address_throttled_across_accounts(world, client, app) -> None:
    limit = app.state.settings.login_max_failures_per_address
    for i in range(limit):
        client.post("/api/v1/auth/token", data={"username": f"ghost{i}", "password": "x1x1x1x1"})
    r = client.post("/api/v1/auth/token", data={"username": "trainer", "password": PASSWORD})
    assert r.status_code == 429


def test_address_throttled_across_portals(world, make_client, app) -> None:
    """Found in review: the per-address limit was counted per portal, so one address had 34 allowances."""
    limit = app.state.settings.login_max_failures_per_address
    for i in range(limit):
        client = make_client(("haiphong", "quangninh", "national")[i % 3])
        client.post("/api/v1/auth/token", data={"username": f"ghost{i}", "password": "x1x1x1x1"})
    r = make_client("quangninh").post(
        "/api/v1/auth/token", data={"username": "trainer", "password": PASSWORD}
    )
    assert r.status_code == 429


def test_failed_sign_in_is_audited(world, client, db) -> None:
    client.post("/api/v1/auth/token", data={"username": "learner", "password": "x1x1x1x1"})
    client.login_api("learner")
    with cross_tenant(db):
        actions = [
            e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.tenant_id == world.haiphong.id))
        ]
    assert "auth.sign_in_failed" in actions
    assert "auth.sign_in" in actions


def test_forced_password_change(world, db, client) -> None:
    make_user(db, world.haiphong, "moi", must_change_password=True)
    db.commit()
    r = client.post("/api/v1/auth/token", data={"username": "moi", "password": PASSWORD})
    assert r.json()["must_change_password"] is True
    client.token = r.json()["access_token"]
    assert client.api("GET", "/api/v1/me").status_code == 200
    r = client.api("POST", "/api/v1/auth/logout")  # allowed: signing out needs no new password
    assert r.status_code == 204
    client.login_api("moi")
    client.token = client.token
    # Anything else is refused until the password is changed.
    client_admin_only = client.api("GET", "/api/v1/users")
    assert client_admin_only.status_code == 403
    r = client.api(
        "POST", "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert r.status_code == 422
    r = client.api(
        "POST", "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "doimatkhau9"}
    )
    assert r.status_code == 200
    old = client.token
    client.token = r.json()["access_token"]
    assert client.api("GET", "/api/v1/me").json()["must_change_password"] is False
    # The token from before the change is revoked.
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401


def test_sign_out_revokes_earlier_tokens(world, client) -> None:
    first = client.login_api("learner")
    second = client.login_api("learner")
    assert client.api("POST", "/api/v1/auth/logout").status_code == 204
    for token in (first, second):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    client.login_api("learner")
    assert client.api("GET", "/api/v1/me").status_code == 200


def _claims(world) -> dict:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return {
        "sub": str(world.users["haiphong_learner"].id),
        "tid": world.haiphong.id,
        "ver": 0,
        "jti": "x",
        "iat": now,
        "exp": now + 600,
    }


def test_forged_tokens_refused(world, client) -> None:
    claims = _claims(world)
    good = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    wrong_key = jwt.encode(claims, "another-secret-key", algorithm="HS256")
    other_alg = jwt.encode(claims, TEST_SECRET, algorithm="HS512")
    expired = jwt.encode({**claims, "exp": claims["iat"] - 10}, TEST_SECRET, algorithm="HS256")
    _header, payload, _ = good.split(".")
    import base64
    import json

    none_header = (
        base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    )
    unsigned = f"{none_header}.{payload}."
    for bad in (wrong_key, other_alg, expired, unsigned, "garbage"):
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {bad}"}).status_code == 401


def test_deactivated_account_loses_access(world, make_client) -> None:
    admin = make_client("haiphong")
    admin.login_api("admin")
    learner = make_client("haiphong")
    learner.login_api("learner")
    learner_id = world.users["haiphong_learner"].id
    assert admin.api("POST", f"/api/v1/users/{learner_id}/deactivate").status_code == 200
    assert learner.api("GET", "/api/v1/me").status_code == 401
    r = learner.post("/api/v1/auth/token", data={"username": "learner", "password": PASSWORD})
    assert r.status_code == 401
    assert r.json()["code"] == "inactive"
    assert admin.api("POST", f"/api/v1/users/{learner_id}/activate").status_code == 200
    learner.login_api("learner")


def test_admin_reset_gives_temporary_password_that_must_be_changed(world, make_client) -> None:
    admin = make_client("haiphong")
    admin.login_api("admin")
    learner_id = world.users["haiphong_learner"].id
    r = admin.api("POST", f"/api/v1/users/{learner_id}/reset-password")
    assert r.status_code == 200
    temporary = r.json()["temporary_password"]
    learner = make_client("haiphong")
    r = learner.post("/api/v1/auth/token", data={"username": "learner", "password": PASSWORD})
    assert r.status_code == 401
    r = learner.post("/api/v1/auth/token", data={"username": "learner", "password": temporary})
    assert r.status_code == 200 and r.json()["must_change_password"] is True


def test_learner_cannot_use_admin_endpoints(world, client) -> None:
    client.login_api("learner")
    assert client.api("GET", "/api/v1/users").status_code == 403
    trainer_id = world.users["haiphong_trainer"].id
    assert client.api("POST", f"/api/v1/users/{trainer_id}/reset-password").status_code == 403


def test_admin_cannot_reach_other_tenants_accounts(world, make_client) -> None:
    admin = make_client("haiphong")
    admin.login_api("admin")
    other = world.users["quangninh_learner"].id
    assert admin.api("GET", f"/api/v1/users/{other}").status_code == 404
    assert admin.api("POST", f"/api/v1/users/{other}/reset-password").status_code == 404
    assert admin.api("POST", f"/api/v1/users/{other}/deactivate").status_code == 404
    listed = admin.api("GET", "/api/v1/users").json()
    assert listed["total"] == 3
    assert all(u["id"] != other for u in listed["items"])


def test_admin_creates_account_and_role_change_is_audited(world, make_client, db) -> None:
    admin = make_client("haiphong")
    admin.login_api("admin")
    r = admin.api(
        "POST",
        "/api/v1/users",
        json={
            "username": "Trần.Bình",
            "full_name": "Trần Bình",
            "phone": "+84 988 777 666",
            "password": "batdau123",
        },
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["username"] == "tran.binh"
    assert created["phone"] == "0988777666"
    assert created["must_change_password"] is True
    r = admin.api("POST", "/api/v1/users", json={"username": "tran.binh", "full_name": "X"})
    assert r.status_code == 409
    r = admin.api("PUT", f"/api/v1/users/{created['id']}/roles", json={"roles": ["national_admin"]})
    assert r.status_code == 403
    r = admin.api("PUT", f"/api/v1/users/{created['id']}/roles", json={"roles": ["trainer", "learner"]})
    assert r.status_code == 200 and r.json()["roles"] == ["learner", "trainer"]
    with cross_tenant(db):
        event = db.scalars(select(AuditEvent).where(AuditEvent.action == "admin.roles_changed")).one()
    assert event.tenant_id == world.haiphong.id
    assert event.actor_id == world.users["haiphong_admin"].id
    assert event.detail == {"before": ["learner"], "after": ["learner", "trainer"]}
    assert event.client_address


def test_bad_phone_gives_clear_error(world, make_client) -> None:
    admin = make_client("haiphong")
    admin.login_api("admin")
    r = admin.api(
        "POST",
        "/api/v1/users",
        json={"username": "x1", "full_name": "X", "phone": "12345"},
        headers={"Accept-Language": "vi"},
    )
    assert r.status_code == 422
    assert "Số điện thoại" in r.json()["detail"]


def test_a_password_hashed_with_older_parameters_still_signs_in_and_is_rehashed(world, db, client) -> None:
    from argon2 import PasswordHasher

    user = world.users["haiphong_learner"]
    user.password_hash = PasswordHasher().hash(PASSWORD)  # RFC 9106's 64 MiB profile, the earlier default
    db.commit()
    assert "m=65536" in user.password_hash
    r = client.post("/api/v1/auth/token", data={"username": "learner", "password": PASSWORD})
    assert r.status_code == 200, r.text
    db.expire_all()
    with cross_tenant(db):
        assert "$argon2id$v=19$m=19456,t=2,p=1$" in db.get(type(user), user.id).password_hash


@pytest.mark.parametrize(
    "identifier",
    [
        "hà.lt@haiphong.gov.vn",
        "HÀ.LT@HAIPHONG.GOV.VN",
        "ha\u0300.lt@haiphong.gov.vn",  # decomposed, as some keyboards send it
    ],
)
def test_sign_in_with_an_accented_email_address(world, db, client, identifier: str) -> None:
    make_user(db, world.haiphong, "halt", email="Hà.LT@haiphong.gov.vn")
    r = client.post("/api/v1/auth/token", data={"username": identifier, "password": PASSWORD})
    assert r.status_code == 200, r.text


def test_accented_addresses_are_stored_in_one_form_and_compared_in_it(world, db, client) -> None:
    from app.accounts.service import canonical_email

    # The tone mark's place is a keyboard setting; a Vietnamese domain may come as Unicode or as xn--.
    user = make_user(db, world.haiphong, "hoalt", email="Hòa.LT@Hải-Phòng.vn")
    assert user.email == "hoà.lt@hải-phòng.vn" == canonical_email("hoà.lt@xn--hi-phng-h0a8159d.vn")
    for identifier in ("hoà.lt@hải-phòng.vn", "HÒA.LT@xn--hi-phng-h0a8159d.vn"):
        r = client.post("/api/v1/auth/token", data={"username": identifier, "password": PASSWORD})
        assert r.status_code == 200, identifier
    # Another letter is another address: accents are not folded away.
    r = client.post("/api/v1/auth/token", data={"username": "hoa.lt@hải-phòng.vn", "password": PASSWORD})
    assert r.status_code == 401


def test_an_imported_accented_address_signs_in(world, db, make_client) -> None:
    from sqlalchemy import select

    from app.accounts.models import User
    from tests.factories import in_tenant, password_hash

    admin = make_client("haiphong")
    admin.login_api("admin")
    rows = "Họ và tên,Email\nLê Thu Hà,hà.lt@haiphong.gov.vn\n".encode()
    r = admin.api(
        "POST", "/api/v1/users/import", files={"file": ("a.csv", rows, "text/csv")}, data={"dry_run": "false"}
    )
    assert r.status_code == 200 and r.json()["created"] == 1 and r.json()["errors"] == [], r.text
    with in_tenant(db, world.haiphong):
        user = db.scalars(select(User).where(User.email == "hà.lt@haiphong.gov.vn")).one()
        user.password_hash = password_hash()
        user.must_change_password = False
        db.flush()
    db.commit()
    learner = make_client("haiphong")
    r = learner.post("/api/v1/auth/token", data={"username": "Hà.LT@haiphong.gov.vn", "password": PASSWORD})
    assert r.status_code == 200, r.text
