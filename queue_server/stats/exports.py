"""Statistics and ratings as files: CSV (UTF-8 with BOM, so Excel reads the Chinese) and XLSX.

Names and comments come from outside: a spreadsheet must show them as text, never run them as formulas.
"""

from __future__ import annotations

import csv
import io
import json
import re

GROUP_COLUMNS = [
    "key",
    "name",
    "issued",
    "served",
    "no_show",
    "cancelled",
    "transferred",
    "wait.count",
    "wait.mean_s",
    "wait.median_s",
    "wait.p90_s",
    "wait.within_target_share",
    "service.count",
    "service.mean_s",
    "service.median_s",
    "service.p90_s",
    "estimate.count",
    "estimate.mae_s",
    "estimate.inside_share",
    "estimate.mean_width_s",
]
PLACE_COLUMNS = [
    "key",
    "called",
    "served",
    "busy_s",
    "service.count",
    "service.mean_s",
    "service.median_s",
    "service.p90_s",
    "satisfaction_rate",
]
CLERK_COLUMNS = ["name", *PLACE_COLUMNS[1:]]  # the display name, not the account's user name
HOUR_COLUMNS = [
    "hour",
    "arrivals",
    "wait.count",
    "wait.mean_s",
    "wait.median_s",
    "wait.p90_s",
    "wait.within_target_share",
    "service.count",
    "service.mean_s",
    "estimate.count",
    "estimate.mae_s",
    "estimate.inside_share",
    "estimate.mean_width_s",
]
CALIBRATION_COLUMNS = ["from_s", "to_s", "count", "mean_low_s", "mean_high_s", "mean_actual_s", "inside_share"]
RATING_COLUMNS = [
    "case_id",
    "hall",
    "ticket",
    "day",
    "service_code",
    "service_name",
    "department",
    "window",
    "clerk",
    "finished_at",
    "score",
    "label",
    "comment",
    "rated_at",
    "defaulted",
    "reasons",  # a poor rating's reasons, joined with "；"
]
# A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _get(row: dict, path: str):
    value = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def summary_rows(figures: dict) -> list[tuple[str, object]]:
    """The headline figures as (metric, value) pairs."""
    pairs = [("from", figures["from"]), ("to", figures["to"]), ("target_wait_s", figures["target_wait_s"])]
    pairs += [(f"counts.{k}", v) for k, v in figures["counts"].items()]
    for section in ("wait", "service", "hold", "estimate"):
        pairs += [(f"{section}.{k}", v) for k, v in figures[section].items()]
    pairs += [(f"satisfaction.{k}", v) for k, v in figures["satisfaction"].items() if k != "levels"]
    pairs += [(f"satisfaction.level_{lv['score']}", lv["count"]) for lv in figures["satisfaction"]["levels"]]
    return pairs


def tables(figures: dict) -> list[tuple[str, list[str], list[list]]]:
    """(name, header, rows) of every table of the statistics."""
    out = [("summary", ["metric", "value"], [list(p) for p in summary_rows(figures)])]
    for name, columns in (
        ("by_queue", GROUP_COLUMNS),
        ("by_item", GROUP_COLUMNS),
        ("by_window", PLACE_COLUMNS),
        ("by_clerk", CLERK_COLUMNS),
        ("by_hour", HOUR_COLUMNS),
        ("calibration", CALIBRATION_COLUMNS),
    ):
        out.append((name, columns, [[_get(row, c) for c in columns] for row in figures[name]]))
    levels = figures["satisfaction"]["levels"]
    out.append(
        ("satisfaction", ["score", "label", "count"], [[lv["score"], lv["label"], lv["count"]] for lv in levels])
    )
    return out


PLAN_COLUMNS = ["hour", "arrivals", "service_s", "windows"]
LAST_PLAN_COLUMNS = ["hour", "forecast_arrivals", "arrivals", "planned_windows", "windows_used", "windows_needed"]


def plan_tables(plan: dict, last: dict | None) -> list[tuple[str, list[str], list[list]]]:
    """(name, header, rows) of a staffing plan, and of the last plan against what happened."""
    out = [
        (
            "summary",
            ["metric", "value"],
            [[k, plan[k]] for k in ("hall", "day", "source", "target_wait_s", "share", "peak_windows")]
            + [["basis_days", " ".join(plan["basis_days"])]],
        ),
        ("plan", PLAN_COLUMNS, [[h[c] for c in PLAN_COLUMNS] for h in plan["hours"]]),
    ]
    if last is not None:
        out.append(
            ("last_plan_" + last["day"], LAST_PLAN_COLUMNS, [[h[c] for c in LAST_PLAN_COLUMNS] for h in last["hours"]])
        )
    return out


def tables_csv(named: list[tuple[str, list[str], list[list]]]) -> bytes:
    """Tables in one long CSV: table, key (the first column), metric, value."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["table", "key", "metric", "value"])
    for name, header, rows in named:
        for row in rows:
            if name == "summary":
                writer.writerow([name, "", row[0], csv_cell(row[1])])
                continue
            for column, value in zip(header[1:], row[1:], strict=True):
                writer.writerow([name, csv_cell(row[0]), column, csv_cell(value)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def ratings_xlsx(rows: list[dict], title: str) -> bytes:
    """The ratings as one sheet, the same columns as the CSV."""
    return tables_xlsx(
        [("ratings", RATING_COLUMNS, [[_rating_cell(row[k]) for k in RATING_COLUMNS] for row in rows])], title
    )


def tables_xlsx(named: list[tuple[str, list[str], list[list]]], title: str) -> bytes:
    """One sheet per table, header row in bold."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for name, header, rows in named:
        sheet = book.create_sheet(name)
        sheet.append(header)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                _put(sheet.cell(row=r, column=c), value)
    book.properties.title = _XLSX_ILLEGAL.sub("", title)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def ratings_csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=RATING_COLUMNS)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: csv_cell(_rating_cell(row[k])) for k in RATING_COLUMNS})
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _rating_cell(value):
    """A rating row's value in one spreadsheet cell: a list of reasons as one text."""
    return "；".join(value) if isinstance(value, list) else value


def ratings_json(hall: str, first: str, last: str, rows: list[dict]) -> bytes:
    return json.dumps({"hall": hall, "from": first, "to": last, "ratings": rows}, ensure_ascii=False).encode("utf-8")


def csv_cell(value):
    """A value as a CSV cell: text that would start a formula gets a leading quote; numbers stay numbers."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def from_csv_cell(value: str) -> str:
    """The text a CSV cell written by csv_cell stands for (an imported export gets back what was exported)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_START):
        return value[1:]
    return value


# Characters an XLSX file cannot hold at all (openpyxl refuses them): control characters but tab and line breaks.
_XLSX_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _put(cell, value) -> None:
    """Numbers as numbers, every text as a string cell."""
    if not isinstance(value, str):
        cell.value = value
        return
    # openpyxl turns a str starting with "=" into a formula; the explicit type keeps it text.
    cell.value = _XLSX_ILLEGAL.sub("", value)
    cell.data_type = "s"
