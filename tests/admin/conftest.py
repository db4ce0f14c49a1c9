"""An in-process app on a fresh SQLite database with the demo halls and staff, and a JSON client."""

from __future__ import annotations

import pytest

from tests.support import bearer


@pytest.fixture
def app(make_app):
    return make_app()


class Client:
    """JSON calls as one signed-in staff member (or anonymous)."""

    def __init__(self, app, username: str | None = None) -> None:
        self.http = app.test_client()
        self.headers = bearer(self.http, username) if username else {}

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
