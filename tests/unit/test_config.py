"""Configuration: every mistake fails at start-up naming the file, the field and what to change."""

from __future__ import annotations

import copy

import pytest
import yaml

from queue_server.config import load_settings, settings_from_mapping
from queue_server.exceptions import ConfigError
from tests.support import demo_config, write_config


@pytest.fixture
def raw(tmp_path):
    return demo_config(f"sqlite:///{tmp_path}/ow.sqlite3", tmp_path / "data")


def problem(raw: dict, source: str = "halls.yaml") -> str:
    with pytest.raises(ConfigError) as caught:
        settings_from_mapping(raw, source)
    return caught.value.message


def assert_names(message: str, source: str, path: str, *hints: str) -> None:
    """One line names the file and the field path, and says what to change."""
    lines = [line for line in message.splitlines() if f"{source}: {path}:" in line]
    assert lines, f"no line for {path!r} in:\n{message}"
    for hint in hints:
        assert hint in lines[0], f"{hint!r} missing from {lines[0]!r}"


def test_the_demo_config_is_valid(raw):
    settings = settings_from_mapping(raw, "demo.yaml")
    assert [h.code for h in settings.halls] == ["erdao", "jinxiu"]
    assert settings.source == "demo.yaml"
    assert len(settings.hall("erdao").services) == 46


def test_unknown_key(raw):
    raw["halls"][0]["windows"][3]["qeues"] = ["A"]
    assert_names(problem(raw), "halls.yaml", "halls[0].windows[3].qeues", "unknown key", "remove it")


def test_unknown_top_level_key(raw):
    raw["hals"] = []
    assert_names(problem(raw), "halls.yaml", "hals", "unknown key")


def test_missing_field(raw):
    del raw["halls"][0]["queues"][2]["name"]
    assert_names(problem(raw), "halls.yaml", "halls[0].queues[2].name", "missing", "add it")


def test_missing_halls(raw):
    del raw["halls"]
    assert_names(problem(raw), "halls.yaml", "halls", "missing")


def test_duplicate_queue_prefix(raw):
    raw["halls"][0]["queues"][1]["prefix"] = "A"
    assert_names(
        problem(raw),
        "halls.yaml",
        "halls[0].queues[1].prefix",
        "duplicate queue prefix 'A'",
        "give each queue its own prefix",
    )


def test_duplicate_window_number(raw):
    raw["halls"][1]["windows"][2]["number"] = 1
    assert_names(
        problem(raw), "halls.yaml", "halls[1].windows[2].number", "duplicate window number 1", "number windows uniquely"
    )


def test_window_serving_an_unknown_queue(raw):
    raw["halls"][0]["windows"][11]["queues"] = ["E", "Z"]
    assert_names(
        problem(raw), "halls.yaml", "halls[0].windows[11].queues", "unknown queue 'Z'", "A, B, C, D, E, F or 'all'"
    )


def test_service_in_an_unknown_queue(raw):
    raw["halls"][1]["services"][3]["queue"] = "C"
    assert_names(problem(raw), "halls.yaml", "halls[1].services[3].queue", "unknown queue 'C'", "use one of A, B")


def test_duplicate_service_code(raw):
    raw["halls"][0]["services"][5]["code"] = "QY001"
    assert_names(problem(raw), "halls.yaml", "halls[0].services[5].code", "duplicate service code 'QY001'")


def test_duplicate_hall_code(raw):
    raw["halls"][1]["code"] = "erdao"
    assert_names(problem(raw), "halls.yaml", "halls[1].code", "duplicate hall code 'erdao'")


def test_printer_in_an_unknown_hall(raw):
    raw["printers"][1]["hall"] = "nowhere"
    assert_names(problem(raw), "halls.yaml", "printers[1].hall", "unknown hall 'nowhere'")


def test_bad_time_zone(raw):
    raw["halls"][1]["timezone"] = "Asia/Beijing"
    assert_names(problem(raw), "halls.yaml", "halls[1].timezone", "'Asia/Beijing'", "Asia/Shanghai")


def test_bad_prefix_pattern(raw):
    raw["halls"][0]["queues"][0]["prefix"] = "a1"
    assert_names(problem(raw), "halls.yaml", "halls[0].queues[0].prefix")


