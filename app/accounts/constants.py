"""Roles and target groups (SPEC §2, §5)."""

from __future__ import annotations

from app.core.errors import N_

LEARNER = "learner"
TRAINER = "trainer"
TENANT_ADMIN = "tenant_admin"
NATIONAL_ADMIN = "national_admin"
ROLES = (LEARNER, TRAINER, TENANT_ADMIN, NATIONAL_ADMIN)
# Rank of each role, lowest first: an administrator acts on accounts up to their own rank only
# (app.accounts.service.check_rank).
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
ADMIN_ROLES = (TENANT_ADMIN, NATIONAL_ADMIN)

TARGET_GROUPS = {
    "civil_servant": N_("Civil servant"),
    "commune_leader": N_("Commune leader"),
    "digital_team_member": N_("Community digital-technology team member"),
    "citizen": N_("Citizen"),
    "enterprise": N_("Enterprise staff"),
    "it_staff": N_("IT staff"),
    "youth_union": N_("Youth union member"),
}

GENDERS = ("male", "female", "other")
