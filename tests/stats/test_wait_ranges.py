"""Wait-range accuracy per hall, queue and hour against the stated coverage, the calibration plot's points,
and the staffing plan (Erlang C per hour) with the last plan against what happened (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io

import openpyxl

from queue_server.core import erlang
from tests.support import bearer

from .test_api import STATS, staff
from .test_scripted_day import run_morning

PLAN = "/api/v1/halls/erdao/stats/plan"


def test_quote_accuracy_per_hall_queue_and_hour_with_calibration_points(hall, client, fake_clock):
    run_morning(
        hall, fake_clock
    )  # quotes A001 0–240 (waited 300), B001 300–600 (340), A002 400–700 (520), C001 600–900 (530)
    staff(hall)
    boss = bearer(client, "boss")
    st = client.get(STATS, headers=boss).get_json()
    assert st["estimate"] == {"count": 4, "mae_s": 135.0, "inside_share": 0.5, "mean_width_s": 285.0, "coverage": 0.8}
    nine = next(h for h in st["by_hour"] if h["hour"] == 9)
    assert nine["estimate"] == {"count": 4, "mae_s": 135.0, "inside_share": 0.5, "mean_width_s": 285.0}
    by_queue = {q["key"]: q["estimate"] for q in st["by_queue"]}
    assert by_queue["A"]["inside_share"] == 0.5 and by_queue["B"]["inside_share"] == 1.0
    assert by_queue["C"]["inside_share"] == 0.0
    # binned by the quote's middle: 2 min (A001), 7.5 and 9.2 min (B001, A002), 12.5 min (C001)
    assert [(b["from_s"], b["to_s"], b["count"], b["inside_share"]) for b in st["calibration"]] == [
        (120, 300, 1, 0.0),
        (300, 600, 2, 1.0),
        (600, 1200, 1, 0.0),
    ]
    middle = st["calibration"][1]
    assert (middle["mean_low_s"], middle["mean_high_s"], middle["mean_actual_s"]) == (350.0, 650.0, 430.0)

    r = client.get(STATS.replace("/stats?", "/stats/export?format=csv&"), headers=boss)
    cell = {
        (x["table"], x["key"], x["metric"]): x["value"] for x in csv.DictReader(io.StringIO(r.data.decode("utf-8-sig")))
    }
    assert cell[("by_hour", "9", "estimate.inside_share")] == "0.5"
    assert cell[("summary", "", "estimate.coverage")] == "0.8"
    assert cell[("calibration", "300", "mean_actual_s")] == "430.0"

    assert (
        client.patch(
            "/api/v1/admin/halls/erdao", json={"wait_range_coverage": 0.9}, headers=bearer(client, "root")
        ).status_code
        == 200
    )
    assert client.get(STATS, headers=boss).get_json()["estimate"]["coverage"] == 0.9


def test_a_plan_without_history_stands_on_the_simulated_day_and_matches_erlang_c(hall, client, fake_clock):
    staff(hall)
    plan = client.get(PLAN, headers=bearer(client, "boss")).get_json()
    assert plan["day"] == "2026-03-03" and plan["source"] == "simulated" and plan["last"] is None
    assert [h["hour"] for h in plan["hours"]] == list(range(9, 17))
    for h in plan["hours"]:
        assert h["windows"] == erlang.windows_needed(h["arrivals"] / 3600, h["service_s"], plan["target_wait_s"], 0.8)
    peak = max(plan["hours"], key=lambda h: h["arrivals"])
    assert peak["hour"] == 10 and peak["windows"] == plan["peak_windows"] > plan["hours"][3]["windows"]  # noon is calm


def test_a_plan_from_the_halls_history_and_the_last_plan_against_what_happened(hall, client, fake_clock):
    run_morning(hall, fake_clock)  # Monday 2 March: five tickets issued between 09:00 and 09:04
    staff(hall)
    boss = bearer(client, "boss")
    monday = client.get(PLAN + "?day=2026-03-09&source=history", headers=boss).get_json()
    assert monday["source"] == "history" and monday["basis_days"] == ["2026-03-02"]
    assert [(h["hour"], h["arrivals"]) for h in monday["hours"]] == [(9, 5.0)]
    # three served: 300, 400 (hold kept out… but the plan reads the ticket's own start and finish), 300
    nine = monday["hours"][0]
    assert nine["windows"] == erlang.windows_needed(5 / 3600, nine["service_s"], monday["target_wait_s"], 0.8)

    tomorrow = client.get(PLAN, headers=boss).get_json()
    last = tomorrow["last"]
    assert last["day"] == "2026-03-02"
    row = next(h for h in last["hours"] if h["hour"] == 9)
    assert row["arrivals"] == 5 and row["windows_used"] == 2  # windows 1 and 2 called that hour
    assert row["forecast_arrivals"] == 50.0 and row["planned_windows"] >= row["windows_needed"]  # the demo plan

    r = client.get(PLAN + "/export?format=xlsx&day=2026-03-09", headers=boss)
    assert r.status_code == 200 and 'filename="plan-erdao-2026-03-09.xlsx"' in r.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == ["summary", "plan", "last_plan_2026-03-02"]
    assert list(book["plan"].iter_rows(values_only=True))[1][:2] == (9, 5.0)
    r = client.get(PLAN + "/export?format=csv&day=2026-03-09", headers=boss)
    cell = {
        (x["table"], x["key"], x["metric"]): x["value"] for x in csv.DictReader(io.StringIO(r.data.decode("utf-8-sig")))
    }
    assert cell[("plan", "9", "windows")] == str(nine["windows"])


def test_bad_plan_requests_are_refused_naming_the_field(hall, client):
    staff(hall)
    hall.user("clerk1")
    boss = bearer(client, "boss")
    for query, field in (
        ("?day=March", "day"),
        ("?day=0001-01-01", "day"),
        ("?source=guess", "source"),
        ("/export?format=pdf", "format"),
    ):
        r = client.get(PLAN + query, headers=boss)
        assert r.status_code == 422 and r.get_json()["error"]["field"] == field, r.get_json()
        assert r.get_json()["error"]["message_zh"]
    assert client.get(PLAN, headers=bearer(client, "clerk1")).status_code == 403
