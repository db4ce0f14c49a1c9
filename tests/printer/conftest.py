"""Fixtures: a ticket payload and a migrated database (the printers are shared: fake_printer, stopped_printer)."""

from __future__ import annotations

import pytest

from queue_server.db import make_engine, session_factory, upgrade


@pytest.fixture
def payload() -> dict:
    return {
        "hall_name": "青山区政务服务中心",
        "hall_name_en": "Qingshan District Government Service Center",
        "number": "A007",
        "service_name": "不动产登记（二手房转移）",
        "ahead": 3,
        "estimated_wait": {"low_s": 300, "high_s": 700},
        "issued_at": "2026-11-27T09:30:00+08:00",
        "track_url": "https://hall.example.gov.cn/t/Zk3pQ9xY2mW8vR4tL6nB1c",
        "notices": [
            "请留意叫号，过号请重新取号（当日有效）：谢谢配合、欢迎评价—",
            "Please watch the display for your number",
        ],
        "materials": [
            "居民身份证原件及复印件（一式两份）",
            "不动产权证书",
            "Marriage certificate (if married)",
        ],
        "time_limit_days": 5,
        "kind": "promised",
        "with_materials": False,
    }


@pytest.fixture
def db_factory(db_url):
    """A migrated database, SQLite file and PostgreSQL in turn (the shared db_url fixture)."""
    engine = make_engine(db_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()
