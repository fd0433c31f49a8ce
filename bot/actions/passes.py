"""The Passes tab's listeners: the Assign Pass form (and its redraw), Adjust credits and Extend."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.surfaces import passes as surface
from bot.surfaces.commerce import Change, Done, commerce_form, redraws
from bot.surfaces.payment_links import finish_with_link
from bot.views.commerce.form_state import INTENT_BLOCK, PaymentForm
from bot.views.commerce.parsing import whole_number
from bot.views.commerce.payment import payment_choice
from bot.views.origin import Tab
from bot.views.passes import (
    ADJUST_CALLBACK,
    ASSIGN_CALLBACK,
    ASSIGN_PREFIX,
    DELTA_BLOCK,
    EXTEND_CALLBACK,
    REASON_BLOCK,
    TYPE_BLOCK,
    VALID_FROM_BLOCK,
    VALID_TO_BLOCK,
    adjusted_notice,
    assigned_notice,
    extended_notice,
)
from core.actor import Actor
from core.db import UnitOfWork
from core.services import passes
from core.services.checkout import LinkPayment, ManualPayment, StripePayment

on_change = redraws(surface.assign_form)


def on_assign(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Assign Pass submitted: assign it, or say what to fix."""
    form = commerce_form(ack, view, context, client, surface.assign_form)
    if form is None:
        return
    meta, values, gateway = form.meta, form.values, form.request.gateway
    filled = PaymentForm.read(values, surface.methods(form.request, form.meta))
    payment, errors = payment_choice(filled, form.request.currency)
    kind_id = values.row_id(TYPE_BLOCK)
    if kind_id is None:
        errors[TYPE_BLOCK] = "Choose the pass type."
    if not isinstance(payment, ManualPayment | StripePayment | LinkPayment) or kind_id is None:
        form.refuse(errors)
        return
    kind, paid, first, uid = kind_id, payment, values.day(VALID_FROM_BLOCK), meta.details.uid
    if isinstance(paid, LinkPayment):
        finish_with_link(
            form,
            "pass",
            lambda uow, actor: (
                passes.assign_pass(uow, actor, uid, kind, valid_from=first, payment=paid).id
            ),
            TYPE_BLOCK,
            Tab.PASSES,
        )
        return

    def assign(uow: UnitOfWork, actor: Actor) -> Done:
        row = passes.assign_pass(
            uow, actor, meta.details.uid, kind, valid_from=first, payment=paid, gateway=gateway
        )
        return Done(assigned_notice(row, meta.name), Tab.PASSES)

    form.finish(Change(assign, TYPE_BLOCK, INTENT_BLOCK))


def on_adjust(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Adjust credits submitted: add or take credits, with the reason recorded."""
    form = commerce_form(ack, view, context, client, surface.adjust, row=True)
    if form is None:
        return
    delta = whole_number(form.values.text(DELTA_BLOCK))
    if delta is None:
        form.refuse({DELTA_BLOCK: "Enter a whole number, such as 2 or -1."})
        return
    change, reason = delta, form.values.text(REASON_BLOCK)
    pass_id, uid = form.row_id, form.meta.details.uid

    def adjust(uow: UnitOfWork, actor: Actor) -> Done:
        row = passes.adjust_pass_credits(uow, actor, pass_id, change, reason, uid=uid)
        return Done(adjusted_notice(row))

    form.finish(Change(adjust, DELTA_BLOCK))


def on_extend(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Extend submitted: the pass's new last day."""
    form = commerce_form(ack, view, context, client, surface.extend, row=True)
    if form is None:
        return
    valid_to = form.values.day(VALID_TO_BLOCK)
    if valid_to is None:
        form.refuse({VALID_TO_BLOCK: "Choose the new last day."})
        return
    last_day, pass_id, uid = valid_to, form.row_id, form.meta.details.uid

    def extend(uow: UnitOfWork, actor: Actor) -> Done:
        row = passes.extend_pass(uow, actor, pass_id, last_day, uid=uid)
        return Done(extended_notice(row))

    form.finish(Change(extend, VALID_TO_BLOCK))


def register(app: App) -> None:
    """Wire the Assign Pass form (and its redraw), Adjust credits and Extend."""
    app.action(f"{ASSIGN_PREFIX}.payment")(on_change)
    app.view(ASSIGN_CALLBACK)(on_assign)
    app.view(ADJUST_CALLBACK)(on_adjust)
    app.view(EXTEND_CALLBACK)(on_extend)
