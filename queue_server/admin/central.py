"""The central view of a deployment: every hall's live state and their statistics side by side."""

from __future__ import annotations

from sqlalchemy.orm import Session

from queue_server.models import Hall
from queue_server.stats import data as stats_data


def overview(session: Session, halls: list[Hall], first: str | None, last: str | None) -> dict:
    """Per hall: waiting, longest wait and windows open now; issued, served, waits and satisfaction over the days."""
    rows = []
    for hall in halls:
        live = stats_data.live(session, hall)
        start, end = stats_data.parse_range(first, last, stats_data.local_today(hall))
        figures = stats_data.compute(session, hall, start, end)
        counts, wait = figures["counts"], figures["wait"]
        rows.append(
            {
                "hall": hall.code,
                "name": hall.name,
                "name_en": hall.name_en,
                "live": {
                    "waiting": live["waiting"],
                    "longest_wait_s": live["longest_wait_s"],
                    "windows_open": live["windows_open"],
                    "windows_paused": live["windows_paused"],
                    "windows": len(live["windows"]),
                },
                "stats": {
                    "from": start.isoformat(),
                    "to": end.isoformat(),
                    "issued": counts["issued"],
                    "served": counts["served"],
                    "no_show": counts["no_show"],
                    "mean_wait_s": wait["mean_s"],
                    "p90_wait_s": wait["p90_s"],
                    "within_target_share": wait["within_target_share"],
                    "mean_service_s": figures["service"]["mean_s"],
                    "satisfaction_rate": figures["satisfaction"]["rate"],
                },
            }
        )
    total = {
        "waiting": sum(r["live"]["waiting"] for r in rows),
        "windows_open": sum(r["live"]["windows_open"] for r in rows),
        "issued": sum(r["stats"]["issued"] for r in rows),
        "served": sum(r["stats"]["served"] for r in rows),
    }
    return {"halls": rows, "total": total}
