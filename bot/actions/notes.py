"""Notes on the details' Notes tab: Add, View, Edit (author or admin), Delete (confirmed)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.deps import actor_of, deps_of
from bot.surfaces.customer_details import details_of, first_action, show_details
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
from bot.views.payload import as_row_id, state_values
from core.errors import Conflict, DomainError, ValidationFailed
from core.services import notes

NOT_YOURS = "Only the note's author or an admin can edit it; ask them, or add a note of your own."


def _note_id(body: dict[str, Any]) -> int | None:
    return as_row_id(first_action(body).get("value"))


def register(app: App) -> None:
    """Wire the Notes tab's buttons and the note form."""

    @app.action(ADD_ACTION)
    def on_add(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        found = details_of(body)
        if found is None:
            return
        view_id, meta = found
        form = note_form(NoteFormMeta(view_id=view_id, details=meta))
        client.views_push(trigger_id=body["trigger_id"], view=form)

    @app.action(VIEW_ACTION)
    def on_view(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        found, note_id = details_of(body), _note_id(body)
        if found is None or note_id is None:
            return
        view_id, meta = found
        deps, actor = deps_of(context), actor_of(context)
        try:
            with deps.db.unit_of_work(readonly=True) as uow:
                note = notes.get_note(uow, actor, note_id, uid=meta.uid)
        except DomainError as exc:
            show_details(client, deps, actor, view_id, meta, notice=Notice(exc.message, ok=False))
            return
        view = note_view(note, timezone=deps.settings.business_timezone)
        client.views_push(trigger_id=body["trigger_id"], view=view)

    @app.action(EDIT_ACTION)
    def on_edit(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        found, note_id = details_of(body), _note_id(body)
        if found is None or note_id is None:
            return
        view_id, meta = found
        deps, actor = deps_of(context), actor_of(context)
        try:
            with deps.db.unit_of_work(readonly=True) as uow:
                note = notes.get_note(uow, actor, note_id, uid=meta.uid)
        except DomainError as exc:
            show_details(client, deps, actor, view_id, meta, notice=Notice(exc.message, ok=False))
            return
        # Said before the form opens, so nobody types an edit they can't save (the service
        # refuses it anyway).
        if not (actor.is_admin or note.author == actor.user_id):
            show_details(client, deps, actor, view_id, meta, notice=Notice(NOT_YOURS, ok=False))
            return
        form_meta = NoteFormMeta(
            view_id=view_id, details=meta, note_id=note.id, updated_at=note.updated_at
        )
        client.views_push(trigger_id=body["trigger_id"], view=note_form(form_meta, note.content))

    @app.action(DELETE_ACTION)
    def on_delete(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        ack()
        found, note_id = details_of(body), _note_id(body)
        if found is None or note_id is None:
            return
        view_id, meta = found
        deps, actor = deps_of(context), actor_of(context)
        try:
            with deps.db.unit_of_work() as uow:
                deleted = notes.delete_note(uow, actor, note_id, uid=meta.uid)
        except DomainError as exc:
            notice = Notice(exc.message, ok=False)
        else:
            notice = Notice(f"Deleted note #{deleted.id}.")
        show_details(client, deps, actor, view_id, meta, notice=notice)

    @app.view(FORM_CALLBACK)
    def on_save(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        meta = NoteFormMeta.parse(view.get("private_metadata"))
        if meta is None:
            ack()
            return
        deps, actor = deps_of(context), actor_of(context)
        content = submitted_content(state_values(view))
        uid = meta.details.uid
        try:
            with deps.db.unit_of_work() as uow:
                if meta.note_id is None:
                    note = notes.add_note(uow, actor, uid, content)
                else:
                    note = notes.edit_note(
                        uow,
                        actor,
                        meta.note_id,
                        content,
                        uid=uid,
                        expected_updated_at=meta.updated_at,
                    )
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
        show_details(client, deps, actor, meta.view_id, details, notice=Notice(text))
