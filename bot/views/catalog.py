"""The catalog: the Home tab's Catalog section (upcoming events) and the admins' event modal."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bot.views.blocks import (
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    form_modal,
    header,
    modal,
    option,
    overflow,
    section,
)
from bot.views.catalog_items import kind_buttons
from bot.views.commerce.form_state import FormValues
from bot.views.hub import HubState
from bot.views.inputs import TextField, date_picker, input_block, text_input, time_picker
from core.formatting import counted, format_money, format_when
from core.services.catalog_fields import CREDITS_MAX
from core.services.events import (
    LOCATION_MAX,
    MAX_REPEATS,
    NAME_MAX,
    EventDraft,
    UpcomingEvent,
)

CALLBACK_ID = "catalog_event.submit"
MESSAGE_CALLBACK_ID = "catalog_event.message"
ADD_ACTION = "catalog.event_add"
MENU_ACTION = "catalog.event_menu"
SECTION_BLOCK = "catalog_section"
REPEAT_DAYS_ACTION = "catalog_event.repeat_days"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WEEKDAY_VALUES = {str(number) for number in range(len(WEEKDAYS))}
# Each input's block_id is its EventDraft field; its action_id is `catalog_event.<field>`.
TEXT_FIELDS = {
    "name": TextField("name", "Name", "catalog_event.name", max_length=NAME_MAX),
    "capacity": TextField(
        "capacity", "Capacity", "catalog_event.capacity", placeholder="12", max_length=9
    ),
    "price": TextField(
        "price",
        "Price",
        "catalog_event.price",
        placeholder="12.50",
        hint="In the studio's currency; 0 for a free event.",
        max_length=20,
    ),
    "credits": TextField(
        "credits",
        "Credits",
        "catalog_event.credits",
        placeholder="1",
        hint=f"Pass credits a place costs when paid with a pass (1 to {CREDITS_MAX}); blank: 1.",
        optional=True,
        max_length=9,
    ),
    "location": TextField(
        "location",
        "Location",
        "catalog_event.location",
        placeholder="Studio 1",
        optional=True,
        max_length=LOCATION_MAX,
    ),
}
FIELDS = (
    "name",
    "day",
    "start",
    "end",
    "capacity",
    "price",
    "credits",
    "location",
    "repeat_days",
    "repeat_until",
)


class CatalogEventMeta(BaseModel):
    """private_metadata of the event modal: Home as it was, and the dated event edited (0: new)."""

    hub: HubState = Field(default_factory=HubState)
    occurrence_id: int = Field(default=0, ge=0, le=10**18)


def _line(event: UpcomingEvent, currency: str) -> str:
    when = format_when(event.starts_at, event.timezone)
    left = max(0, event.capacity - event.booked)
    price = f"{format_money(event.price_minor, currency)} or {event.credit_price} CR"
    where = f" · {escape(clip(event.location, 80))}" if event.location else ""
    return (
        f"*{escape(clip(event.name, 150))}* · {when}{where}\n"
        f"{event.booked} of {event.capacity} booked ({left} left) · {price}"
    )


def _row(event: UpcomingEvent, currency: str, *, admin: bool) -> Block:
    block_id = f"event_{event.id}"
    if not admin:
        return section(_line(event, currency), block_id=block_id)
    menu = overflow(
        MENU_ACTION,
        [option("Edit", f"edit|{event.id}"), option("Archive", f"archive|{event.id}")],
    )
    return section(_line(event, currency), accessory=menu, block_id=block_id)


def catalog_section(
    events: list[UpcomingEvent], total: int, currency: str, *, admin: bool
) -> list[Block]:
    """The Home tab's Catalog section: upcoming events, and for admins the controls to change them."""
    blocks: list[Block] = [divider(), header("Catalog"), kind_buttons(), header("Events")]
    if admin:
        add = button("Add event", ADD_ACTION, value="add")
        blocks.append(actions([add], block_id=SECTION_BLOCK))
    else:
        blocks.append(context("Read only: your admins change the catalog."))
    if not events:
        blocks.append(context("No upcoming events."))
    blocks.extend(_row(event, currency, admin=admin) for event in events)
    if total > len(events):
        blocks.append(context(f"…and {counted(total - len(events), 'more', 'more')} to come."))
    return blocks


