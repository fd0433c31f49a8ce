"""The segment modal (filters, the count and first page as they change, Save), read back into
SegmentFilters; and Home's saved segments with their counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from babel.numbers import get_currency_precision
from pydantic import BaseModel, Field

from bot.views.blocks import (
    Block,
    actions,
    button,
    context,
    divider,
    escape,
    form_modal,
    header,
    option,
    plain,
    section,
)
from bot.views.commerce.parsing import parse_money
from bot.views.inputs import MAX_OPTIONS, input_block, static_select
from bot.views.payload import answered_in
from core.formatting import counted, format_date, format_money
from core.models import SEGMENT_NAME_MAX
from core.services.saved_segments import SavedSegment
from core.services.segment_digests import Digest
from core.services.segments import (
    MAX_DAYS,
    MAX_VISITS,
    NO_SUBSCRIPTION,
    SegmentFilters,
    SegmentResult,
    StatusFilter,
)

CALLBACK_ID = "segment.submit"
FILTER_ACTION = "segment.filter"
CUSTOMER_ACTION = "segment.customer"
EXPORT_ACTION = "segment.export"
NAME_BLOCK = "segment.name"
NAME_ACTION = "segment.name"
DIGEST_BLOCK = "segment.digest"
DIGEST_ACTION = "segment.digest"
HOME_NEW_ACTION = "segment.new"
HOME_OPEN_ACTION = "segment.open"
HOME_DELETE_ACTION = "segment.delete"
ANY = "any"

STATUS_OPTIONS = [
    option("Active", StatusFilter.ACTIVE.value),
    option("Archived", StatusFilter.ARCHIVED.value),
    option("Active and archived", StatusFilter.ANY.value),
]
SUBSCRIPTION_OPTIONS = [
    option("Any, or none", ANY),
    option("Active", "active"),
    option("Past due", "past_due"),
    option("Paused", "paused"),
    option("Suspended", "suspended"),
    option("No subscription", NO_SUBSCRIPTION),
]


@dataclass(frozen=True)
class _Number:
    """A filter typed as a number: its block, label, the SegmentFilters field and kind."""

    block_id: str
    label: str
    name: str
    kind: str  # "days", "visits" or "money"
    hint: str = ""


NUMBERS = (
    _Number(
        "segment.lapsed",
        "No visit in the last … days",
        "lapsed_days",
        "days",
        "Customers whose last visit was longer ago; never visited don't match.",
    ),
    _Number(
        "segment.seen",
        "Visited in the last … days",
        "seen_days",
        "days",
        "A visit any time on the day N days ago counts.",
    ),
    _Number("segment.visits_days", "Visits counted over the last … days", "visits_days", "days"),
    _Number("segment.visits_min", "At least … visits in that period", "visits_min", "visits"),
    _Number(
        "segment.visits_max",
        "At most … visits in that period",
        "visits_max",
        "visits",
        "0 finds customers with no visit in the period, or none ever.",
    ),
    _Number(
        "segment.spend_min",
        "Spent at least",
        "spend_at_least",
        "money",
        "Money kept over all time (paid, less refunds), in the studio's currency.",
    ),
    _Number("segment.spend_below", "Spent less than", "spend_below", "money"),
    _Number(
        "segment.pass_ending",
        "A pass with credits left ending within … days",
        "pass_ending_days",
        "days",
    ),
)
STATUS_BLOCK = "segment.status"
SUBSCRIPTION_BLOCK = "segment.subscription"
TAG_BLOCK = "segment.tag"
CONSENT_BLOCK = "segment.consent"
CONSENT_OPTIONS = [
    option("Any", ANY),
    option("Granted", "granted"),
    option("Withdrawn", "withdrawn"),
    option("Unknown", "unknown"),
]
# Where a core ValidationFailed field is shown in this form.
BLOCK_OF = {number.name: number.block_id for number in NUMBERS} | {
    "status": STATUS_BLOCK,
    "subscription": SUBSCRIPTION_BLOCK,
    "tag": TAG_BLOCK,
    "consent": CONSENT_BLOCK,
    "name": NAME_BLOCK,
    "digest": DIGEST_BLOCK,
}


class SegmentMeta(BaseModel):
    """The modal's private_metadata: the saved segment it edits, if any."""

    segment_id: int | None = Field(default=None, ge=1, le=2**63 - 1)


@dataclass(frozen=True)
class SegmentForm:
    """What the modal shows: the saved segment, filters as typed, and what they found."""

    meta: SegmentMeta
    typed: dict[str, str] = field(default_factory=dict)
    name: str = ""
    result: SegmentResult | None = None
    problem: str = ""
    admin: bool = False
    digest_channel: str = ""
    # The workspace's tags, to choose one from.
    tags: tuple[str, ...] = ()
    # What was just done from the form (an export sent), shown above the count.
    notice: str = ""


