"""End-to-end harness: the real Bolt app over HTTP, the local Slack stand-in, signed requests."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from slack_bolt import App

from bot.app import create_app
from bot.local.driver import AppEndpoint, SlackDriver
from bot.local.http import serve_wsgi
from bot.local.slack_api import LocalSlackAPI, SlackChannel, SlackUser, SlackWorkspace
from bot.transport.wsgi import create_wsgi_app
from core.actor import Actor
from core.db import Database
from core.models import Role
from core.services.staff import add_staff
from tests.conftest import MutableClock, make_settings, reset_postgres

TEAM = "T0001"
ADMIN = "UADMIN"
STAFF = "USTAFF"
STRANGER = "UNOBODY"
GUEST = "UGUEST"
# Where the drivers run commands: a channel of the admin, a staff member and the app.
CHANNEL = "C0LOCAL"


@dataclass
class World:
    """Everything one end-to-end test touches."""

    api: LocalSlackAPI
    db: Database
    url: str
    signing_secret: str
    admin: SlackDriver
    staff: SlackDriver
    stranger: SlackDriver
    guest: SlackDriver
    app: App

    def view_text(self, driver: SlackDriver) -> str:
        """All text of the driver's current view, for readable assertions."""
        return str(driver.current_view() or "")

    def wait_text(
        self, driver: SlackDriver, needle: str, *, surface: Any = None, timeout: float = 5.0
    ) -> dict[str, Any]:
        """Wait until the user's current view shows `needle`."""
        return driver.wait_for_view(lambda v: needle in str(v), surface=surface, timeout=timeout)


# Slack's 3 s for a trigger is a latency budget, measured in bench/; in tests a loaded 2-core
# machine (app, stand-in and driver sharing one process) may pass it without being wrong. The
# same goes for the 3 s an acknowledgement may take.
TRIGGER_TTL = 60.0


@contextmanager
def running_world(
    database_url: str,
    clock: MutableClock,
    *,
    listeners: ThreadPoolExecutor | None = None,
    **settings: Any,
) -> Iterator[World]:
    """The real app over HTTP on a fresh database, with its staff and Slack users; `settings`
    adds to the test settings, `listeners` is Bolt's listener pool (shut down afterwards)."""
    signing_secret = secrets.token_hex(16)
    with LocalSlackAPI(SlackWorkspace(team_id=TEAM), trigger_ttl=TRIGGER_TTL) as api:
        db = Database(
            make_settings(
                database_url,
                slack_bot_token=api.bot_token,
                slack_signing_secret=signing_secret,
                slack_api_url=api.base_url,
                admin_slack_user_ids=ADMIN,
                **settings,
            ),
            clock=clock,
        )
        if db.dialect == "postgresql":
            reset_postgres(db)
        with db.unit_of_work() as uow:
            add_staff(uow, Actor(TEAM, ADMIN, Role.ADMIN), STAFF)
            add_staff(uow, Actor(TEAM, ADMIN, Role.ADMIN), GUEST)
        for user in (ADMIN, STAFF, STRANGER, GUEST):
            guest = user == GUEST
            api.add_user(SlackUser(user, user.lower(), team_id=TEAM, is_restricted=guest))
        api.add_channel(SlackChannel(CHANNEL, "front-desk", (ADMIN, STAFF, api.bot_user_id)))
        # Shut down with the world, so no listener outlives its test and logs into the next.
        pool = listeners or ThreadPoolExecutor(5)
        app = create_app(db.settings, db, listener_executor=pool)
        # Slack's 3 s to acknowledge is a latency budget as well (measured in bench/ack.py):
        # past it Bolt answers 404, which a starved test machine must not turn into a failure.
        for listener in app._listeners:
            listener.ack_timeout = int(TRIGGER_TTL)
        root, stop = serve_wsgi(create_wsgi_app(app, db))
        url = root + "/slack/events"
        endpoint = AppEndpoint(url, signing_secret)

        def driver(user: str) -> SlackDriver:
            return SlackDriver(api, endpoint, user_id=user, team_id=TEAM, channel_id=CHANNEL)

        try:
            yield World(
                api=api,
                db=db,
                url=url,
                signing_secret=signing_secret,
                admin=driver(ADMIN),
                staff=driver(STAFF),
                stranger=driver(STRANGER),
                guest=driver(GUEST),
                app=app,
            )
        finally:
            stop()
            pool.shutdown(wait=True)
            db.dispose()


@pytest.fixture
def world(database_url: str, clock: MutableClock) -> Iterator[World]:
    with running_world(database_url, clock) as running:
        yield running


Predicate = Callable[[dict[str, Any]], bool]
