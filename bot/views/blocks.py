"""Small builders for Block Kit dicts, so views read as layout rather than JSON."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

Block = dict[str, Any]

BUTTON_TEXT_MAX = 75
OPTION_TEXT_MAX = 75
SECTION_TEXT_MAX = 3000


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    """Cut `text` to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    """A plain_text object (emoji on), clipped to `limit`."""
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    """A mrkdwn text object, clipped to `limit`."""
    return {"type": "mrkdwn", "text": clip(text, limit) or " "}


def header(text: str) -> Block:
    """A header block (150 characters at most)."""
    return {"type": "header", "text": plain(text, 150)}


def section(
    text: str, *, accessory: dict[str, Any] | None = None, block_id: str | None = None
) -> Block:
    """A mrkdwn section, optionally with an accessory element."""
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if accessory is not None:
        block["accessory"] = accessory
    if block_id is not None:
        block["block_id"] = block_id
    return block


def warning(text: str, *, block_id: str | None = None) -> list[Block]:
    """A warning line, or none when `text` is empty."""
    return [section(f":warning: {escape(text)}", block_id=block_id)] if text else []


def fields(pairs: list[tuple[str, str]]) -> Block:
    """A section of label/value fields (Slack shows them in two columns)."""
    return {
        "type": "section",
        "fields": [mrkdwn(f"*{label}*\n{value}", 2000) for label, value in pairs[:10]],
    }


def context(*texts: str) -> Block:
    """Small grey text."""
    return {"type": "context", "elements": [mrkdwn(text) for text in texts[:10]]}


def divider() -> Block:
    """A horizontal rule."""
    return {"type": "divider"}


def actions(elements: list[dict[str, Any]], *, block_id: str | None = None) -> Block:
    """A row of interactive elements (at most 25)."""
    block: Block = {"type": "actions", "elements": elements[:25]}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def button(
    text: str,
    action_id: str,
    *,
    value: str | None = None,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """A button; `style` is 'primary' or 'danger'."""
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id,
    }
    if value is not None:
        element["value"] = value
    if style is not None:
        element["style"] = style
    if confirm is not None:
        element["confirm"] = confirm
    if url is not None:
        element["url"] = url
    return element


def option(text: str, value: str) -> dict[str, Any]:
    """An option for a menu or select."""
    return {"text": plain(text, OPTION_TEXT_MAX), "value": value}


def named_option(name: str, details: str, value: str) -> dict[str, Any]:
    """An option reading `name` then `details`; a long name is cut so the details always show."""
    return option(clip(name, max(8, OPTION_TEXT_MAX - len(details))) + details, value)


def overflow(action_id: str, options: list[dict[str, Any]]) -> dict[str, Any]:
    """The 'three dots' menu (1–5 options)."""
    return {"type": "overflow", "action_id": action_id, "options": options[:5]}


def modal(
    title: str,
    blocks: list[Block],
    *,
    callback_id: str,
    private_metadata: str = "",
    submit: str | None = None,
    close: str = "Close",
) -> dict[str, Any]:
    """A modal view (title, submit and close are clipped to Slack's 24 characters)."""
    view: dict[str, Any] = {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "close": plain(close, 24),
        "blocks": blocks,
        "private_metadata": private_metadata,
    }
    if submit is not None:
        view["submit"] = plain(submit, 24)
    return view


def form_modal(
    title: str,
    blocks: list[Block],
    meta: BaseModel,
    *,
    callback_id: str,
    submit: str,
    close: str = "Cancel",
) -> dict[str, Any]:
    """A modal to submit with `meta` as its private_metadata; `close` leaves things as they were."""
    return modal(
        title,
        blocks,
        callback_id=callback_id,
        private_metadata=meta.model_dump_json(),
        submit=submit,
        close=close,
    )
