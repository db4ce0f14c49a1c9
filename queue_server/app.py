"""The app factory: database migrated and seeded, API, pages, Socket.IO and workers attached."""

from __future__ import annotations

import logging

from flask import Flask

from .auth import Tokens
from .config import Settings, load_settings
from .db import make_engine, open_for_service, session_factory, transaction
from .extensions import socketio
from .halls import seed
from .runtime import Runtime

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
    from . import (  # noqa: F401 - staff_api adds routes to the API blueprint
        admin_api,
        api,
        appointments_api,
        errors,
        health,
        inputs,
        media,
        realtime,
        security,
        staff_api,
        stats_api,
    )
    from .ratelimit import RateLimits
    from .socket_limits import ClientLimits

    for blueprint in (api.bp, appointments_api.bp, health.bp, media.bp, stats_api.bp, admin_api.bp):
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
        from .scaleout import HallRedisManager

        runtime.redis = HallRedisManager(
            settings.server.redis_url,
            on_recover=realtime.resync_everyone,
            on_room_event=lambda room: boards.changed(realtime.hall_of_room(room)),  # other processes' events
        )
        options["client_manager"] = runtime.redis
    socketio.init_app(app, **options)
    ClientLimits(socketio.server)
    runtime.counts = realtime.WaitingCounts(factory)
    if start_workers:
        runtime.counts.start()
    from .notify import NotifyWorker  # bookings' no-shows and the messages to citizens

    runtime.extras["notify"] = NotifyWorker(factory, settings)
    if start_workers:
        runtime.extras["notify"].start()
    _attach_workers(app, runtime, voice, spooler, start_workers)
    return app


def _register_pages(app: Flask) -> None:
    try:
        from display.pages import bp as pages
    except ImportError:  # the pages package is optional for API-only deployments
        return
    app.register_blueprint(pages)


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
    return Voice(runtime.settings.data_dir / "voice")


def _default_spooler(runtime: Runtime):
    try:
        from .printing import TicketPrinting
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
