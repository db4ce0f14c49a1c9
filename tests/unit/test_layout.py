"""The layout keeps its promises: the core and the service modules import no Flask, and there is no import cycle."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support import ROOT

# Everything but the HTTP edge (routes, web/, realtime/sockets, the app and the server) is plain Python.
SERVICES = [
    "queue_server.core",
    "queue_server.config",
    "queue_server.hall_settings",
    "queue_server.halls",
    "queue_server.models",
    "queue_server.db",
    "queue_server.tickets.service",
    "queue_server.tickets.issuing",
    "queue_server.tickets.windows",
    "queue_server.tickets.snapshots",
    "queue_server.tickets.personal",
    "queue_server.staff.auth",
    "queue_server.staff.permissions",
    "queue_server.staff.devices",
    "queue_server.appointments.service",
    "queue_server.appointments.remote",
    "queue_server.appointments.notify",
    "queue_server.ratings.evaluations",
    "queue_server.ratings.followups",
    "queue_server.stats.service",
    "queue_server.stats.data",
    "queue_server.stats.exports",
    "queue_server.stats.simulate",
    "queue_server.admin.service",
    "queue_server.admin.services",
    "queue_server.admin.users",
    "queue_server.admin.devices",
    "queue_server.admin.catalog",
    "queue_server.admin.central",
    "queue_server.realtime.events",
]


@pytest.mark.parametrize("module", SERVICES)
def test_service_module_imports_no_flask(module):
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_socketio', 'werkzeug')); "
        "print(','.join(bad))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"{module} pulls in {done.stdout.strip()}"


def test_every_feature_package_has_its_own_folder():
    packages = {p.name for p in (ROOT / "queue_server").iterdir() if (p / "__init__.py").exists()}
    assert {"core", "tickets", "staff", "appointments", "ratings", "stats", "admin", "realtime", "web"} <= packages
    flat = sorted(p.stem for p in (ROOT / "queue_server").glob("*.py"))
    assert len(flat) <= 16, f"a flat package stops explaining itself: {flat}"


def test_no_module_is_imported_for_its_side_effects():
    # an import kept only for what it does when loaded is marked for the linter: there must be none
    for folder in ("queue_server", "display", "printer"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            assert "noqa: F401" not in text and "E402,F401" not in text, path


def test_every_benchmark_module_imports():
    # benchmarks are not run by the suite, so a helper they borrow from the tests can move under them unseen
    names = sorted(p.stem for p in (ROOT / "benchmarks").glob("*.py") if p.stem != "__main__")
    code = f"import importlib\nfor n in {names!r}:\n    importlib.import_module('benchmarks.' + n)\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
