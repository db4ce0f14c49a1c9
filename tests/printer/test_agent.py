"""`queue-server agent` as a real process on the kiosk: prints the kiosk's tickets exactly once, reports its printer.

The server is a real process on a loopback port; the printer is a named pipe (as /dev/usb/lp0) or a
loopback TCP listener whose bytes are decoded as ESC/POS (tests/support/escpos.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import psutil
import pytest
import requests
import socketio

from tests.support import ROOT, ServerProcess, decode, login
from tests.support.agents import AgentProcess, add_agent_kiosk, issue_at_kiosk, job_state, wait_for

PAPER_OUT = 0x12 | 0x60  # DLE EOT 4: paper end sensors


def numbers(streams: list[bytes]) -> list[str]:
    """The ticket number printed on each slip."""
    return [line.text for stream in streams for line in decode(stream).lines if line.double]


def printer_of(url: str, name: str = "kiosk-agent-1") -> dict:
    printers = requests.get(f"{url}/api/v1/halls/erdao/printers", timeout=30).json()["printers"]
    return next(p for p in printers if p["name"] == name)


@pytest.fixture
def server(make_server):
    return make_server()


@pytest.fixture
def token(server):
    return add_agent_kiosk(server.config_path)


@pytest.fixture
def agents():
    started: list[AgentProcess] = []

    def start(*args, **kwargs) -> AgentProcess:
        agent = AgentProcess(*args, **kwargs).start()
        started.append(agent)
        return agent

    yield start
    for agent in started:
        agent.stop()


def test_agent_prints_the_kiosks_tickets_on_a_device_file_issued_before_and_after_it_started(
    server, token, agents, tmp_path
):
    pipe = tmp_path / "lp0"
    os.mkfifo(pipe)  # a character device as the kernel's usblp gives it: every open appends to the paper
    streams: list[bytes] = []

    def paper() -> None:
        while True:
            with open(pipe, "rb") as device:
                data = device.read()
            if data == b"END":
                return
            streams.append(data)

    reader = threading.Thread(target=paper, daemon=True)
    reader.start()
    before = issue_at_kiosk(server.url, token)  # no agent yet: issuing does not wait for a printer
    assert before["print_job"]["state"] == "queued" and before["print_job"]["printer"] == "kiosk-agent-1"
    agent = agents(server.url, token, tmp_path, printer=f"file:{pipe}")
    after = [issue_at_kiosk(server.url, token, service) for service in ("SB001", "QY001")]
    for ticket in [before, *after]:
        wait_for(lambda t=ticket: job_state(server.url, t["id"]) == "printed", f"{ticket['number']} printed")
    with open(pipe, "wb") as device:
        device.write(b"END")
    reader.join(30)
    assert sorted(numbers(streams)) == sorted(t["number"] for t in [before, *after])
    assert "Erdao District Government Service Center" in decode(streams[0]).texts  # the server's own layout
    assert "printed job" in agent.read_log()


def test_agent_prints_to_a_network_printer_and_reports_paper_out(server, token, agents, tmp_path, fake_printer):
    agent = agents(server.url, token, tmp_path, printer=f"network:127.0.0.1:{fake_printer.port}")
    ticket = issue_at_kiosk(server.url, token)
    wait_for(lambda: job_state(server.url, ticket["id"]) == "printed", "printed")
    assert numbers(fake_printer.tickets()) == [ticket["number"]]
    slip = decode(fake_printer.tickets()[0])
    assert slip.qr and slip.qr[0].endswith(f"/t/{ticket['id']}") and slip.cuts
    assert printer_of(server.url)["state"] == "online"

    fake_printer.status[4] = PAPER_OUT
    issue_at_kiosk(server.url, token)  # the agent asks the printer after each ticket
    wait_for(lambda: printer_of(server.url)["state"] == "paper_out", "paper out reported")
    devices = requests.get(f"{server.url}/api/v1/admin/halls/erdao/devices", headers=login(server.url, "root"))
    kiosk = next(d for d in devices.json()["devices"] if d["name"] == "kiosk-agent-1")
    assert kiosk["agent"] is True and kiosk["printer_status"]["state"] == "paper_out"
    assert agent.wait_for_log("out of paper").count("out of paper") == 1


def test_killed_between_printing_and_acknowledging_prints_each_ticket_once(
    server, token, agents, tmp_path, fake_printer
):
    ledger = tmp_path / "printed.txt"
    address = f"network:127.0.0.1:{fake_printer.port}"
    first = agents(server.url, token, tmp_path, printer=address, ledger=ledger)
    wait_for(lambda: printer_of(server.url)["state"] == "online", "the first status report")
    killed, base = threading.Event(), fake_printer.accepted

    def kill_once_the_ticket_is_on_paper(code: int) -> bool:
        # The agent asks the printer's state after a ticket, before acknowledging it: the status query
        # on a connection after the ticket's (a periodic query before the ticket is one connection only).
        if fake_printer.accepted >= base + 2 and not killed.is_set():
            first.kill()
            killed.set()
            return True
        return False

    fake_printer.on_status = kill_once_the_ticket_is_on_paper
    ticket = issue_at_kiosk(server.url, token)
    assert killed.wait(120), first.read_log()
    wait_for(fake_printer.tickets, "the ticket's bytes at the printer")
    fake_printer.on_status = None
    assert numbers(fake_printer.tickets()) == [ticket["number"]]
    assert job_state(server.url, ticket["id"]) == "printing"  # on paper, never acknowledged

    second = agents(server.url, token, tmp_path, printer=address, ledger=ledger)
    wait_for(lambda: job_state(server.url, ticket["id"]) == "printed", "acknowledged after the restart")
    assert "printed before a restart: acknowledged without printing" in second.read_log()
    later = issue_at_kiosk(server.url, token)
    wait_for(lambda: job_state(server.url, later["id"]) == "printed", "the next ticket printed")
    assert sorted(numbers(fake_printer.tickets())) == sorted([ticket["number"], later["number"]])


def test_server_restarted_the_agent_reconnects_and_prints_what_was_issued_meanwhile(
    server, token, agents, tmp_path, fake_printer
):
    agent = agents(server.url, token, tmp_path, printer=f"network:127.0.0.1:{fake_printer.port}")
    agent.wait_for_log("printing on")
    server.stop()
    agent.wait_for_log("reach the server")
    # Meanwhile the hall goes on: tickets issued by another server process on the same database,
    # which the agent does not know of, wait for the kiosk's agent.
    other = ServerProcess(server.config_path).start()
    meanwhile = [issue_at_kiosk(other.url, token, s) for s in ("QY001", "SB001")]
    other.stop()
    again = ServerProcess(server.config_path, port=server.port).start()
    try:
        issued = [*meanwhile, issue_at_kiosk(again.url, token, "QY001")]
        for ticket in issued:
            wait_for(lambda t=ticket: job_state(again.url, t["id"]) == "printed", f"{ticket['number']} printed")
        assert sorted(numbers(fake_printer.tickets())) == sorted(t["number"] for t in issued)
        assert agent.read_log().count("reach the server") == 1, "one line for the outage, however many retries"
    finally:
        again.stop()


def test_a_printer_that_stops_reading_never_holds_up_issuing_and_shows_as_stalled(
    server, token, agents, tmp_path, fake_printer
):
    agent = agents(server.url, token, tmp_path, printer=f"network:127.0.0.1:{fake_printer.port}")
    first = issue_at_kiosk(server.url, token)
    wait_for(lambda: job_state(server.url, first["id"]) == "printed", "printed")
    fake_printer.stall()
    during = [issue_at_kiosk(server.url, token, s) for s in ("SB001", "QY001", "SB001", "QY001")]
    assert [t["print_job"]["state"] for t in during] == ["queued"] * 4
    wait_for(lambda: printer_of(server.url)["state"] == "stalled", "the stall reported")
    assert "stopped answering" in printer_of(server.url)["detail"]
    clerk = login(server.url, "clerk1")
    assert requests.post(f"{server.url}/api/v1/halls/erdao/windows/1/open", headers=clerk, timeout=30).ok
    called = requests.post(f"{server.url}/api/v1/halls/erdao/windows/1/call-next", headers=clerk, timeout=30)
    assert called.json()["number"] == first["number"]
    assert agent.wait_for_log("stopped answering").count("stopped answering") == 1

    fake_printer.resume()
    for ticket in during:
        wait_for(lambda t=ticket: job_state(server.url, t["id"]) == "printed", f"{ticket['number']} printed")
    wait_for(lambda: printer_of(server.url)["state"] == "online", "online again")
    assert sorted(numbers(fake_printer.tickets())) == sorted(t["number"] for t in [first, *during])


def cpu_share(agent: AgentProcess) -> float:
    """CPU time of the agent over its lifetime: a retry loop that spins would use a whole core."""
    proc = psutil.Process(agent.proc.pid)
    times = proc.cpu_times()
    import time

    return (times.user + times.system) / (time.time() - proc.create_time())


def test_wrong_token_unknown_printer_and_server_down_are_one_line_each_and_retried_calmly(
    server, token, agents, tmp_path, fake_printer
):
    wrong = agents(server.url, "owd_" + "x" * 43, tmp_path)
    assert wrong.wait_for_log("refused this device's token").count("refused") == 1

    closed = fake_printer.port
    fake_printer.stop()  # no printer listens at this address
    no_printer = agents(server.url, token, tmp_path, printer=f"network:127.0.0.1:{closed}")
    no_printer.wait_for_log("cannot reach")
    ticket = issue_at_kiosk(server.url, token)  # waits in the queue, issuing goes on
    assert ticket["print_job"]["state"] == "queued"
    wait_for(lambda: printer_of(server.url)["state"] == "offline", "offline reported")

    down = agents("http://127.0.0.1:9", token, tmp_path)  # nothing listens on the discard port
    down.wait_for_log("cannot reach the server")
    with pytest.raises(subprocess.TimeoutExpired):
        down.proc.wait(5)  # it keeps trying
    for agent, text in ((wrong, "refused"), (no_printer, "cannot reach"), (down, "cannot reach the server")):
        assert agent.read_log().count(text) == 1, agent.read_log()
        assert cpu_share(agent) < 0.5, "retrying must not spin"

    bad = subprocess.run(
        [sys.executable, "-m", "queue_server", "agent", "--server", server.url, "--token", token, "--printer", "lp0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "queue-server agent: unknown printer address 'lp0': "
        "use usb:VID:PID, serial:PORT, file:PATH, win32:PRINTER NAME or network:HOST[:PORT]"
    ]


def test_only_the_kiosks_own_agent_takes_and_acknowledges_its_jobs(server, token, tmp_path):
    other = add_agent_kiosk(server.config_path, name="kiosk-agent-2")
    ticket = issue_at_kiosk(server.url, token)
    job_id = ticket["print_job"]["id"]
    anonymous, stranger, own = (socketio.Client() for _ in range(3))
    try:
        anonymous.connect(server.url, transports=["websocket"], wait_timeout=10)
        refused = anonymous.call("agent_jobs", {"printed": [], "failed": [], "take": 5}, timeout=30)
        assert refused["error"]["code"] == "unauthorized" and refused["error"]["message_zh"]

        stranger.connect(server.url, auth={"device": other}, transports=["websocket"], wait_timeout=10)
        assert stranger.call("agent_jobs", {"printed": [job_id], "failed": [], "take": 5}, timeout=30) == {"jobs": []}
        assert job_state(server.url, ticket["id"]) == "queued"  # another kiosk's agent can neither take nor ack it
        bad = stranger.call("agent_jobs", {"printed": ["1; drop"], "take": 99}, timeout=30)
        assert bad["error"]["field"] == "printed"

        own.connect(server.url, auth={"device": token}, transports=["websocket"], wait_timeout=10)
        offered = own.call("agent_jobs", {"printed": [], "failed": [], "take": 5, "hello": True}, timeout=30)["jobs"]
        assert [(o["id"], o["number"]) for o in offered] == [(job_id, ticket["number"])]
        assert offered[0]["payload"]["track_url"].endswith(f"/t/{ticket['id']}")
        assert job_state(server.url, ticket["id"]) == "printing"
        assert own.call("agent_jobs", {"printed": [job_id], "failed": [], "take": 0}, timeout=30) == {"jobs": []}
        assert job_state(server.url, ticket["id"]) == "printed"
    finally:
        for client in (anonymous, stranger, own):
            client.disconnect()


def test_an_agent_marked_gone_while_still_connected_reports_its_printer_again(
    server, token, agents, tmp_path, fake_printer
):
    """A stale disconnect (the old connection's, noticed late or by another process) marks the printer offline
    while the agent exchanges on a new one: the server asks it again instead of showing offline for good."""
    from sqlalchemy import create_engine, text

    from printer.offers import AGENT_GONE

    agents(server.url, token, tmp_path, printer=f"network:127.0.0.1:{fake_printer.port}")
    wait_for(lambda: printer_of(server.url)["state"] == "online", "the first status report")
    engine = create_engine(f"sqlite:///{tmp_path}/onewindow.sqlite3")
    with engine.begin() as db:  # what agents.gone() writes
        db.execute(
            text("UPDATE devices SET printer_state = :state, printer_detail = :detail WHERE name = 'kiosk-agent-1'"),
            AGENT_GONE,
        )
    engine.dispose()
    assert printer_of(server.url)["state"] == "offline"
    wait_for(lambda: printer_of(server.url)["state"] == "online", "the printer reported again")
