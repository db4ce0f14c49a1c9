"""Helpers of the page tests: screen sizes, screenshots, and API shortcuts against the test server."""

from __future__ import annotations

from pathlib import Path

import requests

from .staff import PASSWORD, login

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
BOARD, KIOSK, MOBILE, CLERK, WINDOW = (1920, 1080), (1080, 1920), (390, 844), (1366, 768), (1280, 720)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def act(url: str, headers: dict, window: int, action: str, **body) -> requests.Response:
    return requests.post(f"{url}/api/v1/halls/erdao/windows/{window}/{action}", json=body, headers=headers, timeout=10)


def issue(url: str, service: str) -> dict:
    r = requests.post(f"{url}/api/v1/halls/erdao/tickets", json={"service": service, "print": False}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def open_window(url: str, clerk: str, window: int) -> dict:
    headers = login(url, clerk)
    assert act(url, headers, window, "open").status_code == 200
    return headers


def staff_sign_in(page, url: str, username: str, then: str) -> None:
    """Sign in on /login, the one staff session of every staff page, and land on the page `then`."""
    page.goto(f"{url}/login?next={then}")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    page.wait_for_url(f"{url}{then}")
