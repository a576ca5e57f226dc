"""Browser-test fixtures: the real server in a subprocess, and one chromium per session.

The server is started exactly as `make run` starts it (`python app.py`, gevent,
Socket.IO), on a throwaway SQLite database loaded with the demo congress, so the
browser tests exercise the real stack end to end.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from deliberation import create_app
from deliberation.extensions import db
from deliberation.models import Congress

from .support import REPO_ROOT, launch_browser

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    env: dict
    process: subprocess.Popen
    log: Path

    def cli(self, *args: str) -> str:
        """Run `python -m deliberation ...` against this server's database."""
        run = subprocess.run([sys.executable, "-m", "deliberation", *args], cwd=REPO_ROOT,
                             env=self.env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        return run.stdout


def start_server(tmp: Path, *, demo: bool = True, extra_env: dict | None = None) -> Server:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'motion.db'}", "PORT": str(port),
           "HOST": "127.0.0.1", "SECRET_KEY": "browser-tests", "MOTION_INSTANCE": str(tmp),
           "SORT_DEBOUNCE_S": "0.3",
           # One server for every browser test, all from 127.0.0.1: the staff log in far
           # more often than a team would (the limit itself: tests/test_rate_limits.py).
           "RATELIMIT_LOGIN": "1000 per minute", **(extra_env or {})}
    for args in (["init-db"], ["load-demo"] if demo else None):
        if args:
            run = subprocess.run([sys.executable, "-m", "deliberation", *args], cwd=REPO_ROOT,
                                 env=env, capture_output=True, text=True, timeout=300)
            assert run.returncode == 0, run.stderr
    log = tmp / "server.log"
    handle = log.open("w")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=REPO_ROOT, env=env,
                               stdout=handle, stderr=subprocess.STDOUT)
    handle.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(url + "/", timeout=1).status_code == 200:
                return Server(url, env, process, log)
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


@contextmanager
def demo_in_vote_phase(server: Server, code: str = "RURAL26"):
    """The server's demo congress put in the vote phase, inside an app context on its
    database: a fixture sets its ballots and presence up there, directly, then serves."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": server.env["DATABASE_URL"],
                      "SORT_IN_BACKGROUND": False})
    with app.app_context():
        congress = db.session.scalar(select(Congress).filter_by(join_code=code))
        congress.phase = "vote"
        db.session.commit()
        yield congress


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[Server]:
    """The app with the demo congress, shared by the browser tests of a session."""
    srv = start_server(tmp_path_factory.mktemp("server"))
    yield srv
    stop_server(srv)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        chromium = launch_browser(playwright)
        yield chromium
        chromium.close()
