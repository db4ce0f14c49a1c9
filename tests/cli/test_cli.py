"""The `queue-server` command line: init-db, import-services, user add, and its errors."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import time

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from queue_server.admin.catalog import import_services
from queue_server.db import make_engine, session_factory, transaction, upgrade
from queue_server.exceptions import ImportFailed
from queue_server.halls import seed
from queue_server.models import Hall, ServiceItem, StaffUser
from queue_server.staff.auth import authenticate
from tests.data.make_catalog import COLUMNS, TOTAL, rows, write
from tests.support import CATALOG, ROOT, demo_config, write_config

CONFIG_ITEMS = 46  # service items config.yaml seeds for erdao, with codes the catalog does not use


def services(cli, hall: str = "erdao") -> dict[str, ServiceItem]:
    engine = cli.engine()
    with Session(engine) as session:
        items = session.scalars(
            select(ServiceItem)
            .join(Hall, Hall.id == ServiceItem.hall_id)
            .where(Hall.code == hall)
            .options(selectinload(ServiceItem.queue))
        )
        out = {s.code: s for s in items}
    engine.dispose()
    return out


def ok(result) -> str:
    assert result.returncode == 0, f"exit {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}"
    return result.stdout


def test_catalog_file_matches_its_generator():
    with open(CATALOG, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == COLUMNS
        assert list(reader) == rows()
    assert TOTAL == 573


def test_catalog_is_a_realistic_mix():
    data = rows()
    assert len({r["code"] for r in data}) == 573
    assert {r["queue"] for r in data} == set("ABCDEF")
    assert {r["kind"] for r in data} == {"instant", "promised", "即办件", "承诺件"}
    assert any(";" in r["materials"] for r in data)
    assert any(r["name"].startswith("企业开办（设立登记）-第") for r in data)


def test_init_db_creates_and_seeds_once(cli):
    first = ok(cli("init-db"))
    assert "new halls: erdao, jinxiu" in first
    assert len(services(cli)) == CONFIG_ITEMS
    again = ok(cli("init-db"))
    assert "new halls: none" in again
    assert len(services(cli)) == CONFIG_ITEMS


def test_import_573_then_reimport_updates_in_place(cli):
    ok(cli("init-db"))
    out = ok(cli("import-services", str(CATALOG), "--hall", "erdao"))
    assert "573 created, 0 updated in hall erdao" in out
    took = float(re.search(r"\(([\d.]+) s\)", out).group(1))
    print(f"\nCLI import of 573 items: {took:.2f} s (as reported by the command)")
    assert took < 5  # requirement: under a second; headroom for slow CI

    items = services(cli)
    assert len(items) == TOTAL + CONFIG_ITEMS
    first = items["XQS0001"]
    assert first.name == "企业开办（设立登记）-第1项"
    assert first.materials == ["法定代表人身份证件", "住所使用证明", "营业执照", "公司章程"]
    assert first.kind == "instant"  # 即办件
    assert items["XBD0003"].kind == "promised"  # 承诺件
    assert len(services(cli, "jinxiu")) == 4  # the other hall is untouched

    again = ok(cli("import-services", str(CATALOG), "--hall", "erdao"))
    assert "0 created, 573 updated" in again
    assert len(services(cli)) == TOTAL + CONFIG_ITEMS


def test_reimport_applies_changes(cli, tmp_path):
    ok(cli("init-db"))
    ok(cli("import-services", str(CATALOG), "--hall", "erdao"))
    data = rows()
    data[10]["name"] = "改名后的事项"
    data[10]["queue"] = "F"
    changed = write(tmp_path / "changed.csv", data)
    assert "0 created, 573 updated" in ok(cli("import-services", str(changed), "--hall", "erdao"))
    item = services(cli)[data[10]["code"]]
    assert item.name == "改名后的事项"
    assert item.queue.prefix == "F"


def test_import_time_in_process(tmp_path, settings_for):
    """The requirement: 573 items in under a second (asserted with headroom for CI)."""
    url = f"sqlite:///{tmp_path}/timing.sqlite3"
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        seed(session, settings_for(url))
    started = time.perf_counter()
    with transaction(factory) as session:
        result = import_services(session, "erdao", CATALOG)
    took = time.perf_counter() - started
    print(f"\nimport_services of 573 items: {took:.3f} s")
    assert result == {"created": 573, "updated": 0}
    assert took < 5
    engine.dispose()


BAD_ROWS = [
    ({"queue": "Z"}, "queue", "unknown queue 'Z'"),
    ({"kind": "sometimes"}, "kind", ""),
    ({"category": "公司"}, "category", ""),
    ({"time_limit_days": "-3"}, "time_limit_days", ""),
    ({"name": ""}, "name", ""),
    ({"code": "XQS0001"}, "code", "duplicate code"),
]


@pytest.mark.parametrize(("change", "field", "detail"), BAD_ROWS, ids=[b[1] for b in BAD_ROWS])
def test_one_bad_row_in_the_middle_imports_nothing(cli, tmp_path, change, field, detail):
    ok(cli("init-db"))
    data = rows()
    data[286].update(change)
    bad = write(tmp_path / "catalog-bad.csv", data)
    result = cli("import-services", str(bad), "--hall", "erdao")
    assert result.returncode == 2
    # Header is line 1, so item 287 (index 286) is on line 288.
    assert f"{bad}: line 288: {field}" in result.stderr
    assert detail in result.stderr
    assert "Traceback" not in result.stderr
    assert len(services(cli)) == CONFIG_ITEMS


def test_unknown_column_is_refused(cli, tmp_path):
    ok(cli("init-db"))
    path = tmp_path / "extra.csv"
    path.write_text("code,name,queue,fee\nX1,事项,A,0\n", encoding="utf-8")
    result = cli("import-services", str(path), "--hall", "erdao")
    assert result.returncode == 2
    assert f"{path}: line 1: unknown column(s) fee" in result.stderr


def test_import_into_unknown_hall(cli):
    ok(cli("init-db"))
    result = cli("import-services", str(CATALOG), "--hall", "nowhere")
    assert result.returncode == 2
    assert "nowhere" in result.stderr
    assert len(services(cli)) == CONFIG_ITEMS


def yaml_items(n: int = 12) -> list[dict]:
    items = []
    for r in rows(n):
        item = {k: v for k, v in r.items() if v != ""}
        item["materials"] = r["materials"].split(";")
        item["time_limit_days"] = int(r["time_limit_days"])
        items.append(item)
    return items


def test_yaml_import(cli, tmp_path):
    ok(cli("init-db"))
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump({"services": yaml_items()}, allow_unicode=True), encoding="utf-8")
    assert "12 created, 0 updated" in ok(cli("import-services", str(path), "--hall", "erdao"))
    items = services(cli)
    assert len(items) == CONFIG_ITEMS + 12
    assert items["XQS0001"].materials == yaml_items()[0]["materials"]


@pytest.mark.parametrize("wrapped", [True, False], ids=["services-key", "plain-list"])
def test_yaml_bad_item_names_its_line(cli, tmp_path, wrapped):
    ok(cli("init-db"))
    items = yaml_items()
    items[7]["kind"] = "sometimes"
    text = yaml.safe_dump({"services": items} if wrapped else items, allow_unicode=True, sort_keys=False)
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if f"code: {items[7]['code']}" in row)
    result = cli("import-services", str(path), "--hall", "erdao")
    assert result.returncode == 2
    assert f"{path}: line {line}: kind" in result.stderr
    assert len(services(cli)) == CONFIG_ITEMS


def test_user_add_reads_the_password_from_stdin(cli):
    ok(cli("init-db"))
    out = ok(cli("user", "add", "wangfang", "--role", "clerk", "--hall", "erdao", stdin="s3cret-passw0rd\n"))
    assert "user wangfang added with role clerk in hall erdao" in out
    assert "s3cret" not in out
    engine = cli.engine()
    with Session(engine) as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == "wangfang"))
        assert user.role == "clerk"
        assert user.hall_id == session.scalar(select(Hall.id).where(Hall.code == "erdao"))
        assert user.password_hash.startswith("$argon2id$")
        assert "s3cret-passw0rd" not in user.password_hash
        assert authenticate(session, "wangfang", "s3cret-passw0rd").id == user.id
    engine.dispose()


def test_user_add_refuses_a_short_password_and_a_duplicate(cli):
    ok(cli("init-db"))
    short = cli("user", "add", "li", "--role", "clerk", "--hall", "erdao", stdin="short\n")
    assert short.returncode == 2 and "at least 8 characters" in short.stderr
    ok(cli("user", "add", "li", "--role", "supervisor", "--hall", "erdao", stdin="long-enough-1\n"))
    dup = cli("user", "add", "li", "--role", "clerk", "--hall", "erdao", stdin="long-enough-2\n")
    assert dup.returncode == 2 and "already exists" in dup.stderr
    engine = cli.engine()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(StaffUser)) == 1
    engine.dispose()


def test_user_add_to_unknown_hall(cli):
    ok(cli("init-db"))
    result = cli("user", "add", "zhao", "--role", "clerk", "--hall", "nowhere", stdin="long-enough-1\n")
    assert result.returncode == 2 and "nowhere" in result.stderr


def test_bad_config_exits_2_naming_file_and_field(cli, tmp_path):
    raw = demo_config(cli.database_url, tmp_path / "data")
    raw["halls"][0]["windows"][11]["queues"] = ["Z"]
    bad = write_config(tmp_path / "bad-config.yaml", raw)
    for command in (["init-db"], ["import-services", str(CATALOG), "--hall", "erdao"]):
        result = cli(*command, config=bad)
        assert result.returncode == 2
        assert f"{bad}: halls[0].windows[11].queues: window 12 serves unknown queue 'Z'" in result.stderr
        assert "Traceback" not in result.stderr


def test_missing_config_file(cli, tmp_path):
    result = cli("init-db", config=tmp_path / "absent.yaml")
    assert result.returncode == 2
    assert "absent.yaml: file not found" in result.stderr


def test_unknown_key_in_config(cli, tmp_path):
    raw = demo_config(cli.database_url, tmp_path / "data")
    raw["server"]["databse_url"] = "sqlite:///typo.sqlite3"
    bad = write_config(tmp_path / "typo.yaml", raw)
    result = cli("init-db", config=bad)
    assert result.returncode == 2
    assert f"{bad}: server.databse_url: unknown key" in result.stderr


def test_import_missing_file(cli, tmp_path):
    ok(cli("init-db"))
    result = cli("import-services", str(tmp_path / "nope.csv"), "--hall", "erdao")
    assert result.returncode == 2 and "nope.csv: file not found" in result.stderr


def test_failed_import_raises_with_line(tmp_path, settings_for):
    url = f"sqlite:///{tmp_path}/direct.sqlite3"
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        seed(session, settings_for(url))
    data = rows(20)
    data[4]["queue"] = "Q"
    path = write(tmp_path / "direct.csv", data)
    with pytest.raises(ImportFailed) as caught, transaction(factory) as session:
        import_services(session, "erdao", path)
    assert caught.value.details == {"line": 6}
    engine.dispose()


def test_a_clerk_without_a_hall_is_refused_naming_the_halls(cli):
    ok(cli("init-db"))
    for role in ("clerk", "supervisor"):
        refused = cli("user", "add", f"no-hall-{role}", "--role", role, stdin="long-enough-1\n")
        assert refused.returncode == 2
        assert "--hall" in refused.stderr and "erdao" in refused.stderr and "jinxiu" in refused.stderr
    with Session(cli.engine()) as session:
        assert session.scalar(select(func.count()).select_from(StaffUser)) == 0, "nothing half-created"
    ok(cli("user", "add", "root", "--role", "admin", stdin="long-enough-1\n"))  # admins work everywhere


def test_a_clerk_without_a_hall_takes_the_only_hall(tmp_path, cli):
    raw = demo_config(cli.database_url, tmp_path / "data")
    raw["halls"] = [h for h in raw["halls"] if h["code"] == "jinxiu"]
    raw["printers"] = [p for p in raw["printers"] if p["hall"] == "jinxiu"]
    one = write_config(tmp_path / "one-hall.yaml", raw)
    out = ok(cli("user", "add", "street", "--role", "clerk", stdin="long-enough-1\n", config=one))
    assert "in hall jinxiu" in out


@pytest.mark.parametrize("args", [["init-db"], ["device", "list"], ["close-day"], ["purge", "--dry-run"]])
def test_config_is_accepted_after_any_subcommand(cli, args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUE_SERVER_")}
    done = subprocess.run(
        [sys.executable, "-m", "queue_server", *args, "--config", str(cli.config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp := cli.database_url.removeprefix("sqlite:///")) and os.path.exists(tmp), "it used that config"


def test_gevent_mode_without_gevent_stops_with_one_clear_line(cli):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("QUEUE_SERVER_")},
        "QUEUE_SERVER_ASYNC_MODE": "gevent",
    }
    # gevent is installed for the tests: hide it the way a plain install lacks it
    code = (
        "import sys; sys.modules['gevent'] = None; from queue_server.cli import main; "
        f"sys.exit(main(['--config', {str(cli.config)!r}, 'run']))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install" in lines[0] and "[gevent]" in lines[0], done.stderr
