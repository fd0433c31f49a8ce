"""Reading what a simulated person sees on a view: its text, the listed rows, tab counts."""

from __future__ import annotations

import re

from bot.local.blockkit import JSON, plain
from bot.views.tabs import TAB_NOUNS
from tests.slack.helpers import text_of


def listed(view: JSON) -> dict[str, str]:
    """The hub's customer rows: name → UID, top to bottom."""
    found: dict[str, str] = {}
    for block in view.get("blocks", []):
        block_id = str(block.get("block_id", ""))
        if block.get("type") == "actions" and block_id.startswith("row_"):
            found[block["elements"][0]["text"]["text"]] = block_id.removeprefix("row_")
    return found


def row_ids(view: JSON, prefix: str) -> set[int]:
    """Ids of a details tab's rows whose block_id is `prefix` + id ('booking_', 'pass_' …)."""
    ids: set[int] = set()
    for block in view.get("blocks", []):
        block_id = str(block.get("block_id", ""))
        if block_id.startswith(prefix) and block_id.removeprefix(prefix).isdigit():
            ids.add(int(block_id.removeprefix(prefix)))
    return ids


def row_text(view: JSON, block_id: str) -> str:
    """The text of one row section ('' when it is not shown)."""
    for block in view.get("blocks", []):
        if block.get("block_id") == block_id and block.get("type") == "section":
            return plain(str((block.get("text") or {}).get("text", "")))
    return ""


def tab_total(view: JSON, noun: str) -> int | None:
    """How many rows a details tab says it has ('1–4 of 4 bookings', '1 booking', 'no bookings
    yet'); `noun` is the plural, as the tab names it."""
    shown = text_of(view)
    match = re.search(rf"of ([\d,]+) {noun}\b", shown)
    if match:
        return int(match.group(1).replace(",", ""))
    one = next(single for single, many in TAB_NOUNS.values() if many == noun)
    if re.search(rf"· 1 {one}\b", shown):
        return 1
    if f"no {noun} yet" in shown.lower():
        return 0
    return None


def current_tab(view: JSON) -> str | None:
    """The label of the details tab shown (its button is styled primary)."""
    for block in view.get("blocks", []):
        if block.get("block_id") == "details_tabs":
            for element in block.get("elements", []):
                if element.get("style") == "primary":
                    return str(element["text"]["text"])
    return None


def refunded_shown(view: JSON, booking_id: int) -> int | None:
    """Minor units a booking row says were refunded (0 when it mentions none), None if unseen."""
    text = row_text(view, f"booking_{booking_id}")
    if not text:
        return None
    match = re.search(r"refunded £([\d,]+)\.(\d\d)", text)
    if not match:
        return 0
    return int(match.group(1).replace(",", "")) * 100 + int(match.group(2))
