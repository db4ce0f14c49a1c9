"""Deployment settings: config.yaml validated at start-up, overridden by QUEUE_SERVER_* variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AwareDatetime, Field, ValidationError, field_validator, model_validator

from queue_server.exceptions import ConfigError

# The per-hall models live with HallSettings.
from queue_server.hall_settings import (
    FieldProblem,
    HallSettings,
    PlainText,
    Strict,
)

DEMO_SECRET = "onewindow-demo-secret-change-me"  # shipped in older config.yaml files: refused everywhere
SECRET_FILE = "secret_key"  # in the data folder, owner-only: generated on first start when none is configured
ENV_PREFIX = "QUEUE_SERVER_"
ENV_OVERRIDES = {
    "DATABASE_URL": "database_url",
    "REDIS_URL": "redis_url",
    "SECRET_KEY": "secret_key",
    "ASYNC_MODE": "async_mode",
}


# Public writes other than taking a ticket, per caller address (the defaults; config may change any).
WRITES_PER_IP = {
    "holder": "30 per minute;300 per day",  # a ticket's holder cancels or checks in
    "rating": "10 per minute;50 per day",
    "remote": "3 per minute;10 per day",  # remote tickets: one address cannot take the day's quota
    "booking": "5 per minute;20 per day",
    "lookup": "10 per minute;60 per day",
    "check_in": "30 per minute;300 per day",
}


class RateLimitConfig(Strict):
    """Flask-Limiter rules ("N per minute", "N/hour;M/day"); Redis storage when server.redis_url is set."""

    enabled: bool = True
    issue_per_ip: str = "30 per minute;300 per day"
    issue_per_device: str = "120 per minute"
    login_per_ip: str = "20 per minute"
    # Every other public write, per address; a registered device has writes_per_device for each kind.
    writes_per_ip: dict[str, str] = Field(default_factory=lambda: dict(WRITES_PER_IP))
    writes_per_device: str = "240 per minute"
    # Public reads that cost a query each (opening, clerk and photo, rating reasons, slots, a booking), per address;
    # a registered device has writes_per_device. Boards and phones follow the socket, not these.
    reads_per_ip: str = "120 per minute"
    # Never limited by IP: the kiosk PC that also runs the server. A loopback request that came
    # through a proxy (X-Forwarded-For) is not exempt. Devices still count per device.
    exempt_ips: list[str] = ["127.0.0.1", "::1"]

    @field_validator("writes_per_ip")
    @classmethod
    def _known_kinds(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(WRITES_PER_IP))
        if unknown:
            raise ValueError(f"unknown kind {', '.join(unknown)}; use {', '.join(WRITES_PER_IP)}")
        for rule in value.values():
            cls._parses(rule)
        return {**WRITES_PER_IP, **value}

    @field_validator("issue_per_ip", "issue_per_device", "login_per_ip", "writes_per_device", "reads_per_ip")
    @classmethod
    def _parses(cls, value: str) -> str:
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a rate limit; write e.g. '30 per minute' or '10/minute;100/day'"
            ) from None
        return value


class LoginConfig(Strict):
    max_failures: int = Field(5, ge=1, le=100)
    lockout_minutes: float = Field(15, gt=0)


class ServerConfig(Strict):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    database_url: str = "sqlite:///data/onewindow.sqlite3"
    redis_url: str | None = None
    # None: generated on first start and kept in <data_dir>/secret_key (owner-only).
    secret_key: str | None = None
    async_mode: Literal["eventlet", "gevent", "threading"] = "eventlet"
    data_dir: str = "data"
    public_url: str | None = None
    token_ttl_hours: float = Field(12, gt=0)
    # Exactly one process per database should print: turn this off on the others.
    print_spooler: bool = True
    rate_limits: RateLimitConfig = RateLimitConfig()
    login: LoginConfig = LoginConfig()
    # Origins allowed to call the API and Socket.IO from another site; empty keeps CORS off.
    cors_origins: list[str] = []
    # Reverse proxies in front of the server whose X-Forwarded-For is trusted (0: none).
    trusted_proxies: int = Field(0, ge=0, le=5)
    # Kiosk printing only from registered kiosk devices (queue-server device add ... --kind kiosk).
    require_devices: bool = False
    # Set the Secure flag on the page session cookie (turn on behind HTTPS).
    secure_cookies: bool = False
    # A test's server, never a hall's: it allows clock_start and listens on loopback only.
    testing: bool = False
    # With testing: the server's clock starts at this time (with its UTC offset) and runs forward.
    clock_start: AwareDatetime | None = None

    @model_validator(mode="after")
    def _secret_strong(self) -> ServerConfig:
        if self.secret_key == DEMO_SECRET:
            raise FieldProblem(
                "this is the demo secret everyone can read (tokens signed with it make anyone an admin); "
                "remove server.secret_key to have one generated in the data folder, or set your own",
                "secret_key",
            )
        if self.secret_key is not None and len(self.secret_key) < 12:
            raise FieldProblem(
                "the secret key must have at least 12 characters; generate one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'",
                "secret_key",
            )
        return self

    @model_validator(mode="after")
    def _test_only(self) -> ServerConfig:
        if self.clock_start is not None and not self.testing:
            raise FieldProblem(
                "clock_start sets a test server's clock and is refused in a hall (every ticket, booking and "
                "statistic would carry that time); remove it, or set server.testing: true in a test's config",
                "clock_start",
            )
        return self


class QueueConfig(Strict):
    prefix: Annotated[str, Field(pattern=r"^[A-Z]{1,2}$")]
    name: PlainText
    name_en: PlainText = ""


class WindowConfig(Strict):
    number: int = Field(ge=1, le=999)
    name: PlainText
    name_en: PlainText = ""
    queues: Literal["all"] | list[str] = "all"


CATEGORY_EN = {"enterprise": "法人", "individual": "个人"}


class ServiceConfig(Strict):
    code: PlainText = Field(min_length=1, max_length=64)
    name: PlainText = Field(min_length=1)
    queue: str
    department: PlainText = ""
    category: Literal["法人", "个人"] = "个人"
    basis: PlainText = ""
    materials: list[PlainText] = []
    time_limit_days: int = Field(0, ge=0)
    kind: Literal["instant", "promised"] = "instant"

    @field_validator("category", mode="before")
    @classmethod
    def _category_in_english(cls, value: object) -> object:
        # An English catalogue or admin page says enterprise/individual; the hall stores 法人/个人.
        return CATEGORY_EN.get(value.strip().lower(), value) if isinstance(value, str) else value


class HallConfig(HallSettings):
    """A hall in config.yaml: its identity, queues, windows and items, and its settings (seeded once)."""

    code: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
    name: PlainText
    name_en: PlainText = ""
    timezone: str = "Asia/Shanghai"
    queues: list[QueueConfig] = Field(min_length=1)
    windows: list[WindowConfig] = []
    services: list[ServiceConfig] = []

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> HallConfig:
        prefixes = [q.prefix for q in self.queues]
        _no_duplicates(prefixes, "queue prefix", "give each queue its own prefix", "queues", "prefix")
        _no_duplicates(
            [w.number for w in self.windows], "window number", "number windows uniquely", "windows", "number"
        )
        _no_duplicates(
            [s.code for s in self.services], "service code", "give each service its own code", "services", "code"
        )
        for i, window in enumerate(self.windows):
            if window.queues != "all":
                for prefix in window.queues:
                    if prefix not in prefixes:
                        raise FieldProblem(
                            f"window {window.number} serves unknown queue {prefix!r}; "
                            f"use one of {', '.join(prefixes)} or 'all'",
                            "windows",
                            i,
                            "queues",
                        )
        codes = {s.code for s in self.services}
        for code in self.limits.per_service_per_day:
            if codes and code not in codes:
                raise FieldProblem(
                    f"limit for unknown service {code!r}; use a code from services",
                    "limits",
                    "per_service_per_day",
                    code,
                )
        for i, service in enumerate(self.services):
            if service.queue not in prefixes:
                raise FieldProblem(
                    f"service {service.code} is in unknown queue {service.queue!r}; use one of {', '.join(prefixes)}",
                    "services",
                    i,
                    "queue",
                )
        return self


class PrinterConfig(Strict):
    name: str
    hall: str
    type: Literal["network", "usb", "serial", "file", "win32", "dummy"] = "dummy"
    host: str | None = None
    port: int = 9100
    timeout: float = Field(3.0, gt=0, le=60)
    usb_vendor: int | None = None
    usb_product: int | None = None
    device: str | None = None
    baudrate: int = 9600
    paper_mm: Literal[58, 80] | None = None
    profile: str = "default"

    @model_validator(mode="after")
    def _connection_complete(self) -> PrinterConfig:
        needed = {
            "network": ["host"],
            "usb": ["usb_vendor", "usb_product"],
            "serial": ["device"],
            "file": ["device"],
            "win32": ["device"],
        }
        for field in needed.get(self.type, []):
            if getattr(self, field) is None:
                raise FieldProblem(f"printer {self.name!r} of type {self.type} needs {field!r}", field)
        return self


class Settings(Strict):
    server: ServerConfig = ServerConfig()
    halls: list[HallConfig] = Field(min_length=1)
    printers: list[PrinterConfig] = []
    source: str = Field("<defaults>", exclude=True)

    @model_validator(mode="after")
    def _halls_unique(self) -> Settings:
        codes = [h.code for h in self.halls]
        _no_duplicates(codes, "hall code", "give each hall its own code", "halls", "code")
        _no_duplicates([p.name for p in self.printers], "printer name", "name printers uniquely", "printers", "name")
        for i, printer in enumerate(self.printers):
            if printer.hall not in codes:
                raise FieldProblem(
                    f"printer {printer.name!r} belongs to unknown hall {printer.hall!r}; use one of {', '.join(codes)}",
                    "printers",
                    i,
                    "hall",
                )
        return self

    def hall(self, code: str) -> HallConfig:
        for hall in self.halls:
            if hall.code == code:
                return hall
        raise KeyError(code)

    @property
    def data_dir(self) -> Path:
        return Path(self.server.data_dir)

    def ensure_secret(self) -> str:
        """The configured secret, or the one kept in the data folder (generated there on first start)."""
        if self.server.secret_key is None:
            self.server.secret_key = read_or_create_secret(self.data_dir / SECRET_FILE)
        return self.server.secret_key

    def resolve_paths(self, base: Path) -> None:
        """Make the data folder and a SQLite file absolute, relative to `base` (the config's folder)."""
        self.server.data_dir = str((base / self.server.data_dir).resolve())
        self.server.database_url = absolute_sqlite_url(self.server.database_url, base)


def read_or_create_secret(path: Path) -> str:
    """A random secret kept in `path` (mode 0600); the same one on every later start."""
    import secrets

    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text(encoding="ascii").strip()
        if len(secret) < 32:
            raise ConfigError(
                f"{path}: the kept secret is damaged (too short); delete the file to generate a new one "
                "(staff then sign in again)"
            ) from None
        return secret
    secret = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secret + "\n")
    return secret


