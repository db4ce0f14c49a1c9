"""Personal data: masked on every public surface, stored only where the hall allows, purged on schedule."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import requests
from sqlalchemy import create_engine, select, text

from queue_server.db import transaction
from queue_server.models import Ticket
from tests.support import ID_NUMBER, PHONE, ROOT, Listener, demo_config, login, write_config

ID_MASKED, PHONE_MASKED = "2201**********1235", "138****5678"
SECRETS = (ID_NUMBER, PHONE, ID_NUMBER[4:14], PHONE[3:7] + PHONE[7:])


def assert_clean(where: str, blob: str) -> None:
    for secret in SECRETS:
        assert secret not in blob, f"{secret} leaked into {where}"


def dump_tables(url: str) -> str:
    engine = create_engine(url)
    out = []
    with engine.connect() as conn:
        for table in ("tickets", "ticket_events", "print_jobs", "staff_users"):
            out += [repr(tuple(row)) for row in conn.execute(text(f"SELECT * FROM {table}"))]
    engine.dispose()
    return "\n".join(out)


def test_masking_on_every_public_surface(make_server, tmp_path):
    url = f"sqlite:///{tmp_path}/onewindow.sqlite3"
    raw = demo_config(url, tmp_path / "data")
    raw["halls"][0]["privacy"] = {"store_personal_data": True, "purge_after_days": 30}
    paper = tmp_path / "printer.bin"
    raw["printers"][0] = {"name": "kiosk-erdao-1", "hall": "erdao", "type": "file", "device": str(paper)}
    server = make_server(raw)
    api = server.url + "/api/v1"
    board = Listener(server.url, {"hall": "erdao"}).connect()
    board.wait_for("board")

    r = requests.post(
        f"{api}/halls/erdao/tickets", timeout=10, json={"service": "QY001", "id_number": ID_NUMBER, "phone": PHONE}
    )
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert (ticket["id_number"], ticket["phone"]) == (ID_MASKED, PHONE_MASKED)
    assert_clean("the issue answer", r.text)
    holder = Listener(server.url, {"ticket": ticket["id"]}).connect()
    assert holder.wait_for("ticket")["id_number"] == ID_MASKED
    board.wait_for("print_job", lambda j: j["state"] == "printed")
    requests.post(
        f"{api}/halls/erdao/tickets", json={"service": "QY001", "id_number": "2201021990030712"}, timeout=10
    )  # invalid: refused, and must not reach the log either

    clerk = login(server.url, "clerk3")
    requests.post(f"{api}/halls/erdao/windows/3/open", headers=clerk, timeout=10)
    called = requests.post(f"{api}/halls/erdao/windows/3/call-next", headers=clerk, timeout=10)
    assert called.json()["id_number"] == ID_MASKED
    board.wait_for("ticket_called")
    holder.wait_for("ticket_called")

    surfaces = {
        "board snapshot": requests.get(f"{api}/halls/erdao/board", timeout=10).text,
        "anonymous ticket view": requests.get(f"{api}/tickets/{ticket['id']}", timeout=10).text,
        "board events": json.dumps(board.seen, ensure_ascii=False),
        "holder events": json.dumps(holder.seen, ensure_ascii=False),
        "printed bytes": paper.read_bytes().decode("latin-1"),
        "server log": server.read_log(),
        "database": dump_tables(url),
    }
    assert paper.stat().st_size > 0
    for where, blob in surfaces.items():
        assert_clean(where, blob)
    assert ID_MASKED not in surfaces["board events"], "the hall's screens get no personal data at all"
    board.close()
    holder.close()


def test_personal_data_not_stored_unless_the_hall_enables_it(make_app):
    app = make_app()
    client = app.test_client()
    r = client.post(
        "/api/v1/halls/erdao/tickets", json={"service": "QY001", "id_number": ID_NUMBER, "phone": PHONE, "print": False}
    )
    assert r.status_code == 201
    assert r.get_json()["id_number"] is None and r.get_json()["phone"] is None
    with app.extensions["onewindow"].engine.connect() as conn:
        row = conn.execute(text("SELECT phone_masked, id_number_masked, phone_hash, id_number_hash FROM tickets")).one()
    assert row[:2] == (None, None)
    assert len(row[2]) == 64 and len(row[3]) == 64, "only keyed hashes, for the limits"


def test_purge_removes_personal_data_and_keeps_counts(make_app, tmp_path):
    db = f"sqlite:///{tmp_path}/onewindow.sqlite3"
    raw = demo_config(db, tmp_path / "data", async_mode="threading")
    raw["halls"][0]["privacy"] = {"store_personal_data": True, "purge_after_days": 30}
    app = make_app(raw)
    client = app.test_client()
    for service in ("QY001", "SB001"):
        assert (
            client.post(
                "/api/v1/halls/erdao/tickets", json={"service": service, "id_number": ID_NUMBER, "print": False}
            ).status_code
            == 201
        )
    runtime = app.extensions["onewindow"]
    with transaction(runtime.factory) as s:
        old = s.scalar(select(Ticket).where(Ticket.number == "A001"))
        old.issued_at -= timedelta(days=40)
    engine = runtime.engine
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*), (SELECT count(*) FROM ticket_events) FROM tickets")).one()
    config = write_config(tmp_path / "purge.yaml", raw)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUE_SERVER_")}
    run = [sys.executable, "-m", "queue_server", "--config", str(config), "purge"]
    dry = subprocess.run([*run, "--dry-run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0 and "erdao: would purge personal data of 1 ticket" in dry.stdout, dry.stderr
    done = subprocess.run(run, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "erdao: purged personal data of 1 ticket" in done.stdout, done.stderr
    with engine.connect() as conn:
        rows = dict(
            (n, tuple(r))
            for n, *r in conn.execute(text("SELECT number, id_number_masked, id_number_hash FROM tickets"))
        )
        after = conn.execute(text("SELECT count(*), (SELECT count(*) FROM ticket_events) FROM tickets")).one()
    assert rows["A001"] == (None, None), "old personal data gone"
    assert rows["B001"][0] == ID_MASKED and rows["B001"][1], "recent data kept"
    assert tuple(after) == tuple(before), "tickets and their history (the statistics) stay"
