"""A live OneTouch server for real browsers (the browser tests and `bench/page_weight.py` share it)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.db import make_engine, make_session_factory
from app.core.migrate import upgrade
from app.core.settings import Settings
from app.main import create_app
from app.seed import seed_demo

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP localhost 127.0.0.1",
]
LOCAL_HOST = re.compile(r"^(?:[a-z0-9-]+\.)*localhost$|^127\.0\.0\.1$")


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def only_localhost(route: Any) -> None:
    from urllib.parse import urlsplit

    host = urlsplit(route.request.url).hostname or ""
    if route.request.url.startswith(("data:", "blob:")) or LOCAL_HOST.match(host):
        route.continue_()
    else:
        route.abort()


@dataclass
class LiveServer:
    port: int
    settings: Settings  # the app's own object: a test may change a setting (and must put it back)
    app: Any = None

    def url(self, slug: str = "haiphong", path: str = "/") -> str:
        host = "localhost" if slug == "national" else f"{slug}.localhost"
        return f"http://{host}:{self.port}{path}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(database_url: str, media_dir: Path) -> Iterator[LiveServer]:
    """Migrate and seed the database (demo tenants, users and the shipped courses), then serve it with
    uvicorn in a background thread on a free loopback port."""
    import uvicorn

    port = _free_port()
    settings = Settings(
        env="test",
        port=port,  # so links the app makes for itself (certificate QR codes) reach this server
        database_url=database_url,
        secret_key="browser-test-secret-key-0123456789-abcdef",
        media_dir=media_dir,
        log_requests=False,
        _env_file=None,  # type: ignore[call-arg]
    )
    upgrade(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        seed_demo(session, settings=settings)
        session.commit()
    engine.dispose()

    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(port, settings, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
