"""Channel alerts: what admins may ask to hear about, recording a happening with the change
that caused it, and folding a flood into one digest. Posting is the bot's (bot/surfaces/alerts.py);
core records and decides, and calls `Poster` between its short transactions."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select

from core.actor import Actor
from core.db import Transactions, UnitOfWork
from core.errors import Forbidden
from core.models import AlertEvent, AlertPost, AlertSubscription, Customer

CUSTOMER_CREATED = "customer_created"
BOOKING_MADE = "booking_made"
BOOKING_CANCELLED = "booking_cancelled"
REFUND = "refund"
PAYMENT_FAILED = "payment_failed"
SUBSCRIPTION_ENDED = "subscription_ended"
CREDITS_LOW = "pass_low"

# Each kind an admin can choose, as the alerts form lists it, and its plural in a digest.
KINDS: dict[str, tuple[str, str]] = {
    CUSTOMER_CREATED: ("New customer", "new customers"),
    BOOKING_MADE: ("Booking made", "bookings"),
    BOOKING_CANCELLED: ("Booking cancelled", "cancelled bookings"),
    REFUND: ("Refund", "refunds"),
    PAYMENT_FAILED: ("Failed or past-due payment", "failed or past-due payments"),
    SUBSCRIPTION_ENDED: ("Subscription paused or cancelled", "paused or cancelled subscriptions"),
    CREDITS_LOW: ("Pass nearly used up (one credit or none left)", "passes nearly used up"),
}

# More than FLOOD alerts of a kind within WINDOW in one channel fold into one digest.
FLOOD = 5
WINDOW = timedelta(minutes=10)
# A digest shows its newest lines; Slack refuses messages past 40,000 characters.
DIGEST_LINES = 30
TEXT_MAX = 300

ADMINS_ONLY = "Only an admin can set up channel alerts; ask an admin."


def record(uow: UnitOfWork, kind: str, customer: Customer, what: str) -> None:
    """Note `what` happened to `customer`, in the caller's transaction: the alert is kept
    exactly when the change is. Name and UID only; no contact details."""
    name = f"{customer.first_name} {customer.last_name}".strip() or "A customer"
    uow.session.add(
        AlertEvent(
            team_id=customer.team_id,
            kind=kind,
            customer_id=customer.id,
            text=f"{what}: {name} ({customer.uid})"[:TEXT_MAX],
            created_at=uow.now(),
        )
    )


@dataclass(frozen=True)
class ChannelAlerts:
    """One channel's alerts, as Home and the form show them."""

    channel_id: str
    kinds: tuple[str, ...]
    enabled_by: str
    paused_at: datetime | None
    pause_reason: str

    @property
    def paused(self) -> bool:
        """Alerts are held back here until an admin sets them up again."""
        return self.paused_at is not None


def _kinds(stored: str) -> tuple[str, ...]:
    chosen = set(stored.split(","))
    return tuple(kind for kind in KINDS if kind in chosen)


def _view(row: AlertSubscription) -> ChannelAlerts:
    return ChannelAlerts(
        row.channel_id, _kinds(row.kinds), row.enabled_by, row.paused_at, row.pause_reason
    )


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden(ADMINS_ONLY)


def _subscription(uow: UnitOfWork, team_id: str, channel_id: str) -> AlertSubscription | None:
    return uow.session.scalars(
        select(AlertSubscription).where(
            AlertSubscription.team_id == team_id, AlertSubscription.channel_id == channel_id
        )
    ).first()


def list_channel_alerts(uow: UnitOfWork, actor: Actor) -> list[ChannelAlerts]:
    """Every channel's alerts in the workspace (admins)."""
    _require_admin(actor)
    rows = uow.session.scalars(
        select(AlertSubscription)
        .where(AlertSubscription.team_id == actor.team_id)
        .order_by(AlertSubscription.id)
    )
    return [_view(row) for row in rows]


