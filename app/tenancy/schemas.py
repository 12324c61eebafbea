"""API shapes for tenants."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TenantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    slug: str
    display_name: str
    colour: str
    default_language: str
    self_registration: bool
    is_active: bool


class TenantCreate(BaseModel):
    slug: str = Field(min_length=2, max_length=63)
    display_name: str = Field(min_length=1, max_length=200)
    colour: str = "#0b5394"
    default_language: str = "vi"
    self_registration: bool = False


class TenantUpdate(BaseModel):
    display_name: str | None = None
    colour: str | None = None
    default_language: str | None = None
    self_registration: bool | None = None
    is_active: bool | None = None


class TenantList(BaseModel):
    items: list[TenantRead]
    total: int
