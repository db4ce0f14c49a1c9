"""The administration API: validated changes that take effect at once, per-hall rights, nothing half-saved, the log."""

from __future__ import annotations

from sqlalchemy import func, select

from queue_server.models import AdminChange, ServiceItem
from queue_server.runtime import Runtime

GOOD_CSV = (
    "code,name,queue,department,category,basis,materials,time_limit_days,kind\n"
    "JX900,新办事项甲,A,民政,个人,,身份证;户口簿,0,即办件\n"
    "JX901,新办事项乙,A,民政,法人,,营业执照,10,承诺件\n"
)


def changes_in(app) -> int:
    runtime: Runtime = app.extensions["onewindow"]
    with runtime.factory() as s:
        return s.scalar(select(func.count()).select_from(AdminChange))


def test_queue_item_window_in_a_street_hall_then_a_ticket_is_called(as_user):
    root = as_user("root")
    r = root.post("/admin/halls/jinxiu/queues", {"prefix": "Z", "name": "新测试队列"})
    assert r.status_code == 201, r.get_json()
    r = root.post(
        "/admin/halls/jinxiu/services",
        {
            "code": "ZT001",
            "name": "新测试事项",
            "queue": "Z",
            "materials": "身份证；申请表",
            "kind": "promised",
            "time_limit_days": 5,
        },
    )
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["materials"] == ["身份证", "申请表"]
    r = root.post("/admin/halls/jinxiu/windows", {"number": 9, "name": "9 号窗口", "queues": ["Z"]})
    assert r.status_code == 201, r.get_json()
    codes = [s["code"] for s in as_user().get("/halls/jinxiu/services").get_json()["services"]]
    assert "ZT001" in codes
    r = as_user().post("/halls/jinxiu/tickets", {"service": "ZT001", "print": False})
    assert r.status_code == 201, r.get_json()
    number = r.get_json()["number"]
    assert number.startswith("Z")
    clerk = as_user("street1")
    assert clerk.post("/halls/jinxiu/windows/9/open").status_code == 200
    r = clerk.post("/halls/jinxiu/windows/9/call-next")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["number"] == number


def test_bad_input_names_the_field_in_chinese_first_and_changes_nothing(app, as_user):
    root = as_user("root")
    before = changes_in(app)
    cases = [
        ("post", "/admin/halls/jinxiu/queues", {"prefix": "a1", "name": "x"}, 422, "prefix"),
        ("post", "/admin/halls/jinxiu/queues", {"prefix": "A", "name": "重复"}, 409, "prefix"),
        ("post", "/admin/halls/jinxiu/services", {"code": "X1", "name": "", "queue": "A"}, 422, "name"),
        ("post", "/admin/halls/jinxiu/services", {"code": "X1", "name": "x", "queue": "Q"}, 422, "queue"),
        (
            "post",
            "/admin/halls/jinxiu/services",
            {"code": "X1", "name": "x", "queue": "A", "kind": "slow"},
            422,
            "kind",
        ),
        ("post", "/admin/halls/jinxiu/windows", {"number": 0, "name": "x", "queues": ["A"]}, 422, "number"),
        ("post", "/admin/halls/jinxiu/windows", {"number": 50, "name": "x", "queues": ["Q"]}, 422, "queues"),
        ("patch", "/admin/halls/jinxiu", {"timezone": "Mars/Olympus"}, 422, "timezone"),
        ("patch", "/admin/halls/jinxiu", {"opening_hours": ["12:00-09:00"]}, 422, "opening_hours"),
        ("patch", "/admin/halls/jinxiu", {"voice_zh": "请 {name} 号"}, 422, "voice_zh"),
        ("patch", "/admin/halls/jinxiu", {"rating_days": 0}, 422, "rating_days"),
        (
            "post",
            "/admin/users",
            {"username": "new1", "password": "short", "role": "clerk", "hall": "jinxiu"},
            422,
            "password",
        ),
    ]
    for method, path, body, status, field in cases:
        r = getattr(root, method)(path, body)
        assert r.status_code == status, (path, body, r.get_json())
        error = r.get_json()["error"]
        assert error["field"] == field, error
        assert "\u4e00" <= error["message_zh"][0] <= "\u9fff", error  # Chinese in message_zh
        assert error["message"].isascii(), error  # English in message
    assert changes_in(app) == before