def _when_blocks(draft: EventDraft, timezone: str) -> list[Block]:
    return [
        input_block(
            "day",
            "Day",
            date_picker("catalog_event.day", initial=draft.day, placeholder="Choose a day"),
        ),
        input_block(
            "start",
            "Starts",
            time_picker(
                "catalog_event.start", timezone=timezone, initial=draft.start, placeholder="Start"
            ),
            hint=f"In {timezone}.",
        ),
        input_block(
            "end",
            "Ends",
            time_picker(
                "catalog_event.end", timezone=timezone, initial=draft.end, placeholder="End"
            ),
        ),
    ]


def _repeat_blocks(draft: EventDraft) -> list[Block]:
    days = [option(name, str(number)) for number, name in enumerate(WEEKDAYS)]
    boxes: dict[str, Any] = {"type": "checkboxes", "action_id": REPEAT_DAYS_ACTION, "options": days}
    chosen = [days[number] for number in sorted(set(draft.repeat_days)) if 0 <= number < 7]
    if chosen:
        boxes["initial_options"] = chosen
    until = date_picker(
        "catalog_event.repeat_until", initial=draft.repeat_until, placeholder="Last day"
    )
    return [
        input_block(
            "repeat_days",
            "Repeats weekly on",
            boxes,
            hint="Leave all unticked for a one-off event. Each date is made as its own event.",
            optional=True,
        ),
        input_block(
            "repeat_until",
            "Repeats until",
            until,
            hint=f"The last day it repeats on; at most {MAX_REPEATS} dates are made at once.",
            optional=True,
        ),
    ]


def event_modal(draft: EventDraft, meta: CatalogEventMeta, timezone: str) -> dict[str, Any]:
    """The Add event modal (`meta.occurrence_id` 0) or the Edit event modal, filled with `draft`."""
    editing = meta.occurrence_id > 0
    blocks = [
        text_input(TEXT_FIELDS["name"], draft.name),
        *_when_blocks(draft, timezone),
        text_input(TEXT_FIELDS["capacity"], draft.capacity),
        text_input(TEXT_FIELDS["price"], draft.price),
        text_input(TEXT_FIELDS["credits"], draft.credits),
        text_input(TEXT_FIELDS["location"], draft.location),
    ]
    if editing:
        blocks.append(context("Changes this date only; the name and credits are the series'."))
    else:
        blocks.extend(_repeat_blocks(draft))
    return form_modal(
        "Edit event" if editing else "Add event",
        blocks,
        meta,
        callback_id=CALLBACK_ID,
        submit="Save" if editing else "Add",
        close="Cancel",
    )


def _weekdays(values: FormValues) -> tuple[int, ...]:
    return tuple(sorted({int(v) for v in values.choices("repeat_days") if v in _WEEKDAY_VALUES}))


def submitted_event(state: dict[str, Any]) -> EventDraft:
    """What the event modal's fields held when it was submitted."""
    values = FormValues(state)
    return EventDraft(
        name=values.text("name"),
        day=values.day("day"),
        start=values.clock_time("start"),
        end=values.clock_time("end"),
        capacity=values.text("capacity"),
        price=values.text("price"),
        credits=values.text("credits"),
        location=values.text("location"),
        repeat_days=_weekdays(values),
        repeat_until=values.day("repeat_until"),
    )


def event_message(text: str) -> dict[str, Any]:
    """What replaces the event modal when it can't be saved for a reason no field shows."""
    return modal("Catalog", [section(text)], callback_id=MESSAGE_CALLBACK_ID)
