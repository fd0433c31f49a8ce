"""Create Customer and Edit Contact modals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from bot.views.blocks import Block, button, clip, context, escape, form_modal, plain, section
from bot.views.inputs import TextField, input_block, text_input
from bot.views.origin import Origin
from bot.views.payload import read_metadata, typed_text
from bot.views.tags import TAGS_BLOCK, tags_input
from core.formatting import format_phone, format_when
from core.message_contacts import FoundContact
from core.models import TAG_MAX
from core.services.customers import CustomerRecord, PossibleMatch
from core.services.tags import TAGS_PER_CUSTOMER, join_tags, split_tags
from core.validation import EMAIL_MAX, NAME_MAX, PASSWORD_MAX

CALLBACK_ID = "customer_form.submit"
FIELDS = ("first_name", "last_name", "email", "mobile", "password")
MOBILE_MAX = 40
# Shown once a possible match was found: ticking it saves the customer anyway.
ANYWAY_BLOCK = "duplicate_ok"
ANYWAY_ACTION = "customer_form.duplicate_ok"
OPEN_MATCH_ACTION = "customer_form.open_match"


class FormMeta(BaseModel):
    """private_metadata of the form: what is being edited, from which version, opened from where."""

    mode: Literal["create", "edit"] = "create"
    uid: str = Field(default="", max_length=16)
    version: int = 0
    origin: Origin = Field(default_factory=Origin)
    # A possible match was shown, so the form carries the "Create anyway" checkbox.
    warned: bool = False
    # The tags the customer held when the form opened: left alone unless changed in it.
    tags: list[Annotated[str, Field(max_length=TAG_MAX)]] = Field(
        default_factory=list, max_length=TAGS_PER_CUSTOMER
    )

    @classmethod
    def parse(cls, raw: object) -> FormMeta | None:
        """None when the metadata is missing or not ours."""
        return read_metadata(cls, raw)


def action_id(field: str) -> str:
    """The action id of a form field's input element."""
    return f"customer_form.{field}"


CONTACT_FIELDS = (
    TextField("first_name", "First name", action_id("first_name"), max_length=NAME_MAX),
    TextField("last_name", "Last name", action_id("last_name"), max_length=NAME_MAX),
    TextField(
        "email",
        "Email",
        action_id("email"),
        placeholder="name@example.com",
        hint="Used to sign in to the customer portal.",
        max_length=EMAIL_MAX,
    ),
    TextField(
        "mobile",
        "Mobile",
        action_id("mobile"),
        placeholder="+44 7700 900123",
        hint="With country code; numbers without one are read as local to the business.",
        max_length=MOBILE_MAX,
    ),
)


def submitted_values(state_values: dict[str, Any]) -> dict[str, str]:
    """The typed text of each field from a view_submission's state (missing → '')."""
    return {field: typed_text(state_values, field, action_id(field)) for field in FIELDS}


def confirmed_anyway(state_values: dict[str, Any]) -> bool:
    """Whether "Create anyway" (or "Save anyway") is ticked."""
    block = state_values.get(ANYWAY_BLOCK)
    element = block.get(ANYWAY_ACTION) if isinstance(block, dict) else None
    chosen = element.get("selected_options") if isinstance(element, dict) else None
    return isinstance(chosen, list) and any(
        isinstance(o, dict) and o.get("value") == "yes" for o in chosen
    )


def _masked_email(email: str) -> str:
    local, _, host = email.partition("@")
    return f"{local}@…" if host else email


def match_text(match: PossibleMatch) -> str:
    """'Looks like Zoë Adams (zoe@…, +44 7700 900123, same mobile)': who and why, in brief."""
    who = match.customer
    archived = ", archived" if who.status.value == "archived" else ""
    why = ", ".join(item.value for item in match.evidence)
    return (
        f"Looks like {clip(who.full_name, 120)} ({_masked_email(clip(who.email, 80))}, "
        f"{format_phone(who.mobile)}{archived}; {why})"
    )


def anyway_label(mode: str) -> str:
    """The checkbox's words in a create or an edit form."""
    return "Create anyway" if mode == "create" else "Save anyway"


def match_errors(matches: list[PossibleMatch], mode: str) -> dict[str, str]:
    """`response_action: errors` for an unconfirmed save: each match under its field."""
    errors: dict[str, str] = {}
    for match in matches:
        errors.setdefault(
            match.field, f"{match_text(match)}. Open it, or tick {anyway_label(mode)}."
        )
    errors[ANYWAY_BLOCK] = f"Tick {anyway_label(mode)} if this is a different person."
    return errors