def test_every_problem_is_reported_at_once(raw):
    raw["halls"][0]["timezone"] = "Mars/Olympus"
    raw["server"]["port"] = 0
    message = problem(raw)
    assert "halls[0].timezone" in message
    assert "server.port" in message


def write(tmp_path, raw, name="config.yaml"):
    return write_config(tmp_path / name, raw)


def test_load_settings_from_a_file(tmp_path, raw):
    path = write(tmp_path, raw)
    settings = load_settings(path, env={})
    assert settings.source == str(path)
    assert settings.server.database_url == raw["server"]["database_url"]


def test_load_settings_names_the_file_and_the_field(tmp_path, raw):
    raw["halls"][0]["windows"][11]["queues"] = ["Q"]
    path = write(tmp_path, raw, "hall-erdao.yaml")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    assert_names(caught.value.message, str(path), "halls[0].windows[11].queues", "'Q'", "'all'")


def test_load_settings_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError, match="nope.yaml: file not found; pass --config"):
        load_settings(path, env={})


def test_load_settings_bad_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("halls: [\n  - code: x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.yaml: not valid YAML"):
        load_settings(path, env={})


def test_load_settings_top_level_must_be_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="list.yaml: .*mapping"):
        load_settings(path, env={})


def test_config_path_from_environment(tmp_path, raw):
    path = write(tmp_path, raw, "from-env.yaml")
    settings = load_settings(None, env={"QUEUE_SERVER_CONFIG": str(path)})
    assert settings.source == str(path)


def test_environment_overrides(tmp_path, raw):
    path = write(tmp_path, raw)
    env = {
        "QUEUE_SERVER_DATABASE_URL": "postgresql+psycopg2://ow@db/ow",
        "QUEUE_SERVER_REDIS_URL": "redis://cache:6379/1",
        "QUEUE_SERVER_SECRET_KEY": "s3cret-from-env",
    }
    settings = load_settings(path, env=env)
    assert settings.server.database_url == "postgresql+psycopg2://ow@db/ow"
    assert settings.server.redis_url == "redis://cache:6379/1"
    assert settings.server.secret_key == "s3cret-from-env"
    # The file itself is untouched by the override.
    assert "secret_key" not in yaml.safe_load(path.read_text(encoding="utf-8"))["server"]


def test_empty_environment_values_do_not_override(raw):
    settings = settings_from_mapping(raw, "x.yaml", env={"QUEUE_SERVER_DATABASE_URL": ""})
    assert settings.server.database_url == raw["server"]["database_url"]


def test_environment_applies_when_the_file_has_no_server_section(raw):
    raw = copy.deepcopy(raw)
    del raw["server"]
    settings = settings_from_mapping(raw, "x.yaml", env={"QUEUE_SERVER_SECRET_KEY": "k" * 32})
    assert settings.server.secret_key == "k" * 32


def test_settings_from_mapping_does_not_mutate_its_input(raw):
    before = copy.deepcopy(raw)
    settings_from_mapping(raw, "x.yaml", env={"QUEUE_SERVER_REDIS_URL": "redis://r:6379/0"})
    assert raw == before


def test_os_environ_is_used_by_default(tmp_path, raw, monkeypatch):
    path = write(tmp_path, raw)
    monkeypatch.setenv("QUEUE_SERVER_REDIS_URL", "redis://from-os:6379/2")
    assert load_settings(path).server.redis_url == "redis://from-os:6379/2"


def test_network_printer_without_host(raw):
    raw["printers"][0] = {"name": "kiosk-erdao-1", "hall": "erdao", "type": "network"}
    assert_names(problem(raw), "halls.yaml", "printers[0].host", "needs 'host'")


def test_a_test_clock_is_refused_without_testing(raw):
    raw["server"]["clock_start"] = "2026-03-02T23:45:00+08:00"  # a test's config copied into a hall
    assert_names(problem(raw), "halls.yaml", "server.clock_start", "refused in a hall", "server.testing: true")
    raw["server"].update(testing=True, clock_start="2026-03-02T23:45:00")
    assert_names(problem(raw), "halls.yaml", "server.clock_start", "timezone")  # no offset: which 23:45?
    raw["server"]["clock_start"] = "2026-03-02T23:45:00+08:00"
    assert settings_from_mapping(raw).server.clock_start.utcoffset().total_seconds() == 8 * 3600