def channel_alerts(uow: UnitOfWork, actor: Actor, channel_id: str) -> ChannelAlerts | None:
    """One channel's alerts (admins); None when it has none."""
    _require_admin(actor)
    row = _subscription(uow, actor.team_id, channel_id)
    return _view(row) if row is not None else None


def set_channel_alerts(
    uow: UnitOfWork, actor: Actor, channel_id: str, kinds: Collection[str]
) -> ChannelAlerts | None:
    """Choose `channel_id`'s alerts (admins); none chosen removes them. Setting them up again
    resumes a paused channel: the caller has judged it all staff."""
    _require_admin(actor)
    chosen = [kind for kind in KINDS if kind in set(kinds)]
    row = _subscription(uow, actor.team_id, channel_id)
    if not chosen:
        if row is not None:
            uow.session.delete(row)
        return None
    if row is None:
        row = AlertSubscription(team_id=actor.team_id, channel_id=channel_id)
        uow.session.add(row)
    row.kinds = ",".join(chosen)
    row.enabled_by = actor.user_id
    row.enabled_at = uow.now()
    row.paused_at = None
    row.pause_reason = ""
    return _view(row)


def pause_channel(uow: UnitOfWork, team_id: str, channel_id: str, reason: str) -> str | None:
    """Hold back `channel_id`'s alerts for `reason`; the admin who enabled them, to be told,
    or None when it had none running."""
    row = _subscription(uow, team_id, channel_id)
    if row is None or row.paused_at is not None:
        return None
    row.paused_at = uow.now()
    row.pause_reason = reason[:300]
    return row.enabled_by


@dataclass(frozen=True)
class Claimed:
    """A happening taken for delivery, and the channels that asked for its kind."""

    id: int
    team_id: str
    kind: str
    text: str
    channel_ids: tuple[str, ...]


def claim_next(uow: UnitOfWork) -> Claimed | None:
    """Take the oldest undelivered happening; it counts as delivered from here on, so no
    other worker posts it again (a crash while posting loses it rather than doubling it)."""
    event = uow.session.scalars(
        select(AlertEvent)
        .where(AlertEvent.delivered_at.is_(None))
        .order_by(AlertEvent.id)
        .limit(1)
        # PostgreSQL: concurrent workers skip each other's rows; SQLite serialises writers.
        .with_for_update(skip_locked=True)
    ).first()
    if event is None:
        return None
    event.delivered_at = uow.now()
    rows = uow.session.scalars(
        select(AlertSubscription)
        .where(AlertSubscription.team_id == event.team_id, AlertSubscription.paused_at.is_(None))
        .order_by(AlertSubscription.id)
    )
    channels = tuple(row.channel_id for row in rows if event.kind in _kinds(row.kinds))
    return Claimed(event.id, event.team_id, event.kind, event.text, channels)


class PostFailed(Exception):
    """Slack refused a post or an update (its error code); the alert is dropped for that channel."""


class Poster(Protocol):
    """Posting into one channel: the bot's Web API calls, behind what core decides."""

    def post(self, text: str) -> str:
        """Post a new message; its ts. PostFailed when Slack refuses."""

    def update(self, ts: str, text: str) -> None:
        """Replace the message at `ts`. PostFailed when Slack refuses."""


