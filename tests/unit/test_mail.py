"""The welcome mail, end to end against a real SMTP server on loopback, on both databases."""

# ruff: noqa: F811 - tests take the imported `smtp_server` fixture as a parameter

from __future__ import annotations

import logging
import smtplib
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from core.actor import Actor
from core.adapters.mail import (
    FIRST_RETRY,
    MAX_ATTEMPTS,
    PASSWORD_RESET,
    STEPS_PER_SEND,
    DeliveryReport,
    OutboxWorker,
    SmtpTransport,
    deliver_due,
    lease,
    record_patience,
    transport_from_settings,
)
from core.db import Database
from core.models import Customer, HistoryEntry, MailStatus, OutboxMail
from core.security import verify_password
from core.services.customers import (
    CustomerInput,
    CustomerRecord,
    LaterHash,
    create_customer,
    delete_customer,
    edit_contact,
    get_customer,
    send_password_reset,
)
from core.services.settings import change_settings, studio_settings
from tests.conftest import MutableClock, make_settings
from tests.smtp_server import SERVER_LOGGER, SmtpServer, smtp_server  # noqa: F401 - a fixture

PASSWORD = "Welcome-Pa55word!"
NEW_PASSWORD = "Changed-Pa55word!"
PORTAL = "https://portal.test/login"  # set by conftest.make_settings
MAIL_FROM = "Studio <studio@example.test>"  # set by conftest.make_settings


def _create(
    db: Database, actor: Actor, email: str = "zoe@example.com", password: str = PASSWORD
) -> CustomerRecord:
    with db.unit_of_work() as uow:
        return create_customer(
            uow,
            actor,
            CustomerInput(
                first_name="Zoë",
                last_name="Åberg",
                email=email,
                mobile="07700 900123",
                password=password,
            ),
        )


def _edit(db: Database, actor: Actor, uid: str, **changes: str) -> None:
    with db.unit_of_work() as uow:
        current = get_customer(uow, actor, uid)
        fields = {
            "first_name": current.first_name,
            "last_name": current.last_name,
            "email": current.email,
            "mobile": current.mobile,
        }
        data = CustomerInput(**(fields | changes))
        edit_contact(uow, actor, uid, data, expected_version=current.version)


def _outbox(db: Database) -> list[OutboxMail]:
    with db.unit_of_work(readonly=True) as uow:
        mails = list(uow.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))
        uow.session.expunge_all()  # keep them readable after the read-only rollback
        return mails


def _only_mail(db: Database) -> OutboxMail:
    [mail] = _outbox(db)
    return mail


def _history(db: Database, uid: str) -> list[HistoryEntry]:
    with db.unit_of_work(readonly=True) as uow:
        query = select(HistoryEntry).where(HistoryEntry.customer_uid == uid)
        entries = list(uow.session.scalars(query.order_by(HistoryEntry.id)))
        uow.session.expunge_all()  # keep them readable after the read-only rollback
        return entries


def _actions(db: Database, uid: str) -> list[str]:
    return [entry.action for entry in _history(db, uid)]


def _mail_entry(db: Database, uid: str, action: str) -> HistoryEntry:
    [entry] = [entry for entry in _history(db, uid) if entry.action == action]
    return entry


def _app_log(caplog: pytest.LogCaptureFixture) -> str:
    """Everything logged except the test SMTP server's own transcript, tracebacks included."""
    formatter = logging.Formatter()
    return "\n".join(formatter.format(r) for r in caplog.records if r.name != SERVER_LOGGER)


def _assert_secret_nowhere(db: Database, secret: str, caplog: pytest.LogCaptureFixture) -> None:
    """Outside the delivered mail, the secret is in no log line, history entry or outbox column."""
    assert secret not in _app_log(caplog)
    with db.unit_of_work(readonly=True) as uow:
        for entry in uow.session.scalars(select(HistoryEntry)):
            assert secret not in f"{entry.detail} {entry.changes}"
    for mail in _outbox(db):
        assert secret not in f"{mail.body} {mail.subject} {mail.last_error}"


