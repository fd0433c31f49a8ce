"""The Delete confirmation's submission (admins only)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Submission
from bot.surfaces.hub import show_hub
from bot.views.blocks import modal, section
from bot.views.customer_anonymise import AnonymiseMeta, anonymise_confirmation
from bot.views.customer_delete import DELETE_CALLBACK_ID, DeleteMeta
from bot.views.notice import Notice
from core.errors import DomainError
from core.services import customers


def on_confirm(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Delete permanently, then show the hub saying so."""
    form = Submission.of(DeleteMeta, view, context, client)
    if form is None:
        ack()
        return
    uid = form.meta.uid
    try:
        try:
            name = form.request.write(lambda uow, actor: customers.delete_customer(uow, actor, uid))
        except customers.HasPayments:
            # Payments were recorded since the confirmation opened: offer what can be done.
            record = form.request.read(lambda uow, actor: customers.get_customer(uow, actor, uid))
            meta = AnonymiseMeta(uid=uid, origin=form.meta.origin)
            offer = anonymise_confirmation(record, meta, instead_of_delete=True)
            ack(response_action="update", view=offer)
            return
    except DomainError as exc:
        # Refused, or (offering Anonymise instead) gone or anonymised meanwhile.
        refused = modal(
            "Not deleted", [section(exc.message)], callback_id="customer_delete.refused"
        )
        ack(response_action="update", view=refused)
        return
    ack()
    notice = Notice(f"Deleted {name} and their history permanently.")
    show_hub(form.request, form.meta.origin, notice=notice)


def register(app: App) -> None:
    """Wire the confirmation."""
    app.view(DELETE_CALLBACK_ID)(on_confirm)
