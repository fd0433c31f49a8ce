"""Hub interactions: tabs, as-you-type search, sort, pages, create, row menu, undo."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.deps import actor_of, deps_of
from bot.surfaces.customer_details import render_details
from bot.surfaces.hub import origin_of, render_hub, show_hub
from bot.views.customer_delete import DeleteMeta, delete_confirmation
from bot.views.customer_details import DetailsMeta
from bot.views.customer_form import FormMeta, customer_form, record_values
from bot.views.hub import CALLBACK_ID as HUB_CALLBACK_ID
from bot.views.hub import (
    CREATE_ACTION,
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
from bot.views.notice import UNDO_ACTION, Notice
from bot.views.origin import Origin
from bot.views.payload import chosen_value, state_values
from core.errors import DomainError
from core.models import CustomerStatus
from core.services import customers
from core.services.customers import SortOrder

UID = re.compile(r"^[0-9A-Z]{1,16}$")


def _first_action(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions") or [{}]
    first = actions[0]
    return first if isinstance(first, dict) else {}


def _open_or_push(
    client: WebClient, body: dict[str, Any], origin: Origin, view: dict[str, Any]
) -> None:
    """Stack on the hub modal; from the Home tab there is no stack, so open a new modal."""
    if origin.surface == "modal":
        client.views_push(trigger_id=body["trigger_id"], view=view)
    else:
        client.views_open(trigger_id=body["trigger_id"], view=view)


def _archive_toggle(
    context: BoltContext, client: WebClient, origin: Origin, verb: str, uid: str
) -> None:
    deps, actor = deps_of(context), actor_of(context)
    try:
        with deps.db.unit_of_work() as uow:
            if verb == "archive":
                record = customers.archive_customer(uow, actor, uid)
            else:
                record = customers.activate_customer(uow, actor, uid)
    except DomainError as exc:
        show_hub(client, deps, actor, origin, notice=Notice(exc.message, ok=False))
        return
    done = "Archived" if record.status is CustomerStatus.ARCHIVED else "Activated"
    undo = "activate" if verb == "archive" else "archive"
    notice = Notice(f"{done} {record.full_name}.", undo_value=f"{undo}|{uid}")
    show_hub(client, deps, actor, origin, notice=notice)


def _open_details(
    context: BoltContext, client: WebClient, body: dict[str, Any], origin: Origin, uid: str
) -> None:
    deps, actor = deps_of(context), actor_of(context)
    try:
        view = render_details(deps, actor, DetailsMeta(uid=uid, origin=origin))
    except DomainError as exc:
        show_hub(client, deps, actor, origin, notice=Notice(exc.message, ok=False))
        return
    _open_or_push(client, body, origin, view)


def _open_edit(
    context: BoltContext, client: WebClient, body: dict[str, Any], origin: Origin, uid: str
) -> None:
    deps, actor = deps_of(context), actor_of(context)
    try:
        with deps.db.unit_of_work(readonly=True) as uow:
            record = customers.get_customer(uow, actor, uid)
    except DomainError as exc:
        show_hub(client, deps, actor, origin, notice=Notice(exc.message, ok=False))
        return
    meta = FormMeta(mode="edit", uid=uid, version=record.version, origin=origin)
    _open_or_push(client, body, origin, customer_form(meta, record_values(record)))


def _ask_delete(
    context: BoltContext, client: WebClient, body: dict[str, Any], origin: Origin, uid: str
) -> None:
    deps, actor = deps_of(context), actor_of(context)
    if not actor.is_admin:
        notice = Notice(admin_only_text("delete a customer"), ok=False)
        show_hub(client, deps, actor, origin, notice=notice)
        return
    try:
        with deps.db.unit_of_work(readonly=True) as uow:
            record = customers.get_customer(uow, actor, uid)
    except DomainError as exc:
        show_hub(client, deps, actor, origin, notice=Notice(exc.message, ok=False))
        return
    view = delete_confirmation(record, DeleteMeta(uid=uid, origin=origin))
    _open_or_push(client, body, origin, view)


def register(app: App) -> None:
    """Wire every hub control."""

    @app.action(re.compile(re.escape(TAB_ACTION_PREFIX) + r"(active|archived)$"))
    def on_tab(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        origin = origin_of(body.get("view"))
        tab = "archived" if _first_action(body).get("value") == "archived" else "active"
        origin.hub = origin.hub.model_copy(update={"tab": tab, "page": 1})
        show_hub(client, deps_of(context), actor_of(context), origin)

    @app.action(SEARCH_ACTION)
    def on_search(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        view = body.get("view") or {}
        origin = origin_of(view)
        typed = _first_action(body).get("value") or ""
        origin.hub = origin.hub.model_copy(update={"q": str(typed)[:SEARCH_MAX], "page": 1})
        # The hash makes Slack drop this update if a later keystroke's update landed first.
        show_hub(client, deps_of(context), actor_of(context), origin, view_hash=view.get("hash"))

    @app.action(SORT_ACTION)
    def on_sort(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        origin = origin_of(body.get("view"))
        flipped = (
            SortOrder.NAME_DESC if origin.hub.sort is SortOrder.NAME_ASC else SortOrder.NAME_ASC
        )
        origin.hub = origin.hub.model_copy(update={"sort": flipped, "page": 1})
        show_hub(client, deps_of(context), actor_of(context), origin)

    @app.action(re.compile(r"^hub\.page\.(prev|next)$"))
    def on_page(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        origin = origin_of(body.get("view"))
        pressed = _first_action(body)
        back = pressed.get("action_id") == PREV_ACTION
        edge = pressed.get("value")
        edge = edge if isinstance(edge, str) and UID.match(edge) else ""
        origin.hub = origin.hub.model_copy(
            update={
                "page": max(1, origin.hub.page + (-1 if back else 1)),
                "after": "" if back else edge,
                "before": edge if back else "",
            }
        )
        show_hub(client, deps_of(context), actor_of(context), origin)

    @app.action(CREATE_ACTION)
    def on_create(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        origin = origin_of(body.get("view"))
        _open_or_push(client, body, origin, customer_form(FormMeta(origin=origin), {}))

    @app.action(OPEN_ACTION)
    def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        uid = str(_first_action(body).get("value") or "")
        if UID.match(uid):
            _open_details(context, client, body, origin_of(body.get("view")), uid)

    @app.action(ROW_MENU_ACTION)
    def on_row_menu(
        ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        ack()
        verb, _, uid = chosen_value(_first_action(body)).partition("|")
        if not UID.match(uid):
            return
        origin = origin_of(body.get("view"))
        if verb == "manage":
            _open_details(context, client, body, origin, uid)
        elif verb == "edit":
            _open_edit(context, client, body, origin, uid)
        elif verb in {"archive", "activate"}:
            _archive_toggle(context, client, origin, verb, uid)
        elif verb == "delete":
            _ask_delete(context, client, body, origin, uid)

    @app.action(UNDO_ACTION)
    def on_undo(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        verb, _, uid = str(_first_action(body).get("value") or "").partition("|")
        if verb in {"archive", "activate"} and UID.match(uid):
            _archive_toggle(context, client, origin_of(body.get("view")), verb, uid)

    @app.view(HUB_CALLBACK_ID)
    def on_hub_submit(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        """The modal's Search button: same as typing, answered in the submission response."""
        origin = origin_of(view)
        typed = state_values(view).get(SEARCH_BLOCK)
        element = typed.get(SEARCH_ACTION) if isinstance(typed, dict) else None
        value = element.get("value") if isinstance(element, dict) else None
        typed_text = value if isinstance(value, str) else ""
        state = origin.hub.model_copy(update={"q": typed_text[:SEARCH_MAX], "page": 1})
        ack(
            response_action="update",
            view=render_hub(deps_of(context), actor_of(context), state, home=False),
        )
