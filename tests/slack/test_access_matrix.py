"""Access and isolation: every action × (admin, staff, non-staff member, guest, another workspace).

DESIGN.md §5: only staff may use the app; guests are always refused; Delete, Merge, Refund,
staff management, the studio settings and changes to the catalog are for admins; everything
else is for staff. Each cell sends the request a person in that role would send — a slash
command, an event, a click or a form submission on the surface it belongs to, with realistic
values — over signed HTTP to the real app, and checks:

- admin / staff where allowed: the action's effect happened (a view opened or redrawn, a row
  changed, an answer given);
- admin-only actions by staff: "Only an admin can …", and nothing changed;
- non-staff and guests: Slack's refusal ("don't have access yet" / "guest accounts can't use"),
  nothing changed, nothing shown;
- a user of another workspace (an admin there), acting from their own surfaces on our UIDs, row
  ids and customers: nothing of ours shown (no name, no email) and nothing of ours changed.

Exempt: `member_joined_channel` and `member_left_channel` concern a conversation, not a person
acting; they pass the staff gate for anyone (the joiner is often a guest) and change no record,
only what the app remembers about who is in the conversation. tests/slack/test_audience.py
checks nobody is refused for them; test_fuzz fuzzes them. `link_shared` and `entity_details_requested`
concern a link, not a person acting: anyone may paste a customer link or open its card, and
what each conversation and each viewer may see is decided per conversation (`is_all_staff`) and
per viewer; tests/slack/test_unfurls.py checks both (a guest's channel gets no personal data, a
guest's flexpane an error), and test_fuzz fuzzes them.

Workflow Builder steps are run by `who` as the workflow's runner (the `runner` input Slack fills
with the person's user context): allowed, the step completes with its outputs; refused, it
ends with functions.completeError saying why.

Every cell also keeps the harness's invariants (no 5xx, no stack trace, nothing logged at
ERROR, no cross-tenant reference). Writes act on rows made for the cell, so cells don't depend on
each other. Run with `-s` to see the matrix size.
"""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import insert, select, update

from core.actor import Actor
from core.chart_links import chart_key, chart_token
from core.errors import NotFound
from core.models import (
    AlertSubscription,
    Appointment,
    AppointmentService,
    AppointmentState,
    Attendance,
    Booking,
    BookingState,
    ConsentState,
    Customer,
    CustomerLink,
    CustomerStatus,
    CustomerTag,
    Event,
    EventOccurrence,
    Facilitator,
    HistoryEntry,
    LinkStatus,
    NotDuplicate,
    Note,
    OutboxMail,
    Pass,
    PassState,
    PassType,
    PaymentLink,
    PaymentMethod,
    QuestionnaireResponse,
    RefundState,
    Relation,
    Role,
    Segment,
    StaffMember,
    Subscription,
    SubscriptionPlan,
    SubscriptionState,
    Tag,
    VideoPurchase,
    Workspace,
    facilitator_services,
)
from core.services import notes, questionnaires
from core.services.alerts import set_channel_alerts
from core.services.bookings import book_event
from core.services.catalog_items import add_item, archive_item
from core.services.catalog_rules import RULES, ItemDraft, ItemKind
from core.services.checkout import StripePayment
from core.services.customers import archive_customer
from core.services.events import EventDraft, add_event
from core.services.export import export_customer
from core.services.household import link_customers
from core.services.saved_segments import save_segment
from core.services.segments import SegmentFilters
from core.services.staff import add_staff
from core.services.stripe_account import save_stripe_key
from tests.conftest import MutableClock
from tests.slack.conftest import ADMIN, STAFF, TEAM
from tests.slack.details_helpers import NOW, customer_id
from tests.slack.fuzz_payloads import (
    IMPORT_FILE,
    OTHER_TEAM,
    REFUSED,
    USERS,
    Harness,
    Sent,
    Tenant,
    Who,
    button,
    fingerprint,
    menu,
    open_harness,
    plain_text,
)
from tests.slack.helpers import JSON, post_raw, seed
from tests.stripe_server import (  # noqa: F401
    StandInError,
    StripeStandIn,
    stripe_process,
    stripe_server,
)

ROLES: tuple[Who, ...] = ("stranger", "guest", "other", "staff", "admin")
REFUSALS = {
    "stranger": "don't have access yet",
    "guest": "guest accounts can't use Customer Records",
}
ADMIN_ONLY = "Only an admin can"


# ----------------------------------------------------------------- what a cell acts on


@dataclass
class Subject:
    """What a cell acts on: a customer (UID and name) and, for row actions, a row id."""

    uid: str
    name: str
    row: int = 0
    email: str = ""
    version: int = 1
    # Merge: the customer to keep; staff removal: the member's user id.
    other: str = ""


_counter = itertools.count(1)


def _ours(h: Harness) -> Tenant:
    return h.tenants[TEAM]


def main(h: Harness) -> Subject:
    uid = _ours(h).main
    email = _scalar(h, select(Customer.email).where(Customer.uid == uid))
    return Subject(uid, "Zoë Adams", email=str(email))


def fresh(h: Harness, *, archived: bool = False) -> Subject:
    """A customer made for this cell (our workspace)."""
    n = next(_counter)
    # UK test numbers end in three digits; the name keeps the email unique past 799 cells.
    (made,) = seed(h.db, [("Cell", f"Subject{n:03d}")], mobile_start=200 + n % 800)
    if archived:
        with h.db.unit_of_work() as uow:
            archive_customer(uow, Actor(TEAM, ADMIN, Role.ADMIN), made.uid)
    return Subject(made.uid, made.full_name, version=2 if archived else 1, email=made.email)


def fresh_archived(h: Harness) -> Subject:
    return fresh(h, archived=True)


def _catalog(h: Harness, model: Any) -> int:
    """The id of our first catalog item of `model`."""
    with h.db.unit_of_work(readonly=True) as uow:
        return int(
            uow.session.scalars(
                select(model.id).where(model.team_id == TEAM).order_by(model.id)
            ).first()
        )


def _with_row(h: Harness, make: Callable[[int], Any]) -> Subject:
    """A fresh customer with one row made by `make(customer id)`."""
    subject = fresh(h)
    with h.db.unit_of_work() as uow:
        row = make(customer_id(uow, subject.uid))
        uow.session.add(row)
        uow.session.flush()
        subject.row = int(row.id)
    return subject


def a_booking(h: Harness) -> Subject:
    occurrence = _ours(h).of("event_occurrences")[1]
    return _with_row(
        h,
        lambda owner: Booking(
            team_id=TEAM,
            customer_id=owner,
            occurrence_id=occurrence,
            booked_at=NOW - timedelta(days=1),
            price_minor=1000,
            credits=None,
            currency="GBP",
            state=BookingState.MANUAL,
            payment_method=PaymentMethod.MANUAL,
            refunded_minor=0,
            refund_state=RefundState.NONE,
        ),
    )


def a_booking_today(h: Harness) -> Subject:
    """A booking on today's session, so it can be checked in."""
    subject = a_booking(h)
    today = _ours(h).of("event_occurrences")[0]
    with h.db.unit_of_work() as uow:
        uow.session.execute(
            update(Booking).where(Booking.id == subject.row).values(occurrence_id=today)
        )
    return subject


def a_booking_attended(h: Harness) -> Subject:
    """A booking on today's session already marked attended (its version 2)."""
    subject = a_booking_today(h)
    with h.db.unit_of_work() as uow:
        uow.session.execute(
            update(Booking)
            .where(Booking.id == subject.row)
            .values(
                attendance=Attendance.ATTENDED, attendance_by=STAFF, attendance_at=NOW, version=2
            )
        )
    subject.version = 2
    return subject


def a_stripe_booking(h: Harness) -> Subject:
    """A booking paid through Stripe (a real payment in the Stripe stand-in)."""
    stripe = h.stripe
    assert stripe is not None
    subject = fresh(h)
    # The payment must be the session's price.
    intent = stripe.payment(1000)
    occurrence = _ours(h).of("event_occurrences")[3]
    with h.db.unit_of_work() as uow:
        row = book_event(
            uow,
            Actor(TEAM, ADMIN, Role.ADMIN),
            subject.uid,
            occurrence,
            StripePayment(intent),
            gateway=stripe.gateway(),
        )
    subject.row = row.id
    return subject


def an_appointment(h: Harness) -> Subject:
    service, facilitator = _catalog(h, AppointmentService), _catalog(h, Facilitator)
    n = next(_counter)
    return _with_row(
        h,
        lambda owner: Appointment(
            team_id=TEAM,
            customer_id=owner,
            service_id=service,
            facilitator_id=facilitator,
            booked_at=NOW - timedelta(days=1),
            starts_at=NOW + timedelta(days=30 + n),
            duration_minutes=45,
            price_minor=4000,
            credits=None,
            currency="GBP",
            payment_method=PaymentMethod.MANUAL,
            state=AppointmentState.SCHEDULED,
        ),
    )


def a_pass(h: Harness) -> Subject:
    kind = _catalog(h, PassType)
    return _with_row(
        h,
        lambda owner: Pass(
            team_id=TEAM,
            customer_id=owner,
            pass_type_id=kind,
            purchased_at=NOW - timedelta(days=3),
            valid_from=date(2026, 3, 1),
            valid_to=date(2026, 5, 29),
            credits_total=10,
            credits_remaining=10,
            price_minor=9000,
            currency="GBP",
            payment_method=PaymentMethod.MANUAL,
            state=PassState.MANUAL,
        ),
    )


def a_video(h: Harness) -> Subject:
    from core.models import Video

    video = _catalog(h, Video)
    return _with_row(
        h,
        lambda owner: VideoPurchase(
            team_id=TEAM,
            customer_id=owner,
            video_id=video,
            purchased_at=NOW - timedelta(days=2),
            expires_at=NOW + timedelta(days=28),
            price_minor=500,
            credits=None,
            currency="GBP",
            payment_method=PaymentMethod.MANUAL,
        ),
    )


def _unpaid(make: Callable[[Harness], Subject], model: Any) -> Callable[[Harness], Subject]:
    """`make`'s row, made unpaid: waiting for a payment link."""

    def made(h: Harness) -> Subject:
        subject = make(h)
        values: dict[str, Any] = {"payment_method": PaymentMethod.UNPAID}
        if model in (Booking, Pass):
            values["state"] = BookingState.UNPAID if model is Booking else PassState.UNPAID
        if model is Appointment:
            # Far beyond the days other cells book, so no appointment of theirs clashes.
            values["starts_at"] = NOW + timedelta(days=400 + subject.row)
        with h.db.unit_of_work() as uow:
            uow.session.execute(update(model).where(model.id == subject.row).values(values))
        return subject

    return made


def link_sent(kind: str) -> Callable[[Harness, Subject], bool]:
    """A payment link for the subject's row is open: made at Stripe, mailed."""

    def check(h: Harness, subject: Subject) -> bool:
        query = select(PaymentLink.id).where(
            PaymentLink.kind == kind,
            PaymentLink.target_id == subject.row,
            PaymentLink.status == LinkStatus.OPEN,
        )
        return _scalar(h, query) is not None

    return check


