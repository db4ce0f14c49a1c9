"""The administration pages (halls, queues, items, windows, users, devices, change log) and the central view."""

from __future__ import annotations

from flask import Blueprint, render_template

from display.pages import security_headers
from display.staff_session import staff_page

bp = Blueprint("admin_pages", __name__)
bp.after_request(security_headers)

SECTIONS = ("settings", "queues", "services", "windows", "users", "devices", "changes")


@bp.get("/admin")
@bp.get("/admin/<hall>")
@bp.get("/admin/<hall>/<section>")
@staff_page(managers=True)
def admin(hall: str = "", section: str = "settings"):
    """Supervisors and admins edit a hall's settings, queues, items, windows, staff and devices."""
    return render_template("admin.html", hall=hall[:32], section=section if section in SECTIONS else "settings")


@bp.get("/central")
@staff_page(managers=True)
def central():
    """Every hall of the deployment now, and their statistics side by side."""
    return render_template("admin_central.html")
