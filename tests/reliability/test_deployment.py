"""deploy/ for real on loopback: Debian's nginx in front of two server processes, PostgreSQL and Redis."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import requests

from tests.support import ROOT, Listener, demo_config, free_port, login, wait_until

SITE = ROOT / "deploy" / "nginx" / "onewindow.conf"
pytestmark = [pytest.mark.postgres, pytest.mark.redis]


class Nginx:
    """The shipped site file, its upstream ports pointed at the test's processes, under a private nginx."""

    def __init__(self, backends: list[int]) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(binary):
            pytest.skip("nginx is not installed (scripts/install-test-deps.sh installs it)")
        self.binary, self.port = binary, free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ow-nginx-"))
        site = SITE.read_text()
        assert "server 127.0.0.1:8001" in site and "server 127.0.0.1:8002" in site and "listen 80;" in site
        site = site.replace("127.0.0.1:8001", f"127.0.0.1:{backends[0]}").replace(
            "127.0.0.1:8002", f"127.0.0.1:{backends[1]}"
        )
        # Which process answered: for the test only, not part of the shipped site.
        site = site.replace(
            "listen 80;", f"listen 127.0.0.1:{self.port};\n    add_header X-Upstream $upstream_addr always;"
        )
        (self.dir / "site.conf").write_text(site)
        temp = "\n".join(
            f"  {kind}_temp_path {self.dir}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        user = "user root;" if os.geteuid() == 0 else ""
        (self.dir / "nginx.conf").write_text(f"""
{user}
daemon off;
worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log info;
events {{ worker_connections 512; }}
http {{
  access_log off;
{temp}
  include {self.dir}/site.conf;
}}
""")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Nginx:
        check = subprocess.run(
            [
                self.binary,
                "-t",
                "-p",
                str(self.dir),
                "-e",
                str(self.dir / "error.log"),
                "-c",
                str(self.dir / "nginx.conf"),
            ],
            capture_output=True,
            text=True,
        )
        assert check.returncode == 0, check.stderr
        self.proc = subprocess.Popen(
            [self.binary, "-p", str(self.dir), "-e", str(self.dir / "error.log"), "-c", str(self.dir / "nginx.conf")],
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._up, what="nginx to listen")
        return self

    def _up(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def upstream(self) -> int:
        """The port of the process that answers a request from this host now."""
        return int(requests.get(f"{self.url}/healthz", timeout=10).headers["X-Upstream"].rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def deployment(make_server, pg_url, redis_server, tmp_path):
    raw = demo_config(pg_url, tmp_path / "data", redis_url=redis_server.url)
    first = make_server(raw, name="one")
    raw["server"]["print_spooler"] = False  # exactly one process prints
    second = make_server(raw, name="two", prepare_db=False)
    nginx = Nginx([first.port, second.port]).start()
    yield nginx, {first.port: first, second.port: second}
    nginx.stop()


def test_two_processes_behind_nginx_survive_the_loss_of_one(deployment):
    nginx, servers = deployment
    board = Listener(nginx.url, {"hall": "erdao"}).connect(transports=("polling", "websocket"))
    board.wait_for("board")
    near = servers[nginx.upstream()]  # ip_hash: every request from here goes to this process
    far = next(s for s in servers.values() if s is not near)

    # Calls made on either process reach the client connected through nginx (Redis carries them).
    for n, server in ((1, near), (2, far)):
        clerk = login(server.url, f"clerk{n}")
        assert requests.post(f"{server.url}/api/v1/halls/erdao/windows/{n}/open", headers=clerk, timeout=10).ok
        issued = requests.post(f"{nginx.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=10)
        assert issued.status_code == 201
        called = requests.post(f"{server.url}/api/v1/halls/erdao/windows/{n}/call-next", headers=clerk, timeout=10)
        assert called.status_code == 200
        number = called.json()["number"]
        event = board.wait_for("ticket_called", lambda c, num=number: c["ticket"]["number"] == num)
        assert event["window"]["number"] == n

    near.kill()  # the process the client is connected to dies
    board.wait_for("board", timeout=60)  # reconnected through nginx, with a fresh snapshot
    assert board.connects == 2
    assert nginx.upstream() == far.port
    clerk = login(nginx.url, "clerk2")
    r = requests.post(f"{nginx.url}/api/v1/halls/erdao/tickets", json={"service": "SB001"}, timeout=10)
    assert r.status_code == 201
    # Window 2 still has its ticket from before; the clerk marks it no-show and calls the next one.
    assert requests.post(f"{nginx.url}/api/v1/halls/erdao/windows/2/no-show", headers=clerk, timeout=10).ok
    called = requests.post(f"{nginx.url}/api/v1/halls/erdao/windows/2/call-next", headers=clerk, timeout=10)
    assert called.status_code == 200, called.text
    assert board.wait_for("ticket_called", lambda c: c["ticket"]["number"] == called.json()["number"])
    board.close()