def _match_blocks(matches: list[PossibleMatch], meta: FormMeta) -> list[Block]:
    # Over the hub modal and a customer's details the form is Slack's third window, so their
    # details cannot open on top of it: it names the UID to look for instead of offering Open.
    stacked = meta.origin.surface == "modal" and bool(meta.origin.details_view_id)
    mode = meta.mode
    blocks: list[Block] = [
        section(
            f":warning: {escape(match_text(match))}. "
            + (f"Look up UID {match.customer.uid}" if stacked else "Open it")
            + f", or tick *{anyway_label(mode)}* and press *Save*.",
            accessory=None
            if stacked
            else button("Open", OPEN_MATCH_ACTION, value=match.customer.uid),
            block_id=f"match_{match.customer.uid}",
        )
        for match in matches
    ]
    blocks.append(_anyway_input(mode))
    return blocks


def _anyway_input(mode: str) -> Block:
    label = anyway_label(mode)
    element = {
        "type": "checkboxes",
        "action_id": ANYWAY_ACTION,
        "options": [
            {
                "text": plain(label, 75),
                "description": plain("They are a different person: keep both records.", 75),
                "value": "yes",
            }
        ],
    }
    return input_block(ANYWAY_BLOCK, "Possible duplicate", element, optional=True)


def record_values(customer: CustomerRecord) -> dict[str, str]:
    """A customer's current details as form values (password always blank); the mobile as the
    list and the details show it."""
    return {
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "email": customer.email,
        "mobile": format_phone(customer.mobile),
        "password": "",
    }


def found_values(found: FoundContact) -> dict[str, str]:
    """Form values from what a message held (blank where it held nothing)."""
    return {
        "first_name": found.first_name,
        "last_name": found.last_name,
        "email": found.email,
        "mobile": found.mobile,
    }


def prefill_note(found: FoundContact) -> str:
    """What the form says about the values a message filled in."""
    if not found.found:
        return "The message holds no email, mobile or name to fill in; type them below."
    what = ", ".join(found.found)
    text = f"Filled in from the message: {what}. Check them before saving."
    if found.name_from == "email":
        text += " The name is read from the email address: check its spelling."
    return text


def with_tags(values: dict[str, str], tags: list[str]) -> dict[str, str]:
    """Form values with the customer's tags (joined as the CSV joins them: no tag holds ';')."""
    return {**values, TAGS_BLOCK: join_tags(tags)}


def _inputs(values: dict[str, str], mode: str, *, admin: bool) -> list[Block]:
    contact = [text_input(field, values.get(field.block_id, "")) for field in CONTACT_FIELDS]
    contact.append(tags_input(split_tags(values.get(TAGS_BLOCK, ""))))
    if not admin:
        if mode == "create":
            return contact
        # Staff don't set passwords (whoever does knows it); a reset mails a new one.
        return [
            *contact,
            context("To give them a new password, use *Send password reset* on the Account tab."),
        ]
    password_hint = (
        "Optional. Leave blank to keep the current password, or type a new one to reset it."
        if mode == "edit"
        else "Optional. Leave blank and a strong password is generated and emailed to them."
    )
    password = TextField(
        "password",
        "Password",
        action_id("password"),
        hint=password_hint
        + " At least 8 characters with upper and lower case, a number and a special character.",
        optional=True,
        max_length=PASSWORD_MAX,
    )
    # Never prefilled: a password sent back in a view would be echoed through Slack.
    return [*contact, text_input(password)]


@dataclass(frozen=True)
class EditConflict:
    """Who saved the record after the form opened, when, and the studio's time zone."""

    who: str
    when: datetime
    timezone: str


def customer_form(
    meta: FormMeta,
    values: dict[str, str],
    *,
    conflict: EditConflict | None = None,
    admin: bool = False,
    intro: str = "",
    matches: list[PossibleMatch] | None = None,
) -> dict[str, Any]:
    """The form; `conflict` explains that someone else changed the record meanwhile;
    `matches` are customers it may duplicate (shown with Open and the "anyway" checkbox, as
    is the checkbox alone once `meta.warned`); only an `admin` is offered the password field;
    `intro` says where values came from."""
    blocks: list[Block] = [context(escape(intro))] if intro else []
    if conflict is not None:
        when = format_when(conflict.when, conflict.timezone)
        blocks.append(
            section(
                f":warning: <@{escape(conflict.who)}> changed this customer at {when}, "
                "after you opened this form. What you typed is kept below; check it against "
                "their changes and press *Save* again to overwrite."
                + (
                    " Type the new password again: it is not shown."
                    if values.get("password")
                    else ""
                )
            )
        )
    blocks.extend(_inputs(values, meta.mode, admin=admin))
    if matches:
        blocks.extend(_match_blocks(matches, meta))
    elif meta.warned:
        blocks.append(_anyway_input(meta.mode))
    if meta.mode == "create":
        blocks.append(context("The customer receives their portal login by email once saved."))
    title = "Create Customer" if meta.mode == "create" else "Edit Contact"
    return form_modal(title, blocks, meta, callback_id=CALLBACK_ID, submit="Save")
