"""Catalog dependencies: the media storage for this app."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.catalog.storage import DiskStorage, Storage


def get_storage(request: Request) -> Storage:
    storage = getattr(request.app.state, "media_storage", None)
    if storage is None:
        storage = DiskStorage(request.app.state.settings.media_dir)
    return storage


MediaStorage = Annotated[Storage, Depends(get_storage)]


def max_upload_bytes(request: Request) -> int:
    return int(request.app.state.settings.media_max_upload_mb) * 1024 * 1024