def _number_element(number: _Number, initial: str) -> dict[str, Any]:
    high = {"days": MAX_DAYS, "visits": MAX_VISITS}.get(number.kind)
    element: dict[str, Any] = {
        "type": "number_input",
        "action_id": FILTER_ACTION,
        "is_decimal_allowed": number.kind == "money",
        "min_value": "0",
        "dispatch_action_config": {"trigger_actions_on": ["on_character_entered"]},
    }
    if high is not None:
        element["max_value"] = str(high)
    if initial:
        element["initial_value"] = initial
    return element


def _select(block_id: str, label: str, options: list[dict[str, Any]], chosen: str) -> Block:
    picked = next((o for o in options if o["value"] == chosen), options[0])
    element = static_select(FILTER_ACTION, options, placeholder=label, chosen=picked)
    return input_block(block_id, label, element, dispatch=True)


def _filters_blocks(form: SegmentForm) -> list[Block]:
    typed = form.typed
    blocks = [
        _select(STATUS_BLOCK, "Status", STATUS_OPTIONS, typed.get("status", "active")),
    ]
    for number in NUMBERS:
        blocks.append(
            input_block(
                number.block_id,
                number.label,
                _number_element(number, typed.get(number.name, "")),
                hint=number.hint,
                optional=True,
                dispatch=True,
            )
        )
    blocks.append(
        _select(
            SUBSCRIPTION_BLOCK, "Subscription", SUBSCRIPTION_OPTIONS, typed.get("subscription", ANY)
        )
    )
    # A tag no longer in the list (renamed since it was saved) stays chosen, so it is seen.
    names = [n for n in dict.fromkeys([*form.tags, typed.get("tag", ANY)]) if n != ANY]
    tags = [option("Any tag", ANY)] + [option(name, name) for name in names[: MAX_OPTIONS - 1]]
    blocks.append(_select(TAG_BLOCK, "Tag", tags, typed.get("tag", ANY)))
    blocks.append(
        _select(CONSENT_BLOCK, "Marketing consent", CONSENT_OPTIONS, typed.get("consent", ANY))
    )
    return blocks


def _row(row: Any, currency: str) -> Block:
    seen = (
        f"last visit {format_date(row.last_visit_at.date())}"
        if row.last_visit_at
        else "no visits yet"
    )
    facts = f"{seen} · {counted(row.visits, 'visit', 'visits')} · {format_money(row.spend_minor, currency)}"
    archived = " · archived" if row.status.value == "archived" else ""
    return section(
        f"*{escape(row.name)}* · {escape(row.email)}\n{facts}{archived}",
        accessory=button("Open", CUSTOMER_ACTION, value=row.uid),
    )


def _result_blocks(form: SegmentForm) -> list[Block]:
    blocks: list[Block] = [divider()]
    if form.problem:
        return [*blocks, section(f":warning: {escape(form.problem)}", block_id="segment.problem")]
    result = form.result
    if result is None:
        return blocks
    if form.notice:
        blocks.append(context(f":white_check_mark: {escape(form.notice)}"))
    page = result.page
    shown = f"; the first {len(page.rows)} by name" if page.total > len(page.rows) else ""
    blocks.append(
        section(
            f"*{counted(page.total, 'customer', 'customers')}* match{shown}.",
            block_id="segment.count",
        )
    )
    blocks += [_row(row, result.currency) for row in page.rows]
    if form.admin and page.total:
        blocks.append(actions([button("Export CSV", EXPORT_ACTION)], block_id="segment.actions"))
    return blocks


def segment_modal(form: SegmentForm) -> dict[str, Any]:
    """The segment modal: filters that re-count as they change, then the name to save it by."""
    intro = context(
        "Filter the studio's customers: the count and the first page change as you type. "
        "Name the segment and save it to find it on Home with its count."
    )
    name = input_block(
        NAME_BLOCK,
        "Name (to save)",
        {
            "type": "plain_text_input",
            "action_id": NAME_ACTION,
            "max_length": SEGMENT_NAME_MAX,
            "placeholder": plain("e.g. Lapsed regulars", 150),
            **({"initial_value": form.name} if form.name else {}),
        },
        optional=True,
    )
    channel: dict[str, Any] = {
        "type": "conversations_select",
        "action_id": DIGEST_ACTION,
        "placeholder": plain("No digest", 150),
        "filter": {"include": ["public", "private"], "exclude_bot_users": True},
    }
    if form.digest_channel:
        channel["initial_conversation"] = form.digest_channel
    digest = input_block(
        DIGEST_BLOCK,
        "Post who is new in it weekly to",
        channel,
        hint="Only into a channel whose members are all staff. Leave empty for no digest.",
        optional=True,
    )
    blocks = [intro, *_filters_blocks(form), name, digest, *_result_blocks(form)]
    return form_modal(
        "Segment", blocks, form.meta, callback_id=CALLBACK_ID, submit="Save segment", close="Close"
    )


