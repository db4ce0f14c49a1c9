"""Health checks for a load balancer: /healthz (process up) and /readyz (dependencies)."""

from __future__ import annotations

from flask import Blueprint

from queue_server.db import write_problem
from queue_server.runtime import current

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Database reachable, Redis reachable when configured; the voice state is reported."""
    rt = current()
    checks: dict[str, dict] = {}
    try:
        problem = write_problem(rt.engine)  # a database that only reads cannot take a ticket
        checks["database"] = {"ok": True} if problem is None else {"ok": False, "message": problem}
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = {"ok": False, "message": f"database unreachable: {type(exc).__name__}"}
    if rt.redis is not None:
        ok = rt.redis.ping()
        checks["redis"] = {"ok": ok} if ok else {"ok": False, "message": "Redis unreachable"}
    if rt.voice is not None:
        ok, message = rt.voice.status()
        checks["voice"] = {"ok": ok, "message": message, "required": False}
    else:
        checks["voice"] = {
            "ok": False,
            "required": False,
            "message": "voice off: install espeak-ng (apt-get install espeak-ng libespeak-ng1)",
        }
    ready = all(c["ok"] for c in checks.values() if c.get("required", True))
    return {"status": "ready" if ready else "not ready", "checks": checks}, 200 if ready else 503
