"""One encoded frame per push, shared by every socket of the room.

A push to a room of 5,000 phones is one JSON text (python-socketio encodes it once per
emit), but each socket's writer then turned that text into bytes again: gevent-websocket
encodes the text to UTF-8 for every socket (`WebSocket._encode_bytes`), 5,000 copies of
a picture of the debate per push. Here the engine.io packet of a push is built once,
and its text carries its own UTF-8 bytes, computed on first use and handed to every
socket's writer after that; each socket only prepends its frame header.

The client managers below are python-socketio's own (one process; Redis between
processes), with their local `emit` building that shared packet. An emit that asks
for acknowledgements keeps python-socketio's path (each socket needs its own id).

May import: python-socketio and python-engineio only (the bottom floor).
"""

from __future__ import annotations

import socketio
from engineio import packet as eio_packet
from socketio import packet as sio_packet


class Frame(str):
    """A packet's text that encodes itself to UTF-8 once, for every socket."""

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        if errors == "strict" and encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
            cached = self.__dict__.get("utf8")
            if cached is None:
                cached = self.__dict__["utf8"] = str.encode(self, "utf-8")
            return cached
        return str.encode(self, encoding, errors)


class SharedPacket(eio_packet.Packet):
    """An engine.io packet whose encoded text is a Frame (shared by every socket)."""

    def encode(self, b64: bool = False):
        encoded = super().encode(b64)
        if isinstance(encoded, str) and not isinstance(encoded, Frame):
            encoded = self.encode_cache = Frame(encoded)
        return encoded


#: Called with the room of every emit this process delivers to its sockets, its own or
#: one another process published through Redis (push.py: what a connecting screen was
#: sent as a snapshot may be stale after it).
on_emit: list = []


class SharedFramesManager(socketio.Manager):
    """python-socketio's manager, one shared engine.io packet per push to a room."""

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None,
             to=None, **kwargs):
        if callback:
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid,
                                callback=callback, to=to, **kwargs)
        room = to or room
        if isinstance(room, str):
            for listener in on_emit:
                listener(room)
        if namespace not in self.rooms:
            return None
        if isinstance(data, tuple):
            data = list(data)
        elif data is not None:
            data = [data]
        else:
            data = []
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace,
                                           data=[event, *data]).encode()
        packets = [SharedPacket(eio_packet.MESSAGE, text)
                   for text in (encoded if isinstance(encoded, list) else [encoded])]
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid not in skip:
                for shared in packets:
                    self.server._send_eio_packet(eio_sid, shared)
        return None


class SharedFramesRedisManager(socketio.RedisManager, SharedFramesManager):
    """Between processes through Redis; each process shares one packet among its sockets
    (PubSubManager's local emit is SharedFramesManager's, by the method order)."""


def client_manager(message_queue: str | None, channel: str) -> socketio.Manager:
    """The manager for this process: Redis between processes when `message_queue` is a
    redis:// URL, else one process."""
    if message_queue:
        if not message_queue.startswith(("redis://", "rediss://")):
            raise ValueError("REDIS_URL doit commencer par redis:// ou rediss://.")
        return SharedFramesRedisManager(message_queue, channel=channel)
    return SharedFramesManager()
