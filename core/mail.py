"""Mail outbox: queue in the caller's transaction, deliver over SMTP with retries."""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select

from core.db import Database, UnitOfWork
from core.models import Customer, MailStatus, OutboxMail, Workspace
from core.services import history

log = logging.getLogger(__name__)

SECRET_SLOT = "{{SECRET}}"  # noqa: S105 - a placeholder, not a secret
REDACTED = "[redacted]"
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)


class MailTransport(Protocol):
    """Something that can hand one message to a mail server."""

    def send(self, message: EmailMessage) -> None:
        """Deliver or raise."""


class SmtpTransport:
    """SMTP from a URL: smtp://[user:pass@]host[:port][?starttls=1] or smtps://… (TLS)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:password@host:587?starttls=1")
        self.implicit_tls = parts.scheme == "smtps"
        self.starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in {"1", "true", "yes"}
        self.host = parts.hostname
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    def send(self, message: EmailMessage) -> None:
        """Open a connection, authenticate if configured, send, close."""
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.implicit_tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username is not None:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def transport_from_settings(db: Database) -> MailTransport | None:
    """The configured SMTP transport, or None when SMTP_URL is unset."""
    url = db.settings.smtp_url
    return SmtpTransport(url.get_secret_value()) if url is not None else None


def queue_welcome_mail(uow: UnitOfWork, customer: Customer, password: str) -> OutboxMail:
    """Queue the portal welcome mail with the customer's login and initial password."""
    workspace = uow.session.get(Workspace, customer.team_id)
    business = workspace.name if workspace is not None and workspace.name else "us"
    body = (
        f"Hello {customer.first_name},\n\n"
        f"An account has been created for you with {business}. "
        "You can sign in to the customer portal to see your bookings, passes and videos:\n\n"
        f"  Portal:   {uow.settings.portal_url}\n"
        f"  Login:    {customer.email}\n"
        f"  Password: {SECRET_SLOT}\n\n"
        "Please change your password after you first sign in.\n"
    )
    mail = OutboxMail(
        team_id=customer.team_id,
        customer_id=customer.id,
        kind="welcome",
        to_address=customer.email,
        subject="Your customer portal login",
        body=body,
        secret=password,
        status=MailStatus.PENDING,
        attempts=0,
        next_attempt_at=uow.now(),
        last_error="",
        created_at=uow.now(),
    )
    uow.session.add(mail)
    return mail


@dataclass
class DeliveryReport:
    """What one pass over the outbox did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    not_sent: int = 0

    @property
    def handled(self) -> int:
        """Mails this pass touched."""
        return self.sent + self.retrying + self.failed + self.not_sent


@dataclass(frozen=True)
class _Claimed:
    id: int
    to_address: str
    subject: str
    body: str
    secret: str | None
    attempts: int


def _claim(db: Database, limit: int) -> list[_Claimed]:
    """Lease due mails so that no other worker picks them up while we send."""
    with db.unit_of_work() as uow:
        now = uow.now()
        rows = uow.session.scalars(
            select(OutboxMail)
            .where(OutboxMail.status == MailStatus.PENDING, OutboxMail.next_attempt_at <= now)
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for mail in rows:
            mail.attempts += 1
            mail.next_attempt_at = now + LEASE
            claimed.append(
                _Claimed(
                    mail.id, mail.to_address, mail.subject, mail.body, mail.secret, mail.attempts
                )
            )
        return claimed


def _message(mail: _Claimed, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Message-ID"] = make_msgid(idstring=f"outbox-{mail.id}")
    message.set_content(mail.body.replace(SECRET_SLOT, mail.secret or REDACTED))
    return message


def _retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * (1 << (attempts - 1)), LONGEST_RETRY)


def _finish(
    db: Database, mail_id: int, status: MailStatus, error: str, report: DeliveryReport
) -> None:
    with db.unit_of_work() as uow:
        mail = uow.session.get(OutboxMail, mail_id, with_for_update=True)
        if mail is None:  # the customer was deleted while we were sending
            return
        now = uow.now()
        customer = uow.session.get(Customer, mail.customer_id) if mail.customer_id else None
        what = f"{mail.kind} mail to {mail.to_address}"
        if status is MailStatus.PENDING and mail.attempts >= MAX_ATTEMPTS:
            status = MailStatus.FAILED
        mail.status = status
        mail.last_error = error
        if status is MailStatus.SENT:
            mail.sent_at = now
            report.sent += 1
            action, detail = "mail sent", f"{what} sent"
        elif status is MailStatus.NOT_SENT:
            report.not_sent += 1
            action = "mail not sent"
            detail = f"{what} was not sent: no mail server is configured (SMTP_URL)"
        elif status is MailStatus.FAILED:
            report.failed += 1
            action = "mail failed"
            detail = f"{what} failed after {mail.attempts} attempts: {error}"
        else:
            report.retrying += 1
            mail.next_attempt_at = now + _retry_delay(mail.attempts)
            if mail.attempts > 1:
                return
            action = "mail delayed"
            detail = f"{what} could not be sent yet ({error}); retrying automatically"
        if status is not MailStatus.PENDING:
            mail.secret = None
        if customer is not None:
            history.record(uow, "system", customer, action, detail=detail)


def deliver_due(
    db: Database, transport: MailTransport | None, *, limit: int = 50
) -> DeliveryReport:
    """Send every due mail once; with no transport, log them (secrets redacted) instead."""
    report = DeliveryReport()
    sender = db.settings.mail_from
    for mail in _claim(db, limit):
        if transport is None:
            log.info(
                "mail not sent (no SMTP_URL): to=%s subject=%r body=%r",
                mail.to_address,
                mail.subject,
                mail.body.replace(SECRET_SLOT, REDACTED),
            )
            _finish(db, mail.id, MailStatus.NOT_SENT, "", report)
            continue
        try:
            transport.send(_message(mail, sender))
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"[:500]
            log.warning("mail %s to %s not sent: %s", mail.id, mail.to_address, error)
            _finish(db, mail.id, MailStatus.PENDING, error, report)
        else:
            _finish(db, mail.id, MailStatus.SENT, "", report)
    return report


class OutboxWorker:
    """A daemon thread that drains the outbox every few seconds until stopped."""

    def __init__(
        self, db: Database, transport: MailTransport | None, *, interval: float = 5.0
    ) -> None:
        self.db = db
        self.transport = transport
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mail-outbox", daemon=True)

    def start(self) -> None:
        """Begin draining in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to finish and wait for it."""
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while deliver_due(self.db, self.transport).handled:
                    if self._stop.is_set():
                        return
            except Exception:
                log.exception("mail outbox pass failed; will try again")
            self._stop.wait(self.interval)


def pending_count(uow: UnitOfWork) -> int:
    """Mails still waiting to go out."""
    from sqlalchemy import func

    return (
        uow.session.scalar(
            select(func.count())
            .select_from(OutboxMail)
            .where(OutboxMail.status == MailStatus.PENDING)
        )
        or 0
    )


def next_due(uow: UnitOfWork) -> datetime | None:
    """When the earliest pending mail is due."""
    return uow.session.scalar(
        select(OutboxMail.next_attempt_at)
        .where(OutboxMail.status == MailStatus.PENDING)
        .order_by(OutboxMail.next_attempt_at)
        .limit(1)
    )
