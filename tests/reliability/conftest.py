"""Faults on demand: a private PostgreSQL to stop and start, and a printer that stops reading."""

from __future__ import annotations

import pytest

from tests.support import PrivatePostgres, StalledPrinter


@pytest.fixture
def private_postgres():
    pg = PrivatePostgres().init()
    pg.start()
    yield pg
    pg.destroy()


@pytest.fixture
def stalled_printer():
    printer = StalledPrinter()
    yield printer
    printer.close()