def absolute_sqlite_url(url: str, base: Path) -> str:
    """A SQLite URL whose relative file path is made absolute against `base`; other URLs unchanged."""
    scheme, sep, path = url.partition(":///")
    if not sep or not scheme.startswith("sqlite") or path in ("", ":memory:") or path.startswith(("/", "file:")):
        return url
    return f"{scheme}:///{(base / path).resolve()}"


def _no_duplicates(values: list, what: str, fix: str, items: str, field: str) -> None:
    seen: set = set()
    for i, value in enumerate(values):
        if value in seen:
            raise FieldProblem(f"duplicate {what} {value!r}; {fix}", items, i, field)
        seen.add(value)


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(error: dict) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key; remove it or fix its spelling"
    if kind == "missing":
        return "required field is missing; add it"
    message = error["msg"].removeprefix("Value error, ")
    return message


def format_validation_error(source: str, exc: ValidationError) -> str:
    """One line per problem: file, field path, what is wrong and what to change."""
    lines = [f"{source}: invalid configuration"]
    for error in exc.errors():
        # A cross-field check knows the exact field; pydantic only knows the model it ran on.
        below = getattr((error.get("ctx") or {}).get("error"), "loc", ())
        lines.append(f"  {source}: {_path(tuple(error['loc']) + tuple(below))}: {_describe(error)}")
    return "\n".join(lines)


