"""The Bookings tab's listeners: the session search, Book an Event, Transfer and Refund forms."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request
from bot.surfaces import bookings as surface
from bot.surfaces.commerce import Change, Done, StripeChange, commerce_form, redraws
from bot.surfaces.payment_links import finish_with_link
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
from bot.views.commerce.form_state import INTENT_BLOCK, PaymentForm
from bot.views.commerce.parsing import parse_money
from bot.views.commerce.payment import payment_choice
from bot.views.origin import Tab
from core.actor import Actor
from core.db import Transactions, UnitOfWork
from core.services import bookings
from core.services.checkout import LinkPayment
from core.services.refunds import refund_booking

on_change = redraws(surface.book_form)


def on_suggest(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The sessions matching what is typed in a session picker."""
    typed = str(body.get("value") or "")[:100]
    found = Request.of(context, client).read(
        lambda uow, actor: bookings.upcoming_occurrences(uow, actor, typed, limit=MAX_SUGGESTIONS)
    )
    ack(options=occurrence_options(found))


def on_book(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Book an Event submitted: book the session, or say what to fix."""
    form = commerce_form(ack, view, context, client, surface.book_form)
    if form is None:
        return
    meta, values, gateway = form.meta, form.values, form.request.gateway
    filled = PaymentForm.read(values, surface.methods(form.request, form.meta))
    payment, errors = payment_choice(filled, form.request.currency)
    occurrence_id = values.row_id(OCCURRENCE_BLOCK)
    if occurrence_id is None:
        errors[OCCURRENCE_BLOCK] = "Choose the session to book."
    if payment is None or occurrence_id is None:
        form.refuse(errors)
        return
    chosen, paid, uid = occurrence_id, payment, meta.details.uid
    if isinstance(paid, LinkPayment):
        finish_with_link(
            form,
            "booking",
            lambda uow, actor: bookings.book_event(uow, actor, uid, chosen, paid).id,
            OCCURRENCE_BLOCK,
            Tab.BOOKINGS,
        )
        return

    def book(uow: UnitOfWork, actor: Actor) -> Done:
        row = bookings.book_event(uow, actor, uid, chosen, paid, gateway=gateway)
        return Done(booked_notice(row, meta.name, filled), Tab.BOOKINGS)

    form.finish(Change(book, OCCURRENCE_BLOCK, INTENT_BLOCK))


def on_transfer(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Transfer submitted: move the booking to the chosen session."""
    form = commerce_form(ack, view, context, client, surface.transfer, row=True)
    if form is None:
        return
    target, booking_id, uid = (
        form.values.row_id(OCCURRENCE_BLOCK),
        form.row_id,
        form.meta.details.uid,
    )
    if target is None:
        form.refuse({OCCURRENCE_BLOCK: "Choose the session to move it to."})
        return
    chosen = target

    def move(uow: UnitOfWork, actor: Actor) -> Done:
        moved = bookings.transfer_booking(uow, actor, booking_id, chosen, uid=uid)
        notice = transferred_notice(moved.row)
        return Done(f"{notice} {moved.difference}" if moved.difference else notice)

    form.finish(Change(move, OCCURRENCE_BLOCK))


def on_refund(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Refund submitted: refund the amount through Stripe, at most once."""
    form = commerce_form(ack, view, context, client, surface.refund, row=True)
    if form is None:
        return
    meta, booking_id, gateway = form.meta, form.row_id, form.request.gateway
    try:
        amount = parse_money(form.values.text(AMOUNT_BLOCK), form.request.currency)
    except ValueError as exc:
        form.refuse({AMOUNT_BLOCK: str(exc)})
        return

    def refund(db: Transactions, actor: Actor) -> Done:
        outcome = refund_booking(
            db,
            actor,
            booking_id,
            amount_minor=amount,
            gateway=gateway,
            expected_refunded_minor=meta.refunded_minor,
            uid=meta.details.uid,
        )
        return Done(f"Booking #{booking_id}: {outcome.summary}")

    form.finish(StripeChange(refund, AMOUNT_BLOCK))


def register(app: App) -> None:
    """Wire the session search, the booking form, and the Transfer and Refund forms."""
    app.options(re.compile("^(" + "|".join(map(re.escape, OCCURRENCE_ACTIONS)) + ")$"))(on_suggest)
    app.action(re.compile(rf"^({re.escape(BOOK_OCCURRENCE_ACTION)}|{BOOK_PREFIX}\.payment)$"))(
        on_change
    )
    app.view(BOOK_CALLBACK)(on_book)
    app.view(TRANSFER_CALLBACK)(on_transfer)
    app.view(REFUND_CALLBACK)(on_refund)
