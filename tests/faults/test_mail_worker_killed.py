"""A mail worker killed (SIGKILL) mid-send: the welcome mail still reaches the customer once.

Each worker is a real process (`customer-bot mail deliver`) sending to the local SMTP server,
which keeps one copy per Message-ID as mailbox providers do and counts every copy it accepts.
The server stalls at a chosen command, the test kills the worker there, and once the lease has
run out a new worker finishes the job.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from core.db import Database
from core.models import MailStatus, OutboxMail
from core.services import customers
from core.services.customers import CustomerInput
from tests.conftest import make_settings, reset_postgres
from tests.integration.server_process import app_env, running
from tests.slack.helpers import ADMIN_ACTOR
from tests.smtp_server import SmtpServer

PASSWORD = "Welcome-Pa55word!"
LEASE_SECONDS = 2
WORKER_SECONDS = 60.0
WORKER = ["mail", "deliver", "--loop", "--interval", "0.5"]


@pytest.fixture
def outbox_db(database_url: str) -> Iterator[Database]:
    """The database on the real clock, which the worker processes read too."""
    database = Database(make_settings(database_url))
    if database.dialect == "postgresql":
        reset_postgres(database)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer(dedupe=True) as server:
        yield server


def _welcome_mail(db: Database) -> int:
    """Create a customer, queuing their welcome mail; the mail's id."""
    data = CustomerInput(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@example.com",
        mobile="+447700900123",
        password=PASSWORD,
    )
    with db.unit_of_work() as uow:
        customers.create_customer(uow, ADMIN_ACTOR, data)
        return uow.session.scalars(select(OutboxMail.id)).one()


def _row(db: Database) -> tuple[MailStatus, int, datetime]:
    with db.unit_of_work(readonly=True) as uow:
        mail = uow.session.scalars(select(OutboxMail)).one()
        return mail.status, mail.attempts, mail.next_attempt_at


def _env(db: Database, smtp: SmtpServer) -> dict[str, str]:
    return app_env(
        DATABASE_URL=db.url,
        SMTP_URL=smtp.url,
        MAIL_FROM="Studio <studio@example.test>",
        MAIL_LEASE_SECONDS=str(LEASE_SECONDS),
        LOG_LEVEL="INFO",
    )


def _kill(worker: subprocess.Popen[bytes]) -> None:
    worker.kill()  # SIGKILL: no handler, no clean-up, as an OOM kill or a lost machine
    worker.wait(WORKER_SECONDS)


@contextmanager
def _row_held(db: Database, mail_id: int) -> Iterator[None]:
    """Hold the mail's row (PostgreSQL) or the database (SQLite) locked: no worker can record
    an outcome meanwhile, and taking it waits for whoever holds it or queued for it first."""
    with db.engine.begin() as conn:
        conn.execute(
            update(OutboxMail).where(OutboxMail.id == mail_id).values(attempts=OutboxMail.attempts)
        )
        yield


def _after_lease(db: Database) -> None:
    """Wait until the lease of the attempt under way has run out."""
    _, _, lease_ends = _row(db)
    time.sleep(max(0.0, (lease_ends - datetime.now(UTC)).total_seconds()) + 0.1)


def _deliver_once(db: Database, smtp: SmtpServer, log: Path) -> str:
    """Run a new worker that delivers what is due and exits; its output."""
    with running(["mail", "deliver"], _env(db, smtp), log) as worker:
        assert worker.wait(WORKER_SECONDS) == 0, log.read_text()
    return log.read_text()


def _assert_one_message(smtp: SmtpServer) -> None:
    """The customer has exactly one welcome mail, carrying the password they were given."""
    [received] = smtp.messages
    assert received.rcpt_tos == ["ada@example.com"]
    assert f"Password: {PASSWORD}\n" in received.body
    assert {copy.message["Message-ID"] for copy in smtp.transmissions} == {
        received.message["Message-ID"]
    }


@pytest.mark.parametrize("command", ["RCPT", "DATA"])
def test_a_worker_killed_before_the_server_accepts_the_mail(
    outbox_db: Database, smtp: SmtpServer, tmp_path: Path, command: str
) -> None:
    db = outbox_db
    _welcome_mail(db)
    stall = smtp.stall_at(command)
    with running(WORKER, _env(db, smtp), tmp_path / "first.log") as first:
        stall.wait_reached()
        _kill(first)
    status, attempts, _ = _row(db)
    assert (status, attempts) == (MailStatus.SENDING, 1)
    assert smtp.transmissions == []

    _after_lease(db)
    output = _deliver_once(db, smtp, tmp_path / "second.log")

    assert "Mail: 1 sent" in output
    assert "attempt 1 left no outcome" in output
    _assert_one_message(smtp)
    assert len(smtp.transmissions) == 1
    assert _row(db)[:2] == (MailStatus.SENT, 2)


def test_a_worker_killed_after_the_server_accepted_the_mail_but_before_recording_it(
    outbox_db: Database, smtp: SmtpServer, tmp_path: Path
) -> None:
    db = outbox_db
    mail_id = _welcome_mail(db)
    stall = smtp.stall_at("DATA")
    with running(WORKER, _env(db, smtp), tmp_path / "first.log") as first:
        stall.wait_reached()
        with _row_held(db, mail_id):
            stall.release()
            smtp.wait_for(1)  # accepted: the worker now waits to record it
            _kill(first)
        with _row_held(db, mail_id):
            pass  # the dead worker's queued statement is gone
    status, attempts, _ = _row(db)
    assert (status, attempts) == (MailStatus.SENDING, 1)

    _after_lease(db)
    output = _deliver_once(db, smtp, tmp_path / "second.log")

    # Sent twice, the same message both times: the customer's mailbox keeps one.
    assert "Mail: 1 sent" in output
    first_copy, second_copy = smtp.transmissions
    assert second_copy.body == first_copy.body
    _assert_one_message(smtp)
    assert _row(db)[:2] == (MailStatus.SENT, 2)


def test_a_worker_killed_while_the_server_is_slow_to_say_goodbye(
    outbox_db: Database, smtp: SmtpServer, tmp_path: Path
) -> None:
    db = outbox_db
    _welcome_mail(db)
    stall = smtp.stall_at("QUIT")
    with running(WORKER, _env(db, smtp), tmp_path / "first.log") as first:
        stall.wait_reached()
        # Recorded before QUIT: there is no window left for a kill to cause a resend.
        assert _row(db)[:2] == (MailStatus.SENT, 1)
        _kill(first)

    _after_lease(db)
    assert "No mail was due." in _deliver_once(db, smtp, tmp_path / "second.log")
    _assert_one_message(smtp)
    assert len(smtp.transmissions) == 1
