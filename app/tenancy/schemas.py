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
    colour: str = Field(default="#0b5394", max_length=7)
    default_language: str = Field(default="vi", max_length=5)
    self_registration: bool = False


class TenantUpdate(BaseModel):
    display_name: str | None = Field(default=None, max_length=200)
    colour: str | None = Field(default=None, max_length=7)
    default_language: str | None = Field(default=None, max_length=5)
    self_registration: bool | None = None
    is_active: bool | None = None


class TenantList(BaseModel):
    items: list[TenantRead]
    total: int
