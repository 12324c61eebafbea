"""Where uploaded media bytes live: a small interface, and the local-disk implementation."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from app.core.errors import N_, Invalid

CHUNK = 1024 * 1024

# (content type, extension, test on the first bytes): types are decided from content, never the file name.
_SIGNATURES: tuple[tuple[str, str], ...] = (
    ("application/pdf", ".pdf"),
    ("image/png", ".png"),
    ("image/jpeg", ".jpg"),
    ("video/mp4", ".mp4"),
    ("video/webm", ".webm"),
)
VIDEO_TYPES = frozenset({"video/mp4", "video/webm"})
DOCUMENT_TYPES = frozenset({"application/pdf"})
IMAGE_TYPES = frozenset({"image/png", "image/jpeg"})


def sniff(head: bytes) -> str | None:
    """The content type told by a file's first bytes (magic numbers), or None if not one we accept."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    return None


def extension_for(content_type: str) -> str:
    return dict(_SIGNATURES).get(content_type, "")


@dataclass(frozen=True)
class StoredFile:
    key: str
    content_type: str
    size: int
    sha256: str


class Storage(Protocol):
    def save(
        self, tenant_id: int, stream: BinaryIO, *, max_bytes: int, allowed: frozenset[str]
    ) -> StoredFile:
        """Store a stream after checking its type (from content) and size; raises Invalid otherwise."""
        ...

    def local_path(self, key: str) -> Path | None:
        """A path to serve from (None when the file is gone)."""
        ...

    def read(self, key: str) -> bytes: ...


class DiskStorage:
    """Files under `<root>/<tenant_id>/<random>.<ext>`: a tenant's media never shares a folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def save(
        self, tenant_id: int, stream: BinaryIO, *, max_bytes: int, allowed: frozenset[str]
    ) -> StoredFile:
        head = stream.read(16)
        content_type = sniff(head)
        if content_type is None or content_type not in allowed:
            raise Invalid(N_("This type of file is not accepted here."), code="file_type")
        folder = self.root / str(int(tenant_id))
        folder.mkdir(parents=True, exist_ok=True)
        name = secrets.token_hex(16) + extension_for(content_type)
        target = folder / name
        digest = hashlib.sha256(head)
        size = len(head)
        try:
            with target.open("xb") as out:
                out.write(head)
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise Invalid(
                            N_("The file is too large (at most {mb} MB)."),
                            code="file_size",
                            mb=max_bytes // (1024 * 1024),
                        )
                    digest.update(chunk)
                    out.write(chunk)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return StoredFile(f"{int(tenant_id)}/{name}", content_type, size, digest.hexdigest())

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(key)
        return path

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if os.path.isfile(path) else None

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()
