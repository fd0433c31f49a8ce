"""Tags and marketing consent: the tag picker's suggestions, Edit tags and Marketing consent
on a customer's details, and the admins' Tags modal on Home."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request, Submission
from bot.surfaces.customer_details import DetailsControl
from bot.surfaces.hub import HubControl
from bot.surfaces.tags import (
    apply_tags_admin,
    open_consent_form,
    open_tags_admin,
    open_tags_form,
    save_consent,
    save_tags,
    suggestions,
)
from bot.views.tags import (
    ADMIN_CALLBACK,
    CONSENT_ACTION,
    CONSENT_CALLBACK,
    EDIT_ACTION,
    OPEN_ACTION,
    PICK_ACTION,
    TAGS_CALLBACK,
    ConsentFormMeta,
    TagsAdminMeta,
    TagsFormMeta,
    refused_modal,
)


def on_suggest(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The workspace's tags matching what is typed, and what is typed as a new one."""
    ack(options=suggestions(Request.of(context, client), str(body.get("value") or "")))


def on_edit(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Edit tags on the details."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is not None:
        open_tags_form(control)


def on_save(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Save in Edit tags."""
    form = Submission.or_stale(TagsFormMeta, view, context, client, ack, refused_modal)
    if form is not None:
        save_tags(ack, form)


def on_consent(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Change beside Marketing consent on the details."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is not None:
        open_consent_form(control)


def on_consent_save(
    ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    """Save in Marketing consent."""
    form = Submission.or_stale(ConsentFormMeta, view, context, client, ack, refused_modal)
    if form is not None:
        save_consent(ack, form)


def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Manage tags on Home (admins)."""
    ack()
    open_tags_admin(HubControl.of(body, context, client))


def on_apply(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Apply in the Tags modal: rename or merge."""
    form = Submission.or_stale(TagsAdminMeta, view, context, client, ack, refused_modal)
    if form is not None:
        apply_tags_admin(ack, form)


def register(app: App) -> None:
    """Wire the picker's suggestions, Edit tags, Marketing consent and the Tags modal."""
    app.options(PICK_ACTION)(on_suggest)
    app.action(EDIT_ACTION)(on_edit)
    app.view(TAGS_CALLBACK)(on_save)
    app.action(CONSENT_ACTION)(on_consent)
    app.view(CONSENT_CALLBACK)(on_consent_save)
    app.action(OPEN_ACTION)(on_open)
    app.view(ADMIN_CALLBACK)(on_apply)
