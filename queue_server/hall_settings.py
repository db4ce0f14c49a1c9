"""Per-hall settings: one typed model for config.yaml, the hall row's JSON column and /admin.

config.yaml seeds a hall's settings into the database once; from then on the row is the truth and
`hall_settings(hall)` is the one way every reader gets them, with the defaults (written here, once)
filling in whatever the stored JSON lacks.
"""

from __future__ import annotations

import copy
import logging
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core.core_schema import ValidationInfo

from queue_server.core.announcements import TemplateError, check_template
from queue_server.core.text import printable

log = logging.getLogger("onewindow.halls")


class FieldProblem(ValueError):
    """A cross-field error that points at the field to change, below the model that found it."""

    def __init__(self, message: str, *loc: str | int, zh: str | None = None) -> None:
        super().__init__(message)
        self.loc, self.zh = loc, zh


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Names, notices and materials end up on the ticket printer: control bytes there are printer commands.
PlainText = Annotated[str, BeforeValidator(lambda v: printable(v) if isinstance(v, str) else v)]


class VoiceConfig(Strict):
    enabled: bool = True
    languages: list[Literal["zh-CN", "en"]] = ["zh-CN"]
    templates: dict[Literal["zh-CN", "en"], str] = {
        "zh-CN": "请 {number} 号，到 {window} 号窗口办理",
        "en": "Number {number}, please go to window {window}",
    }
    repeat: int = Field(1, ge=1, le=5)
    rate: int = Field(160, ge=60, le=400)
    volume: float = Field(1.0, ge=0.0, le=1.0)

    @field_validator("templates")
    @classmethod
    def _speakable(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        # A hall's saved settings may hold a template from before this rule; the renderer replaces it.
        if (info.context or {}).get("saved"):
            return value
        for lang, template in value.items():
            try:
                check_template(template)
            except TemplateError as problem:
                raise FieldProblem(
                    f"{problem.message}; e.g. 请 {{number}} 号，到 {{window}} 号窗口办理", lang
                ) from None
        return value


class TicketConfig(Strict):
    # What fits under the ticket on 58 mm paper too.
    notices: list[Annotated[PlainText, Field(max_length=80)]] = Field(
        ["请留意叫号，过号请重新取号", "Please watch the display for your number"], max_length=6
    )
    paper_mm: Literal[58, 80] = 80


class PrivacyConfig(Strict):
    # Off: phone and ID numbers are only used to apply the limits (as keyed hashes), never kept masked.
    store_personal_data: bool = False
    purge_after_days: int = Field(30, ge=1, le=3650)


class LimitsConfig(Strict):
    """Domain rules on personal numbers (ID or phone), checked in the database; 0 turns a rule off."""

    per_person_per_day: int = Field(5, ge=0)
    active_per_person_per_queue: int = Field(1, ge=0)
    # Most tickets a service item gives out in a local day, e.g. {BD005: 200}.
    per_service_per_day: dict[str, Annotated[int, Field(ge=0)]] = {}


HOURS = r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$"
OpeningHours = list[Annotated[str, Field(pattern=HOURS)]]
Weekdays = list[Annotated[int, Field(ge=1, le=7)]]


def _ordered_hours(hours: list[str]) -> list[str]:
    for spec in hours:
        start, end = spec.split("-")
        if end != "24:00" and end <= start:
            raise ValueError(f"opening hours {spec!r} end before they start; write e.g. '09:00-12:00'")
    return hours


class AppointmentConfig(Strict):
    """Booking (预约): slots within the opening hours of the next days, with seats from the windows."""

    enabled: bool = True
    hours: OpeningHours = ["09:00-12:00", "13:30-17:00"]
    weekdays: Weekdays = [1, 2, 3, 4, 5]  # ISO: 1 Monday … 7 Sunday
    slot_minutes: int = Field(30, ge=5, le=240)
    days_ahead: int = Field(5, ge=1, le=60)
    # Seats per slot = windows serving the queue × slot_minutes / default_service_minutes × share.
    share: float = Field(0.5, gt=0, le=1)
    max_per_slot: int | None = Field(None, ge=0)
    early_minutes: int = Field(30, ge=0, le=240)  # check-in opens this long before the slot
    late_minutes: int = Field(15, ge=0, le=240)  # after this the booking gives a normal ticket
    change_cutoff_minutes: int = Field(60, ge=0)  # cancel and reschedule until this long before
    max_active_per_person: int = Field(2, ge=1, le=20)
    no_show_limit: int = Field(2, ge=0)  # this many no-shows within no_show_days block booking; 0: never
    no_show_days: int = Field(30, ge=1)
    block_days: int = Field(30, ge=1)

    @field_validator("hours")
    @classmethod
    def _hours_ordered(cls, value: list[str]) -> list[str]:
        return _ordered_hours(value)


class RemoteConfig(Strict):
    """Remote tickets (线上取号): join a queue from the phone during these hours, up to a daily cap."""

    enabled: bool = True
    hours: OpeningHours = ["08:30-16:30"]
    weekdays: Weekdays = [1, 2, 3, 4, 5]
    max_per_day: int = Field(200, ge=0)  # remote tickets per hall and day; 0: no cap
    # A remote ticket not checked in at the kiosk when its turn comes: passed over until it is, or no-show.
    unchecked_on_call: Literal["skip", "no_show"] = "skip"

    @field_validator("hours")
    @classmethod
    def _hours_ordered(cls, value: list[str]) -> list[str]:
        return _ordered_hours(value)


class NotifyConfig(Strict):
    """Messages to citizens ("N ahead", "called", "please rate"): logged, or POSTed to the hall's webhook."""

    kind: Literal["log", "webhook"] = "log"
    url: str | None = Field(None, pattern=r"^https?://")
    secret: str | None = Field(None, min_length=16)  # HMAC-SHA256 key shared with the receiver
    ahead: int = Field(3, ge=1, le=50)  # tell remote and appointment holders when this many are ahead
    timeout_s: float = Field(5, gt=0, le=60)
    max_attempts: int = Field(8, ge=1, le=50)
    retry_s: float = Field(5, gt=0, le=3600)  # first retry; doubles each time, at most an hour

    @model_validator(mode="after")
    def _webhook_complete(self) -> NotifyConfig:
        for needed in ("url", "secret"):
            if self.kind == "webhook" and not getattr(self, needed):
                raise FieldProblem(f"a webhook notifier needs {needed!r}", needed)
        return self


CALL_REASONS = ("no_show_return", "appointment", "priority", "transfer_back", "other")

# What a citizen may tick after 不满意 or 非常不满意 (好差评 practice), before their own words.
POOR_RATING_REASONS = (
    "等候时间长",
    "服务态度不好",
    "业务不熟练、办事效率低",
    "没有一次性告知所需材料",
    "材料要求多或重复提交",
    "流程繁琐、多次跑腿",
    "未按承诺时限办结",
    "大厅环境或设施不便",
)


class HallSettings(Strict):
    """Everything a hall may set about how it runs; the defaults are the ones every hall starts with."""

    no_show_returns: int = Field(1, ge=0, le=5)
    aging_minutes: float = Field(20, gt=0)
    default_service_minutes: float = Field(8, gt=0)
    rating_days: int = Field(7, ge=1, le=365)
    followup_days: int = Field(5, ge=1, le=60)  # working days to close a 差评 follow-up
    target_wait_minutes: float = Field(5, gt=0)  # statistics and the window advice hold this wait
    # Share of actual waits the quoted range should hold (calibrated on the hall's own recent quotes).
    wait_range_coverage: float = Field(0.8, ge=0.5, le=0.95)
    # Walk-in tickets only within these (none: always open); staff at a counter still issue.
    opening_hours: OpeningHours = []
    ticket: TicketConfig = TicketConfig()
    voice: VoiceConfig = VoiceConfig()
    appointments: AppointmentConfig = AppointmentConfig()
    remote: RemoteConfig = RemoteConfig()
    notify: NotifyConfig = NotifyConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    limits: LimitsConfig = LimitsConfig()
    # Reason codes a clerk chooses when calling a number out of order.
    call_reasons: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        default_factory=lambda: list(CALL_REASONS), max_length=20
    )
    # The reasons offered after a poor rating; the hall edits them in /admin.
    poor_rating_reasons: list[Annotated[PlainText, Field(min_length=1, max_length=40)]] = Field(
        default_factory=lambda: list(POOR_RATING_REASONS), min_length=1, max_length=12
    )

    @field_validator("poor_rating_reasons")
    @classmethod
    def _distinct_reasons(cls, value: list[str]) -> list[str]:
        value = [reason.strip() for reason in value]
        for i, reason in enumerate(value):
            if not reason:
                raise FieldProblem("a reason cannot be blank", i, zh=f"第 {i + 1} 条原因是空的")
            if reason in value[:i]:
                raise FieldProblem(f"the reason {reason!r} is listed twice", i, zh=f"原因“{reason}”重复了")
        return value

    @field_validator("opening_hours")
    @classmethod
    def _hours_ordered(cls, value: list[str]) -> list[str]:
        return _ordered_hours(value)

    def stored(self) -> dict:
        """The JSON kept on the hall row: every setting, so the row alone says how the hall runs."""
        return self.model_dump(mode="json", include=set(HallSettings.model_fields))