def a_subscriber(h: Harness) -> Subject:
    """A fresh customer, and the Stripe prices of our plans in the Stripe stand-in."""
    stripe = h.stripe
    assert stripe is not None
    with h.db.unit_of_work(readonly=True) as uow:
        prices = uow.session.scalars(
            select(SubscriptionPlan.stripe_price_id).where(SubscriptionPlan.team_id == TEAM)
        ).all()
    for price in prices:
        try:
            stripe.request("GET", f"/v1/plans/{price}")
        except StandInError:  # not made for an earlier cell yet
            stripe.request(
                "POST",
                "/v1/plans",
                [
                    ("id", str(price)),
                    ("amount", "6000"),
                    ("currency", "gbp"),
                    ("interval", "month"),
                    ("product[name]", "Unlimited monthly"),
                ],
            )
    return fresh(h)


def subscription_link_sent(h: Harness, subject: Subject) -> bool:
    query = (
        select(PaymentLink.id)
        .join(Customer, Customer.id == PaymentLink.customer_id)
        .where(Customer.uid == subject.uid, PaymentLink.status == LinkStatus.OPEN)
    )
    return _scalar(h, query) is not None


def _subscription(h: Harness, state: SubscriptionState) -> Subject:
    plan = _catalog(h, SubscriptionPlan)
    return _with_row(
        h,
        lambda owner: Subscription(
            team_id=TEAM,
            customer_id=owner,
            plan_id=plan,
            created_at=NOW - timedelta(days=60),
            next_payment_at=NOW + timedelta(days=5),
            price_minor=6000,
            currency="GBP",
            state=state,
        ),
    )


def an_active_subscription(h: Harness) -> Subject:
    return _subscription(h, SubscriptionState.ACTIVE)


def a_paused_subscription(h: Harness) -> Subject:
    return _subscription(h, SubscriptionState.PAUSED)


def a_note(h: Harness) -> Subject:
    """A note written by the staff member (so staff, its author, and admins may edit it)."""
    subject = fresh(h)
    with h.db.unit_of_work() as uow:
        note = notes.add_note(uow, Actor(TEAM, STAFF, Role.STAFF), subject.uid, "Cell note.")
    subject.row = note.id
    return subject


def a_questionnaire(h: Harness) -> Subject:
    subject = fresh(h)
    boss = Actor(TEAM, ADMIN, Role.ADMIN)
    with h.db.unit_of_work() as uow:
        template = next(
            t for t in questionnaires.list_templates(uow, boss) if t.name == "Health check"
        )
        row = questionnaires.assign_questionnaire(uow, boss, subject.uid, template.id)
    subject.row = row.id
    return subject


def a_pair(h: Harness) -> Subject:
    """Two customers: merge the first into the second."""
    source, kept = fresh(h), fresh(h)
    source.other = kept.uid
    return source


def a_couple(h: Harness) -> Subject:
    """Two customers not linked yet: link the first to the second."""
    first, second = fresh(h), fresh(h)
    first.other = second.uid
    return first


def a_family(h: Harness) -> Subject:
    """Two customers, the first the parent of the second."""
    subject = a_couple(h)
    with h.db.unit_of_work() as uow:
        boss = Actor(TEAM, ADMIN, Role.ADMIN)
        link_customers(uow, boss, subject.uid, subject.other, Relation.PARENT)
    return subject


def a_staff_member(h: Harness) -> Subject:
    user = f"UCELL{next(_counter):04d}"
    with h.db.unit_of_work() as uow:
        add_staff(uow, Actor(TEAM, ADMIN, Role.ADMIN), user)
    return Subject(_ours(h).main, "Zoë Adams", other=user)


# ----------------------------------------------------------------- effects

Effect = Callable[[Harness, Sent, Subject], bool]


def _views(sent: Sent, *methods: str) -> list[JSON]:
    found = []
    for call in sent.calls:
        if call.ok and call.method in methods and isinstance(call.params.get("view"), dict):
            found.append(call.params["view"])
    view = sent.response.data.get("view")
    if sent.response.data.get("response_action") in {"update", "push"} and view:
        found.append(view)
    return found


def shown(
    *methods: str, callback: str = "", needle: Callable[[Subject], str] | None = None
) -> Effect:
    """A view was opened, pushed, updated or published (or answered) with `callback`."""

    def effect(h: Harness, sent: Sent, subject: Subject) -> bool:
        for view in _views(sent, *methods):
            text = json.dumps(view, ensure_ascii=False)
            if callback and view.get("callback_id") != callback:
                continue
            if needle is None or needle(subject) in text:
                return True
        return False

    return effect


def pushed(callback: str, needle: Callable[[Subject], str] | None = None) -> Effect:
    return shown("views.push", "views.open", callback=callback, needle=needle)


def updated(callback: str, needle: Callable[[Subject], str] | None = None) -> Effect:
    return shown("views.update", "views.publish", callback=callback, needle=needle)


def closed(check: Callable[[Harness, Subject], bool]) -> Effect:
    """A submission closed its form (empty answer) and the database shows the change."""

    def effect(h: Harness, sent: Sent, subject: Subject) -> bool:
        return not sent.response.text.strip() and check(h, subject)

    return effect


def changed(check: Callable[[Harness, Subject], bool]) -> Effect:
    return lambda h, sent, subject: check(h, subject)


def acked(needle: str) -> Effect:
    return lambda h, sent, subject: needle in sent.response.text


def options(h: Harness, sent: Sent, subject: Subject) -> bool:
    return bool(sent.response.data.get("options"))


def uploaded(h: Harness, sent: Sent, subject: Subject) -> bool:
    return any(c.ok and c.method == "files.completeUploadExternal" for c in sent.calls)


def name_of(subject: Subject) -> str:
    return subject.name


def _scalar(h: Harness, query: Any) -> Any:
    with h.db.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(query)


def status(value: CustomerStatus) -> Callable[[Harness, Subject], bool]:
    return lambda h, s: _scalar(h, select(Customer.status).where(Customer.uid == s.uid)) is value


def gone(h: Harness, subject: Subject) -> bool:
    return _scalar(h, select(Customer.id).where(Customer.uid == subject.uid)) is None


def anonymised(h: Harness, subject: Subject) -> bool:
    return _scalar(h, select(Customer.anonymised_at).where(Customer.uid == subject.uid)) is not None


def merged(h: Harness, subject: Subject) -> bool:
    return (
        _scalar(h, select(Customer.merged_into_id).where(Customer.uid == subject.uid)) is not None
    )


def linked(h: Harness, subject: Subject) -> bool:
    ids = select(Customer.id).where(Customer.uid.in_((subject.uid, subject.other)))
    query = select(CustomerLink.id).where(
        CustomerLink.low_id.in_(ids), CustomerLink.high_id.in_(ids)
    )
    return _scalar(h, query) is not None


def not_duplicates(h: Harness, subject: Subject) -> bool:
    ids = select(Customer.id).where(Customer.uid.in_((subject.uid, subject.other)))
    return bool(_scalar(h, select(NotDuplicate.id).where(NotDuplicate.low_id.in_(ids))))


def renamed(h: Harness, subject: Subject) -> bool:
    first = _scalar(h, select(Customer.first_name).where(Customer.uid == subject.uid))
    return bool(first == "Renamed")


def password_set(h: Harness, subject: Subject) -> bool:
    """The customer's password was set in the form (the history says so)."""
    with h.db.unit_of_work(readonly=True) as uow:
        query = select(HistoryEntry.detail).where(
            HistoryEntry.customer_id == customer_id(uow, subject.uid)
        )
        return "password changed" in set(uow.session.scalars(query))


def created(email: str) -> Callable[[Harness, Subject], bool]:
    return lambda h, s: _scalar(h, select(Customer.id).where(Customer.email == email)) is not None


def rows_of(model: Any, **where: Any) -> Callable[[Harness, Subject], bool]:
    """The subject's customer has a row of `model` matching `where`."""

    def check(h: Harness, subject: Subject) -> bool:
        with h.db.unit_of_work(readonly=True) as uow:
            query = select(model.id).where(model.customer_id == customer_id(uow, subject.uid))
            for column, value in where.items():
                query = query.where(getattr(model, column) == value)
            return uow.session.scalar(query) is not None

    return check


def row_is(model: Any, **where: Any) -> Callable[[Harness, Subject], bool]:
    """The subject's row of `model` matches `where`."""

    def check(h: Harness, subject: Subject) -> bool:
        query = select(model.id).where(model.id == subject.row)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return _scalar(h, query) is not None

    return check


def row_gone(model: Any) -> Callable[[Harness, Subject], bool]:
    return lambda h, s: _scalar(h, select(model.id).where(model.id == s.row)) is None


def staff_has(user: Callable[[Subject], str], present: bool) -> Callable[[Harness, Subject], bool]:
    def check(h: Harness, subject: Subject) -> bool:
        found = _scalar(
            h,
            select(StaffMember.id).where(
                StaffMember.team_id == TEAM, StaffMember.slack_user_id == user(subject)
            ),
        )
        return (found is not None) is present

    return check


# ----------------------------------------------------------------- actions

# A field's value from the subject, the form as drawn and the requester's tenant.
Value = Callable[[Subject, JSON, Tenant], str]


@dataclass(frozen=True)
class Act:
    """One action of the matrix: how to send it, what it acts on, what it does when allowed."""

    name: str
    kind: str  # command | event | shortcut | action | view | options | step
    effect: Effect
    admin_only: bool = False
    subject: Callable[[Harness], Subject] = main
    surface: str = ""
    # Metadata fields to point at the subject (dotted paths into private_metadata).
    meta: Callable[[Subject], dict[str, Any]] = lambda s: {}
    # command: the text; action: the action (from the subject); options: the typed text.
    text: Callable[[Subject], str] = lambda s: ""
    action: Callable[[Subject], JSON] | None = None
    # view: block_id → value (a callable gets the subject and the template view).
    values: dict[str, Any] = field(default_factory=dict)


def details_uid(s: Subject) -> dict[str, Any]:
    return {"uid": s.uid}


def form_uid(s: Subject) -> dict[str, Any]:
    return {"details.uid": s.uid}


def form_row(s: Subject) -> dict[str, Any]:
    return {"details.uid": s.uid, "row_id": s.row}


def first_option(block_id: str) -> Value:
    def value(s: Subject, view: JSON, tenant: Tenant) -> str:
        for block in view.get("blocks", []):
            if block.get("block_id") == block_id:
                element = block["element"]
                opts = element.get("options") or [
                    o for g in element.get("option_groups", []) for o in g["options"]
                ]
                return str(opts[0]["value"])
        raise AssertionError(f"no {block_id} select on {view.get('callback_id')}")

    return value


def option_labelled(block_id: str, label: str) -> Value:
    def value(s: Subject, view: JSON, tenant: Tenant) -> str:
        for block in view.get("blocks", []):
            if block.get("block_id") == block_id:
                for option in block["element"]["options"]:
                    if option["text"]["text"].startswith(label):
                        return str(option["value"])
        raise AssertionError(f"no {label!r} in {block_id} on {view.get('callback_id')}")

    return value


