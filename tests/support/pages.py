"""Helpers of the page tests: screen sizes, screenshots, and API shortcuts against the test server."""

from __future__ import annotations

from pathlib import Path

import requests
from playwright.sync_api import expect

from .staff import PASSWORD, login

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
BOARD, KIOSK, MOBILE, CLERK, WINDOW = (1920, 1080), (1080, 1920), (390, 844), (1366, 768), (1280, 720)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def admin_sign_in(page, username: str) -> None:
    """Sign in on an administration page (/admin, /stats) as a demo staff member."""
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    expect(page.locator("body")).to_have_attribute("data-view", "app")


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


# Every element matching the selectors that is visible: outside the viewport, cut off by a clipping
# ancestor, or with its own text running past its box. Returns one line per problem.
_OFF_SCREEN = """(selectors) => {
  const vw = window.innerWidth, vh = window.innerHeight, out = [], slack = 0.5;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.dataset.window ? '[window=' + el.dataset.window + ']' : '') + (el.dataset.queue ? '[queue=' + el.dataset.queue + ']' : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '');
  const outside = (r, b) => r.left < b.left - slack || r.top < b.top - slack || r.right > b.right + slack || r.bottom > b.bottom + slack;
  for (const el of document.querySelectorAll(selectors)) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (outside(r, {left: 0, top: 0, right: vw, bottom: vh})) out.push(name(el) + ' outside the viewport ' + JSON.stringify(r));
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (s.overflowX !== 'visible' || s.overflowY !== 'visible') {
        if (outside(r, p.getBoundingClientRect())) out.push(name(el) + ' cut off by ' + name(p));
      }
    }
    if (getComputedStyle(el).display !== 'inline' && el.scrollWidth > el.clientWidth + 1) {
      out.push(name(el) + ' text runs past its right edge');
    }
  }
  return out;
}"""


def off_screen(page, selectors: str) -> list[str]:
    """Visible elements matching `selectors` outside the viewport, cut off, or overflowing their box."""
    return page.evaluate(_OFF_SCREEN, selectors)


# WCAG contrast of every visible text against the background actually behind it (the nearest painted
# backgrounds composited), from computed styles, so animations in progress count too.
_CONTRAST = """(root) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const over = (top, under) => ({r: top.r * top.a + under.r * (1 - top.a), g: top.g * top.a + under.g * (1 - top.a),
                                 b: top.b * top.a + under.b * (1 - top.a), a: 1});
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) { layers.push(c); if (c.a >= 1) break; }
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
    return bg;
  };
  const out = [];
  for (const el of document.querySelectorAll(root + ', ' + root + ' *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    const r = el.getBoundingClientRect();
    if (!own || r.width === 0 || getComputedStyle(el).visibility !== 'visible') continue;
    let opacity = 1;
    for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
    const bg = background(el);
    const fg = over({...parse(getComputedStyle(el).color), a: parse(getComputedStyle(el).color).a * opacity}, bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    out.push({element: el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + el.className,
              text: el.textContent.trim().slice(0, 30), ratio: (hi + 0.05) / (lo + 0.05)});
  }
  return out;
}"""


def contrasts(page, root: str = "body") -> list[dict]:
    """Each visible text under `root`: {element, text, ratio} with its WCAG contrast ratio."""
    return page.evaluate(_CONTRAST, root)


def low_contrast(page, root: str = "body", minimum: float = 4.5) -> list[dict]:
    """The texts under `root` whose contrast is below `minimum` (none on a legible screen)."""
    found = contrasts(page, root)
    assert found, f"no visible text under {root}"
    return [c for c in found if c["ratio"] < minimum]


def staff_sign_in(page, url: str, username: str, then: str) -> None:
    """Sign in on /login, the one staff session of every staff page, and land on the page `then`."""
    page.goto(f"{url}/login?next={then}")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("#login-form button[type=submit]").click()
    page.wait_for_url(f"{url}{then}")
