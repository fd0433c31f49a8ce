"""A studio's own settings (name, time zone, currency, phone region, portal, mail sender, when a
pass credit is used): read with the actor once per request, changed by admins with every change
audited."""

from __future__ import annotations

import dataclasses
import unicodedata
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

import phonenumbers
from babel.numbers import get_currency_name, is_currency, list_currencies
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import and_, bindparam, select

from core.actor import Actor
from core.config import Settings
from core.db import UnitOfWork
from core.errors import Forbidden, ValidationFailed
from core.models import CreditRule, Role, StaffMember, Workspace
from core.services.staff import resolve_actor
from core.services.workspaces import audit_workspace, ensure_workspace
from core.text import squeeze

SETTINGS_CHANGED = "settings changed"
NAME_MAX = 200
SENDER_MAX = 100
URL_MAX = 500
EMAIL_MAX = 254
# What each field is called when a change is audited or refused.
LABELS = {
    "name": "Business name",
    "timezone": "Time zone",
    "currency": "Currency",
    "default_region": "Phone region",
    "portal_url": "Portal login URL",
    "mail_sender_name": "Mail sender name",
    "mail_reply_to": "Reply-to address",
    "credit_rule": "Pass credit used",
}
# How each credit rule is named on screen and in the audit.
CREDIT_RULES = {
    CreditRule.AT_BOOKING: "At booking",
    CreditRule.AT_CHECK_IN: "At check-in (when marked Attended)",
}


@dataclass(frozen=True)
class StudioSettings:
    """What a workspace shows and sends under: every date, price, phone number and mail."""

    name: str
    timezone: str
    currency: str
    default_region: str
    portal_url: str
    mail_sender_name: str
    mail_reply_to: str
    # A CreditRule value; a plain string until `clean_settings` has checked it.
    credit_rule: str = CreditRule.AT_BOOKING

    @property
    def credits_at_check_in(self) -> bool:
        """Whether a booking paid with a pass takes its credit only when marked Attended."""
        return self.credit_rule == CreditRule.AT_CHECK_IN

    @classmethod
    def defaults(cls, settings: Settings, name: str = "") -> StudioSettings:
        """A workspace not yet stored: the deployment's defaults for new workspaces."""
        return cls(name=name, **settings.workspace_defaults())


_COLUMNS = tuple(getattr(Workspace, field.name) for field in dataclasses.fields(StudioSettings))
# Built once: every interaction runs it, and building it costs more than running it.
_ACTOR_AND_SETTINGS = (
    select(*_COLUMNS, StaffMember.role)
    .select_from(Workspace)
    .outerjoin(
        StaffMember,
        and_(
            StaffMember.team_id == Workspace.team_id,
            StaffMember.slack_user_id == bindparam("user_id"),
        ),
    )
    .where(Workspace.team_id == bindparam("team_id"))
)


def studio_settings(uow: UnitOfWork, team_id: str) -> StudioSettings:
    """The settings of `team_id` (the defaults until its row exists)."""
    row = uow.session.execute(select(*_COLUMNS).where(Workspace.team_id == team_id)).first()
    return StudioSettings(*row) if row is not None else StudioSettings.defaults(uow.settings)