def tab(name: str) -> str:
    return f"details:{name}"


HUB = "hub"
HOME = "home"
TODAY = "today"
SETTINGS = "form:settings"
CATALOG = "form:catalog_event"
DETAILS = "details:bookings"
# An ephemeral message the app sent in a channel (`/customers chart NAME`'s choice).
MESSAGE = "message"
LATER = (NOW + timedelta(days=40)).date()
NO_META: Callable[[Subject], dict[str, Any]] = lambda s: {}  # noqa: E731


def items_list(kind: ItemKind) -> str:
    """The list of a kind's catalog items, opened from Home."""
    return f"catalog:{kind.value}"


def item_form(kind: ItemKind, *, edit: bool = False) -> str:
    """The item form pushed over that list: Add, or Edit of the kind's first item."""
    return f"form:catalog_item.{kind.value}{'.edit' if edit else ''}"


def click(
    name: str,
    surface: str,
    effect: Effect,
    action: Callable[[Subject], JSON],
    *,
    subject: Callable[[Harness], Subject] = main,
    meta: Callable[[Subject], dict[str, Any]] = details_uid,
    admin_only: bool = False,
) -> Act:
    """A button, menu or input `action` on `surface`, its metadata pointing at the subject."""
    return Act(name, "action", effect, admin_only, subject, surface, meta, action=action)


def submit(
    name: str,
    surface: str,
    effect: Effect,
    *,
    subject: Callable[[Harness], Subject] = main,
    meta: Callable[[Subject], dict[str, Any]] = form_row,
    values: dict[str, Any] | None = None,
    admin_only: bool = False,
) -> Act:
    """Submitting the form or confirmation `surface` with `values`."""
    return Act(name, "view", effect, admin_only, subject, surface, meta, values=values or {})


def hub_menu(
    verb: str,
    effect: Effect,
    subject: Callable[[Harness], Subject] = main,
    admin_only: bool = False,
) -> Act:
    """An option of a hub row's ⋯ menu."""
    return click(
        f"row menu: {verb}",
        HUB,
        effect,
        lambda s: menu("customer.row_menu", f"{verb}|{s.uid}"),
        subject=subject,
        meta=NO_META,
        admin_only=admin_only,
    )


def row(
    tab: str, verb: str, effect: Effect, subject: Callable[[Harness], Subject], admin: bool = False
) -> Act:
    """An option of a row's ⋯ menu on one of the details' tabs."""
    return click(
        f"row: {tab} {verb}",
        f"details:{tab}",
        effect,
        lambda s: menu("customer_details.row", f"{tab}|{verb}|{s.row}"),
        subject=subject,
        admin_only=admin,
    )


def redraw(form: str, action_id: str, kind: str, value: str) -> Act:
    """A choice that redraws a commerce form."""
    if kind == "datepicker":
        action: JSON = {**button(action_id), "type": kind, "selected_date": value}
    else:
        action = menu(action_id, value, kind=kind)
    return click(
        action_id, f"form:{form}", updated(f"{form}.submit"), lambda s: action, meta=form_uid
    )


def typed(action_id: str, value: str) -> JSON:
    return {**button(action_id), "type": "plain_text_input", "value": value}


TABS = ("bookings", "appointments", "passes", "videos", "subscriptions")
DETAILS_TABS = (*TABS, "questionnaires", "notes", "account")
ON_DETAILS = updated("customer_details.view", name_of)
ROWS = (
    ("bookings", "transfer", pushed("booking_transfer.submit"), a_booking, False),
    ("bookings", "cancel", pushed("commerce_confirm.submit"), a_booking, False),
    ("bookings", "refund", pushed("booking_refund.submit"), a_stripe_booking, True),
    ("appointments", "reschedule", pushed("appointment_reschedule.submit"), an_appointment, False),
    ("appointments", "cancel", pushed("commerce_confirm.submit"), an_appointment, False),
    ("passes", "adjust", pushed("pass_adjust.submit"), a_pass, False),
    ("passes", "extend", pushed("pass_extend.submit"), a_pass, False),
    ("passes", "cancel", pushed("commerce_confirm.submit"), a_pass, False),
    ("videos", "extend", pushed("video_extend.submit"), a_video, False),
    ("videos", "cancel", pushed("commerce_confirm.submit"), a_video, False),
    (
        "subscriptions",
        "pause",
        changed(row_is(Subscription, state=SubscriptionState.PAUSED)),
        an_active_subscription,
        False,
    ),
    (
        "subscriptions",
        "resume",
        changed(row_is(Subscription, state=SubscriptionState.ACTIVE)),
        a_paused_subscription,
        False,
    ),
    ("subscriptions", "suspend", pushed("commerce_confirm.submit"), an_active_subscription, True),
    # Staff take payments at the desk, so sending a payment link is theirs as much as admins'.
    ("bookings", "link", changed(link_sent("booking")), _unpaid(a_booking, Booking), False),
    (
        "appointments",
        "link",
        changed(link_sent("appointment")),
        _unpaid(an_appointment, Appointment),
        False,
    ),
    ("passes", "link", changed(link_sent("pass")), _unpaid(a_pass, Pass), False),
    ("videos", "link", changed(link_sent("video")), _unpaid(a_video, VideoPurchase), False),
)
REDRAWS = (
    ("book_event", "book_event.payment", "radio_buttons", "manual"),
    ("book_event", "book_event.occurrence", "static_select", "1"),
    ("book_appointment", "book_appointment.service", "static_select", "1"),
    ("book_appointment", "book_appointment.day", "datepicker", str(LATER)),
    ("book_appointment", "book_appointment.payment", "radio_buttons", "manual"),
    ("assign_pass", "assign_pass.payment", "radio_buttons", "manual"),
    ("assign_video", "assign_video.video", "static_select", "1"),
    ("assign_video", "assign_video.payment", "radio_buttons", "manual"),
)
CONFIRMATIONS = (
    ("cancel booking", "bookings.cancel", row_is(Booking, state=BookingState.CANCELLED), a_booking),
    (
        "cancel appointment",
        "appointments.cancel",
        row_is(Appointment, state=AppointmentState.CANCELLED),
        an_appointment,
    ),
    ("cancel pass", "passes.cancel", row_is(Pass, state=PassState.CANCELLED), a_pass),
    ("cancel video", "videos.cancel", lambda h, s: video_cancelled(h, s), a_video),
    (
        "suspend subscription",
        "subscriptions.suspend",
        row_is(Subscription, state=SubscriptionState.SUSPENDED),
        an_active_subscription,
    ),
)


def _commands() -> list[Act]:
    def command(name: str, effect: Effect, text: Callable[[Subject], str], **kw: Any) -> Act:
        return Act(name, "command", effect, text=text, **kw)

    return [
        command("/customers NAME", pushed("hub.view", name_of), lambda s: "Zoë"),
        command("/customers EMAIL", pushed("hub.view", name_of), lambda s: s.email),
        command("/customers new", pushed("customer_form.submit"), lambda s: "new"),
        command("/customers segment", pushed("segment.submit"), lambda s: "segment"),
        command("/customers help", acked("post the 12-month sales chart"), lambda s: "help"),
        command("/customers chart NAME", uploaded, lambda s: f"chart {s.name}"),
        command("/customers retention", uploaded, lambda s: "retention"),
        command(
            "/customers import",
            pushed("customer_import.submit"),
            lambda s: "import",
            admin_only=True,
        ),
        command(
            "/customers staff list", acked("<@USTAFF>"), lambda s: "staff list", admin_only=True
        ),
        command(
            "/customers duplicates",
            pushed("duplicates.view"),
            lambda s: "duplicates",
            admin_only=True,
        ),
        command(
            "/customers alerts #channel",
            pushed("alerts.submit"),
            lambda s: "alerts <#C0LOCAL|general>",
            admin_only=True,
        ),
        command(
            "/customers staff add",
            changed(staff_has(lambda s: s.other, True)),
            lambda s: f"staff add <@{s.other}|new>",
            admin_only=True,
            subject=lambda h: Subject("", "", other=f"UNEW{next(_counter):04d}"),
        ),
        command(
            "/customers staff remove",
            changed(staff_has(lambda s: s.other, False)),
            lambda s: f"staff remove <@{s.other}|old>",
            admin_only=True,
            subject=a_staff_member,
        ),
        Act("app_home_opened", "event", updated("today.view")),
    ]


def _shortcuts() -> list[Act]:
    """The shortcuts (the name is the callback_id), and Add to customer notes' picker and form."""

    def shortcut(name: str, effect: Effect, text: Callable[[Subject], str] = lambda s: "") -> Act:
        return Act(name, "shortcut", effect, text=text)

    return [
        shortcut("shortcut.find_customer", pushed("hub.view", name_of)),
        shortcut("shortcut.new_customer", pushed("customer_form.submit")),
        shortcut(
            "shortcut.add_to_notes",
            pushed("message_note.submit", lambda s: "wants the 7am class"),
            lambda s: "Zoë wants the 7am class",
        ),
        shortcut(
            "shortcut.customer_from_message",
            pushed("customer_form.submit", lambda s: "cell.person@example.com"),
            lambda s: "Name: Cell Person, cell.person@example.com",
        ),
        Act(
            "message_note.customer (options)",
            "options",
            options,
            surface="form:message_note",
            text=lambda s: "Zo",
        ),
        submit(
            "message_note.submit",
            "form:message_note",
            changed(rows_of(Note, content="Matrix note")),
            subject=fresh,
            meta=NO_META,
            values={"uid": lambda s, v, t: s.uid, "content": "Matrix note"},
        ),
    ]


