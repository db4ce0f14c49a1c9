"""SQLAlchemy models: the system of record for halls, services, windows, tickets and their history."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from queue_server.core.states import (
    AppointmentStatus,
    Channel,
    FollowUpState,
    JobState,
    NotifyState,
    Priority,
    TicketStatus,
    WindowState,
)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC, on SQLite and PostgreSQL alike."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


window_queues = Table(
    "window_queues",
    Base.metadata,
    Column("window_id", ForeignKey("windows.id", ondelete="CASCADE"), primary_key=True),
    Column("queue_id", ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True),
)


class Hall(Base):
    __tablename__ = "halls"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    queues: Mapped[list[Queue]] = relationship(back_populates="hall", order_by="Queue.sort")
    windows: Mapped[list[Window]] = relationship(back_populates="hall", order_by="Window.number")


class Queue(Base):
    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("hall_id", "prefix"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    prefix: Mapped[str] = mapped_column(String(4))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    sort: Mapped[int] = mapped_column(Integer, default=0)
    hall: Mapped[Hall] = relationship(back_populates="queues")


class ServiceItem(Base):
    __tablename__ = "service_items"
    __table_args__ = (UniqueConstraint("hall_id", "code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(8), default="个人")
    basis: Mapped[str] = mapped_column(Text, default="")
    materials: Mapped[list] = mapped_column(JSON, default=list)
    time_limit_days: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16), default="instant")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    queue: Mapped[Queue] = relationship()


class Window(Base):
    __tablename__ = "windows"
    __table_args__ = (UniqueConstraint("hall_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[str] = mapped_column(String(16), default=WindowState.CLOSED.value)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    ticket_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())  # False: disabled by an admin
    hall: Mapped[Hall] = relationship(back_populates="windows")
    queues: Mapped[list[Queue]] = relationship(secondary=window_queues, order_by="Queue.sort")


class StaffUser(Base):
    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    staff_number: Mapped[str] = mapped_column(String(32), default="", server_default="")  # 工号, shown at the window
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("halls.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout-everywhere and password change: older tokens stop working.
    token_version: Mapped[int] = mapped_column(Integer, default=0)


class StaffPhoto(Base):
    """The photo a window screen shows of its clerk (亮身份): a re-encoded JPEG, never the uploaded file."""

    __tablename__ = "staff_photos"
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    version: Mapped[str] = mapped_column(String(16))  # changes with every upload: the screens' cache key
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DayCounter(Base):
    """Last number given per hall, queue and local day; the upsert on it is the atomic allocator."""

    __tablename__ = "day_counters"
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # The number (prefix + day sequence) is unique in the hall for the day; the queue may change on transfer.
        UniqueConstraint("hall_id", "day", "number"),
        # Covers the call candidates' order (line, priority, arrival) and the waiting counts per queue.
        Index("ix_tickets_waiting", "hall_id", "status", "queue_id", "target_window_id", "priority", "order_key"),
        # Covers the counts of the line ahead per queue and item (the quotes), grouped in index order.
        Index(
            "ix_tickets_waiting_items",
            "hall_id",
            "status",
            "target_window_id",
            "queue_id",
            "service_id",
            "priority",
            "order_key",
        ),
        Index("ix_tickets_hall_called", "hall_id", "called_at"),  # the latest resolved quotes, for calibration
    )
    pk: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service_items.id"))
    day: Mapped[date] = mapped_column(Date)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16), default=Channel.KIOSK.value)
    priority: Mapped[str] = mapped_column(String(16), default=Priority.NORMAL.value)
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.WAITING.value)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    order_key: Mapped[int] = mapped_column(BigInteger, default=0)
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"), nullable=True)
    target_window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"), nullable=True)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    recall_count: Mapped[int] = mapped_column(Integer, default=0)
    returns: Mapped[int] = mapped_column(Integer, default=0)
    phone_masked: Mapped[str | None] = mapped_column(String(32), nullable=True)
    id_number_masked: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # HMAC (server secret) of the phone and ID number, for the per-person limits; never the number itself.
    phone_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    id_number_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    case_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    quoted_low_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quoted_high_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The forecast behind the first quote (its middle and scale), so later quotes calibrate on its residual.
    quoted_point_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quoted_scale_s: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Remote tickets: how a ticket not checked in at the hall is handled when its turn comes (None: not remote).
    unchecked_on_call: Mapped[str | None] = mapped_column(String(8), nullable=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hall: Mapped[Hall] = relationship()
    queue: Mapped[Queue] = relationship()
    service: Mapped[ServiceItem] = relationship()
    window: Mapped[Window | None] = relationship(foreign_keys=[window_id])
    target_window: Mapped[Window | None] = relationship(foreign_keys=[target_window_id])


class TicketEvent(Base):
    """Append-only history: one row per state change, with who, when and where."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_hall_at", "hall_id", "at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ticket_pk: Mapped[int] = mapped_column(ForeignKey("tickets.pk"), index=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    action: Mapped[str] = mapped_column(String(16))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"), nullable=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    data: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class Evaluation(Base):
    __tablename__ = "evaluations"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_pk: Mapped[int] = mapped_column(ForeignKey("tickets.pk"), unique=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    # a poor rating's reasons, chosen from the hall's list (HallSettings.poor_rating_reasons)
    reasons: Mapped[list | None] = mapped_column(JSON, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"), nullable=True)
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)


class PrintJob(Base):
    """One ticket to print; kept until printed so a restart or a dead printer loses nothing."""

    __tablename__ = "print_jobs"
    __table_args__ = (
        Index("ix_print_jobs_state", "state", "next_attempt_at"),
        Index("ix_print_jobs_device", "device_id", "state", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    printer: Mapped[str] = mapped_column(String(64))  # a printer of config.yaml, or the kiosk's name (device_id set)
    device_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # an agent kiosk's job: its agent prints it
    ticket_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class FollowUp(Base):
    """The follow-up of a poor rating (不满意 or worse): who handles it, what was done, by when."""

    __tablename__ = "followups"
    __table_args__ = (Index("ix_followups_hall_state", "hall_id", "state", "due_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), unique=True)
    ticket_pk: Mapped[int] = mapped_column(ForeignKey("tickets.pk"))
    state: Mapped[str] = mapped_column(String(16), default=FollowUpState.OPEN.value)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assignee: Mapped[str] = mapped_column(String(100), default="")
    action: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    evaluation: Mapped[Evaluation] = relationship()
    ticket: Mapped[Ticket] = relationship()


class LoginLock(Base):
    """Failed sign-ins per username (known or not) and client address, for the lock-out."""

    __tablename__ = "login_locks"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # in a row: each lasts twice as long
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Device(Base):
    """A registered kiosk, board, window screen or rating pad; only the hash of its token is kept."""

    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    kind: Mapped[str] = mapped_column(String(16))
    printer: Mapped[str | None] = mapped_column(String(64), nullable=True)
    window_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    agent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # its agent prints
    printer_state: Mapped[str | None] = mapped_column(String(16), nullable=True)  # as its agent last reported
    printer_detail: Mapped[str | None] = mapped_column(String(200), nullable=True)
    printer_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    hall: Mapped[Hall] = relationship()


class AppointmentSlot(Base):
    """Seats of one bookable slot of a queue; the conditional update of `booked` is the seat lock."""

    __tablename__ = "appointment_slots"
    __table_args__ = (UniqueConstraint("hall_id", "queue_id", "starts_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class Appointment(Base):
    """A booking (预约): personal data only masked, plus keyed hashes for check-in and no-show counts."""

    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("hall_id", "code"),
        Index("ix_appointments_id_hash", "id_number_hash", "status"),
        Index("ix_appointments_hall_status", "hall_id", "status", "checkin_until"),
    )
    pk: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(String(32), unique=True)  # the holder's credential, like a ticket id
    code: Mapped[str] = mapped_column(String(16))  # typed at the kiosk
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    service_id: Mapped[int] = mapped_column(ForeignKey("service_items.id"))
    slot_id: Mapped[int] = mapped_column(ForeignKey("appointment_slots.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checkin_until: Mapped[datetime] = mapped_column(UTCDateTime)  # end of the slot's local day
    status: Mapped[str] = mapped_column(String(16), default=AppointmentStatus.BOOKED.value)
    name_masked: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(32))
    id_number_masked: Mapped[str] = mapped_column(String(32))
    phone_hash: Mapped[str] = mapped_column(String(64))
    id_number_hash: Mapped[str] = mapped_column(String(64))
    notify_ref: Mapped[str | None] = mapped_column(String(128), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    arrival: Mapped[str | None] = mapped_column(String(16), nullable=True)
    ticket_pk: Mapped[int | None] = mapped_column(ForeignKey("tickets.pk"), nullable=True)
    hall: Mapped[Hall] = relationship()
    queue: Mapped[Queue] = relationship()
    service: Mapped[ServiceItem] = relationship()
    ticket: Mapped[Ticket | None] = relationship()


class NotifySubscription(Base):
    """A ticket whose holder wants messages (remote or booked): the notifier worker scans the open ones."""

    __tablename__ = "notify_subscriptions"
    __table_args__ = (Index("ix_notify_subscriptions_open", "is_open", "hall_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    ticket_pk: Mapped[int] = mapped_column(ForeignKey("tickets.pk"), unique=True)
    ref: Mapped[str | None] = mapped_column(String(128), nullable=True)  # the integration's own subscriber id
    phone_masked: Mapped[str | None] = mapped_column(String(32), nullable=True)
    is_open: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ticket: Mapped[Ticket] = relationship()


class Notification(Base):
    """Outbox: one message per (ticket, kind), kept until delivered so retries survive a restart."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_due", "state", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)  # idempotency key: ticket id and kind
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    kind: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16), default=NotifyState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AdminChange(Base):
    """One administrative change: who, when, what (entity and key), and each field's old and new value."""

    __tablename__ = "admin_changes"
    __table_args__ = (Index("ix_admin_changes_hall_at", "hall_id", "at"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    username: Mapped[str] = mapped_column(String(64))
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("halls.id"), nullable=True)
    entity: Mapped[str] = mapped_column(String(16))  # hall, queue, service, window, user, device
    entity_key: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # create, update, delete, disable, enable, password, import
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # {field: [old, new]}
