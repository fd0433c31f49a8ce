"""Notes on the details' Notes tab: Add, View, Edit (author or admin), Delete (confirmed)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Submission
from bot.surfaces.customer_details import DetailsControl, show_details
from bot.views.notes import (
    ADD_ACTION,
    CONTENT_BLOCK,
    DELETE_ACTION,
    EDIT_ACTION,
    FORM_CALLBACK,
    VIEW_ACTION,
    NoteFormMeta,
    note_form,
    note_view,
    submitted_content,
)
from bot.views.notice import Notice
from bot.views.origin import Tab
from bot.views.payload import as_row_id
from core.errors import Conflict, DomainError, ValidationFailed
from core.services import notes
from core.services.notes import NoteRow

NOT_YOURS = "Only the note's author or an admin can edit it; ask them, or add a note of your own."


def _note(control: DetailsControl) -> NoteRow | None:
    """The note a row button is about; None after telling the details why it can't be had."""
    note_id, uid = as_row_id(control.value), control.details.uid
    if note_id is None:
        return None
    return control.read(lambda uow, actor: notes.get_note(uow, actor, note_id, uid=uid))


def on_add(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Add Note: an empty note form."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is not None:
        control.push(note_form(NoteFormMeta(view_id=control.view_id, details=control.details)))


def on_view(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """View: the whole note."""
    ack()
    control = DetailsControl.of(body, context, client)
    note = _note(control) if control else None
    if control is not None and note is not None:
        control.push(note_view(note, timezone=control.request.timezone))


def on_edit(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Edit: the note form, for its author or an admin."""
    ack()
    control = DetailsControl.of(body, context, client)
    note = _note(control) if control else None
    if control is None or note is None:
        return
    actor = control.request.actor
    # Said before the form opens, so nobody types an edit they can't save (the service
    # refuses it anyway).
    if not (actor.is_admin or note.author == actor.user_id):
        control.tell(NOT_YOURS)
        return
    meta = NoteFormMeta(
        view_id=control.view_id,
        details=control.details,
        note_id=note.id,
        updated_at=note.updated_at,
    )
    control.push(note_form(meta, note.content))


def on_delete(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Delete (after Slack's confirm dialog)."""
    ack()
    control = DetailsControl.of(body, context, client)
    note_id = as_row_id(control.value) if control else None
    if control is None or note_id is None:
        return
    uid = control.details.uid
    deleted = control.write(lambda uow, actor: notes.delete_note(uow, actor, note_id, uid=uid))
    if deleted is not None:
        control.tell(f"Deleted note #{deleted.id}.", ok=True)


def _save(form: Submission[NoteFormMeta], content: str) -> NoteRow:
    meta, uid = form.meta, form.meta.details.uid
    if meta.note_id is None:
        return form.request.write(lambda uow, actor: notes.add_note(uow, actor, uid, content))
    note_id = meta.note_id
    return form.request.write(
        lambda uow, actor: notes.edit_note(
            uow, actor, note_id, content, uid=uid, expected_updated_at=meta.updated_at
        )
    )


def on_save(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The note form's Save: add or edit, or say what to fix."""
    form = Submission.of(NoteFormMeta, view, context, client)
    if form is None:
        ack()
        return
    meta, content = form.meta, submitted_content(form.state)
    try:
        note = _save(form, content)
    except ValidationFailed as exc:
        ack(response_action="errors", errors={CONTENT_BLOCK: " ".join(exc.errors.values())})
        return
    except Conflict as exc:
        # Saving again overwrites their version; what was typed stays in the box.
        fresh = meta.model_copy(update={"updated_at": exc.changed_at})
        problem = exc.message + " Press Save again to replace it with yours."
        ack(response_action="update", view=note_form(fresh, content, problem=problem))
        return
    except DomainError as exc:
        ack(response_action="errors", errors={CONTENT_BLOCK: exc.message})
        return
    ack()
    if meta.note_id is None:
        details, text = meta.details.showing(Tab.NOTES), f"Added note #{note.id}."
    else:
        details, text = meta.details, f"Saved note #{note.id}."
    show_details(form.request, meta.view_id, details, notice=Notice(text))


def register(app: App) -> None:
    """Wire the Notes tab's buttons and the note form."""
    app.action(ADD_ACTION)(on_add)
    app.action(VIEW_ACTION)(on_view)
    app.action(EDIT_ACTION)(on_edit)
    app.action(DELETE_ACTION)(on_delete)
    app.view(FORM_CALLBACK)(on_save)