def _hub() -> list[Act]:
    archived = changed(status(CustomerStatus.ARCHIVED))
    return [
        click(
            "home.today",
            HOME,
            updated("today.view"),
            lambda s: button("home.today", "today"),
            meta=NO_META,
        ),
        click(
            "home.customers",
            TODAY,
            updated("hub.view", name_of),
            lambda s: button("home.customers", "customers"),
            meta=NO_META,
        ),
        click(
            "today.open_customer UID",
            TODAY,
            pushed("customer_details.view", name_of),
            lambda s: button("today.open_customer", s.uid),
            meta=NO_META,
        ),
        *(
            click(
                f"hub {a}", HUB, updated("hub.view"), lambda s, a=a, v=v: button(a, v), meta=NO_META
            )
            for a, v in (
                ("hub.tab.archived", "archived"),
                ("hub.tab.active", "active"),
                ("hub.sort", None),
                ("hub.page.next", None),
                ("hub.page.prev", None),
            )
        ),
        click(
            "hub.search NAME",
            HUB,
            updated("hub.view", name_of),
            lambda s: typed("hub.search", "Zoë"),
            meta=NO_META,
        ),
        click("hub.create", HUB, pushed("customer_form.submit"), lambda s: button("hub.create")),
        click(
            "hub.export",
            HUB,
            uploaded,
            lambda s: button("hub.export", "export"),
            meta=NO_META,
            admin_only=True,
        ),
        click(
            "customer.open UID",
            HUB,
            pushed("customer_details.view", name_of),
            lambda s: button("customer.open", s.uid),
            meta=NO_META,
        ),
        hub_menu("manage", pushed("customer_details.view", name_of)),
        hub_menu("edit", pushed("customer_form.submit", lambda s: s.email)),
        hub_menu("archive", archived, fresh),
        hub_menu("activate", changed(status(CustomerStatus.ACTIVE)), fresh_archived),
        hub_menu("delete", pushed("customer_delete.submit", name_of), fresh, admin_only=True),
        click(
            "hub.undo (archive)",
            HUB,
            archived,
            lambda s: button("hub.undo", f"archive|{s.uid}"),
            subject=fresh,
            meta=NO_META,
        ),
        submit(
            "hub.view (Search)",
            HUB,
            shown(callback="hub.view"),
            meta=NO_META,
            values={"hub_search": "Zoë"},
        ),
        click(
            "customer_form.open_match",
            "form:customer_form.create",
            pushed("customer_details.view", name_of),
            lambda s: button("customer_form.open_match", s.uid),
            subject=fresh,
            meta=NO_META,
        ),
        submit(
            "customer_form.submit (create)",
            "form:customer_form.create",
            closed(lambda h, s: created(s.other)(h, s)),
            subject=lambda h: Subject("", "", other=f"cell{next(_counter)}@example.com"),
            meta=NO_META,
            values={
                "first_name": lambda s, v, t: s.other.split("@")[0].title(),
                "last_name": "Person",
                "email": lambda s, v, t: s.other,
                "mobile": lambda s, v, t: f"+44 7700 9{next(_counter):05d}",
            },
        ),
        submit(
            "customer_form.submit (edit)",
            "form:customer_form.edit",
            closed(renamed),
            subject=fresh,
            meta=lambda s: {"uid": s.uid, "version": s.version},
            values={
                "first_name": "Renamed",
                "last_name": "Person",
                "email": lambda s, v, t: f"renamed.{s.uid.lower()}@example.com",
                "mobile": lambda s, v, t: f"+44 7700 8{next(_counter):05d}",
            },
        ),
        submit(
            "customer_form.submit (edit, setting a password)",
            "form:customer_form.edit",
            closed(password_set),
            subject=fresh,
            meta=lambda s: {"uid": s.uid, "version": s.version},
            values={
                "first_name": "Cell",
                "last_name": lambda s, v, t: s.name.split()[-1],
                "email": lambda s, v, t: s.email,
                "mobile": lambda s, v, t: f"+44 7700 7{next(_counter):05d}",
                "password": "Str0ng-Passw0rd!",
            },
            admin_only=True,
        ),
        submit(
            "customer_delete.submit",
            "form:customer_delete",
            closed(gone),
            subject=fresh,
            meta=details_uid,
            admin_only=True,
        ),
        submit(
            "customer_anonymise.submit",
            "form:customer_anonymise",
            closed(anonymised),
            subject=fresh,
            meta=details_uid,
            admin_only=True,
        ),
    ]


def _details() -> list[Act]:
    account = tab("account")
    return [
        click(
            "customer_details.edit",
            DETAILS,
            pushed("customer_form.submit", lambda s: s.email),
            lambda s: button("customer_details.edit"),
        ),
        *(
            click(
                f"customer_details.tab.{name}",
                DETAILS,
                ON_DETAILS,
                lambda s, n=name: button(f"customer_details.tab.{n}", n),
            )
            for name in DETAILS_TABS
        ),
        click(
            "customer_details.search",
            DETAILS,
            ON_DETAILS,
            lambda s: typed("customer_details.search", "Vinyasa"),
        ),
        submit(
            "customer_details.view (Search)",
            DETAILS,
            shown(callback="customer_details.view", needle=name_of),
            meta=details_uid,
            values={"details_search_bookings": "Pilates"},
        ),
        *(
            click(
                f"customer_details.page.{way}",
                DETAILS,
                ON_DETAILS,
                lambda s, w=way: button(f"customer_details.page.{w}"),
            )
            for way in ("next", "prev")
        ),
        click(
            "customer_details.post_chart",
            DETAILS,
            uploaded,
            lambda s: button("customer_details.post_chart", s.uid),
        ),
        click("chart.choose", MESSAGE, uploaded, lambda s: button("chart.choose", s.uid)),
        click(
            "customer_details.copy_link",
            DETAILS,
            pushed("customer_details.link", name_of),
            lambda s: button("customer_details.copy_link", s.uid),
        ),
        # A customer link's card (or its flexpane): the details, as Manage opens them.
        *(
            click(
                action_id,
                MESSAGE,
                pushed("customer_details.view", name_of),
                lambda s, a=action_id: button(a, s.uid),
                meta=NO_META,
            )
            for action_id in ("unfurl.open", "unfurl.add_note")
        ),
        click(
            "customer_details.archive",
            account,
            changed(status(CustomerStatus.ARCHIVED)),
            lambda s: button("customer_details.archive", s.uid),
            subject=fresh,
        ),
        click(
            "customer_details.activate",
            account,
            changed(status(CustomerStatus.ACTIVE)),
            lambda s: button("customer_details.activate", s.uid),
            subject=fresh_archived,
        ),
        click(
            "customer_details.undo",
            account,
            changed(status(CustomerStatus.ARCHIVED)),
            lambda s: button("customer_details.undo", f"archive|{s.uid}"),
            subject=fresh,
        ),
        click(
            "customer_details.password_reset",
            account,
            changed(rows_of(OutboxMail, kind="password_reset")),
            lambda s: button("customer_details.password_reset", s.uid),
            subject=fresh,
        ),
        click(
            "customer_details.export_data",
            account,
            uploaded,
            lambda s: button("customer_details.export_data", s.uid),
            admin_only=True,
        ),
        click(
            "customer_details.open UID",
            account,
            ON_DETAILS,
            lambda s: button("customer_details.open", s.uid),
            meta=NO_META,
        ),
        click(
            "customer_details.anonymise",
            account,
            pushed("customer_anonymise.submit", name_of),
            lambda s: button("customer_details.anonymise"),
            subject=fresh,
            admin_only=True,
        ),
        click(
            "customer_details.merge",
            "details:merge_source",
            pushed("merge.submit", name_of),
            lambda s: button("customer_details.merge"),
            subject=fresh,
            admin_only=True,
        ),
        *(
            click(
                f"customer_details.commerce {value}",
                DETAILS,
                pushed(f"{value}.submit"),
                lambda s, v=value: button("customer_details.commerce", v),
            )
            for value in (
                "book_event",
                "book_appointment",
                "assign_pass",
                "assign_video",
                "start_subscription",
            )
        ),
    ]


def _notes_questionnaires_merge() -> list[Act]:
    notes_tab, forms = tab("notes"), tab("questionnaires")
    response = lambda s: {"details.uid": s.uid, "response_id": s.row, "updated_at": None}  # noqa: E731
    return [
        click("note.add", notes_tab, pushed("note_form.submit"), lambda s: button("note.add")),
        *(
            click(
                f"note.{verb}",
                notes_tab,
                effect,
                lambda s, v=verb: button(f"note.{v}", str(s.row)),
                subject=a_note,
            )
            for verb, effect in (
                ("view", pushed("note.details")),
                ("edit", pushed("note_form.submit")),
                ("delete", changed(row_gone(Note))),
            )
        ),
        submit(
            "note_form.submit (add)",
            "form:note_form.add",
            closed(rows_of(Note, content="Cell remark")),
            subject=fresh,
            meta=form_uid,
            values={"content": "Cell remark"},
        ),
        submit(
            "note_form.submit (edit)",
            "form:note_form.edit",
            closed(row_is(Note, content="Edited remark")),
            subject=a_note,
            meta=lambda s: {"details.uid": s.uid, "note_id": s.row, "updated_at": None},
            values={"content": "Edited remark"},
        ),
        click(
            "questionnaire.assign",
            forms,
            pushed("questionnaire_assign.submit"),
            lambda s: button("questionnaire.assign"),
        ),
        click(
            "questionnaire.view",
            forms,
            pushed("questionnaire.details"),
            lambda s: button("questionnaire.view", str(s.row)),
            subject=a_questionnaire,
        ),
        submit(
            "questionnaire_assign.submit",
            "form:questionnaire_assign",
            closed(rows_of(QuestionnaireResponse)),
            subject=fresh,
            meta=form_uid,
            values={"template": option_labelled("template", "Health check")},
        ),
        submit(
            "questionnaire.details (Record answers)",
            "form:questionnaire.details",
            shown(callback="questionnaire_answers.submit"),
            subject=a_questionnaire,
            meta=response,
        ),
        submit(
            "questionnaire_answers.submit",
            "form:questionnaire_answers",
            closed(answered),
            subject=a_questionnaire,
            meta=response,
            values={"answer_0": "No", "answer_1": "No"},
        ),
        Act(
            "merge.target (options)",
            "options",
            options,
            admin_only=True,
            subject=a_pair,
            surface="form:merge",
            meta=form_uid,
            text=lambda s: "Cell",
        ),
        click(
            "merge.target (preview)",
            "form:merge",
            updated("merge.submit", lambda s: s.other),
            lambda s: menu("merge.target", s.other, kind="external_select"),
            subject=a_pair,
            meta=form_uid,
            admin_only=True,
        ),
        submit(
            "merge.submit",
            "form:merge",
            closed(merged),
            subject=a_pair,
            meta=form_uid,
            values={"target": lambda s, v, t: s.other, "reason": "Same mobile"},
            admin_only=True,
        ),
        click(
            "duplicates.compare",
            "form:duplicates",
            pushed("merge.submit", name_of),
            lambda s: button("duplicates.compare", f"{s.other}|{s.uid}"),
            subject=a_pair,
            meta=NO_META,
            admin_only=True,
        ),
        click(
            "duplicates.dismiss",
            "form:duplicates",
            changed(not_duplicates),
            lambda s: button("duplicates.dismiss", f"{s.other}|{s.uid}"),
            subject=a_pair,
            meta=NO_META,
            admin_only=True,
        ),
    ]


def zone_is(zone: str) -> Callable[[Harness, Subject], bool]:
    return lambda h, s: (
        _scalar(h, select(Workspace.timezone).where(Workspace.team_id == TEAM)) == zone
    )


SETTINGS_VALUES = {
    "name": "Matrix Studio",
    "timezone": "America/New_York",
    "currency": "USD",
    "default_region": "US",
    "portal_url": "https://portal.test/login",
    "mail_sender_name": "Matrix Studio",
    "mail_reply_to": "",
    "credit_rule": "at_check_in",
}


def alerts_are(kinds: str | None) -> Callable[[Harness, Subject], bool]:
    """The workspace's channel of staff has these alerts set up (None: none)."""
    query = select(AlertSubscription.kinds).where(
        AlertSubscription.team_id == TEAM, AlertSubscription.channel_id == "C0LOCAL"
    )
    return lambda h, s: _scalar(h, query) == kinds


