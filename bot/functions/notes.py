"""The *Add note to customer* workflow step."""

from __future__ import annotations

from typing import Any

from slack_bolt import App, BoltContext, Complete, Fail
from slack_sdk import WebClient

from bot.surfaces.workflow_steps import Outputs, Step
from core.services.notes import NoteRow, add_note

ADD_NOTE = "add_customer_note"


def added(note: NoteRow) -> Outputs:
    """The note's number and its customer, for later steps."""
    return {"note_id": note.id, "customer_id": note.customer_uid}


def on_add_note(
    context: BoltContext, client: WebClient, body: dict[str, Any], complete: Complete, fail: Fail
) -> None:
    """Add note to customer: the note is the runner's, as if added on the Notes tab."""
    step = Step.of(context, client, body, complete, fail)
    uid, content = step.text("customer_id").upper(), step.text("note")
    step.run(lambda uow, actor: add_note(uow, actor, uid, content), added)


def register(app: App) -> None:
    """Wire Add note to customer."""
    app.function(ADD_NOTE)(on_add_note)
