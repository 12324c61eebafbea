"""The first minute: `make run` (migrate, seed, serve) prints addresses, and each of them opens its portal.

The server is a real `onetouch serve` subprocess on a free port, against a fresh SQLite database migrated and
seeded in a temporary directory, as `make run` builds it. Requests go to 127.0.0.1 with the printed address's
Host (what a browser does after resolving `*.localhost` to this computer).
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlencode, urlsplit

import pytest

from app.cli import first_minute_text
from app.core.settings import Settings
from bench.harness import free_port, stop

STARTUP_SECONDS = 60
ROW = re.compile(r"^  (?P<name>\S.*?)\s{2,}(?P<url>http://\S+)$")
URL = re.compile(r"http://[^\s)`,]+")
H1 = re.compile(r"<h1>([^<]+)</h1>")
BANNER_LINK = re.compile(r'<a href="(http://[^"]+)">([^<]+)</a>')


def onetouch() -> list[str]:
    script = Path(sys.executable).with_name("onetouch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


@dataclass
class Served:
    port: int
    output: list[str]  # every line the server printed so far (stdout and stderr, in order)


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """`make run`'s first two steps on an empty directory: the environment the server then runs with."""
    root = tmp_path_factory.mktemp("first-minute")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "HOST", "PORT", "WORKERS")
    }
    env.update(
        ENV="development",
        DATABASE_URL=f"sqlite:///{root / 'onetouch.db'}",
        MEDIA_DIR=str(root / "media"),
        BASE_DOMAIN="localhost",
        PYTHONUNBUFFERED="1",
    )
    env.pop("SECRET_KEY", None)
    for step in (["migrate"], ["seed"]):
        done = subprocess.run(
            [*onetouch(), *step], env=env, cwd=root, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr[-2000:]
    env["_CWD"] = str(root)
    return env


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))


@contextmanager
def serve(env: dict[str, str], *args: str) -> Iterator[Served]:
    """Run `onetouch serve ARGS` until the block after "Uvicorn running on" is complete; stop it after."""
    port = free_port()
    cwd = env["_CWD"]
    server = subprocess.Popen(
        [*onetouch(), "serve", "--port", str(port), *args],
        env={k: v for k, v in env.items() if k != "_CWD"},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        start_new_session=True,  # its workers too are stopped below
    )
    lines: queue.Queue[str] = queue.Queue()
    assert server.stdout is not None
    reader = threading.Thread(target=_pump, args=(server.stdout, lines), daemon=True)
    reader.start()
    served = Served(port, [])
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not any(line.startswith("Demo sign-ins") for line in served.output):
            remaining = deadline - time.monotonic()
            assert remaining > 0 and server.poll() is None, "\n".join(served.output[-40:])
            try:
                served.output.append(lines.get(timeout=min(remaining, 1)))
            except queue.Empty:
                continue
        served.output.append(lines.get(timeout=5))  # the block's last line
        yield served
    finally:
        stop(server)  # the whole process group: the workers too
        reader.join(timeout=5)
        if server.stdout:
            server.stdout.close()