def with_alerts(h: Harness) -> Subject:
    """Our workspace's channel of staff with an alert set up, to edit or remove."""
    with h.db.unit_of_work() as uow:
        set_channel_alerts(uow, Actor(TEAM, ADMIN, Role.ADMIN), "C0LOCAL", ["refund"])
    return main(h)


def with_segment(h: Harness) -> Subject:
    """Our workspace's segment saved by its admin, to open or delete."""
    with h.db.unit_of_work() as uow:
        found = uow.session.scalar(
            select(Segment.id).where(Segment.team_id == TEAM, Segment.name_key == "matrix")
        )
        if found is None:
            admin = Actor(TEAM, ADMIN, Role.ADMIN)
            found = save_segment(uow, admin, "Matrix", SegmentFilters(lapsed_days=60)).id
    return replace(main(h), row=found)


def segment_gone(h: Harness, subject: Subject) -> bool:
    return _scalar(h, select(Segment.id).where(Segment.id == subject.row)) is None


def segment_saved(h: Harness, subject: Subject) -> bool:
    saved = select(Segment.id).where(Segment.team_id == TEAM, Segment.name.like("Matrix %"))
    return _scalar(h, saved) is not None


def _segments() -> list[Act]:
    segment = "form:segment"
    typed = {
        "type": "number_input",
        "action_id": "segment.filter",
        "block_id": "segment.lapsed",
        "value": "60",
        "action_ts": "1.0",
    }
    return [
        click("segment.filter", segment, updated("segment.submit"), lambda s: typed, meta=NO_META),
        click(
            "segment.customer",
            segment,
            pushed("customer_details.view", name_of),
            lambda s: button("segment.customer", s.uid),
            meta=NO_META,
        ),
        click(
            "segment.export",
            segment,
            uploaded,
            lambda s: button("segment.export", "export"),
            meta=NO_META,
            admin_only=True,
        ),
        submit(
            "segment.submit",
            segment,
            closed(segment_saved),
            meta=NO_META,
            values={"segment.name": lambda s, view, tenant: f"Matrix {next(_counter)}"},
        ),
        click(
            "segment.new",
            HOME,
            pushed("segment.submit"),
            lambda s: button("segment.new", "new"),
            meta=NO_META,
        ),
        click(
            "segment.open",
            HOME,
            pushed("segment.submit", lambda s: "Matrix"),
            lambda s: button("segment.open", str(s.row)),
            subject=with_segment,
            meta=NO_META,
        ),
        # Saved by the admin: only they or another admin may delete it.
        click(
            "segment.delete",
            HOME,
            changed(segment_gone),
            lambda s: button("segment.delete", str(s.row)),
            subject=with_segment,
            meta=NO_META,
            admin_only=True,
        ),
    ]


def _settings() -> list[Act]:
    return [
        click(
            "retention.post",
            HOME,
            uploaded,
            lambda s: button("retention.post", "post"),
            meta=NO_META,
        ),
        click(
            "duplicates.open",
            HOME,
            pushed("duplicates.view"),
            lambda s: button("duplicates.open", "open"),
            meta=NO_META,
            admin_only=True,
        ),
        click(
            "settings.open",
            HOME,
            pushed("settings.submit"),
            lambda s: button("settings.open", "open"),
            meta=NO_META,
            admin_only=True,
        ),
        *(
            Act(f"{action_id} (options)", "options", options, surface=SETTINGS, text=typed)
            for action_id, typed in (
                ("settings.timezone", lambda s: "york"),
                ("settings.currency", lambda s: "euro"),
            )
        ),
        click(
            "alerts.edit",
            HOME,
            pushed("alerts.submit", lambda s: "Refund"),
            lambda s: button("alerts.edit", "C0LOCAL"),
            subject=with_alerts,
            meta=NO_META,
            admin_only=True,
        ),
        click(
            "alerts.remove",
            HOME,
            changed(alerts_are(None)),
            lambda s: button("alerts.remove", "C0LOCAL"),
            subject=with_alerts,
            meta=NO_META,
            admin_only=True,
        ),
        submit(
            "alerts.submit",
            "form:alerts",
            closed(alerts_are("refund")),
            meta=NO_META,
            values={"kinds": ["refund"]},
            admin_only=True,
        ),
        submit(
            "settings.submit",
            SETTINGS,
            closed(zone_is("America/New_York")),
            meta=NO_META,
            values=dict(SETTINGS_VALUES),
            admin_only=True,
        ),
    ]


TAGS_FORM = "form:customer_tags"
CONSENT_FORM = "form:customer_consent"
TAGS_ADMIN = "form:tags_admin"


def tagged(*names: str) -> Callable[[Harness, Subject], bool]:
    """The subject holds exactly these tags."""

    def check(h: Harness, subject: Subject) -> bool:
        with h.db.unit_of_work(readonly=True) as uow:
            held = uow.session.scalars(
                select(Tag.name)
                .join(CustomerTag, CustomerTag.tag_id == Tag.id)
                .where(CustomerTag.customer_id == customer_id(uow, subject.uid))
                .order_by(Tag.key)
            )
            return list(held) == list(names)

    return check


def consent_is(state: ConsentState) -> Callable[[Harness, Subject], bool]:
    query = select(Customer.marketing_consent)
    return lambda h, s: _scalar(h, query.where(Customer.uid == s.uid)) is state


def tag_named(name: str) -> Callable[[Harness, Subject], bool]:
    query = select(Tag.id).where(Tag.team_id == TEAM, Tag.name == name)
    return lambda h, s: _scalar(h, query) is not None


def _tags() -> list[Act]:
    return [
        Act("tags.pick (options)", "options", options, surface=TAGS_FORM, text=lambda s: "vi"),
        click(
            "customer_details.tags",
            DETAILS,
            pushed("customer_tags.submit", name_of),
            lambda s: button("customer_details.tags", "tags"),
        ),
        submit(
            "customer_tags.submit",
            TAGS_FORM,
            closed(tagged("Kids", "VIP")),
            subject=fresh,
            meta=form_uid,
            values={"tags": ["VIP", "Kids"]},
        ),
        click(
            "customer_details.consent",
            DETAILS,
            pushed("customer_consent.submit", name_of),
            lambda s: button("customer_details.consent", "consent"),
        ),
        submit(
            "customer_consent.submit",
            CONSENT_FORM,
            closed(consent_is(ConsentState.GRANTED)),
            subject=fresh,
            meta=form_uid,
            values={"consent_state": "granted", "consent_source": "phone"},
        ),
        click(
            "tags.open",
            HOME,
            pushed("tags_admin.submit", lambda s: "Mornings"),
            lambda s: button("tags.open", "open"),
            meta=NO_META,
            admin_only=True,
        ),
        submit(
            "tags_admin.submit",
            TAGS_ADMIN,
            changed(tag_named("Morning people")),
            meta=NO_META,
            values={
                "tag": option_labelled("tag", "Mornings"),
                "do": "rename",
                "new_name": "Morning people",
            },
            admin_only=True,
        ),
    ]


STRIPE_FORM = "form:stripe_account"
STRIPE_KEY_TYPED = "sk_test_matrixKey12345"


def stripe_hint(hint: str) -> Callable[[Harness, Subject], bool]:
    return lambda h, s: (
        _scalar(h, select(Workspace.stripe_key_hint).where(Workspace.team_id == TEAM)) == hint
    )


def with_stripe_key(h: Harness) -> Subject:
    """Our workspace with a Stripe key of its own, to disconnect."""
    with h.db.unit_of_work() as uow:
        save_stripe_key(uow, Actor(TEAM, ADMIN, Role.ADMIN), "sk_test_ownKey1234567", "")
    return main(h)


def only_acknowledged(h: Harness, sent: Sent, subject: Subject) -> bool:
    """Answered with nothing drawn: the press of a link Slack already opened."""
    drawn = _views(sent, "views.open", "views.push", "views.update", "views.publish")
    return sent.response.status == 200 and not sent.response.text.strip() and not drawn


def _stripe_account() -> list[Act]:
    return [
        click(
            "stripe_account.connect",
            HOME,
            only_acknowledged,
            lambda s: {**button("stripe_account.connect"), "url": "https://connect.stripe.com/"},
            meta=NO_META,
            admin_only=True,
        ),
        click(
            "stripe_account.open",
            HOME,
            pushed("stripe_account.submit"),
            lambda s: button("stripe_account.open", "open"),
            meta=NO_META,
            admin_only=True,
        ),
        submit(
            "stripe_account.submit",
            STRIPE_FORM,
            closed(stripe_hint("sk_test_…2345")),
            meta=NO_META,
            values={"stripe_key": STRIPE_KEY_TYPED, "webhook_secret": "whsec_matrix12345678"},
            admin_only=True,
        ),
        click(
            "stripe_account.disconnect",
            HOME,
            changed(stripe_hint("")),
            lambda s: button("stripe_account.disconnect", "disconnect"),
            subject=with_stripe_key,
            meta=NO_META,
            admin_only=True,
        ),
    ]


def an_event(h: Harness) -> Subject:
    """A dated event made for this cell (our workspace), as the subject's row."""
    subject = main(h)
    n = next(_counter)
    draft = EventDraft(
        name=f"Cell Class {n:03d}",
        day=LATER,
        start=time(7, 0),
        end=time(8, 0),
        capacity="10",
        price="12",
    )
    with h.db.unit_of_work() as uow:
        add_event(uow, Actor(TEAM, ADMIN, Role.ADMIN), draft)
        subject.row = int(
            uow.session.scalar(
                select(EventOccurrence.id)
                .join(Event, Event.id == EventOccurrence.event_id)
                .where(Event.name == draft.name)
            )
            or 0
        )
    return subject


def event_archived(h: Harness, subject: Subject) -> bool:
    query = select(EventOccurrence.archived).where(EventOccurrence.id == subject.row)
    return bool(_scalar(h, query))


def event_named(name: str) -> Callable[[Harness, Subject], bool]:
    return lambda h, s: _scalar(h, select(Event.id).where(Event.name == name)) is not None


EVENT_VALUES = {
    "name": "Matrix Class",
    "day": LATER.isoformat(),
    "start": "07:00",
    "end": "08:00",
    "capacity": "10",
    "price": "12.50",
}


def _catalog_events() -> list[Act]:
    return [
        click(
            "catalog.event_add",
            HOME,
            pushed("catalog_event.submit"),
            lambda s: button("catalog.event_add", "add"),
            meta=NO_META,
            admin_only=True,
        ),
        click(
            "catalog.event_menu: edit",
            HOME,
            pushed("catalog_event.submit", lambda s: "Cell Class"),
            lambda s: menu("catalog.event_menu", f"edit|{s.row}"),
            subject=an_event,
            meta=NO_META,
            admin_only=True,
        ),
        click(
            "catalog.event_menu: archive",
            HOME,
            changed(event_archived),
            lambda s: menu("catalog.event_menu", f"archive|{s.row}"),
            subject=an_event,
            meta=NO_META,
            admin_only=True,
        ),
        submit(
            "catalog_event.submit",
            CATALOG,
            closed(event_named("Matrix Class")),
            meta=NO_META,
            values=dict(EVENT_VALUES),
            admin_only=True,
        ),
    ]