def resolve_with_settings(
    uow: UnitOfWork, team_id: str, user_id: str
) -> tuple[Actor | None, StudioSettings]:
    """`resolve_actor` and the workspace's settings in one query (two for a new workspace)."""
    row = uow.session.execute(_ACTOR_AND_SETTINGS, {"team_id": team_id, "user_id": user_id}).first()
    if row is None:
        return resolve_actor(uow, team_id, user_id), StudioSettings.defaults(uow.settings)
    *values, role = row
    if user_id in uow.settings.configured_admins(team_id):
        role = Role.ADMIN
    actor = Actor(team_id=team_id, user_id=user_id, role=role) if role is not None else None
    return actor, StudioSettings(*values)


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA time zone name this system knows, sorted."""
    return tuple(sorted(available_timezones()))


@cache
def currencies() -> tuple[tuple[str, str], ...]:
    """Every ISO 4217 code Babel knows with its English name, sorted by code."""
    return tuple((code, get_currency_name(code, locale="en")) for code in sorted(list_currencies()))


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co"} for ch in text)


def _text(value: str, label: str, limit: int, *, required: bool) -> str | None:
    if required and not value:
        return f"Enter the {label.lower()}."
    if len(value) > limit:
        return f"{label} can be at most {limit} characters (this has {len(value)})."
    if _has_control(value):
        return f"{label} contains invisible control characters; retype it."
    return None


def _url(value: str) -> str | None:
    if len(value) > URL_MAX:
        return f"The portal URL can be at most {URL_MAX} characters."
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or _has_control(value) or " " in value:
        return "Enter the portal's https address, like https://portal.example.com/login."
    return None


def _reply_to(value: str) -> tuple[str, str | None]:
    if not value:
        return value, None
    if len(value) > EMAIL_MAX:
        return value, f"An email address can be at most {EMAIL_MAX} characters."
    try:
        return validate_email(value, check_deliverability=False).normalized, None
    except EmailNotValidError as exc:
        reason = " ".join(str(exc).split()).rstrip(".")
        return value, f"Enter a valid email address like desk@example.com ({reason})."


def clean_settings(raw: StudioSettings) -> StudioSettings:
    """`raw` trimmed and normalised; ValidationFailed names each invalid field."""
    name, sender = squeeze(raw.name), squeeze(raw.mail_sender_name)
    currency, region = raw.currency.strip().upper(), raw.default_region.strip().upper()
    portal_url = raw.portal_url.strip()
    reply_to, reply_error = _reply_to(raw.mail_reply_to.strip())
    errors = {
        "name": _text(name, LABELS["name"], NAME_MAX, required=True),
        "timezone": None
        if raw.timezone in time_zones()
        else "Choose a time zone from the list, such as Europe/London.",
        "currency": None
        if len(currency) == 3 and is_currency(currency)
        else "Choose an ISO 4217 currency, such as GBP.",
        "default_region": None
        if region in phonenumbers.SUPPORTED_REGIONS
        else "Enter a two-letter country code that phone numbers use, such as GB or US.",
        "portal_url": _url(portal_url),
        "mail_sender_name": _text(sender, LABELS["mail_sender_name"], SENDER_MAX, required=False),
        "mail_reply_to": reply_error,
        "credit_rule": None
        if raw.credit_rule in set(CreditRule)
        else "Choose when a pass credit is used: at booking or at check-in.",
    }
    problems = {field: message for field, message in errors.items() if message}
    if problems:
        raise ValidationFailed(problems)
    rule = CreditRule(raw.credit_rule)
    return StudioSettings(name, raw.timezone, currency, region, portal_url, sender, reply_to, rule)


def _shown(field: str, value: str) -> str:
    if field == "credit_rule":
        return CREDIT_RULES[CreditRule(value)]
    return value or "(none)"


def change_settings(
    uow: UnitOfWork, actor: Actor, wanted: StudioSettings
) -> tuple[StudioSettings, list[str]]:
    """Store `wanted` (validated) as the actor's workspace's settings, auditing what changed;
    the settings stored, and the labels of the fields that changed."""
    if not actor.is_admin:
        raise Forbidden("Only an admin can change the studio settings.")
    clean = clean_settings(wanted)
    workspace = ensure_workspace(uow, actor.team_id)
    changes = []
    for field in dataclasses.fields(StudioSettings):
        before, after = getattr(workspace, field.name), getattr(clean, field.name)
        if before != after:
            shown = f"{_shown(field.name, before)} → {_shown(field.name, after)}"
            changes.append(f"{LABELS[field.name]}: {shown}")
            setattr(workspace, field.name, after)
    if changes:
        audit_workspace(uow, actor.team_id, actor.user_id, SETTINGS_CHANGED, "; ".join(changes))
    return clean, [change.partition(":")[0] for change in changes]
