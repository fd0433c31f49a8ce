"""Create Customer and Edit Contact modals."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from bot.views.blocks import Block, context, escape, form_modal, section
from bot.views.inputs import TextField, text_input
from bot.views.origin import Origin
from bot.views.payload import read_metadata, typed_text
from core.formatting import format_phone, format_when
from core.message_contacts import FoundContact
from core.services.customers import CustomerRecord
from core.validation import EMAIL_MAX, NAME_MAX, PASSWORD_MAX

CALLBACK_ID = "customer_form.submit"
FIELDS = ("first_name", "last_name", "email", "mobile", "password")
MOBILE_MAX = 40


class FormMeta(BaseModel):
    """private_metadata of the form: what is being edited, from which version, opened from where."""

    mode: Literal["create", "edit"] = "create"
    uid: str = Field(default="", max_length=16)
    version: int = 0
    origin: Origin = Field(default_factory=Origin)

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


def _inputs(values: dict[str, str], mode: str, *, admin: bool) -> list[Block]:
    contact = [text_input(field, values.get(field.block_id, "")) for field in CONTACT_FIELDS]
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


def customer_form(
    meta: FormMeta,
    values: dict[str, str],
    *,
    conflict: tuple[str, datetime] | None = None,
    timezone: str = "UTC",
    admin: bool = False,
    intro: str = "",
) -> dict[str, Any]:
    """The form; `conflict` (who, when) explains that someone else changed the record meanwhile;
    only an `admin` is offered the password field; `intro` says where values came from."""
    blocks: list[Block] = [context(escape(intro))] if intro else []
    if conflict is not None:
        who, when = conflict
        blocks.append(
            section(
                f":warning: <@{escape(who)}> changed this customer at {format_when(when, timezone)}, "
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
    if meta.mode == "create":
        blocks.append(context("The customer receives their portal login by email once saved."))
    title = "Create Customer" if meta.mode == "create" else "Edit Contact"
    return form_modal(title, blocks, meta, callback_id=CALLBACK_ID, submit="Save")
