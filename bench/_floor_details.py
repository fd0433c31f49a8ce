"""The floor of a details-tab switch: ONE SQL statement for all the details show, then the view.

The statement returns, as (part, n, doc) rows of a UNION ALL, the customer (with the
workspace's time zone), the 12 months' sales counts, the figures, the household, the tab's
first page with its total, and the tags; each `doc` is a JSON object the database builds
(SQLite's json_object, PostgreSQL's json_build_object). It mirrors what the services ask
(core/services: sales, figures, household, tags and the eight listers) without their access
checks; the view is built by the product's own view functions (bot/views, through
bot.surfaces.customer_details.TABS for the tab's body).

A tab switch always shows the tab's first page with an empty search box
(DetailsMeta.showing), so the statement lists page 1 with nothing searched.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from bot.surfaces.customer_details import TABS, TabView, gone_view
from bot.views.customer_details import SalesActivity, customer_details, with_link
from bot.views.origin import Tab
from bot.views.tabs import PAGE_SIZES, DetailsMeta
from bot.views.tags import profile_blocks, with_profile
from core.chart_links import chart_image_url
from core.clock import Clock, utc_now
from core.config import Settings
from core.customer_links import customer_link
from core.models import (
    AppointmentState,
    Attendance,
    BookingState,
    ConsentSource,
    ConsentState,
    CustomerStatus,
    LinkStatus,
    PassState,
    PaymentMethod,
    QuestionnaireStatus,
    RefundState,
    Relation,
    SubscriptionState,
    VideoState,
)
from core.services.account import HistoryRow
from core.services.appointments import AppointmentRow
from core.services.attendance import check_in_opens
from core.services.bookings import BookingRow
from core.services.consent import consent_of
from core.services.customers import CustomerRecord
from core.services.figures import RECENT_DAYS, Figures, Spend, months_since, per_month
from core.services.household import HOUSEHOLD_MAX, Member, inverse
from core.services.notes import NoteRow
from core.services.paging import Page
from core.services.passes import PassRow
from core.services.questionnaires import QuestionnaireRow
from core.services.sales import MONTHS, SalesSeries, add_months, local_midnight
from core.services.subscriptions import SubscriptionRow
from core.services.videos import VideoRow

# The parts of the statement, in the order it returns them.
CUSTOMER, SALES, FIGURES, HOUSEHOLD, ROWS, TOTAL, TAGS = range(7)
_VISIT, _NO_SHOW = 0, 1
_PARAM = re.compile(r"(?<![:\w]):(\w+)")
# A customer's rows: `x` is the table, `me` the customer found by team and UID. A scalar
# subquery, so each table is read through its customer_id index (joined, SQLite may read
# the whole workspace's rows by team_id instead).
_MINE = "x.customer_id = (SELECT id FROM me)"


@dataclass(frozen=True)
class _Listing:
    """One tab's rows: the table (as `x`) and what it joins, WHERE, the order (each key with
    whether it descends), the columns each row's JSON holds, and the payment-link kind whose
    open links mark an unpaid row as awaiting payment."""

    table: str
    joins: str
    where: str
    order: tuple[tuple[str, bool], ...]
    columns: dict[str, str]
    link_kind: str = ""
    json_columns: tuple[str, ...] = ()


def _newest(column: str) -> tuple[tuple[str, bool], ...]:
    return ((f"x.{column}", True), ("x.id", True))


_MONEY = {
    "price_minor": "x.price_minor",
    "currency": "x.currency",
    "payment_method": "x.payment_method",
}
_CHECK_IN = {
    "attendance": "x.attendance",
    "attendance_by": "x.attendance_by",
    "attendance_at": "x.attendance_at",
    "version": "x.version",
}
_REFUND = {"refunded_minor": "x.refunded_minor", "refund_state": "x.refund_state"}

# What each lister in core/services selects, where and in which order.
LISTINGS = {
    Tab.BOOKINGS: _Listing(
        "bookings",
        "JOIN event_occurrences o ON o.id = x.occurrence_id JOIN events e ON e.id = o.event_id",
        "x.team_id = :team",
        # Sessions to come first, soonest first; then past ones, latest first.
        (
            ("CASE WHEN o.starts_at >= :now THEN 0 ELSE 1 END", False),
            ("CASE WHEN o.starts_at >= :now THEN o.starts_at END", False),
            ("o.starts_at", True),
            ("x.booked_at", True),
            ("x.id", True),
        ),
        {
            "id": "x.id",
            "booked_at": "x.booked_at",
            "event_name": "e.name",
            "starts_at": "o.starts_at",
            "timezone": "o.timezone",
            "duration_minutes": "o.duration_minutes",
            "credits": "x.credits",
            "state": "x.state",
            "stripe_payment_intent_id": "x.stripe_payment_intent_id",
            **_MONEY,
            **_REFUND,
            **_CHECK_IN,
        },
        "booking",
    ),
    Tab.APPOINTMENTS: _Listing(
        "appointments",
        "JOIN appointment_services s ON s.id = x.service_id "
        "JOIN facilitators f ON f.id = x.facilitator_id",
        "x.team_id = :team",
        _newest("booked_at"),
        {
            "id": "x.id",
            "booked_at": "x.booked_at",
            "service_name": "s.name",
            "facilitator_name": "f.name",
            "starts_at": "x.starts_at",
            "duration_minutes": "x.duration_minutes",
            "credits": "x.credits",
            "state": "x.state",
            **_MONEY,
            **_REFUND,
            **_CHECK_IN,
        },
        "appointment",
    ),
    Tab.PASSES: _Listing(
        "passes",
        "JOIN pass_types t ON t.id = x.pass_type_id",
        "x.team_id = :team",
        _newest("purchased_at"),
        {
            "id": "x.id",
            "purchased_at": "x.purchased_at",
            "name": "t.name",
            "valid_from": "x.valid_from",
            "valid_to": "x.valid_to",
            "credits_total": "x.credits_total",
            "credits_remaining": "x.credits_remaining",
            "state": "x.state",
            **_MONEY,
            **_REFUND,
        },
        "pass",
    ),
    Tab.VIDEOS: _Listing(
        "video_purchases",
        "JOIN videos t ON t.id = x.video_id",
        "x.team_id = :team",
        _newest("purchased_at"),
        {
            "id": "x.id",
            "purchased_at": "x.purchased_at",
            "title": "t.title",
            "expires_at": "x.expires_at",
            "credits": "x.credits",
            "cancelled_at": "x.cancelled_at",
            **_MONEY,
        },
        "video",
    ),
    Tab.SUBSCRIPTIONS: _Listing(
        "subscriptions",
        "JOIN subscription_plans t ON t.id = x.plan_id",
        "x.team_id = :team",
        _newest("created_at"),
        {
            "id": "x.id",
            "created_at": "x.created_at",
            "plan_name": "t.name",
            "interval": 't."interval"',
            "next_payment_at": "x.next_payment_at",
            "price_minor": "x.price_minor",
            "currency": "x.currency",
            "state": "x.state",
            "stripe_subscription_id": "x.stripe_subscription_id",
        },
    ),
    # These three list by customer alone, as core.services.tabs.fetch_customer_page does.
    Tab.QUESTIONNAIRES: _Listing(
        "questionnaire_responses",
        "",
        "",
        _newest("created_at"),
        {
            "id": "x.id",
            "name": "x.name",
            "status": "x.status",
            "created_at": "x.created_at",
            "updated_at": "x.updated_at",
            "questions": "x.questions",
            "answers": "x.answers",
        },
        json_columns=("questions", "answers"),
    ),
    Tab.NOTES: _Listing(
        "notes",
        "",
        "",
        _newest("created_at"),
        {
            "id": "x.id",
            "author": "x.author",
            "content": "x.content",
            "created_at": "x.created_at",
            "updated_at": "x.updated_at",
            "updated_by": "x.updated_by",
            "source_author": "x.source_author",
            "source_permalink": "x.source_permalink",
        },
    ),
    Tab.ACCOUNT: _Listing(
        "account_history",
        "",
        "",
        _newest("created_at"),
        {
            "id": "x.id",
            "created_at": "x.created_at",
            "actor": "x.actor",
            "action": "x.action",
            "changes": "x.changes",
            "detail": "x.detail",
            "customer_uid": "x.customer_uid",
        },
        json_columns=("changes",),
    ),
}


def _object(columns: dict[str, str], postgres: bool, json_columns: tuple[str, ...] = ()) -> str:
    """The database's JSON object of `columns` (name → SQL); JSON columns embedded as JSON."""
    pairs = []
    for name, sql in columns.items():
        # SQLite keeps JSON as text: json() makes it JSON again, not a string, in the object.
        value = f"json({sql})" if name in json_columns and not postgres else sql
        pairs.append(f"'{name}', {value}")
    return f"{'json_build_object' if postgres else 'json_object'}({', '.join(pairs)})"