class SettingsOwner(Protocol):
    """A hall row, or anything else that carries the stored settings JSON."""

    settings: dict | None


# One parse per loaded hall row: keyed by the row object, valid while its JSON is the same object.
_CACHE_KEY = "_hall_settings_cache"


# And one parse per stored JSON: every request loads the hall row afresh, and validating its settings
# cost more than the call-next's statements; an equal JSON (a dict comparison) is the same settings.
_PARSED: dict[str, tuple[dict, HallSettings]] = {}


def hall_settings(hall: SettingsOwner) -> HallSettings:
    """The hall's settings from its row, the defaults filling in what the stored JSON lacks."""
    raw = hall.settings
    cached = hall.__dict__.get(_CACHE_KEY)
    if cached is not None and cached[0] is raw:
        return cached[1]
    code = getattr(hall, "code", "?")
    known = _PARSED.get(code)
    if known is not None and known[0] == (raw or {}):
        parsed = known[1]
    else:
        parsed = read_stored(raw or {}, code)
        _PARSED[code] = (copy.deepcopy(raw or {}), parsed)
    hall.__dict__[_CACHE_KEY] = (raw, parsed)
    return parsed


def read_stored(data: dict, hall_code: str = "?") -> HallSettings:
    """Stored JSON as settings; a section that no longer validates falls back to its default, logged.

    A row may hold values saved by an older version (a voice template from before the template
    rule, a key since removed): the hall keeps running on the rest rather than failing every call.
    """
    data = {k: v for k, v in data.items() if k in HallSettings.model_fields}
    while True:
        try:
            return HallSettings.model_validate(data, context={"saved": True})
        except ValidationError as exc:
            broken = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            if not broken & set(data):
                raise
            log.warning(
                "hall %s: stored settings %s are invalid; using the defaults", hall_code, ", ".join(sorted(broken))
            )
            data = {k: v for k, v in data.items() if k not in broken}


def patched(current: HallSettings, changes: dict[str, Any]) -> HallSettings:
    """`current` with `changes` applied (a nested section patched key by key), validated as a whole."""
    data = current.stored()
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return HallSettings.model_validate(data)


SECRET_MASK = "********"  # what views and the change log show for a webhook secret; sent back, it keeps it


def shown(settings: HallSettings) -> dict:
    """The settings as /admin shows them: every value, the webhook secret masked."""
    data = settings.stored()
    if data["notify"].get("secret"):
        data["notify"]["secret"] = SECRET_MASK
    return data


def changed(before: HallSettings, after: HallSettings) -> dict[str, list]:
    """{"section.key": [old, new]} for every setting that differs, the secret masked."""
    old, new = _flat(before.stored()), _flat(after.stored())
    out = {}
    for path in sorted(old.keys() | new.keys()):
        if old.get(path) != new.get(path):
            pair = [old.get(path), new.get(path)]
            out[path] = [SECRET_MASK if v and path == "notify.secret" else v for v in pair]
    return out


def _flat(data: dict, prefix: str = "") -> dict:
    out: dict = {}
    for key, value in data.items():
        if isinstance(value, dict) and value:
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[prefix + key] = value
    return out
