"""Hub interactions: tabs, as-you-type search, sort, pages, create, export, row menu, undo."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.customer_details import render_details
from bot.surfaces.exports import send_customers_csv
from bot.surfaces.hub import HubControl, origin_of, render_hub
from bot.views.customer_anonymise import AnonymiseMeta, anonymise_confirmation
from bot.views.customer_delete import DeleteMeta, delete_confirmation
from bot.views.customer_form import FormMeta, customer_form, record_values, with_tags
from bot.views.hub import CALLBACK_ID as HUB_CALLBACK_ID
from bot.views.hub import (
    CREATE_ACTION,
    EXPORT_ACTION,
    OPEN_ACTION,
    PREV_ACTION,
    ROW_MENU_ACTION,
    SEARCH_ACTION,
    SEARCH_BLOCK,
    SEARCH_MAX,
    SORT_ACTION,
    TAB_ACTION_PREFIX,
)
from bot.views.messages import admin_only_text
from bot.views.notice import UNDO_ACTION
from bot.views.payload import chosen_value, state_values
from bot.views.tabs import DetailsMeta
from core.errors import DomainError
from core.models import CustomerStatus
from core.services import customers, tags
from core.services.customers import SortOrder

UID = re.compile(r"^[0-9A-Z]{1,16}$")


def _archive_toggle(control: HubControl, verb: str, uid: str) -> None:
    """Archive or activate, then show the hub with Undo."""
    change = customers.archive_customer if verb == "archive" else customers.activate_customer
    try:
        record = control.request.write(lambda uow, actor: change(uow, actor, uid))
    except DomainError as exc:
        control.tell(exc.message)
        return
    done = "Archived" if record.status is CustomerStatus.ARCHIVED else "Activated"
    undo = "activate" if verb == "archive" else "archive"
    control.tell(f"{done} {record.full_name}.", ok=True, undo_value=f"{undo}|{uid}")


def _open_details(control: HubControl, uid: str) -> None:
    request = control.request
    try:
        view = render_details(request, DetailsMeta(uid=uid, origin=control.origin))
    except DomainError as exc:
        control.tell(exc.message)
        return
    control.open(view)


def _open_edit(control: HubControl, uid: str) -> None:
    try:
        record, held = control.request.read(
            lambda uow, actor: (
                customers.get_customer(uow, actor, uid),
                tags.customer_tags(uow, actor, uid),
            )
        )
    except DomainError as exc:
        control.tell(exc.message)
        return
    meta = FormMeta(mode="edit", uid=uid, version=record.version, origin=control.origin, tags=held)
    values = with_tags(record_values(record), held)
    control.open(customer_form(meta, values, admin=control.request.actor.is_admin))


def _ask_delete(control: HubControl, uid: str) -> None:
    if not control.request.actor.is_admin:
        control.tell(admin_only_text("delete a customer"))
        return
    try:
        record, paid = control.request.read(
            lambda uow, actor: (
                customers.get_customer(uow, actor, uid),
                customers.customer_has_payments(uow, actor, uid),
            )
        )
    except DomainError as exc:
        control.tell(exc.message)
        return
    if paid:
        # The books must keep their payments: Delete is refused and Anonymise offered.
        meta = AnonymiseMeta(uid=uid, origin=control.origin)
        control.open(anonymise_confirmation(record, meta, instead_of_delete=True))
        return
    control.open(delete_confirmation(record, DeleteMeta(uid=uid, origin=control.origin)))


ROW_VERBS: dict[str, Callable[[HubControl, str], None]] = {
    "manage": _open_details,
    "edit": _open_edit,
    "archive": lambda control, uid: _archive_toggle(control, "archive", uid),
    "activate": lambda control, uid: _archive_toggle(control, "activate", uid),
    "delete": _ask_delete,
}


def on_tab(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Active | Archived."""
    ack()
    control = HubControl.of(body, context, client)
    tab = "archived" if control.value == "archived" else "active"
    control.show(control.origin.hub.model_copy(update={"tab": tab, "page": 1}))


def on_search(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A keystroke in the search box."""
    ack()
    control = HubControl.of(body, context, client)
    hub = control.origin.hub.model_copy(update={"q": control.value[:SEARCH_MAX], "page": 1})
    control.show(hub)


def on_sort(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A→Z / Z→A."""
    ack()
    control = HubControl.of(body, context, client)
    hub = control.origin.hub
    flipped = SortOrder.NAME_DESC if hub.sort is SortOrder.NAME_ASC else SortOrder.NAME_ASC
    control.show(hub.model_copy(update={"sort": flipped, "page": 1}))


def on_page(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Previous / Next, read on from the edge row shown."""
    ack()
    control = HubControl.of(body, context, client)
    hub = control.origin.hub
    back = control.action.get("action_id") == PREV_ACTION
    edge = control.value if UID.match(control.value) else ""
    control.show(
        hub.model_copy(
            update={
                "page": max(1, hub.page + (-1 if back else 1)),
                "after": "" if back else edge,
                "before": edge if back else "",
            }
        )
    )


def on_create(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """+ Create Customer."""
    ack()
    control = HubControl.of(body, context, client)
    admin = control.request.actor.is_admin
    control.open(customer_form(FormMeta(origin=control.origin), {}, admin=admin))


def on_export(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Export CSV (admins): the tab and search shown, as a file in the admin's DM."""
    ack()
    send_customers_csv(HubControl.of(body, context, client))


def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A customer's name: their details."""
    ack()
    control = HubControl.of(body, context, client)
    if UID.match(control.value):
        _open_details(control, control.value)


def on_row_menu(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A row's ⋯ menu: Manage, Edit Contact, Archive/Activate, Delete."""
    ack()
    control = HubControl.of(body, context, client)
    verb, _, uid = chosen_value(control.action).partition("|")
    act = ROW_VERBS.get(verb)
    if act is not None and UID.match(uid):
        act(control, uid)


def on_undo(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Undo an archive or activation."""
    ack()
    control = HubControl.of(body, context, client)
    verb, _, uid = control.value.partition("|")
    if verb in {"archive", "activate"} and UID.match(uid):
        _archive_toggle(control, verb, uid)


def on_hub_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The modal's Search button: same as typing, answered in the submission response."""
    origin = origin_of(view)
    typed = state_values(view).get(SEARCH_BLOCK)
    element = typed.get(SEARCH_ACTION) if isinstance(typed, dict) else None
    value = element.get("value") if isinstance(element, dict) else None
    typed_text = value if isinstance(value, str) else ""
    state = origin.hub.model_copy(update={"q": typed_text[:SEARCH_MAX], "page": 1})
    request = Request.of(context, client)
    ack(response_action="update", view=render_hub(request, state, home=False))


def register(app: App) -> None:
    """Wire every hub control."""
    app.action(re.compile(re.escape(TAB_ACTION_PREFIX) + r"(active|archived)$"))(on_tab)
    app.action(SEARCH_ACTION)(on_search)
    app.action(SORT_ACTION)(on_sort)
    app.action(re.compile(r"^hub\.page\.(prev|next)$"))(on_page)
    app.action(CREATE_ACTION)(on_create)
    app.action(EXPORT_ACTION)(on_export)
    app.action(OPEN_ACTION)(on_open)
    app.action(ROW_MENU_ACTION)(on_row_menu)
    app.action(UNDO_ACTION)(on_undo)
    app.view(HUB_CALLBACK_ID)(on_hub_submit)
