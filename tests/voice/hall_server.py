"""A tiny hall server for the announcer tests: eventlet, Socket.IO and /audio/<key>.wav from Voice.

Usage: python hall_server.py CACHE_DIR PORT CALLS_JSON  (PORT 0 picks a free one; prints it).
On each `subscribe` it emits one `ticket_called` per call, back to back, as a server would.
"""

import eventlet

eventlet.monkey_patch()

import json  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import eventlet.wsgi  # noqa: E402
import socketio  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from voice_helpers import HallVoice  # noqa: E402

from display.voice import Voice  # noqa: E402


def main() -> None:
    cache_dir, port, calls = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
    voice = Voice(cache_dir)
    sio = socketio.Server(async_mode="eventlet")

    def audio(environ, start_response):
        match = re.fullmatch(r"/audio/([0-9a-f]{32})\.wav", environ.get("PATH_INFO", ""))
        path = voice.wait(match.group(1), 60) if match else None
        if path is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"no such announcement"]
        data = path.read_bytes()
        start_response("200 OK", [("Content-Type", "audio/wav"), ("Content-Length", str(len(data)))])
        return [data]

    @sio.on("subscribe")
    def subscribe(sid, data):
        sio.enter_room(sid, data["hall"])
        for number, window in calls:
            announcement = voice.request(HallVoice(), number, window)
            sio.emit(
                "ticket_called",
                {
                    "ticket": {"number": number},
                    "window": {"number": window, "name": f"{window}号窗口"},
                    "recall_count": 0,
                    "announcement": {"text": announcement["text"], "audio_url": announcement["audio_url"]},
                },
                room=data["hall"],
            )

    listener = eventlet.listen(("127.0.0.1", port))
    print(listener.getsockname()[1], flush=True)
    eventlet.wsgi.server(listener, socketio.WSGIApp(sio, audio), log_output=False)


if __name__ == "__main__":
    main()
