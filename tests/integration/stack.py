"""The production stack in subprocesses, for integration, fault and load runs.

`Server` is one `gunicorn -c deploy/gunicorn.conf.py wsgi:app` process (gevent-websocket
worker) on a free loopback port; `Stack` is a fresh PostgreSQL database migrated with
`init-db`, a Socket.IO channel of its own on Redis, a shared secret key and any number of
servers; `Nginx` runs deploy/nginx.conf in front of them. Every wait is bounded.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_error = exc
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}"
                         + (f" (last error: {last_error!r})" if last_error else ""))


@dataclass
class Server:
    """One gunicorn process (master + one gevent worker), in its own process group."""

    port: int
    env: dict
    log: Path
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> Server:
        # wsgi.py refuses to start without PUBLIC_URL (issue 13): this process's address.
        env = {"PUBLIC_URL": self.url, **self.env, "PORT": str(self.port), "HOST": "127.0.0.1"}
        handle = self.log.open("a")
        self.process = subprocess.Popen(
            [GUNICORN, "-c", "deploy/gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
            stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        handle.close()
        self.starts += 1
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 40, healthy: bool = True) -> None:
        def ready():
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited ({self.process.returncode}):\n{self.tail()}")
            response = requests.get(f"{self.url}/sante", timeout=2)
            return response.status_code == 200 or not healthy

        try:
            wait_for(ready, timeout, 0.2, f"{self.url}/sante")
        except (AssertionError, RuntimeError) as exc:
            raise AssertionError(f"{exc}\n--- server log ---\n{self.tail()}") from None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole process group (master and worker): `kill -9` by default."""
        if self.alive():
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)

    def stop(self) -> None:
        """Quick shutdown (SIGQUIT: gunicorn does not wait for open websockets)."""
        self.kill(signal.SIGQUIT)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def workers(self) -> list[int]:
        """Pids of the gunicorn master's workers (a crash loop would keep changing them)."""
        if not self.alive():
            return []
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return sorted(int(child) for child in children)


