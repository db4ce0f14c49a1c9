"""Control bytes in catalog text never reach the ticket printer: stripped when stored and again when printed.

On an ESC/POS printer GS V (\\x1dV\\x00) cuts the paper and ESC @ (\\x1b@) resets it mid-ticket.
"""

from __future__ import annotations

import json

import pytest
import requests
from escpos.printer import Dummy
from sqlalchemy import create_engine, select, text

from printer.layout import TicketPrint, print_ticket
from queue_server.admin.catalog import import_services
from queue_server.config import settings_from_mapping
from queue_server.db import transaction
from queue_server.models import ServiceItem
from tests.support import (
    STAFF,
    FakePrinter,
    Listener,
    ServerProcess,
    bearer,
    decode,
    demo_config,
    login,
    prepare,
    write_config,
)

CUT, RESET = "\x1dV\x00", "\x1b@"
ADMIN = "/api/v1/admin/halls/erdao"
DLE_EOT = b"\x10\x04"


def has_controls(value: str) -> bool:
    return any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value)


def item(app, code: str) -> ServiceItem:
    with app.extensions["onewindow"].factory() as s:
        return s.scalar(select(ServiceItem).where(ServiceItem.code == code))


def test_catalog_text_from_the_admin_api_is_stored_without_control_bytes(make_app):
    app = make_app()
    client = app.test_client()
    root = bearer(client, "root")
    body = {"code": "CB001", "name": "开\x1dV1票\x1b@", "queue": "A", "materials": ["身份证\x1dB\x01", "\x9b户口簿"]}
    r = client.post(f"{ADMIN}/services", json=body, headers=root)
    assert r.status_code == 201, r.get_json()
    stored = item(app, "CB001")
    assert (stored.name, stored.materials) == ("开V1票@", ["身份证B", "户口簿"])
    r = client.patch(f"{ADMIN}/services/CB001", json={"department": "民政\x1b@局", "basis": "条例\x07"}, headers=root)
    assert r.status_code == 200, r.get_json()
    stored = item(app, "CB001")
    assert (stored.department, stored.basis) == ("民政@局", "条例")

    r = client.patch(f"{ADMIN}", json={"name": "二道\x1b@中心", "notices": ["请\x1dV\x41\x00留意叫号"]}, headers=root)
    assert r.status_code == 400 and r.get_json()["error"]["message_zh"], "a NUL byte is refused outright"
    r = client.patch(
        f"{ADMIN}", json={"name": "二道\x1b@中心", "notices": ["请\x1dVA留意叫号", "\x1b\x1b"]}, headers=root
    )
    assert r.status_code == 200, r.get_json()
    hall = r.get_json()
    assert (hall["name"], hall["notices"]) == ("二道@中心", ["请VA留意叫号"])

    r = client.post(f"{ADMIN}/windows", json={"number": 40, "name": "40\x1b@号窗口"}, headers=root)
    assert r.status_code == 201 and r.get_json()["name"] == "40@号窗口", r.get_json()
    r = client.post(f"{ADMIN}/queues", json={"prefix": "Q", "name": "新\x1dV1队列"}, headers=root)
    assert r.status_code == 201 and r.get_json()["name"] == "新V1队列", r.get_json()

    csv_text = "code,name,queue,materials\nCB002,导入\x1dV1事项,A,证件\x1b@;表格\n"
    r = client.post(f"{ADMIN}/services/import", json={"csv": csv_text, "apply": True}, headers=root)
    assert r.status_code == 200, r.get_json()
    stored = item(app, "CB002")
    assert (stored.name, stored.materials) == ("导入V1事项", ["证件@", "表格"])

    r = client.post(f"{ADMIN}/services", json={**body, "code": "CB003", "name": "开" + CUT}, headers=root)
    assert r.status_code == 400 and item(app, "CB003") is None, "NUL: refused, nothing stored"


@pytest.mark.parametrize("suffix", ["csv", "yaml"])
def test_a_catalog_file_import_strips_control_bytes(make_app, tmp_path, suffix):
    app = make_app()
    path = tmp_path / f"catalog.{suffix}"
    if suffix == "csv":
        path.write_text(f"code,name,queue,materials\nCB010,开{CUT}票{RESET},A,身份证{CUT};户口簿\n", encoding="utf-8")
    else:
        rows = [{"code": "CB010", "name": f"开{CUT}票{RESET}", "queue": "A", "materials": [f"身份证{CUT}", "户口簿"]}]
        path.write_text(json.dumps({"services": rows}, ensure_ascii=False), encoding="utf-8")  # JSON is YAML
    with transaction(app.extensions["onewindow"].factory) as session:
        assert import_services(session, "erdao", path) == {"created": 1, "updated": 0}
    stored = item(app, "CB010")
    assert (stored.name, stored.materials) == ("开V票@", ["身份证V", "户口簿"])


