"""Possible duplicates (admins): open the list, Compare & merge a pair, Not a duplicate."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces.duplicates import open_report, show_report
from bot.views.duplicates import COMPARE_ACTION, DISMISS_ACTION, OPEN_ACTION, read_pair
from bot.views.merge import MergeMeta, merge_form
from bot.views.notice import Notice
from bot.views.payload import first_action
from bot.views.tabs import DetailsMeta
from core.errors import DomainError
from core.services import account, duplicates


def _pair_of(body: dict[str, Any]) -> tuple[str, str] | None:
    return read_pair(str(first_action(body).get("value") or ""))


def _view_id(body: dict[str, Any]) -> str:
    view = body.get("view")
    return str(view.get("id") or "") if isinstance(view, dict) else ""


def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Review duplicates (Home): the list, for admins."""
    ack()
    open_report(Request.of(context, client), str(body.get("trigger_id") or ""))


def on_compare(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Compare & merge: the merge preview of the pair, over the list."""
    ack()
    pair, view_id = _pair_of(body), _view_id(body)
    if pair is None or not view_id:
        return
    keep, other = pair
    request = Request.of(context, client)
    try:
        preview = request.read(lambda uow, actor: account.merge_preview(uow, actor, other, keep))
    except DomainError as exc:
        show_report(request, view_id, Notice(exc.message, ok=False))
        return
    meta = MergeMeta(view_id="", details=DetailsMeta(uid=other), report_view_id=view_id)
    client.views_push(
        trigger_id=str(body.get("trigger_id") or ""),
        view=merge_form(preview.source, meta, preview=preview),
    )


def on_dismiss(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Not a duplicate: remembered, and the list shown without the pair."""
    ack()
    pair, view_id = _pair_of(body), _view_id(body)
    if pair is None or not view_id:
        return
    request = Request.of(context, client)
    try:
        request.write(lambda uow, actor: duplicates.mark_not_duplicate(uow, actor, *pair))
    except DomainError as exc:
        show_report(request, view_id, Notice(exc.message, ok=False))
        return
    show_report(request, view_id, Notice("Noted: that pair won't be suggested again."))


def register(app: App) -> None:
    """Wire Review duplicates, Compare & merge and Not a duplicate."""
    app.action(OPEN_ACTION)(on_open)
    app.action(COMPARE_ACTION)(on_compare)
    app.action(DISMISS_ACTION)(on_dismiss)
