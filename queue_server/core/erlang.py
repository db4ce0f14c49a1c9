"""Erlang C (M/M/c): how many windows hold a target wait for the current arrivals and service times."""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_WINDOWS = 200


def erlang_c(windows: int, load: float) -> float:
    """Probability that an arriving citizen has to wait, with `load` = arrival rate × service time (Erlangs)."""
    if load <= 0:
        return 0.0
    if windows <= load:
        return 1.0
    # Erlang B by its stable recurrence, then C from B.
    b = 1.0
    for k in range(1, windows + 1):
        b = load * b / (k + load * b)
    rho = load / windows
    return b / (1 - rho + rho * b)


def mean_wait(windows: int, arrivals_per_s: float, service_s: float) -> float:
    """Mean wait in line (seconds); infinite when the windows cannot keep up."""
    load = arrivals_per_s * service_s
    if load <= 0:
        return 0.0
    if windows <= load:
        return math.inf
    return erlang_c(windows, load) * service_s / (windows - load)


def share_within(windows: int, arrivals_per_s: float, service_s: float, target_s: float) -> float:
    """Share of citizens called within `target_s` (the service level)."""
    load = arrivals_per_s * service_s
    if load <= 0:
        return 1.0
    if windows <= load:
        return 0.0
    return 1 - erlang_c(windows, load) * math.exp(-(windows - load) * target_s / service_s)


def windows_needed(arrivals_per_s: float, service_s: float, target_s: float, share: float = 0.8) -> int:
    """Fewest windows so that `share` of citizens wait at most `target_s` (at least one)."""
    for windows in range(1, MAX_WINDOWS + 1):
        if share_within(windows, arrivals_per_s, service_s, target_s) >= share:
            return windows
    return MAX_WINDOWS


@dataclass(frozen=True)
class Advice:
    """What the supervisor is told: windows needed against windows open, and whether the hall is behind."""

    arrivals_per_hour: float
    service_s: float
    target_s: float
    share: float
    windows_open: int
    windows_needed: int
    expected_share: float
    expected_wait_s: float | None
    backlog_wait_s: float | None
    behind: bool
    message_zh: str
    message_en: str

    def as_dict(self) -> dict:
        return {k: round(v, 3) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def advise(
    arrivals_per_hour: float, service_s: float, windows_open: int, waiting: int, target_s: float, share: float = 0.8
) -> Advice:
    """Windows to open for the target, from the steady state (Erlang C) and the line already waiting."""
    rate = arrivals_per_hour / 3600
    needed = windows_needed(rate, service_s, target_s, share)
    expected = share_within(windows_open, rate, service_s, target_s) if windows_open else 0.0
    wait = mean_wait(windows_open, rate, service_s) if windows_open else math.inf
    # The steady state ignores the line already there: the last in line waits about this long.
    backlog = waiting * service_s / windows_open if windows_open else (math.inf if waiting else 0.0)
    behind = windows_open < needed or backlog > target_s
    target_min = round(target_s / 60)
    if windows_open < needed:
        zh = f"按当前到达（每小时 {arrivals_per_hour:.0f} 人）和办理时长，需开 {needed} 个窗口才能让 {share:.0%} 的群众等候不超过 {target_min} 分钟；现开 {windows_open} 个，建议增开 {needed - windows_open} 个。"
        en = (
            f"At {arrivals_per_hour:.0f} arrivals an hour, {needed} windows keep {share:.0%} of waits under "
            f"{target_min} min; {windows_open} are open: open {needed - windows_open} more."
        )
    elif backlog > target_s:
        zh = f"现有 {waiting} 人等候，按 {windows_open} 个窗口约需 {backlog / 60:.0f} 分钟才能叫到最后一位，超过目标 {target_min} 分钟，建议临时增开窗口。"
        en = (
            f"{waiting} waiting: about {backlog / 60:.0f} min to reach the last one with {windows_open} windows, "
            f"over the {target_min} min target; open a window for a while."
        )
    else:
        zh = f"开 {windows_open} 个窗口足够（需要 {needed} 个）。"
        en = f"{windows_open} open windows are enough ({needed} needed)."
    return Advice(
        arrivals_per_hour,
        service_s,
        target_s,
        share,
        windows_open,
        needed,
        expected,
        None if math.isinf(wait) else wait,
        None if math.isinf(backlog) else backlog,
        behind,
        zh,
        en,
    )
