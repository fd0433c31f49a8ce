"""Putting the App Home's Today page on screen: when Home opens, from its switch, and again for
the staff watching it when the day's bookings or check-ins change."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Executor
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from bot.context.deps import Deps
from bot.context.request import Request
from bot.surfaces.alerts import ClientFor
from bot.surfaces.hub import render_hub
from bot.views.home import HomePlace
from bot.views.hub import HubState
from bot.views.notice import Notice
from bot.views.today import today_home
from core.actor import Actor
from core.services.settings import studio_settings
from core.services.today import local_day, today
from core.services.today_viewers import forget_viewer, note_viewer, viewers

log = logging.getLogger(__name__)


def render_today(request: Request, hub: HubState, notice: Notice | None = None) -> dict[str, Any]:
    """Read the studio's day and build the Today page; `hub` is the Customers page to go back to."""
    with request.deps.db.unit_of_work(readonly=True) as uow:
        data = today(uow, request.actor, request.timezone)
    return today_home(data, hub, notice)


def show_today(request: Request, hub: HubState, notice: Notice | None = None) -> None:
    """Note that the person asking watches Today, then publish it to them: a change committed
    after the note is refreshed for them, one before it is in what they are shown."""
    request.write(note_viewer)
    view = render_today(request, hub, notice)
    request.client.views_publish(user_id=request.actor.user_id, view=view)


def show_customers(request: Request, hub: HubState) -> None:
    """Publish the Customers page (the hub) as `hub` says, once no refresh of Today would
    replace it."""
    request.write(forget_viewer)
    view = render_hub(request, hub, home=True)
    request.client.views_publish(user_id=request.actor.user_id, view=view)


def open_home(request: Request, previous: object) -> None:
    """Home was opened over `previous` (the view it showed): Customers as the person left it
    earlier the same day, otherwise Today."""
    metadata = previous.get("private_metadata") if isinstance(previous, dict) else None
    hub = HubState.from_metadata(metadata)
    day = local_day(request.deps.db.clock(), request.timezone)
    if HomePlace.from_metadata(metadata).keeps_customers(day):
        view = render_hub(request, hub, home=True)
        request.client.views_publish(user_id=request.actor.user_id, view=view)
        return
    show_today(request, hub)


def republish(deps: Deps, clients: ClientFor, team_id: str) -> int:
    """Publish Today afresh to `team_id`'s staff watching it (read once for all); how many."""
    with deps.db.unit_of_work(readonly=True) as uow:
        watching = viewers(uow, team_id)
        if not watching:
            return 0
        timezone = studio_settings(uow, team_id).timezone
        data = today(uow, Actor(team_id=team_id, user_id=watching[0]), timezone)
    client = clients(team_id)
    if client is None:
        return 0
    view = today_home(data, HubState())
    published = 0
    for user_id in watching:
        try:
            client.views_publish(user_id=user_id, view=view)
            published += 1
        except SlackApiError as exc:
            log.warning("could not refresh a Today page: %s", exc.response.get("error"))
    return published


class TodayRefresher:
    """Republishes Today on `executor` after commits that changed a workspace's bookings or
    appointments; changes arriving while one is waiting to run share it."""

    def __init__(self, deps: Deps, clients: ClientFor, executor: Executor) -> None:
        self.deps = deps
        self.clients = clients
        self.executor = executor
        self._waiting: set[str] = set()
        self._lock = threading.Lock()

    def changed(self, team_ids: frozenset[str]) -> None:
        """Schedule a refresh of each workspace in `team_ids`; returns at once (called in a
        commit)."""
        with self._lock:
            fresh = team_ids - self._waiting
            self._waiting |= fresh
        for team_id in fresh:
            try:
                self.executor.submit(self._refresh, team_id)
            except RuntimeError:
                # The app is shutting down: nobody is left to see the page.
                with self._lock:
                    self._waiting.discard(team_id)

    def _refresh(self, team_id: str) -> None:
        with self._lock:
            self._waiting.discard(team_id)
        try:
            republish(self.deps, self.clients, team_id)
        except SQLAlchemyError as exc:
            log.warning("could not refresh Today: %s", type(exc).__name__)