@dataclass
class Stack:
    database_url: str
    redis_url: str
    tmp: Path
    channel: str = field(default_factory=lambda: f"motion-test-{uuid.uuid4().hex[:10]}")
    servers: list[Server] = field(default_factory=list)
    extra_env: dict = field(default_factory=dict)

    def env(self, **overrides: str) -> dict:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("TEST_", "PYTEST", "PYTHONTRACEMALLOC"))}
        env.update({
            "DATABASE_URL": self.database_url, "REDIS_URL": self.redis_url,
            "SECRET_KEY": f"integration-{self.channel}", "MOTION_INSTANCE": str(self.tmp),
            "SOCKETIO_CHANNEL": self.channel, "RATELIMIT_KEY_PREFIX": self.channel,
            "RATELIMIT_ENABLED": "0", "LOG_FORMAT": "json",
            "LOG_LEVEL": "warning", "MOTION_BEHIND_PROXY": "1", "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        })
        env.update(overrides)
        return env

    def migrate(self) -> None:
        run = subprocess.run([sys.executable, "-m", "deliberation", "init-db"], cwd=ROOT,
                             env=self.env(), capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]

    def server(self, port: int | None = None, **env: str) -> Server:
        port = port or free_port()
        server = Server(port, self.env(**env), self.tmp / f"server-{port}.log")
        self.servers.append(server)
        return server

    def start(self, count: int = 2, **env: str) -> list[Server]:
        """Start `count` servers at once and wait for all of them."""
        started = [self.server(**env).start(wait=False) for _ in range(count)]
        for server in started:
            server.wait_ready()
        return started

    def close(self) -> None:
        for server in self.servers:  # all at once, then wait for each
            if server.alive():
                try:
                    os.killpg(server.process.pid, signal.SIGQUIT)
                except ProcessLookupError:
                    pass
        for server in self.servers:
            server.stop()


class RedisServer:
    """A throwaway redis-server on a free port, that a test may stop and restart."""

    def __init__(self, tmp: Path):
        self.port = free_port()
        self.tmp = tmp
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.tmp), "--daemonize", "no",
             "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def ready():
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")

        wait_for(ready, 10, 0.05, "throwaway redis-server")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


class TcpProxy:
    """A loopback TCP proxy in this process, that a test can cut (every connection
    dropped, new ones refused) and restore on the same port."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._open = False

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener, self._open = listener, True
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while self._open and listener is self._listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)

    def cut(self) -> None:
        self._open = False
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def restore(self) -> None:
        self.start()

    def close(self) -> None:
        self.cut()


class Nginx:
    """deploy/nginx.conf, rendered for the given backends, in its own prefix directory."""

    def __init__(self, tmp: Path, backends: list[int], listen: int | None = None):
        self.prefix = tmp / "nginx"
        self.listen = listen or free_port()
        self.backends = backends
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.listen}"

    def start(self) -> Nginx:
        (self.prefix / "logs").mkdir(parents=True, exist_ok=True)
        (self.prefix / "tmp").mkdir(parents=True, exist_ok=True)
        conf = self.prefix / "nginx.conf"
        run = subprocess.run(
            [sys.executable, str(ROOT / "deploy" / "render_nginx.py"), "--listen",
             str(self.listen), *map(str, self.backends)],
            capture_output=True, text=True, timeout=30, check=True)
        conf.write_text(run.stdout)
        test = subprocess.run(["nginx", "-q", "-t", "-p", f"{self.prefix}/", "-c", str(conf)],
                              capture_output=True, text=True, timeout=30)
        assert test.returncode == 0, test.stderr
        self.process = subprocess.Popen(
            ["nginx", "-p", f"{self.prefix}/", "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: requests.get(f"{self.url}/sante", timeout=2).status_code == 200, 15,
                 0.1, "nginx")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


# --- clients ---------------------------------------------------------------------------

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page: str) -> str:
    found = CSRF.search(page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def login_cookies(base_url: str, invite_token: str) -> requests.Session:
    """A requests session logged in through the invite link, on any server."""
    session = requests.Session()
    response = session.get(f"{base_url}/i/{invite_token}", allow_redirects=False, timeout=10)
    assert response.status_code == 302, response.status_code
    return session


def cookie_header(session: requests.Session) -> str:
    """The session's cookies as a Cookie header; the session is closed (its sockets too)."""
    header = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    session.close()
    return header


class Listener:
    """A python-socketio client that records every event it hears, with arrival times."""

    def __init__(self, url: str, congress: str, audience: str = "participants",
                 cookies: str | None = None, transports=("websocket",), reconnection=True):
        import socketio

        self.url, self.congress, self.audience = url, congress, audience
        self.cookies, self.transports = cookies, list(transports)
        self.events: list[tuple[float, str, object]] = []
        self.connects = 0
        self.lock = threading.Lock()
        self.sio = socketio.Client(reconnection=reconnection, reconnection_delay=0.2,
                                   reconnection_delay_max=1, reconnection_attempts=60,
                                   request_timeout=5)
        self.sio.on("*", self._any)
        self.sio.on("connect", self._connected)

    def _connected(self):
        with self.lock:
            self.connects += 1

    def _any(self, event, data=None):
        with self.lock:
            self.events.append((time.monotonic(), event, data))

    def connect(self, timeout: float = 10) -> Listener:
        headers = {"Cookie": self.cookies} if self.cookies else {}
        self.sio.connect(self.url, headers=headers, transports=self.transports,
                         auth={"congress": self.congress, "audience": self.audience},
                         wait_timeout=timeout)
        return self

    def received(self, event: str) -> list:
        with self.lock:
            return [(at, data) for at, name, data in self.events if name == event]

    def wait_event(self, event: str, match=lambda data: True, timeout: float = 5.0):
        """(arrival time, data) of the first `event` whose data matches."""
        def found():
            return next(((at, data) for at, data in self.received(event) if match(data)),
                        None)

        return wait_for(found, timeout, 0.02, f"{event} on {self.url}")

    def wait_idea(self, text: str, timeout: float = 5.0):
        """(arrival time, data) of the idea with this text: alone (`contribution.created`)
        or within a phones' burst batch (`contributions.created`, see announce.ideas_to_phones)."""
        def found():
            with self.lock:
                for at, name, data in self.events:
                    if name == "contribution.created" and data.get("text") == text:
                        return at, data
                    if name == "contributions.created":
                        for item in data.get("items", []):
                            if item.get("text") == text:
                                return at, item
            return None

        return wait_for(found, timeout, 0.02, f"idea {text!r} on {self.url}")

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001, S110 - already gone
            pass
        http = getattr(self.sio.eio, "http", None)  # the polling transport's session
        if http is not None:
            http.close()
