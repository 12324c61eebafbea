"""Roles and target groups (SPEC §2, §5)."""

from __future__ import annotations

from app.core.errors import N_

LEARNER = "learner"
TRAINER = "trainer"
TENANT_ADMIN = "tenant_admin"
NATIONAL_ADMIN = "national_admin"
ROLES = (LEARNER, TRAINER, TENANT_ADMIN, NATIONAL_ADMIN)

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