def _month(moment: str) -> str:
    """The month index (0 oldest) of `moment`, against the months' first instants."""
    whens = " ".join(f"WHEN {moment} < :start_{n} THEN {n}" for n in range(MONTHS - 1))
    return f"CASE {whens} ELSE {MONTHS - 1} END"


def _sales() -> str:
    """Purchases per kind and month, as core.services.sales.monthly_sales counts them."""
    window = "{0} >= :since AND {0} < :until"
    parts = [
        f"SELECT 0 AS kind, {_month('x.booked_at')} AS month FROM bookings x "
        f"WHERE {_MINE} AND x.team_id = :team AND x.state <> '{BookingState.CANCELLED}' AND "
        + window.format("x.booked_at"),
        f"SELECT 1, {_month('x.purchased_at')} FROM passes x "
        f"WHERE {_MINE} AND x.team_id = :team AND x.state <> '{PassState.CANCELLED}' AND "
        + window.format("x.purchased_at"),
        f"SELECT 2, {_month('x.purchased_at')} FROM video_purchases x "
        f"WHERE {_MINE} AND x.team_id = :team AND x.cancelled_at IS NULL AND "
        + window.format("x.purchased_at"),
    ]
    return " UNION ALL ".join(parts)


def _figures() -> str:
    """Visits, no-shows and money taken, one row each, as core.services.figures reads them."""
    attended, no_show = f"'{Attendance.ATTENDED}'", f"'{Attendance.NO_SHOW}'"
    cancelled = f"'{BookingState.CANCELLED}'"

    def visit(at: str) -> str:
        return f"(x.attendance = {attended} OR (x.attendance IS NULL AND {at} <= :now))"

    booked = "bookings x JOIN event_occurrences o ON o.id = x.occurrence_id"
    marks = (
        "{0} AS kind, '' AS currency, 0 AS amount, {1} AS moment FROM {2} "
        f"WHERE {_MINE} AND x.team_id = :team AND {{3}}"
    )
    parts = [
        marks.format(
            _VISIT,
            "o.starts_at",
            booked,
            f"x.state <> {cancelled} AND NOT o.cancelled AND {visit('o.starts_at')}",
        ),
        marks.format(
            _VISIT,
            "x.starts_at",
            "appointments x",
            f"x.state = '{AppointmentState.SCHEDULED}' AND {visit('x.starts_at')}",
        ),
        marks.format(_NO_SHOW, "o.starts_at", booked, f"x.attendance = {no_show}"),
        marks.format(_NO_SHOW, "x.starts_at", "appointments x", f"x.attendance = {no_show}"),
    ]
    spent = (
        "2, x.currency, {amount}, x.{moment} FROM {table} x WHERE {mine} AND x.team_id = :team AND "
        f"(x.payment_method = '{PaymentMethod.STRIPE}' OR "
        f"(x.payment_method = '{PaymentMethod.MANUAL}' AND {{standing}})) AND {{amount}} > 0"
    )
    for table, moment, refunded, standing in (
        ("bookings", "booked_at", "x.refunded_minor", f"x.state <> {cancelled}"),
        ("appointments", "booked_at", "x.refunded_minor", f"x.state <> {cancelled}"),
        ("passes", "purchased_at", "x.refunded_minor", f"x.state <> '{PassState.CANCELLED}'"),
        ("video_purchases", "purchased_at", "0", "x.cancelled_at IS NULL"),
    ):
        amount = f"(COALESCE(x.price_minor, 0) - {refunded})"
        parts.append(
            spent.format(amount=amount, moment=moment, table=table, mine=_MINE, standing=standing)
        )
    return " UNION ALL ".join(f"SELECT {part}" for part in parts)


