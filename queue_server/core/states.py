"""Ticket statuses and the actions that move a ticket between them."""

from __future__ import annotations

from enum import StrEnum

from queue_server.exceptions import IllegalTransition


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    HELD = "held"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class Action(StrEnum):
    CALL = "call"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    NO_SHOW = "no_show"
    RETURN = "return"  # a no-show ticket back to waiting (once, per hall setting)
    HOLD = "hold"
    RESUME = "resume"  # held -> serving at the same window
    REQUEUE = "requeue"  # held -> waiting (materials arrive while the clerk serves others)
    TRANSFER = "transfer"
    CANCEL = "cancel"


class Priority(StrEnum):
    NORMAL = "normal"
    APPOINTMENT = "appointment"
    GREEN = "green"


class WindowState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


class Channel(StrEnum):
    KIOSK = "kiosk"
    MOBILE = "mobile"
    COUNTER = "counter"
    APPOINTMENT = "appointment"


class JobState(StrEnum):
    """A print job: queued, taken by a printer (the spooler or a kiosk's agent), printed, or given up."""

    QUEUED = "queued"
    PRINTING = "printing"
    PRINTED = "printed"
    FAILED = "failed"


class NotifyState(StrEnum):
    """A message to a citizen in the outbox."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class FollowUpState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


S, A = TicketStatus, Action
ACTIVE = frozenset({S.WAITING, S.CALLED, S.SERVING, S.HELD})
FINAL = frozenset({S.DONE, S.NO_SHOW, S.CANCELLED})

# A transfer keeps the ticket (its id is the holder's credential, its number is on
# paper) and puts it back to waiting for the new service or window; the event
# history records it as a transfer.
TRANSITIONS: dict[tuple[TicketStatus, Action], TicketStatus] = {
    (S.WAITING, A.CALL): S.CALLED,
    (S.WAITING, A.CANCEL): S.CANCELLED,
    (S.WAITING, A.TRANSFER): S.WAITING,
    (S.CALLED, A.RECALL): S.CALLED,
    (S.CALLED, A.START): S.SERVING,
    (S.CALLED, A.NO_SHOW): S.NO_SHOW,
    (S.CALLED, A.TRANSFER): S.WAITING,
    (S.NO_SHOW, A.RETURN): S.WAITING,
    (S.SERVING, A.FINISH): S.DONE,
    (S.SERVING, A.HOLD): S.HELD,
    (S.SERVING, A.TRANSFER): S.WAITING,
    (S.HELD, A.RESUME): S.SERVING,
    (S.HELD, A.REQUEUE): S.WAITING,
    (S.HELD, A.TRANSFER): S.WAITING,
}


STATUS_ZH = {
    "waiting": "等候中",
    "called": "已叫号",
    "serving": "办理中",
    "held": "挂起（补正材料）",
    "done": "已办结",
    "no_show": "过号未到",
    "cancelled": "已取消",
}
BOOKING_ZH = {"booked": "已预约", "checked_in": "已签到", "cancelled": "已取消", "no_show": "已爽约"}
ACTION_ZH = {
    "call": "叫号",
    "recall": "重呼",
    "start": "开始办理",
    "finish": "办结",
    "no_show": "标记未到",
    "return": "过号返回",
    "hold": "挂起",
    "resume": "恢复办理",
    "requeue": "重新排队",
    "transfer": "转办",
    "cancel": "取消",
}


def next_status(current: TicketStatus | str, action: Action | str) -> TicketStatus:
    """The status after `action`, or IllegalTransition naming the current status."""
    current, action = TicketStatus(current), Action(action)
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        allowed = allowed_actions(current)
        hint = f"allowed now: {', '.join(allowed)}" if allowed else "the ticket is closed"
        raise IllegalTransition(
            f"cannot {action.value} a ticket that is {current.value} ({hint})",
            zh=f"该号{STATUS_ZH[current.value]}，不能{ACTION_ZH[action.value]}",
            status=current.value,
            action=action.value,
        ) from None


def allowed_actions(current: TicketStatus | str) -> list[str]:
    """Actions that are legal from `current`, spelled as in the window action URL (`no-show`)."""
    return list(_ALLOWED[TicketStatus(current)])


def url_name(action: Action | str) -> str:
    """How an action is spelled in URLs and in a ticket's `actions` list: `no_show` -> `no-show`."""
    return Action(action).value.replace("_", "-")


# Every answer about a ticket lists them: worked out once.
_ALLOWED = {status: tuple(sorted(url_name(a) for (s, a) in TRANSITIONS if s == status)) for status in TicketStatus}
