"""How halls read numbers, and the announcement texts built from a hall's templates."""

from __future__ import annotations

import pytest

from display.voice import VOICES, VoiceCache, announcement_texts, read_number, read_window


@pytest.mark.parametrize(
    ("number", "zh", "en"),
    [
        ("A001", "A 零零一", "A, zero zero one"),
        ("B1000", "B 一零零零", "B, one zero zero zero"),
        ("C010", "C 零一零", "C, zero one zero"),
        ("Z999", "Z 九九九", "Z, nine nine nine"),
        ("AB012", "A B 零一二", "A B, zero one two"),
        ("a007", "A 零零七", "A, zero zero seven"),
        ("042", "零四二", "zero four two"),
    ],
)
def test_read_number(number: str, zh: str, en: str) -> None:
    assert read_number(number) == zh
    assert read_number(number, "en") == en


@pytest.mark.parametrize(
    ("window", "zh"),
    [
        (1, "一"),
        (3, "三"),
        (10, "十"),
        (12, "十二"),
        (19, "十九"),
        (20, "二十"),
        (21, "二十一"),
        (99, "九十九"),
        (100, "一百"),
        (101, "一百零一"),
        (110, "一百一十"),
        (115, "一百一十五"),
        (999, "九百九十九"),
        (1001, "一千零一"),
        (1010, "一千零一十"),
        ("7", "七"),
        ("VIP", "VIP"),
    ],
)
def test_read_window(window: int | str, zh: str) -> None:
    assert read_window(window) == zh


def test_read_window_english_keeps_digits() -> None:
    assert read_window(12, "en") == "12"
    assert read_window(3, "en") == "3"


def test_announcement_texts_from_default_templates(hall_voice) -> None:
    assert announcement_texts(hall_voice, "A001", 3) == [
        ("zh-CN", "请 A 零零一 号 到 三 号窗口 办理"),
        ("en", "Number A, zero zero one, please go to window 3"),
    ]


def test_announcement_texts_use_hall_templates_and_languages(hall_voice) -> None:
    hall_voice.languages = ["en"]
    hall_voice.templates = {"en": "Ticket {number} to counter {window}"}
    assert announcement_texts(hall_voice, "B012", 12) == [("en", "Ticket B, zero one two to counter 12")]


def test_announcement_texts_with_the_real_config_model() -> None:
    config = pytest.importorskip("queue_server.hall_settings")
    cfg = config.VoiceConfig(languages=["zh-CN", "en"])
    texts = dict(announcement_texts(cfg, "A001", 12))
    assert texts["zh-CN"] == "请 A 零零一 号，到 十二 号窗口办理"
    assert texts["en"] == "Number A, zero zero one, please go to window 12"


def test_cache_key_is_deterministic_and_sensitive(tmp_path) -> None:
    cache = VoiceCache(tmp_path)
    texts = [("zh-CN", "请 A 零零一 号 到 三 号窗口 办理")]
    key = cache.key(texts, VOICES, 160, 1.0, 1)
    assert key == VoiceCache(tmp_path / "other").key(texts, VOICES, 160, 1.0, 1)
    others = {
        cache.key(texts, VOICES, 170, 1.0, 1),
        cache.key(texts, VOICES, 160, 0.5, 1),
        cache.key(texts, VOICES, 160, 1.0, 2),
        cache.key(texts, {"zh-CN": "cmn"}, 160, 1.0, 1),
        cache.key([("zh-CN", "请 A 零零二 号 到 三 号窗口 办理")], VOICES, 160, 1.0, 1),
    }
    assert key not in others and len(others) == 5
    assert cache.path(key) == tmp_path / f"{key}.wav"


@pytest.mark.parametrize("bad", ["../etc/passwd", "abc", "0" * 31 + "/", "G" * 32])
def test_cache_path_rejects_non_keys(tmp_path, bad: str) -> None:
    with pytest.raises(ValueError):
        VoiceCache(tmp_path).path(bad)
