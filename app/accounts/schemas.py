"""API shapes for accounts and tokens."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.accounts.constants import ROLES


class TokenRead(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    must_change_password: bool = False


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    email: str | None
    phone: str | None
    position: str | None
    target_group: str | None
    unit_id: int | None = None
    roles: list[str]
    is_active: bool
    must_change_password: bool
    last_login_at: dt.datetime | None


class MeRead(UserRead):
    tenant: str


# A role's name, as the lists below take it (ROLES has four, each under 20 characters).
RoleName = Annotated[str, Field(max_length=32)]


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    full_name: str = Field(min_length=1, max_length=200)
    password: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    position: str | None = Field(default=None, max_length=200)
    target_group: str | None = Field(default=None, max_length=32)
    roles: list[RoleName] = Field(default_factory=lambda: ["learner"], max_length=len(ROLES))


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=200)
    new_password: str = Field(max_length=200)


class RolesUpdate(BaseModel):
    roles: list[RoleName] = Field(max_length=len(ROLES))


class TemporaryPasswordRead(BaseModel):
    user: UserRead
    temporary_password: str


class UserList(BaseModel):
    items: list[UserRead]
    total: int
