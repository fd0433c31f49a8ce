"""Each studio's own Stripe account: the key an admin pasted (kept encrypted, shown masked) or
the account connected through Stripe Connect, its webhook signing secret, and which key a
request reaches Stripe with."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select

from core.actor import Actor
from core.adapters.payments import StripeAccess
from core.crypto import KEY_VARIABLE, TokenCipher, UnreadableSecret
from core.db import UnitOfWork
from core.errors import DomainError, Forbidden, ValidationFailed
from core.models import Workspace
from core.services.workspaces import audit_workspace, ensure_workspace

ADMINS_ONLY = "Only an admin can connect the studio's Stripe account."
STRIPE_CONNECTED = "stripe connected"
STRIPE_DISCONNECTED = "stripe disconnected"
KEY_MAX = 255
_KEY = re.compile(r"(sk|rk)_(test|live)_[A-Za-z0-9]{8,247}")
_WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9+/=]{8,200}")
_ACCOUNT = re.compile(r"acct_[A-Za-z0-9]{4,58}")
Source = Literal["own key", "connect", "deployment", "none"]


@dataclass(frozen=True)
class StripeStatus:
    """What Home shows of a studio's Stripe account; never the key itself."""

    source: Source
    hint: str = ""
    webhook_secret_set: bool = False
    connected_at: datetime | None = None


def _cipher(uow: UnitOfWork) -> TokenCipher:
    keys = uow.settings.token_keys
    if not keys:
        raise DomainError(
            f"Stripe keys are only stored encrypted, and {KEY_VARIABLE} is not set on the server; "
            "ask whoever runs it to set it, then try again."
        )
    return TokenCipher(keys)


def mask(key: str) -> str:
    """A key as shown to staff: its kind and mode, and its last four characters."""
    kind, _, rest = key.partition("_")
    mode, _, tail = rest.partition("_")
    return f"{kind}_{mode}_…{tail[-4:]}"


def _row(uow: UnitOfWork, team_id: str) -> Workspace | None:
    return uow.session.scalar(select(Workspace).where(Workspace.team_id == team_id))


def _deployment_default(uow: UnitOfWork) -> str | None:
    """STRIPE_API_KEY, which serves only a single-workspace deployment: with OAuth installs it
    would send every studio's money to one account."""
    settings = uow.settings
    if settings.oauth_enabled or settings.stripe_api_key is None:
        return None
    return settings.stripe_api_key.get_secret_value()


def stripe_access(uow: UnitOfWork, team_id: str) -> StripeAccess | None:
    """How workspace `team_id` reaches Stripe now; None when it has no account."""
    row = _row(uow, team_id)
    if row is not None and row.stripe_key:
        try:
            return StripeAccess(_cipher(uow).decrypt(row.stripe_key))
        except (UnreadableSecret, DomainError):
            # A dropped encryption key leaves the studio without Stripe, never on another's.
            return None
    platform = uow.settings.stripe_api_key
    if row is not None and row.stripe_account_id and platform is not None:
        return StripeAccess(platform.get_secret_value(), row.stripe_account_id)
    default = _deployment_default(uow)
    return StripeAccess(default) if default else None


def stripe_status(uow: UnitOfWork, team_id: str) -> StripeStatus:
    """How workspace `team_id` is connected to Stripe, for Home."""
    row = _row(uow, team_id)
    if row is not None and (row.stripe_key or row.stripe_account_id):
        source: Source = "own key" if row.stripe_key else "connect"
        hint = row.stripe_key_hint if row.stripe_key else row.stripe_account_id
        return StripeStatus(
            source, hint, row.stripe_webhook_secret is not None, row.stripe_connected_at
        )
    default = _deployment_default(uow)
    if default:
        return StripeStatus("deployment", mask(default))
    return StripeStatus("none")