# What a cell's own item of each kind holds (its name is the cell's).
ITEM_FIELDS: dict[ItemKind, dict[str, str]] = {
    ItemKind.SERVICE: {"duration": "60", "price": "45.00", "credits": "1"},
    ItemKind.FACILITATOR: {},
    ItemKind.PASS_TYPE: {"credits": "10", "validity": "90", "price": "90"},
    ItemKind.VIDEO: {"price": "5"},
    ItemKind.PLAN: {"price": "60", "interval": "month"},
    ItemKind.QUESTIONNAIRE: {"questions": "Any injuries?\nDo you agree to the waiver? [yes/no]"},
}
# An item of each kind as seeded in both workspaces: each kind's list shows it.
SEEDED_ITEMS = {
    ItemKind.SERVICE: "Sports massage",
    ItemKind.FACILITATOR: "Alex Kim",
    ItemKind.PASS_TYPE: "10-class pass",
    ItemKind.VIDEO: "Yin basics",
    ItemKind.PLAN: "Unlimited monthly",
    ItemKind.QUESTIONNAIRE: "Health check",
}


def _item_id(h: Harness, kind: ItemKind, name: str) -> int | None:
    rules = RULES[kind]
    model = rules.model
    title = getattr(model, rules.title_column)
    found = _scalar(h, select(model.id).where(model.team_id == TEAM, title == name))
    return None if found is None else int(found)


def an_item(kind: ItemKind, *, archived: bool = False) -> Callable[[Harness], Subject]:
    """An item of `kind` made for this cell (our workspace), as the subject's row."""

    def make(h: Harness) -> Subject:
        subject = main(h)
        subject.name = f"Cell {RULES[kind].noun} {next(_counter):03d}"
        boss = Actor(TEAM, ADMIN, Role.ADMIN)
        with h.db.unit_of_work() as uow:
            add_item(uow, boss, kind, ItemDraft({"name": subject.name, **ITEM_FIELDS[kind]}))
        subject.row = _item_id(h, kind, subject.name) or 0
        if archived:
            with h.db.unit_of_work() as uow:
                archive_item(uow, boss, kind, subject.row)
        return subject

    return make


def item_named(kind: ItemKind, name: str) -> Callable[[Harness, Subject], bool]:
    return lambda h, s: _item_id(h, kind, name) is not None


def item_renamed(kind: ItemKind, name: str) -> Callable[[Harness, Subject], bool]:
    return lambda h, s: _item_id(h, kind, name) == s.row


def item_archived(kind: ItemKind, archived: bool) -> Callable[[Harness, Subject], bool]:
    def check(h: Harness, subject: Subject) -> bool:
        model = RULES[kind].model
        return _scalar(h, select(model.archived).where(model.id == subject.row)) is archived

    return check


def item_values(kind: ItemKind, name: str) -> dict[str, Any]:
    """The item form of `kind` filled in for an item called `name`."""
    values: dict[str, Any] = {"name": name, **ITEM_FIELDS[kind]}
    if kind is ItemKind.FACILITATOR:
        values["slack_user"] = STAFF
    return values


def _catalog_items() -> list[Act]:
    service, facilitator = ItemKind.SERVICE, ItemKind.FACILITATOR
    pass_type, plan = ItemKind.PASS_TYPE, ItemKind.PLAN
    return [
        # Staff read each kind's list; only admins change what is in it.
        *(
            click(
                f"catalog.items.{kind.value}",
                HOME,
                pushed("catalog_items.list", lambda s, k=kind: SEEDED_ITEMS[k]),
                lambda s, k=kind: button(f"catalog.items.{k.value}", k.value),
                meta=NO_META,
            )
            for kind in SEEDED_ITEMS
        ),
        click(
            "catalog_items.add",
            items_list(service),
            pushed("catalog_item.submit"),
            lambda s: button("catalog_items.add", service.value),
            meta=NO_META,
            admin_only=True,
        ),
        click(
            "catalog_items.menu: edit",
            items_list(facilitator),
            pushed("catalog_item.submit", name_of),
            lambda s: menu("catalog_items.menu", f"edit|{s.row}"),
            subject=an_item(facilitator),
            meta=NO_META,
            admin_only=True,
        ),
        click(
            "catalog_items.menu: archive",
            items_list(pass_type),
            changed(item_archived(pass_type, True)),
            lambda s: menu("catalog_items.menu", f"archive|{s.row}"),
            subject=an_item(pass_type),
            meta=NO_META,
            admin_only=True,
        ),
        click(
            "catalog_items.menu: restore",
            items_list(plan),
            changed(item_archived(plan, False)),
            lambda s: menu("catalog_items.menu", f"restore|{s.row}"),
            subject=an_item(plan, archived=True),
            meta=NO_META,
            admin_only=True,
        ),
        *(
            submit(
                f"catalog_item.submit (add {kind.value})",
                item_form(kind),
                closed(item_named(kind, f"Matrix {RULES[kind].noun}")),
                meta=NO_META,
                values=item_values(kind, f"Matrix {RULES[kind].noun}"),
                admin_only=True,
            )
            for kind in SEEDED_ITEMS
        ),
        submit(
            "catalog_item.submit (edit)",
            item_form(service, edit=True),
            closed(item_renamed(service, "Matrix Renamed")),
            subject=an_item(service),
            meta=lambda s: {"item_id": s.row},
            values=item_values(service, "Matrix Renamed"),
            admin_only=True,
        ),
    ]


def _commerce() -> list[Act]:
    return [
        *(row(*entry) for entry in ROWS),
        *(redraw(*entry) for entry in REDRAWS),
        Act(
            "book_event.occurrence (options)",
            "options",
            options,
            surface="form:book_event",
            meta=form_uid,
            text=lambda s: "Vinyasa",
        ),
        Act(
            "booking_transfer.occurrence (options)",
            "options",
            options,
            subject=a_booking,
            surface="form:bookings.transfer",
            meta=form_row,
            text=lambda s: "Vinyasa",
        ),
        submit(
            "book_event.submit",
            "form:book_event",
            closed(rows_of(Booking)),
            subject=fresh,
            meta=form_uid,
            values={"occurrence_id": first_option("occurrence_id"), "payment": "manual"},
        ),
        submit(
            "booking_transfer.submit",
            "form:bookings.transfer",
            closed(transferred),
            subject=a_booking,
            values={"occurrence_id": lambda s, v, t: str(transfer_to(t))},
        ),
        submit(
            "booking_refund.submit",
            "form:bookings.refund",
            closed(row_is(Booking, refund_state=RefundState.PARTIAL)),
            subject=a_stripe_booking,
            meta=lambda s: {**form_row(s), "refunded_minor": 0},
            values={"amount": "5.00"},
            admin_only=True,
        ),
        submit(
            "book_appointment.submit",
            "form:book_appointment",
            closed(rows_of(Appointment)),
            subject=fresh,
            meta=form_uid,
            values={
                "service_id": first_option("service_id"),
                "facilitator_id": lambda s, v, t: str(t.of("facilitators")[0]),
                "day": lambda s, v, t: str(LATER + timedelta(days=next(_counter) % 20)),
                # Cell appointments start at 09:30 UTC: 15:00 never meets one of them.
                "starts_at": "15:00",
                "payment": "manual",
            },
        ),
        submit(
            "appointment_reschedule.submit",
            "form:appointments.reschedule",
            closed(rescheduled),
            subject=an_appointment,
            values={"day": lambda s, v, t: str(reschedule_day(s)), "starts_at": "11:00"},
        ),
        submit(
            "assign_pass.submit",
            "form:assign_pass",
            closed(rows_of(Pass)),
            subject=fresh,
            meta=form_uid,
            values={"pass_type_id": first_option("pass_type_id"), "payment": "manual"},
        ),
        submit(
            "pass_adjust.submit",
            "form:passes.adjust",
            closed(row_is(Pass, credits_remaining=12)),
            subject=a_pass,
            values={"delta": "2", "reason": "Goodwill"},
        ),
        submit(
            "pass_extend.submit",
            "form:passes.extend",
            closed(row_is(Pass, valid_to=date(2026, 6, 30))),
            subject=a_pass,
            values={"valid_to": "2026-06-30"},
        ),
        submit(
            "assign_video.submit",
            "form:assign_video",
            closed(rows_of(VideoPurchase)),
            subject=fresh,
            meta=form_uid,
            values={"video_id": first_option("video_id"), "payment": "manual"},
        ),
        submit(
            "video_extend.submit",
            "form:videos.extend",
            closed(row_is(VideoPurchase, expires_at=NOW + timedelta(days=35))),
            subject=a_video,
            values={"extra_days": "7"},
        ),
        submit(
            "book_event.submit (payment link)",
            "form:book_event",
            closed(rows_of(Booking)),
            subject=fresh,
            meta=lambda s: {**form_uid(s), "mailable": True},
            values={"occurrence_id": first_option("occurrence_id"), "payment": "link"},
        ),
        submit(
            "start_subscription.submit",
            "form:start_subscription",
            closed(subscription_link_sent),
            subject=a_subscriber,
            meta=lambda s: {**form_uid(s), "mailable": True},
            values={"plan_id": first_option("plan_id")},
        ),
        *(
            submit(
                f"commerce_confirm.submit ({what})",
                f"form:{form}",
                closed(check),
                subject=made,
                admin_only=form == "subscriptions.suspend",
            )
            for what, form, check, made in CONFIRMATIONS
        ),
    ]


def transfer_to(tenant: Tenant) -> int:
    """A session to move a cell's booking to (cell bookings are on the first one)."""
    return tenant.of("event_occurrences")[2]


def transferred(h: Harness, subject: Subject) -> bool:
    return row_is(Booking, occurrence_id=transfer_to(h.tenants[TEAM]))(h, subject)


def reschedule_day(subject: Subject) -> date:
    # A day of its own for each appointment: two moved to one day and hour would clash.
    return LATER + timedelta(days=25 + subject.row)


def rescheduled(h: Harness, subject: Subject) -> bool:
    starts = _scalar(h, select(Appointment.starts_at).where(Appointment.id == subject.row))
    return starts is not None and starts.date() == reschedule_day(subject)


def answered(h: Harness, subject: Subject) -> bool:
    query = select(QuestionnaireResponse.answers).where(QuestionnaireResponse.id == subject.row)
    return bool(_scalar(h, query) == ["No", "No"])


def video_cancelled(h: Harness, subject: Subject) -> bool:
    query = select(VideoPurchase.cancelled_at).where(VideoPurchase.id == subject.row)
    return _scalar(h, query) is not None


IMPORT_FORM = "form:customer_import"
IMPORT_COLUMNS = "form:customer_import.columns"
IMPORT_PREVIEW = "form:customer_import.preview"


def an_upload(h: Harness) -> Subject:
    """The file our admin picked in the import form (as its file_input's state holds it)."""
    info = h.api.user_upload(ADMIN, "clients.csv", IMPORT_FILE)
    return Subject(_ours(h).main, "Zoë Adams", other=json.dumps(info))


