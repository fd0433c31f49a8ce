"""Each customer's visits, no-shows and lifetime spend, kept in `customer_facts`.

A visit is a booking or appointment not cancelled (nor its session) that was checked in, or
that has started and was not marked no-show: studios that never check in still see their
regulars. Spend is the money kept
in the workspace's currency: paid manually or through Stripe, less refunds; a cancelled
purchase counts only what Stripe took and did not give back. Subscriptions' payments are not
recorded as rows and are not counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from itertools import chain, islice
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    case,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.orm.attributes import get_history

from core.db import Database, UnitOfWork
from core.models import (
    Appointment,
    AppointmentState,
    Attendance,
    Booking,
    BookingState,
    Customer,
    CustomerFacts,
    EventOccurrence,
    FactsReady,
    Pass,
    PassState,
    PaymentMethod,
    VideoPurchase,
    Workspace,
)
from core.models.base import UTCDateTime

# Ids per statement: well under SQLite's 32,766 bound parameters.
CHUNK = 5_000
_SOURCES = (Booking, Appointment, Pass, VideoPurchase)


def money_taken(model: Any, standing: ColumnElement[bool]) -> ColumnElement[bool]:
    """Money was taken for a row of `model`: through Stripe (kept when the row is cancelled,
    as cancelling refunds nothing), or manually on a row still standing."""
    return or_(
        model.payment_method == PaymentMethod.STRIPE,
        and_(model.payment_method == PaymentMethod.MANUAL, standing),
    )


def _kept(model: Any, refunded: Any, cancelled: ColumnElement[bool]) -> Any:
    """Money kept on one purchase row of `model`, in minor units of the workspace's currency
    (0 in any other currency)."""
    counted = and_(model.currency == Workspace.currency, money_taken(model, ~cancelled))
    return case((counted, func.coalesce(model.price_minor, 0) - refunded), else_=0)


def _purchases(model: Any, at: Any, attendance: Any, kept: Any) -> Select[Any]:
    """`model`'s rows as purchase_rows gives them, its workspace joined for the currency."""
    return select(model.customer_id, at, attendance, kept).join(
        Workspace, Workspace.team_id == model.team_id
    )


def booking_visit() -> ColumnElement[bool]:
    """A booking that is a visit once its session starts (unless marked no-show)."""
    return and_(Booking.state != BookingState.CANCELLED, ~EventOccurrence.cancelled)


def appointment_visit() -> ColumnElement[bool]:
    """An appointment that is a visit once it starts (unless marked no-show)."""
    return Appointment.state == AppointmentState.SCHEDULED


def counts_as_visit(at: Any, attendance: Any, now: Any) -> ColumnElement[bool]:
    """A standing booking or appointment starting `at` is a visit by `now`: at once when
    checked in (often at the door, before the start), else once started unless a no-show."""
    return or_(attendance == Attendance.ATTENDED, and_(attendance.is_(None), at <= now))


def _visits(
    team_id: str, since: datetime, until: datetime, *, timed: bool = False
) -> CompoundSelect[Any]:
    """Workspace `team_id`'s visits from `since` (a session's start) made by `until`:
    (customer_id), or (customer_id, at) with `timed`."""
    bookings = (
        select(Booking.customer_id, *([EventOccurrence.starts_at.label("at")] if timed else []))
        .join(EventOccurrence, EventOccurrence.id == Booking.occurrence_id)
        .where(
            EventOccurrence.team_id == team_id,
            EventOccurrence.starts_at >= since,
            booking_visit(),
            counts_as_visit(EventOccurrence.starts_at, Booking.attendance, until),
        )
    )
    appointments = select(
        Appointment.customer_id, *([Appointment.starts_at.label("at")] if timed else [])
    ).where(
        Appointment.team_id == team_id,
        Appointment.starts_at >= since,
        appointment_visit(),
        counts_as_visit(Appointment.starts_at, Appointment.attendance, until),
    )
    return union_all(bookings, appointments)


def visits_between(team_id: str, since: datetime, until: datetime) -> CompoundSelect[Any]:
    """(customer_id) once per visit workspace `team_id`'s customers made from `since` (a
    session's start) to `until`."""
    return _visits(team_id, since, until)


def visit_times(team_id: str, since: datetime, until: datetime) -> CompoundSelect[Any]:
    """(customer_id, at) once per visit workspace `team_id`'s customers made from `since` to
    `until`; `at` is the session's or appointment's start."""
    return _visits(team_id, since, until, timed=True)


def purchase_rows(where: dict[Any, ColumnElement[bool]]) -> CompoundSelect[Any]:
    """(customer_id, at, attendance, kept) per purchase: `at` is a visit's start, else NULL."""
    bookings = (
        _purchases(
            Booking,
            case((booking_visit(), EventOccurrence.starts_at)).label("at"),
            Booking.attendance,
            _kept(Booking, Booking.refunded_minor, Booking.state == BookingState.CANCELLED).label(
                "kept"
            ),
        )
        .join(EventOccurrence, EventOccurrence.id == Booking.occurrence_id)
        .where(where[Booking])
    )
    appointments = _purchases(
        Appointment,
        case((appointment_visit(), Appointment.starts_at)),
        Appointment.attendance,
        _kept(
            Appointment, Appointment.refunded_minor, Appointment.state == AppointmentState.CANCELLED
        ),
    ).where(where[Appointment])
    passes = _purchases(
        Pass, null(), null(), _kept(Pass, Pass.refunded_minor, Pass.state == PassState.CANCELLED)
    ).where(where[Pass])
    videos = _purchases(
        VideoPurchase,
        null(),
        null(),
        _kept(VideoPurchase, literal(0), VideoPurchase.cancelled_at.is_not(None)),
    ).where(where[VideoPurchase])
    return union_all(bookings, appointments, passes, videos)