def test_config_yaml_text_is_stored_without_control_bytes(tmp_path):
    raw = demo_config(f"sqlite:///{tmp_path}/x.sqlite3", tmp_path / "data")
    hall = raw["halls"][0]
    hall["name"] = f"二道{RESET}中心"
    hall.setdefault("ticket", {})["notices"] = [f"请留意{CUT}叫号"]
    hall["windows"][0]["name"] = f"1{RESET}号窗口"
    hall["queues"][0]["name"] = f"综合{CUT}"
    hall["services"][0].update(name=f"开{CUT}票", materials=[f"身份证{RESET}"])
    cfg = settings_from_mapping(raw).halls[0]
    texts = [cfg.name, *cfg.ticket.notices, cfg.windows[0].name, cfg.queues[0].name, cfg.services[0].name]
    assert not [t for t in texts + cfg.services[0].materials if has_controls(t)]
    assert cfg.services[0].name == "开V票"


def test_the_printer_gets_no_command_from_text_even_when_stored_before(payload_with_controls):
    dummy = Dummy()
    print_ticket(dummy, TicketPrint.from_payload(payload_with_controls), 80)
    out = decode(dummy.output)  # an unknown control byte would fail the decoder
    assert (out.inits, len(out.cuts)) == (1, 2), "one reset at the start; one cut after the ticket, one after the slip"
    assert "开V票@" in out.texts


@pytest.fixture
def payload_with_controls() -> dict:
    return {
        "hall_name": f"二道{RESET}中心",
        "hall_name_en": f"Erdao{CUT}",
        "number": "A001",
        "service_name": f"开{CUT}票{RESET}",
        "ahead": 0,
        "estimated_wait": {"low_s": 0, "high_s": 0},
        "issued_at": "2026-03-02T09:00:00+08:00",
        "track_url": "https://hall.example.gov.cn/t/x",
        "notices": [f"请留意{CUT}叫号", "\x1b\x64\x05"],
        "materials": [f"身份证{RESET}", "\x1dV\x42\x00户口簿"],
        "kind": "promised",
        "time_limit_days": 5,
        "with_materials": True,
    }


def test_a_ticket_printed_by_the_server_has_no_command_in_its_text(tmp_path):
    """Through the real server onto a TCP printer: text stored before this fix and text set by an admin now."""
    printer = FakePrinter()
    printer.start()
    raw = demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data")
    raw["printers"] = [
        {"name": "kiosk-tcp", "hall": "erdao", "type": "network", "host": "127.0.0.1", "port": printer.port}
    ]
    prepare(raw, STAFF)
    engine = create_engine(raw["server"]["database_url"])
    with engine.begin() as conn:  # as an older version stored it: raw bytes in the catalog
        conn.execute(
            text("UPDATE service_items SET name = :n, materials = :m WHERE code = 'BD002'"),
            {"n": f"存量房{CUT}转移{RESET}登记", "m": json.dumps([f"身份证{CUT}"])},
        )
    engine.dispose()
    server = ServerProcess(write_config(tmp_path / "server.yaml", raw)).start()
    try:
        root = login(server.url, "root")
        r = requests.patch(
            f"{server.url}{ADMIN}", json={"notices": ["请\x1dVA留意", "\x1b\x64\x05叫号"]}, headers=root, timeout=10
        )
        assert r.status_code == 200, r.text
        kiosk = Listener(server.url, {"hall": "erdao"}).connect()
        kiosk.wait_for("board")
        r = requests.post(
            f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "BD002", "with_materials": True}, timeout=10
        )
        assert r.status_code == 201, r.text
        job_id = r.json()["print_job"]["id"]
        kiosk.wait_for("print_job", lambda j: j["id"] == job_id and j["state"] == "printed")
        kiosk.close()
        [job] = [decode(j) for j in printer.settle() if not j.startswith(DLE_EOT)]
    finally:
        server.stop()
        printer.stop()
    assert (job.inits, len(job.cuts)) == (1, 2)
    assert "存量房V转移@登记" in job.texts and "请VA留意" in job.texts and "d叫号" in job.texts
