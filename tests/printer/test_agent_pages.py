"""Paper out at an agent kiosk, as the printer itself says it (DLE EOT), reaches the pages in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.printer.test_agent import PAPER_OUT, printer_of
from tests.support import KIOSK, PASSWORD, shot
from tests.support.agents import AgentProcess, add_agent_kiosk, issue_at_kiosk, job_state, wait_for

pytestmark = pytest.mark.browser
OFFICE = (1366, 900)


def sign_in(page, username: str) -> None:
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("#login-form button[type=submit]").click()


def test_paper_out_shows_on_the_kiosk_the_devices_page_and_the_supervisors_page(
    make_server, open_page, fake_printer, tmp_path
):
    server = make_server()
    token = add_agent_kiosk(server.config_path)
    agent = AgentProcess(server.url, token, tmp_path, printer=f"network:127.0.0.1:{fake_printer.port}").start()
    try:
        wait_for(lambda: printer_of(server.url)["state"] == "online", "the printer online")
        kiosk = open_page(f"{server.url}/kiosk/erdao?device={token}", KIOSK)
        expect(kiosk.locator("body")).to_have_attribute("data-printer", "online")
        expect(kiosk.locator("#k-printer-down")).to_be_hidden()
        stats = open_page(f"{server.url}/stats/erdao", OFFICE)
        sign_in(stats, "boss")
        expect(stats.locator("body")).to_have_attribute("data-loaded", "1")
        expect(stats.locator("#printer-alerts")).to_be_hidden()

        fake_printer.status[4] = PAPER_OUT  # the roll ran out: the agent's next status query says so
        expect(kiosk.locator("#k-printer-down")).to_be_visible(timeout=120_000)  # live, no reload
        expect(kiosk.locator("#k-printer-down")).to_have_text("号票无法打印，请用手机扫码或到服务台取号")
        shot(kiosk, "kiosk-printer-paper-out-1080x1920")
        kiosk.locator("[data-lang-toggle]").first.click()
        expect(kiosk.locator("#k-printer-down")).to_contain_text("Tickets cannot be printed here")
        alert = stats.locator('#printer-alerts [data-printer="kiosk-agent-1"]')
        expect(alert).to_have_text("kiosk-agent-1：打印机缺纸")  # no English detail inside the Chinese line
        stats.locator("[data-lang-toggle]").first.click()
        expect(alert).to_contain_text("printer paper out (out of paper")

        admin = open_page(f"{server.url}/admin/erdao/devices", OFFICE)
        sign_in(admin, "root")
        expect(admin.locator('#printer-table tr[data-printer="kiosk-agent-1"]')).to_contain_text("缺纸")
        expect(admin.locator('#device-table tr[data-device="kiosk-agent-1"]')).to_contain_text("自带打印机")
        shot(admin, "admin-devices-paper-out-1366x900")

        fake_printer.status[4] = 0x12  # a new roll
        expect(kiosk.locator("#k-printer-down")).to_be_hidden(timeout=120_000)
        assert kiosk.problems == [] and admin.problems == [] and stats.problems == []
    finally:
        agent.stop()


def test_an_agent_kiosk_registered_on_the_devices_page_is_told_how_to_start_its_agent(
    make_server, open_page, fake_printer, tmp_path
):
    """The token is shown once: the page gives the agent's command with it, and that command prints."""
    url = make_server().url
    admin = open_page(f"{url}/admin/erdao/devices", OFFICE)
    sign_in(admin, "root")
    form = admin.locator("#device-form")
    form.locator('[name="name"]').fill("kiosk-agent-2")
    form.locator('[name="kind"]').select_option("kiosk")
    form.locator('[name="agent"]').select_option("1")
    form.locator("button[type=submit]").click()
    command = admin.locator("#device-token .agent-command")
    expect(command).to_contain_text(f"queue-server agent --server {url} --token ")
    words = command.text_content().split()
    assert words[words.index("--printer") + 1] == "<打印机地址>"
    token = words[words.index("--token") + 1]
    agent = AgentProcess(url, token, tmp_path, printer=f"network:127.0.0.1:{fake_printer.port}").start()
    try:
        ticket = issue_at_kiosk(url, token)
        wait_for(lambda: job_state(url, ticket["id"]) == "printed", "the kiosk's ticket printed by its agent")
        assert admin.problems == []
    finally:
        agent.stop()
