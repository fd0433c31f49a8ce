"""The Bookings tab's forms over a customer's details: Book an Event, Transfer, Cancel and Refund."""

from __future__ import annotations

from typing import Any

from bot.context.request import Request
from bot.surfaces.commerce import Opening, payment_methods, row_of
from bot.surfaces.payment_links import send_link_action
from bot.views.bookings import (
    AMOUNT_BLOCK,
    OCCURRENCE_BLOCK,
    SESSION_LIST_MAX,
    BookEventForm,
    book_event_form,
    cancel_booking_confirmation,
    refund_form,
    transfer_form,
)
from bot.views.commerce.form_state import CommerceMeta, FormValues, Method, PaymentForm
from bot.views.origin import Tab
from core.actor import Actor
from core.db import UnitOfWork
from core.errors import DomainError
from core.models import PaymentMethod
from core.services import bookings
from core.services.bookings import BookingRow, OccurrenceOption

REFUND_REFUSED = "Only an admin can refund a payment; ask one of the workspace's admins."
NO_STRIPE = (
    "Refunds are made through Stripe, which isn't set up for Customer Records (STRIPE_API_KEY); "
    "refund booking #{id} in the Stripe dashboard instead."
)
NOT_STRIPE = (
    "Booking #{id} was not paid through Stripe, so there is nothing to refund from here; "
    "refund it the way it was paid."
)


def methods(request: Request, meta: CommerceMeta) -> tuple[Method, ...]:
    """How a booking can be paid here."""
    return payment_methods(request, meta, "manual", "package", "stripe", "link")


def booking(uow: UnitOfWork, actor: Actor, uid: str, booking_id: int) -> BookingRow:
    """Booking `booking_id` of customer `uid`, as its tab shows it."""
    page = bookings.list_bookings(uow, actor, uid, query=f"#{booking_id}", page_size=1)
    return row_of(page, "Booking", booking_id)


def _sessions(uow: UnitOfWork, actor: Actor) -> list[OccurrenceOption] | None:
    """The sessions to come when few enough to list; None when the picker must search."""
    found = bookings.upcoming_occurrences(uow, actor, limit=SESSION_LIST_MAX + 1)
    return found if len(found) <= SESSION_LIST_MAX else None


def book_form(
    request: Request, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """The booking form as filled in, with the passes that can pay for the chosen session."""
    payment = PaymentForm.read(values, methods(request, meta))
    occurrence_id = values.row_id(OCCURRENCE_BLOCK)
    passes = None
    with request.deps.db.unit_of_work(readonly=True) as uow:
        sessions = _sessions(uow, request.actor)
        if payment.method == "package" and occurrence_id is not None:
            try:
                passes = bookings.usable_passes(uow, request.actor, meta.details.uid, occurrence_id)
            except DomainError as exc:
                passes, problem = [], exc.message
    return book_event_form(
        meta,
        BookEventForm(
            sessions=sessions,
            occurrence=values.option(OCCURRENCE_BLOCK),
            payment=payment,
            methods=methods(request, meta),
            passes=passes,
            problem=problem,
        ),
        currency=request.currency,
    )


def transfer(
    request: Request, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """The Transfer form for the booking in `meta`, as filled in."""
    assert meta.row_id is not None
    with request.deps.db.unit_of_work(readonly=True) as uow:
        row = booking(uow, request.actor, meta.details.uid, meta.row_id)
        sessions = _sessions(uow, request.actor)
    chosen = values.option(OCCURRENCE_BLOCK)
    return transfer_form(meta, row, sessions=sessions, chosen=chosen, problem=problem)


def refund(
    request: Request, meta: CommerceMeta, values: FormValues, problem: str = ""
) -> dict[str, Any]:
    """The Refund form for the booking in `meta`, showing what is refunded by now."""
    assert meta.row_id is not None
    booking_id, uid = meta.row_id, meta.details.uid
    row = request.read(lambda uow, actor: booking(uow, actor, uid, booking_id))
    # The form now shows what is refunded; submitting it again refunds from there.
    fresh = meta.model_copy(update={"refunded_minor": row.refunded_minor})
    return refund_form(fresh, row, amount=values.text(AMOUNT_BLOCK), problem=problem)


def _open_transfer(opening: Opening, booking_id: int) -> None:
    opening.open_row_form(booking_id, transfer)


def _open_cancel(opening: Opening, booking_id: int) -> None:
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: booking(uow, actor, uid, booking_id))
    if row is not None:
        meta = opening.meta(row_id=row.id, tab=Tab.BOOKINGS, verb="cancel")
        opening.push(cancel_booking_confirmation(meta, row))


def _open_refund(opening: Opening, booking_id: int) -> None:
    # Said before the form opens, so nobody prepares a refund they can't make.
    if not opening.request.actor.is_admin:
        opening.tell(REFUND_REFUSED)
        return
    uid = opening.details.uid
    row = opening.read(lambda uow, actor: booking(uow, actor, uid, booking_id))
    if row is None:
        return
    if row.payment_method is not PaymentMethod.STRIPE:
        opening.tell(NOT_STRIPE.format(id=row.id))
        return
    if opening.request.gateway is None:
        opening.tell(NO_STRIPE.format(id=row.id))
        return
    opening.push(refund_form(opening.meta(row_id=row.id, refunded_minor=row.refunded_minor), row))


def _cancel(request: Request, booking_id: int, uid: str) -> str:
    return request.write(
        lambda uow, actor: bookings.cancel_booking(uow, actor, booking_id, uid=uid).message
    )


ROW_ACTIONS = {
    (Tab.BOOKINGS, "link"): send_link_action("booking"),
    (Tab.BOOKINGS, "transfer"): _open_transfer,
    (Tab.BOOKINGS, "cancel"): _open_cancel,
    (Tab.BOOKINGS, "refund"): _open_refund,
}
CONFIRMED = {(Tab.BOOKINGS, "cancel"): _cancel}
