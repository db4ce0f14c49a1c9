"""Shared benchmark plumbing: a server on SQLite or PostgreSQL, wrk runs, percentiles."""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.support import PG_ADMIN_URL, ROOT, STAFF, ServerProcess, demo_config, prepare, write_config

WINDOWS = 30


def bench_config(db_url: str, data_dir: Path, voice: bool = False, **server) -> dict:
    """The demo deployment with 30 integrated windows, no printer and (unless asked) no voice."""
    raw = demo_config(db_url, data_dir, **server)
    hall = raw["halls"][0]
    hall["windows"] = [{"number": n, "name": f"{n}号综合窗口"} for n in range(1, WINDOWS + 1)]
    hall["voice"]["enabled"] = voice
    raw["printers"] = []
    return raw


@contextmanager
def database(kind: str):
    """A fresh database URL of the given kind, removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/bench.sqlite3"
        return
    name = f"ow_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@contextmanager
def running_server(
    kind: str,
    *,
    async_mode: str = "eventlet",
    processes: int = 1,
    redis_url: str | None = None,
    voice: bool = False,
    root: Path = ROOT,
):
    """Servers (one or more processes sharing the database) on free loopback ports; `root`: the checkout whose
    code they run (the baseline of a comparison)."""
    with database(kind) as url, tempfile.TemporaryDirectory() as tmp:
        server_opts = {"async_mode": async_mode}
        if redis_url:
            server_opts["redis_url"] = redis_url
        raw = bench_config(url, Path(tmp) / "data", voice, **server_opts)
        users = STAFF + [(f"bench{n}", "clerk", "erdao") for n in range(1, WINDOWS + 1)]
        config = write_config(Path(tmp) / "bench.yaml", raw)
        prepare_with(root, config, raw, users)
        servers = [ServerProcess(config, env={"PYTHONWARNINGS": "ignore"}, root=root).start() for _ in range(processes)]
        try:
            yield servers
        finally:
            for server in servers:
                server.stop()


def prepare_with(root: Path, config: Path, raw: dict, users: list[tuple[str, str, str | None]]) -> None:
    """Migrate, seed and add staff with the code of checkout `root`: a baseline knows only its own migrations."""
    if root.resolve() == ROOT.resolve():
        prepare(raw, users)
        return
    script = (
        "import json, sys, yaml; from tests.support import prepare; "
        "prepare(yaml.safe_load(open(sys.argv[1], encoding='utf-8')), [tuple(u) for u in json.loads(sys.argv[2])])"
    )
    subprocess.run([sys.executable, "-c", script, str(config), json.dumps(users)], cwd=root, check=True)


def py_spy(pid: int, seconds: float, out: Path) -> subprocess.Popen:
    """py-spy recording process `pid` (and its children) for `seconds` into `out` (collapsed stacks);
    `pip install py-spy` (not a dependency of the project; it samples the running server from outside)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["py-spy", "record", "-p", str(pid), "-d", str(int(seconds)), "-r", "250", "-f", "raw", "-o", str(out)]
    return subprocess.Popen(
        cmd + ["--subprocesses", "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q / 100 * (len(ordered) - 1)))))
    return ordered[index]


def summary(values_ms: list[float]) -> dict:
    return {
        "n": len(values_ms),
        "p50_ms": percentile(values_ms, 50),
        "p99_ms": percentile(values_ms, 99),
        "mean_ms": statistics.fmean(values_ms) if values_ms else float("nan"),
    }


WRK_POST = """
wrk.method = "POST"
wrk.body = '{"service": "%s", "print": false}'
wrk.headers["Content-Type"] = "application/json"
"""


def wrk(url: str, *, connections: int, seconds: int, lua: str | None = None, threads: int = 1) -> dict:
    """Run wrk against `url`; requests/s and latency percentiles."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    script = None
    if lua:
        script = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
        script.write(lua)
        script.close()
        cmd += ["-s", script.name]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    if script:
        os.unlink(script.name)
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for label, key in (("50%", "p50_ms"), ("99%", "p99_ms")):
        match = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match.group(1)), match.group(2)
        result[key] = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["errors"] = int(errors.group(1)) if errors else 0
    return result
