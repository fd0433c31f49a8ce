"""Subject access: everything held about one person, as plain JSON-ready data; admin only.

The person is a customer record together with every record merged into it (their rows moved
to it, but the merged records keep contact details and a little history of their own).
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from core.actor import Actor
from core.adapters.mail import render_body
from core.db import UnitOfWork
from core.errors import Forbidden, NotFound
from core.models import (
    Appointment,
    AppointmentService,
    Booking,
    Customer,
    Event,
    EventOccurrence,
    Facilitator,
    HistoryEntry,
    Note,
    OutboxMail,
    Pass,
    PassType,
    PaymentLink,
    QuestionnaireResponse,
    Subscription,
    SubscriptionPlan,
    Video,
    VideoPurchase,
)
from core.services import history
from core.services.customers import DELETED, find_customer, person_records
from core.services.questions import question_of
from core.services.tags import tags_of

log = logging.getLogger(__name__)

EXPORT_FORMAT = "customer-records-export/1"
DATA_EXPORTED = "data exported"
DATA_EXPORT_UNDELIVERED = "data export not delivered"
# Stands in for the one-time password in an exported welcome mail: the export is not a way
# to recover a password, and once the mail is sent the password is gone anyway.
PASSWORD_WITHHELD = "[password not included]"  # noqa: S105 - a placeholder

Json = dict[str, Any]


def export_text(data: Json) -> str:
    """An export as the file holds it: indented UTF-8 JSON (not ASCII-escaped), ending in a newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _time(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _erased(uow: UnitOfWork, actor: Actor, uid: str) -> NotFound:
    """Not found, saying when and by whom the customer was erased if that is what happened."""
    entry = uow.session.scalars(
        select(HistoryEntry)
        .where(
            HistoryEntry.team_id == actor.team_id,
            HistoryEntry.customer_uid == uid,
            HistoryEntry.action == DELETED,
        )
        .order_by(HistoryEntry.id.desc())
        .limit(1)
    ).first()
    if entry is None:
        return NotFound(f"No customer with UID {uid} exists in workspace {actor.team_id}.")
    return NotFound(
        f"Customer {uid} no longer exists: they were erased on {entry.created_at:%Y-%m-%d} "
        f"by {entry.actor}. Nothing but that deletion record (UID, who, when) is held."
    )


def _contact(customer: Customer, named: dict[int, str], tags: list[str]) -> Json:
    return {
        "uid": customer.uid,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "mobile": customer.mobile,
        "date_of_birth": _time(customer.date_of_birth),
        "status": customer.status.value,
        "tags": tags,
        "marketing_consent": customer.marketing_consent.value,
        "consent_at": _time(customer.consent_at),
        "consent_source": customer.consent_source.value if customer.consent_source else None,
        "password": "set (stored only as an argon2id hash)"
        if customer.password_hash is not None
        else "not set",
        "merged_into_uid": named.get(customer.merged_into_id or 0),
        "created_at": _time(customer.created_at),
        "updated_at": _time(customer.updated_at),
        "updated_by": customer.updated_by,
    }


def _bookings(uow: UnitOfWork, uids: dict[int, str]) -> list[Json]:
    rows = uow.session.execute(
        select(Booking, Event.name, EventOccurrence.starts_at, EventOccurrence.timezone)
        .join(EventOccurrence, EventOccurrence.id == Booking.occurrence_id)
        .join(Event, Event.id == EventOccurrence.event_id)
        .where(Booking.customer_id.in_(uids))
        .order_by(Booking.booked_at, Booking.id)
    )
    return [
        {
            "id": b.id,
            "customer_uid": uids[b.customer_id],
            "event": name,
            "starts_at": _time(starts_at),
            "timezone": timezone,
            "booked_at": _time(b.booked_at),
            "state": b.state.value,
            "payment_method": b.payment_method.value,
            "price_minor": b.price_minor,
            "credits": b.credits,
            "currency": b.currency,
            "paid_with_pass_id": b.pass_id,
            "stripe_payment_intent_id": b.stripe_payment_intent_id,
            "refunded_minor": b.refunded_minor,
            "refund_state": b.refund_state.value,
            "cancelled_at": _time(b.cancelled_at),
            "attendance": b.attendance.value if b.attendance else None,
            "attendance_at": _time(b.attendance_at),
        }
        for b, name, starts_at, timezone in rows
    ]


def _appointments(uow: UnitOfWork, uids: dict[int, str]) -> list[Json]:
    rows = uow.session.execute(
        select(Appointment, AppointmentService.name, Facilitator.name)
        .join(AppointmentService, AppointmentService.id == Appointment.service_id)
        .join(Facilitator, Facilitator.id == Appointment.facilitator_id)
        .where(Appointment.customer_id.in_(uids))
        .order_by(Appointment.booked_at, Appointment.id)
    )
    return [
        {
            "id": a.id,
            "customer_uid": uids[a.customer_id],
            "service": service,
            "facilitator": facilitator,
            "starts_at": _time(a.starts_at),
            "duration_minutes": a.duration_minutes,
            "booked_at": _time(a.booked_at),
            "state": a.state.value,
            "payment_method": a.payment_method.value,
            "price_minor": a.price_minor,
            "credits": a.credits,
            "currency": a.currency,
            "paid_with_pass_id": a.pass_id,
            "stripe_payment_intent_id": a.stripe_payment_intent_id,
            "cancelled_at": _time(a.cancelled_at),
            "attendance": a.attendance.value if a.attendance else None,
            "attendance_at": _time(a.attendance_at),
        }
        for a, service, facilitator in rows
    ]


def _passes(uow: UnitOfWork, uids: dict[int, str]) -> list[Json]:
    rows = uow.session.execute(
        select(Pass, PassType.name)
        .join(PassType, PassType.id == Pass.pass_type_id)
        .where(Pass.customer_id.in_(uids))
        .order_by(Pass.purchased_at, Pass.id)
    )
    return [
        {
            "id": p.id,
            "customer_uid": uids[p.customer_id],
            "pass_type": name,
            "purchased_at": _time(p.purchased_at),
            "valid_from": _time(p.valid_from),
            "valid_to": _time(p.valid_to),
            "credits_total": p.credits_total,
            "credits_remaining": p.credits_remaining,
            "state": p.state.value,
            "payment_method": p.payment_method.value,
            "price_minor": p.price_minor,
            "currency": p.currency,
            "stripe_payment_intent_id": p.stripe_payment_intent_id,
        }
        for p, name in rows
    ]


def _videos(uow: UnitOfWork, uids: dict[int, str], now: datetime) -> list[Json]:
    rows = uow.session.execute(
        select(VideoPurchase, Video.title)
        .join(Video, Video.id == VideoPurchase.video_id)
        .where(VideoPurchase.customer_id.in_(uids))
        .order_by(VideoPurchase.purchased_at, VideoPurchase.id)
    )
    return [
        {
            "id": v.id,
            "customer_uid": uids[v.customer_id],
            "video": title,
            "purchased_at": _time(v.purchased_at),
            "expires_at": _time(v.expires_at),
            "state": v.state_at(now).value,
            "payment_method": v.payment_method.value,
            "price_minor": v.price_minor,
            "credits": v.credits,
            "currency": v.currency,
            "paid_with_pass_id": v.pass_id,
            "cancelled_at": _time(v.cancelled_at),
        }
        for v, title in rows
    ]


def _subscriptions(uow: UnitOfWork, uids: dict[int, str]) -> list[Json]:
    rows = uow.session.execute(
        select(Subscription, SubscriptionPlan.name, SubscriptionPlan.interval)
        .join(SubscriptionPlan, SubscriptionPlan.id == Subscription.plan_id)
        .where(Subscription.customer_id.in_(uids))
        .order_by(Subscription.created_at, Subscription.id)
    )
    return [
        {
            "id": s.id,
            "customer_uid": uids[s.customer_id],
            "plan": name,
            "interval": interval,
            "created_at": _time(s.created_at),
            "next_payment_at": _time(s.next_payment_at),
            "state": s.state.value,
            "price_minor": s.price_minor,
            "currency": s.currency,
            "stripe_subscription_id": s.stripe_subscription_id,
        }
        for s, name, interval in rows
    ]


def _questionnaires(uow: UnitOfWork, uids: dict[int, str]) -> list[Json]:
    responses = uow.session.scalars(
        select(QuestionnaireResponse)
        .where(QuestionnaireResponse.customer_id.in_(uids))
        .order_by(QuestionnaireResponse.created_at, QuestionnaireResponse.id)
    )
    exported = []
    for r in responses:
        answers = list(r.answers)
        exported.append(
            {
                "id": r.id,
                "customer_uid": uids[r.customer_id],
                "name": r.name,
                "status": r.status.value,
                "assigned_by": r.assigned_by,
                "created_at": _time(r.created_at),
                "updated_at": _time(r.updated_at),
                "answers": [
                    {
                        "question": question_of(q).text,
                        "answer": answers[i] if i < len(answers) else None,
                    }
                    for i, q in enumerate(r.questions)
                ],
            }
        )
    return exported


def _notes(uow: UnitOfWork, uids: dict[int, str]) -> list[Json]:
    notes = uow.session.scalars(
        select(Note).where(Note.customer_id.in_(uids)).order_by(Note.created_at, Note.id)
    )
    return [
        {
            "id": n.id,
            "customer_uid": uids[n.customer_id],
            "author": n.author,
            "content": n.content,
            "created_at": _time(n.created_at),
            "updated_at": _time(n.updated_at),
            "updated_by": n.updated_by,
        }
        for n in notes
    ]


def _history(uow: UnitOfWork, uids: dict[int, str]) -> list[Json]:
    entries = uow.session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.customer_id.in_(uids))
        .order_by(HistoryEntry.created_at, HistoryEntry.id)
    )
    return [
        {
            "id": e.id,
            # Differs from the record holding it for entries that came with a merge.
            "customer_uid": e.customer_uid,
            "created_at": _time(e.created_at),
            "actor": e.actor,
            "action": e.action,
            "changes": dict(e.changes),
            "detail": e.detail,
        }
        for e in entries
    ]