def webhook_secret(uow: UnitOfWork, team_id: str) -> str | None:
    """The signing secret of `team_id`'s webhook endpoint; None when not set or unreadable."""
    row = _row(uow, team_id)
    if row is None or row.stripe_webhook_secret is None:
        return None
    try:
        return _cipher(uow).decrypt(row.stripe_webhook_secret)
    except (UnreadableSecret, DomainError):
        return None


def clean_stripe_form(key: str, secret: str, *, has_key: bool) -> tuple[str, str]:
    """The key and webhook secret typed, trimmed; ValidationFailed saying what to fix.

    Blank keeps what is stored (a key is required when none is)."""
    key, secret = key.strip(), secret.strip()
    errors = {}
    if not key and not has_key:
        errors["stripe_key"] = "Paste the studio's secret or restricted key from Stripe."
    elif key and not _KEY.fullmatch(key):
        errors["stripe_key"] = (
            "That is not a Stripe secret or restricted key: it starts with sk_live_, rk_live_ "
            "(or _test_ while trying things out). A publishable key (pk_…) can't take payments."
        )
    if secret and not _WEBHOOK_SECRET.fullmatch(secret):
        errors["webhook_secret"] = (
            "A webhook signing secret starts with whsec_; copy it from the endpoint in Stripe."  # noqa: S105
        )
    if errors:
        raise ValidationFailed(errors)
    return key, secret


def save_stripe_key(uow: UnitOfWork, actor: Actor, key: str, secret: str) -> str:
    """Store the studio's own key and webhook secret (blank: keep), encrypted; the key's hint.

    The caller has checked the key with Stripe first, holding no lock meanwhile."""
    if not actor.is_admin:
        raise Forbidden(ADMINS_ONLY)
    cipher = _cipher(uow)
    workspace = ensure_workspace(uow, actor.team_id)
    key, secret = clean_stripe_form(key, secret, has_key=workspace.stripe_key is not None)
    changed = []
    if key:
        workspace.stripe_key, workspace.stripe_key_hint = cipher.encrypt(key), mask(key)
        workspace.stripe_account_id, workspace.stripe_connected_at = "", uow.now()
        changed.append(f"key {mask(key)}")
    if secret:
        workspace.stripe_webhook_secret = cipher.encrypt(secret)
        changed.append("webhook signing secret")
    if changed:
        audit_workspace(uow, actor.team_id, actor.user_id, STRIPE_CONNECTED, ", ".join(changed))
    return workspace.stripe_key_hint


def connect_account(uow: UnitOfWork, team_id: str, user_id: str, account_id: str) -> None:
    """Record the account Stripe Connect linked for `team_id` (replacing any own key)."""
    if not _ACCOUNT.fullmatch(account_id):
        raise ValidationFailed(
            {"account": "Stripe answered with an account id this app can't use."}
        )
    workspace = ensure_workspace(uow, team_id)
    workspace.stripe_key, workspace.stripe_key_hint = None, ""
    workspace.stripe_account_id, workspace.stripe_connected_at = account_id, uow.now()
    audit_workspace(uow, team_id, user_id, STRIPE_CONNECTED, f"Stripe Connect account {account_id}")


def disconnect_stripe(uow: UnitOfWork, actor: Actor) -> bool:
    """Forget the studio's Stripe key, account and webhook secret; whether there was one."""
    if not actor.is_admin:
        raise Forbidden(ADMINS_ONLY)
    workspace = ensure_workspace(uow, actor.team_id)
    if not (workspace.stripe_key or workspace.stripe_account_id or workspace.stripe_webhook_secret):
        return False
    was = workspace.stripe_key_hint or workspace.stripe_account_id
    workspace.stripe_key = workspace.stripe_webhook_secret = None
    workspace.stripe_key_hint = workspace.stripe_account_id = ""
    workspace.stripe_connected_at = None
    audit_workspace(
        uow, actor.team_id, actor.user_id, STRIPE_DISCONNECTED, was or "webhook signing secret"
    )
    return True