def import_summary(h: Harness, sent: Sent, subject: Subject) -> bool:
    """Import was pressed: the modal says it started, and the DM message ends with the summary."""
    if "Importing clients.csv" not in json.dumps(sent.response.data.get("view") or {}):
        return False
    since = sent.response.mark
    h.api.wait_until(
        lambda: any(
            "Imported clients.csv" in str(c.params.get("text"))
            for c in h.api.calls("chat.update", since=since)
        ),
        description="the import's summary",
    )
    return True


def a_session(h: Harness) -> Subject:
    """A customer and a dated event to book them on; `other` is the event's name."""
    subject = an_event(h)
    query = select(Event.name).join(EventOccurrence).where(EventOccurrence.id == subject.row)
    subject.other = str(_scalar(h, query))
    return subject


def completed(check: Callable[[Harness, Subject, JSON], bool]) -> Effect:
    """The workflow step ended with functions.completeSuccess, its outputs passing `check`."""

    def effect(h: Harness, sent: Sent, subject: Subject) -> bool:
        for call in sent.calls:
            if call.ok and call.method == "functions.completeSuccess":
                return check(h, subject, call.params.get("outputs") or {})
        return False

    return effect


def booked_on_session(h: Harness, subject: Subject, outputs: JSON) -> bool:
    query = select(Booking.occurrence_id).where(Booking.id == outputs.get("booking_id"))
    return bool(_scalar(h, query) == subject.row)


def _workflow_steps() -> list[Act]:
    """Each Workflow Builder step run by `who` (the `runner` input); the name is its callback_id."""

    def step(name: str, effect: Effect, inputs: dict[str, Any], **kw: Any) -> Act:
        return Act(name, "step", effect, values=inputs, **kw)

    return [
        step(
            "find_customer",
            completed(lambda h, s, out: out.get("customer_id") == s.uid),
            {"email": lambda s: s.email},
        ),
        step(
            "create_customer",
            completed(lambda h, s, out: created(out.get("email", "-"))(h, s)),
            {
                "first_name": "Step",
                # Per cell: another workspace's cell made its own Step customer before.
                "last_name": lambda s: s.name.split()[-1],
                "email": lambda s: f"step.{s.uid.lower()}@example.com",
                "mobile": "+44 7700 900999",
            },
            subject=fresh,
        ),
        step(
            "add_customer_note",
            completed(lambda h, s, out: rows_of(Note, content="Matrix step note")(h, s)),
            {"customer_id": lambda s: s.uid, "note": "Matrix step note"},
            subject=fresh,
        ),
        step(
            "book_customer_on_event",
            completed(booked_on_session),
            {"customer_id": lambda s: s.uid, "event": lambda s: s.other, "date": str(LATER)},
            subject=a_session,
        ),
    ]


def _customer_import() -> list[Act]:
    """`/customers import`'s steps (admins): the file, the columns, the preview, Import."""
    return [
        submit(
            "customer_import.submit",
            IMPORT_FORM,
            shown(callback="customer_import.columns"),
            subject=an_upload,
            meta=NO_META,
            values={"file": lambda s, v, t: [json.loads(s.other)]},
            admin_only=True,
        ),
        submit(
            "customer_import.columns",
            IMPORT_COLUMNS,
            shown(callback="customer_import.preview"),
            meta=NO_META,
            values={"col_full_name": "0", "col_email": "1"},
            admin_only=True,
        ),
        click(
            "customer_import.back",
            IMPORT_PREVIEW,
            updated("customer_import.columns"),
            lambda s: button("customer_import.back", "columns"),
            meta=NO_META,
            admin_only=True,
        ),
        submit(
            "customer_import.preview",
            IMPORT_PREVIEW,
            import_summary,
            meta=NO_META,
            admin_only=True,
        ),
    ]


CHECKIN = "form:checkin"
MARKS = (
    ("attended", Attendance.ATTENDED, a_booking_today),
    ("no_show", Attendance.NO_SHOW, a_booking_today),
    ("undo", None, a_booking_attended),
)


def _check_in() -> list[Act]:
    """Attended / No-show / Undo on the Bookings tab and in a session's check-in list (staff)."""

    def today(h: Harness) -> str:
        return str(_ours(h).of("event_occurrences")[0])

    acts = [
        click(
            "open_checkin",
            HOME,
            pushed("checkin.view"),
            lambda s: button("open_checkin", s.other),
            subject=lambda h: replace(main(h), other=today(h)),
            meta=NO_META,
        )
    ]
    for verb, mark, subject in MARKS:
        effect = changed(row_is(Booking, attendance=mark))
        value = lambda s: f"booking|{s.row}|{s.version}"  # noqa: E731
        acts.append(
            click(
                f"attendance.{verb}",
                DETAILS,
                effect,
                lambda s, v=verb, val=value: button(f"attendance.{v}", val(s)),
                subject=subject,
            )
        )
        acts.append(
            click(
                f"checkin.{verb}",
                CHECKIN,
                effect,
                lambda s, v=verb, val=value: button(f"checkin.{v}", val(s)),
                subject=subject,
                meta=NO_META,
            )
        )
    return acts


def _household() -> list[Act]:
    form = "form:household"
    return [
        click(
            "household.open",
            DETAILS,
            ON_DETAILS,
            lambda s: button("household.open", s.uid),
            meta=NO_META,
        ),
        click(
            "household.add",
            DETAILS,
            pushed("household.submit", name_of),
            lambda s: button("household.add", s.uid),
            subject=fresh,
        ),
        Act(
            "household.person (options)",
            "options",
            options,
            subject=a_couple,
            surface=form,
            meta=form_uid,
            text=lambda s: "Cell",
        ),
        submit(
            "household.submit",
            form,
            closed(linked),
            subject=a_couple,
            meta=form_uid,
            values={"person": lambda s, v, t: s.other, "relation": "partner"},
        ),
        click(
            "household.unlink",
            DETAILS,
            changed(lambda h, s: not linked(h, s)),
            lambda s: button("household.unlink", s.other),
            subject=a_family,
        ),
    ]


ACTS = [
    *_commands(),
    *_customer_import(),
    *_shortcuts(),
    *_hub(),
    *_details(),
    *_notes_questionnaires_merge(),
    *_household(),
    *_settings(),
    *_stripe_account(),
    *_catalog_events(),
    *_catalog_items(),
    *_commerce(),
    *_workflow_steps(),
    *_check_in(),
    *_segments(),
    *_tags(),
]


# ----------------------------------------------------------------- running a cell

FORM = "application/x-www-form-urlencoded"


def _retarget(view: JSON, overrides: dict[str, Any]) -> JSON:
    """The view with its metadata fields (dotted paths) pointing at the cell's subject."""
    if not overrides:
        return view
    meta = json.loads(view.get("private_metadata") or "{}")
    for path, value in overrides.items():
        node = meta
        *parents, last = path.split(".")
        for step in parents:
            node = node.setdefault(step, {})
        node[last] = value
    return {**view, "private_metadata": json.dumps(meta)}


def _state(template: JSON, values: dict[str, Any], subject: Subject, tenant: Tenant) -> JSON:
    """`state.values` with `values` filled in the template's inputs (by block_id)."""
    kinds = {}
    for block in template.get("blocks", []):
        element = block.get("element") if block.get("type") == "input" else None
        if isinstance(element, dict):
            kinds[block["block_id"]] = (element["type"], element["action_id"])
    state: JSON = {}
    for block_id, raw in values.items():
        value = raw(subject, template, tenant) if callable(raw) else raw
        kind, action_id = kinds.get(block_id, ("static_select", f"any.{block_id}"))
        if kind in {"static_select", "external_select", "radio_buttons"}:
            element: JSON = {
                "type": kind,
                "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
            }
        elif kind in {"multi_static_select", "multi_external_select", "checkboxes"}:
            chosen = value if isinstance(value, list) else [value]
            element = {
                "type": kind,
                "selected_options": [{"text": plain_text(v), "value": v} for v in chosen],
            }
        elif kind == "users_select":
            element = {"type": kind, "selected_user": value}
        elif kind == "file_input":
            element = {"type": kind, "files": value}
        elif kind == "datepicker":
            element = {"type": kind, "selected_date": value}
        elif kind == "timepicker":
            element = {"type": kind, "selected_time": value}
        else:
            element = {"type": kind, "value": value}
        state[block_id] = {action_id: element}
    return state


def step_run(h: Harness, who: Who, callback_id: str, inputs: JSON) -> JSON:
    """Slack running a workflow step of the app that `who` started: function_executed."""
    user, team = USERS[who]
    run = h.api.start_step(callback_id, team)
    event = {
        "type": "function_executed",
        "function": {"id": "Fn0MATRIX", "callback_id": callback_id, "type": "app"},
        "inputs": {**inputs, "runner": {"id": user, "secret": "uc-matrix"}},
        "function_execution_id": run.execution_id,
        "workflow_execution_id": "Wx0MATRIX",
        "event_ts": "1773480600.000100",
        "bot_access_token": run.token,
    }
    return h.event_envelope(who, event)


def request(h: Harness, act: Act, who: Who, subject: Subject) -> tuple[bytes, str, str]:
    """What `who` sends for `act` on `subject`: the body, its type, and its text as typed."""
    if act.kind == "command":
        return h.command_body(who, act.text(subject)), FORM, act.text(subject)
    if act.kind == "event":
        event = h.home_opened(who)
        return json.dumps(event).encode(), "application/json", json.dumps(event)
    if act.kind == "step":
        inputs = {k: v(subject) if callable(v) else v for k, v in act.values.items()}
        envelope = step_run(h, who, act.name, inputs)
        typed = json.dumps(envelope, ensure_ascii=False)
        return json.dumps(envelope).encode(), "application/json", typed
    if act.kind == "shortcut":
        payload = h.shortcut(who, act.name, act.text(subject))
        return urlencode({"payload": json.dumps(payload)}).encode(), FORM, json.dumps(payload)
    if act.surface == MESSAGE:
        assert act.action is not None
        payload = {**h.message_interaction(who), "actions": [act.action(subject)]}
        return urlencode({"payload": json.dumps(payload)}).encode(), FORM, json.dumps(payload)
    team = USERS[who][1]
    view = _retarget(h.place(who, act.surface), act.meta(subject))
    if act.kind == "action":
        assert act.action is not None
        payload = {**h.interaction(who, "block_actions", view), "actions": [act.action(subject)]}
    elif act.kind == "options":
        action_id = act.name.split()[0]
        payload = {
            **h.interaction(who, "block_suggestion", view),
            "action_id": action_id,
            "block_id": action_id.split(".")[-1],
            "value": act.text(subject),
        }
    else:
        template = h.template(team, act.surface).view
        view["state"] = {"values": _state(template, act.values, subject, h.tenants[team])}
        payload = h.interaction(who, "view_submission", view)
    typed = json.dumps(payload, ensure_ascii=False)
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM, typed


def expected(act: Act, who: Who) -> str:
    if who in REFUSED:
        return "refused"
    if who == "other":
        return "isolated"
    return "admin only" if act.admin_only and who == "staff" else "allowed"


