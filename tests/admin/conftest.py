"""An in-process app on a fresh SQLite database with the demo halls and staff, a JSON client, and the
shared real-server and Chromium fixtures."""

from __future__ import annotations

import pytest

from queue_server.app import create_app
from queue_server.auth import add_user
from queue_server.config import settings_from_mapping
from queue_server.db import transaction
from queue_server.runtime import Runtime
from tests.server.conftest import PASSWORD, STAFF, make_server  # noqa: F401 - make_server is a fixture
from tests.support import demo_config


class QuietVoice:
    """Announcement text without rendering audio."""

    def request(self, cfg, number, window):
        return {"text": f"请 {number} 号，到 {window} 号窗口办理", "texts": {}, "audio_url": None}


@pytest.fixture
def app(tmp_path):
    raw = demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", async_mode="threading")
    app = create_app(settings_from_mapping(raw), voice=QuietVoice(), start_workers=False)
    runtime: Runtime = app.extensions["onewindow"]
    with transaction(runtime.factory) as session:
        for name, role, hall in STAFF:
            add_user(session, name, PASSWORD, role, hall)
    yield app
    runtime.engine.dispose()


class Client:
    """JSON calls as one signed-in staff member (or anonymous)."""

    def __init__(self, app, username: str | None = None) -> None:
        self.http = app.test_client()
        self.headers = {}
        if username:
            r = self.http.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
            assert r.status_code == 200, r.get_json()
            self.headers = {"Authorization": f"Bearer {r.get_json()['token']}"}

    def call(self, method: str, path: str, body=None, **kw):
        return self.http.open("/api/v1" + path, method=method, json=body, headers=self.headers, **kw)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None):
        return self.call("POST", path, body)

    def patch(self, path, body=None):
        return self.call("PATCH", path, body)

    def put(self, path, body=None):
        return self.call("PUT", path, body)

    def delete(self, path, body=None):
        return self.call("DELETE", path, body)


@pytest.fixture
def as_user(app):
    return lambda username=None: Client(app, username)
