"""How a room's event reaches its websockets: encoded and framed once, written straight to each idle socket.

python-socketio encodes an event once per emit, but then queues it for every client, and each client's
writer green thread wakes (a queue hand-off, a timer for its poll timeout, a hub switch) to frame it and
write it. With 2,500 boards on a process that bookkeeping, not the writes, was most of a call's cost
(py-spy during the 5,000-client fan-out). Here the frame is built once and written by the emitting
thread to every websocket whose writer is idle; a socket that is busy, still upgrading or not a
websocket gets the packet through its queue as before, so each client sees its packets in order.
"""

from __future__ import annotations

import struct

from engineio import packet as eio_packet
from socketio import Manager
from socketio import packet as sio_packet


def text_frame(text: str) -> bytes:
    """One final, unmasked, uncompressed RFC 6455 text frame (what a server sends)."""
    data = text.encode("utf-8")
    size = len(data)
    if size < 126:
        header = struct.pack("!BB", 0x81, size)
    elif size < 65536:
        header = struct.pack("!BBH", 0x81, 126, size)
    else:
        header = struct.pack("!BBQ", 0x81, 127, size)
    return header + data


class Broadcast(Manager):
    """A client manager whose emits to a room hand one pre-framed packet to `deliver` for each client."""

    deliver = None  # (eio_sid, packet, frame) -> None; set by realtime.limits.ClientLimits

    def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        room = to or room
        encoded = None if callback or self.deliver is None or namespace not in self.rooms else self.encode(event, data)
        if encoded is None:
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        deliver = self.deliver
        for sid, eio_sid in self.get_participants(namespace, room):
            if sid not in skip:
                deliver(eio_sid, *encoded)

    def encode(self, event: str, data, namespace: str = "/") -> tuple[eio_packet.Packet, bytes] | None:
        """An event as one Engine.IO packet and its websocket frame (None for binary data)."""
        args = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        encoded = self.server.packet_class(sio_packet.EVENT, namespace=namespace, data=[event, *args]).encode()
        if isinstance(encoded, list):  # binary attachments: several packets, sent the ordinary way
            return None
        pkt = eio_packet.Packet(eio_packet.MESSAGE, encoded)
        return pkt, text_frame(pkt.encode())

    def send_encoded(self, sid: str, encoded: tuple[eio_packet.Packet, bytes], namespace: str = "/") -> None:
        """An event encoded beforehand (a hall's board, the same for all its subscribers) to a client of this process."""
        eio_sid = self.eio_sid_from_sid(sid, namespace)
        if eio_sid is None:
            return
        if self.deliver is not None:
            self.deliver(eio_sid, *encoded)
        else:
            self.server._send_eio_packet(eio_sid, encoded[0])


def write_now(ws, client, frame: bytes) -> bool:
    """Write `frame` to websocket `ws` of Engine.IO socket `client` at once, if nothing of its own waits.

    False when the packet must take the queue: packets wait or are being written, the socket upgrades,
    compression was negotiated, or the async mode is not eventlet's. What the kernel does not take at
    once is finished by a green thread that holds the websocket's send lock, so nothing overtakes it.
    """
    queue, lock = client.queue, getattr(ws, "_sendlock", None)
    raw = getattr(getattr(ws, "socket", None), "fd", None)
    if lock is None or raw is None or getattr(ws, "extensions", None) or client.upgrading or not client.upgraded:
        return False
    # The writer waits on an empty queue only when all it took has been written.
    if queue.qsize() or not queue.getting() or not lock.acquire(blocking=False):
        return False
    try:
        if not client.check_ping_timeout():
            lock.release()
            return True  # the client is gone: the packet is dropped, as Socket.send drops it
        sent = raw.send(frame)
    except BlockingIOError:
        sent = 0
    except Exception:  # noqa: BLE001 - a broken socket: let the writer find out and close it
        lock.release()
        return False
    if sent == len(frame):
        lock.release()
    else:
        client.server.start_background_task(_finish, ws, lock, frame[sent:])
    return True


def _finish(ws, lock, rest: bytes) -> None:
    try:
        ws.socket.sendall(rest)
    except OSError:
        pass  # the reader sees the broken connection and closes the session
    finally:
        lock.release()
