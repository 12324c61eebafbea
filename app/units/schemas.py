"""API shapes for units."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class UnitRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str
    depth: int


class UnitList(BaseModel):
    items: list[UnitRead]
    total: int
