"""A studio's Stripe account through Stripe Connect OAuth: a single-use state binding the workspace
and the admin who started, finishing with the code Stripe sends back, and disconnecting.

Stripe is called with no unit of work open: the state is consumed and committed first, the
account recorded in a second short unit of work."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select

from core.actor import Actor
from core.adapters.payments import PaymentError
from core.adapters.stripe_connect import StripeConnect
from core.db import Transactions, UnitOfWork
from core.errors import DomainError, Forbidden
from core.models import StripeConnectState
from core.services.staff import resolve_actor
from core.services.stripe_account import (
    ADMINS_ONLY,
    connect_account,
    disconnect_stripe,
    stripe_status,
)
from core.services.workspaces import ensure_workspace

STATE_LIFETIME = timedelta(minutes=10)
START_AGAIN = "Press Connect with Stripe in the app's Home in Slack to start again."
UNKNOWN_STATE = f"This Stripe connection link was already used or is not one of ours. {START_AGAIN}"
EXPIRED_STATE = f"This Stripe connection link expired (they last 10 minutes). {START_AGAIN}"
NO_LONGER_ADMIN = (
    "Whoever started this connection is no longer an admin of the studio, so nothing was "
    "connected. An admin can press Connect with Stripe in the app's Home in Slack."
)


class ConnectRefused(DomainError):
    """The callback's state can't connect anything; `message` says why."""


@dataclass(frozen=True)
class Connected:
    """A studio's account, connected."""

    team_id: str
    account_id: str


@dataclass(frozen=True)
class _Claim:
    team_id: str
    user_id: str
    expired: bool
    admin: bool


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def start_connect(uow: UnitOfWork, actor: Actor) -> str:
    """A new state for the actor's workspace (kept hashed, expiring); expired ones are purged."""
    if not actor.is_admin:
        raise Forbidden(ADMINS_ONLY)
    now = uow.now()
    uow.session.execute(delete(StripeConnectState).where(StripeConnectState.expires_at <= now))
    ensure_workspace(uow, actor.team_id)
    state = secrets.token_urlsafe(32)
    uow.session.add(
        StripeConnectState(
            state_hash=_hash(state),
            team_id=actor.team_id,
            user_id=actor.user_id,
            expires_at=now + STATE_LIFETIME,
        )
    )
    return state


def _claim(uow: UnitOfWork, state: str) -> _Claim | None:
    """Consume `state`: what it binds, or None when it is unknown or used."""
    row = uow.session.scalar(
        select(StripeConnectState)
        .where(StripeConnectState.state_hash == _hash(state))
        .with_for_update()
    )
    if row is None:
        return None
    uow.session.delete(row)
    actor = resolve_actor(uow, row.team_id, row.user_id)
    return _Claim(
        row.team_id,
        row.user_id,
        expired=row.expires_at <= uow.now(),
        admin=actor is not None and actor.is_admin,
    )


def cancel_connect(db: Transactions, state: str) -> None:
    """Forget `state` (the admin declined on Stripe's page), so it can't be used later."""
    with db.unit_of_work() as uow:
        _claim(uow, state)


def finish_connect(db: Transactions, connect: StripeConnect, state: str, code: str) -> Connected:
    """Consume `state`, exchange `code` with Stripe and record the account for the state's
    workspace; ConnectRefused or PaymentError saying why nothing was connected."""
    with db.unit_of_work() as uow:
        claim = _claim(uow, state)
    if claim is None:
        raise ConnectRefused(UNKNOWN_STATE)
    if claim.expired:
        raise ConnectRefused(EXPIRED_STATE)
    if not claim.admin:
        raise ConnectRefused(NO_LONGER_ADMIN)
    account = connect.exchange(code)
    with db.unit_of_work() as uow:
        connect_account(uow, claim.team_id, claim.user_id, account)
    return Connected(claim.team_id, account)


def disconnect_studio(
    db: Transactions, actor: Actor, connect: StripeConnect | None
) -> tuple[bool, str]:
    """Forget the studio's Stripe account, first ending a Connect one with Stripe: whether all
    went well, and what to say. When Stripe can't end it, it is forgotten here all the same."""
    if not actor.is_admin:
        raise Forbidden(ADMINS_ONLY)
    with db.unit_of_work(readonly=True) as uow:
        status = stripe_status(uow, actor.team_id)
    problem = ""
    if status.source == "connect" and connect is not None:
        try:
            connect.deauthorize(status.hint)
        except PaymentError as exc:
            problem = exc.message
    with db.unit_of_work() as uow:
        done = disconnect_stripe(uow, actor)
    if not done:
        return False, "Stripe was not connected."
    if problem:
        return False, (
            f"Stripe disconnected here, but {problem} to end the connection, so Stripe may "
            f"still list it: remove it in account {status.hint}'s Stripe dashboard."
        )
    return True, "Stripe disconnected."
