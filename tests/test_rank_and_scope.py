"""Rank and scope, table-driven (issue 14): every administrator action on an account against every role and
target (lower, equal and higher rank; this portal and another), and every trainer action on a cohort (their
own, one they were added to, another trainer's, another portal's).

Each row names the outcome a user would see: `ok`, `refused` (403, or an import row refused with a message),
`hidden` (404: another portal's account, another trainer's cohort). Actors are signed in once; every account
row acts on a target made for it, so no row's change leaks into the next.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.cohorts import service as cohorts_service
from app.cohorts.models import Cohort
from app.core.web import CSRF_FIELD
from tests import factories
from tests.factories import Browser, in_tenant

LEARNER, TRAINER, TENANT_ADMIN, NATIONAL_ADMIN = (
    ["learner"],
    ["trainer"],
    ["tenant_admin"],
    ["national_admin"],
)

# (portal, actor username, target's roles or "other-portal", action, expected)
ACCOUNT_CASES: list[tuple[str, str, Any, str, str]] = [
    # A tenant administrator on the national portal: never above their rank (item 1 of the issue).
    ("national", "tadmin", NATIONAL_ADMIN, "roles:learner", "refused"),
    ("national", "tadmin", NATIONAL_ADMIN, "reset", "refused"),
    ("national", "tadmin", NATIONAL_ADMIN, "deactivate", "refused"),
    ("national", "tadmin", NATIONAL_ADMIN, "activate", "refused"),
    ("national", "tadmin", NATIONAL_ADMIN, "import", "refused"),
    ("national", "tadmin", TENANT_ADMIN, "roles:learner", "ok"),
    ("national", "tadmin", TENANT_ADMIN, "reset", "ok"),
    ("national", "tadmin", TENANT_ADMIN, "deactivate", "ok"),
    ("national", "tadmin", TENANT_ADMIN, "import", "ok"),
    ("national", "tadmin", TRAINER, "reset", "ok"),
    ("national", "tadmin", LEARNER, "deactivate", "ok"),
    ("national", "tadmin", LEARNER, "roles:tenant_admin", "ok"),
    ("national", "tadmin", LEARNER, "roles:national_admin", "refused"),
    ("national", "tadmin", None, "create:national_admin", "refused"),
    ("national", "tadmin", None, "create:tenant_admin", "ok"),
    # The national administrator: every account of the national portal.
    ("national", "admin", NATIONAL_ADMIN, "roles:learner", "ok"),
    ("national", "admin", NATIONAL_ADMIN, "deactivate", "ok"),
    ("national", "admin", NATIONAL_ADMIN, "import", "ok"),
    ("national", "admin", TENANT_ADMIN, "reset", "ok"),
    ("national", "admin", LEARNER, "roles:national_admin", "ok"),
    ("national", "admin", None, "create:national_admin", "ok"),
    ("national", "admin", "other-portal", "reset", "hidden"),
    ("national", "admin", "other-portal", "roles:learner", "hidden"),
    # A province administrator: their province only, up to their rank.
    ("haiphong", "admin", TENANT_ADMIN, "deactivate", "ok"),
    ("haiphong", "admin", TENANT_ADMIN, "roles:trainer", "ok"),
    ("haiphong", "admin", TRAINER, "reset", "ok"),
    ("haiphong", "admin", LEARNER, "activate", "ok"),
    ("haiphong", "admin", LEARNER, "roles:national_admin", "refused"),
    ("haiphong", "admin", NATIONAL_ADMIN, "reset", "refused"),  # an account given the top role elsewhere
    ("haiphong", "admin", NATIONAL_ADMIN, "roles:learner", "refused"),
    ("haiphong", "admin", NATIONAL_ADMIN, "import", "refused"),
    ("haiphong", "admin", None, "create:national_admin", "refused"),
    ("haiphong", "admin", "other-portal", "reset", "hidden"),
    ("haiphong", "admin", "other-portal", "deactivate", "hidden"),
    ("haiphong", "admin", "other-portal", "roles:learner", "hidden"),
    # Trainers and learners take no administrator action at all.
    ("haiphong", "trainer", LEARNER, "reset", "refused"),
    ("haiphong", "trainer", LEARNER, "roles:trainer", "refused"),
    ("haiphong", "trainer", None, "create:learner", "refused"),
    ("haiphong", "trainer", LEARNER, "import", "refused"),
    ("haiphong", "learner", LEARNER, "deactivate", "refused"),
    ("haiphong", "learner", TRAINER, "roles:learner", "refused"),
]


@dataclass
class Actors:
    api: dict[tuple[str, str], Browser]
    page: dict[tuple[str, str], Browser]


def _sign_in(make_client: Callable[..., Browser], slug: str, username: str) -> Browser:
    client = make_client(slug)
    client.login_api(username)
    return client


def _import_update(client: Browser, username: str) -> str:
    text = f"Họ và tên,Tên đăng nhập\nTên Mới Nhập,{username}\n"
    r = client.api(
        "POST",
        "/api/v1/users/import",
        files={"file": ("ds.csv", text.encode(), "text/csv")},
        data={"dry_run": "false"},
    )
    if r.status_code != 200:
        return _outcome(r.status_code)
    body = r.json()
    if body["updated"] == 1:
        return "ok"
    assert body["errors"] and "vai trò" in body["errors"][0]["message"], body
    return "refused"


def _outcome(status: int) -> str:
    if status in (200, 201):
        return "ok"
    if status == 403:
        return "refused"
    if status == 404:
        return "hidden"
    return f"status {status}"


def _account_action(client: Browser, action: str, target_id: int, username: str) -> str:
    verb, _, arg = action.partition(":")
    if verb == "import":
        return _import_update(client, username)
    if verb == "create":
        body = {"username": f"moi{arg.replace('_', '')}", "full_name": "Người Mới", "roles": [arg]}
        return _outcome(client.api("POST", "/api/v1/users", json=body).status_code)
    if verb == "roles":
        r = client.api("PUT", f"/api/v1/users/{target_id}/roles", json={"roles": [arg]})
    else:
        path = {"reset": "reset-password", "deactivate": "deactivate", "activate": "activate"}[verb]
        r = client.api("POST", f"/api/v1/users/{target_id}/{path}")
    return _outcome(r.status_code)


def test_every_admin_action_on_an_account_stays_within_rank_and_portal(
    world: factories.World, db: Session, make_client: Callable[..., Browser]
) -> None:
    factories.make_user(db, world.national, "tadmin", roles=TENANT_ADMIN)
    db.commit()
    actors = {
        (slug, username): _sign_in(make_client, slug, username)
        for slug, username in {(case[0], case[1]) for case in ACCOUNT_CASES}
    }
    other = world.users["quangninh_learner"]
    problems = []
    for n, (slug, actor, target_roles, action, expected) in enumerate(ACCOUNT_CASES):
        tenant = world.national if slug == "national" else world.haiphong
        if target_roles == "other-portal":
            target_id, username = other.id, other.username
        else:
            target = factories.make_user(db, tenant, f"dich{n}", roles=target_roles or LEARNER)
            db.commit()
            target_id, username = target.id, target.username
        got = _account_action(actors[(slug, actor)], action, target_id, username)
        if got != expected:
            problems.append(f"{slug} {actor} → {action} on {target_roles}: {got}, expected {expected}")
    assert not problems, "\n".join(problems)


def test_an_administrator_cannot_lower_their_own_role(world, make_client) -> None:
    admin = _sign_in(make_client, "haiphong", "admin")
    admin_id = world.users["haiphong_admin"].id
    r = admin.api("PUT", f"/api/v1/users/{admin_id}/roles", json={"roles": ["learner"]})
    assert r.status_code == 422 and r.json()["code"] == "own_role"
    r = admin.api("PUT", f"/api/v1/users/{admin_id}/roles", json={"roles": ["tenant_admin", "trainer"]})
    assert r.status_code == 200


# Cohorts -----------------------------------------------------------------------------------------------

# Cohorts of Hải Phòng: "own" created by `trainer`, "added" created by `admin` with `trainer` added to run it,
# "others" created by `trainer2`; "other-portal" is Quảng Ninh's.
COHORT_TARGETS = ("own", "added", "others", "other-portal")
# actor → what they get on each target, for every cohort action below.
COHORT_EXPECTED = {
    "trainer": {"own": "ok", "added": "ok", "others": "hidden", "other-portal": "hidden"},
    "trainer2": {"own": "hidden", "added": "hidden", "others": "ok", "other-portal": "hidden"},
    "admin": {"own": "ok", "added": "ok", "others": "ok", "other-portal": "hidden"},
    "learner": {"own": "refused", "added": "refused", "others": "refused", "other-portal": "refused"},
}


def _cohorts(db: Session, world: factories.World) -> dict[str, Cohort]:
    course = factories.make_course(db, world.national, "cds", "Chuyển đổi số", lessons=("Bài 1",))
    users = world.users
    trainer2 = factories.make_user(db, world.haiphong, "trainer2", roles=TRAINER)
    hp = world.haiphong
    cohorts = {
        "own": factories.make_cohort(db, hp, course, "HP-01", created_by_id=users["haiphong_trainer"].id),
        "added": factories.make_cohort(db, hp, course, "HP-02", created_by_id=users["haiphong_admin"].id),
        "others": factories.make_cohort(db, hp, course, "HP-03", created_by_id=trainer2.id),
        "other-portal": factories.make_cohort(
            db, world.quangninh, course, "QN-01", created_by_id=users["quangninh_trainer"].id
        ),
    }
    with in_tenant(db, hp):
        cohort = db.get(Cohort, cohorts["added"].id)
        trainer = db.get(type(users["haiphong_trainer"]), users["haiphong_trainer"].id)
        assert cohort is not None and trainer is not None
        cohorts_service.add_trainer(db, cohort, trainer)
    db.commit()
    return cohorts


def _page_outcome(r: Any) -> str:
    return _outcome(r.status_code)


COHORT_ACTIONS: dict[str, Callable[[Browser, Browser, str, int], Any]] = {
    "api: read roster": lambda api, page, csrf, cid: api.api("GET", f"/api/v1/cohorts/{cid}"),
    "api: enrol by username": lambda api, page, csrf, cid: api.api(
        "POST", f"/api/v1/cohorts/{cid}/enrolments", json={"usernames": ["learner"]}
    ),
    "api: enrol a unit": lambda api, page, csrf, cid: api.api(
        "POST", f"/api/v1/cohorts/{cid}/enrolments", json={"unit": "DV1"}
    ),
    "page: roster": lambda api, page, csrf, cid: page.get(f"/cohorts/{cid}"),
    "page: enrol by username": lambda api, page, csrf, cid: page.post(
        f"/cohorts/{cid}/enrolments", data={"usernames": "learner", CSRF_FIELD: csrf}
    ),
    "page: enrol a unit": lambda api, page, csrf, cid: page.post(
        f"/cohorts/{cid}/enrolments/unit", data={"unit": "DV1", CSRF_FIELD: csrf}
    ),
}


def _report_keys(api: Browser) -> set[str] | str:
    r = api.api("GET", "/api/v1/reports/summary", params={"group_by": "cohort"})
    return {item["key"] for item in r.json()["items"]} if r.status_code == 200 else _outcome(r.status_code)


def test_every_cohort_action_follows_the_one_rule_of_who_runs_a_cohort(
    world: factories.World, db: Session, make_client: Callable[..., Browser]
) -> None:
    """Found in review: a trainer read the roster of, and enrolled people into, a cohort they neither created
    nor were added to, while the reports hid it. Pages, API, lists and reports now agree."""
    cohorts = _cohorts(db, world)
    factories.make_units(db, world.haiphong, "Mã,Tên,Loại,Mã cấp trên\nDV1,Đơn vị 1,department,\n")
    problems = []
    for actor, expected in COHORT_EXPECTED.items():
        api = _sign_in(make_client, "haiphong", actor)
        page = make_client("haiphong")
        page.login_page(actor)
        csrf = page.csrf_from("/")
        for target in COHORT_TARGETS:
            cohort_id = cohorts[target].id
            for name, action in COHORT_ACTIONS.items():
                got = _page_outcome(action(api, page, csrf, cohort_id))
                if got != expected[target]:
                    problems.append(
                        f"{actor} → {name} on the {target} cohort: {got}, expected {expected[target]}"
                    )
            listed = api.api("GET", "/api/v1/cohorts")
            ids = {c["id"] for c in listed.json()["items"]} if listed.status_code == 200 else set()
            if (cohort_id in ids) != (expected[target] == "ok"):
                problems.append(f"{actor}: the {target} cohort listed: {cohort_id in ids}")
            in_list_page = f"/cohorts/{cohort_id}" in page.get("/cohorts").text
            if in_list_page != (expected[target] == "ok"):
                problems.append(f"{actor}: the {target} cohort on the cohorts page: {in_list_page}")
        keys = _report_keys(api)
        runs = {str(cohorts[t].id) for t in COHORT_TARGETS if expected[t] == "ok"}
        if actor == "learner":
            if keys != "refused":
                problems.append(f"learner reads the cohort report: {keys}")
        elif isinstance(keys, str) or not keys <= runs | {"0", "none", ""}:
            problems.append(f"{actor}: the report shows cohorts {keys}, may see {runs}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("target,expected", [("own", 200), ("others", 404)])
def test_a_trainer_reads_only_the_rosters_of_cohorts_they_run(
    world, db, make_client, target: str, expected: int
) -> None:
    cohorts = _cohorts(db, world)
    trainer = _sign_in(make_client, "haiphong", "trainer")
    assert trainer.api("GET", f"/api/v1/cohorts/{cohorts[target].id}").status_code == expected