def _mail(uow: UnitOfWork, uids: dict[int, str]) -> list[Json]:
    mails = uow.session.scalars(
        select(OutboxMail)
        .where(OutboxMail.customer_id.in_(uids))
        .order_by(OutboxMail.created_at, OutboxMail.id)
    )
    return [
        {
            "id": m.id,
            "customer_uid": uids[m.customer_id or 0],
            "kind": m.kind,
            "to": m.to_address,
            "subject": m.subject,
            "body": render_body(m.body, m.to_address, PASSWORD_WITHHELD),
            "status": m.status.value,
            "attempts": m.attempts,
            "last_error": m.last_error,
            "created_at": _time(m.created_at),
            "sent_at": _time(m.sent_at),
        }
        for m in mails
    ]


def _payment_links(uow: UnitOfWork, uids: dict[int, str]) -> list[Json]:
    links = uow.session.scalars(
        select(PaymentLink)
        .where(PaymentLink.customer_id.in_(uids))
        .order_by(PaymentLink.created_at, PaymentLink.id)
    )
    return [
        {
            "id": link.id,
            "customer_uid": uids[link.customer_id],
            "for": f"{link.kind} #{link.target_id}"
            if link.kind != "subscription"
            else f"subscription plan #{link.target_id}",
            "status": link.status.value,
            "amount": link.amount_minor,
            "currency": link.currency,
            "sent_to": link.sent_to,
            "stripe_checkout_session": link.session_id,
            "created_at": _time(link.created_at),
            "expires_at": _time(link.expires_at),
        }
        for link in links
    ]


