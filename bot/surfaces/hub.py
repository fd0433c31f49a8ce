"""Putting the hub on screen: as a modal (views.update) or the Home tab (views.publish)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.redraws import Shown, redraw
from bot.views.alerts import alerts_section
from bot.views.catalog import catalog_section
from bot.views.duplicates import duplicates_section
from bot.views.hub import PAGE_SIZE, HubState, hub_home, hub_modal
from bot.views.notice import Notice
from bot.views.origin import Origin
from bot.views.payload import chosen_value, first_action
from bot.views.retention import retention_section
from bot.views.segments import segments_section
from bot.views.settings import settings_section
from bot.views.stripe_account import stripe_section
from bot.views.tags import tags_section
from core.services.alerts import list_channel_alerts
from core.services.customers import list_customers
from core.services.events import upcoming_events
from core.services.saved_segments import list_segments
from core.services.stripe_account import StripeStatus, stripe_status
from core.services.today import local_day


def render_hub(
    request: Request, state: HubState, *, home: bool, notice: Notice | None = None
) -> dict[str, Any]:
    """Query the page the state asks for and build the hub view."""
    actor = request.actor
    with request.deps.db.unit_of_work(readonly=True) as uow:
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
        events, total = upcoming_events(uow, actor) if home else ([], 0)
        stripe = stripe_status(uow, actor.team_id) if home else StripeStatus("none")
        channels = list_channel_alerts(uow, actor) if home and actor.is_admin else None
    state = state.model_copy(update={"page": page.page, "after": "", "before": ""})
    if not home:
        return hub_modal(state, page, notice, admin=actor.is_admin)
    day = local_day(request.deps.db.clock(), request.timezone)
    view = hub_home(state, page, notice, day=day, admin=actor.is_admin)
    view["blocks"].extend(settings_section(request.studio, admin=actor.is_admin))
    connect = request.deps.stripe_connect is not None and stripe.source != "connect"
    view["blocks"].extend(stripe_section(stripe, admin=actor.is_admin, connect=connect))
    view["blocks"].extend(catalog_section(events, total, request.currency, admin=actor.is_admin))
    view["blocks"].extend(duplicates_section(admin=actor.is_admin))
    view["blocks"].extend(tags_section(admin=actor.is_admin))
    view["blocks"].extend(alerts_section(channels))
    # Apart, as counting a segment may bring the workspace's facts up to date (writes).
    view["blocks"].extend(segments_section(request.write(list_segments)))
    view["blocks"].extend(retention_section())
    return view


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
    request: Request,
    origin: Origin,
    *,
    notice: Notice | None = None,
    shown: Shown | None = None,
) -> None:
    """Re-render the hub where it lives, in its turn (`shown`: as the action saw it)."""
    if origin.surface == "none":
        return
    home = origin.surface == "home"
    where = shown or Shown("" if home else origin.view_id)
    redraw(
        request,
        where,
        lambda: render_hub(request, origin.hub, home=home, notice=notice),
        "hub update",
    )


@dataclass(frozen=True)
class HubControl:
    """A control pressed in the hub (modal or Home tab): the request, where, and what was pressed."""

    request: Request
    origin: Origin
    action: dict[str, Any]
    trigger_id: str
    shown: Shown

    @classmethod
    def of(cls, body: dict[str, Any], context: BoltContext, client: WebClient) -> HubControl:
        """The control pressed in `body`, wherever its view is."""
        view = body.get("view")
        return cls(
            Request.of(context, client),
            origin_of(view),
            first_action(body),
            str(body.get("trigger_id") or ""),
            Shown.of(body),
        )

    @property
    def value(self) -> str:
        """The pressed button's value, or the chosen option's ('' when none)."""
        value = self.action.get("value")
        return value if isinstance(value, str) else chosen_value(self.action)

    def show(self, hub: HubState) -> None:
        """Show the hub in state `hub` where the control was pressed; a newer action's wins."""
        show_hub(self.request, self.origin.model_copy(update={"hub": hub}), shown=self.shown)

    def tell(self, text: str, *, ok: bool = False, undo_value: str | None = None) -> None:
        """Refresh the hub with a notice (a problem unless `ok`)."""
        notice = Notice(text, ok=ok, undo_value=undo_value)
        show_hub(self.request, self.origin, notice=notice, shown=self.shown.changed())

    def open(self, view: dict[str, Any]) -> None:
        """Stack `view` on the hub modal; from the Home tab there is no stack, so open a modal."""
        if self.origin.surface == "modal":
            self.request.client.views_push(trigger_id=self.trigger_id, view=view)
        else:
            self.request.client.views_open(trigger_id=self.trigger_id, view=view)
