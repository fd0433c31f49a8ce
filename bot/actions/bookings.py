"""The Bookings tab's commerce: Book an Event, and a booking's Transfer, Cancel and Refund."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.deps import Deps, actor_of, deps_of
from bot.surfaces.commerce import (
    Done,
    Opening,
    Outcome,
    finish,
    payment_methods,
    redraw_form,
    refusal,
    refuse_now,
    row_of,
)
from bot.views.bookings import (
    AMOUNT_BLOCK,
    BOOK_CALLBACK,
    BOOK_OCCURRENCE_ACTION,
    BOOK_PREFIX,
    MAX_SUGGESTIONS,
    OCCURRENCE_ACTIONS,
    OCCURRENCE_BLOCK,
    REFUND_CALLBACK,
    SESSION_LIST_MAX,
    TRANSFER_CALLBACK,
    BookEventForm,
    book_event_form,
    booked_notice,
    cancel_booking_confirmation,
    occurrence_options,
    refund_form,
    transfer_form,
    transferred_notice,
)
from bot.views.commerce.form_state import (
    INTENT_BLOCK,
    CommerceMeta,
    FormValues,
    Method,
    PaymentForm,
)
from bot.views.commerce.parsing import parse_money
from bot.views.commerce.payment import payment_choice
from bot.views.origin import Tab
from core.actor import Actor
from core.db import UnitOfWork
from core.errors import DomainError
from core.models import PaymentMethod
from core.services import bookings
from core.services.bookings import BookingRow, OccurrenceOption
from core.services.refunds import refund_booking

REFUND_REFUSED = "Only an admin can refund a payment; ask one of the workspace's admins."
NOT_STRIPE = (
    "Booking #{id} was not paid through Stripe, so there is nothing to refund from here; "
    "refund it the way it was paid."
)


def _methods(deps: Deps) -> tuple[Method, ...]:
    return payment_methods(deps, "manual", "package", "stripe")


def _booking(uow: UnitOfWork, actor: Actor, uid: str, booking_id: int) -> BookingRow:
    page = bookings.list_bookings(uow, actor, uid, query=f"#{booking_id}", page_size=1)
    return row_of(page, "Booking", booking_id)


def _sessions(uow: UnitOfWork, actor: Actor) -> list[OccurrenceOption] | None:
    """The sessions to come when few enough to list; None when the picker must search."""
    found = bookings.upcoming_occurrences(uow, actor, limit=SESSION_LIST_MAX + 1)
    return found if len(found) <= SESSION_LIST_MAX else None


def _book_form(
    deps: Deps, actor: Actor, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """The booking form as filled in, with the passes that can pay for the chosen session."""
    payment = PaymentForm.read(values, _methods(deps))
    occurrence_id = values.row_id(OCCURRENCE_BLOCK)
    passes = None
    with deps.db.unit_of_work(readonly=True) as uow:
        sessions = _sessions(uow, actor)
        if payment.method == "package" and occurrence_id is not None:
            try:
                passes = bookings.usable_passes(uow, actor, meta.details.uid, occurrence_id)
            except DomainError as exc:
                passes, problem = [], exc.message
    return book_event_form(
        meta,
        BookEventForm(
            sessions=sessions,
            occurrence=values.option(OCCURRENCE_BLOCK),
            payment=payment,
            methods=_methods(deps),
            passes=passes,
            problem=problem,
        ),
        currency=deps.settings.currency,
    )


def open_book_event(opening: Opening) -> None:
    """Book an Event: the form, empty."""
    customer = opening.customer_for("booking")
    if customer is None:
        return
    meta = opening.meta(name=customer.full_name)
    opening.push(_book_form(opening.deps, opening.actor, meta, FormValues()))


def _transfer_form(
    deps: Deps, actor: Actor, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    assert meta.row_id is not None
    with deps.db.unit_of_work(readonly=True) as uow:
        row = _booking(uow, actor, meta.details.uid, meta.row_id)
        sessions = _sessions(uow, actor)
    chosen = values.option(OCCURRENCE_BLOCK)
    return transfer_form(meta, row, sessions=sessions, chosen=chosen, problem=problem)


def _open_transfer(opening: Opening, booking_id: int) -> None:
    meta = opening.meta(row_id=booking_id)
    try:
        form = _transfer_form(opening.deps, opening.actor, meta, FormValues())
    except DomainError as exc:
        opening.tell(exc.message)
        return
    opening.push(form)


def _open_cancel(opening: Opening, booking_id: int) -> None:
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: _booking(uow, actor, uid, booking_id))
    if row is not None:
        meta = opening.meta(row_id=row.id, tab=Tab.BOOKINGS, verb="cancel")
        opening.push(cancel_booking_confirmation(meta, row))


def _open_refund(opening: Opening, booking_id: int) -> None:
    # Said before the form opens, so nobody prepares a refund they can't make.
    if not opening.actor.is_admin:
        opening.tell(REFUND_REFUSED)
        return
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: _booking(uow, actor, uid, booking_id))
    if row is None:
        return
    if row.payment_method is not PaymentMethod.STRIPE:
        opening.tell(NOT_STRIPE.format(id=row.id))
        return
    opening.push(refund_form(opening.meta(row_id=row.id, refunded_minor=row.refunded_minor), row))


def _cancel(deps: Deps, actor: Actor, booking_id: int, uid: str) -> str:
    with deps.db.unit_of_work() as uow:
        return bookings.cancel_booking(uow, actor, booking_id, uid=uid).message


ROW_ACTIONS = {
    (Tab.BOOKINGS, "transfer"): _open_transfer,
    (Tab.BOOKINGS, "cancel"): _open_cancel,
    (Tab.BOOKINGS, "refund"): _open_refund,
}
CONFIRMED = {(Tab.BOOKINGS, "cancel"): _cancel}


def register(app: App) -> None:
    """Wire the session search, the booking form, and the Transfer and Refund forms."""

    @app.options(re.compile("^(" + "|".join(map(re.escape, OCCURRENCE_ACTIONS)) + ")$"))
    def on_suggest(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        typed = str(body.get("value") or "")[:100]
        with deps_of(context).db.unit_of_work(readonly=True) as uow:
            found = bookings.upcoming_occurrences(
                uow, actor_of(context), typed, limit=MAX_SUGGESTIONS
            )
        ack(options=occurrence_options(found))

    @app.action(re.compile(rf"^({re.escape(BOOK_OCCURRENCE_ACTION)}|{BOOK_PREFIX}\.payment)$"))
    def on_change(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        deps, actor = deps_of(context), actor_of(context)
        redraw_form(body, client, lambda meta, values: _book_form(deps, actor, meta, values))

    @app.view(BOOK_CALLBACK)
    def on_book(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        meta = CommerceMeta.parse(view.get("private_metadata"))
        if meta is None:
            ack()
            return
        deps, actor = deps_of(context), actor_of(context)
        values = FormValues.of(view)
        form = PaymentForm.read(values, _methods(deps))
        payment, errors = payment_choice(form, deps.settings.currency)
        occurrence_id = values.row_id(OCCURRENCE_BLOCK)
        if occurrence_id is None:
            errors[OCCURRENCE_BLOCK] = "Choose the session to book."

        def redraw(problem: str) -> dict[str, Any]:
            return _book_form(deps, actor, meta, values, problem)

        if payment is None or occurrence_id is None:
            refuse_now(ack, view, errors, redraw)
            return
        chosen, paid = occurrence_id, payment

        def work() -> Outcome:
            try:
                with deps.db.unit_of_work() as uow:
                    row = bookings.book_event(
                        uow, actor, meta.details.uid, chosen, paid, gateway=deps.gateway
                    )
            except DomainError as exc:
                return refusal(view, exc, fallback=OCCURRENCE_BLOCK, payment_block=INTENT_BLOCK)
            return Done(booked_notice(row, meta.name, form), Tab.BOOKINGS)

        finish(ack, client, deps, actor, view, meta, work, redraw)

    @app.view(TRANSFER_CALLBACK)
    def on_transfer(
        ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        meta = CommerceMeta.parse(view.get("private_metadata"))
        if meta is None or meta.row_id is None:
            ack()
            return
        deps, actor = deps_of(context), actor_of(context)
        values = FormValues.of(view)
        booking_id = meta.row_id

        def redraw(problem: str) -> dict[str, Any]:
            return _transfer_form(deps, actor, meta, values, problem)

        occurrence_id = values.row_id(OCCURRENCE_BLOCK)
        if occurrence_id is None:
            refuse_now(ack, view, {OCCURRENCE_BLOCK: "Choose the session to move it to."}, redraw)
            return
        target = occurrence_id

        def work() -> Outcome:
            try:
                with deps.db.unit_of_work() as uow:
                    row = bookings.transfer_booking(
                        uow, actor, booking_id, target, uid=meta.details.uid
                    )
            except DomainError as exc:
                return refusal(view, exc, fallback=OCCURRENCE_BLOCK)
            return Done(transferred_notice(row))

        finish(ack, client, deps, actor, view, meta, work, redraw)

    @app.view(REFUND_CALLBACK)
    def on_refund(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        meta = CommerceMeta.parse(view.get("private_metadata"))
        if meta is None or meta.row_id is None:
            ack()
            return
        deps, actor = deps_of(context), actor_of(context)
        values = FormValues.of(view)
        booking_id, uid = meta.row_id, meta.details.uid

        def redraw(problem: str) -> dict[str, Any]:
            with deps.db.unit_of_work(readonly=True) as uow:
                row = _booking(uow, actor, uid, booking_id)
            # The form now shows what is refunded; submitting it again refunds from there.
            fresh = meta.model_copy(update={"refunded_minor": row.refunded_minor})
            return refund_form(fresh, row, amount=values.text(AMOUNT_BLOCK), problem=problem)

        try:
            amount = parse_money(values.text(AMOUNT_BLOCK), deps.settings.currency)
        except ValueError as exc:
            refuse_now(ack, view, {AMOUNT_BLOCK: str(exc)}, redraw)
            return

        def work() -> Outcome:
            try:
                with deps.db.unit_of_work() as uow:
                    outcome = refund_booking(
                        uow,
                        actor,
                        booking_id,
                        amount_minor=amount,
                        gateway=deps.gateway,
                        expected_refunded_minor=meta.refunded_minor,
                        uid=uid,
                    )
            except DomainError as exc:
                return refusal(view, exc, fallback=AMOUNT_BLOCK)
            return Done(f"Booking #{booking_id}: {outcome.summary}")

        finish(ack, client, deps, actor, view, meta, work, redraw)
