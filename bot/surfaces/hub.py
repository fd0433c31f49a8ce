"""Putting the hub on screen: as a modal (views.update) or the Home tab (views.publish)."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.deps import Deps
from bot.views.hub import PAGE_SIZE, HubState, hub_home, hub_modal
from bot.views.notice import Notice
from bot.views.origin import Origin
from core.actor import Actor
from core.services.customers import list_customers

log = logging.getLogger(__name__)


def render_hub(
    deps: Deps, actor: Actor, state: HubState, *, home: bool, notice: Notice | None = None
) -> dict[str, Any]:
    """Query the page the state asks for and build the hub view."""
    with deps.db.unit_of_work(readonly=True) as uow:
        page = list_customers(
            uow,
            actor,
            status=state.status,
            query=state.q,
            sort=state.sort,
            page=state.page,
            page_size=PAGE_SIZE,
            after_uid=state.after or None,
            before_uid=state.before or None,
        )
    state = state.model_copy(update={"page": page.page, "after": "", "before": ""})
    return hub_home(state, page, notice) if home else hub_modal(state, page, notice)


def origin_of(view: dict[str, Any] | None) -> Origin:
    """Where an action was taken: the hub modal, the Home tab, or elsewhere."""
    if not view:
        return Origin()
    state = HubState.from_metadata(view.get("private_metadata"))
    if view.get("type") == "home":
        return Origin(surface="home", hub=state)
    if view.get("type") == "modal" and view.get("callback_id") == "hub.view" and view.get("id"):
        return Origin(surface="modal", view_id=str(view.get("id", "")), hub=state)
    return Origin()


def show_hub(
    client: WebClient,
    deps: Deps,
    actor: Actor,
    origin: Origin,
    *,
    notice: Notice | None = None,
    view_hash: str | None = None,
) -> None:
    """Re-render the hub where it lives; a hash conflict means a newer update already won."""
    if origin.surface == "none":
        return
    home = origin.surface == "home"
    view = render_hub(deps, actor, origin.hub, home=home, notice=notice)
    try:
        if home:
            client.views_publish(user_id=actor.user_id, view=view, hash=view_hash)
        else:
            client.views_update(view_id=origin.view_id, view=view, hash=view_hash)
    except SlackApiError as exc:
        if exc.response.get("error") != "hash_conflict":
            raise
        log.debug("hub update skipped: a newer update of the view won")
