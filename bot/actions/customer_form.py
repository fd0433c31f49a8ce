"""Saving the Create Customer / Edit Contact form."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request, Submission
from bot.surfaces.customer_details import details_or_gone, show_details
from bot.surfaces.hub import render_hub, show_hub
from bot.views.blocks import modal, section
from bot.views.customer_form import (
    CALLBACK_ID,
    FIELDS,
    OPEN_MATCH_ACTION,
    EditConflict,
    FormMeta,
    confirmed_anyway,
    customer_form,
    match_errors,
    submitted_values,
    with_tags,
)
from bot.views.hub import HubState
from bot.views.notice import Notice
from bot.views.origin import DetailsState
from bot.views.payload import first_action
from bot.views.tabs import DetailsMeta
from bot.views.tags import TAGS_BLOCK, chosen_tags
from core.actor import Actor
from core.db import UnitOfWork
from core.errors import Conflict, DomainError, ValidationFailed
from core.security import hash_password
from core.services import customers, tags
from core.services.customers import CustomerInput, CustomerRecord, LaterHash, PossibleDuplicate

UID = re.compile(r"^[0-9A-Z]{1,16}$")


def _message_view(text: str) -> dict[str, Any]:
    return modal("Customer Records", [section(text)], callback_id="customer_form.message")


def _save(
    form: Submission[FormMeta], values: dict[str, str], *, anyway: bool
) -> tuple[CustomerRecord, LaterHash | None]:
    """The customer created or edited, with the tags chosen, in one transaction; and a new
    customer's password, still to be hashed."""
    meta = form.meta
    data = CustomerInput(**{field: values.get(field, "") for field in FIELDS})
    chosen = tags.clean_names(tags.split_tags(values.get(TAGS_BLOCK, "")))
    # Tags untouched in the form are left as they are now (someone may have changed them).
    untouched = {tags.tag_key(n) for n in chosen} == {tags.tag_key(n) for n in meta.tags}

    creating = meta.mode == "create"
    # Argon2 takes tens of milliseconds: a new customer's password is hashed once the form is
    # acknowledged (the welcome mail holds it meanwhile), an edited one before the unit of
    # work opens, so no database lock waits on it.
    later = customers.later_password(data) if creating else None
    prepared = None if creating else customers.prepare_password(form.request.actor, data)

    def save(uow: UnitOfWork, actor: Actor) -> CustomerRecord:
        if creating:
            record = customers.create_customer(
                uow, actor, data, duplicates_ok=anyway, prepared=later
            )
        else:
            record = customers.edit_contact(
                uow,
                actor,
                meta.uid,
                data,
                expected_version=meta.version,
                duplicates_ok=anyway,
                prepared=prepared,
            )
        if not untouched:
            tags.set_customer_tags(uow, actor, record.uid, chosen)
        return record

    return form.request.write(save), later


def _settle(request: Request, record: CustomerRecord, later: LaterHash | None) -> None:
    """Store a new customer's password hash, made now that the form has its answer."""
    if later is None:
        return
    digest = hash_password(later.plain)
    request.write(lambda uow, actor: customers.settle_password(uow, actor, record.uid, digest))


def _possible_duplicate(
    ack: Ack, form: Submission[FormMeta], values: dict[str, str], exc: PossibleDuplicate
) -> None:
    """Nothing saved: the first time, the form as typed with the matches, Open and the
    "anyway" checkbox (same block ids, so Slack keeps even the password typed); after that,
    each match under its field."""
    meta = form.meta
    if meta.warned:
        ack(response_action="errors", errors=match_errors(exc.matches, meta.mode))
        return
    request = form.request
    view = customer_form(
        meta.model_copy(update={"warned": True}),
        values,
        admin=request.actor.is_admin,
        matches=exc.matches,
    )
    ack(response_action="update", view=view)


def _conflict_form(
    form: Submission[FormMeta], values: dict[str, str], exc: Conflict
) -> dict[str, Any]:
    """The form again, as typed, saying who changed the record meanwhile."""
    uid = form.meta.uid
    latest = form.request.read(lambda uow, actor: customers.get_customer(uow, actor, uid))
    fresh = form.meta.model_copy(update={"version": latest.version})
    who = exc.changed_by or latest.updated_by
    when = exc.changed_at or latest.updated_at
    request = form.request
    conflict = EditConflict(who, when, request.timezone)
    return customer_form(fresh, values, conflict=conflict, admin=request.actor.is_admin)


def _show_saved(request: Request, meta: FormMeta, record: CustomerRecord, text: str) -> None:
    """The details the form was opened from (on the tab they showed), and the hub, refreshed."""
    if meta.origin.details_view_id:
        hub_origin = meta.origin.model_copy(
            update={"details_view_id": "", "details": DetailsState()}
        )
        details = DetailsMeta(uid=record.uid, state=meta.origin.details, origin=hub_origin)
        show_details(request, meta.origin.details_view_id, details)
    show_hub(request, meta.origin, notice=Notice(text))


def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Create or save: the customer, or the problems under their fields."""
    form = Submission.or_stale(FormMeta, view, context, client, ack, _message_view)
    if form is None:
        return
    values = with_tags(submitted_values(form.state), chosen_tags(form.state))
    try:
        record, later = _save(form, values, anyway=confirmed_anyway(form.state))
    except PossibleDuplicate as exc:
        _possible_duplicate(ack, form, values, exc)
        return
    except ValidationFailed as exc:
        errors = {field: msg for field, msg in exc.errors.items() if field in (*FIELDS, TAGS_BLOCK)}
        if errors:
            ack(response_action="errors", errors=errors)
        else:
            ack(response_action="update", view=_message_view(exc.message))
        return
    except Conflict as exc:
        ack(response_action="update", view=_conflict_form(form, values, exc))
        return
    except DomainError as exc:
        ack(response_action="update", view=_message_view(exc.message))
        return
    meta, request = form.meta, form.request
    if meta.mode == "create":
        text = f"Created {record.full_name}. Their portal login is on its way by email."
    else:
        text = f"Saved {record.full_name}'s contact details."
    if meta.origin.surface == "none" and not meta.origin.details_view_id:
        # Opened on its own (`/customers new`): no hub underneath would show the confirmation,
        # so the form itself becomes the hub, showing the customer just saved.
        state = HubState(q=record.email)
        hub = render_hub(request, state, home=False, notice=Notice(text))
        ack(response_action="update", view=hub)
        _settle(request, record, later)
        return
    ack()
    try:
        _show_saved(request, meta, record, text)
    finally:
        _settle(request, record, later)


def on_open_match(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Open on a possible match: their details over the form, which keeps what was typed."""
    ack()
    uid = str(first_action(body).get("value") or "")
    if not UID.match(uid):
        return
    request = Request.of(context, client)
    details = details_or_gone(request, DetailsMeta(uid=uid))
    client.views_push(trigger_id=str(body.get("trigger_id") or ""), view=details)


def register(app: App) -> None:
    """Wire the form's submission and Open on a possible match."""
    app.view(CALLBACK_ID)(on_submit)
    app.action(OPEN_MATCH_ACTION)(on_open_match)
