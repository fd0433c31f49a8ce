"""Actions inside a customer's details: Edit, Post chart, Copy link, tabs, search and pages."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.charts import post_chart_from_details
from bot.surfaces.customer_details import DetailsControl, details_or_gone, gone_view, show_link
from bot.views.customer_details import (
    CALLBACK_ID,
    COPY_LINK_ACTION,
    EDIT_ACTION,
    POST_CHART_ACTION,
)
from bot.views.customer_form import FormMeta, customer_form, record_values, with_tags
from bot.views.hub import SEARCH_MAX
from bot.views.origin import Tab
from bot.views.payload import state_values
from bot.views.tabs import PREV_ACTION, SEARCH_ACTION, TAB_ACTION_PREFIX, DetailsMeta, typed_search
from core.errors import DomainError
from core.services import customers, tags

# The eight tab buttons' action ids.
TAB_ACTION = re.compile(
    "^" + re.escape(TAB_ACTION_PREFIX) + f"({'|'.join(tab.value for tab in Tab)})$"
)


def on_edit(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Edit: the contact form over the details."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is None:
        return
    uid = control.details.uid
    try:
        record, held = control.request.read(
            lambda uow, actor: (
                customers.get_customer(uow, actor, uid),
                tags.customer_tags(uow, actor, uid),
            )
        )
    except DomainError as exc:
        client.views_update(view_id=control.view_id, view=gone_view(exc.message))
        return
    # The form remembers the details (and their tab) to show the saved record in.
    origin = control.details.origin.model_copy(
        update={"details_view_id": control.view_id, "details": control.details.state}
    )
    form = FormMeta(mode="edit", uid=record.uid, version=record.version, origin=origin, tags=held)
    admin = control.request.actor.is_admin
    control.push(customer_form(form, with_tags(record_values(record), held), admin=admin))


def on_tab(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """One of the eight tabs."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is None or control.value not in set(Tab):
        return
    control.show(control.details.showing(Tab(control.value)))


def on_search(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A keystroke in the tab's search box."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is None:
        return
    details = control.details
    searched = details.showing(details.state.tab, q=control.value[:SEARCH_MAX])
    control.show(searched)


def on_search_submit(
    ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """The Search button: the same as typing, answered in the submission response."""
    meta = DetailsMeta.parse(view.get("private_metadata"))
    if meta is None:
        ack()
        return
    typed = typed_search(state_values(view), meta.state.tab)
    searched = meta.showing(meta.state.tab, q=typed)
    request = Request.of(context, client)
    ack(response_action="update", view=details_or_gone(request, searched))


def on_page(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Previous / Next in a tab."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is None:
        return
    step = -1 if control.action.get("action_id") == PREV_ACTION else 1
    state = control.details.state
    control.show(control.details.showing(state.tab, q=state.q, page=max(1, state.page + step)))


def on_post_chart(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Post chart: the sales chart into the conversation the hub was opened from."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is not None:
        post_chart_from_details(control)


def on_copy_link(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Copy link: the customer's link shown alone, to copy."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is not None:
        show_link(control)


def register(app: App) -> None:
    """Wire the details view's own controls."""
    app.action(EDIT_ACTION)(on_edit)
    app.action(TAB_ACTION)(on_tab)
    app.action(SEARCH_ACTION)(on_search)
    app.view(CALLBACK_ID)(on_search_submit)
    app.action(re.compile(r"^customer_details\.page\.(prev|next)$"))(on_page)
    app.action(POST_CHART_ACTION)(on_post_chart)
    app.action(COPY_LINK_ACTION)(on_copy_link)