def get(port: int, url: str, path: str = "/") -> tuple[int, str]:
    """GET `url` + `path` from the server on 127.0.0.1, sending the URL's host as a browser would."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": urlsplit(url).netloc})
    try:
        with urllib.request.urlopen(request, timeout=20) as r:  # noqa: S310 - loopback only
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def block(served: Served) -> list[str]:
    start = next(i for i, line in enumerate(served.output) if line.startswith("OneTouch is ready"))
    return served.output[start:]


def test_make_run_prints_addresses_that_open_each_portal(fresh_install: dict[str, str]) -> None:
    with serve(fresh_install) as served:
        output = served.output
        running = next(i for i, line in enumerate(output) if "Uvicorn running on" in line)
        lines = block(served)
        assert output.index(lines[0]) > running, "the block comes after uvicorn's own line"
        assert f"http://127.0.0.1:{served.port}" in output[running]  # the real port, as uvicorn says it
        rows = {m["url"]: m["name"] for line in lines if (m := ROW.match(line))}
        p = served.port
        assert rows == {
            f"http://localhost:{p}": "Cổng đào tạo quốc gia",
            f"http://haiphong.localhost:{p}": "Hải Phòng",
            f"http://quangngai.localhost:{p}": "Quảng Ngãi",
            f"http://quangninh.localhost:{p}": "Quảng Ninh",
        }
        # Each printed portal address answers with that portal.
        for url, name in rows.items():
            status, page = get(p, url)
            assert status == 200, (url, status)
            assert H1.findall(page)[0] == name, url
        # Every other address printed works too: uvicorn's 127.0.0.1 opens the national portal, whose
        # banner links to the provinces at the addresses printed above.
        others = [u for line in lines if not ROW.match(line) for u in URL.findall(line)]
        assert others == [f"http://127.0.0.1:{p}"]
        status, page = get(p, others[0])
        assert status == 200 and H1.findall(page)[0] == "Cổng đào tạo quốc gia"
        banner = {url: name for url, name in BANNER_LINK.findall(page)}
        assert banner == {url: name for url, name in rows.items() if name != "Cổng đào tạo quốc gia"}
        # The demo sign-ins printed work.
        assert any("hocvien1" in line and "admin" in line for line in lines)
        password = re.search(r"password is (\S+?)\)?:", "\n".join(lines))
        assert password, lines
        form = urlencode({"username": "hocvien1", "password": password.group(1)}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{p}/api/v1/auth/token", data=form, headers={"Host": f"haiphong.localhost:{p}"}
        )
        with urllib.request.urlopen(request, timeout=20) as r:  # noqa: S310 - loopback only
            assert r.status == 200
        # An unknown portal lists the real ones.
        status, page = get(p, f"http://nowhere.localhost:{p}")
        assert status == 404 and f'href="http://haiphong.localhost:{p}"' in page


def test_several_workers_print_the_block_once(fresh_install: dict[str, str]) -> None:
    with serve(fresh_install, "--workers", "2") as served:
        time.sleep(1)  # time for a second worker to print a second block, if it would
        assert sum(line.startswith("OneTouch is ready") for line in served.output) == 1
        running = next(i for i, line in enumerate(served.output) if "Uvicorn running on" in line)
        assert served.output.index(block(served)[0]) > running
        status, page = get(served.port, f"http://haiphong.localhost:{served.port}")
        assert status == 200 and H1.findall(page)[0] == "Hải Phòng"


# The block's text for the other ways of serving (no process needed).

PORTALS = [("national", "Cổng đào tạo quốc gia"), ("haiphong", "Hải Phòng"), ("quangninh", "Quảng Ninh")]


def settings() -> Settings:
    return Settings(env="development", _env_file=None)  # type: ignore[call-arg]


def test_serving_on_every_interface_adds_the_phone_address() -> None:
    text = first_minute_text(settings(), PORTALS, "0.0.0.0", 8000, lan_address="192.168.1.5")  # noqa: S104
    assert "http://haiphong.localhost:8000" in text
    assert "A phone on the same Wi-Fi: http://192.168.1.5:8000" in text
    assert "http://<slug>.192-168-1-5.sslip.io:8000" in text


def test_serving_on_loopback_says_how_to_reach_a_phone() -> None:
    text = first_minute_text(settings(), PORTALS, "127.0.0.1", 8000, lan_address="192.168.1.5")
    assert "--host 0.0.0.0" in text and "192.168.1.5:8000" in text
    assert "http://192.168.1.5" not in text  # not an address that works yet
    assert "A phone" not in first_minute_text(settings(), PORTALS, "127.0.0.1", 8000, lan_address=None)


def test_serving_on_a_lan_address_prints_names_a_phone_resolves() -> None:
    text = first_minute_text(settings(), PORTALS, "192.168.1.5", 8000, lan_address="192.168.1.5")
    assert "http://haiphong.192-168-1-5.sslip.io:8000" in text
    assert "http://localhost" not in text  # not listening on the loopback address


def test_many_portals_are_cut_short_and_no_demo_hint_without_the_demo() -> None:
    many = [("national", "Quốc gia")] + [(f"tinh{i:02}", f"Tỉnh {i}") for i in range(1, 63)]
    text = first_minute_text(settings(), many, "127.0.0.1", 8000, lan_address=None)
    assert "… and 52 more (`onetouch tenants list`)" in text
    assert sum(bool(ROW.match(line)) for line in text.splitlines()) == 11
    assert "Demo sign-ins" not in text


def test_before_migrate_and_seed_it_says_what_to_run() -> None:
    assert "onetouch seed" in first_minute_text(settings(), None, "127.0.0.1", 8000, lan_address=None)
