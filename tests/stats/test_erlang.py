"""Erlang C against textbook values, and the advice it gives."""

from __future__ import annotations

import math

import pytest

from queue_server.core import erlang


def test_erlang_c_textbook_values():
    assert erlang.erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert erlang.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert erlang.erlang_c(10, 8.0) == pytest.approx(0.4092, abs=1e-4)
    assert erlang.erlang_c(3, 3.0) == 1.0 and erlang.erlang_c(3, 0) == 0.0


def test_mean_wait_and_service_level():
    # M/M/1 with rho 0.5 and 1 s service: Wq = rho / (mu - lambda) = 1 s
    assert erlang.mean_wait(1, 0.5, 1.0) == pytest.approx(1.0)
    assert math.isinf(erlang.mean_wait(2, 1.0, 2.0))
    assert erlang.share_within(1, 0.5, 1.0, 0) == pytest.approx(0.5)
    assert erlang.share_within(10, 8 / 480, 480, 300) > erlang.share_within(9, 8 / 480, 480, 300)


def test_windows_needed_grows_with_arrivals_and_strictness():
    light = erlang.windows_needed(20 / 3600, 480, 300)
    heavy = erlang.windows_needed(60 / 3600, 480, 300)
    assert 3 <= light < heavy and heavy >= 9  # 60 an hour at 8 min is 8 Erlangs
    assert erlang.windows_needed(60 / 3600, 480, 300, share=0.95) > heavy
    assert erlang.windows_needed(0, 480, 300) == 1


def test_advice_is_quiet_when_enough_windows_are_open():
    advice = erlang.advise(20, 480, 6, 2, 300)
    assert not advice.behind and advice.windows_needed <= 6
    behind = erlang.advise(60, 480, 6, 0, 300)
    assert behind.behind and "增开" in behind.message_zh
    assert behind.expected_wait_s is None, "8 Erlangs on 6 windows: the line grows without end"
    assert erlang.advise(60, 480, 10, 0, 300).expected_wait_s > 0
    backlog = erlang.advise(20, 480, 6, 30, 300)
    assert backlog.behind and backlog.backlog_wait_s == 2400, "30 waiting at 6 windows: 40 min to the last"
    closed = erlang.advise(10, 480, 0, 3, 300).as_dict()
    assert closed["behind"] and closed["backlog_wait_s"] is None and closed["expected_wait_s"] is None
