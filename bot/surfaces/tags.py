"""Tags and marketing consent on screen: suggestions as typed, Edit tags and Marketing consent
over a customer's details, and the admins' Tags modal opened from Home."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from bot.context.request import Request, Submission
from bot.surfaces.customer_details import DetailsControl, show_details
from bot.surfaces.form_answers import saved_or_answered
from bot.surfaces.hub import HubControl
from bot.views.notice import Notice
from bot.views.tags import (
    ADMIN_TAG_BLOCK,
    CONSENT_SOURCE_BLOCK,
    CONSENT_STATE_BLOCK,
    NEW_NAME_BLOCK,
    TAGS_BLOCK,
    TARGET_BLOCK,
    ConsentFormMeta,
    TagsAdminMeta,
    TagsFormMeta,
    admin_choice,
    chosen_consent,
    chosen_tags,
    consent_form,
    consent_text,
    refused_modal,
    tag_options,
    tags_admin_modal,
    tags_form,
)
from core.errors import DomainError
from core.services import consent, customers, tags

# Longer than any tag: nothing longer can match.
TYPED_MAX = 60
ADMINS_ONLY = "Only an admin can rename or merge tags; ask an admin to do it."


def suggestions(request: Request, typed: str) -> list[dict[str, Any]]:
    """The picker's options for what is typed."""
    typed = typed[:TYPED_MAX]
    known = request.read(lambda uow, actor: tags.suggest_tags(uow, actor, typed))
    return tag_options(known, typed)


def open_tags_form(control: DetailsControl) -> None:
    """Edit tags pressed on the details: the small form over them."""
    uid = control.details.uid
    found = control.read(
        lambda uow, actor: (
            customers.get_customer(uow, actor, uid),
            tags.customer_tags(uow, actor, uid),
        )
    )
    if found is None:
        return
    record, held = found
    meta = TagsFormMeta(view_id=control.view_id, details=control.details)
    control.push(tags_form(meta, record.full_name, held))


def save_tags(ack: Ack, form: Submission[TagsFormMeta]) -> None:
    """Save the tags chosen, close the form and show them on the details."""
    meta, chosen = form.meta, chosen_tags(form.state)
    done = saved_or_answered(
        ack,
        lambda: form.request.write(
            lambda uow, actor: tags.set_customer_tags(uow, actor, meta.details.uid, chosen)
        ),
        {TAGS_BLOCK},
        refused_modal,
    )
    if done is None:
        return
    ack()
    held = done.value
    text = f"Tags saved: {tags.join_tags(held)}." if held else "Tags removed."
    show_details(form.request, meta.view_id, meta.details, notice=Notice(text, ok=True))


def open_consent_form(control: DetailsControl) -> None:
    """Change pressed beside Marketing consent: the small form over the details."""
    uid = control.details.uid
    record = control.read(lambda uow, actor: customers.get_customer(uow, actor, uid))
    if record is None:
        return
    meta = ConsentFormMeta(view_id=control.view_id, details=control.details)
    control.push(consent_form(meta, record.full_name, consent.consent_of(record)))


def save_consent(ack: Ack, form: Submission[ConsentFormMeta]) -> None:
    """Record the decision, close the form and show it on the details."""
    state, source = chosen_consent(form.state)
    if state is None or source is None:
        missing = CONSENT_STATE_BLOCK if state is None else CONSENT_SOURCE_BLOCK
        ack(response_action="errors", errors={missing: "Choose one."})
        return
    meta, request = form.meta, form.request
    done = saved_or_answered(
        ack,
        lambda: request.write(
            lambda uow, actor: consent.set_consent(uow, actor, meta.details.uid, state, source)
        ),
        {CONSENT_STATE_BLOCK, CONSENT_SOURCE_BLOCK},
        refused_modal,
    )
    if done is None:
        return
    ack()
    text = f"Marketing consent: {consent_text(done.value, request.timezone)}."
    show_details(request, meta.view_id, meta.details, notice=Notice(text, ok=True))


def open_tags_admin(control: HubControl) -> None:
    """Manage tags pressed on Home: the Tags modal for an admin; anyone else is told why not."""
    if not control.request.actor.is_admin:
        control.tell(ADMINS_ONLY)
        return
    listed = control.request.read(tags.list_tags)
    control.open(tags_admin_modal(listed))


def apply_tags_admin(ack: Ack, form: Submission[TagsAdminMeta]) -> None:
    """Rename or merge the chosen tag; the modal shows the tags afterwards, or the problems
    under their fields."""
    request = form.request
    if not request.actor.is_admin:
        ack(response_action="update", view=refused_modal(ADMINS_ONLY))
        return
    tag_id, do, new_name, target_id = admin_choice(form.state)
    if tag_id is None:
        ack(response_action="errors", errors={ADMIN_TAG_BLOCK: "Choose a tag."})
        return
    if do == "merge" and target_id is None:
        ack(response_action="errors", errors={TARGET_BLOCK: "Choose the tag to merge it into."})
        return
    try:
        if do == "merge" and target_id is not None:
            kept = request.write(lambda uow, actor: tags.merge_tags(uow, actor, tag_id, target_id))
            text = f"Merged into “{kept.name}”, now held by {kept.customers} customer(s)."
        else:
            kept = request.write(lambda uow, actor: tags.rename_tag(uow, actor, tag_id, new_name))
            text = f"Renamed to “{kept.name}”."
    except DomainError as exc:
        errors = getattr(exc, "errors", None) or {}
        fields = {ADMIN_TAG_BLOCK, NEW_NAME_BLOCK, TARGET_BLOCK}
        shown = {field: msg for field, msg in errors.items() if field in fields}
        if shown:
            ack(response_action="errors", errors=shown)
        else:
            ack(response_action="update", view=refused_modal(exc.message))
        return
    listed = request.read(tags.list_tags)
    ack(response_action="update", view=tags_admin_modal(listed, Notice(text, ok=True)))
