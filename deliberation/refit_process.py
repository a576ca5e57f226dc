"""The debounced refit, run in a child process beside the server (`python app.py`, gunicorn).

Why a process: under gevent every socket of the room is a greenlet of one thread.
A refit run in that process (database reads, the engine on the thread pool, the
writes and the stored run) took 300–500 ms of the event loop on this 2-core
machine, and the engine thread held the GIL in between: the idea that arrived
during a refit reached the 500 phones in 200–400 ms instead of 50–90 ms. The child
runs the very same `sorting.refit` with its own database connection, at the lowest
CPU priority, so the server's loop keeps the CPU for the live pushes; the server
only receives the fitted model (to place the next live idea at once) and pushes
the new picture.

The protocol is one request and one answer per refit, as length-prefixed pickles
over two private pipes. The answer carries the model without the theme model it
shares with every congress of the same themes (5.7 MB of the 7.6 MB): both
processes rebuild that one identically from corpus/ (`get_theme_model`), so the
server plugs its own copy back in when it unpickles (`persistent_id`).

When the child cannot run (it died, it does not answer), the server refits in
process as before: a slower picture, never a lost one.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import subprocess
import sys
import threading

from flask import Flask

from .clustering.distilled import DistilledVectors, load_distilled
from .clustering.themes import ThemeModel

_HEADER = struct.Struct(">Q")
_THEME_MODEL = "theme-model"
_DISTILLED = "distilled-table"
#: How long a refit may take in the child before the server gives up on it.
ANSWER_TIMEOUT_S = 120.0


# -- framing and the model without its theme model -------------------------------------------

def write_frame(fd: int, payload: bytes) -> None:
    data = memoryview(_HEADER.pack(len(payload)) + payload)
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _read_exactly(fd: int, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("refit process closed its pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> bytes:
    (size,) = _HEADER.unpack(_read_exactly(fd, _HEADER.size))
    return _read_exactly(fd, size)


class _ModelPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, ThemeModel):
            return _THEME_MODEL
        # The distilled word table is read from build/cache by both processes alike.
        return _DISTILLED if isinstance(obj, DistilledVectors) else None


class _ModelUnpickler(pickle.Unpickler):
    def __init__(self, data: bytes, theme_model):
        super().__init__(io.BytesIO(data))
        self._theme_model = theme_model

    def persistent_load(self, pid):
        if pid == _THEME_MODEL:
            return self._theme_model
        if pid == _DISTILLED:
            return load_distilled()
        raise pickle.UnpicklingError(f"unknown persistent id {pid!r}")


def dump_model(model) -> bytes:
    """A fitted SortingModel without the (shared, rebuildable) theme model."""
    buffer = io.BytesIO()
    _ModelPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(model)
    return buffer.getvalue()


def load_model(data: bytes, theme_model):
    """The model dump_model wrote, with this process's copy of the theme model."""
    return _ModelUnpickler(data, theme_model).load()


# -- the server side -------------------------------------------------------------------------

class Busy(Exception):
    """Another server process is refitting this congress: ask again later."""


class RefitProcess:
    """One child per server process, started on first use, restarted when it died."""

    def __init__(self):
        self._lock = threading.Lock()
        self._child: subprocess.Popen | None = None
        self._owner: int | None = None
        self._to_child: int | None = None
        self._from_child: int | None = None

    def _start(self, app: Flask) -> None:
        requests_r, requests_w = os.pipe()
        answers_r, answers_w = os.pipe()
        env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
        env.pop("REDIS_URL", None)  # the child never pushes: the server does
        try:
            self._child = subprocess.Popen(
                [sys.executable, "-m", "deliberation.refit_worker",
                 str(requests_r), str(answers_w)],
                pass_fds=(requests_r, answers_w), env=env, close_fds=True)
        finally:
            os.close(requests_r)
            os.close(answers_w)
        self._to_child, self._from_child, self._owner = requests_w, answers_r, os.getpid()

    def _alive(self) -> bool:
        return (self._child is not None and self._owner == os.getpid()
                and self._child.poll() is None)

    def _stop(self) -> None:
        for fd in (self._to_child, self._from_child):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        if self._child is not None and self._owner == os.getpid():
            if self._child.poll() is None:
                self._child.kill()
            try:
                self._child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._child = self._to_child = self._from_child = self._owner = None

    def start(self, app: Flask) -> None:
        """Start the child now (at server start), so the first refit does not wait for it."""
        with self._lock:
            if not self._alive():
                self._stop()
                self._start(app)

    def refit(self, app: Flask, congress_id: int) -> tuple[int, bytes]:
        """Ask the child for a refit; (run id, model bytes). Raises when it cannot answer."""
        with self._lock:
            if not self._alive():
                self._stop()
                self._start(app)
            to_child, from_child = self._to_child, self._from_child
            try:
                answer = _blocking(_exchange, to_child, from_child,
                                   pickle.dumps({"congress_id": congress_id}))
            except (OSError, EOFError, TimeoutError):
                self._stop()  # a broken or silent child: the next refit starts a new one
                raise
        if answer.get("busy"):
            raise Busy(congress_id)
        if not answer.get("ok"):
            raise RuntimeError(answer.get("error") or "refit failed in the child process")
        return int(answer["run_id"]), answer["model"]

    def stop(self) -> None:
        with self._lock:
            self._stop()


def _exchange(to_child: int, from_child: int, request: bytes) -> dict:
    write_frame(to_child, request)
    ready, _, _ = _original_select()([from_child], [], [], ANSWER_TIMEOUT_S)
    if not ready:
        raise TimeoutError("the refit process did not answer in time")
    return pickle.loads(read_frame(from_child))


def _original_select():
    """select.select as the OS gives it, even when gevent patched the module."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is pinned
        import select

        return select.select
    return monkey.get_original("select", "select")


def _blocking(function, *args):
    """Run blocking pipe I/O on a real OS thread under gevent (the loop stays free).

    The pipes are plain blocking file descriptors and `select`/`os.read` here are
    the unpatched ones on that thread: the waiting costs the event loop nothing.
    """
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is pinned
        return function(*args)
    if not monkey.is_module_patched("threading"):
        return function(*args)
    import gevent

    return gevent.get_hub().threadpool.apply(function, args)


process = RefitProcess()