def digest_text(kind: str, count: int, lines: list[str]) -> str:
    """A digest: how many more alerts of `kind` came within the window, newest last."""
    plural = KINDS[kind][1] if kind in KINDS else "alerts"
    shown = lines[-DIGEST_LINES:]
    more = "\n• …" if len(lines) > len(shown) else ""
    minutes = int(WINDOW.total_seconds() // 60)
    body = "\n".join(f"• {line}" for line in shown)
    return f"{count} more {plural} in the last {minutes} minutes:{more}\n{body}"


@dataclass(frozen=True)
class _Send:
    """One message to send: a new one (`ts` None, its `alert_posts` row reserved) or the digest
    at `ts` updated to show `folded` alerts."""

    post_id: int
    ts: str | None
    text: str
    folded: int


def _digest_send(post: AlertPost) -> _Send:
    lines = post.text.split("\n")
    return _Send(post.id, post.ts, digest_text(post.kind, post.folded, lines), post.folded)


def _plan(uow: UnitOfWork, team_id: str, channel_id: str, kind: str, text: str) -> _Send | None:
    """Decide, with the subscription row locked and no network call, what to send: the alert
    alone, a new digest, or the digest grown by one. None: nothing to send now."""
    row = uow.session.scalars(
        select(AlertSubscription)
        .where(AlertSubscription.team_id == team_id, AlertSubscription.channel_id == channel_id)
        .with_for_update()
    ).first()
    if row is None or row.paused_at is not None:
        return None  # removed or paused since the happening was claimed
    now = uow.now()
    recent = list(
        uow.session.scalars(
            select(AlertPost).where(
                AlertPost.team_id == team_id,
                AlertPost.channel_id == channel_id,
                AlertPost.kind == kind,
                AlertPost.posted_at > now - WINDOW,
            )
        )
    )
    digest = max((post for post in recent if post.folded), key=lambda p: p.id, default=None)
    alone = sum(1 for post in recent if post.folded == 0) < FLOOD
    if alone or digest is None:
        # ts "" until Slack answers: the reservation other workers see meanwhile.
        post = AlertPost(
            team_id=team_id,
            channel_id=channel_id,
            kind=kind,
            ts="",
            posted_at=now,
            folded=0 if alone else 1,
            text="" if alone else text,
        )
        uow.session.add(post)
        uow.session.flush()
        body = text if alone else digest_text(kind, 1, [text])
        return _Send(post.id, None, body, post.folded)
    digest.text = "\n".join([*digest.text.split("\n"), text][-DIGEST_LINES - 1 :])
    digest.folded += 1
    # A digest still being posted is brought up to date by its poster (`_sent`).
    return _digest_send(digest) if digest.ts else None


def _sent(uow: UnitOfWork, send: _Send, ts: str) -> _Send | None:
    """Record what Slack answered; the digest's newest text when it grew meanwhile (so workers
    updating it at once end on the latest count whatever order Slack applied them in)."""
    post = uow.session.get(AlertPost, send.post_id, with_for_update=True)
    if post is None:
        return None
    if not post.ts:
        post.ts = ts
    return _digest_send(post) if post.folded > send.folded else None


def _not_sent(uow: UnitOfWork, send: _Send) -> None:
    """Slack refused: a reserved message that was never posted is forgotten."""
    post = uow.session.get(AlertPost, send.post_id, with_for_update=True)
    if post is not None and not post.ts:
        uow.session.delete(post)


def deliver(
    db: Transactions, team_id: str, channel_id: str, kind: str, text: str, poster: Poster
) -> None:
    """Post `text` into `channel_id`, or fold it into the channel's digest for `kind` when more
    than FLOOD came within WINDOW. Decided in one short transaction and recorded in another,
    so no row stays locked while Slack answers. PostFailed when Slack refuses."""
    with db.unit_of_work() as uow:
        send = _plan(uow, team_id, channel_id, kind, text)
    while send is not None:
        try:
            if send.ts is None:
                ts = poster.post(send.text)
            else:
                poster.update(send.ts, send.text)
                ts = send.ts
        except PostFailed:
            with db.unit_of_work() as uow:
                _not_sent(uow, send)
            raise
        with db.unit_of_work() as uow:
            send = _sent(uow, send, ts)


def has_running_alerts(uow: UnitOfWork, team_id: str, channel_id: str) -> bool:
    """Whether `channel_id` has alerts set up and not paused."""
    row = _subscription(uow, team_id, channel_id)
    return row is not None and row.paused_at is None
