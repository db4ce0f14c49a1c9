"""Call announcements as WAV files, rendered in the background and served when ready."""

from __future__ import annotations

from flask import Blueprint, send_file

from queue_server.exceptions import NotFound
from queue_server.runtime import current

bp = Blueprint("media", __name__)


@bp.get("/audio/<key>.wav")
def announcement_audio(key: str):
    """The WAV of one call announcement; waits for the renderer if it is still working on it."""
    voice = current().voice
    if voice is None:
        raise NotFound("the voice is off on this server", zh="本服务器未开启语音播报")
    try:
        path = voice.wait(key, timeout=30)
    except ValueError:
        path = None
    if path is None:
        raise NotFound("no such announcement", zh="没有这条播报语音")
    response = send_file(path, mimetype="audio/wav", max_age=86400)
    return response