def load_settings(path: str | os.PathLike | None = None, env: dict | None = None) -> Settings:
    """Read and validate the configuration file, then apply environment overrides."""
    env = os.environ if env is None else env
    source = str(path or env.get(ENV_PREFIX + "CONFIG") or "config.yaml")
    try:
        with open(source, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise ConfigError(f"{source}: file not found; pass --config PATH or create it") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: (top level): expected a mapping of settings")
    return settings_from_mapping(raw, source, env, base=Path(source).resolve().parent)


def settings_from_mapping(
    raw: dict, source: str = "<mapping>", env: dict | None = None, base: Path | None = None
) -> Settings:
    """Validate a settings mapping (tests build configs this way); relative paths against `base`.

    Relative paths (data_dir, a SQLite file), in the file or in QUEUE_SERVER_* variables, are
    relative to the config file's folder, so the server finds the same files from any directory.
    """
    env = {} if env is None else env
    raw = dict(raw)
    server = dict(raw.get("server") or {})
    for suffix, key in ENV_OVERRIDES.items():
        if env.get(ENV_PREFIX + suffix):
            server[key] = env[ENV_PREFIX + suffix]
    raw["server"] = server
    try:
        settings = Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(source, exc)) from None
    settings.source = source
    settings.resolve_paths(base or Path.cwd())
    return settings
