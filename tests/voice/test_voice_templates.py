"""Call templates: only words, {number} and {window}; the same rule for config.yaml and saved halls."""

from __future__ import annotations

import logging

import pytest
from voice_helpers import HallVoice

from display.voice import DEFAULT_TEMPLATES, announcement_texts
from queue_server.config import settings_from_mapping
from queue_server.core.announcements import LONGEST_TEMPLATE, TemplateError, check_template
from queue_server.exceptions import ConfigError
from queue_server.hall_settings import VoiceConfig
from tests.support import demo_config

CRASHER = "{number}{window:>300000}"
LONGEST = "请 {number} 号" + "办" * (LONGEST_TEMPLATE - len("请 {number} 号"))


@pytest.mark.parametrize(
    "template",
    [
        "请 {number} 号，到 {window} 号窗口办理",
        "Number {number}, please go to window {window}",
        "请{number}号到{window}号窗口",
        "{number}",
        "{window} 号窗口请 {number} 号",
        LONGEST,
    ],
    ids=lambda t: t[:24],
)
def test_words_and_bare_placeholders_are_accepted(template: str) -> None:
    assert check_template(template) == template


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        (CRASHER, "format spec"),
        ("{number:>30}", "format spec"),
        ("{number}{window:}", "format spec"),
        ("{number!r}", "conversion"),
        ("{number!s:^9}", "format spec"),
        ("{number[0]}", "{number[0]} is not allowed"),
        ("{number} {window.real}", "{window.real} is not allowed"),
        ("请 {name} 号", "{name} is not allowed"),
        ("{number} {}", "{} is not allowed"),
        ("{number} {0}", "{0} is not allowed"),
        ("请 {number 号", "stray"),
        ("请 {number} 号}", "stray"),
        ("{{number}}", "stray"),
        ("请到 {window} 号窗口", "must contain {number}"),
        ("", "must contain {number}"),
        (LONGEST + "办", f"at most {LONGEST_TEMPLATE} characters"),
        ("请 {number} 号\n到窗口", "control characters"),
        (None, "must be text"),
    ],
    ids=lambda v: str(v)[:24],
)
def test_anything_else_is_refused_with_a_reason_in_both_languages(template, problem: str) -> None:
    with pytest.raises(TemplateError) as refused:
        check_template(template)
    assert problem in refused.value.message
    assert any("\u4e00" <= c <= "\u9fff" for c in refused.value.zh)


def test_shipped_config_templates_pass(tmp_path) -> None:
    settings = settings_from_mapping(demo_config("sqlite://", tmp_path))
    for hall in settings.halls:
        for template in hall.voice.templates.values():
            assert check_template(template) == template


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_config_yaml_with_a_format_spec_fails_naming_the_field(tmp_path, lang: str) -> None:
    raw = demo_config("sqlite://", tmp_path)
    raw["halls"][1]["voice"]["templates"] = {lang: CRASHER}
    with pytest.raises(ConfigError) as refused:
        settings_from_mapping(raw, source="config.yaml")
    message = str(refused.value)
    assert f"config.yaml: halls[1].voice.templates.{lang}: {{window:>300000}} has a format spec" in message
    assert "e.g. 请 {number} 号，到 {window} 号窗口办理" in message  # what to write instead


def test_a_template_saved_before_the_rule_is_replaced_by_the_default_with_a_warning(caplog) -> None:
    # What the server reads back from a hall row: saved settings are not refused, only not used.
    saved = VoiceConfig.model_validate(
        {"languages": ["zh-CN", "en"], "templates": {"zh-CN": CRASHER, "en": "Number {number!r}"}},
        context={"saved": True},
    )
    with caplog.at_level(logging.WARNING, logger="display.voice"):
        texts = dict(announcement_texts(saved, "A001", 3))
    assert texts == {
        "zh-CN": DEFAULT_TEMPLATES["zh-CN"].format(number="A 零零一", window="三"),
        "en": DEFAULT_TEMPLATES["en"].format(number="A, zero zero one", window="3"),
    }
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("zh-CN template" in w and "format spec" in w and "using the default" in w for w in warnings)
    assert any("en template" in w and "conversion" in w for w in warnings)


def test_a_good_hall_template_is_used_as_written() -> None:
    hall = HallVoice(languages=["zh-CN"], templates={"zh-CN": "请{number}号到{window}号窗口"})
    assert announcement_texts(hall, "B012", 12) == [("zh-CN", "请B 零一二号到十二号窗口")]
