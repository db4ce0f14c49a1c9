"""Kiosk tickets printed through the real server onto a TCP listener that plays the printer."""

from __future__ import annotations

import requests

from tests.support import FakePrinter, Listener, QuietVoice, ServerProcess, decode, demo_config, login, wait_until

DLE_EOT = b"\x10\x04"


def tickets_printed(printer: FakePrinter) -> list:
    """Decoded print jobs received so far (status queries left out)."""
    return [decode(job) for job in printer.settle() if not job.startswith(DLE_EOT)]


def config_with_printer(tmp_path, port: int) -> dict:
    raw = demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data")
    raw["printers"] = [
        {
            "name": "kiosk-tcp",
            "hall": "erdao",
            "type": "network",
            "host": "127.0.0.1",
            "port": port,
            "timeout": 2,
            "paper_mm": 80,
        }
    ]
    return raw


def test_issued_ticket_arrives_at_the_printer(make_server, stopped_printer, tmp_path):
    stopped_printer.start()
    server = make_server(config_with_printer(tmp_path, stopped_printer.port))
    kiosk = Listener(server.url, {"hall": "erdao"}).connect()
    kiosk.wait_for("board")
    r = requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "BD002"}, timeout=10)
    assert r.status_code == 201
    ticket = r.json()
    assert ticket["print_job"]["state"] == "queued"
    printed = kiosk.wait_for("print_job", lambda j: j["id"] == ticket["print_job"]["id"] and j["state"] == "printed")
    assert "ticket_id" not in printed, "the hall room never sees a ticket id"

    [job] = tickets_printed(stopped_printer)
    texts = "\n".join(job.texts)
    assert "二道区政务服务中心" in texts and "存量房转移登记" in texts
    number = next(line for line in job.lines if line.text.strip() == "C001")
    assert number.double, "the ticket number is printed in double size"
    assert job.qr == [f"{server.url}/t/{ticket['id']}"]
    assert "请留意叫号，过号请重新取号" in texts and "?" not in texts
    assert job.cuts
    status = requests.get(f"{server.url}/api/v1/tickets/{ticket['id']}/print", timeout=10).json()
    assert status["state"] == "printed" and status["attempts"] == 1


def test_printer_down_at_issue_prints_once_when_back(make_server, stopped_printer, tmp_path):
    server = make_server(config_with_printer(tmp_path, stopped_printer.port))  # printer still off
    kiosk = Listener(server.url, {"hall": "erdao"}).connect()
    kiosk.wait_for("board")
    r = requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=10)
    assert r.status_code == 201, "a dead printer never fails ticket issuance"
    job_id = r.json()["print_job"]["id"]
    failed = kiosk.wait_for("print_job", lambda j: j["id"] == job_id and j["last_error"])
    assert failed["state"] == "queued" and failed["attempts"] == 1
    stopped_printer.start()
    kiosk.wait_for("print_job", lambda j: j["id"] == job_id and j["state"] == "printed", timeout=30)
    jobs = tickets_printed(stopped_printer)
    assert [line.text.strip() for job in jobs for line in job.lines if line.double] == ["A001"]


def test_spool_survives_a_server_crash(make_server, stopped_printer, tmp_path):
    raw = config_with_printer(tmp_path, stopped_printer.port)
    server = make_server(raw)
    issued = [
        requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "SB001"}, timeout=10).json()
        for _ in range(3)
    ]
    numbers = [t["number"] for t in issued]
    server.kill()
    stopped_printer.start()
    again = ServerProcess(server.config_path, port=server.port).start()
    try:

        def all_printed():
            states = [
                requests.get(f"{again.url}/api/v1/tickets/{t['id']}/print", timeout=10).json()["state"] for t in issued
            ]
            return states == ["printed"] * 3

        wait_until(all_printed, timeout=60, what="the spooled tickets to print after the restart")
        printed = [line.text.strip() for job in tickets_printed(stopped_printer) for line in job.lines if line.double]
        assert sorted(printed) == sorted(numbers)
    finally:
        again.stop()


def test_staff_reprint(server):
    r = requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=10)
    url = f"{server.url}/api/v1/halls/erdao/tickets/{r.json()['number']}/reprint"
    assert requests.post(url, timeout=10).status_code == 401
    assert requests.post(url, headers=login(server.url, "street1"), timeout=10).status_code == 403
    again = requests.post(url, headers=login(server.url, "boss"), timeout=10)
    assert again.status_code == 202 and again.json()["printer"] == "kiosk-erdao-1"
    assert again.json()["id"] != r.json()["print_job"]["id"]


def test_the_server_prints_with_the_spooler_loop(tmp_path, stopped_printer):
    """One print loop: the server's background task is Spooler.run_forever, the loop tests/printer exercises."""
    from queue_server.app import create_app
    from queue_server.config import settings_from_mapping

    raw = config_with_printer(tmp_path, stopped_printer.port)
    raw["server"]["async_mode"] = "threading"
    app = create_app(settings_from_mapping(raw), voice=QuietVoice(), start_workers=False)
    printing = app.extensions["onewindow"].spooler
    tasks: list = []

    class Recorder:
        def start_background_task(self, target, *args):
            tasks.append((target, args))

    printing.start(Recorder())
    assert tasks[0] == (printing.spooler.run_forever, (printing._stop,))
    printing.stop()
    app.extensions["onewindow"].engine.dispose()
