"""The customer details' tabs: their state, search box, header, pager, empty states and rows."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from bot.views.attendance import appointment_check_in, booking_check_in
from bot.views.blocks import (
    Block,
    actions,
    button,
    clip,
    context,
    escape,
    option,
    overflow,
    section,
)
from bot.views.hub import SEARCH_MAX
from bot.views.inputs import TextField, text_input
from bot.views.origin import DetailsState, Origin, Tab
from bot.views.payload import read_metadata, typed_text
from core.formatting import (
    NOTHING,
    counted,
    format_date,
    format_duration,
    format_money,
    format_price,
    format_when,
)
from core.models import (
    AppointmentState,
    BookingState,
    PassState,
    PaymentMethod,
    RefundState,
    SubscriptionState,
    VideoState,
)
from core.services.appointments import AppointmentRow
from core.services.bookings import BookingRow
from core.services.paging import Page
from core.services.passes import PassRow
from core.services.subscriptions import SubscriptionRow
from core.services.videos import VideoRow

T = TypeVar("T")

TAB_ACTION_PREFIX = "customer_details.tab."
SEARCH_ACTION = "customer_details.search"
SEARCH_BLOCK_PREFIX = "details_search_"
PREV_ACTION = "customer_details.page.prev"
NEXT_ACTION = "customer_details.page.next"
COMMERCE_ACTION = "customer_details.commerce"
ROW_ACTION = "customer_details.row"

TAB_LABELS = {
    Tab.BOOKINGS: "Bookings",
    Tab.APPOINTMENTS: "Appointments",
    Tab.PASSES: "Passes",
    Tab.VIDEOS: "Videos",
    Tab.SUBSCRIPTIONS: "Subscriptions",
    Tab.QUESTIONNAIRES: "Questionnaires",
    Tab.NOTES: "Notes",
    Tab.ACCOUNT: "Account",
}
# What one row of each tab is called, and many.
TAB_NOUNS = {
    Tab.BOOKINGS: ("booking", "bookings"),
    Tab.APPOINTMENTS: ("appointment", "appointments"),
    Tab.PASSES: ("pass", "passes"),
    Tab.VIDEOS: ("video", "videos"),
    Tab.SUBSCRIPTIONS: ("subscription", "subscriptions"),
    Tab.QUESTIONNAIRES: ("questionnaire", "questionnaires"),
    Tab.NOTES: ("note", "notes"),
    Tab.ACCOUNT: ("entry", "entries"),
}
# Rows per page, so that the largest page stays far below a modal's 100 blocks.
PAGE_SIZES = {
    Tab.BOOKINGS: 10,
    Tab.APPOINTMENTS: 10,
    Tab.PASSES: 10,
    Tab.VIDEOS: 10,
    Tab.SUBSCRIPTIONS: 10,
    Tab.QUESTIONNAIRES: 5,
    Tab.NOTES: 5,
    Tab.ACCOUNT: 10,
}
SEARCH_HINTS = {
    Tab.BOOKINGS: "Event name or #ID",
    Tab.APPOINTMENTS: "Service, facilitator or #ID",
    Tab.PASSES: "Pass name or #ID",
    Tab.VIDEOS: "Video title or #ID",
    Tab.SUBSCRIPTIONS: "Plan name or #ID",
    Tab.QUESTIONNAIRES: "Questionnaire name or #ID",
    Tab.NOTES: "Words in the note or #ID",
}
# What a tab shows while it lists nothing: the first step to take.
NOTHING_YET = {
    Tab.BOOKINGS: (
        "No bookings yet — use *Book an Event* to book them onto an event "
        "(for example when they call)."
    ),
    Tab.APPOINTMENTS: "No appointments yet — use *Book Appointment* to book one for them.",
    Tab.PASSES: "No passes yet — use *Assign Pass* to give them one.",
    Tab.VIDEOS: "No videos yet — use *Assign Video* to give them access to one.",
    Tab.SUBSCRIPTIONS: (
        "No subscriptions yet — use *Start subscription* to mail them a Stripe link to "
        "subscribe to a plan; the subscription shows here once they have paid."
    ),
    Tab.QUESTIONNAIRES: (
        "No questionnaires yet — use *Assign Questionnaire* to ask them to fill one in "
        "(they answer in the customer portal)."
    ),
    Tab.NOTES: (
        "No notes yet — use *Add Note* to record special requirements, "
        "conversations or anything the team should know about them."
    ),
}
# Each commerce tab's main button: (value, label).
COMMERCE_BUTTONS = {
    Tab.BOOKINGS: ("book_event", "Book an Event"),
    Tab.APPOINTMENTS: ("book_appointment", "Book Appointment"),
    Tab.PASSES: ("assign_pass", "Assign Pass"),
    Tab.VIDEOS: ("assign_video", "Assign Video"),
    Tab.SUBSCRIPTIONS: ("start_subscription", "Start subscription"),
}
# A commerce tab's row is the block `<kind>_<row id>`.
ROW_KINDS = {
    Tab.BOOKINGS: "booking",
    Tab.APPOINTMENTS: "appointment",
    Tab.PASSES: "pass",
    Tab.VIDEOS: "video",
    Tab.SUBSCRIPTIONS: "subscription",
}
ROW_VERBS = {
    "link": "Send payment link",
    "transfer": "Transfer",
    "cancel": "Cancel",
    "refund": "Refund",
    "reschedule": "Reschedule",
    "adjust": "Adjust credits",
    "extend": "Extend",
    "pause": "Pause",
    "resume": "Resume",
    "suspend": "Suspend",
}
STRIPE_MARK = ":credit_card: Stripe"
USER_ID = re.compile(r"[UW][A-Z0-9]{2,31}")


class DetailsMeta(BaseModel):
    """private_metadata of the details view: whose they are, what is shown, and the hub beneath."""

    uid: str = Field(max_length=16)
    state: DetailsState = Field(default_factory=DetailsState)
    origin: Origin = Field(default_factory=Origin)

    @classmethod
    def parse(cls, raw: object) -> DetailsMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)

    def showing(self, tab: Tab, *, q: str = "", page: int = 1) -> DetailsMeta:
        """The same customer on another tab, search or page."""
        return self.model_copy(update={"state": DetailsState(tab=tab, q=q, page=page)})


class ReturnTo(BaseModel):
    """In a form pushed over a customer's details: the details view to refresh when it is done."""

    view_id: str = Field(max_length=64)
    details: DetailsMeta


