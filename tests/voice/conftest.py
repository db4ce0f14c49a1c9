"""Fixtures for the voice tests."""

from __future__ import annotations

import pytest
from voice_helpers import HallVoice

from display.voice import voice_status


@pytest.fixture
def hall_voice() -> HallVoice:
    return HallVoice()


@pytest.fixture(scope="session")
def engine_ok() -> None:
    ok, message = voice_status()
    if not ok:
        pytest.skip(message)
