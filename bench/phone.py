"""A phone for the load generators: one raw websocket speaking Engine.IO 4 / Socket.IO 5.

Hundreds of simulated phones share one process and its cores with the servers they
measure. A full python-socketio client per phone costs several greenlets and queues,
and decodes every push: each push to the room landed on all of them at the same
instant, stalled the generator for a tenth of a second, and then released the
waiting votes as one burst (`make load`). Here a phone reads each frame, answers
pings, resolves its acknowledgements, and hands any other frame to `on_frame` as
text, undecoded. Used under gevent (each phone's reader is a greenlet).
"""

from __future__ import annotations

import json
from typing import Any


class Phone:
    """Connect with a session cookie and join one congress audience; `call` with acks."""

    def __init__(self, url: str, cookie: str, code: str, audience: str = "participants",
                 timeout: float = 20):
        import gevent.lock
        import websocket

        ws_url = url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
        # websocket-client checks each text frame's UTF-8 in pure Python; a phone's
        # browser does it natively. The server is our own, on loopback.
        self.ws = websocket.create_connection(ws_url, header=[f"Cookie: {cookie}"],
                                              timeout=timeout, skip_utf8_validation=True)
        self.lock = gevent.lock.Semaphore()
        self.pending: dict[int, Any] = {}
        self.next_id = 0
        opening = self.ws.recv()
        if not opening.startswith("0"):
            raise RuntimeError(f"unexpected Engine.IO opening {opening[:80]!r}")
        self.send("40" + json.dumps({"congress": code, "audience": audience}))
        answer = self._recv_until_connect()
        if not answer.startswith("40"):
            raise RuntimeError(f"namespace refused: {answer[:120]!r}")
        self.ws.settimeout(None)  # a quiet phone is not a dead one (pings keep it alive)

    def _recv_until_connect(self) -> str:
        while True:
            frame = self.ws.recv()
            if frame == "2":
                self.send("3")
            elif frame.startswith(("40", "44")):
                return frame

    def send(self, frame: str) -> None:
        with self.lock:
            self.ws.send(frame)

    def on_frame(self, frame: str) -> None:
        """Any frame other than a ping or an acknowledgement (a push); ignored here."""

    def read_loop(self) -> None:
        """Answer pings, resolve acknowledgements, pass pushes on; until closed."""
        while True:
            try:
                frame = self.ws.recv()
            except Exception:  # noqa: BLE001 - socket closed at the end of the run
                return
            if not frame:
                return
            if frame == "2":
                self.send("3")
            elif frame.startswith("43"):
                digits = ""
                for ch in frame[2:]:
                    if not ch.isdigit():
                        break
                    digits += ch
                result = self.pending.pop(int(digits), None)
                if result is not None:
                    result.set(json.loads(frame[2 + len(digits):])[0])
            else:
                self.on_frame(frame)

    def call(self, event: str, data: dict, timeout: float) -> Any:
        """Emit with an acknowledgement; None when it does not come in time."""
        from gevent.event import AsyncResult

        self.next_id += 1
        ack_id, result = self.next_id, AsyncResult()
        self.pending[ack_id] = result
        self.send(f"42{ack_id}" + json.dumps([event, data]))
        if result.wait(timeout) is None and not result.ready():
            self.pending.pop(ack_id, None)  # the ack was lost or late
            return None
        return result.get()

    @property
    def connected(self) -> bool:
        return bool(self.ws.connected)

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - shutting down
            pass