def visits_of(rows: Any, now: datetime) -> ColumnElement[bool]:
    """Which of `purchase_rows`' rows are visits made by `now`."""
    return and_(rows.c.at.is_not(None), counts_as_visit(rows.c.at, rows.c.attendance, now))


def _facts(where: ColumnElement[bool], rows: CompoundSelect[Any], now: datetime) -> Select[Any]:
    """One facts row per customer matching `where`, zeros for those with no purchases."""
    r = rows.subquery()
    visit = visits_of(r, now)
    # Not a visit yet, but one once it starts: the row is rewritten then.
    ahead = and_(r.c.at > now, r.c.attendance.is_(None))

    def moment(aggregate: Any, condition: ColumnElement[bool]) -> Any:
        # SQLite hands back an aggregate's datetime as text unless told its type.
        return type_coerce(aggregate(case((condition, r.c.at))), UTCDateTime())

    return (
        select(
            Customer.id,
            Customer.team_id,
            func.coalesce(func.sum(case((visit, 1), else_=0)), 0),
            func.coalesce(func.sum(case((r.c.attendance == Attendance.NO_SHOW, 1), else_=0)), 0),
            moment(func.min, visit),
            moment(func.max, visit),
            moment(func.min, ahead),
            func.coalesce(func.sum(r.c.kept), 0),
            literal(now, UTCDateTime()),
        )
        .select_from(Customer)
        .outerjoin(r, r.c.customer_id == Customer.id)
        .where(where)
        .group_by(Customer.id, Customer.team_id)
    )


_COLUMNS = (
    "customer_id",
    "team_id",
    "visits",
    "no_shows",
    "first_visit_at",
    "last_visit_at",
    "next_visit_at",
    "spend_minor",
    "refreshed_at",
)


def _write(session: Session, facts: Select[Any]) -> None:
    """Insert or replace the facts rows `facts` selects (its columns in `_COLUMNS` order)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(CustomerFacts).from_select(list(_COLUMNS), facts)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["customer_id"],
            set_={name: statement.excluded[name] for name in _COLUMNS[1:]},
        )
    )


def refresh(session: Session, customer_ids: Iterable[int], now: datetime) -> None:
    """Add up again the facts of the customers `customer_ids` (of any workspaces)."""
    ids = iter(sorted(set(customer_ids)))
    while chunk := list(islice(ids, CHUNK)):
        where: dict[Any, ColumnElement[bool]] = {m: m.customer_id.in_(chunk) for m in _SOURCES}
        _write(session, _facts(Customer.id.in_(chunk), purchase_rows(where), now))


def refresh_team(session: Session, team_id: str, now: datetime) -> None:
    """Add up every customer of workspace `team_id` in one pass over its history."""
    where: dict[Any, ColumnElement[bool]] = {m: m.team_id == team_id for m in _SOURCES}
    _write(session, _facts(Customer.team_id == team_id, purchase_rows(where), now))


def _changed_customers(session: Session) -> tuple[set[int], set[int]]:
    """Customers whose purchases the pending flush changes, and sessions changed under them."""
    customers: set[int] = set()
    occurrences: set[int] = set()
    for row in chain(session.new, session.dirty, session.deleted):
        if isinstance(row, _SOURCES):
            customers.update(get_history(row, "customer_id").deleted or ())
            if row.customer_id is not None:
                customers.add(row.customer_id)
        elif isinstance(row, EventOccurrence) and row in session.dirty and row.id is not None:
            occurrences.add(row.id)
        elif isinstance(row, Workspace) and get_history(row, "currency").deleted:
            # Spend is kept in the workspace's currency: add everyone up again on next read.
            session.execute(delete(FactsReady).where(FactsReady.team_id == row.team_id))
    return customers, occurrences


def keep_facts(db: Database) -> None:
    """Rewrite, inside each unit of work's commit, the facts of customers whose purchases (or
    booked sessions) it changed through the ORM; bulk statements call `refresh` themselves."""
    key = object()

    def collect(session: Session, _context: object, _instances: object) -> None:
        customers, occurrences = _changed_customers(session)
        if customers or occurrences:
            pending = session.info.setdefault(key, (set(), set()))
            pending[0].update(customers)
            pending[1].update(occurrences)

    def before_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return
        session.flush()
        pending = session.info.pop(key, None)
        if pending is None:
            return
        customers, occurrences = pending
        if occurrences:
            customers.update(
                session.scalars(
                    select(Booking.customer_id).where(Booking.occurrence_id.in_(occurrences))
                )
            )
        refresh(session, customers, db.clock())

    def rolled_back(session: Session, previous: SessionTransaction) -> None:
        if previous.parent is None:
            session.info.pop(key, None)

    db.listen("before_flush", collect)
    db.listen("before_commit", before_commit)
    db.listen("after_soft_rollback", rolled_back)


def ready(uow: UnitOfWork, team_id: str) -> None:
    """Make workspace `team_id`'s facts true as of now before they are read.

    Its first read adds up every customer; later ones rewrite only the customers with a visit
    that has started since their facts were written."""
    now = uow.now()
    session = uow.session
    due = select(CustomerFacts.customer_id).where(
        CustomerFacts.team_id == team_id, CustomerFacts.next_visit_at <= now
    )
    if session.get(FactsReady, team_id) is not None and session.scalar(due.limit(1)) is None:
        return
    # One adder per workspace at a time: two would lock the same rows in their own orders.
    if session.get(Workspace, team_id, with_for_update=True) is None:
        return
    if session.get(FactsReady, team_id, populate_existing=True) is None:
        refresh_team(session, team_id, now)
        session.add(FactsReady(team_id=team_id, ready_at=now))
    else:
        refresh(session, session.scalars(due).all(), now)
