"""A network printer that accepts the connection and then stops reading never holds up issuing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import requests

from tests.support import Listener, decode, demo_config, login

TICKETS = 20


def test_stalled_printer_does_not_block_issuing(make_server, stalled_printer, tmp_path):
    raw = demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data")
    raw["printers"] = [
        {
            "name": "kiosk-tcp",
            "hall": "erdao",
            "type": "network",
            "host": "127.0.0.1",
            "port": stalled_printer.port,
            "timeout": 2,
            "paper_mm": 80,
        }
    ]
    server = make_server(raw)
    kiosk = Listener(server.url, {"hall": "erdao"}).connect()
    kiosk.wait_for("board")
    issue_url = f"{server.url}/api/v1/halls/erdao/tickets"

    first = requests.post(issue_url, json={"service": "QY001"}, timeout=30)
    assert first.status_code == 201
    stalled_printer.wait_for_connection()  # the spooler is connected to a printer that reads nothing

    with ThreadPoolExecutor(TICKETS) as pool:
        answers = list(
            pool.map(lambda _: requests.post(issue_url, json={"service": "SB001"}, timeout=30), range(TICKETS))
        )
    assert [r.status_code for r in answers] == [201] * TICKETS
    for number in [r.json()["number"] for r in answers]:  # the hall hears of every ticket meanwhile
        kiosk.wait_for("ticket_issued", lambda t, n=number: t["number"] == n)
    clerk = login(server.url, "clerk1")
    assert requests.post(f"{server.url}/api/v1/halls/erdao/windows/1/open", headers=clerk, timeout=30).ok
    assert (
        requests.post(f"{server.url}/api/v1/halls/erdao/windows/1/call-next", headers=clerk, timeout=30).json()[
            "number"
        ]
        == "A001"
    )
    # The spooler has noticed: a job is waiting to be retried, with the reason.
    stuck = kiosk.wait_for("print_job", lambda j: j["state"] == "queued" and j["last_error"], timeout=60)
    assert "kiosk-tcp" in stuck["last_error"]

    stalled_printer.resume()  # the printer reads again: every ticket comes out, each once
    jobs = {r.json()["print_job"]["id"] for r in [first, *answers]}
    printed = set()
    while printed != jobs:
        printed.add(kiosk.wait_for("print_job", lambda j: j["state"] == "printed", timeout=60)["id"])

    # Status probes (DLE EOT) also connect and send bytes, so count only connections carrying a
    # ticket; the printer's reader may still be draining the last one when "printed" arrives.
    def printed_numbers() -> list[str]:
        return [line.text.strip() for job in stalled_printer.jobs if job for line in decode(job).lines if line.double]

    with stalled_printer.changed:
        assert stalled_printer.changed.wait_for(lambda: len(printed_numbers()) >= len(jobs), 60)
        numbers = printed_numbers()
    assert sorted(numbers) == sorted(r.json()["number"] for r in [first, *answers]), "each ticket printed once"
    kiosk.close()
