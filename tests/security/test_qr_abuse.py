"""/qr.svg: only this server's own links, each drawn once, a budget per address, and issuing stays fast."""

from __future__ import annotations

import statistics
import threading
import uuid

import requests

from display import qr
from tests.security.attackers import baseline, issue_while
from tests.support import client_from, demo_config

ABUSERS = [f"127.0.0.{n}" for n in range(2, 10)]  # eight clients, as in the attack
SLOWDOWN = 5


def test_only_own_links_are_drawn(make_server, tmp_path):
    server = make_server(
        demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", public_url="https://hall.example.cn/")
    )
    kiosk = requests.Session()
    for data in (
        f"{server.url}/t/{uuid.uuid4().hex}",
        "https://hall.example.cn/t/abc",
        "https://hall.example.cn/bookings/erdao?id=5f2c",
    ):
        r = kiosk.get(f"{server.url}/qr.svg", params={"data": data}, timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("image/svg+xml"), data
    for data in (
        "https://evil.example.com/t/abc",
        "https://hall.example.cn.evil.com/t/abc",
        "https://hall.example.cn/admin",
        "https://hall.example.cn/t/abc/../../admin",
        f"{server.url}/t/" + "a" * 400,
        "hello",
        "",
    ):
        r = kiosk.get(f"{server.url}/qr.svg", params={"data": data}, timeout=10)
        assert r.status_code == 400, data


def test_qr_flood_is_limited_per_address_while_issuing_stays_fast(make_server, tmp_path):
    server = make_server(demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data"))
    before = baseline(server.url)
    started, done, times = threading.Event(), threading.Event(), []
    kiosk = threading.Thread(target=lambda: times.extend(issue_while(server.url, started, done)))
    answers: dict[str, list[int]] = {a: [] for a in ABUSERS}

    def abuse(address: str) -> None:
        client = client_from(address)
        for _ in range(70):  # each a new, valid-looking link: nothing to reuse
            data = f"{server.url}/t/{uuid.uuid4().hex}{uuid.uuid4().hex}"
            answers[address].append(client.get(f"{server.url}/qr.svg", params={"data": data}, timeout=30).status_code)

    abusers = [threading.Thread(target=abuse, args=(a,)) for a in ABUSERS]
    kiosk.start()
    started.set()
    for t in abusers:
        t.start()
    for t in abusers:
        t.join(60)
    done.set()
    kiosk.join(30)
    during = statistics.median(times)
    drawn = sum(a.count(200) for a in answers.values())
    print(
        f"\nissue before {before * 1000:.1f} ms, during the QR flood {during * 1000:.1f} ms; {drawn} of {70 * len(ABUSERS)} drawn"
    )
    for address, codes in answers.items():
        assert codes.count(200) == int(qr.QR_PER_IP.split()[0]), address  # the rest were refused
        assert set(codes) == {200, 429}
    assert during <= SLOWDOWN * before, f"issuing went from {before:.3f}s to {during:.3f}s during the QR flood"


def test_a_link_is_drawn_once():
    qr.svg.cache_clear()
    link = "http://127.0.0.1/t/abc"
    assert qr.svg(link) == qr.svg(link)
    assert qr.svg.cache_info().hits == 1 and qr.svg.cache_info().misses == 1
