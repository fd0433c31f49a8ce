"""The details' Household: open a linked person, Link someone (form, picker, save), Unlink."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot.context.request import Request, Submission
from bot.surfaces.customer_details import DetailsControl, show_details
from bot.views.household import (
    ADD_ACTION,
    CALLBACK_ID,
    MAX_CANDIDATES,
    OPEN_ACTION,
    PERSON_ACTION,
    PERSON_BLOCK,
    RELATION_BLOCK,
    UNLINK_ACTION,
    HouseholdMeta,
    link_form,
    person_options,
    submitted,
)
from bot.views.hub import SEARCH_MAX
from bot.views.notice import Notice
from bot.views.tabs import DetailsMeta
from core.errors import DomainError, ValidationFailed
from core.services import customers
from core.services.household import described, link_customers, unlink_customers

UID = re.compile(r"^[0-9A-Z]{1,16}$")


def on_open(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """A linked person: their details, in the same view."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is None or not UID.match(control.value):
        return
    control.show(DetailsMeta(uid=control.value, origin=control.details.origin))


def on_add(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Link someone: the form over the details."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is None:
        return
    uid = control.details.uid
    record = control.read(lambda uow, actor: customers.get_customer(uow, actor, uid))
    if record is None:
        return
    if record.anonymised_at is not None or record.merged_into_uid is not None:
        control.tell(f"{record.full_name}'s record takes no new links.")
        return
    meta = HouseholdMeta(view_id=control.view_id, details=control.details, name=record.full_name)
    control.push(link_form(meta))


def on_suggest(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The customers matching what is typed in the picker (never the customer themselves)."""
    meta = HouseholdMeta.parse((body.get("view") or {}).get("private_metadata"))
    if meta is None:
        ack(options=[])
        return
    typed = str(body.get("value") or "")[:SEARCH_MAX]
    found = Request.of(context, client).read(
        lambda uow, actor: customers.search_customers(uow, actor, typed, limit=MAX_CANDIDATES + 1)
    )
    ack(options=person_options(found, meta.details.uid))


def on_submit(ack: Ack, view: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Link: save the link, close the form, show the details with the household."""
    form = Submission.of(HouseholdMeta, view, context, client)
    if form is None:
        ack()
        return
    other, relation = submitted(form.state)
    errors = {PERSON_BLOCK: "Choose the person."} if not other else {}
    if relation is None:
        errors[RELATION_BLOCK] = "Choose what they are to each other."
    if errors or relation is None:
        ack(response_action="errors", errors=errors)
        return
    uid = form.meta.details.uid
    try:
        member = form.request.write(
            lambda uow, actor: link_customers(uow, actor, uid, other, relation)
        )
    except ValidationFailed as exc:
        ack(response_action="errors", errors={PERSON_BLOCK: " ".join(exc.errors.values())})
        return
    except DomainError as exc:
        ack(response_action="errors", errors={PERSON_BLOCK: exc.message})
        return
    ack()
    notice = Notice(f"Linked: {form.meta.name} is now {described(relation, member.name)}.", ok=True)
    show_details(form.request, form.meta.view_id, form.meta.details, notice=notice)


def on_unlink(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """Unlink (after Slack's confirm dialog): the person leaves this household."""
    ack()
    control = DetailsControl.of(body, context, client)
    if control is None or not UID.match(control.value):
        return
    uid, other = control.details.uid, control.value
    member = control.write(lambda uow, actor: unlink_customers(uow, actor, uid, other))
    if member is not None:
        control.tell(f"Unlinked {member.name}.", ok=True)


def register(app: App) -> None:
    """Wire the Household's buttons, the picker's suggestions and the form's submission."""
    app.action(OPEN_ACTION)(on_open)
    app.action(ADD_ACTION)(on_add)
    app.options(PERSON_ACTION)(on_suggest)
    app.view(CALLBACK_ID)(on_submit)
    app.action(UNLINK_ACTION)(on_unlink)
