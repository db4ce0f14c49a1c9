"""Chromium (Debian's, never a downloaded one) driving the real pages of a real server.

The `browser` and `open_page` fixtures live in tests/conftest.py: one Playwright for the whole run.
"""

from __future__ import annotations

import pytest

from tests.conftest import ARGS, CHROMIUM  # noqa: F401 - used by helpers
from tests.server.conftest import make_server  # noqa: F401 - the shared fixture


@pytest.fixture
def server(make_server):  # noqa: F811 - the shared fixture, by name
    return make_server()