def _household() -> str:
    """Both sides of each link, as core.services.household.household reads them."""
    side = (
        "SELECT o.uid, o.first_name, o.last_name, o.status, l.relation, {low} AS low "
        "FROM customer_links l JOIN me ON me.id = l.{mine} JOIN customers o ON o.id = l.{theirs}"
    )
    return (
        side.format(low=1, mine="low_id", theirs="high_id")
        + " UNION ALL "
        + side.format(low=0, mine="high_id", theirs="low_id")
    )


@lru_cache(maxsize=32)
def statement(tab: Tab, postgres: bool) -> str:
    """The one statement for a switch to `tab`, with :named parameters (pyformat for psycopg)."""
    listing = LISTINGS[tab]
    customer = _object(
        {
            "uid": "me.uid",
            "first_name": "me.first_name",
            "last_name": "me.last_name",
            "email": "me.email",
            "mobile": "me.mobile",
            "status": "me.status",
            "version": "me.version",
            "created_at": "me.created_at",
            "updated_at": "me.updated_at",
            "updated_by": "me.updated_by",
            "merged_into_uid": "me.merged_uid",
            "has_password": "me.has_password",
            "anonymised_at": "me.anonymised_at",
            "marketing_consent": "me.marketing_consent",
            "consent_at": "me.consent_at",
            "consent_source": "me.consent_source",
            "timezone": "me.timezone",
        },
        postgres,
    )
    figures = _object(
        {
            "kind": "f.kind",
            "currency": "f.currency",
            "count": "count(*)",
            "first": "min(f.moment)",
            "last": "max(f.moment)",
            "total": "sum(f.amount)",
            "recent": "sum(CASE WHEN f.moment >= :recent THEN 1 ELSE 0 END)",
        },
        postgres,
    )
    member = _object(
        {
            "uid": "h.uid",
            "first_name": "h.first_name",
            "last_name": "h.last_name",
            "status": "h.status",
            "relation": "h.relation",
            "low": "h.low",
        },
        postgres,
    )
    # The page is picked on plain columns (a bounded sort); only its rows become JSON.
    keys = [f"{sql} AS k{n}" for n, (sql, _) in enumerate(listing.order)]
    picked = ", ".join([*keys, *(f'{sql} AS "{name}"' for name, sql in listing.columns.items())])
    directions = [" DESC" if desc else "" for _, desc in listing.order]
    order = ", ".join(f"k{n}{way}" for n, way in enumerate(directions))
    numbered = ", ".join(f"r.k{n}{way}" for n, way in enumerate(directions))
    columns = {name: f'r."{name}"' for name in listing.columns}
    if listing.link_kind:
        columns["awaiting_link"] = (
            f"CASE WHEN r.\"payment_method\" = '{PaymentMethod.UNPAID}' AND EXISTS (SELECT 1 "
            "FROM payment_links pl WHERE pl.team_id = :team "
            f"AND pl.kind = '{listing.link_kind}' AND pl.target_id = r.\"id\" "
            f"AND pl.status = '{LinkStatus.OPEN}' AND pl.expires_at > :now) THEN 1 ELSE 0 END"
        )
    row = _object(columns, postgres, listing.json_columns)
    where = " AND ".join(filter(None, (_MINE, listing.where)))
    # Counting, SQLite would rather walk a covering index of the whole workspace's rows by
    # team_id; a unary + leaves it the customer's index.
    counted = where if postgres else where.replace("x.team_id", "+x.team_id")
    household_order = "h.last_name, h.first_name, h.uid"
    sql = (
        "WITH me AS (SELECT c.id, c.uid, c.first_name, c.last_name, c.email, c.mobile, "
        "c.status, c.version, c.created_at, c.updated_at, c.updated_by, "
        "c.password_hash IS NOT NULL AS has_password, c.anonymised_at, c.marketing_consent, "
        "c.consent_at, c.consent_source, m.uid AS merged_uid, w.timezone "
        "FROM customers c JOIN workspaces w ON w.team_id = c.team_id "
        "LEFT JOIN customers m ON m.id = c.merged_into_id "
        "WHERE c.team_id = :team AND c.uid = :uid) "
        f"SELECT {CUSTOMER} AS part, 0 AS n, {customer} AS doc FROM me "
        f"UNION ALL SELECT {SALES}, s.kind * {MONTHS} + s.month, "
        f"{_object({'count': 'count(*)'}, postgres)} FROM ({_sales()}) AS s "
        "GROUP BY s.kind, s.month "
        f"UNION ALL SELECT {FIGURES}, 0, {figures} FROM ({_figures()}) AS f "
        "GROUP BY f.kind, f.currency "
        f"UNION ALL SELECT {HOUSEHOLD}, hh.n, hh.doc FROM (SELECT row_number() OVER "
        f"(ORDER BY {household_order}) AS n, {member} AS doc FROM ({_household()}) AS h "
        f"ORDER BY {household_order} LIMIT {HOUSEHOLD_MAX}) AS hh "
        f"UNION ALL SELECT {ROWS}, row_number() OVER (ORDER BY {numbered}), "
        f"{row} FROM (SELECT {picked} FROM {listing.table} x {listing.joins} WHERE {where} "
        f"ORDER BY {order} LIMIT {PAGE_SIZES[tab]}) AS r "
        f"UNION ALL SELECT {TOTAL}, 0, {_object({'total': 'count(*)'}, postgres)} "
        f"FROM {listing.table} x WHERE {counted} "
        f"UNION ALL SELECT {TAGS}, row_number() OVER (ORDER BY t.key), "
        f"{_object({'name': 't.name'}, postgres)} FROM customer_tags ct "
        "JOIN me ON ct.customer_id = me.id JOIN tags t ON t.id = ct.tag_id "
        "ORDER BY part, n"
    )
    return _PARAM.sub(r"%(\1)s", sql) if postgres else sql


