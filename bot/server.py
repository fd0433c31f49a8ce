"""Running the app against real Slack: Socket Mode, or HTTP behind a load balancer."""

from __future__ import annotations

import logging

import waitress
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.app import create_app
from bot.web import create_wsgi_app
from core.config import RunMode, Settings
from core.db import Database
from core.mail import OutboxWorker, transport_from_settings

log = logging.getLogger(__name__)


def _start_outbox(db: Database) -> OutboxWorker:
    worker = OutboxWorker(db, transport_from_settings(db.settings))
    worker.start()
    return worker


def serve_http(settings: Settings, *, host: str, port: int, threads: int = 8) -> None:
    """Serve POST /slack/events and GET /healthz until interrupted."""
    settings.require_for(RunMode.HTTP)
    db = Database(settings)
    db.upgrade()
    app = create_app(settings, db)
    worker = _start_outbox(db)
    log.info("serving Slack over HTTP on %s:%s", host, port)
    try:
        waitress.serve(create_wsgi_app(app, db), host=host, port=port, threads=threads)
    finally:
        worker.stop()
        db.dispose()


def serve_socket_mode(settings: Settings) -> None:
    """Connect to Slack over Socket Mode (no public URL needed) until interrupted."""
    settings.require_for(RunMode.SOCKET)
    assert settings.slack_app_token is not None
    db = Database(settings)
    db.upgrade()
    app = create_app(settings, db)
    worker = _start_outbox(db)
    log.info("connecting to Slack in Socket Mode")
    try:
        handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
        handler.start()  # type: ignore[no-untyped-call]
    finally:
        worker.stop()
        db.dispose()