def local_date(moment: datetime, timezone: str) -> str:
    """The calendar date of a UTC instant in `timezone`."""
    return format_date(moment.astimezone(ZoneInfo(timezone)).date())


def _state(label: str, stripe: bool) -> str:
    return f"{label} {STRIPE_MARK}" if stripe else label


def _refunded(state: str, refund_state: RefundState, refunded_minor: int, currency: str) -> str:
    """`state`, followed by how much of its Stripe payment went back, if any."""
    if refund_state is RefundState.NONE:
        return state
    how = "in full" if refund_state is RefundState.FULL else "in part"
    return f"{state} · refunded {format_money(refunded_minor, currency)} {how}"


def _unpaid(awaiting: bool) -> str:
    """An unpaid row's state: its payment link is open, or there is none (sent or open) now."""
    return "Awaiting payment" if awaiting else "Unpaid"


def _link_verbs(method: PaymentMethod, live: bool) -> list[str]:
    """*Send payment link* for a row that is unpaid and not cancelled."""
    return ["link"] if live and method is PaymentMethod.UNPAID else []


def tab_buttons(current: Tab) -> Block:
    """The row of eight tab buttons; the one shown is primary."""
    return actions(
        [
            button(
                label,
                TAB_ACTION_PREFIX + tab.value,
                value=tab.value,
                style="primary" if tab is current else None,
            )
            for tab, label in TAB_LABELS.items()
        ],
        block_id="details_tabs",
    )


