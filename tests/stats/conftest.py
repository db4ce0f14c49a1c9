"""The statistics API in process, on the shared seeded `hall` (SQLite and PostgreSQL, fake clock)."""

from __future__ import annotations

import pytest

from tests.support import QuietVoice


@pytest.fixture
def client(hall):
    """A Flask test client of the full app on the hall's database (same fake clock)."""
    from queue_server.app import create_app

    app = create_app(hall.settings, voice=QuietVoice(), start_workers=False)
    return app.test_client()
