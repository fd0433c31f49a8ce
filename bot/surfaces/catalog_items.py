"""A kind's catalog items on screen: its list opened from Home, the menus and Add button in
that list, and saving the item modal pushed over it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.request import Request, Submission
from bot.surfaces.form_answers import saved_or_answered
from bot.surfaces.menus import admin_choice
from bot.surfaces.redraws import Shown, redraw
from bot.views.catalog_items import (
    FORMS,
    LINKS_FIELD,
    ItemMeta,
    ItemsMeta,
    item_message,
    item_modal,
    items_modal,
    submitted_item,
)
from bot.views.notice import Notice
from bot.views.payload import chosen_value, first_action, read_metadata
from core.actor import Actor
from core.db import UnitOfWork
from core.errors import DomainError, ValidationFailed
from core.services.catalog_fields import ADMINS_ONLY
from core.services.catalog_items import (
    LinkOption,
    add_item,
    archive_item,
    catalog_items,
    edit_item,
    item_draft,
    link_options,
)
from core.services.catalog_rules import ItemDraft, ItemKind


def _list_view(request: Request, kind: ItemKind, notice: Notice | None = None) -> dict[str, Any]:
    items = request.read(lambda uow, actor: catalog_items(uow, actor, kind))
    return items_modal(kind, items, notice, admin=request.actor.is_admin)


def open_items(request: Request, trigger_id: str, raw_kind: str) -> None:
    """Open the list of one kind's items over Home."""
    kind = next((k for k in FORMS if k.value == raw_kind), None)
    if kind is not None:
        request.client.views_open(trigger_id=trigger_id, view=_list_view(request, kind))


@dataclass(frozen=True)
class ItemsControl:
    """A control pressed in a kind's list modal: the request, the list, and what was pressed."""

    request: Request
    kind: ItemKind
    shown: Shown
    trigger_id: str
    value: str

    @classmethod
    def of(
        cls, body: dict[str, Any], context: BoltContext, client: WebClient
    ) -> ItemsControl | None:
        """The control pressed in `body`, or None when its view is not a list of ours."""
        view = body.get("view")
        view = view if isinstance(view, dict) else {}
        meta = read_metadata(ItemsMeta, view.get("private_metadata"))
        # Inbound requests whose view id is not a Slack id were refused before any listener.
        view_id = str(view.get("id") or "")
        if meta is None or not view_id:
            return None
        action = first_action(body)
        value = action.get("value")
        pressed = value if isinstance(value, str) else chosen_value(action)
        trigger = str(body.get("trigger_id") or "")
        return cls(
            Request.of(context, client), meta.kind, Shown.of(body).changed(), trigger, pressed
        )

    def tell(self, text: str, *, ok: bool = False) -> None:
        """Redraw the list with a notice (a problem unless `ok`)."""
        notice = Notice(text, ok=ok)
        redraw(
            self.request,
            self.shown,
            lambda: _list_view(self.request, self.kind, notice),
            "catalog list update",
        )

    def push_form(self, item_id: int) -> None:
        """Push the item modal over the list: empty to add, or filled with the item to edit."""
        kind = self.kind

        def read(uow: UnitOfWork, actor: Actor) -> tuple[ItemDraft, list[LinkOption]]:
            draft = item_draft(uow, actor, kind, item_id) if item_id else ItemDraft()
            return draft, link_options(uow, actor, kind)

        draft, options = self.request.read(read)
        meta = ItemMeta(kind=kind, item_id=item_id, list_view=self.shown.view_id)
        self.request.client.views_push(
            trigger_id=self.trigger_id, view=item_modal(draft, meta, options)
        )


def add_pressed(control: ItemsControl) -> None:
    """Add pressed in a list: the empty item modal (admins), or why not."""
    if not control.request.actor.is_admin:
        control.tell(ADMINS_ONLY)
        return
    control.push_form(0)


def item_menu(control: ItemsControl) -> None:
    """Edit, Archive or Restore chosen in an item's menu (admins)."""
    chosen = admin_choice(control, {"edit", "archive", "restore"})
    if chosen is None:
        return
    verb, item_id = chosen
    kind = control.kind
    try:
        if verb == "edit":
            control.push_form(item_id)
            return
        archived = verb == "archive"
        title = control.request.write(
            lambda uow, actor: archive_item(uow, actor, kind, item_id, archived=archived)
        )
    except DomainError as exc:
        control.tell(exc.message)
        return
    done = (
        f"Archived {title}: what uses it keeps it; it can't be chosen for anything new."
        if archived
        else f"Restored {title}: it can be chosen again."
    )
    control.tell(done, ok=True)


def _fields(kind: ItemKind) -> set[str]:
    return {spec.name for spec in FORMS[kind]} | {LINKS_FIELD}


def _check_member(request: Request, draft: ItemDraft) -> None:
    """Refuse a chosen Slack user who is not of this workspace (a forged or stale choice)."""
    user = draft.text("slack_user")
    if not user or not request.actor.is_admin:
        return
    try:
        found = request.client.users_info(user=user)["user"]
    except SlackApiError:
        found = {}
    if found.get("team_id") != request.actor.team_id or found.get("deleted"):
        raise ValidationFailed({"slack_user": "Choose a person in this workspace."})


def save_item(ack: Ack, form: Submission[ItemMeta]) -> None:
    """Add or change the submitted item and redraw the list under it, or answer the problems."""
    kind, item_id = form.meta.kind, form.meta.item_id
    draft = submitted_item(kind, form.state)

    def save() -> str:
        _check_member(form.request, draft)
        if item_id:
            done = form.request.write(
                lambda uow, actor: edit_item(uow, actor, kind, item_id, draft)
            )
            return f"Saved {done}." if done else "Nothing changed."
        return f"Added {form.request.write(lambda uow, actor: add_item(uow, actor, kind, draft))}."

    saved = saved_or_answered(ack, save, _fields(kind), item_message)
    if saved is None:
        return
    ack()
    text = saved.value
    if form.meta.list_view:
        notice = Notice(text, ok=True)
        redraw(
            form.request,
            Shown(form.meta.list_view),
            lambda: _list_view(form.request, kind, notice),
            "catalog list update",
        )
