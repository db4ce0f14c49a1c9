"""Request and response shapes of the public API; they validate requests and make the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class IssueRequest(Request):
    service: str = Field(min_length=1, max_length=64, description="service item code")
    channel: Literal["kiosk", "mobile", "counter", "appointment"] = "kiosk"
    priority: Literal["normal", "appointment", "green"] = "normal"
    phone: str | None = Field(None, max_length=20, description="mainland mobile number; stored masked only")
    id_number: str | None = Field(None, max_length=18, description="resident ID number; stored masked only")
    print: bool = Field(True, description="print the ticket on the kiosk's printer")
    printer: str | None = Field(None, max_length=64, description="printer name (default: the hall's first)")
    with_materials: bool = Field(False, description="also print the materials notice (材料告知单)")


class EvaluationRequest(Request):
    score: int = Field(ge=1, le=5, description="5 非常满意 … 1 非常不满意")
    comment: str = Field("", max_length=500)
    reasons: list[str] = Field(
        [], max_length=12, description="with 2 or 1 only: reasons from GET /halls/{hall}/rating-reasons"
    )


class LoginRequest(Request):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class WindowActionRequest(Request):
    number: str | None = Field(
        None, max_length=16, description="ticket number (call, resume, or a ticket at this window)"
    )
    reason: str | None = Field(None, max_length=200, description="why a number is called out of order")
    reason_code: str | None = Field(None, max_length=32, description="call: the hall's reason code (no_show_return …)")
    service: str | None = Field(None, max_length=64, description="transfer: the new service code")
    window: int | None = Field(None, ge=1, description="transfer: the window number to send the ticket to")
    requeue: bool = Field(False, description="resume: put a held ticket back in line instead of serving it")


class PasswordChangeRequest(Request):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=8, max_length=256)


class MoveRequest(Request):
    service: str | None = Field(None, max_length=64, description="the new service code")
    window: int | None = Field(None, ge=1, description="the window number to send the ticket to")


class Error(BaseModel):
    code: str
    message: str
    message_zh: str | None = Field(None, description="the message in Chinese, where the server has one")
    field: str | None = Field(None, description="the request field at fault")


class ErrorResponse(BaseModel):
    error: Error


class ServiceBrief(BaseModel):
    code: str
    name: str


class WindowBrief(BaseModel):
    number: int
    name: str
    name_en: str = ""


class Estimate(BaseModel):
    low_s: int
    high_s: int


class TicketPublic(BaseModel):
    number: str
    hall: str
    service: ServiceBrief
    queue: str
    status: str
    channel: str
    priority: str
    issued_at: str
    called_at: str | None
    window: WindowBrief | None
    recall_count: int


class StaffTicket(TicketPublic):
    """A ticket as staff are answered: the holder's view without its id (the holder's only credential)."""

    ahead: int
    estimated_wait: Estimate | None
    quoted_wait: Estimate | None = None  # the range first quoted at issue (estimated_wait is the current one)
    target_window: WindowBrief | None = None
    started_at: str | None = None
    finished_at: str | None = None
    phone: str | None = None
    id_number: str | None = None
    case_id: str | None = None
    actions: list[str] = []
    remote: bool = Field(False, description="taken remotely (线上取号): check in at the hall's kiosk before the turn")
    checked_in: bool = Field(True, description="false while a remote ticket waits for its check-in at the kiosk")
    hall_name: str = ""
    hall_name_en: str = ""


class TicketResponse(StaffTicket):
    id: str
    print_job: PrintJob | None = None


class Hall(BaseModel):
    code: str
    name: str
    name_en: str
    timezone: str


class Opening(BaseModel):
    hall: str
    hours: list[str] = Field(description="walk-in ticket hours, every day (empty: always open)")
    open: bool
    changes_at: str | None = Field(None, description="when `open` flips next: the closing or the next opening time")


class HallList(BaseModel):
    halls: list[Hall]


class ServiceItem(BaseModel):
    code: str
    name: str
    queue: str
    queue_name: str
    department: str
    category: str
    basis: str
    materials: list[str]
    time_limit_days: int
    kind: str
    initials: str = Field(description="pinyin initials, for search (qykb finds 企业开办)")


class ServiceList(BaseModel):
    hall: str
    services: list[ServiceItem]


class QueueCount(BaseModel):
    prefix: str
    name: str
    name_en: str
    waiting: int


class RecentCall(BaseModel):
    number: str
    window: WindowBrief
    at: str
    recall: bool = Field(description="the latest call of this ticket was a recall")
    recall_count: int = Field(0, description="recalls since the ticket was called; the ticket is listed once")
    written: dict[str, str] = Field(
        default_factory=dict,
        description='what the board writes, e.g. {"zh": "B009 请到 6 号窗口", "en": "B009 → Window 6"}',
    )


class WindowPublic(WindowBrief):
    state: str
    queues: list[str]
    ticket: dict | None


class Board(BaseModel):
    hall: Hall
    recent_calls: list[RecentCall]
    windows: list[WindowPublic]
    queues: list[QueueCount]


class EvaluationResponse(BaseModel):
    ticket: str
    score: int
    label: str
    comment: str
    reasons: list[str] = []
    at: str


class RatingReasons(BaseModel):
    hall: str
    reasons: list[str] = Field(description="what a citizen may tick after 不满意 or 非常不满意")


class TokenResponse(BaseModel):
    token: str
    user: dict


class StaffBrief(BaseModel):
    username: str
    name: str
    role: str
    hall: str | None
    active: bool = True
    csrf_token: str | None = Field(None, description="page sessions only: send it as X-CSRF-Token")


class DeviceBrief(BaseModel):
    id: int
    name: str
    hall: str
    kind: str
    printer: str | None
    window: int | None
    active: bool
    last_seen_at: str | None
    agent: bool = False
    printer_status: dict | None = None


class OutOfOrderCall(BaseModel):
    number: str
    at: str
    window: int | None
    user: str | None
    reason_code: str
    reason: str | None
    from_status: str | None


class OutOfOrderCalls(BaseModel):
    hall: str
    date: str
    calls: list[OutOfOrderCall]


class PrintJob(BaseModel):
    id: int
    printer: str
    ticket_id: str | None
    state: Literal["queued", "printing", "printed", "failed"]
    attempts: int
    last_error: str | None


class PrinterStatus(BaseModel):
    name: str
    paper_mm: int
    state: str
    detail: str
    device: str | None = None  # an agent kiosk's own printer: the kiosk's name
    agent: bool = False


class PrinterList(BaseModel):
    hall: str
    printers: list[PrinterStatus]


TicketResponse.model_rebuild()


class MyDay(BaseModel):
    hall: str
    day: str
    username: str
    finished: int
    service_mean_s: float | None


class LineTicket(BaseModel):
    number: str
    service: ServiceBrief
    queue: str
    priority: str
    channel: str
    status: str
    issued_at: str
    called_at: str | None
    returns: int
    waited_s: int | None = None
    targeted: bool = Field(False, description="sent to this window (a transfer): called here first")
    aged: bool = Field(False, description="a normal ticket that has waited past the hall's aging time")


class CallReason(BaseModel):
    code: str
    name: str
    name_en: str


class WindowLine(BaseModel):
    hall: str
    window: int
    total: int = Field(description="every ticket call-next could take at this window")
    waiting: list[LineTicket] = Field(description="the first of them, in the order call-next takes them")
    no_shows: list[LineTicket] = Field(description="today's no-shows that may still come back (call them by number)")
    call_reasons: list[CallReason]


class DeskWindow(WindowPublic):
    clerk: dict | None


class HeldTicket(LineTicket):
    actions: list[str]
    started_at: str | None


class WindowDesk(BaseModel):
    hall: str
    window: DeskWindow
    current: dict | None = Field(description="the ticket at the window (as in an action's answer, without its id)")
    held: list[HeldTicket]