def _bound(moment: datetime, postgres: bool) -> datetime | str:
    """A UTC instant as the column stores it (core.models.base.UTCDateTime; SQLite as text)."""
    if postgres:
        return moment
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def parameters(
    team_id: str, uid: str, timezone: str, now: datetime, postgres: bool
) -> tuple[dict[str, Any], list[date]]:
    """The statement's parameters, and the first day of each month the sales are counted for."""
    zone = ZoneInfo(timezone)
    current = now.astimezone(zone).date().replace(day=1)
    firsts = [add_months(current, offset) for offset in range(1 - MONTHS, 1)]
    values: dict[str, Any] = {
        "team": team_id,
        "uid": uid,
        "now": _bound(now, postgres),
        "recent": _bound(now - timedelta(days=RECENT_DAYS), postgres),
        "since": _bound(local_midnight(firsts[0], zone), postgres),
        "until": _bound(local_midnight(add_months(current, 1), zone), postgres),
    }
    for n, first in enumerate(firsts[1:]):
        values[f"start_{n}"] = _bound(local_midnight(first, zone), postgres)
    return values, firsts


def _at(value: str | None) -> datetime | None:
    """An instant from the JSON: SQLite's stored UTC text or PostgreSQL's ISO with offset."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _when(value: str) -> datetime:
    moment = _at(value)
    assert moment is not None
    return moment


def _customer(doc: dict[str, Any]) -> CustomerRecord:
    source = doc["consent_source"]
    return CustomerRecord(
        uid=doc["uid"],
        first_name=doc["first_name"],
        last_name=doc["last_name"],
        email=doc["email"],
        mobile=doc["mobile"],
        status=CustomerStatus(doc["status"]),
        version=doc["version"],
        created_at=_when(doc["created_at"]),
        updated_at=_when(doc["updated_at"]),
        updated_by=doc["updated_by"],
        merged_into_uid=doc["merged_into_uid"],
        has_password=bool(doc["has_password"]),
        anonymised_at=_at(doc["anonymised_at"]),
        marketing_consent=ConsentState(doc["marketing_consent"]),
        consent_at=_at(doc["consent_at"]),
        consent_source=ConsentSource(source) if source is not None else None,
    )


def _figures_of(docs: list[dict[str, Any]], now: datetime) -> Figures:
    """core.services.figures.customer_figures from the grouped rows."""
    first_visit = last_visit = None
    visits = recent = no_shows = 0
    spend: list[Spend] = []
    for doc in docs:
        if doc["kind"] == _VISIT:
            first_visit, last_visit = _at(doc["first"]), _at(doc["last"])
            visits, recent = doc["count"], doc["recent"]
        elif doc["kind"] == _NO_SHOW:
            no_shows = doc["count"]
        else:
            first = _when(doc["first"])
            total = int(doc["total"])
            spend.append(
                Spend(doc["currency"], total, first, per_month(total, months_since(first, now)))
            )
    spend.sort(key=lambda s: s.currency)
    return Figures(first_visit, last_visit, visits, recent, no_shows, spend)


def _member(doc: dict[str, Any]) -> Member:
    relation = Relation(doc["relation"])
    return Member(
        doc["uid"],
        f"{doc['first_name']} {doc['last_name']}",
        relation if doc["low"] else inverse(relation),
        doc["status"] == CustomerStatus.ARCHIVED,
    )


def _attendance(doc: dict[str, Any]) -> dict[str, Any]:
    mark = doc["attendance"]
    return {
        "attendance": Attendance(mark) if mark is not None else None,
        "attendance_by": doc["attendance_by"],
        "attendance_at": _at(doc["attendance_at"]),
        "version": doc["version"],
    }


def _booking(doc: dict[str, Any], now: datetime) -> BookingRow:
    starts_at = _when(doc["starts_at"])
    return BookingRow(
        id=doc["id"],
        booked_at=_when(doc["booked_at"]),
        event_name=doc["event_name"],
        starts_at=starts_at,
        timezone=doc["timezone"],
        duration_minutes=doc["duration_minutes"],
        price_minor=doc["price_minor"],
        credits=doc["credits"],
        currency=doc["currency"],
        state=BookingState(doc["state"]),
        payment_method=PaymentMethod(doc["payment_method"]),
        stripe_payment_intent_id=doc["stripe_payment_intent_id"],
        refunded_minor=doc["refunded_minor"],
        refund_state=RefundState(doc["refund_state"]),
        awaiting_link=bool(doc["awaiting_link"]),
        check_in_open=now >= check_in_opens(starts_at, doc["timezone"]),
        **_attendance(doc),
    )


def _appointment(doc: dict[str, Any], now: datetime) -> AppointmentRow:
    return AppointmentRow(
        id=doc["id"],
        booked_at=_when(doc["booked_at"]),
        service_name=doc["service_name"],
        facilitator_name=doc["facilitator_name"],
        starts_at=_when(doc["starts_at"]),
        duration_minutes=doc["duration_minutes"],
        price_minor=doc["price_minor"],
        credits=doc["credits"],
        currency=doc["currency"],
        payment_method=PaymentMethod(doc["payment_method"]),
        state=AppointmentState(doc["state"]),
        refunded_minor=doc["refunded_minor"],
        refund_state=RefundState(doc["refund_state"]),
        awaiting_link=bool(doc["awaiting_link"]),
        **_attendance(doc),
    )


def _pass(doc: dict[str, Any], now: datetime) -> PassRow:
    return PassRow(
        id=doc["id"],
        purchased_at=_when(doc["purchased_at"]),
        name=doc["name"],
        valid_from=date.fromisoformat(doc["valid_from"]),
        valid_to=date.fromisoformat(doc["valid_to"]),
        credits_total=doc["credits_total"],
        credits_remaining=doc["credits_remaining"],
        price_minor=doc["price_minor"],
        currency=doc["currency"],
        payment_method=PaymentMethod(doc["payment_method"]),
        state=PassState(doc["state"]),
        refunded_minor=doc["refunded_minor"],
        refund_state=RefundState(doc["refund_state"]),
        awaiting_link=bool(doc["awaiting_link"]),
    )


def _video(doc: dict[str, Any], now: datetime) -> VideoRow:
    expires_at = _at(doc["expires_at"])
    # VideoPurchase.state_at: cancelled, else expired by now, else active.
    if doc["cancelled_at"] is not None:
        state = VideoState.CANCELLED
    elif expires_at is not None and expires_at <= now:
        state = VideoState.EXPIRED
    else:
        state = VideoState.ACTIVE
    return VideoRow(
        id=doc["id"],
        purchased_at=_when(doc["purchased_at"]),
        title=doc["title"],
        expires_at=expires_at,
        price_minor=doc["price_minor"],
        credits=doc["credits"],
        currency=doc["currency"],
        payment_method=PaymentMethod(doc["payment_method"]),
        state=state,
        awaiting_link=bool(doc["awaiting_link"]),
    )


def _subscription(doc: dict[str, Any], now: datetime) -> SubscriptionRow:
    return SubscriptionRow(
        id=doc["id"],
        created_at=_when(doc["created_at"]),
        plan_name=doc["plan_name"],
        interval=doc["interval"],
        next_payment_at=_at(doc["next_payment_at"]),
        price_minor=doc["price_minor"],
        currency=doc["currency"],
        state=SubscriptionState(doc["state"]),
        stripe_subscription_id=doc["stripe_subscription_id"],
    )


def _questionnaire(doc: dict[str, Any], now: datetime) -> QuestionnaireRow:
    questions, stored = doc["questions"] or [], doc["answers"] or []
    # One answer or None per question, whatever length the stored list has.
    answered = sum(1 for i in range(len(questions)) if i < len(stored) and stored[i] is not None)
    return QuestionnaireRow(
        id=doc["id"],
        name=doc["name"],
        status=QuestionnaireStatus(doc["status"]),
        created_at=_when(doc["created_at"]),
        updated_at=_when(doc["updated_at"]),
        answered=answered,
        total=len(questions),
    )


def _note(doc: dict[str, Any], customer_uid: str) -> NoteRow:
    return NoteRow(
        id=doc["id"],
        customer_uid=customer_uid,
        author=doc["author"],
        content=doc["content"],
        created_at=_when(doc["created_at"]),
        updated_at=_when(doc["updated_at"]),
        updated_by=doc["updated_by"],
        source_author=doc["source_author"] or "",
        source_permalink=doc["source_permalink"] or "",
    )


def _history(doc: dict[str, Any], now: datetime) -> HistoryRow:
    return HistoryRow(
        id=doc["id"],
        created_at=_when(doc["created_at"]),
        actor=doc["actor"],
        action=doc["action"],
        changes=dict(doc["changes"] or {}),
        detail=doc["detail"],
        customer_uid=doc["customer_uid"],
    )


_ROWS = {
    Tab.BOOKINGS: _booking,
    Tab.APPOINTMENTS: _appointment,
    Tab.PASSES: _pass,
    Tab.VIDEOS: _video,
    Tab.SUBSCRIPTIONS: _subscription,
    Tab.QUESTIONNAIRES: _questionnaire,
    Tab.ACCOUNT: _history,
}


@dataclass
class DetailsFloor:
    """Reads and builds a customer's details on one tab: one statement per switch."""

    engine: Engine
    settings: Settings
    # The business time zone per workspace, for the months' first instants; the statement
    # returns the workspace's zone too, and a change is caught there (and read again).
    zones: dict[str, str] = field(default_factory=dict)
    clock: Clock = utc_now

    def _read(
        self, team_id: str, uid: str, tab: Tab, timezone: str, now: datetime
    ) -> tuple[list[tuple[int, int, dict[str, Any]]], list[date]]:
        postgres = self.engine.dialect.name == "postgresql"
        values, firsts = parameters(team_id, uid, timezone, now, postgres)
        # The driver's own connection: one statement needs no transaction of SQLAlchemy's
        # (which on SQLite the product's engine would begin as a writer's).
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(statement(tab, postgres), values)
            rows = cursor.fetchall()
            cursor.close()
        finally:
            connection.close()
        # psycopg hands JSON back parsed; sqlite3 as text.
        read = [
            (part, n, json.loads(doc) if isinstance(doc, str) else doc) for part, n, doc in rows
        ]
        return read, firsts

    def view(self, team_id: str, meta: DetailsMeta) -> dict[str, Any]:
        """The details `meta` asks for (its tab's first page), or why they can't be shown."""
        tab = meta.state.tab
        now = self.clock()
        timezone = self.zones.get(team_id, self.settings.business_timezone)
        rows, firsts = self._read(team_id, meta.uid, tab, timezone, now)
        found = [doc for part, _, doc in rows if part == CUSTOMER]
        if found and found[0]["timezone"] != timezone:
            timezone = self.zones[team_id] = found[0]["timezone"]
            rows, firsts = self._read(team_id, meta.uid, tab, timezone, now)
            found = [doc for part, _, doc in rows if part == CUSTOMER]
        if not found:
            return gone_view(f"No customer with UID {meta.uid} exists; they may have been deleted.")
        customer = _customer(found[0])
        counts = [[0] * MONTHS for _ in range(3)]
        docs: dict[int, list[dict[str, Any]]] = {part: [] for part in range(TAGS + 1)}
        for part, n, doc in rows:
            if part == SALES:
                counts[n // MONTHS][n % MONTHS] = doc["count"]
            docs[part].append(doc)
        sales = SalesSeries(firsts, counts[0], counts[1], counts[2], timezone)
        total = docs[TOTAL][0]["total"] if docs[TOTAL] else 0
        if tab is Tab.NOTES:
            listed: list[Any] = [_note(doc, customer.uid) for doc in docs[ROWS]]
        else:
            listed = [_ROWS[tab](doc, now) for doc in docs[ROWS]]
        page = Page(listed, total, 1, PAGE_SIZES[tab])
        state = meta.state.model_copy(update={"page": 1})
        body = TABS[tab][1](TabView(customer, state, timezone, now, True), page)
        chart_url = chart_image_url(
            self.settings, team_id=team_id, customer_uid=customer.uid, now=now
        )
        members = [_member(doc) for doc in docs[HOUSEHOLD]]
        view = customer_details(
            meta.model_copy(update={"state": state}),
            customer,
            SalesActivity(sales, chart_url, _figures_of(docs[FIGURES], now), members),
            body,
            timezone=timezone,
        )
        editable = customer.anonymised_at is None and customer.merged_into_uid is None
        held = [doc["name"] for doc in docs[TAGS]]
        view = with_profile(
            view, profile_blocks(held, consent_of(customer), timezone, editable=editable)
        )
        link = customer_link(self.settings.public_base_url, customer.uid)
        return with_link(view, customer.uid) if link and customer.anonymised_at is None else view
