"""The catalog on screen: Home's event modal opened to add or edit, archiving, and saving."""

from __future__ import annotations

from slack_bolt import Ack

from bot.context.request import Submission
from bot.surfaces.form_answers import saved_or_answered
from bot.surfaces.hub import HubControl, show_hub
from bot.surfaces.menus import admin_choice
from bot.views.catalog import (
    FIELDS,
    CatalogEventMeta,
    event_message,
    event_modal,
    submitted_event,
)
from bot.views.notice import Notice
from bot.views.origin import Origin
from core.errors import DomainError
from core.services.catalog_fields import ADMINS_ONLY
from core.services.events import (
    EventDraft,
    add_event,
    archive_event,
    edit_event,
    event_draft,
)


def open_add_event(control: HubControl) -> None:
    """Open the Add event modal over Home for an admin; tell anyone else why not."""
    if not control.request.actor.is_admin:
        control.tell(ADMINS_ONLY)
        return
    meta = CatalogEventMeta(hub=control.origin.hub)
    control.open(event_modal(EventDraft(), meta, control.request.timezone))


def event_menu(control: HubControl) -> None:
    """An event's menu on Home: Edit opens its modal, Archive archives it at once (admins)."""
    chosen = admin_choice(control, {"edit", "archive"})
    if chosen is None:
        return
    verb, occurrence_id = chosen
    try:
        if verb == "archive":
            title = control.request.write(
                lambda uow, actor: archive_event(uow, actor, occurrence_id)
            )
            control.tell(f"Archived {title}: its bookings stay; it can't be booked.", ok=True)
            return
        draft = control.request.read(lambda uow, actor: event_draft(uow, actor, occurrence_id))
    except DomainError as exc:
        control.tell(exc.message)
        return
    meta = CatalogEventMeta(hub=control.origin.hub, occurrence_id=occurrence_id)
    control.open(event_modal(draft, meta, control.request.timezone))


def save_event(ack: Ack, form: Submission[CatalogEventMeta]) -> None:
    """Add or change the event submitted and redraw Home, or answer the problems under the fields."""
    draft, occurrence_id = submitted_event(form.state), form.meta.occurrence_id

    def save() -> str:
        if occurrence_id:
            done = form.request.write(
                lambda uow, actor: edit_event(uow, actor, occurrence_id, draft)
            )
            return f"Saved {done}." if done else "Nothing changed."
        return f"Added {form.request.write(lambda uow, actor: add_event(uow, actor, draft))}."

    saved = saved_or_answered(ack, save, FIELDS, event_message)
    if saved is None:
        return
    ack()
    text = saved.value
    show_hub(form.request, Origin(surface="home", hub=form.meta.hub), notice=Notice(text, ok=True))