def export_customer(uow: UnitOfWork, actor: Actor, uid: str) -> Json:
    """Everything held about customer `uid` and the records merged into them; admin only.

    Records the export in their account history (in the caller's transaction) first, so the
    export shows it too. An erased customer's UID raises NotFound saying so.
    """
    if not actor.is_admin:
        raise Forbidden("Only an admin can export a customer's data.")
    customer = uow.session.scalars(
        select(Customer).where(Customer.team_id == actor.team_id, Customer.uid == uid)
    ).first()
    if customer is None:
        raise _erased(uow, actor, uid)
    people = person_records(uow, customer)
    owned = {c.id: c.uid for c in people}
    # Where this record was merged into, that record holds the person's rows now: it is
    # named so the admin can export it too, but not exported unasked.
    named = dict(owned)
    kept = uow.session.get(Customer, customer.merged_into_id or 0)
    if kept is not None:
        named[kept.id] = kept.uid
    history.record(uow, actor.user_id, customer, DATA_EXPORTED, detail="subject access export")
    uow.session.flush()
    log.info("customer %s: data exported by %s", uid, actor.user_id)
    now = uow.now()
    tags = tags_of(uow, list(owned))
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _time(now),
        "exported_by": actor.user_id,
        "workspace": actor.team_id,
        "customer": _contact(customer, named, tags.get(customer.id, [])),
        "merged_records": [_contact(c, named, tags.get(c.id, [])) for c in people[1:]],
        "bookings": _bookings(uow, owned),
        "appointments": _appointments(uow, owned),
        "passes": _passes(uow, owned),
        "videos": _videos(uow, owned, now),
        "subscriptions": _subscriptions(uow, owned),
        "questionnaires": _questionnaires(uow, owned),
        "notes": _notes(uow, owned),
        "account_history": _history(uow, owned),
        "mail": _mail(uow, owned),
        "payment_links": _payment_links(uow, owned),
    }


def export_undelivered(uow: UnitOfWork, actor: Actor, uid: str, reason: str) -> None:
    """Note in customer `uid`'s history that the export recorded there never reached the admin."""
    customer = find_customer(uow, actor, uid)
    history.record(uow, actor.user_id, customer, DATA_EXPORT_UNDELIVERED, detail=reason)
