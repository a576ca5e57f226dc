"""One encoded frame per push, shared by every socket (deliberation/frames.py)."""

from __future__ import annotations

import socketio as python_socketio

from deliberation import frames, push
from deliberation.extensions import socketio


def test_a_frame_encodes_itself_once():
    frame = frames.Frame('42["points.updated",{"titre":"Égalité d’accès"}]')
    first = frame.encode("utf-8")
    assert first == str.encode(frame, "utf-8")
    assert frame.encode() is first and frame.encode("UTF8") is first  # not again
    assert frame.encode("latin-1", "replace") == str.encode(frame, "latin-1", "replace")


def test_a_push_to_a_room_is_one_packet_for_every_socket(app, congress):
    phones = [socketio.test_client(app, auth={"congress": congress.join_code,
                                              "audience": "participants"})
              for _ in range(3)]
    for phone in phones:
        phone.get_received()
    server = socketio.server
    assert isinstance(server.manager, frames.SharedFramesManager)
    sent = []
    deliver = server._send_eio_packet

    def record(eio_sid, packet):
        sent.append(packet)
        return deliver(eio_sid, packet)

    server._send_eio_packet = record
    try:
        push.send("points.updated", {"reason": "counts", "titre": "Égalité d’accès"},
                  congress.id, push.PHONES)
    finally:
        server._send_eio_packet = deliver
    assert len(sent) == 3 and len({id(packet) for packet in sent}) == 1
    assert isinstance(sent[0], frames.SharedPacket)
    assert isinstance(sent[0].encode(), frames.Frame)
    for phone in phones:
        heard = [m for m in phone.get_received() if m["name"] == "points.updated"]
        assert [m["args"][0] for m in heard] == [{"reason": "counts",
                                                  "titre": "Égalité d’accès"}]
        phone.disconnect()


def test_between_processes_the_local_emit_shares_the_frame():
    order = frames.SharedFramesRedisManager.__mro__
    assert order.index(python_socketio.PubSubManager) < order.index(
        frames.SharedFramesManager) < order.index(python_socketio.Manager)
    assert isinstance(frames.client_manager(None, "canal"), frames.SharedFramesManager)
