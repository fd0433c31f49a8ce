"""The checks at the end of a soak: the database, the stand-ins and the logs against the ledger."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from core.db import Database
from core.models import (
    Booking,
    BookingState,
    Customer,
    HistoryEntry,
    MailStatus,
    Note,
    OutboxMail,
    Pass,
    PaymentMethod,
)
from core.services.refunds import BOOKING_REFUNDED
from tests.smtp_server import SmtpServer
from tests.soak.faults import FaultWindow
from tests.soak.ledger import Ledger
from tests.soak.tally import Tally
from tests.soak.workers import LogRecord
from tests.stripe_server import StripeStandIn

_BOOKING_IN_DETAIL = re.compile(r"booking #(\d+)\b")


@dataclass(frozen=True)
class Check:
    """One invariant and whether it held, with what was compared."""

    name: str
    passed: bool
    detail: str


def _equal(name: str, found: int, expected: int, what: str) -> Check:
    return Check(name, found == expected, f"{what}: database {found}, ledger {expected}")


def _count(db: Database, model: type, team_id: str) -> int:
    with db.unit_of_work(readonly=True) as uow:
        query = select(func.count()).select_from(model).where(model.team_id == team_id)  # type: ignore[attr-defined]
        return int(uow.session.scalar(query) or 0)


def counts(db: Database, team_id: str, ledger: Ledger) -> list[Check]:
    """Customers, bookings, notes, passes and merges match what the app confirmed."""
    confirmed = ledger.confirmed
    with db.unit_of_work(readonly=True) as uow:
        merged = uow.session.scalar(
            select(func.count())
            .select_from(Customer)
            .where(Customer.team_id == team_id, Customer.merged_into_id.is_not(None))
        )
    return [
        _equal(
            "customer count", _count(db, Customer, team_id), confirmed["customers"], "customers"
        ),
        _equal("booking count", _count(db, Booking, team_id), confirmed["bookings"], "bookings"),
        _equal("note count", _count(db, Note, team_id), confirmed["notes"], "notes"),
        _equal("pass count", _count(db, Pass, team_id), confirmed["passes"], "passes"),
        _equal("merges", int(merged or 0), confirmed["merges"], "merged customers"),
    ]


def credits(db: Database, team_id: str, ledger: Ledger) -> list[Check]:
    """Per pass, credits used + remaining = granted; in all, what the ledger granted and used."""
    with db.unit_of_work(readonly=True) as uow:
        passes = uow.session.execute(
            select(Pass.id, Pass.credits_total, Pass.credits_remaining).where(
                Pass.team_id == team_id
            )
        ).all()
        used_rows = uow.session.execute(
            select(Booking.pass_id, func.coalesce(func.sum(Booking.credits), 0))
            .where(
                Booking.team_id == team_id,
                Booking.pass_id.is_not(None),
                Booking.state != BookingState.CANCELLED,
            )
            .group_by(Booking.pass_id)
        ).all()
    used = {p: int(total or 0) for p, total in used_rows if p is not None}
    broken = [
        f"pass #{p.id}: {used.get(p.id, 0)} used + {p.credits_remaining} left ≠ {p.credits_total}"
        for p in passes
        if used.get(p.id, 0) + p.credits_remaining != p.credits_total
    ]
    granted = sum(p.credits_total for p in passes)
    total_used = sum(used.values())
    return [
        Check(
            "credits conserved per pass",
            not broken,
            "; ".join(broken[:5]) or f"{len(passes)} passes: used + remaining = granted",
        ),
        Check(
            "credits granted and used",
            (granted, total_used) == (ledger.credits_granted, ledger.credits_used),
            f"granted {granted} (ledger {ledger.credits_granted}), "
            f"used {total_used} (ledger {ledger.credits_used})",
        ),
    ]


def refunds(db: Database, team_id: str, ledger: Ledger, stripe: StripeStandIn) -> list[Check]:
    """No duplicate refunds: per payment, the database, the history, Stripe and the ledger agree."""
    with db.unit_of_work(readonly=True) as uow:
        bookings = uow.session.execute(
            select(
                Booking.id,
                Booking.stripe_payment_intent_id,
                Booking.price_minor,
                Booking.refunded_minor,
            ).where(Booking.team_id == team_id, Booking.payment_method == PaymentMethod.STRIPE)
        ).all()
        details = uow.session.scalars(
            select(HistoryEntry.detail).where(
                HistoryEntry.team_id == team_id, HistoryEntry.action == BOOKING_REFUNDED
            )
        ).all()
    noted = Counter(int(m.group(1)) for d in details if (m := _BOOKING_IN_DETAIL.search(d)))
    problems: list[str] = []
    stripe_refunds = 0
    for b in bookings:
        at_stripe = stripe.refunds(str(b.stripe_payment_intent_id))
        stripe_refunds += len(at_stripe)
        stripe_sum = sum(int(r["amount"]) for r in at_stripe)
        mine = ledger.stripe_bookings.get(b.id)
        if b.refunded_minor > (b.price_minor or 0):
            problems.append(f"booking #{b.id}: refunded {b.refunded_minor} > paid {b.price_minor}")
        if stripe_sum != b.refunded_minor:
            problems.append(
                f"booking #{b.id}: Stripe holds {stripe_sum}, database {b.refunded_minor}"
            )
        if len(at_stripe) != noted[b.id]:
            problems.append(
                f"booking #{b.id}: {len(at_stripe)} Stripe refunds, {noted[b.id]} in the history"
            )
        if mine is not None and sorted(mine.refunds) != sorted(int(r["amount"]) for r in at_stripe):
            problems.append(
                f"booking #{b.id}: ledger {mine.refunds}, Stripe {[r['amount'] for r in at_stripe]}"
            )
    return [
        Check(
            "no duplicate refunds",
            not problems,
            "; ".join(problems[:5])
            or f"{len(bookings)} Stripe payments, {stripe_refunds} refunds, "
            f"{ledger.confirmed['refunds']} confirmed",
        )
    ]


def mail(db: Database, team_id: str, smtp: SmtpServer) -> list[Check]:
    """Every queued mail sent exactly once, or dropped (unsent) by a merge; none received twice."""
    with db.unit_of_work(readonly=True) as uow:
        rows = uow.session.execute(
            select(OutboxMail.id, OutboxMail.status, OutboxMail.to_address, OutboxMail.last_error)
            .where(OutboxMail.team_id == team_id)
            .order_by(OutboxMail.id)
        ).all()
        customers = uow.session.scalar(
            select(func.count()).select_from(Customer).where(Customer.team_id == team_id)
        )
    received = smtp.messages
    to = Counter(a for m in received for a in m.rcpt_tos)
    ids = Counter(str(m.message["Message-ID"]) for m in received)
    problems: list[str] = []
    for row in rows:
        got = to.pop(row.to_address, 0)
        if row.status is MailStatus.SENT and got != 1:
            problems.append(f"mail {row.id} recorded sent, received {got} time(s)")
        elif row.status is MailStatus.NOT_SENT and (got or "merged" not in row.last_error):
            problems.append(f"mail {row.id} recorded not sent ({row.last_error}), received {got}")
        elif row.status not in (MailStatus.SENT, MailStatus.NOT_SENT):
            problems.append(f"mail {row.id} still {row.status}")
    problems += [f"{n} mail(s) to {a}, which nothing queued" for a, n in to.items()]
    duplicated = sum(1 for n in ids.values() if n > 1)
    statuses = Counter(str(r.status) for r in rows)
    return [
        Check(
            "every queued mail sent once",
            not problems and len(rows) == customers,
            "; ".join(problems[:3])
            or f"{len(rows)} queued for {customers} customers; by status {dict(statuses)}",
        ),
        Check(
            "no mail received twice",
            not duplicated,
            f"{len(received)} received, {len(ids)} distinct Message-IDs, {duplicated} duplicated",
        ),
    ]


def clean_run(
    tally: Tally, records: Iterable[LogRecord], windows: Sequence[FaultWindow]
) -> tuple[list[Check], dict[str, int]]:
    """No 5xx answers; no ERROR with a traceback except where an injected fault explains it.

    Also returns the excused error lines by fault and exception, for the report.
    """
    unexplained: list[str] = []
    excused: Counter[str] = Counter()
    for record in records:
        if record.level not in ("ERROR", "CRITICAL") or not record.has_traceback:
            continue
        moment = record.time.timestamp()
        window = next((w for w in windows if w.covers(moment)), None)
        if window is None:
            unexplained.append(f"{record.worker} {record.time:%H:%M:%S} {record.message[:120]}")
        else:
            excused[f"{window.kind}: {record.exception_type}"] += 1
    fives = Counter(f"{e.status} on {e.request}" for e in tally.server_errors)
    return [
        Check(
            "no 5xx answers", not fives, ", ".join(f"{k} ×{v}" for k, v in fives.items()) or "none"
        ),
        Check(
            "no unexplained tracebacks",
            not unexplained,
            "; ".join(unexplained[:3]) or f"{sum(excused.values())} during injected faults",
        ),
    ], dict(excused)


def settled(ledger: Ledger) -> Check:
    """Every change whose answer was lost was looked at again and found to have happened or not."""
    left = {k: v for k, v in ledger.uncertain.items() if v}
    return Check(
        "every lost answer settled",
        not left,
        f"still uncertain: {left}"
        if left
        else f"resolved: {dict(ledger.resolved) or 'none needed'}",
    )