def run_cell(h: Harness, act: Act, who: Who) -> list[str]:
    """Send `act` as `who`; every way the outcome differs from DESIGN.md §5."""
    subject = act.subject(h)
    h.forget()  # the subject was just made: take a new snapshot before the request
    hidden = h.hidden_from(who)
    body, content_type, echoed = request(h, act, who, subject)
    sent = h.send(body, content_type)
    outcome = expected(act, who)
    may_change = {"allowed": {TEAM}, "isolated": {OTHER_TEAM}}.get(outcome, set())
    problems = h.problems(
        sent,
        may_change=frozenset(may_change),
        hidden=tuple(n for n in hidden if n not in echoed),
    )
    shown = sent.response.text + json.dumps(
        [c.params for c in sent.calls], ensure_ascii=False, default=str
    )
    done = act.effect(h, sent, subject)
    refusals = [text for text in (*REFUSALS.values(), ADMIN_ONLY) if text in shown]
    if outcome == "allowed":
        if not done:
            problems.append("allowed, yet it had no effect")
        if refusals:
            problems.append(f"allowed, yet refused: {refusals}")
    elif outcome == "admin only":
        if done:
            problems.append("admin only, yet staff did it")
        if act.kind != "options" and ADMIN_ONLY not in shown:
            problems.append("admin only, but staff were not told so")
    elif outcome == "refused":
        if done:
            problems.append("refused, yet it had an effect")
        if act.kind != "options" and REFUSALS[who] not in shown:
            problems.append(f"no refusal saying {REFUSALS[who]!r}")
    # "isolated": `problems` already checks nothing of ours was shown or changed.
    h.repair()
    return [f"{act.name} as {who} ({outcome}): {p}" for p in problems]


# ----------------------------------------------------------------- the matrix

GROUPS: dict[str, Callable[[Act], bool]] = {
    "workflow steps": lambda a: a.kind == "step",
    "commands and hub": lambda a: (
        a.kind in {"command", "event", "shortcut"}
        or a.surface in {HUB, MESSAGE, TODAY}
        or a.surface.startswith(
            ("form:customer_form", "form:customer_delete", "form:customer_anonymise")
        )
    ),
    "details": lambda a: (
        (a.surface.startswith("details:") or a.surface in {TAGS_FORM, CONSENT_FORM})
        and not a.name.startswith("row:")
    ),
    "notes, questionnaires, merge": lambda a: a.surface.startswith(
        (
            "form:note",
            "form:message_note",
            "form:questionnaire",
            "form:merge",
            "form:duplicates",
            "form:household",
        )
    ),
    "segments": lambda a: a.name.startswith("segment."),
    "settings": lambda a: (
        a.surface in {HOME, SETTINGS, STRIPE_FORM, TAGS_ADMIN}
        and not GROUPS["segments"](a)
        and not GROUPS["catalog"](a)
        and not GROUPS["catalog items"](a)
    ),
    "catalog": lambda a: a.surface == CATALOG or a.name.startswith("catalog.event"),
    "catalog items": lambda a: (
        a.surface.startswith(("catalog:", "form:catalog_item."))
        or a.name.startswith("catalog.items.")
    ),
    "customer import": lambda a: a.surface.startswith("form:customer_import"),
    "commerce": lambda a: (
        (
            a.surface.startswith("form:")
            and not GROUPS["customer import"](a)
            and not GROUPS["segments"](a)
            and not GROUPS["settings"](a)
            and not GROUPS["catalog"](a)
            and not GROUPS["catalog items"](a)
            and not GROUPS["notes, questionnaires, merge"](a)
            and not GROUPS["commands and hub"](a)
            and not GROUPS["details"](a)
        )
        or a.name.startswith("row:")
    ),
}


def _group_of(act: Act) -> str:
    found = [name for name, belongs in GROUPS.items() if belongs(act)]
    assert len(found) == 1, (act.name, found)
    return found[0]


def test_every_action_is_in_exactly_one_group() -> None:
    for act in ACTS:
        _group_of(act)


@pytest.fixture
def matrix(
    database_url: str, clock: MutableClock, stripe_server: StripeStandIn
) -> Iterator[Harness]:
    with open_harness(database_url, clock, stripe=stripe_server) as harness:
        # Every facilitator gives every service, so appointments can be booked.
        with harness.db.unit_of_work() as uow:
            for team in (TEAM, OTHER_TEAM):
                services = uow.session.scalars(
                    select(AppointmentService.id).where(AppointmentService.team_id == team)
                ).all()
                people = uow.session.scalars(
                    select(Facilitator.id).where(Facilitator.team_id == team)
                ).all()
                uow.session.execute(
                    insert(facilitator_services),
                    [{"facilitator_id": f, "service_id": s} for f in people for s in services],
                )
        yield harness


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_each_role_is_allowed_or_refused_exactly_as_designed(
    matrix: Harness, group: str, record_property: Callable[[str, object], None]
) -> None:
    acts = [a for a in ACTS if _group_of(a) == group]
    problems: list[str] = []
    for act in acts:
        for who in ROLES:
            problems += run_cell(matrix, act, who)
    cells = len(acts) * len(ROLES)
    record_property("matrix_cells", cells)
    print(
        f"\naccess matrix[{group}, {matrix.db.dialect}]: {len(acts)} actions × {len(ROLES)} roles = {cells} cells"
    )
    assert not problems, "\n".join(problems)


def test_the_matrix_covers_every_listener() -> None:
    """Each registered callback_id and action_id is a row of the matrix (or has no listener)."""
    from tests.slack.fuzz_payloads import TARGETS

    aliases = {"row menu:": "customer.row_menu", "row:": "customer_details.row"}
    covered = " ".join(a.name for a in ACTS) + " " + " ".join(aliases.values())
    listened = [t for t in TARGETS if t.kind in {"view", "options"} or t.writes or t.values]
    unlisted = {
        # ids with no listener of their own, fuzzed in test_fuzz
        "customer_form.first_name",
        "note_form.content",
        "message_note.content",
        "message_note.done",
        "questionnaire_assign.template",
        "questionnaire_answers.answer",
        "booking_transfer.occurrence",
        "booking_refund.amount",
        "book_event.price",
        "book_appointment.time",
        "appointment_reschedule.day",
        "assign_pass.type",
        "pass_adjust.delta",
        "pass_extend.valid_to",
        "video_extend.days",
        "video_extend.until",
        "note.details",
        "commerce.working",
        "commerce.result",
        "customer_details.gone",
        "access.refused",
        "unavailable.view",
        "today.view",
        "hub.tab.deleted",
        "customer_details.tab.secrets",
        "note.nuke",
        "customer_form.submit.evil",
        "settings.portal_url",
        "settings.message",
        "customer_anonymise.refused",
        "stripe_account.key",
        "stripe_account.webhook_secret",
        "stripe_account.message",
        "catalog_event.name",
        "catalog_event.day",
        "catalog_event.repeat_days",
        "catalog_event.message",
        "catalog_items.list",
        "catalog_item.name",
        "catalog_item.links",
        "catalog_item.slack_user",
        "catalog_item.interval",
        "catalog_item.message",
        "start_subscription.plan",
        "merge.reason",
        "household.relation",
        "customer_form.duplicate_ok",
        "duplicates.view",
        "duplicates.refused",
        "customer_import.file",
        "customer_import.welcome",
        "customer_import.column",
        "customer_import.message",
        "alerts.kinds",
        "checkin.view",
    }
    missing = [t.id for t in listened if t.id not in unlisted and t.id not in covered]
    assert not missing, f"actions without a matrix row: {sorted(set(missing))}"


# ----------------------------------------------------------------- reaching across workspaces


@pytest.fixture
def two_workspaces(database_url: str, clock: MutableClock) -> Iterator[Harness]:
    with open_harness(database_url, clock) as harness:
        yield harness


def _get(h: Harness, path: str) -> tuple[int, bytes]:
    root = h.world.url.removesuffix("/slack/events")
    return post_raw(root + path, b"", {}, method="GET")


def test_no_search_chart_link_export_or_merge_target_reaches_another_workspace(
    two_workspaces: Harness,
) -> None:
    h = two_workspaces
    ours, theirs = h.tenants[TEAM], h.tenants[OTHER_TEAM]
    before = fingerprint(h.db)

    # Search: our staff typing their customer's name, email or UID find nobody.
    for text in ("Xavier", "xavier.foreign", theirs.main):
        sent = h.send(h.command_body("staff", text), FORM)
        assert not h.problems(sent, may_change=frozenset(), hidden=("Xavier Foreign",))
        (opened,) = [c.params["view"] for c in sent.calls if c.method == "views.open"]
        assert not [b for b in opened["blocks"] if str(b.get("block_id")).startswith("row_")]

    # Merge: their customers are never offered as the one to keep, nor accepted if forged.
    merge = h.place("admin", "form:merge")
    suggest = {
        **h.interaction("admin", "block_suggestion", merge),
        "action_id": "merge.target",
        "block_id": "target",
        "value": "Xavier",
    }
    answer = h.post_payload(suggest)
    assert answer.status == 200 and answer.data.get("options") == []
    merge["state"] = {
        "values": {
            "target": {
                "merge.target": {
                    "type": "external_select",
                    "selected_option": {"text": plain_text("Xavier"), "value": theirs.main},
                }
            }
        }
    }
    sent = h.send(
        urlencode(
            {"payload": json.dumps(h.interaction("admin", "view_submission", merge))}
        ).encode(),
        FORM,
    )
    assert sent.response.data.get("response_action") == "errors", sent.response.text
    assert not h.problems(sent, may_change=frozenset(), hidden=("Xavier Foreign",))

    # Chart links: a link binds workspace and customer; neither can be swapped, and even a
    # genuinely signed link naming our customer under their workspace shows nothing.
    secret = chart_key(h.world.signing_secret)
    expires = int(h.db.clock().timestamp()) + 600
    genuine = chart_token(secret=secret, team_id=TEAM, customer_uid=ours.main, expires_at=expires)
    status, body = _get(h, f"/charts/{genuine}.png")
    assert status == 200 and body.startswith(b"\x89PNG")
    theirs_link = chart_token(
        secret=secret, team_id=OTHER_TEAM, customer_uid=theirs.main, expires_at=expires
    )
    for forged in (
        theirs_link.replace(theirs.main, ours.main),
        theirs_link.replace(OTHER_TEAM, TEAM),
        chart_token(secret=secret, team_id=OTHER_TEAM, customer_uid=ours.main, expires_at=expires),
    ):
        status, body = _get(h, f"/charts/{forged}.png")
        assert status in {403, 404}, (forged, status)
        assert not body.startswith(b"\x89PNG")

    # Export (`customer-bot export-customer UID --team T0002`): their admin can't export ours.
    with h.db.unit_of_work() as uow, pytest.raises(NotFound) as refused:
        export_customer(uow, Actor(OTHER_TEAM, USERS["other"][0], Role.ADMIN), ours.main)
    assert "Zoë" not in refused.value.message and "zo" not in refused.value.message.lower()
    assert fingerprint(h.db) == before