def search_input(state: DetailsState) -> Block:
    """The tab's as-you-type search; its block_id differs per tab so text stays with its tab."""
    field = TextField(
        SEARCH_BLOCK_PREFIX + state.tab.value,
        f"Search {TAB_LABELS[state.tab].lower()}",
        SEARCH_ACTION,
        placeholder=SEARCH_HINTS.get(state.tab, "Search"),
        optional=True,
        max_length=SEARCH_MAX,
        dispatch=True,
    )
    return text_input(field, state.q)


def typed_search(state_values: dict[str, Any], tab: Tab) -> str:
    """What is in `tab`'s search box ('' when empty), as sent with a view_submission."""
    return typed_text(state_values, SEARCH_BLOCK_PREFIX + tab.value, SEARCH_ACTION)[:SEARCH_MAX]


def tab_header(state: DetailsState, page: Page[Any], accessory: dict[str, Any] | None) -> Block:
    """'*Bookings* · 11–20 of 57', with the tab's main button beside it."""
    noun = TAB_LABELS[state.tab].lower()
    if page.total:
        summary = shown_of(page, *TAB_NOUNS[state.tab])
    elif state.q:
        summary = "no matches"
    else:
        summary = f"no {noun} yet"
    return section(
        f"*{TAB_LABELS[state.tab]}* · {summary}", accessory=accessory, block_id="details_header"
    )


def shown_of(page: Page[Any], one: str, other: str) -> str:
    """'11–20 of 57 bookings', or '1 booking' when there is only one."""
    if page.total == 1:
        return counted(1, one, other)
    return f"{page.first_index:,}–{page.last_index:,} of {counted(page.total, one, other)}"


def commerce_button(tab: Tab) -> dict[str, Any] | None:
    """The tab's Book/Assign button (None on tabs without one)."""
    spec = COMMERCE_BUTTONS.get(tab)
    if spec is None:
        return None
    value, label = spec
    return button(label, COMMERCE_ACTION, value=value)


def empty_state(state: DetailsState) -> Block:
    """What to do when the tab lists nothing: clear the search, or the first step to take."""
    if state.q:
        quoted = escape(clip(state.q, 60))
        noun = TAB_LABELS[state.tab].lower()
        return section(f"No {noun} match '{quoted}' — clear the search to see all of them.")
    return section(NOTHING_YET[state.tab])


def pager(page: Page[Any]) -> list[Block]:
    """Previous / Next and 'Page 2 of 6' when there is more than one page."""
    if page.pages <= 1:
        return []
    buttons = []
    if page.page > 1:
        buttons.append(button("◀ Previous", PREV_ACTION, value=str(page.page - 1)))
    if page.page < page.pages:
        buttons.append(button("Next ▶", NEXT_ACTION, value=str(page.page + 1)))
    return [
        actions(buttons, block_id="details_pager"),
        context(f"Page {page.page:,} of {page.pages:,}"),
    ]


def _row(text: str, tab: Tab, row_id: int, verbs: Sequence[str]) -> Block:
    """A commerce tab's row, with the menu of what can be done to it (none when nothing can)."""
    menu = None
    if verbs:
        menu = overflow(
            ROW_ACTION, [option(ROW_VERBS[verb], f"{tab.value}|{verb}|{row_id}") for verb in verbs]
        )
    return section(text, accessory=menu, block_id=f"{ROW_KINDS[tab]}_{row_id}")


def tab_listing(
    state: DetailsState,
    page: Page[T],
    row: Callable[[T], list[Block]],
    button: dict[str, Any] | None,
) -> list[Block]:
    """The search box, the count with the tab's main `button`, a page of rows, and the pager."""
    blocks = [search_input(state), tab_header(state, page, button)]
    if page.rows:
        for item in page.rows[: PAGE_SIZES[state.tab]]:
            blocks.extend(row(item))
    else:
        blocks.append(empty_state(state))
    blocks.extend(pager(page))
    return blocks