def typed_filters(values: dict[str, Any]) -> dict[str, str]:
    """What the form holds, by SegmentFilters field, as typed ('' where empty)."""
    typed = {
        number.name: answered_in(values, number.block_id, FILTER_ACTION).strip()
        for number in NUMBERS
    }
    typed["status"] = answered_in(values, STATUS_BLOCK, FILTER_ACTION) or "active"
    typed["subscription"] = answered_in(values, SUBSCRIPTION_BLOCK, FILTER_ACTION) or ANY
    typed["tag"] = answered_in(values, TAG_BLOCK, FILTER_ACTION) or ANY
    typed["consent"] = answered_in(values, CONSENT_BLOCK, FILTER_ACTION) or ANY
    return typed


def typed_name(values: dict[str, Any]) -> str:
    """The name typed to save the segment by."""
    return answered_in(values, NAME_BLOCK, NAME_ACTION)


def chosen_channel(values: dict[str, Any]) -> str:
    """The channel chosen for the weekly digest ('' for none)."""
    element = values.get(DIGEST_BLOCK, {}).get(DIGEST_ACTION, {})
    chosen = element.get("selected_conversation") if isinstance(element, dict) else None
    return chosen if isinstance(chosen, str) else ""


def digest_text(digest: Digest) -> str:
    """A segment's weekly digest as posted into its channel."""
    name = escape(digest.name)
    matched = counted(digest.total, "customer", "customers")
    if digest.first:
        head = f":bar_chart: *{name}*, weekly: {matched} match now"
    else:
        head = f":bar_chart: *{name}*, weekly: {matched} match; {digest.new_count:,} new this week"
    if not digest.newcomers:
        return f"{head}."
    names = ", ".join(escape(n) for n in digest.newcomers)
    more = digest.new_count - len(digest.newcomers)
    tail = f" and {more:,} more" if more > 0 else ""
    return f"{head}: {names}{tail}. Open it from Home's Segments."


def read_filters(typed: dict[str, str], currency: str) -> SegmentFilters | dict[str, str]:
    """The filters typed, or what to fix under which block."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for number in NUMBERS:
        text = typed.get(number.name, "")
        if not text:
            continue
        if number.kind == "money":
            try:
                values[number.name] = parse_money(text, currency)
            except ValueError as exc:
                errors[number.block_id] = str(exc)
        elif text.isascii() and text.isdigit() and len(text) <= 9:
            values[number.name] = int(text)
        else:
            errors[number.block_id] = "Enter a whole number, such as 30."
    status = typed.get("status", "active")
    if status not in {s.value for s in StatusFilter}:
        errors[STATUS_BLOCK] = "Choose a status from the list."
    else:
        values["status"] = StatusFilter(status)
    for name in ("subscription", "tag", "consent"):
        chosen = typed.get(name, ANY)
        if chosen != ANY:
            values[name] = chosen
    if errors:
        return errors
    return SegmentFilters(**values)


def filters_typed(filters: SegmentFilters, currency: str) -> dict[str, str]:
    """A saved segment's filters as the form shows them typed."""
    typed: dict[str, str] = {
        "status": filters.status.value,
        "subscription": filters.subscription or ANY,
        "tag": filters.tag or ANY,
        "consent": filters.consent or ANY,
    }
    for number in NUMBERS:
        value = getattr(filters, number.name)
        if value is None:
            continue
        typed[number.name] = (
            f"{Decimal(value).scaleb(-get_currency_precision(currency)):f}"
            if number.kind == "money"
            else str(value)
        )
    return typed


def segments_section(saved: list[SavedSegment]) -> list[Block]:
    """Home's *Segments*: each saved segment with its count, Open and Delete; and New segment."""
    blocks: list[Block] = [divider(), header("Segments")]
    if not saved:
        blocks.append(
            context(
                "No saved segments yet: `/customers segment` finds customers by their "
                "visits, spending, passes and subscriptions."
            )
        )
    for segment in saved[:MAX_OPTIONS]:
        count = (
            "" if segment.count is None else f" · {counted(segment.count, 'customer', 'customers')}"
        )
        confirm = {
            "title": plain("Delete this segment?", 100),
            "text": plain(f"“{segment.name}” will be gone for everyone; no customer changes.", 300),
            "confirm": plain("Delete", 30),
            "deny": plain("Keep it", 30),
        }
        digest = ""
        if segment.digest_channel_id:
            digest = f"\nPosts who is new weekly to <#{segment.digest_channel_id}>"
            if segment.digest_paused:
                digest += f" (paused: {escape(segment.digest_paused)})"
        blocks.append(section(f"*{escape(segment.name)}*{count}{digest}"))
        blocks.append(
            actions(
                [
                    button("Open", HOME_OPEN_ACTION, value=str(segment.id)),
                    button(
                        "Delete",
                        HOME_DELETE_ACTION,
                        value=str(segment.id),
                        style="danger",
                        confirm=confirm,
                    ),
                ],
                block_id=f"segment.home.{segment.id}",
            )
        )
    blocks.append(actions([button("New segment", HOME_NEW_ACTION)], block_id="segment.home.new"))
    return blocks
