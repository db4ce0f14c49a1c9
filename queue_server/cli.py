"""The `queue-server` command: run, init-db, import-services, user add, print-test, say, announcer."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys

# Nothing heavy is imported here: `run` must monkey-patch eventlet before Flask or redis load.


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="queue-server", description="OneWindow queue and window server")
    parser.add_argument("--config", default=None, help="settings file (default: config.yaml or $QUEUE_SERVER_CONFIG)")
    # --config is also accepted after any subcommand (`queue-server init-db --config X`).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        dest="config_sub",
        default=argparse.SUPPRESS,
        metavar="PATH",
        help="settings file (default: config.yaml or $QUEUE_SERVER_CONFIG)",
    )
    sub = _Subcommands(parser.add_subparsers(dest="command", required=True), common)

    run = sub.add_parser("run", help="serve the API, pages and realtime events")
    run.add_argument("--host", default=None, help="address to listen on (default from config: 127.0.0.1)")
    run.add_argument("--port", type=int, default=None, help="port (default from config: 8000)")

    sub.add_parser("init-db", help="create or migrate the database and seed halls from the config")

    imp = sub.add_parser("import-services", help="load service items from CSV or YAML into a hall")
    imp.add_argument("file")
    imp.add_argument("--hall", required=True, help="hall code")

    user = sub.add_parser("user", help="staff accounts")
    user_sub = _Subcommands(user.add_subparsers(dest="user_command", required=True), common)
    add = user_sub.add_parser("add", help="create a staff account (password prompted, or read from stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=["clerk", "supervisor", "admin"])
    add.add_argument("--hall", default=None, help="hall code (clerks and supervisors belong to one hall)")
    passwd = user_sub.add_parser("passwd", help="set a new password (prompted, or read from stdin); signs the user out")
    passwd.add_argument("name")
    unlock = user_sub.add_parser("unlock", help="lift the sign-in locks of a user (after failed passwords)")
    unlock.add_argument("name")

    dev = sub.add_parser("device", help="registered kiosks, boards, window screens and rating pads")
    dev_sub = _Subcommands(dev.add_subparsers(dest="device_command", required=True), common)
    dadd = dev_sub.add_parser("add", help="register a device and print its token (shown once)")
    dadd.add_argument("name")
    dadd.add_argument("--hall", required=True, help="hall code")
    dadd.add_argument("--kind", required=True, choices=["kiosk", "board", "window", "rating"])
    dadd.add_argument("--printer", default=None, help="kiosk: the printer it prints on (from the config)")
    dadd.add_argument("--window", type=int, default=None, help="window screen: the window number")
    dadd.add_argument(
        "--agent", action="store_true", help="kiosk: prints on its own printer through `queue-server agent` on it"
    )
    dev_sub.add_parser("list", help="list registered devices")
    drev = dev_sub.add_parser("revoke", help="revoke a device token")
    drev.add_argument("name")

    purge = sub.add_parser("purge", help="remove phone and ID data older than each hall's purge_after_days")
    purge.add_argument("--hall", default=None, help="only this hall")
    purge.add_argument("--days", type=int, default=None, help="keep this many days instead of the config's")
    purge.add_argument("--dry-run", action="store_true", help="count, change nothing")

    close = sub.add_parser("close-day", help="cancel tickets left waiting from earlier days (run after closing time)")
    close.add_argument("--hall", default=None, help="only this hall")

    pt = sub.add_parser("print-test", help="print a sample ticket, or save its preview as PNG")
    pt.add_argument("--printer", default=None, help="printer name from the config (default: the first)")
    pt.add_argument("--preview", default=None, metavar="PNG", help="write a PNG preview instead of printing")

    say = sub.add_parser("say", help="speak one line, or save it as WAV")
    say.add_argument("text")
    say.add_argument("--out", default=None, help="WAV file to write instead of playing")
    say.add_argument("--lang", default="zh-CN", choices=["zh-CN", "en"])

    sim = sub.add_parser("simulate", help="run a synthetic day with a fast clock; report statistics and estimate error")
    sim.add_argument("--hall", required=True, help="hall code from the config")
    sim.add_argument("--day", nargs="?", default=None, metavar="DATE", help="one whole day: YYYY-MM-DD (default today)")
    sim.add_argument("--seed", type=int, default=1, help="random seed (same seed, same day)")
    sim.add_argument("--database", default=None, help="database URL (default: a new temporary SQLite file)")
    sim.add_argument("--json", action="store_true", help="print the statistics as JSON")
    sim.add_argument(
        "--scenario",
        choices=["calm", "rush", "lunch", "long", "all"],
        default=None,
        help="a day the hall meets (all: each on its own new database); reports each estimator's coverage and width",
    )
    sim.add_argument("--compare", action="store_true", help="set the old estimator's ranges against the new ones")

    agent = sub.add_parser("agent", help="run on a kiosk or hall PC: print the kiosk's tickets, play the hall's calls")
    agent.add_argument("--server", required=True, help="the server's URL, e.g. http://10.0.0.2:8000")
    agent.add_argument("--token", required=True, help="the device's token (queue-server device add …)")
    agent.add_argument(
        "--printer",
        default=None,
        metavar="ADDRESS",
        help="the kiosk's printer: usb:VID:PID, serial:PORT, file:PATH, win32:PRINTER NAME or network:HOST[:PORT]",
    )
    agent.add_argument("--player", default=None, help="play the hall's calls with this command (default: aplay/paplay)")
    agent.add_argument("--ledger", default=None, help="file of printed job ids (default: in the user's state folder)")

    ann = sub.add_parser("announcer", help="play the hall's calls on this PC's speakers")
    ann.add_argument("--hall", required=True)
    ann.add_argument("--server", default=None, help="server URL (default: http://HOST:PORT from the config)")
    ann.add_argument("--player", default=None, help="command that plays a WAV file (default: aplay or paplay)")
    return parser


class _Subcommands:
    """Adds subcommands that all take the shared options (--config)."""

    def __init__(self, action, common: argparse.ArgumentParser) -> None:
        self.action, self.common = action, common

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        return self.action.add_parser(name, parents=[self.common], **kwargs)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    config = getattr(args, "config_sub", None) or args.config
    if args.command == "run":
        from queue_server.server import serve  # patches the async library before anything else loads

        try:
            return serve(config, host=args.host, port=args.port)
        except Exception as exc:
            if type(exc).__name__ == "ConfigError":
                print(f"queue-server: {exc}", file=sys.stderr)
                return 2
            raise
    from queue_server.exceptions import OneWindowError

    try:
        return COMMANDS[args.command](args, config)
    except OneWindowError as exc:
        print(f"queue-server: {exc.message}", file=sys.stderr)
        return 2


def _settings(config):
    from queue_server.config import load_settings

    settings = load_settings(config)
    settings.ensure_secret()  # the same keyed hashes (phones, ID numbers) as the server
    return settings


def _database(config):
    from queue_server.db import make_engine, open_for_service, session_factory, transaction
    from queue_server.halls import seed

    settings = _settings(config)
    engine = make_engine(settings.server.database_url)
    open_for_service(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        created = seed(session, settings)
    return settings, factory, created


def cmd_init_db(args, config) -> int:
    settings, _factory, created = _database(config)
    print(f"database ready at {settings.server.database_url}; new halls: {', '.join(created) or 'none'}")
    return 0


def cmd_import(args, config) -> int:
    import time

    from queue_server.admin.catalog import import_services
    from queue_server.db import transaction

    _settings_, factory, _ = _database(config)
    started = time.perf_counter()
    with transaction(factory) as session:
        result = import_services(session, args.hall, args.file)
    took = time.perf_counter() - started
    print(f"{args.file}: {result['created']} created, {result['updated']} updated in hall {args.hall} ({took:.2f} s)")
    return 0


def read_password() -> str:
    """Prompt twice on a terminal; read one line from stdin otherwise."""
    from queue_server.exceptions import ValidationFailed

    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Repeat password: "):
            raise ValidationFailed(
                "the two passwords differ; nothing was changed", zh="两次输入的密码不一致，未作任何更改"
            )
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_user(args, config) -> int:
    from sqlalchemy import select

    from queue_server.db import transaction
    from queue_server.exceptions import NotFound
    from queue_server.models import Hall, StaffUser
    from queue_server.staff.auth import add_user, change_password

    _s, factory, _ = _database(config)
    if args.user_command == "unlock":
        from queue_server.staff.auth import unlock

        with transaction(factory) as session:
            if session.scalar(select(StaffUser).where(StaffUser.username == args.name)) is None:
                raise NotFound(f"no user {args.name!r}", zh=f"没有用户 {args.name}")
            print(f"sign-in locks of {args.name} lifted ({unlock(session, args.name)} address(es))")
        return 0
    password = read_password()
    with transaction(factory) as session:
        if getattr(args, "user_command", "add") == "passwd":
            user = session.scalar(select(StaffUser).where(StaffUser.username == args.name))
            if user is None:
                raise NotFound(f"no user {args.name!r}", zh=f"没有用户 {args.name}")
            change_password(session, user, password)
            print(f"password of {user.username} changed; the user is signed out everywhere")
            return 0
        user = add_user(session, args.name, password, args.role, args.hall)
        hall = session.get(Hall, user.hall_id) if user.hall_id else None
        print(f"user {user.username} added with role {user.role}" + (f" in hall {hall.code}" if hall else ""))
    return 0


def cmd_device(args, config) -> int:
    from queue_server.db import transaction
    from queue_server.staff import devices

    settings, factory, _ = _database(config)
    with transaction(factory) as session:
        if args.device_command == "add":
            printers = [p.name for p in settings.printers if p.hall == args.hall]
            device, token = devices.add_device(
                session,
                args.name,
                args.hall,
                args.kind,
                printer=args.printer,
                window=args.window,
                hall_printers=printers,
                agent=args.agent,
            )
            print(f"device {device.name} ({device.kind}) registered in hall {args.hall}")
            print(f"token (shown once, only its hash is stored): {token}")
            print(f"open: /device?device={token}")
            if device.agent:
                print(f"on the kiosk: queue-server agent --server URL --token {token} --printer ADDRESS")
        elif args.device_command == "revoke":
            devices.revoke(session, args.name)
            print(f"device {args.name} revoked")
        else:
            for d in map(devices.device_brief, devices.list_devices(session)):
                state = "active" if d["active"] else "revoked"
                print(
                    f"{d['name']}\t{d['hall']}\t{d['kind']}\t{d['printer'] or ('agent' if d['agent'] else '-')}\t"
                    f"{d['window'] or '-'}\t"
                    f"{state}\tlast seen {d['last_seen_at'] or 'never'}"
                )
    return 0


def cmd_close_day(args, config) -> int:
    from sqlalchemy import select

    from queue_server.db import transaction
    from queue_server.halls import get_hall
    from queue_server.models import Hall
    from queue_server.tickets.service import close_day

    _s, factory, _ = _database(config)
    with transaction(factory) as session:
        halls = [get_hall(session, args.hall)] if args.hall else list(session.scalars(select(Hall).order_by(Hall.id)))
        for hall in halls:
            closed = close_day(session, hall)
            print(
                f"{hall.code}: {len(closed)} ticket(s) from earlier days cancelled"
                + (f" ({', '.join(closed[:10])}{' …' if len(closed) > 10 else ''})" if closed else "")
            )
    return 0


def cmd_purge(args, config) -> int:
    from queue_server.db import transaction
    from queue_server.tickets.personal import purge

    _, factory, _ = _database(config)
    with transaction(factory) as session:
        counts = purge(session, hall_code=args.hall, days=args.days, dry_run=args.dry_run)
    verb = "would purge" if args.dry_run else "purged"
    for code, n in counts.items():
        print(f"{code}: {verb} personal data of {n} ticket(s); tickets and statistics kept")
    return 0


def cmd_print_test(args, config) -> int:
    from queue_server.printing import print_test

    return print_test(_settings(config), args.printer, args.preview)


def cmd_say(args, config) -> int:
    from display.voice import say

    say(args.text, out=args.out, lang=args.lang)
    if args.out:
        print(f"wrote {args.out}")
    return 0


def cmd_announcer(args, config) -> int:
    """`announcer`: the agent's speaker role for a hall, without a device token."""
    from display.announcer import run_announcer

    settings = _settings(config)
    url = args.server or f"http://{settings.server.host}:{settings.server.port}"
    run_announcer(url, args.hall, player=args.player)
    return 0


def cmd_agent(args, config) -> int:
    from printer.agent import run_cli

    return run_cli(args)


def cmd_simulate(args, config) -> int:
    from queue_server.stats.simulate import run_cli

    return run_cli(args, _settings(config))


def cmd_user_dispatch(args, config) -> int:
    return cmd_user(args, config)


COMMANDS = {
    "init-db": cmd_init_db,
    "import-services": cmd_import,
    "user": cmd_user_dispatch,
    "device": cmd_device,
    "purge": cmd_purge,
    "close-day": cmd_close_day,
    "print-test": cmd_print_test,
    "say": cmd_say,
    "announcer": cmd_announcer,
    "agent": cmd_agent,
    "simulate": cmd_simulate,
}
