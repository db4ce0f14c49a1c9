"""Secure defaults: headers, CORS off, size limits, JSON errors, the demo secret refused in public."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
import requests
from itsdangerous import URLSafeTimedSerializer

from queue_server.config import DEMO_SECRET, settings_from_mapping
from queue_server.exceptions import ConfigError
from tests.support import ROOT, ServerProcess, clock_at, demo_config, free_port, login, write_config


def test_security_headers_on_api_and_pages(make_app):
    client = make_app().test_client()
    api = client.get("/api/v1/halls")
    assert api.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert api.headers["X-Content-Type-Options"] == "nosniff"
    assert api.headers["X-Frame-Options"] == "DENY"
    assert api.headers["Referrer-Policy"] == "no-referrer"
    assert api.headers["Cache-Control"] == "no-store"
    page = client.get("/board/erdao")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "<script>" not in page.get_data(as_text=True), "no inline scripts"
    assert client.get("/login").headers["Content-Security-Policy"] == csp


def test_cors_is_off_by_default_and_on_for_listed_origins(make_app, tmp_path):
    client = make_app().test_client()
    r = client.get("/api/v1/halls", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers
    raw = demo_config(
        f"sqlite:///{tmp_path}/b.sqlite3",
        tmp_path / "data",
        async_mode="threading",
        cors_origins=["https://portal.example"],
    )
    other = make_app(raw).test_client()
    assert (
        other.get("/api/v1/halls", headers={"Origin": "https://portal.example"}).headers["Access-Control-Allow-Origin"]
        == "https://portal.example"
    )
    assert (
        "Access-Control-Allow-Origin" not in other.get("/api/v1/halls", headers={"Origin": "https://x.example"}).headers
    )
    assert other.options("/api/v1/halls/erdao/tickets", headers={"Origin": "https://portal.example"}).status_code == 204


def test_large_and_bad_requests_get_json_errors(make_app):
    client = make_app().test_client()
    r = client.post("/api/v1/auth/login", data="x" * 100_000, content_type="application/json")
    assert r.status_code == 413 and r.get_json()["error"]["code"]
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.is_json


def test_the_demo_secret_is_refused_even_behind_a_proxy_on_loopback(tmp_path):
    raw = demo_config(f"sqlite:///{tmp_path}/x.sqlite3", tmp_path / "data")
    raw["server"]["secret_key"] = DEMO_SECRET  # an old config.yaml
    config = write_config(tmp_path / "c.yaml", raw)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUE_SERVER_")}
    argv = [sys.executable, "-m", "queue_server", "--config", str(config), "run", "--port", str(free_port())]
    r = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "demo secret" in r.stderr and "secret_key" in r.stderr
    env["QUEUE_SERVER_SECRET_KEY"] = DEMO_SECRET
    raw["server"].pop("secret_key")
    write_config(config, raw)
    r = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "demo secret" in r.stderr, "nor from the environment"


def test_a_test_servers_clock_starts_where_its_config_says_and_runs_on(make_server, tmp_path):
    raw = clock_at(demo_config(f"sqlite:///{tmp_path}/x.sqlite3", tmp_path / "data"), "2026-03-02T23:45:00+08:00")
    server = make_server(raw)
    issued = [
        requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=10).json()
        for _ in range(2)
    ]
    first, second = (datetime.fromisoformat(t["issued_at"]) for t in issued)
    assert first.isoformat().startswith("2026-03-02T23:4") and first.utcoffset() == timedelta(hours=8)
    assert first <= second < first + timedelta(minutes=5), "the clock runs forward from its start"
    assert "the clock starts at 2026-03-02 23:45:00+08:00" in server.read_log()


def test_a_testing_server_listens_on_loopback_only(tmp_path):
    config = write_config(tmp_path / "c.yaml", clock_at(demo_config(f"sqlite:///{tmp_path}/x.sqlite3", tmp_path)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUE_SERVER_")}
    argv = [sys.executable, "-m", "queue_server", "--config", str(config), "run", "--port", str(free_port())]
    r = subprocess.run([*argv, "--host", "0.0.0.0"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "server.testing" in r.stderr and "loopback only" in r.stderr


def test_without_a_configured_secret_one_is_generated_kept_and_reused(make_server, tmp_path):
    server = make_server()  # the shipped config.yaml has no secret_key
    kept = tmp_path / "data" / "secret_key"
    assert kept.stat().st_mode & 0o777 == 0o600, "owner-only"
    secret = kept.read_text().strip()
    assert len(secret) >= 48 and secret != DEMO_SECRET
    token = login(server.url, "root")
    me = f"{server.url}/api/v1/auth/me"
    # a token forged with the demo secret (the old attack: an admin for anyone) is refused
    forged = URLSafeTimedSerializer(DEMO_SECRET, salt="onewindow-staff-token").dumps({"u": 1, "v": 0})
    assert requests.get(me, headers={"Authorization": f"Bearer {forged}"}, timeout=10).status_code == 401
    # and one signed with the kept secret is what the server itself issues: it survives a restart
    server.stop()
    again = ServerProcess(server.config_path, port=server.port).start()
    try:
        assert kept.read_text().strip() == secret, "the same secret after a restart"
        assert requests.get(me, headers=token, timeout=10).status_code == 200, "staff stay signed in"
    finally:
        again.stop()


def test_config_validation_of_security_settings(tmp_path):
    raw = demo_config("sqlite://", tmp_path)
    raw["server"]["secret_key"] = "short"
    with pytest.raises(ConfigError, match="secret_key"):
        settings_from_mapping(raw)
    raw = demo_config("sqlite://", tmp_path, rate_limits={"issue_per_ip": "lots"})
    with pytest.raises(ConfigError, match="issue_per_ip"):
        settings_from_mapping(raw)
    raw = demo_config("sqlite://", tmp_path)
    raw["halls"][0]["limits"] = {"per_service_per_day": {"NOPE": 3}}
    with pytest.raises(ConfigError, match="per_service_per_day"):
        settings_from_mapping(raw)
