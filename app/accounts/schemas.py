"""API shapes for accounts and tokens."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


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


class UserCreate(BaseModel):
    username: str = Field(min_length=2, max_length=64)
    full_name: str = Field(min_length=1, max_length=200)
    password: str | None = Field(default=None, max_length=200)
    email: str | None = None
    phone: str | None = None
    position: str | None = None
    target_group: str | None = None
    roles: list[str] = Field(default_factory=lambda: ["learner"])


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=200)
    new_password: str = Field(max_length=200)


class RolesUpdate(BaseModel):
    roles: list[str]


class TemporaryPasswordRead(BaseModel):
    user: UserRead
    temporary_password: str


class UserList(BaseModel):
    items: list[UserRead]
    total: int