def test_category_hint_is_english_in_message_and_english_names_are_accepted(as_user):
    root = as_user("root")
    r = root.post("/admin/halls/jinxiu/services", {"code": "X2", "name": "x", "queue": "A", "category": "公司"})
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert error["field"] == "category"
    assert error["message"] == "category: must be enterprise or individual"
    assert error["message_zh"] == "类别：只能是 法人 或 个人"
    r = root.post("/admin/halls/jinxiu/services", {"code": "X3", "name": "x", "queue": "A", "category": "Enterprise"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["category"] == "法人"


def test_hall_settings_are_saved_logged_and_used(as_user):
    boss = as_user("boss")
    r = boss.patch(
        "/admin/halls/erdao",
        {
            "name": "二道区政务服务中心（新）",
            "opening_hours": ["09:00-12:00", "13:30-17:00"],
            "notices": ["请保管好小票"],
            "voice_zh": "请{number}号到{window}号窗口",
            "rating_days": 3,
        },
    )
    assert r.status_code == 200, r.get_json()
    data = r.get_json()
    assert data["opening_hours"] == ["09:00-12:00", "13:30-17:00"] and data["rating_days"] == 3
    assert as_user().get("/halls").get_json()["halls"][0]["name"] == "二道区政务服务中心（新）"
    log = boss.get("/admin/changes?hall=erdao").get_json()["changes"]
    assert log[0]["entity"] == "hall" and log[0]["user"] == "boss"
    assert log[0]["changes"]["rating_days"] == [7, 3]
    assert log[0]["changes"]["name"][1] == "二道区政务服务中心（新）"


def test_opening_hours_bound_walk_in_tickets_but_not_staff(as_user, fake_clock):
    """The clock stands at 09:00 in the hall; the hall opens at 13:30."""
    boss, anonymous, clerk = as_user("boss"), as_user(), as_user("clerk1")
    assert anonymous.post("/halls/erdao/tickets", {"service": "QY001"}).status_code == 201  # no hours: open
    assert boss.patch("/admin/halls/erdao", {"opening_hours": ["13:30-17:00"]}).status_code == 200

    closed = anonymous.post("/halls/erdao/tickets", {"service": "QY001"})
    assert closed.status_code == 409
    error = closed.get_json()["error"]
    assert error["code"] == "hall_closed" and "13:30-17:00" in error["message_zh"]
    assert error["opening_hours"] == "13:30-17:00"
    counter = clerk.post("/halls/erdao/tickets", {"service": "QY001", "channel": "counter"})
    assert counter.status_code == 201, counter.get_json()  # staff at a counter still serve

    fake_clock.advance(hours=4, minutes=30)  # 13:30 in the hall
    assert anonymous.post("/halls/erdao/tickets", {"service": "QY001"}).status_code == 201
    fake_clock.advance(hours=3, minutes=30)  # 17:00: closed again
    assert anonymous.post("/halls/erdao/tickets", {"service": "QY001"}).get_json()["error"]["code"] == "hall_closed"


def test_supervisor_of_one_hall_cannot_see_or_change_another(app, as_user):
    boss = as_user("boss")
    assert [h["code"] for h in boss.get("/admin/halls").get_json()["halls"]] == ["erdao"]
    before = changes_in(app)
    for method, path, body in [
        ("get", "/admin/halls/jinxiu", None),
        ("patch", "/admin/halls/jinxiu", {"name": "x"}),
        ("get", "/admin/halls/jinxiu/services", None),
        ("post", "/admin/halls/jinxiu/queues", {"prefix": "Q", "name": "x"}),
        ("post", "/admin/halls/jinxiu/windows", {"number": 5, "name": "x", "queues": ["A"]}),
        ("patch", "/admin/halls/jinxiu/windows/1", {"name": "x"}),
        ("delete", "/admin/halls/jinxiu/services/JX001", None),
        ("get", "/admin/users?hall=jinxiu", None),
        ("patch", "/admin/users/street1", {"active": False}),
        ("post", "/admin/users", {"username": "spy", "password": "long-enough-1", "role": "clerk", "hall": "jinxiu"}),
        ("post", "/admin/users", {"username": "spy", "password": "long-enough-1", "role": "admin"}),
        ("get", "/admin/changes?hall=jinxiu", None),
        ("post", "/admin/halls", {"code": "new", "name": "x"}),
    ]:
        r = boss.get(path) if method == "get" else getattr(boss, method)(path, body)
        assert r.status_code == 403, (method, path, r.get_json())
    assert changes_in(app) == before
    users = [u["username"] for u in boss.get("/admin/users").get_json()["users"]]
    assert "boss" in users and "street1" not in users and "root" not in users
    assert as_user("clerk1").get("/admin/halls/erdao").status_code == 403
    assert as_user().get("/admin/halls").status_code == 401


def test_delete_is_refused_when_tickets_refer_and_disable_works(as_user):
    root = as_user("root")
    code = as_user().get("/halls/jinxiu/services").get_json()["services"][0]["code"]
    assert as_user().post("/halls/jinxiu/tickets", {"service": code, "print": False}).status_code == 201
    r = root.delete(f"/admin/halls/jinxiu/services/{code}")
    assert r.status_code == 409 and "停用" in r.get_json()["error"]["message_zh"]
    assert root.patch(f"/admin/halls/jinxiu/services/{code}", {"active": False}).get_json()["active"] is False
    assert code not in [s["code"] for s in as_user().get("/halls/jinxiu/services").get_json()["services"]]
    assert as_user().post("/halls/jinxiu/tickets", {"service": code, "print": False}).status_code == 404

    clerk = as_user("street1")
    assert clerk.post("/halls/jinxiu/windows/1/open").status_code == 200
    assert clerk.post("/halls/jinxiu/windows/1/call-next").status_code == 200
    r = root.patch("/admin/halls/jinxiu/windows/1", {"state": "closed"})
    assert r.status_code == 409 and r.get_json()["error"]["field"] == "state"
    assert clerk.post("/halls/jinxiu/windows/1/no-show").status_code == 200
    assert root.delete("/admin/halls/jinxiu/windows/1").status_code == 409
    r = root.patch("/admin/halls/jinxiu/windows/1", {"active": False})
    assert r.status_code == 200 and r.get_json() == {**r.get_json(), "active": False, "state": "closed"}
    # a window and an item nobody used can go
    assert root.post("/admin/halls/jinxiu/windows", {"number": 77, "name": "x", "queues": "all"}).status_code == 201
    assert root.delete("/admin/halls/jinxiu/windows/77").status_code == 200
    r = root.delete("/admin/halls/jinxiu/queues/A")
    assert r.status_code == 409 and r.get_json()["error"]["field"] == "prefix"


def test_csv_preview_then_all_or_nothing_import(app, as_user):
    root = as_user("root")
    r = root.get("/admin/halls/jinxiu/services/export")
    exported = r.get_data(as_text=True)
    assert r.status_code == 200 and exported.startswith("\ufeffcode,name,queue")
    first = exported.splitlines()[1]
    changed_line = first.replace(first.split(",")[1], "改过的名称", 1)
    bad = GOOD_CSV + "JX902,,A,民政,个人,,,0,即办件\n" + changed_line + "\n"
    before = changes_in(app)
    preview = root.post("/admin/halls/jinxiu/services/import", {"csv": bad}).get_json()
    assert [e["line"] for e in preview["errors"]] == [4]
    assert preview["errors"][0]["field"] == "name"
    assert [n["code"] for n in preview["new"]] == ["JX900", "JX901"]
    assert preview["changed"][0]["changes"]["name"][1] == "改过的名称"
    r = root.post("/admin/halls/jinxiu/services/import", {"csv": bad, "apply": True})
    assert r.status_code == 422 and r.get_json()["error"]["line"] == 4
    assert changes_in(app) == before
    with app.extensions["onewindow"].factory() as s:
        assert s.scalar(select(func.count()).where(ServiceItem.code.in_(["JX900", "JX901"]))) == 0
    good = GOOD_CSV + changed_line + "\n"
    r = root.post("/admin/halls/jinxiu/services/import", {"csv": good, "apply": True})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["created"] == 2 and r.get_json()["updated"] == 1
    assert changes_in(app) == before + 3
    again = root.post("/admin/halls/jinxiu/services/import", {"csv": good}).get_json()
    assert again["new"] == [] and again["changed"] == [] and again["unchanged"] == 3


def test_large_catalog_import_and_search(as_user):
    root = as_user("root")
    rows = [
        f"G{n:04d},测试事项{n}号,B,第{n % 7}科,个人,《中华人民共和国行政许可法》第二十九条,身份证;申请表;委托书,{n % 20},承诺件"
        for n in range(600)
    ]
    text = "code,name,queue,department,category,basis,materials,time_limit_days,kind\n" + "\n".join(rows) + "\n"
    assert len(text.encode()) > 64 * 1024
    r = root.post("/admin/halls/erdao/services/import", {"csv": text, "apply": True})
    assert r.status_code == 200, r.get_json()
    page = root.get("/admin/halls/erdao/services?q=测试事项59&limit=20").get_json()
    assert page["total"] == 11 and len(page["services"]) == 11
    assert root.get("/admin/halls/erdao/services?q=qykb").get_json()["total"] >= 1  # pinyin initials


def test_users_create_reset_disable_and_rights(as_user):
    root = as_user("root")
    r = root.post(
        "/admin/users",
        {"username": "jx2", "password": "first-pass-1", "role": "clerk", "hall": "jinxiu", "display_name": "李四"},
    )
    assert r.status_code == 201, r.get_json()
    login = as_user().post("/auth/login", {"username": "jx2", "password": "first-pass-1"})
    assert login.status_code == 200
    token = {"Authorization": f"Bearer {login.get_json()['token']}"}
    assert root.post("/admin/users/jx2/password", {"password": "second-pass-2"}).status_code == 200
    assert as_user().http.get("/api/v1/auth/me", headers=token).status_code == 401  # old sessions end
    assert as_user().post("/auth/login", {"username": "jx2", "password": "second-pass-2"}).status_code == 200
    r = root.patch("/admin/users/jx2", {"role": "supervisor", "hall": "jinxiu"})
    assert r.get_json()["role"] == "supervisor"
    assert root.patch("/admin/users/jx2", {"active": False}).get_json()["active"] is False
    assert as_user().post("/auth/login", {"username": "jx2", "password": "second-pass-2"}).status_code == 401
    assert root.patch("/admin/users/root", {"active": False}).status_code == 403
    actions = [c["action"] for c in root.get("/admin/changes?entity=user").get_json()["changes"]]
    assert actions == ["disable", "update", "password", "create"]


def test_central_view_lists_every_hall_for_admins_only_own_for_supervisors(as_user):
    assert as_user().post("/halls/erdao/tickets", {"service": "QY001", "print": False}).status_code == 201
    data = as_user("root").get("/admin/central").get_json()
    rows = {r["hall"]: r for r in data["halls"]}
    assert set(rows) == {"erdao", "jinxiu"}
    assert rows["erdao"]["live"]["waiting"] == 1 and rows["erdao"]["stats"]["issued"] == 1
    assert data["total"]["waiting"] == 1
    assert [r["hall"] for r in as_user("boss").get("/admin/central").get_json()["halls"]] == ["erdao"]


def test_admin_routes_are_in_the_openapi_document(as_user):
    paths = as_user().get("/openapi.json").get_json()["paths"]
    assert "/api/v1/admin/halls/{hall}/services/import" in paths
    assert "patch" in paths["/api/v1/admin/halls/{hall}/windows/{number}"]


def test_a_disabled_window_cannot_be_opened_until_enabled(as_user):
    root, clerk = as_user("root"), as_user("street1")
    assert root.patch("/admin/halls/jinxiu/windows/2", {"active": False}).status_code == 200
    r = clerk.post("/halls/jinxiu/windows/2/open")
    assert r.status_code == 409 and "停用" in r.get_json()["error"]["message_zh"]
    assert root.patch("/admin/halls/jinxiu/windows/2", {"active": True}).status_code == 200
    assert clerk.post("/halls/jinxiu/windows/2/open").status_code == 200


def test_devices_registered_per_hall_show_online_last_seen_and_printers(as_user):
    root = as_user("root")
    r = root.post("/admin/halls/jinxiu/devices", {"name": "jx-kiosk-1", "kind": "kiosk", "printer": "kiosk-jinxiu-1"})
    assert r.status_code == 201, r.get_json()
    token = r.get_json()["token"]
    listed = root.get("/admin/halls/jinxiu/devices").get_json()
    assert listed["devices"][0]["online"] is False and listed["devices"][0]["last_seen_at"] is None
    assert [p["name"] for p in listed["printers"]] == ["kiosk-jinxiu-1"]
    assert as_user().http.get("/api/v1/device", headers={"Authorization": f"Device {token}"}).status_code == 200
    device = root.get("/admin/halls/jinxiu/devices").get_json()["devices"][0]
    assert device["online"] is True and device["last_seen_at"]
    r = root.post("/admin/halls/jinxiu/devices", {"name": "jx-screen", "kind": "window", "window": 42})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "window"
    assert as_user("boss").post("/admin/halls/jinxiu/devices", {"name": "x", "kind": "board"}).status_code == 403
    assert root.delete("/admin/halls/jinxiu/devices/jx-kiosk-1").get_json()["active"] is False
    assert as_user().http.get("/api/v1/device", headers={"Authorization": f"Device {token}"}).status_code == 401
    actions = [c["action"] for c in root.get("/admin/changes?entity=device").get_json()["changes"]]
    assert actions == ["revoke", "create"]


def test_a_kiosk_registered_in_admin_to_print_through_its_agent(as_user):
    root = as_user("root")
    r = root.post("/admin/halls/jinxiu/devices", {"name": "jx-cabinet", "kind": "kiosk", "agent": True})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["agent"] is True and r.get_json()["printer_status"]["state"] == "unknown"
    listed = root.get("/admin/halls/jinxiu/devices").get_json()
    assert {"name": "jx-cabinet", "agent": True, "device": "jx-cabinet"}.items() <= listed["printers"][-1].items()
    both = root.post(
        "/admin/halls/jinxiu/devices", {"name": "x1", "kind": "kiosk", "agent": True, "printer": "kiosk-jinxiu-1"}
    )
    assert both.status_code == 422 and both.get_json()["error"]["field"] == "printer"
    board = root.post("/admin/halls/jinxiu/devices", {"name": "x2", "kind": "board", "agent": True})
    assert board.status_code == 422 and board.get_json()["error"]["field"] == "agent"
    assert board.get_json()["error"]["message_zh"]
