"""Redis as the Socket.IO message queue, with outages logged once and clients resynced after."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from socketio import RedisManager

from queue_server.realtime.wire import Broadcast

CHANNEL = "flask-socketio"  # Flask-SocketIO's channel; a bare python-socketio manager defaults to "socketio"
log = logging.getLogger("onewindow.redis")


class HallRedisManager(RedisManager, Broadcast):
    """A RedisManager that says once when Redis goes and comes back, and asks clients to resync; each event
    that reaches this process is framed once for all its clients (`wire.Broadcast`)."""

    def __init__(
        self,
        url: str,
        *,
        write_only: bool = False,
        on_recover: Callable[[], None] | None = None,
        on_room_event: Callable[[object], None] | None = None,
    ):
        super().__init__(
            url,
            channel=CHANNEL,
            write_only=write_only,
            redis_options={"socket_connect_timeout": 2, "socket_keepalive": True},
        )
        self.healthy = True
        self.on_recover, self.on_room_event = on_recover, on_room_event

    def _went_down(self, exc: Exception) -> None:
        if self.healthy:
            log.error(
                "Redis at %s is unreachable (%s); events reach only this process until it is back", self.redis_url, exc
            )
        self.healthy = False
        self.connected = False

    def _came_back(self) -> None:
        if not self.healthy:
            log.warning("Redis at %s is back; asking clients to resync", self.redis_url)
            self.healthy = True
            if self.on_recover is not None:
                self.on_recover()

    def _handle_emit(self, message):
        # Every event, this process's own included, comes back from Redis to be delivered here.
        if self.on_room_event is not None:
            self.on_room_event(message.get("room"))
        return super()._handle_emit(message)

    def _publish(self, data):
        # Two tries: after an outage the first send often meets a pooled connection that died with it.
        for attempt in (1, 2):
            try:
                if not self.connected:
                    self._redis_connect()
                result = self.redis.publish(self.channel, self.json.dumps(data))
            except Exception as exc:  # noqa: BLE001 - any failure means "down" here
                self.connected = False
                if attempt == 2:
                    self._went_down(exc)
                    return None
                continue
            if self.write_only:
                self._came_back()  # a listener reports recovery only once it has subscribed again
            return result
        return None

    def _redis_listen_with_retries(self):
        retry_sleep = 0.5
        subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    self.pubsub.subscribe(self.channel)
                    subscribed = True
                    retry_sleep = 0.5
                    self._came_back()
                yield from self.pubsub.listen()
            except Exception as exc:  # noqa: BLE001
                self._went_down(exc)
                subscribed = False
                time.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, 5)

    def ping(self) -> bool:
        """True when Redis answers now (for /readyz)."""
        try:
            if not self.connected:
                self._redis_connect()
            return bool(self.redis.ping())
        except Exception as exc:  # noqa: BLE001
            self._went_down(exc)
            return False
