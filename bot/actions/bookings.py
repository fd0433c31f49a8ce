"""The Bookings tab's listeners: the session search, Book an Event, Transfer and Refund forms."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request, Submission
from bot.surfaces import bookings as surface
from bot.surfaces.commerce import Change, Done, finish, redraw_form, refuse_now
from bot.views.bookings import (
    AMOUNT_BLOCK,
    BOOK_CALLBACK,
    BOOK_OCCURRENCE_ACTION,
    BOOK_PREFIX,
    MAX_SUGGESTIONS,
    OCCURRENCE_ACTIONS,
    OCCURRENCE_BLOCK,
    REFUND_CALLBACK,
    TRANSFER_CALLBACK,
    booked_notice,
    occurrence_options,
    transferred_notice,
)
from bot.views.commerce import (
    INTENT_BLOCK,
    CommerceMeta,
    FormValues,
    PaymentForm,
    parse_money,
    payment_choice,
)
from bot.views.origin import Tab
from core.actor import Actor
from core.db import UnitOfWork
from core.services import bookings
from core.services.refunds import refund_booking


def on_suggest(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The sessions matching what is typed in a session picker."""
    typed = str(body.get("value") or "")[:100]
    found = Request.of(context, client).read(
        lambda uow, actor: bookings.upcoming_occurrences(uow, actor, typed, limit=MAX_SUGGESTIONS)
    )
    ack(options=occurrence_options(found))


def on_change(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A session or payment method was chosen: the booking form again, as filled in."""
    ack()
    redraw_form(body, Request.of(context, client), surface.book_form)


def on_book(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Book an Event submitted: book the session, or say what to fix."""
    form = Submission.of(CommerceMeta, view, context, client)
    if form is None:
        ack()
        return
    meta, values = form.meta, FormValues.of(view)
    filled = PaymentForm.read(values, surface.methods(form.request))
    payment, errors = payment_choice(filled, form.request.deps.settings.currency)
    occurrence_id = values.row_id(OCCURRENCE_BLOCK)
    if occurrence_id is None:
        errors[OCCURRENCE_BLOCK] = "Choose the session to book."
    redraw = partial(surface.book_form, form.request, meta, values)
    if payment is None or occurrence_id is None:
        refuse_now(ack, view, errors, redraw)
        return
    chosen, paid, gateway = occurrence_id, payment, form.request.deps.gateway

    def book(uow: UnitOfWork, actor: Actor) -> Done:
        row = bookings.book_event(uow, actor, meta.details.uid, chosen, paid, gateway=gateway)
        return Done(booked_notice(row, meta.name, filled), Tab.BOOKINGS)

    finish(ack, form, Change(book, OCCURRENCE_BLOCK, INTENT_BLOCK), redraw)


def on_transfer(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Transfer submitted: move the booking to the chosen session."""
    form = Submission.of(CommerceMeta, view, context, client)
    if form is None or form.meta.row_id is None:
        ack()
        return
    meta, values, booking_id = form.meta, FormValues.of(view), form.meta.row_id
    redraw = partial(surface.transfer, form.request, meta, values)
    target = values.row_id(OCCURRENCE_BLOCK)
    if target is None:
        refuse_now(ack, view, {OCCURRENCE_BLOCK: "Choose the session to move it to."}, redraw)
        return
    chosen = target

    def move(uow: UnitOfWork, actor: Actor) -> Done:
        row = bookings.transfer_booking(uow, actor, booking_id, chosen, uid=meta.details.uid)
        return Done(transferred_notice(row))

    finish(ack, form, Change(move, OCCURRENCE_BLOCK), redraw)


def on_refund(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Refund submitted: refund the amount through Stripe, at most once."""
    form = Submission.of(CommerceMeta, view, context, client)
    if form is None or form.meta.row_id is None:
        ack()
        return
    meta, typed = form.meta, FormValues.of(view).text(AMOUNT_BLOCK)
    booking_id, gateway = form.meta.row_id, form.request.deps.gateway
    redraw = partial(surface.refund, form.request, meta, typed)
    try:
        amount = parse_money(typed, form.request.deps.settings.currency)
    except ValueError as exc:
        refuse_now(ack, view, {AMOUNT_BLOCK: str(exc)}, redraw)
        return

    def refund(uow: UnitOfWork, actor: Actor) -> Done:
        outcome = refund_booking(
            uow,
            actor,
            booking_id,
            amount_minor=amount,
            gateway=gateway,
            expected_refunded_minor=meta.refunded_minor,
            uid=meta.details.uid,
        )
        return Done(f"Booking #{booking_id}: {outcome.summary}")

    finish(ack, form, Change(refund, AMOUNT_BLOCK), redraw)


def register(app: App) -> None:
    """Wire the session search, the booking form, and the Transfer and Refund forms."""
    app.options(re.compile("^(" + "|".join(map(re.escape, OCCURRENCE_ACTIONS)) + ")$"))(on_suggest)
    app.action(re.compile(rf"^({re.escape(BOOK_OCCURRENCE_ACTION)}|{BOOK_PREFIX}\.payment)$"))(
        on_change
    )
    app.view(BOOK_CALLBACK)(on_book)
    app.view(TRANSFER_CALLBACK)(on_transfer)
    app.view(REFUND_CALLBACK)(on_refund)
