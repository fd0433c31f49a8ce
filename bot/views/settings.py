"""The studio's settings: the Home tab's Settings section and the admins' Settings modal."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from bot.views.blocks import (
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    escape,
    fields,
    form_modal,
    header,
    modal,
    option,
    section,
)
from bot.views.hub import HubState
from bot.views.inputs import (
    MAX_OPTIONS,
    TextField,
    external_select,
    input_block,
    radio_buttons,
    text_input,
)
from bot.views.payload import chosen_in, typed_text
from core.services.settings import (
    CREDIT_RULES,
    EMAIL_MAX,
    LABELS,
    NAME_MAX,
    SENDER_MAX,
    URL_MAX,
    StudioSettings,
    currencies,
    time_zones,
)

CALLBACK_ID = "settings.submit"
MESSAGE_CALLBACK_ID = "settings.message"
OPEN_ACTION = "settings.open"
SECTION_BLOCK = "settings_section"
# Each input's block_id is its StudioSettings field; its action_id is `settings.<field>`.
FIELDS = tuple(LABELS)
TEXT_FIELDS = {
    "name": TextField("name", LABELS["name"], "settings.name", max_length=NAME_MAX),
    "default_region": TextField(
        "default_region",
        LABELS["default_region"],
        "settings.default_region",
        placeholder="GB",
        hint="Phone numbers typed without a country code are read as this country's.",
        max_length=2,
    ),
    "portal_url": TextField(
        "portal_url",
        LABELS["portal_url"],
        "settings.portal_url",
        placeholder="https://portal.example.com/login",
        hint="Sent to customers in their welcome and password mails.",
        max_length=URL_MAX,
    ),
    "mail_sender_name": TextField(
        "mail_sender_name",
        LABELS["mail_sender_name"],
        "settings.mail_sender_name",
        hint="The name customers see mail from.",
        optional=True,
        max_length=SENDER_MAX,
    ),
    "mail_reply_to": TextField(
        "mail_reply_to",
        LABELS["mail_reply_to"],
        "settings.mail_reply_to",
        placeholder="desk@example.com",
        hint="Where customers' replies go; blank: to the sender address.",
        optional=True,
        max_length=EMAIL_MAX,
    ),
}
ZONE_ACTION = "settings.timezone"
CURRENCY_ACTION = "settings.currency"
CREDIT_RULE_ACTION = "settings.credit_rule"


class SettingsMeta(BaseModel):
    """private_metadata of the modal: the Home tab as it was, to redraw it after saving."""

    hub: HubState = Field(default_factory=HubState)


def _currency_label(code: str) -> str:
    names = dict(currencies())
    return f"{code} · {names[code]}" if code in names else code


def zone_options(typed: str) -> list[dict[str, Any]]:
    """The time zones whose name holds what was typed (spaces as underscores), at most 100."""
    wanted = typed.strip().lower().replace(" ", "_")
    found = [zone for zone in time_zones() if wanted in zone.lower()]
    return [option(zone, zone) for zone in found[:MAX_OPTIONS]]


def currency_options(typed: str) -> list[dict[str, Any]]:
    """The currencies whose code or name holds what was typed, at most 100."""
    wanted = typed.strip().lower()
    found = [code for code, name in currencies() if wanted in f"{code} {name}".lower()]
    return [option(_currency_label(code), code) for code in found[:MAX_OPTIONS]]


def _credit_rule_label(rule: str) -> str:
    return next((label for value, label in CREDIT_RULES.items() if value == rule), rule)


def _credit_rule(studio: StudioSettings) -> Block:
    choices = [option(label, value) for value, label in CREDIT_RULES.items()]
    element = radio_buttons(
        CREDIT_RULE_ACTION,
        choices,
        chosen=option(_credit_rule_label(studio.credit_rule), studio.credit_rule),
    )
    hint = (
        "At check-in: booking with a pass only checks a credit is there; the credit is taken "
        "when the booking is marked Attended, and a no-show takes none."
    )
    return input_block("credit_rule", LABELS["credit_rule"], element, hint=hint)


def _summary(studio: StudioSettings) -> list[tuple[str, str]]:
    shown = {
        **{label: getattr(studio, field) for field, label in LABELS.items()},
        LABELS["currency"]: _currency_label(studio.currency),
        LABELS["credit_rule"]: _credit_rule_label(studio.credit_rule),
    }
    return [(label, escape(clip(value, 200)) or "_not set_") for label, value in shown.items()]


def settings_section(studio: StudioSettings, *, admin: bool) -> list[Block]:
    """The Home tab's Settings section: the settings, and for admins the button to change them."""
    blocks: list[Block] = [divider(), header("Studio settings"), fields(_summary(studio))]
    if admin:
        edit = button("Settings", OPEN_ACTION, value="open")
        blocks.append(actions([edit], block_id=SECTION_BLOCK))
    else:
        blocks.append(context("Read only: your admins change these settings."))
    return blocks


def _select(studio: StudioSettings, field: str) -> Block:
    if field == "timezone":
        chosen, action_id = option(studio.timezone, studio.timezone), ZONE_ACTION
        hint = "Every date and time is shown in it; type a city, such as New York."
    else:
        chosen, action_id = (
            option(_currency_label(studio.currency), studio.currency),
            CURRENCY_ACTION,
        )
        hint = "Prices are asked for and shown in it; type a code or a name, such as euro."
    element = external_select(
        action_id, placeholder="Type to search", min_query_length=1, chosen=chosen
    )
    return input_block(field, LABELS[field], element, hint=hint)


def settings_modal(studio: StudioSettings, meta: SettingsMeta) -> dict[str, Any]:
    """The Settings modal, filled in with `studio`."""
    blocks = [
        text_input(TEXT_FIELDS[field], getattr(studio, field))
        if field in TEXT_FIELDS
        else _credit_rule(studio)
        if field == "credit_rule"
        else _select(studio, field)
        for field in FIELDS
    ]
    return form_modal(
        "Studio settings", blocks, meta, callback_id=CALLBACK_ID, submit="Save", close="Cancel"
    )


def submitted_settings(state: dict[str, Any]) -> StudioSettings:
    """What the modal's fields held when it was submitted."""
    values = {
        field: typed_text(state, field, f"settings.{field}")
        if field in TEXT_FIELDS
        else chosen_in(state, field, f"settings.{field}")
        for field in FIELDS
    }
    return StudioSettings(**values)


def settings_message(text: str) -> dict[str, Any]:
    """What replaces the modal when it can't be saved for a reason no field shows."""
    return modal("Studio settings", [section(text)], callback_id=MESSAGE_CALLBACK_ID)
