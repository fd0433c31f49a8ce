"""Account History on the Account tab: who did what and when, with before → after of edits."""

from __future__ import annotations

from typing import Any

from bot.views.blocks import SECTION_TEXT_MAX, Block, clip, escape, section
from bot.views.tabs import who
from core.formatting import NOTHING, format_phone, format_when
from core.services.account import HistoryRow

FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "mobile": "Mobile",
    "password": "Password",
    "status": "Status",
    "merged_into": "Merged into",
    "content": "Content",
    "state": "Status",
    "refund_state": "Refunded",
    "next_payment": "Next payment",
    "message_by": "From a message by",
    "message_link": "Message",
}
# Stored states as people say them, with the spec's name that the tabs show.
STATE_WORDS = {
    "manual": "paid another way (Manual)",
    "completed": "paid through Stripe (Completed)",
    "package": "paid with pass credits (Package)",
    "cancelled": "cancelled",
    "scheduled": "scheduled",
    "active": "active",
    "archived": "archived",
    "paused": "paused",
    "past_due": "past due (a payment failed)",
    "suspended": "suspended (ended for good)",
}
REFUND_WORDS = {"none": "nothing", "partial": "in part", "full": "in full"}
# Fields whose stored values are states, and the words for them.
WORDS = {"state": STATE_WORDS, "status": STATE_WORDS, "refund_state": REFUND_WORDS}
VALUE_MAX = 120
MAX_CHANGES = 12


def _value(field: str, value: Any) -> str:
    if value is None or value == "":
        return NOTHING
    text = str(value)
    if field == "mobile":
        text = format_phone(text)
    text = WORDS.get(field, {}).get(text, text)
    return escape(clip(" ".join(text.split()), VALUE_MAX))


def _sentence(action: str) -> str:
    """'subscription ended in Stripe' → 'Subscription ended in Stripe' (names keep their case)."""
    return action[:1].upper() + action[1:]


def _source(field: str, value: str) -> str:
    """A noted message's author as a mention and its permalink as a link (as core checked them)."""
    if field == "message_by":
        return who(value)
    if value.startswith("https://") and not set(value) & set("<>| "):
        return f"<{value}|open in Slack>"
    return escape(clip(value, VALUE_MAX))


def _change(field: str, values: Any) -> str:
    label = FIELD_LABELS.get(field, field[:1].upper() + field[1:])
    if field == "password":
        # Passwords are never shown, not even hashed: only that one was set.
        return "• Password changed"
    if field in {"message_by", "message_link"} and isinstance(values, list) and values[-1:]:
        return f"• {FIELD_LABELS[field]}: {_source(field, str(values[-1]))}"
    if isinstance(values, list) and len(values) == 2:
        before, after = values
        return f"• {escape(clip(label, 80))}: {_value(field, before)} → {_value(field, after)}"
    return f"• {escape(clip(label, 80))}: {_value(field, values)}"


def history_entry(entry: HistoryRow, *, uid: str, timezone: str) -> Block:
    """One entry: what, when and who, then each changed field and the detail."""
    lines = [
        f"*{_sentence(escape(clip(entry.action, 60)))}* · "
        f"{format_when(entry.created_at, timezone)} · by {who(entry.actor)}"
    ]
    changes = list(entry.changes.items())
    lines.extend(_change(field, values) for field, values in changes[:MAX_CHANGES])
    if len(changes) > MAX_CHANGES:
        lines.append(f"• …and {len(changes) - MAX_CHANGES} more changes")
    if entry.detail:
        lines.append(f"_{escape(clip(entry.detail, 600))}_")
    if entry.customer_uid != uid:
        lines.append(f"_Came with the merge of UID {escape(entry.customer_uid)}_")
    return section(clip("\n".join(lines), SECTION_TEXT_MAX), block_id=f"history_{entry.id}")