def _booking(row: BookingRow, timezone: str, admin: bool) -> Block:
    stripe = row.payment_method is PaymentMethod.STRIPE
    state = _state(row.state.value.title(), stripe and row.state is BookingState.COMPLETED)
    if row.state is BookingState.UNPAID:
        state = _unpaid(row.awaiting_link)
    state = _refunded(state, row.refund_state, row.refunded_minor, row.currency)
    price = format_price(row.price_minor, row.credits, row.currency)
    text = (
        f"*#{row.id}  {escape(clip(row.event_name, 200))}*\n"
        f":calendar: {format_when(row.starts_at, row.timezone)} · "
        f"{format_duration(row.duration_minutes)}\n"
        f"Booked on {local_date(row.booked_at, timezone)} · {price} · {state}"
    )
    live = row.state is not BookingState.CANCELLED
    verbs = _link_verbs(row.payment_method, live)
    if live:
        verbs += ["transfer", "cancel"]
    if stripe and admin and row.refund_state is not RefundState.FULL:
        verbs.append("refund")
    return _row(text, Tab.BOOKINGS, row.id, verbs)


def bookings_tab(
    state: DetailsState, page: Page[BookingRow], *, timezone: str, admin: bool = False
) -> list[Block]:
    """Event bookings: what, when (in the event's time zone), price or credits, state; Refund
    (of a Stripe payment) is offered to admins; check-in once the session's day has come."""
    return tab_listing(
        state,
        page,
        lambda row: [_booking(row, timezone, admin), *booking_check_in(row, timezone)],
        commerce_button(state.tab),
    )


def _appointment(row: AppointmentRow, timezone: str) -> Block:
    stripe = row.payment_method is PaymentMethod.STRIPE
    price = format_price(row.price_minor, row.credits, row.currency)
    text = (
        f"*#{row.id}  {escape(clip(row.service_name, 200))}* with "
        f"{escape(clip(row.facilitator_name, 200))}\n"
        f":calendar: {format_when(row.starts_at, timezone)} · "
        f"{format_duration(row.duration_minutes)}\n"
        f"Booked on {local_date(row.booked_at, timezone)} · {price} · "
        + _refunded(
            _state(row.state.value.title(), stripe),
            row.refund_state,
            row.refunded_minor,
            row.currency,
        )
    )
    live = row.state is AppointmentState.SCHEDULED
    if live and row.payment_method is PaymentMethod.UNPAID:
        text += f" · {_unpaid(row.awaiting_link)}"
    verbs = _link_verbs(row.payment_method, live) + (["reschedule", "cancel"] if live else [])
    return _row(text, Tab.APPOINTMENTS, row.id, verbs)


def appointments_tab(
    state: DetailsState, page: Page[AppointmentRow], *, timezone: str, now: datetime
) -> list[Block]:
    """Appointments: service, facilitator, when, duration, payment, status; check-in once the
    appointment's day has come."""
    return tab_listing(
        state,
        page,
        lambda row: [_appointment(row, timezone), *appointment_check_in(row, timezone, now)],
        commerce_button(state.tab),
    )


def _pass(row: PassRow, timezone: str, today: date) -> Block:
    stripe = row.payment_method is PaymentMethod.STRIPE
    lapsed = " (expired)" if row.valid_to < today and row.state is not PassState.CANCELLED else ""
    text = (
        f"*#{row.id}  {escape(clip(row.name, 200))}*\n"
        f"Valid {format_date(row.valid_from)} – {format_date(row.valid_to)}{lapsed} · "
        f"{row.credits_remaining} of {row.credits_total} credits left\n"
        f"Purchased {local_date(row.purchased_at, timezone)} · "
        f"{format_money(row.price_minor, row.currency)} · "
        + _refunded(_pass_state(row, stripe), row.refund_state, row.refunded_minor, row.currency)
    )
    live = row.state is not PassState.CANCELLED
    verbs = _link_verbs(row.payment_method, live)
    verbs += ["adjust", "extend", "cancel"] if live else []
    return _row(text, Tab.PASSES, row.id, verbs)


def _pass_state(row: PassRow, stripe: bool) -> str:
    if row.state is PassState.UNPAID:
        return _unpaid(row.awaiting_link)
    return _state(row.state.value.title(), stripe and row.state is PassState.COMPLETED)


