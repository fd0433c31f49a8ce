"""Actions inside a customer's details: Edit, Post chart, tabs, search and pages."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.deps import actor_of, deps_of
from bot.surfaces.charts import post_chart
from bot.surfaces.customer_details import (
    details_of,
    details_or_gone,
    first_action,
    gone_view,
    show_details,
)
from bot.views.customer_details import CALLBACK_ID, EDIT_ACTION, POST_CHART_ACTION
from bot.views.customer_form import FormMeta, customer_form, record_values
from bot.views.hub import SEARCH_MAX
from bot.views.notice import Notice
from bot.views.origin import Tab
from bot.views.payload import state_values
from bot.views.tabs import (
    PREV_ACTION,
    SEARCH_ACTION,
    TAB_ACTION_PREFIX,
    DetailsMeta,
    typed_search,
)
from core.errors import DomainError
from core.services import customers
from core.services.sales import monthly_sales

log = logging.getLogger(__name__)

TABS = "|".join(tab.value for tab in Tab)


def register(app: App) -> None:
    """Wire the details view's own controls."""

    @app.action(EDIT_ACTION)
    def on_edit(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        found = details_of(body)
        if found is None:
            return
        view_id, meta = found
        deps, actor = deps_of(context), actor_of(context)
        try:
            with deps.db.unit_of_work(readonly=True) as uow:
                record = customers.get_customer(uow, actor, meta.uid)
        except DomainError as exc:
            client.views_update(view_id=view_id, view=gone_view(exc.message))
            return
        # The form remembers the details (and their tab) to show the saved record in.
        origin = meta.origin.model_copy(update={"details_view_id": view_id, "details": meta.state})
        form = FormMeta(mode="edit", uid=record.uid, version=record.version, origin=origin)
        client.views_push(
            trigger_id=body["trigger_id"], view=customer_form(form, record_values(record))
        )

    @app.action(re.compile("^" + re.escape(TAB_ACTION_PREFIX) + f"({TABS})$"))
    def on_tab(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        found = details_of(body)
        value = str(first_action(body).get("value") or "")
        if found is None or value not in set(Tab):
            return
        view_id, meta = found
        show_details(client, deps_of(context), actor_of(context), view_id, meta.showing(Tab(value)))

    @app.action(SEARCH_ACTION)
    def on_search(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        found = details_of(body)
        if found is None:
            return
        view_id, meta = found
        typed = str(first_action(body).get("value") or "")[:SEARCH_MAX]
        # The hash makes Slack drop this update if a later keystroke's update landed first.
        show_details(
            client,
            deps_of(context),
            actor_of(context),
            view_id,
            meta.showing(meta.state.tab, q=typed),
            view_hash=(body.get("view") or {}).get("hash"),
        )

    @app.view(CALLBACK_ID)
    def on_search_submit(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        """The Search button: the same as typing, answered in the submission response."""
        meta = DetailsMeta.parse(view.get("private_metadata"))
        if meta is None:
            ack()
            return
        typed = typed_search(state_values(view), meta.state.tab)
        searched = meta.showing(meta.state.tab, q=typed)
        view = details_or_gone(deps_of(context), actor_of(context), searched)
        ack(response_action="update", view=view)

    @app.action(re.compile(r"^customer_details\.page\.(prev|next)$"))
    def on_page(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        found = details_of(body)
        if found is None:
            return
        view_id, meta = found
        step = -1 if first_action(body).get("action_id") == PREV_ACTION else 1
        state = meta.state
        moved = meta.showing(state.tab, q=state.q, page=max(1, state.page + step))
        show_details(client, deps_of(context), actor_of(context), view_id, moved)

    @app.action(POST_CHART_ACTION)
    def on_post_chart(
        ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        ack()
        found = details_of(body)
        if found is None:
            return
        view_id, meta = found
        deps, actor = deps_of(context), actor_of(context)
        view_hash = (body.get("view") or {}).get("hash")
        channel_id = meta.origin.hub.channel_id
        try:
            with deps.db.unit_of_work(readonly=True) as uow:
                record = customers.get_customer(uow, actor, meta.uid)
                series = monthly_sales(uow, actor, meta.uid)
            if not channel_id:
                # Opened from the Home tab: there is no conversation, so the chart goes to a DM.
                channel_id = client.conversations_open(users=actor.user_id)["channel"]["id"]
            post_chart(
                client,
                channel_id=channel_id,
                user_id=actor.user_id,
                series=series,
                customer_name=record.full_name,
                customer_uid=record.uid,
            )
        except DomainError as exc:
            notice = Notice(exc.message, ok=False)
        except SlackApiError as exc:
            log.warning("posting the sales chart failed: %s", exc.response.get("error"))
            notice = Notice(
                f"Slack didn't accept the chart ({exc.response.get('error')}). Try again in a "
                "minute; if it keeps failing, ask an admin to check the app's files:write "
                "permission.",
                ok=False,
            )
        except Exception:
            # The ack promised a chart: say it failed rather than leave the person waiting.
            log.exception("drawing or posting the sales chart failed")
            notice = Notice(
                "Sorry, the sales chart couldn't be drawn just now; try again.", ok=False
            )
        else:
            where = (
                "in the conversation you opened Customer Records from (or, if the app can't "
                "post there, in your messages with the app)"
                if meta.origin.hub.channel_id
                else "to you in your messages with the app"
            )
            notice = Notice(f"Posted {record.full_name}'s sales chart {where}.")
        # Skipped (hash conflict) if the person has moved on in the view meanwhile.
        show_details(client, deps, actor, view_id, meta, notice=notice, view_hash=view_hash)
