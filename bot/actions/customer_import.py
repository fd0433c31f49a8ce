"""`/customers import`'s steps: the file form, the columns, the preview and its Back button."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request, Submission
from bot.surfaces.customer_import import back_to_columns, read_file, show_preview, start_import
from bot.views.customer_import import (
    BACK_ACTION,
    CALLBACK_ID,
    COLUMNS_CALLBACK,
    PREVIEW_CALLBACK,
    ImportMeta,
    message_view,
)
from bot.views.payload import read_metadata


def _stale(text: str) -> dict[str, Any]:
    return message_view(text, ok=False)


def on_file(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Read file pressed: the file's columns, or why it can't be read (under the field)."""
    read_file(ack, Request.of(context, client), view)


def on_columns(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Preview pressed on the columns: the preview, the full report in the admin's DM."""
    form = Submission.or_stale(ImportMeta, view, context, client, ack, _stale)
    if form is not None:
        show_preview(ack, form.request, view, form.meta)


def on_preview(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Import pressed on the preview: the import starts in the background."""
    form = Submission.or_stale(ImportMeta, view, context, client, ack, _stale)
    if form is not None:
        start_import(ack, form.request, form.meta)


def on_back(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Back to columns pressed on the preview."""
    ack()
    view = body.get("view") or {}
    meta = read_metadata(ImportMeta, view.get("private_metadata"))
    if meta is None or not view.get("id"):
        return
    back_to_columns(Request.of(context, client), str(view["id"]), meta)


def register(app: App) -> None:
    """Wire the three steps' submissions and Back to columns."""
    app.view(CALLBACK_ID)(on_file)
    app.view(COLUMNS_CALLBACK)(on_columns)
    app.view(PREVIEW_CALLBACK)(on_preview)
    app.action(BACK_ACTION)(on_back)