def passes_tab(
    state: DetailsState, page: Page[PassRow], *, timezone: str, now: datetime
) -> list[Block]:
    """Passes: validity dates, credits left, price, state."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    return tab_listing(
        state, page, lambda row: [_pass(row, timezone, today)], commerce_button(state.tab)
    )


def _video(row: VideoRow, timezone: str) -> Block:
    stripe = row.payment_method is PaymentMethod.STRIPE
    expires = local_date(row.expires_at, timezone) if row.expires_at else NOTHING
    text = (
        f"*#{row.id}  {escape(clip(row.title, 200))}*\n"
        f"Expires {expires}\n"
        f"Purchased {local_date(row.purchased_at, timezone)} · "
        f"{format_price(row.price_minor, row.credits, row.currency)} · "
        f"{_state(row.state.value.title(), stripe)}"
    )
    live = row.state is not VideoState.CANCELLED
    if live and row.payment_method is PaymentMethod.UNPAID:
        text += f" · {_unpaid(row.awaiting_link)}"
    verbs = _link_verbs(row.payment_method, live)
    if live:
        # A purchase without an expiry has nothing to extend.
        verbs += ["cancel"] if row.expires_at is None else ["extend", "cancel"]
    return _row(text, Tab.VIDEOS, row.id, verbs)


def videos_tab(state: DetailsState, page: Page[VideoRow], *, timezone: str) -> list[Block]:
    """Video purchases: title, expiry (— for none), price or credits, state."""
    return tab_listing(state, page, lambda row: [_video(row, timezone)], commerce_button(state.tab))


SUBSCRIPTION_STATES = {
    SubscriptionState.ACTIVE: "Active",
    SubscriptionState.PAST_DUE: "Past due",
    SubscriptionState.PAUSED: "Paused",
    SubscriptionState.SUSPENDED: "Suspended",
}


def _next_payment(row: SubscriptionRow, timezone: str) -> str:
    """'Next payment 14 Apr 2026', or while past due when Stripe tries the payment again."""
    day = local_date(row.next_payment_at, timezone) if row.next_payment_at else None
    if row.state is SubscriptionState.PAST_DUE:
        return f"Payment failed · next retry {day}" if day else "Payment failed · no retry due"
    return f"Next payment {day or NOTHING}"


def _subscription(row: SubscriptionRow, timezone: str, admin: bool) -> Block:
    stripe = row.stripe_subscription_id is not None
    text = (
        f"*#{row.id}  {escape(clip(row.plan_name, 200))}*\n"
        f"{_next_payment(row, timezone)} · "
        f"{format_money(row.price_minor, row.currency)} per {escape(clip(row.interval, 20))}\n"
        f"Created {local_date(row.created_at, timezone)} · "
        f"{_state(SUBSCRIPTION_STATES[row.state], stripe)}"
    )
    verbs = {
        SubscriptionState.ACTIVE: ["pause", "suspend"],
        # Stripe is retrying the payment: only ending it is a choice here.
        SubscriptionState.PAST_DUE: ["suspend"],
        SubscriptionState.PAUSED: ["resume", "suspend"],
        # Suspending ends a subscription for good (Stripe never reopens a cancelled one).
        SubscriptionState.SUSPENDED: [],
    }[row.state]
    if not admin:
        verbs = [verb for verb in verbs if verb != "suspend"]
    return _row(text, Tab.SUBSCRIPTIONS, row.id, verbs)


def subscriptions_tab(
    state: DetailsState, page: Page[SubscriptionRow], *, timezone: str, admin: bool = False
) -> list[Block]:
    """Subscription mandates: plan, next payment, recurring price, state; Suspend (cancelling
    at Stripe for good) is offered to admins."""
    return tab_listing(
        state, page, lambda row: [_subscription(row, timezone, admin)], commerce_button(state.tab)
    )


def who(user_id: str) -> str:
    """A Slack user id as a mention; anything else (such as 'system') as plain text."""
    if USER_ID.fullmatch(user_id):
        return f"<@{user_id}>"
    return escape(user_id)
