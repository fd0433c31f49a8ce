"""The Passes tab's listeners: the Assign Pass form (and its redraw), Adjust credits and Extend."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request, Submission
from bot.surfaces import passes as surface
from bot.surfaces.commerce import Change, Done, finish, redraw_form, refuse_now
from bot.views.commerce import (
    INTENT_BLOCK,
    CommerceMeta,
    FormValues,
    PaymentForm,
    payment_choice,
    whole_number,
)
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
from core.services.checkout import ManualPayment, StripePayment


def on_change(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A payment method was chosen: the Assign Pass form again, as filled in."""
    ack()
    redraw_form(body, Request.of(context, client), surface.assign_form)


def on_assign(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Assign Pass submitted: assign it, or say what to fix."""
    form = Submission.of(CommerceMeta, view, context, client)
    if form is None:
        ack()
        return
    meta, values, request = form.meta, FormValues.of(view), form.request
    payment, errors = payment_choice(
        PaymentForm.read(values, surface.methods(request)), request.deps.settings.currency
    )
    kind_id = values.row_id(TYPE_BLOCK)
    if kind_id is None:
        errors[TYPE_BLOCK] = "Choose the pass type."
    redraw = partial(surface.assign_form, request, meta, values)
    if not isinstance(payment, ManualPayment | StripePayment) or kind_id is None:
        refuse_now(ack, view, errors, redraw)
        return
    kind, paid, first = kind_id, payment, values.day(VALID_FROM_BLOCK)

    def assign(uow: UnitOfWork, actor: Actor) -> Done:
        row = passes.assign_pass(
            uow,
            actor,
            meta.details.uid,
            kind,
            valid_from=first,
            payment=paid,
            gateway=request.deps.gateway,
        )
        return Done(assigned_notice(row, meta.name), Tab.PASSES)

    finish(ack, form, Change(assign, TYPE_BLOCK, INTENT_BLOCK), redraw)


def on_adjust(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Adjust credits submitted: add or take credits, with the reason recorded."""
    form = Submission.of(CommerceMeta, view, context, client)
    if form is None or form.meta.row_id is None:
        ack()
        return
    meta, values, pass_id = form.meta, FormValues.of(view), form.meta.row_id
    redraw = partial(surface.adjust, form.request, meta, values)
    delta = whole_number(values.text(DELTA_BLOCK))
    if delta is None:
        refuse_now(ack, view, {DELTA_BLOCK: "Enter a whole number, such as 2 or -1."}, redraw)
        return
    change, reason, uid = delta, values.text(REASON_BLOCK), meta.details.uid

    def adjust(uow: UnitOfWork, actor: Actor) -> Done:
        row = passes.adjust_pass_credits(uow, actor, pass_id, change, reason, uid=uid)
        return Done(adjusted_notice(row))

    finish(ack, form, Change(adjust, DELTA_BLOCK), redraw)


def on_extend(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Extend submitted: the pass's new last day."""
    form = Submission.of(CommerceMeta, view, context, client)
    if form is None or form.meta.row_id is None:
        ack()
        return
    meta, values, pass_id = form.meta, FormValues.of(view), form.meta.row_id
    redraw = partial(surface.extend, form.request, meta, values)
    valid_to = values.day(VALID_TO_BLOCK)
    if valid_to is None:
        refuse_now(ack, view, {VALID_TO_BLOCK: "Choose the new last day."}, redraw)
        return
    last_day, uid = valid_to, meta.details.uid

    def extend(uow: UnitOfWork, actor: Actor) -> Done:
        row = passes.extend_pass(uow, actor, pass_id, last_day, uid=uid)
        return Done(extended_notice(row))

    finish(ack, form, Change(extend, VALID_TO_BLOCK), redraw)


def register(app: App) -> None:
    """Wire the Assign Pass form (and its redraw), Adjust credits and Extend."""
    app.action(f"{ASSIGN_PREFIX}.payment")(on_change)
    app.view(ASSIGN_CALLBACK)(on_assign)
    app.view(ADJUST_CALLBACK)(on_adjust)
    app.view(EXTEND_CALLBACK)(on_extend)
