"""A mail the server accepted is recorded as sent: after a database restart, and after a merge
dropped it while it was in flight; and it is never sent a second time."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from core.adapters.mail import SmtpTransport, deliver_due
from core.db import Database
from core.models import MailStatus, OutboxMail
from core.services import customers
from core.services.account import merge_customers
from core.services.customers import CustomerInput
from tests.conftest import make_settings
from tests.pg_cluster import PrivateCluster
from tests.slack.helpers import ADMIN_ACTOR
from tests.smtp_server import SmtpServer


class RestartAfterSending:
    """Sends over SMTP; once the server has the mail, stops the database and starts it again a
    second later, before the mail is recorded."""

    def __init__(self, smtp: SmtpServer, cluster: PrivateCluster) -> None:
        self.inner = SmtpTransport(smtp.url)
        self.cluster = cluster
        self.restart: threading.Timer | None = None

    def send(self, message: EmailMessage, accepted: Callable[[], None]) -> None:
        self.inner.send(message, lambda: self._restart_then(accepted))

    def _restart_then(self, accepted: Callable[[], None]) -> None:
        if self.restart is None:
            self.cluster.stop()
            self.restart = threading.Timer(1.0, self.cluster.start)
            self.restart.start()
        accepted()


@pytest.fixture
def cluster_db(cluster_url: str, running_cluster: PrivateCluster) -> Iterator[Database]:
    database = Database(make_settings(cluster_url))
    try:
        yield database
    finally:
        database.dispose()


def _customer(db: Database, first: str, email: str) -> str:
    """Create a customer (queuing their welcome mail); their UID."""
    data = CustomerInput(
        first_name=first, last_name="Lovelace", email=email, mobile="+447700900123"
    )
    with db.unit_of_work() as uow:
        return customers.create_customer(uow, ADMIN_ACTOR, data).uid


def _statuses(db: Database) -> list[MailStatus]:
    with db.unit_of_work(readonly=True) as uow:
        return list(uow.session.scalars(select(OutboxMail.status).order_by(OutboxMail.id)))


def test_a_mail_sent_as_the_database_stops_is_recorded_when_it_returns(
    cluster_db: Database, running_cluster: PrivateCluster
) -> None:
    db = cluster_db
    _customer(db, "Ada", "ada@example.com")
    with SmtpServer() as smtp:
        transport = RestartAfterSending(smtp, running_cluster)
        report = deliver_due(db, transport, limit=1)
        assert transport.restart is not None
        transport.restart.join()
        assert report.sent == 1
        assert _statuses(db) == [MailStatus.SENT]
        # Nothing is left to send again, now or once the lease would have run out.
        assert deliver_due(db, transport).handled == 0
        assert len(smtp.messages) == 1


class MergeWhileSending:
    """Sends over SMTP while an admin merges the mail's customer into another one."""

    def __init__(self, smtp: SmtpServer, db: Database, source: str, target: str) -> None:
        self.inner = SmtpTransport(smtp.url)
        self.merge = lambda: merge_customers_now(db, source, target)

    def send(self, message: EmailMessage, accepted: Callable[[], None]) -> None:
        self.merge()
        self.inner.send(message, accepted)


def merge_customers_now(db: Database, source: str, target: str) -> None:
    with db.unit_of_work() as uow:
        merge_customers(uow, ADMIN_ACTOR, source, target, reason="Same person")


def test_a_mail_in_flight_when_its_customer_is_merged_is_recorded_as_sent(db: Database) -> None:
    source = _customer(db, "Ada", "ada@example.com")
    target = _customer(db, "Augusta", "augusta@example.com")
    with SmtpServer() as smtp:
        report = deliver_due(db, MergeWhileSending(smtp, db, source, target), limit=1)
        (received,) = smtp.messages
    assert received.rcpt_tos == ["ada@example.com"]
    # The merge dropped the source's pending mail, but this one had already gone out.
    assert report.sent == 1
    assert _statuses(db) == [MailStatus.SENT, MailStatus.PENDING]
