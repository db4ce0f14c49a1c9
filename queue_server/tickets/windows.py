"""What a clerk does at a window: open, call, serve, hold, transfer, pause, close."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server.core.states import Action, TicketStatus, WindowState
from queue_server.exceptions import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from queue_server.halls import get_service, get_window
from queue_server.models import Hall, StaffUser, Ticket, Window
from queue_server.staff.permissions import MANAGERS, Role, check_hall, check_manages
from queue_server.tickets import service as tickets
from queue_server.tickets.service import Change

WINDOW_TRANSITIONS = {
    "open": {WindowState.CLOSED, WindowState.PAUSED},
    "pause": {WindowState.OPEN},
    "close": {WindowState.OPEN, WindowState.PAUSED},
}


# What a clerk may do at a window nobody is signed in to: open it, and read what it would serve first.
WITHOUT_SIGN_IN = frozenset({"open", "read"})


def check_clerk(session: Session, hall: Hall, window: Window, user: StaffUser, action: str) -> None:
    """A clerk acts (or reads, action "read") only in their hall, at the window they are signed in to
    (or are opening); supervisors of the hall and admins everywhere."""
    check_hall(hall, user)
    if user.role in MANAGERS:
        return
    if window.clerk_id not in (None, user.id):
        raise Forbidden(
            f"window {window.number} is signed in to another clerk", zh=f"{window.number} 号窗口已由其他工作人员登录"
        )
    if window.clerk_id is None and action not in WITHOUT_SIGN_IN:
        raise Forbidden(
            f"open window {window.number} first: you are not signed in to it",
            zh=f"请先开窗：您尚未登录 {window.number} 号窗口",
        )


def current_ticket(session: Session, window: Window) -> Ticket:
    """The ticket at the window now (called or being served)."""
    if window.ticket_id is None:
        raise IllegalTransition(
            f"window {window.number} has no current ticket; call one first",
            zh=f"{window.number} 号窗口当前没有号，请先叫号",
            status="none",
        )
    return tickets.get_ticket(session, window.ticket_id)


def _ticket_for(session: Session, hall: Hall, window: Window, body: dict) -> Ticket:
    number = body.get("number")
    if number:
        ticket = tickets.find_by_number(session, hall, str(number))
        if ticket.window_id != window.id:
            raise Conflict(
                f"ticket {ticket.number} is not at window {window.number}",
                zh=f"{ticket.number} 号不在 {window.number} 号窗口",
                status=ticket.status,
            )
        return ticket
    return current_ticket(session, window)


def _require_free(session: Session, window: Window) -> None:
    if window.ticket_id is not None:
        current = tickets.get_ticket(session, window.ticket_id)
        raise IllegalTransition(
            f"window {window.number} still has ticket {current.number} ({current.status}); "
            "finish it, mark it no-show, hold or transfer it first",
            zh=f"{window.number} 号窗口还有 {current.number} 号未处理完，请先办结、标记未到、挂起或转办",
            status=current.status,
        )


def _require_open(window: Window) -> None:
    if window.state != WindowState.OPEN.value:
        raise IllegalTransition(
            f"window {window.number} is {window.state}; open it first",
            zh=f"{window.number} 号窗口未开放，请先开窗",
            status=window.state,
        )


def do_call_next(session, hall, window, user, body) -> Change:
    _require_open(window)
    _require_free(session, window)
    return tickets.call_next(session, hall, window, user)


def do_call(session, hall, window, user, body) -> Change:
    _require_open(window)
    _require_free(session, window)
    number, reason = body.get("number"), str(body.get("reason") or "").strip()
    code = str(body.get("reason_code") or "").strip()
    if not number:
        raise ValidationFailed("number is required, e.g. A001", zh="请填写号码，例如 A001", field="number")
    if not reason and not code:
        raise ValidationFailed(
            "reason is required to call a number out of order: give a reason_code "
            "(e.g. no_show_return) and/or a reason",
            zh="不按顺序叫号时须说明原因：请选择原因代码（如 no_show_return）或填写原因",
            field="reason",
        )
    # Without a code, the supervisors' list of out-of-order calls shows "other" with the free-text reason.
    extra = {"reason_code": code} if code else None
    return tickets.call_number(session, hall, window, user, str(number), (reason or code)[:200], extra)


def _simple(action: Action, *, release: bool = False, queues: bool = False) -> Callable:
    def run(session, hall, window, user, body) -> Change:
        ticket = _ticket_for(session, hall, window, body)
        tickets.transition(session, ticket, action, window=window, user=user)
        if release and window.ticket_id == ticket.id:
            tickets.store(session, window, ticket_id=None)
        return Change(ticket=ticket, window=window, called=action == Action.RECALL, queues_changed=queues)

    return run


def do_resume(session, hall, window, user, body) -> Change:
    """A held ticket continues at this window, or goes back to the line with {"requeue": true}."""
    held = select(Ticket).where(Ticket.window_id == window.id, Ticket.status == TicketStatus.HELD.value)
    if body.get("number"):
        ticket = tickets.find_by_number(session, hall, str(body["number"]))
        if ticket.window_id != window.id or ticket.status != TicketStatus.HELD.value:
            raise IllegalTransition(
                f"ticket {ticket.number} is not held at window {window.number}",
                zh=f"{ticket.number} 号没有挂起在 {window.number} 号窗口",
                status=ticket.status,
            )
    else:
        ticket = session.scalar(held.order_by(Ticket.called_at.desc()).limit(1))
        if ticket is None:
            raise IllegalTransition(
                f"window {window.number} has no held ticket", zh=f"{window.number} 号窗口没有挂起的号", status="none"
            )
    if body.get("requeue"):
        tickets.transition(session, ticket, Action.REQUEUE, window=window, user=user)
        ticket.target_window_id = window.id  # comes back to the clerk who has the file
        return Change(ticket=ticket, window=window, queues_changed=True)
    _require_free(session, window)
    tickets.transition(session, ticket, Action.RESUME, window=window, user=user)
    window.ticket_id = ticket.id
    return Change(ticket=ticket, window=window)


def do_transfer(session, hall, window, user, body) -> Change:
    """Send the current ticket to another service or window; it keeps its number and place."""
    ticket = _ticket_for(session, hall, window, body)
    transfer(session, hall, ticket, user, body, window)
    return Change(ticket=ticket, window=window, queues_changed=True)


def transfer(
    session: Session, hall: Hall, ticket: Ticket, user: StaffUser, body: dict, window: Window | None = None
) -> None:
    """Move a ticket to another service ({"service"}) or window ({"window"}), keeping its number and place."""
    service_code, target = body.get("service"), body.get("window")
    if bool(service_code) == (target is not None):
        raise ValidationFailed(
            'give exactly one of "service" (a service code) or "window" (a number)',
            zh="请在“事项”和“窗口”中选择且只选择一项",
            field="service",
        )
    data: dict = {"from_window": window.number} if window is not None else {"moved_by": user.username}
    if service_code:
        service = get_service(session, hall, str(service_code))
        data["to_service"] = service.code
    else:
        if not isinstance(target, int) or isinstance(target, bool):
            raise ValidationFailed("window must be a window number", zh="窗口应为窗口号", field="window")
        other = get_window(session, hall, target)
        if window is not None and other.id == window.id:
            raise ValidationFailed(
                "cannot transfer a ticket to the same window", zh="不能转到同一个窗口", field="window"
            )
        if not other.active:  # nobody would ever call it there
            raise Conflict(
                f"window {other.number} is disabled; transfer to an open window or to a service",
                zh=f"{other.number} 号窗口已停用，请转到其他窗口或事项",
                field="window",
            )
        data["to_window"] = other.number
    tickets.transition(session, ticket, Action.TRANSFER, window=window, user=user, data=data)
    if service_code:
        ticket.service_id, ticket.queue_id, ticket.target_window_id = service.id, service.queue_id, None
        ticket.service, ticket.queue = service, service.queue
    else:
        ticket.target_window_id = other.id
    if window is not None and window.ticket_id == ticket.id:
        window.ticket_id = None


def do_force_close(session, hall, window, user, body) -> Change:
    """A supervisor closes a window whatever its state; its current ticket goes back to the line."""
    check_manages(user, hall)
    if window.state == WindowState.CLOSED.value:
        raise IllegalTransition(
            f"window {window.number} is already closed", zh=f"{window.number} 号窗口已经关闭", status=window.state
        )
    ticket = None
    if window.ticket_id is not None:
        ticket = tickets.get_ticket(session, window.ticket_id)
        tickets.transition(
            session,
            ticket,
            Action.TRANSFER,
            window=window,
            user=user,
            data={"from_window": window.number, "force_close": True},
        )
        ticket.target_window_id = None
        window.ticket_id = None
    window.state, window.clerk_id = WindowState.CLOSED.value, None
    return Change(ticket=ticket, window=window, queues_changed=True)


def _window_state(action: str, new_state: WindowState) -> Callable:
    def run(session, hall, window, user, body) -> Change:
        if WindowState(window.state) not in WINDOW_TRANSITIONS[action]:
            raise IllegalTransition(
                f"cannot {action} window {window.number}: it is {window.state}",
                zh=f"{window.number} 号窗口当前状态为 {window.state}，不能执行 {action}",
                status=window.state,
            )
        if action == "open" and user.role == Role.CLERK:
            elsewhere = session.scalar(
                select(Window).where(
                    Window.clerk_id == user.id, Window.id != window.id, Window.state != WindowState.CLOSED
                )
            )
            if elsewhere is not None:
                raise Conflict(
                    f"you are signed in at window {elsewhere.number}; close it first",
                    zh=f"您已在 {elsewhere.number} 号窗口登录，请先关闭该窗口",
                    status="open",
                )
        if action == "close":
            _require_free(session, window)
        window.state = new_state.value
        window.clerk_id = None if action == "close" else (window.clerk_id or user.id)
        return Change(window=window, queues_changed=True)

    return run


ACTIONS: dict[str, Callable[..., Change]] = {
    "call-next": do_call_next,
    "call": do_call,
    "recall": _simple(Action.RECALL),
    "start": _simple(Action.START),
    "finish": _simple(Action.FINISH, release=True),
    "no-show": _simple(Action.NO_SHOW, release=True, queues=True),
    "hold": _simple(Action.HOLD, release=True),
    "resume": do_resume,
    "transfer": do_transfer,
    "pause": _window_state("pause", WindowState.PAUSED),
    "open": _window_state("open", WindowState.OPEN),
    "close": _window_state("close", WindowState.CLOSED),
    "force-close": do_force_close,
}


# Actions made of others, run in order in the caller's one transaction: all of them happen or none.
COMPOUND: dict[str, tuple[str, ...]] = {"finish-and-call-next": ("finish", "call-next")}


def act_all(session: Session, hall: Hall, number: int, action: str, user: StaffUser, body: dict) -> list[Change]:
    """Run a window action (a compound one such as 办结并叫下一位 step by step); one change per step.

    The window row is read and locked once; the steps' history rows go in with one insert.
    """
    _check_action(action)
    window = get_window(session, hall, number, lock=True)
    if action == "open" and not window.active:  # disabled in the administration pages
        raise Conflict(
            f"window {number} is disabled; a supervisor must enable it first",
            zh=f"{number} 号窗口已停用，请主管先启用",
            status="disabled",
        )
    check_clerk(session, hall, window, user, action)
    with tickets.history_batch(session):
        return [ACTIONS[step](session, hall, window, user, body) for step in COMPOUND.get(action, (action,))]


def _check_action(action: str) -> None:
    if action not in ACTIONS and action not in COMPOUND:
        known = [*ACTIONS, *COMPOUND]
        raise NotFound(
            f"unknown window action {action!r}; use one of {', '.join(known)}",
            zh=f"未知的窗口操作 {action}；可用操作：{'、'.join(known)}",
            action=action,
        )


def act(session: Session, hall: Hall, number: int, action: str, user: StaffUser, body: dict) -> Change:
    """Run one window action for a signed-in staff member (of a compound one, the last step's change)."""
    return act_all(session, hall, number, action, user, body)[-1]
