"""Customer links unfurled as Slack Work Objects (`slack#/entities/item`), with classic unfurl
blocks for clients without them, and the flexpane's full record for staff. Pure builders: the
caller decides who may see which (bot/surfaces/unfurls.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.views.blocks import Block, actions, button, clip, context, escape, fields, section
from core.formatting import format_date, format_phone, format_when
from core.services.customer_cards import CustomerCard

ENTITY_TYPE = "slack#/entities/item"
OPEN_ACTION = "unfurl.open"
ADD_NOTE_ACTION = "unfurl.add_note"
PRODUCT = "Customer Records"
PRIVATE_TITLE = "A customer record — staff can open it"
GONE_TITLE = "This customer record is no longer available"
RESTRICTED_TITLE = "Staff only"
RESTRICTED_MESSAGE = "Customer records are shown to the studio's staff only."
# Slack's Work Object text fields; longer text is clipped, never refused.
TITLE_MAX = 150
FIELD_MAX = 500


@dataclass(frozen=True)
class Unfurl:
    """One link's unfurl: classic blocks and the Work Object entity."""

    url: str
    blocks: list[Block]
    entity: dict[str, Any]


def _entity(url: str, uid: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "app_unfurl_url": url,
        "url": url,
        "external_ref": {"id": uid},
        "entity_type": ENTITY_TYPE,
        "entity_payload": payload,
    }


def _attributes(title: str) -> dict[str, Any]:
    return {"title": {"text": clip(title, TITLE_MAX)}, "product_name": PRODUCT}


def _custom(key: str, label: str, value: str) -> dict[str, Any]:
    return {"key": key, "label": label, "value": clip(value, FIELD_MAX), "type": "string"}


def _next_booking(card: CustomerCard, timezone: str) -> str:
    upcoming = card.next_booking
    if upcoming is None:
        return "None booked"
    return f"{upcoming.name}, {format_when(upcoming.starts_at, timezone)}"


def _last_note(card: CustomerCard, timezone: str) -> str:
    when = card.last_note_at
    return format_when(when, timezone) if when is not None else "No notes"


def _summary(card: CustomerCard, timezone: str) -> list[tuple[str, str, str]]:
    return [
        ("status", "Status", card.status.value.title()),
        ("next_booking", "Next booking", _next_booking(card, timezone)),
        ("credits_left", "Pass credits left", str(card.credits_left)),
        ("last_note", "Last note", _last_note(card, timezone)),
    ]


def _actions(uid: str) -> dict[str, Any]:
    return {
        "primary_actions": [
            {"text": "Open", "action_id": OPEN_ACTION, "value": uid, "style": "primary"},
            {"text": "Add note", "action_id": ADD_NOTE_ACTION, "value": uid},
        ]
    }


def _buttons(uid: str) -> Block:
    return actions(
        [
            button("Open", OPEN_ACTION, value=uid, style="primary"),
            button("Add note", ADD_NOTE_ACTION, value=uid),
        ]
    )


def card_unfurl(url: str, card: CustomerCard, timezone: str) -> Unfurl:
    """The card with personal data: only for a conversation where everyone is staff."""
    summary = _summary(card, timezone)
    payload = {
        "attributes": _attributes(card.full_name),
        "custom_fields": [_custom(key, label, value) for key, label, value in summary],
        "actions": _actions(card.uid),
    }
    blocks = [
        section(f"*{escape(card.full_name)}* · UID `{card.uid}`"),
        fields([(label, escape(value)) for _key, label, value in summary]),
        _buttons(card.uid),
    ]
    return Unfurl(url, blocks, _entity(url, card.uid, payload))


def private_unfurl(url: str, uid: str) -> Unfurl:
    """The card without personal data: someone in the conversation isn't staff."""
    payload = {"attributes": _attributes(PRIVATE_TITLE)}
    blocks = [
        section(f"*{PRIVATE_TITLE}.*"),
        context("Its details are shown to the studio's staff only, in the app."),
    ]
    return Unfurl(url, blocks, _entity(url, uid, payload))


def gone_unfurl(url: str, uid: str) -> Unfurl:
    """A deleted, anonymised or merged-away customer's link."""
    payload = {"attributes": _attributes(GONE_TITLE)}
    return Unfurl(url, [section(f"*{GONE_TITLE}.*")], _entity(url, uid, payload))


def unfurl_arguments(unfurls: list[Unfurl]) -> dict[str, Any]:
    """chat.unfurl's `unfurls` (classic, by URL) and `metadata` (the Work Objects)."""
    return {
        "unfurls": {unfurl.url: {"blocks": unfurl.blocks} for unfurl in unfurls},
        "metadata": {"entities": [unfurl.entity for unfurl in unfurls]},
    }


def _upcoming_text(card: CustomerCard, timezone: str) -> str:
    lines = [f"{u.name}, {format_when(u.starts_at, timezone)}" for u in card.upcoming]
    return "\n".join(lines) or "None booked"


def _passes_text(card: CustomerCard) -> str:
    lines = [
        f"{p.name}: {p.credits_remaining} left, until {format_date(p.valid_to)}"
        for p in card.passes
    ]
    return "\n".join(lines) or "No usable passes"


def _notes_text(card: CustomerCard, timezone: str) -> str:
    lines = [f"{format_when(n.created_at, timezone)}: {n.text}" for n in card.notes]
    return "\n".join(lines) or "No notes"


def details_entity(url: str, card: CustomerCard, timezone: str) -> dict[str, Any]:
    """The flexpane's full record, for one staff viewer."""
    full = [
        ("email", "Email", card.email),
        ("mobile", "Mobile", format_phone(card.mobile)),
        *_summary(card, timezone),
        ("upcoming", "Upcoming bookings", _upcoming_text(card, timezone)),
        ("passes", "Passes", _passes_text(card)),
        ("notes", "Last notes", _notes_text(card, timezone)),
    ]
    payload = {
        "attributes": {**_attributes(card.full_name), "display_id": card.uid},
        "custom_fields": [_custom(key, label, value) for key, label, value in full],
        "actions": _actions(card.uid),
    }
    return _entity(url, card.uid, payload)


def restricted_error() -> dict[str, str]:
    """entity.presentDetails' error for a viewer who isn't staff: nothing about the customer."""
    return {
        "status": "restricted",
        "custom_title": RESTRICTED_TITLE,
        "custom_message": RESTRICTED_MESSAGE,
    }
