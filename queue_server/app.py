"""The app factory: database migrated and seeded, API, pages, Socket.IO and workers attached."""

from __future__ import annotations

import logging

from flask import Flask

from queue_server.config import Settings, load_settings
from queue_server.db import make_engine, open_for_service, session_factory, transaction
from queue_server.extensions import socketio
from queue_server.halls import seed
from queue_server.runtime import Runtime
from queue_server.staff.auth import Tokens

log = logging.getLogger("onewindow")


def create_app(
    settings: Settings | None = None,
    *,
    config_path: str | None = None,
    voice=None,
    spooler=None,
    start_workers: bool = True,
) -> Flask:
    """Build the server: database migrated and seeded, API, pages and Socket.IO attached."""
    settings = settings or load_settings(config_path)
    settings.ensure_secret()
    engine = make_engine(settings.server.database_url)
    open_for_service(engine)  # migrated and writable, or one line saying what to change
    factory = session_factory(engine)
    with transaction(factory) as session:
        created = seed(session, settings)
    if created:
        log.info("seeded halls from %s: %s", settings.source, ", ".join(created))

    app = Flask(__name__, static_folder=None)
    app.wsgi_app = chunked_input(app.wsgi_app)
    app.config.update(SECRET_KEY=settings.server.secret_key, MAX_CONTENT_LENGTH=64 * 1024, JSON_AS_ASCII=False)
    app.json.ensure_ascii = False
    runtime = Runtime(
        settings, engine, factory, Tokens(settings.server.secret_key, settings.server.token_ttl_hours * 3600)
    )
    app.extensions["onewindow"] = runtime

    # Blueprints: public API (+ staff routes), bookings, health, call audio, statistics, administration.
    from queue_server.admin import routes as admin_api
    from queue_server.appointments import routes as appointments_api
    from queue_server.realtime import media
    from queue_server.realtime import sockets as realtime
    from queue_server.realtime.limits import ClientLimits
    from queue_server.staff import routes as staff_api
    from queue_server.stats import routes as stats_api
    from queue_server.tickets import routes as api
    from queue_server.web import errors, health, inputs, security
    from queue_server.web.ratelimit import RateLimits

    for blueprint in (api.bp, staff_api.bp, appointments_api.bp, health.bp, media.bp, stats_api.bp, admin_api.bp):
        app.register_blueprint(blueprint)
    errors.register(app)
    inputs.register(app)
    security.register(app, settings)
    runtime.limits = RateLimits(app, settings)
    _register_pages(app)

    options: dict = {"async_mode": settings.server.async_mode, "json": app.json, "max_http_buffer_size": 64 * 1024}
    if settings.server.cors_origins:
        options["cors_allowed_origins"] = settings.server.cors_origins  # default: same origin only
    runtime.extras["boards"] = boards = realtime.BoardCache()
    if settings.server.redis_url:
        from queue_server.realtime.scaleout import HallRedisManager

        runtime.redis = HallRedisManager(
            settings.server.redis_url,
            on_recover=realtime.resync_everyone,
            on_room_event=lambda room: boards.changed(realtime.hall_of_room(room)),  # other processes' events
        )
        options["client_manager"] = runtime.redis
    else:  # a fresh manager: SocketIO keeps its options between init_app calls, a previous Redis one too
        from queue_server.realtime.wire import Broadcast

        options["client_manager"] = Broadcast()
    socketio.init_app(app, **options)
    ClientLimits(socketio.server)
    runtime.counts = realtime.WaitingCounts(factory)
    if start_workers:
        runtime.counts.start()
    from queue_server.appointments.notify import NotifyWorker  # bookings' no-shows and the messages to citizens

    runtime.extras["notify"] = NotifyWorker(factory, settings)
    if start_workers:
        runtime.extras["notify"].start()
    _attach_workers(app, runtime, voice, spooler, start_workers)
    return app


def _register_pages(app: Flask) -> None:
    try:
        from display import account, admin_pages, pages
    except ImportError:  # the pages package is optional for API-only deployments
        return
    for blueprint in (pages.bp, account.bp, admin_pages.bp):
        app.register_blueprint(blueprint)


def _attach_workers(app: Flask, runtime: Runtime, voice, spooler, start: bool) -> None:
    """Voice renderer and print spooler: given by the caller, or built from config when available."""
    runtime.voice = voice if voice is not None else _default_voice(runtime)
    runtime.spooler = spooler if spooler is not None else _default_spooler(runtime)
    if start and runtime.spooler is not None:
        runtime.spooler.start(socketio)


def _default_voice(runtime: Runtime):
    try:
        from display.voice import Voice
    except ImportError:
        return None
    # A hall's recorded segments (语音包): <data_dir>/voice-packs/<hall code>/<language>/<segment>.wav
    data = runtime.settings.data_dir
    # Several processes (scale-out, with Redis) serve each other's calls' audio: each call leaves a note on disk.
    return Voice(data / "voice", packs=data / "voice-packs", shared=bool(runtime.settings.server.redis_url))


def _default_spooler(runtime: Runtime):
    try:
        from queue_server.printing import TicketPrinting
    except ImportError:
        return None
    return TicketPrinting(runtime)


def chunked_input(wsgi_app):
    """Let Werkzeug read chunked bodies (the server de-chunks them), so the size limit applies to them too."""

    def middleware(environ, start_response):
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            environ["wsgi.input_terminated"] = True
        return wsgi_app(environ, start_response)

    return middleware
