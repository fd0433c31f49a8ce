"""Anonymise (admins only): the Account tab's button, its confirmation, and the submission."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request, Submission
from bot.surfaces.customer_details import DetailsControl, show_details
from bot.surfaces.hub import show_hub
from bot.views.blocks import modal, section
from bot.views.customer_anonymise import (
    ANONYMISE_CALLBACK_ID,
    REFUSED_CALLBACK_ID,
    AnonymiseMeta,
    anonymise_confirmation,
)
from bot.views.customer_details import ANONYMISE_ACTION
from bot.views.messages import admin_only_text
from bot.views.notice import Notice
from bot.views.origin import DetailsState, Tab
from bot.views.tabs import DetailsMeta
from core.errors import DomainError
from core.services import anonymise, customers


def on_anonymise(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Anonymise on the Account tab: the confirmation, pushed over the details, for admins."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is None:
        return
    if not control.request.actor.is_admin:
        control.tell(admin_only_text("anonymise a customer"))
        return
    uid = control.details.uid
    record = control.read(lambda uow, actor: customers.get_customer(uow, actor, uid))
    if record is None:
        return
    # The details underneath are refreshed afterwards on the tab they show.
    origin = control.details.origin.model_copy(
        update={"details_view_id": control.view_id, "details": control.details.state}
    )
    control.push(anonymise_confirmation(record, AnonymiseMeta(uid=uid, origin=origin)))


def _show_done(request: Request, meta: AnonymiseMeta, text: str) -> None:
    """The details it was asked from (on the Account tab) and the hub, with `text`."""
    origin = meta.origin
    if origin.details_view_id:
        hub_origin = origin.model_copy(update={"details_view_id": "", "details": DetailsState()})
        details = DetailsMeta(uid=meta.uid, state=DetailsState(tab=Tab.ACCOUNT), origin=hub_origin)
        show_details(request, origin.details_view_id, details, notice=Notice(text, ok=True))
    show_hub(request, origin, notice=Notice(text, ok=True))


def on_confirm(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Anonymise: erase the person's details, keep the books, then say so where it was asked."""
    form = Submission.of(AnonymiseMeta, view, context, client)
    if form is None:
        ack()
        return
    uid = form.meta.uid
    try:
        done = form.request.write(lambda uow, actor: anonymise.anonymise_customer(uow, actor, uid))
    except DomainError as exc:
        refused = modal("Not anonymised", [section(exc.message)], callback_id=REFUSED_CALLBACK_ID)
        ack(response_action="update", view=refused)
        return
    ack()
    if done.already:
        text = f"Customer {uid} was already anonymised; nothing more to erase."
    else:
        merged = f", and {done.merged} record(s) merged into them," if done.merged else ""
        text = (
            f"Anonymised customer {uid}{merged}: their personal details are erased; bookings "
            "and payments are kept for the accounts."
        )
    _show_done(form.request, form.meta, text)


def register(app: App) -> None:
    """Wire the button and the confirmation."""
    app.action(ANONYMISE_ACTION)(on_anonymise)
    app.view(ANONYMISE_CALLBACK_ID)(on_confirm)
