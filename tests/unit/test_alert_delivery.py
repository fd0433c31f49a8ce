"""Delivering channel alerts: decided in one short transaction and recorded in another, so no
row is locked while Slack answers; a flood folds into one digest that ends on the latest count
whichever worker's update Slack applied last, and a refused post leaves nothing behind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from core.actor import Actor
from core.db import Database
from core.models import AlertPost
from core.services import alerts
from tests.unit.commerce_helpers import new_customers

CHANNEL = "CDESK"
KIND = alerts.CUSTOMER_CREATED


@dataclass
class Channel:
    """A channel's messages by ts, with a hook run while Slack is 'answering'."""

    messages: dict[str, str] = field(default_factory=dict)
    updates: list[tuple[str, str]] = field(default_factory=list)
    during: Callable[[], None] | None = None
    refuse: bool = False

    def post(self, text: str) -> str:
        self._answering()
        ts = f"{len(self.messages) + 1}.000"
        self.messages[ts] = text
        return ts

    def update(self, ts: str, text: str) -> None:
        self._answering()
        self.messages[ts] = text
        self.updates.append((ts, text))

    def _answering(self) -> None:
        if self.refuse:
            raise alerts.PostFailed("channel_not_found")
        hook, self.during = self.during, None
        if hook is not None:
            hook()


@pytest.fixture
def channel(db: Database, admin: Actor) -> Channel:
    new_customers(db, admin)  # the workspace's row comes with its first customer
    with db.unit_of_work() as uow:
        alerts.set_channel_alerts(uow, admin, CHANNEL, [KIND])
    return Channel()


def send(db: Database, admin: Actor, channel: Channel, n: int) -> None:
    alerts.deliver(db, admin.team_id, CHANNEL, KIND, f"New customer {n}", channel)


def send_racing(db: Database, admin: Actor, channel: Channel, *, sent: int) -> None:
    """`sent` alerts delivered one by one, then one more with the next delivered by another
    worker while Slack is still answering the first."""
    for n in range(1, sent + 1):
        send(db, admin, channel, n)
    channel.during = lambda: send(db, admin, channel, sent + 2)
    send(db, admin, channel, sent + 1)


def posts(db: Database) -> list[tuple[str, int]]:
    with db.unit_of_work(readonly=True) as uow:
        rows = uow.session.execute(select(AlertPost.ts, AlertPost.folded).order_by(AlertPost.id))
        return [(ts, folded) for ts, folded in rows]


def test_the_sixth_alert_starts_a_digest_and_the_seventh_updates_it(
    db: Database, admin: Actor, channel: Channel
) -> None:
    for n in range(1, 8):
        send(db, admin, channel, n)
    assert len(channel.messages) == 6
    assert channel.updates == [
        (
            "6.000",
            "2 more new customers in the last 10 minutes:\n• New customer 6\n• New customer 7",
        )
    ]
    assert posts(db)[-1] == ("6.000", 2)


def test_an_alert_arriving_while_slack_answers_is_not_blocked_and_not_lost(
    db: Database, admin: Actor, channel: Channel
) -> None:
    # While Slack posts the new digest, another worker delivers the next alert: it must not
    # wait on a lock (SQLite would stall here), and the digest's poster catches it up.
    send_racing(db, admin, channel, sent=5)
    digest = channel.messages["6.000"]
    assert digest.startswith("2 more new customers") and "New customer 7" in digest
    assert posts(db)[-1] == ("6.000", 2)


def test_updates_applied_out_of_order_end_on_the_latest_count(
    db: Database, admin: Actor, channel: Channel
) -> None:
    # The eighth alert's update lands while the seventh's is still on its way.
    send_racing(db, admin, channel, sent=6)
    assert channel.messages["6.000"].startswith("3 more new customers")
    assert [text[:6] for _ts, text in channel.updates] == ["3 more", "2 more", "3 more"]


def test_a_refused_post_leaves_no_reservation_behind(
    db: Database, admin: Actor, channel: Channel
) -> None:
    channel.refuse = True
    with pytest.raises(alerts.PostFailed, match="channel_not_found"):
        send(db, admin, channel, 1)
    assert posts(db) == []
    channel.refuse = False
    for n in range(2, 7):
        send(db, admin, channel, n)
    # Five posted: the refused one didn't count towards the flood.
    assert len(channel.messages) == 5 and channel.updates == []
