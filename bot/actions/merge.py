"""Merge Customer (admins only): pick the customer to keep, preview what moves, merge."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request, Submission
from bot.surfaces.customer_details import DetailsControl, show_details
from bot.surfaces.duplicates import show_report
from bot.surfaces.hub import show_hub
from bot.surfaces.redraws import Shown, redraw
from bot.views.blocks import modal, section
from bot.views.customer_details import MERGE_ACTION
from bot.views.merge import (
    CALLBACK_ID,
    MAX_CANDIDATES,
    REASON_BLOCK,
    TARGET_ACTION,
    TARGET_BLOCK,
    MergeMeta,
    candidate_options,
    merge_form,
    moved_text,
    submitted_reason,
    submitted_target,
)
from bot.views.notice import Notice
from bot.views.origin import Tab
from bot.views.payload import chosen_value, first_action
from core.errors import DomainError, ValidationFailed
from core.services import account, customers

REFUSED = "Only an admin can merge customers; ask an admin to do it."


def _reason(exc: DomainError) -> str:
    """The refusal worded for the select: its own field message when the service gave one."""
    if isinstance(exc, ValidationFailed):
        return " ".join(exc.errors.values())
    return exc.message


def on_merge(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Merge Customer: the form, for admins."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is None:
        return
    if not control.request.actor.is_admin:
        control.tell(REFUSED)
        return
    uid = control.details.uid
    source = control.read(lambda uow, actor: customers.get_customer(uow, actor, uid))
    if source is not None:
        control.push(
            merge_form(source, MergeMeta(view_id=control.view_id, details=control.details))
        )


def on_suggest(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The customers matching what is typed in the picker (never the one being merged)."""
    meta = MergeMeta.parse((body.get("view") or {}).get("private_metadata"))
    request = Request.of(context, client)
    if meta is None or not request.actor.is_admin:
        ack(options=[])
        return
    typed, uid = str(body.get("value") or "")[:100], meta.details.uid
    try:
        found = request.read(
            lambda uow, actor: account.merge_candidates(uow, actor, uid, typed, MAX_CANDIDATES)
        )
    except DomainError:
        found = []
    ack(options=candidate_options(found))


def _preview(request: Request, meta: MergeMeta, target: str) -> dict[str, Any]:
    """The form showing what would move to `target`, or why it can't be chosen."""
    source_uid, actor = meta.details.uid, request.actor
    try:
        with request.deps.db.unit_of_work(readonly=True) as uow:
            try:
                preview = account.merge_preview(uow, actor, source_uid, target)
                return merge_form(preview.source, meta, preview=preview)
            except DomainError as exc:
                source = customers.get_customer(uow, actor, source_uid)
                return merge_form(source, meta, problem=_reason(exc))
    except DomainError as exc:
        return modal("Merge Customer", [section(exc.message)], callback_id="merge.gone")


def on_pick(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A customer to keep was picked: preview what moves."""
    ack()
    view = body.get("view") or {}
    meta = MergeMeta.parse(view.get("private_metadata"))
    target = chosen_value(first_action(body))
    if meta is None or not target:
        return
    request = Request.of(context, client)
    redraw(request, Shown.of(body), lambda: _preview(request, meta, target), "merge preview")


def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Merge: move everything to the customer kept, archive this one."""
    form = Submission.of(MergeMeta, view, context, client)
    if form is None:
        ack()
        return
    meta, target = form.meta, submitted_target(form.state)
    why = submitted_reason(form.state)
    try:
        merged = form.request.write(
            lambda uow, actor: account.merge_customers(
                uow, actor, meta.details.uid, target, reason=why
            )
        )
    except ValidationFailed as exc:
        # Nothing moved; the select and the reason keep what was chosen and typed.
        ack(response_action="errors", errors=_field_errors(exc))
        return
    except DomainError as exc:
        ack(response_action="errors", errors={TARGET_BLOCK: _reason(exc)})
        return
    ack()
    source, kept = merged.source, merged.target
    notice = Notice(
        f"Merged {source.full_name} into {kept.full_name} (UID {kept.uid}): moved "
        f"{moved_text(merged.counts)}. {source.full_name} is archived."
    )
    if meta.report_view_id:
        show_report(form.request, meta.report_view_id, notice)
        return
    show_details(form.request, meta.view_id, meta.details.showing(Tab.ACCOUNT), notice=notice)
    show_hub(form.request, meta.details.origin)


def _field_errors(exc: ValidationFailed) -> dict[str, str]:
    """The service's field errors under the reason box or the select."""
    errors: dict[str, str] = {}
    for field, message in exc.errors.items():
        block = REASON_BLOCK if field == "reason" else TARGET_BLOCK
        errors[block] = f"{errors[block]} {message}" if block in errors else message
    return errors


def register(app: App) -> None:
    """Wire the merge button, the customer search, the preview and the confirmation."""
    app.action(MERGE_ACTION)(on_merge)
    app.options(TARGET_ACTION)(on_suggest)
    app.action(TARGET_ACTION)(on_pick)
    app.view(CALLBACK_ID)(on_submit)