def _due_now(db: Database, clock: MutableClock) -> None:
    """Move the clock to when the (only) pending mail is next due."""
    clock.current = _only_mail(db).next_attempt_at


def _eventually(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting until {what}")
        time.sleep(0.01)  # polling interval, not a wait for the result


@pytest.fixture
def transport(smtp_server: SmtpServer) -> SmtpTransport:
    return SmtpTransport(smtp_server.url)


@pytest.fixture(autouse=True)
def _capture_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


# -- delivery ------------------------------------------------------------------------


def test_welcome_mail_reaches_the_smtp_server_with_portal_login_and_password(
    db: Database,
    admin: Actor,
    clock: MutableClock,
    smtp_server: SmtpServer,
    transport: SmtpTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    customer = _create(db, admin)
    assert _only_mail(db).status is MailStatus.PENDING
    assert _only_mail(db).secret == PASSWORD  # kept apart from the body until sent

    report = deliver_due(db, transport)

    assert report == DeliveryReport(sent=1)
    [received] = smtp_server.messages
    assert received.mail_from == "studio@example.test"
    assert received.rcpt_tos == ["zoe@example.com"]
    message: EmailMessage = received.message
    assert message["From"] == MAIL_FROM
    assert message["To"] == "zoe@example.com"
    assert message["Subject"] == "Your customer portal login"
    assert message["Date"].datetime == clock.current
    assert message["Message-ID"].endswith("@example.test>")
    assert "Hello Zoë," in received.body
    assert f"Portal:   {PORTAL}\n" in received.body
    assert "Login:    zoe@example.com\n" in received.body
    assert f"Password: {PASSWORD}\n" in received.body

    mail = _only_mail(db)
    assert mail.status is MailStatus.SENT
    assert mail.sent_at == clock.current
    assert mail.secret is None
    assert mail.attempts == 1
    assert _actions(db, customer.uid) == ["created", "mail sent"]
    assert "zoe@example.com" in _mail_entry(db, customer.uid, "mail sent").detail
    _assert_secret_nowhere(db, PASSWORD, caplog)

    clock.advance(days=2)
    assert deliver_due(db, transport).handled == 0
    assert len(smtp_server.messages) == 1


def test_a_welcome_password_never_hashed_is_hashed_before_the_mail_goes_out(
    db: Database, admin: Actor, smtp_server: SmtpServer, transport: SmtpTransport
) -> None:
    # A Create hashes its password after acknowledging the form; its process may stop first.
    with db.unit_of_work() as uow:
        data = CustomerInput(
            first_name="Zoë", last_name="Åberg", email="zoe@example.com", mobile="07700 900123"
        )
        customer = create_customer(uow, admin, data, prepared=LaterHash(PASSWORD))

    assert deliver_due(db, transport) == DeliveryReport(sent=1)

    [received] = smtp_server.messages
    assert f"Password: {PASSWORD}\n" in received.body
    with db.engine.connect() as conn:
        query = select(Customer.password_hash, Customer.version).where(Customer.uid == customer.uid)
        stored, version = conn.execute(query).one()
    assert stored is not None and verify_password(stored, PASSWORD)
    # Not an edit: a form opened on the customer meanwhile still saves.
    assert version == customer.version


def test_mail_goes_out_under_the_workspaces_own_name_reply_to_and_portal(
    db: Database, admin: Actor, smtp_server: SmtpServer, transport: SmtpTransport
) -> None:
    with db.unit_of_work() as uow:
        wanted = replace(
            studio_settings(uow, admin.team_id),
            name="Studio Nine",
            portal_url="https://nine.example/in",
            mail_sender_name="Studio Nine",
            mail_reply_to="desk@nine.example",
        )
        change_settings(uow, admin, wanted)
    _create(db, admin)

    deliver_due(db, transport)

    [received] = smtp_server.messages
    # Only the name changes: the deployment sends from MAIL_FROM's address alone.
    assert received.mail_from == "studio@example.test"
    assert received.message["From"] == "Studio Nine <studio@example.test>"
    assert received.message["Reply-To"] == "desk@nine.example"
    assert "An account has been created for you with Studio Nine." in received.body
    assert "Portal:   https://nine.example/in\n" in received.body


def test_customer_is_created_while_smtp_is_down_and_mail_goes_out_once_it_is_back(
    db: Database,
    admin: Actor,
    clock: MutableClock,
    smtp_server: SmtpServer,
    transport: SmtpTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp_server.down()
    customer = _create(db, admin)
    created_at = clock.current

    assert deliver_due(db, transport) == DeliveryReport(retrying=1)
    with db.unit_of_work(readonly=True) as uow:
        assert get_customer(uow, admin, customer.uid).email == "zoe@example.com"
    mail = _only_mail(db)
    assert mail.status is MailStatus.PENDING
    assert mail.secret == PASSWORD  # still needed for the retry
    assert mail.next_attempt_at == created_at + FIRST_RETRY
    assert "ConnectionRefusedError" in mail.last_error
    delayed = _mail_entry(db, customer.uid, "mail delayed")
    assert "retrying automatically" in delayed.detail

    # Backed off: nothing is attempted before the retry is due.
    assert deliver_due(db, transport).handled == 0
    clock.advance(seconds=FIRST_RETRY.total_seconds() - 1)
    assert deliver_due(db, transport).handled == 0
    clock.advance(seconds=1)
    assert deliver_due(db, transport) == DeliveryReport(retrying=1)
    assert _only_mail(db).next_attempt_at == clock.current + 2 * FIRST_RETRY  # doubled

    smtp_server.up()
    _due_now(db, clock)
    assert deliver_due(db, transport) == DeliveryReport(sent=1)
    [received] = smtp_server.messages
    assert f"Password: {PASSWORD}\n" in received.body
    mail = _only_mail(db)
    assert (mail.status, mail.secret, mail.attempts) == (MailStatus.SENT, None, 3)
    # One "delayed" note however many retries, then "sent".
    assert _actions(db, customer.uid) == ["created", "mail delayed", "mail sent"]

    clock.advance(days=2)
    assert deliver_due(db, transport).handled == 0
    assert len(smtp_server.messages) == 1
    _assert_secret_nowhere(db, PASSWORD, caplog)


def test_mail_fails_for_good_after_max_attempts_about_a_day_later(
    db: Database,
    admin: Actor,
    clock: MutableClock,
    smtp_server: SmtpServer,
    transport: SmtpTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp_server.down()
    customer = _create(db, admin)
    first_attempt = clock.current

    for _ in range(MAX_ATTEMPTS - 1):
        assert deliver_due(db, transport) == DeliveryReport(retrying=1)
        _due_now(db, clock)
    assert deliver_due(db, transport) == DeliveryReport(failed=1)

    assert timedelta(hours=20) < clock.current - first_attempt < timedelta(hours=25)
    mail = _only_mail(db)
    assert (mail.status, mail.secret, mail.attempts) == (MailStatus.FAILED, None, MAX_ATTEMPTS)
    assert _actions(db, customer.uid) == ["created", "mail delayed", "mail failed"]
    failed = _mail_entry(db, customer.uid, "mail failed")
    assert f"after {MAX_ATTEMPTS} attempt(s)" in failed.detail
    assert "ConnectionRefusedError" in failed.detail
    assert any(r.levelno == logging.ERROR and "giving up" in r.getMessage() for r in caplog.records)

    smtp_server.up()
    clock.advance(days=7)
    assert deliver_due(db, transport).handled == 0
    assert smtp_server.messages == []
    _assert_secret_nowhere(db, PASSWORD, caplog)


def test_a_recipient_the_server_refuses_fails_at_once(
    db: Database,
    admin: Actor,
    smtp_server: SmtpServer,
    transport: SmtpTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp_server.refused_recipients.add("zoe@example.com")
    customer = _create(db, admin)

    assert deliver_due(db, transport) == DeliveryReport(failed=1)

    mail = _only_mail(db)
    assert (mail.status, mail.secret, mail.attempts) == (MailStatus.FAILED, None, 1)
    assert _actions(db, customer.uid) == ["created", "mail failed"]
    assert "550" in _mail_entry(db, customer.uid, "mail failed").detail
    assert smtp_server.messages == []
    _assert_secret_nowhere(db, PASSWORD, caplog)


# -- no SMTP configured ----------------------------------------------------------------


def test_without_smtp_url_the_log_names_recipient_and_subject_and_history_says_not_sent(
    db: Database, admin: Actor, caplog: pytest.LogCaptureFixture
) -> None:
    transport = transport_from_settings(make_settings(db.url, smtp_url=None))
    assert transport is None
    customer = _create(db, admin)

    assert deliver_due(db, transport) == DeliveryReport(not_sent=1)

    [logged] = [r for r in caplog.records if r.name == "core.adapters.mail"]
    text = logged.getMessage()
    assert "SMTP_URL" in text
    assert "zoe@example.com" in text
    assert "Your customer portal login" in text
    # The body is the customer's letter: an operator needs to know which mail, not read it.
    assert PORTAL not in text
    assert "Password" not in text
    mail = _only_mail(db)
    assert (mail.status, mail.secret, mail.sent_at) == (MailStatus.NOT_SENT, None, None)
    assert _actions(db, customer.uid) == ["created", "mail not sent"]
    detail = _mail_entry(db, customer.uid, "mail not sent").detail
    assert "no mail server is configured (SMTP_URL)" in detail
    _assert_secret_nowhere(db, PASSWORD, caplog)


# -- changes made before the mail went out -------------------------------------------


def test_a_deleted_customers_pending_mail_is_not_sent(
    db: Database,
    admin: Actor,
    clock: MutableClock,
    smtp_server: SmtpServer,
    transport: SmtpTransport,
) -> None:
    smtp_server.down()
    customer = _create(db, admin)
    assert deliver_due(db, transport).retrying == 1
    with db.unit_of_work() as uow:
        delete_customer(uow, admin, customer.uid)

    smtp_server.up()
    clock.advance(days=1)
    assert deliver_due(db, transport).handled == 0
    assert smtp_server.messages == []
    assert _outbox(db) == []


def test_a_corrected_email_gets_the_mail_and_is_the_login_in_it(
    db: Database,
    admin: Actor,
    clock: MutableClock,
    smtp_server: SmtpServer,
    transport: SmtpTransport,
) -> None:
    smtp_server.down()
    customer = _create(db, admin, email="zoe@exmaple.com")
    assert deliver_due(db, transport).retrying == 1
    _edit(db, admin, customer.uid, email="zoe@example.com")

    smtp_server.up()
    _due_now(db, clock)
    assert deliver_due(db, transport) == DeliveryReport(sent=1)

    [received] = smtp_server.messages
    assert received.rcpt_tos == ["zoe@example.com"]
    assert "Login:    zoe@example.com\n" in received.body
    assert "exmaple" not in received.message.as_string()
    assert "to zoe@example.com sent" in _mail_entry(db, customer.uid, "mail sent").detail


def test_a_welcome_mail_whose_password_was_replaced_is_not_sent(
    db: Database,
    admin: Actor,
    clock: MutableClock,
    smtp_server: SmtpServer,
    transport: SmtpTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp_server.down()
    customer = _create(db, admin)
    assert deliver_due(db, transport).retrying == 1
    _edit(db, admin, customer.uid, password=NEW_PASSWORD)
    # The edit itself retires the mail: its secret is gone before any worker looks again.
    mail = _only_mail(db)
    assert (mail.status, mail.secret) == (MailStatus.NOT_SENT, None)

    smtp_server.up()
    _due_now(db, clock)
    assert deliver_due(db, transport) == DeliveryReport()

    assert smtp_server.messages == []
    assert _actions(db, customer.uid) == ["created", "mail delayed", "edited", "mail not sent"]
    assert "password was changed" in _mail_entry(db, customer.uid, "mail not sent").detail
    _assert_secret_nowhere(db, PASSWORD, caplog)
    _assert_secret_nowhere(db, NEW_PASSWORD, caplog)


def test_an_edit_that_keeps_the_password_keeps_the_welcome_mail(
    db: Database, admin: Actor, smtp_server: SmtpServer, transport: SmtpTransport
) -> None:
    customer = _create(db, admin)
    _edit(db, admin, customer.uid, mobile="+447700900123")

    assert deliver_due(db, transport) == DeliveryReport(sent=1)
    [received] = smtp_server.messages
    assert f"Password: {PASSWORD}\n" in received.body


def test_a_password_replaced_while_its_mail_is_being_sent_is_recorded_as_sent(
    db: Database, admin: Actor, smtp_server: SmtpServer, transport: SmtpTransport
) -> None:
    customer = _create(db, admin)
    gated = _Gated(transport)
    with ThreadPoolExecutor(max_workers=1) as pool:
        sending = pool.submit(deliver_due, db, gated)
        assert gated.entered.wait(timeout=10)
        _edit(db, admin, customer.uid, password=NEW_PASSWORD)
        gated.release.set()
        assert sending.result(timeout=10) == DeliveryReport(sent=1)

    # The mail left with the first password: the record says so rather than "not sent".
    assert len(smtp_server.messages) == 1
    assert _only_mail(db).status is MailStatus.SENT
    assert _actions(db, customer.uid) == ["created", "edited", "mail not sent", "mail sent"]


# -- several workers -------------------------------------------------------------------


def test_concurrent_passes_send_each_mail_exactly_once(
    db: Database,
    admin: Actor,
    smtp_server: SmtpServer,
    transport: SmtpTransport,
) -> None:
    emails = [f"customer{n}@example.com" for n in range(12)]
    uids = [_create(db, admin, email=address).uid for address in emails]
    start = threading.Barrier(4)

    def one_worker() -> DeliveryReport:
        start.wait(timeout=10)
        return deliver_due(db, transport)

    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = [future.result() for future in [pool.submit(one_worker) for _ in range(4)]]

    assert sum(report.sent for report in reports) == len(emails)
    assert sum(report.handled for report in reports) == len(emails)
    received = sorted(address for mail in smtp_server.messages for address in mail.rcpt_tos)
    assert received == sorted(emails)
    assert {mail.status for mail in _outbox(db)} == {MailStatus.SENT}
    for uid in uids:
        assert _actions(db, uid) == ["created", "mail sent"]


class _Gated:
    """Wraps a real transport; each send waits for the test to let it finish or fail."""

    def __init__(self, inner: SmtpTransport) -> None:
        self.inner = inner
        self.entered = threading.Event()
        self.release = threading.Event()
        self.fail = False

    def send(self, message: EmailMessage, accepted: Callable[[], None]) -> None:
        self.entered.set()
        assert self.release.wait(timeout=10), "the test never released this send"
        if self.fail:
            raise TimeoutError("timed out")  # an OSError, as a stalled server gives
        self.inner.send(message, accepted)


def test_a_send_that_outlives_its_lease_does_not_cause_a_second_send(
    db: Database,
    admin: Actor,
    clock: MutableClock,
    smtp_server: SmtpServer,
    transport: SmtpTransport,
) -> None:
    customer = _create(db, admin)
    slow, retaker = _Gated(transport), _Gated(transport)
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(deliver_due, db, slow)
        assert slow.entered.wait(timeout=10)
        # The first worker is stuck past its lease, so a second one claims the mail.
        clock.advance(seconds=lease(db.settings).total_seconds() + 1)
        second = pool.submit(deliver_due, db, retaker)
        assert retaker.entered.wait(timeout=10)
        # The stuck send gets through after all; the retry then fails.
        slow.release.set()
        assert first.result(timeout=10) == DeliveryReport(sent=1)
        retaker.fail = True
        retaker.release.set()
        assert second.result(timeout=10).handled == 0  # its failure is moot

    assert len(smtp_server.messages) == 1
    mail = _only_mail(db)
    assert (mail.status, mail.secret) == (MailStatus.SENT, None)
    assert _actions(db, customer.uid) == ["created", "mail sent"]
    clock.advance(days=1)
    assert deliver_due(db, transport).handled == 0


@pytest.mark.parametrize("timeout", [1.0, 10.0, 120.0])
def test_the_lease_outlasts_a_whole_send_and_recording_it(db: Database, timeout: float) -> None:
    settings = make_settings(db.url, smtp_url="smtp://127.0.0.1:2525", smtp_timeout_seconds=timeout)
    transport = transport_from_settings(settings)
    assert isinstance(transport, SmtpTransport)
    assert transport.timeout == timeout
    slowest_send = timedelta(seconds=STEPS_PER_SEND * timeout)
    assert slowest_send + record_patience(settings) < lease(settings)


def _not_accepted() -> None:
    pytest.fail("the server accepted a message it should have refused")


class _WorkerKilled(BaseException):
    """What a process being killed mid-send looks like to the code that was running."""


class _DyingTransport:
    def send(self, message: EmailMessage, accepted: Callable[[], None]) -> None:
        raise _WorkerKilled


def test_a_mail_claimed_by_a_worker_that_died_is_sent_after_the_lease(
    db: Database,
    admin: Actor,
    clock: MutableClock,
    smtp_server: SmtpServer,
    transport: SmtpTransport,
) -> None:
    customer = _create(db, admin)
    with pytest.raises(_WorkerKilled):
        deliver_due(db, _DyingTransport())

    assert deliver_due(db, transport).handled == 0  # still leased to the dead worker
    clock.advance(seconds=lease(db.settings).total_seconds())
    assert deliver_due(db, transport) == DeliveryReport(sent=1)
    assert len(smtp_server.messages) == 1
    assert _actions(db, customer.uid) == ["created", "mail sent"]


class _Watching:
    """Sends through a real transport, noting the outbox row as it is when the send begins."""

    def __init__(self, db: Database, inner: SmtpTransport) -> None:
        self.db = db
        self.inner = inner
        self.seen: list[tuple[MailStatus, int, datetime]] = []

    def send(self, message: EmailMessage, accepted: Callable[[], None]) -> None:
        mail = _only_mail(self.db)
        self.seen.append((mail.status, mail.attempts, mail.next_attempt_at))
        self.inner.send(message, accepted)


def test_an_attempt_is_recorded_as_sending_before_the_server_is_contacted(
    db: Database, admin: Actor, clock: MutableClock, transport: SmtpTransport
) -> None:
    _create(db, admin)
    watching = _Watching(db, transport)
    assert deliver_due(db, watching) == DeliveryReport(sent=1)
    assert watching.seen == [(MailStatus.SENDING, 1, clock.current + lease(db.settings))]
    assert _only_mail(db).status is MailStatus.SENT


class _KilledOnAcceptance:
    """The server takes the mail, then the worker dies before recording it."""

    def __init__(self, inner: SmtpTransport) -> None:
        self.inner = inner

    def send(self, message: EmailMessage, accepted: Callable[[], None]) -> None:
        self.inner.send(message, self._die)

    def _die(self) -> None:
        raise _WorkerKilled


def test_a_mail_accepted_but_never_recorded_goes_again_as_the_same_message(
    db: Database, admin: Actor, clock: MutableClock, caplog: pytest.LogCaptureFixture
) -> None:
    customer = _create(db, admin)
    with SmtpServer(dedupe=True) as server:
        transport = SmtpTransport(server.url)
        with pytest.raises(_WorkerKilled):
            deliver_due(db, _KilledOnAcceptance(transport))
        assert _only_mail(db).status is MailStatus.SENDING
        clock.advance(seconds=lease(db.settings).total_seconds())
        assert deliver_due(db, transport) == DeliveryReport(sent=1)
        first, again = server.transmissions
        [kept] = server.messages

    # The same Message-ID and the same password: the customer's mailbox keeps one copy.
    assert again.message["Message-ID"] == first.message["Message-ID"] == kept.message["Message-ID"]
    assert f"Password: {PASSWORD}\n" in first.body
    assert again.body == first.body
    mail = _only_mail(db)
    assert (mail.status, mail.attempts, mail.secret) == (MailStatus.SENT, 2, None)
    assert _actions(db, customer.uid) == ["created", "mail sent"]
    assert "attempt 1 left no outcome" in _app_log(caplog)


def test_a_mail_is_recorded_sent_before_the_server_answers_quit(
    db: Database, admin: Actor, smtp_server: SmtpServer, transport: SmtpTransport
) -> None:
    _create(db, admin)
    stall = smtp_server.stall_at("QUIT")
    with ThreadPoolExecutor(max_workers=1) as pool:
        delivering = pool.submit(deliver_due, db, transport)
        stall.wait_reached()
        assert _only_mail(db).status is MailStatus.SENT
        stall.release()
        assert delivering.result(timeout=30) == DeliveryReport(sent=1)


def test_a_server_that_never_answers_quit_changes_nothing_about_a_sent_mail(
    db: Database, admin: Actor, smtp_server: SmtpServer
) -> None:
    _create(db, admin)
    smtp_server.stall_at("QUIT")
    assert deliver_due(db, SmtpTransport(smtp_server.url, timeout=1)) == DeliveryReport(sent=1)
    assert _only_mail(db).status is MailStatus.SENT


def test_outbox_worker_drains_in_the_background_and_stops_cleanly(
    db: Database,
    admin: Actor,
    smtp_server: SmtpServer,
    transport: SmtpTransport,
) -> None:
    worker = OutboxWorker(db, transport, interval=0.02)
    worker.start()
    try:
        for n in range(3):
            _create(db, admin, email=f"worker{n}@example.com")
        smtp_server.wait_for(3)
        _eventually(
            lambda: all(mail.status is MailStatus.SENT for mail in _outbox(db)),
            "every mail is marked sent",
        )
    finally:
        worker.stop(timeout=10)
    assert not worker.running
    assert len(smtp_server.messages) == 3


def test_outbox_worker_can_be_stopped_without_being_started(db: Database) -> None:
    worker = OutboxWorker(db, None)
    worker.stop()
    assert not worker.running


# -- SMTP authentication and the SMTP_URL ----------------------------------------------

SMTP_USER = "mailer@studio.test"
SMTP_PASSWORD = "p@ss:w/rd#?1"  # every character a URL would trip over


def test_smtp_auth_uses_the_credentials_in_smtp_url(
    db: Database, admin: Actor, caplog: pytest.LogCaptureFixture
) -> None:
    with SmtpServer(credentials=(SMTP_USER, SMTP_PASSWORD)) as server:
        transport = transport_from_settings(make_settings(db.url, smtp_url=server.url))
        assert isinstance(transport, SmtpTransport)
        assert transport.username == SMTP_USER
        _create(db, admin)

        assert deliver_due(db, transport) == DeliveryReport(sent=1)

        [received] = server.messages
    assert received.login == SMTP_USER
    assert SMTP_PASSWORD not in _app_log(caplog)


def test_a_wrong_smtp_password_is_retried_and_never_logged(
    db: Database,
    admin: Actor,
    caplog: pytest.LogCaptureFixture,
) -> None:
    wrong = "Wr0ng-smtp-secret"
    with SmtpServer(credentials=(SMTP_USER, SMTP_PASSWORD)) as server:
        transport = SmtpTransport(server.url_with(SMTP_USER, wrong))
        customer = _create(db, admin)

        assert deliver_due(db, transport) == DeliveryReport(retrying=1)
        assert server.messages == []
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = MAIL_FROM, "x@example.test", "x"
        with pytest.raises(smtplib.SMTPAuthenticationError) as raised:
            transport.send(message, _not_accepted)

    assert "SMTPAuthenticationError" in _only_mail(db).last_error
    assert "535" in _mail_entry(db, customer.uid, "mail delayed").detail
    for text in (_app_log(caplog), str(raised.value), repr(raised.value), repr(transport)):
        assert wrong not in text
        assert SMTP_PASSWORD not in text
    _assert_secret_nowhere(db, wrong, caplog)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("smpt://user:Top-s3cret@mail.test", "must look like"),
        ("smtp://user:Top-s3cret@mail.test:twenty-five", "port must be a number"),
        ("smtp://user:Top-s3cret@mail.test?tls=1", "unknown option(s): tls"),
        ("smtps://user:Top-s3cret@mail.test?starttls=1", "already encrypted"),
        ("smtp://user:Top-s3cret@/", "must look like"),
    ],
)
def test_a_malformed_smtp_url_is_refused_without_echoing_it(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match="SMTP_URL") as raised:
        SmtpTransport(url)
    assert problem in str(raised.value)
    assert "Top-s3cret" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.test", ("mail.test", 25, False, False, None)),
        (
            "smtp://u%40x.test:pw@mail.test:587?starttls=1",
            ("mail.test", 587, True, False, "u@x.test"),
        ),
        ("smtps://u:pw@mail.test", ("mail.test", 465, False, True, "u")),
    ],
)
def test_smtp_url_forms(url: str, expected: tuple[str, int, bool, bool, str | None]) -> None:
    transport = SmtpTransport(url)
    assert (
        transport.host,
        transport.port,
        transport.starttls,
        transport.implicit_tls,
        transport.username,
    ) == expected


def test_a_transport_to_a_closed_port_raises_without_the_password() -> None:
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))  # bound, not listening: connecting is refused
        port = reserved.getsockname()[1]
        transport = SmtpTransport(f"smtp://{SMTP_USER}:Top-s3cret@127.0.0.1:{port}", timeout=2)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = MAIL_FROM, "x@example.test", "x"
        with pytest.raises(ConnectionRefusedError) as raised:
            transport.send(message, _not_accepted)
    assert "Top-s3cret" not in f"{raised.value} {raised.value!r}"


def test_a_password_reset_mail_carries_the_new_password_and_the_old_welcome_never_goes(
    db: Database,
    admin: Actor,
    smtp_server: SmtpServer,
    transport: SmtpTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    customer = _create(db, admin)
    with db.unit_of_work() as uow:
        send_password_reset(uow, admin, customer.uid)
    with db.unit_of_work(readonly=True) as uow:
        reset = uow.session.scalars(
            select(OutboxMail).where(OutboxMail.kind == PASSWORD_RESET)
        ).one()
        new_password = reset.secret
    assert new_password is not None and new_password != PASSWORD

    assert deliver_due(db, transport) == DeliveryReport(sent=1)

    [received] = smtp_server.messages
    assert received.message["Subject"] == "Your new customer portal password"
    assert "the old one no longer works" in received.body
    assert f"Password: {new_password}\n" in received.body
    assert "Login:    zoe@example.com\n" in received.body
    assert PASSWORD not in received.body
    assert _actions(db, customer.uid) == ["created", "mail not sent", "password reset", "mail sent"]
    _assert_secret_nowhere(db, new_password, caplog)
