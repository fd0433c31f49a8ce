"""Add to customer notes (a message shortcut): the form, its customer picker, saving once."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.request import Request, Submission
from bot.views.hub import SEARCH_MAX
from bot.views.message_notes import (
    CALLBACK_ID,
    CONTENT_BLOCK,
    CUSTOMER_ACTION,
    CUSTOMER_BLOCK,
    MAX_CANDIDATES,
    SHORTCUT,
    MessageNoteMeta,
    customer_options,
    gone_view,
    message_note_form,
    saved_view,
    submitted,
)
from core.errors import DomainError, ValidationFailed
from core.message_contacts import plain_message
from core.models import NOTE_MAX
from core.services import customers, notes
from core.services.notes import MessageSource

log = logging.getLogger(__name__)


def _permalink(client: WebClient, channel: str, ts: str) -> str:
    """The message's permalink; '' when Slack gives none (a conversation the app can't see)."""
    try:
        return str(client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink") or "")
    except SlackApiError as exc:
        log.info("chat.getPermalink failed: %s", exc.response.get("error"))
        return ""


def on_shortcut(ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
    """The form, holding the message's text (cut to a note's length) and where it came from."""
    ack()
    message = shortcut.get("message") or {}
    channel = str((shortcut.get("channel") or {}).get("id") or "")
    ts = str(shortcut.get("message_ts") or message.get("ts") or "")
    meta = MessageNoteMeta(
        channel=channel[:32],
        ts=ts[:32],
        author=str(message.get("user") or "")[:32],
        permalink=_permalink(client, channel, ts)[:500],
    )
    text = plain_message(str(message.get("text") or "")).strip()
    cut_from = len(text) if len(text) > NOTE_MAX else 0
    form = message_note_form(meta, text[:NOTE_MAX], cut_from=cut_from)
    client.views_open(trigger_id=shortcut["trigger_id"], view=form)


def on_suggest(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The customers matching what is typed in the picker."""
    typed = str(body.get("value") or "")[:SEARCH_MAX]
    found = Request.of(context, client).read(
        lambda uow, actor: customers.search_customers(uow, actor, typed, limit=MAX_CANDIDATES)
    )
    ack(options=customer_options(found))


def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Save the note to the customer chosen, once per message and customer."""
    form = Submission.or_stale(MessageNoteMeta, view, context, client, ack, gone_view)
    if form is None:
        return
    uid, content = submitted(form.state)
    if not uid:
        ack(response_action="errors", errors={CUSTOMER_BLOCK: "Choose the customer."})
        return
    meta = form.meta
    source = MessageSource(meta.channel, meta.ts, meta.author, meta.permalink)
    try:
        saved = form.request.write(
            lambda uow, actor: notes.add_message_note(uow, actor, uid, content, source)
        )
    except ValidationFailed as exc:
        if "source" in exc.errors:
            ack(response_action="update", view=gone_view(exc.errors["source"]))
            return
        field = CONTENT_BLOCK if "content" in exc.errors else CUSTOMER_BLOCK
        ack(response_action="errors", errors={field: " ".join(exc.errors.values())})
        return
    except DomainError as exc:
        # No such customer (deleted meanwhile, or not of this workspace) or merged away.
        ack(response_action="errors", errors={CUSTOMER_BLOCK: exc.message})
        return
    ack(response_action="update", view=saved_view(saved))


def register(app: App) -> None:
    """Wire the shortcut, the picker's suggestions and the form's submission."""
    app.shortcut(SHORTCUT)(on_shortcut)
    app.options(CUSTOMER_ACTION)(on_suggest)
    app.view(CALLBACK_ID)(on_submit)
