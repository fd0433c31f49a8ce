"""Mail outbox: queue in the caller's transaction, deliver over SMTP with retries.

A mail is a `mail_outbox` row written in the same transaction as the change that caused
it, so a rolled-back change sends nothing and a committed one is never lost, even while
the mail server is down. `deliver_due` claims due rows one at a time under a lease (two
workers never send the same mail), recording the attempt as `sending` before it connects;
it sends outside any transaction, records "sent" the moment the server accepts the message
(before QUIT), or else the outcome: retry later with exponential back-off, failed for good,
or not sent. A worker killed mid-send leaves the row `sending`; once the lease runs out the
mail is sent again with the same Message-ID (and the same password), so a server that got
it the first time recognises the copy.
Every outcome except "retry later" erases the one-time secret (the initial password),
which is kept out of the body column and out of every log line and history entry.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from core.config import Settings
from core.db import Database, UnitOfWork
from core.models import ConsentState, Customer, MailStatus, OutboxMail, Workspace
from core.polling import PollingWorker
from core.security import hash_password
from core.services import history

log = logging.getLogger(__name__)

WELCOME = "welcome"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a mail kind, not a secret
PAYMENT_LINK = "payment_link"
MARKETING = "marketing"
# The mails that carry a password: a newer password makes an unsent one useless.
LOGIN_MAILS = (WELCOME, PASSWORD_RESET)
# Not sent yet, as far as this side knows: waiting, or an attempt under way (or cut short).
UNSENT = (MailStatus.PENDING, MailStatus.SENDING)
# The body column holds these slots; they are filled in only when the mail is sent, so
# the password never rests in the body and the login is the customer's email *then*.
SECRET_SLOT = "{{SECRET}}"  # noqa: S105 - a placeholder, not a secret
LOGIN_SLOT = "{{LOGIN}}"
REDACTED = "[redacted]"
# Back-off doubles from FIRST_RETRY up to LONGEST_RETRY, so MAX_ATTEMPTS spans about a
# day: a mail server that is down overnight still delivers the welcome mail.
MAX_ATTEMPTS = 30
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# A send is at most about a dozen SMTP steps (connect, EHLO, STARTTLS, AUTH, MAIL, RCPT,
# DATA, QUIT…), each bounded by SMTP_TIMEOUT_SECONDS; after it, recording the outcome waits
# out a database outage (a restart, a failover) for as long again. A claimed mail is hidden
# from other workers for longer than both together, so none sends it a second time, while a
# worker that dies mid-send leaves the mail to be retried once the lease runs out. At the
# default 10 s timeout: 2 min to send, 2 min to record, a 5 min lease (MAIL_LEASE_SECONDS
# overrides it).
STEPS_PER_SEND = 12
LEASE_PER_TIMEOUT = 30
SYSTEM_ACTOR = "system"
STALE_LOGIN_REASON = "the password was changed before it went out, so it would not work"


def lease(settings: Settings) -> timedelta:
    """How long a claimed mail stays hidden from other workers."""
    if settings.mail_lease_seconds is not None:
        return timedelta(seconds=settings.mail_lease_seconds)
    return timedelta(seconds=LEASE_PER_TIMEOUT * settings.smtp_timeout_seconds)


def record_patience(settings: Settings) -> timedelta:
    """How long a sent mail's outcome is retried while the database is unreachable."""
    return timedelta(seconds=STEPS_PER_SEND * settings.smtp_timeout_seconds)


class MailTransport(Protocol):
    """Something that can hand one message to a mail server."""

    def send(self, message: EmailMessage, accepted: Callable[[], None]) -> None:
        """Deliver, calling `accepted` as soon as the server has taken the message, or raise."""


_URL_HELP = (
    "SMTP_URL must look like smtp://user:password@host:587?starttls=1 or "
    "smtps://user:password@host:465 (percent-encode special characters in user and password)"
)


class SmtpTransport:
    """SMTP from a URL: smtp://[user:pass@]host[:port][?starttls=1] or smtps://… (TLS).

    Error messages never quote the URL, because it may carry the SMTP password.
    """

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise ValueError(_URL_HELP)
        query = parse_qs(parts.query)
        unknown = sorted(set(query) - {"starttls"})
        if unknown:
            # A misspelt option would otherwise silently send in clear text.
            raise ValueError(f"{_URL_HELP}; unknown option(s): {', '.join(unknown)}")
        self.implicit_tls = parts.scheme == "smtps"
        self.starttls = query.get("starttls", ["0"])[-1].lower() in {"1", "true", "yes"}
        if self.implicit_tls and self.starttls:
            raise ValueError(f"{_URL_HELP}; smtps:// is already encrypted, drop ?starttls")
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"{_URL_HELP}; the port must be a number") from None
        self.host = parts.hostname
        self.port = port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else ""
        self.timeout = timeout

    def send(self, message: EmailMessage, accepted: Callable[[], None]) -> None:
        """Open a connection, authenticate if configured, send, call `accepted`, close."""
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.implicit_tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username is not None:
                smtp.login(self.username, self._password)
            smtp.send_message(message)
            # The server answered 250 to DATA: the mail is out. Record that before QUIT, so a
            # server slow to say goodbye (or a worker dying meanwhile) cannot cause a resend.
            accepted()
        finally:
            _quit(smtp)


def _quit(smtp: smtplib.SMTP) -> None:
    """Say goodbye and close; a failure here changes nothing about the mail."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def transport_from_settings(settings: Settings) -> MailTransport | None:
    """The configured SMTP transport, or None when SMTP_URL is unset (mail is then only logged).

    Call it at start-up: a malformed SMTP_URL raises ValueError here, not at first send.
    """
    url = settings.smtp_url
    if url is None:
        return None
    return SmtpTransport(url.get_secret_value(), timeout=settings.smtp_timeout_seconds)


def queue_welcome_mail(uow: UnitOfWork, customer: Customer, password: str) -> OutboxMail:
    """Queue the portal welcome mail with the customer's login and initial password.

    `customer` must already be flushed (it needs its id); the mail commits or rolls back
    with the caller's transaction.
    """
    business, portal = _studio(uow, customer)
    body = (
        f"Hello {customer.first_name},\n\n"
        f"An account has been created for you with {business}. "
        "You can sign in to the customer portal to see your bookings, passes and videos:\n\n"
        f"{_login_lines(portal)}\n"
        "Please change your password after you first sign in.\n"
    )
    return _queue(uow, customer, WELCOME, "Your customer portal login", body, password)


def queue_password_reset_mail(uow: UnitOfWork, customer: Customer, password: str) -> OutboxMail:
    """Queue the mail carrying the customer's new portal password (staff asked for a reset)."""
    business, portal = _studio(uow, customer)
    body = (
        f"Hello {customer.first_name},\n\n"
        f"{business} has set a new password for your customer portal account; "
        "the old one no longer works:\n\n"
        f"{_login_lines(portal)}\n"
        "Please change it after you sign in.\n"
    )
    return _queue(
        uow, customer, PASSWORD_RESET, "Your new customer portal password", body, password
    )


def queue_payment_link_mail(
    uow: UnitOfWork, customer: Customer, *, what: str, url: str, until: str, subscribe: bool
) -> OutboxMail:
    """Queue the mail carrying a Stripe payment link: to pay for `what`, or (`subscribe`) to
    start the subscription `what` names; the link works `until` then."""
    workspace = uow.session.get(Workspace, customer.team_id)
    # The name the studio's mail goes out under, so the mail and its sender agree.
    studio = workspace.mail_sender_name or workspace.name if workspace is not None else ""
    doing = f"start your subscription to {what}" if subscribe else f"pay for {what}"
    sent = f"{studio} has sent you" if studio else "Here is"
    body = (
        f"Hello {customer.first_name},\n\n"
        f"{sent} a secure link to {doing}:\n\n"
        f"  {url}\n\n"
        f"The link works until {until}; Stripe takes the payment on that page. "
        "If you have already paid, you can ignore this mail.\n"
    )
    subject = "Start your subscription" if subscribe else "Your payment link"
    subject += f" from {studio}" if studio else ""
    return _queue(uow, customer, PAYMENT_LINK, subject[:200], body, None)


def queue_marketing_mail(
    uow: UnitOfWork, customer: Customer, *, subject: str, body: str
) -> OutboxMail | None:
    """Queue a marketing mail (news, offers) for a customer who granted marketing consent;
    None, and nothing queued, for anyone else (withdrawn, unknown, anonymised or merged away).

    Welcome, password and payment mails are the customer's own business and need no consent."""
    if (
        customer.marketing_consent is not ConsentState.GRANTED
        or customer.anonymised_at is not None
        or customer.merged_into_id is not None
        or not customer.email
    ):
        log.info("marketing mail to customer %s skipped: no consent", customer.uid)
        return None
    return _queue(uow, customer, MARKETING, subject[:200], body, None)


def _studio(uow: UnitOfWork, customer: Customer) -> tuple[str, str]:
    """The business's name as a mail calls it, and its portal login URL."""
    workspace = uow.session.get(Workspace, customer.team_id)
    if workspace is None:
        return "us", uow.settings.portal_url
    return workspace.name or "us", workspace.portal_url


def _login_lines(portal: str) -> str:
    return f"  Portal:   {portal}\n  Login:    {LOGIN_SLOT}\n  Password: {SECRET_SLOT}\n"


def _queue(
    uow: UnitOfWork, customer: Customer, kind: str, subject: str, body: str, secret: str | None
) -> OutboxMail:
    now = uow.now()
    mail = OutboxMail(
        team_id=customer.team_id,
        customer_id=customer.id,
        kind=kind,
        to_address=customer.email,
        subject=subject,
        body=body,
        secret=secret,
        status=MailStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        last_error="",
        created_at=now,
    )
    uow.session.add(mail)
    return mail


def retire_pending_mail(
    uow: UnitOfWork, customer_id: int, reason: str, *, kind: str | None = None
) -> list[tuple[str, str]]:
    """Mark the customer's unsent mail (of `kind` only, if given) not sent, for `reason`.

    Part of the caller's transaction; a mail already being sent goes out all the same and is
    then recorded as sent. Returns each retired mail's kind and address.
    """
    conditions = [OutboxMail.customer_id == customer_id, OutboxMail.status.in_(UNSENT)]
    if kind is not None:
        conditions.append(OutboxMail.kind == kind)
    retired = uow.session.execute(
        update(OutboxMail)
        .where(*conditions)
        .values(status=MailStatus.NOT_SENT, secret=None, last_error=f"not sent: {reason}")
        .returning(OutboxMail.kind, OutboxMail.to_address)
    )
    return [(row.kind, row.to_address) for row in retired]


def drop_login_mail(uow: UnitOfWork, customer: Customer) -> None:
    """Retire `customer`'s unsent mail carrying a password, because their password was replaced.

    Sending it would hand the customer a password that no longer works.
    """
    for kind in LOGIN_MAILS:
        for _, to_address in retire_pending_mail(uow, customer.id, STALE_LOGIN_REASON, kind=kind):
            detail = _not_sent(kind, to_address, STALE_LOGIN_REASON)
            history.record(uow, SYSTEM_ACTOR, customer, "mail not sent", detail=detail)


def _not_sent(kind: str, to_address: str, reason: str) -> str:
    return f"{kind.replace('_', ' ')} mail to {to_address} was not sent: {reason}"


def render_body(body: str, login: str, secret: str) -> str:
    """A mail body as it goes out: the login and `secret` in their slots."""
    return body.replace(LOGIN_SLOT, login).replace(SECRET_SLOT, secret)


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

    def count(self, status: MailStatus) -> None:
        """Tally one recorded outcome."""
        if status is MailStatus.SENT:
            self.sent += 1
        elif status is MailStatus.PENDING:
            self.retrying += 1
        elif status is MailStatus.FAILED:
            self.failed += 1
        else:
            self.not_sent += 1


@dataclass(frozen=True)
class _Claimed:
    """A leased mail, copied out of its session so it can be sent with no transaction open."""

    id: int
    kind: str
    to_address: str
    subject: str
    body: str
    secret: str | None
    # The lease token: the attempt number this claim set; see _finish.
    attempts: int
    created_at: datetime
    claimed_at: datetime
    # The workspace's mail settings as they are when the mail goes out.
    sender_name: str = ""
    reply_to: str = ""

    def render(self, secret: str) -> str:
        """The body as it goes out, with `secret` in the password slot."""
        return render_body(self.body, self.to_address, secret)


def _claim_next(db: Database) -> _Claimed | None:
    """Lease the earliest due mail so that no other worker picks it up while we send.

    Committed before connecting: the row says `sending`, which attempt, and until when.
    """
    with db.unit_of_work() as uow:
        now = uow.now()
        mail = uow.session.scalars(
            select(OutboxMail)
            # A `sending` row whose lease ran out: its worker died or stalled mid-send.
            .where(OutboxMail.status.in_(UNSENT), OutboxMail.next_attempt_at <= now)
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
            .limit(1)
            # PostgreSQL: concurrent workers skip each other's rows instead of queueing.
            # SQLite has no row locks; BEGIN IMMEDIATE (core.db) serialises claims instead.
            .with_for_update(skip_locked=True)
        ).first()
        if mail is None:
            return None
        if mail.status is MailStatus.SENDING:
            log.warning(
                "mail %s: attempt %d left no outcome (its worker stopped mid-send); sending it "
                "again with the same Message-ID, so a server that already has it can drop the copy",
                mail.id,
                mail.attempts,
            )
        customer = uow.session.get(Customer, mail.customer_id) if mail.customer_id else None
        if customer is not None:
            # The email is the login: if staff corrected it after the mail was queued, the
            # mail (and the login in it) must go to the corrected address.
            mail.to_address = customer.email
            if (
                mail.kind == WELCOME
                and mail.secret
                and customer.password_hash is None
                and customer.anonymised_at is None
            ):
                # A Create stores its password's hash after acknowledging the form
                # (core.services.customers.LaterHash): if its process stopped first, the
                # hash is made here, before the password goes out. Not through the ORM,
                # which would count it as an edit (the version an open form holds).
                uow.session.execute(
                    update(Customer)
                    .where(Customer.id == customer.id, Customer.password_hash.is_(None))
                    .values(password_hash=hash_password(mail.secret))
                )
        mail.status = MailStatus.SENDING
        mail.attempts += 1
        mail.next_attempt_at = now + lease(db.settings)
        workspace = uow.session.get(Workspace, mail.team_id)
        return _Claimed(
            id=mail.id,
            kind=mail.kind,
            to_address=mail.to_address,
            subject=mail.subject,
            body=mail.body,
            secret=mail.secret,
            attempts=mail.attempts,
            created_at=mail.created_at,
            claimed_at=now,
            sender_name=workspace.mail_sender_name if workspace is not None else "",
            reply_to=workspace.mail_reply_to if workspace is not None else "",
        )


def _message(mail: _Claimed, mail_from: str) -> EmailMessage:
    # MAIL_FROM's address is the one this deployment may send from; the studio names itself.
    sender = (
        formataddr((mail.sender_name, parseaddr(mail_from)[1])) if mail.sender_name else mail_from
    )
    message = EmailMessage()
    message["From"] = sender
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    message["To"] = mail.to_address
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(mail.claimed_at)
    message["Message-ID"] = message_id(mail.kind, mail.id, mail.created_at, mail_from)
    message.set_content(mail.render(mail.secret or REDACTED))
    return message


def message_id(kind: str, mail_id: int, created_at: datetime, mail_from: str) -> str:
    """The outbox row's Message-ID, the same on every attempt.

    If a server accepted a message but its reply, or our record of it, was lost, the resend
    is the same message to the receiving side, which drops the copy.
    """
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"
    return f"<{kind}.{mail_id}.{int(created_at.timestamp())}@{domain}>"


def _retry_delay(attempts: int) -> timedelta:
    # Capping the exponent keeps the multiplication far from timedelta's range.
    return min(FIRST_RETRY * (1 << min(attempts - 1, 20)), LONGEST_RETRY)


def _permanent(exc: Exception) -> bool:
    """A 5xx refusal of the recipient: the address does not exist, retrying cannot help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return False


def _finish(
    db: Database, claimed: _Claimed, status: MailStatus, *, error: str = "", reason: str = ""
) -> MailStatus | None:
    """Record one attempt's outcome and note it in the account history.

    Returns the status recorded (a retry may become FAILED once attempts run out), or
    None when the mail is no longer ours to finish.
    """
    with db.unit_of_work() as uow:
        mail = uow.session.get(OutboxMail, claimed.id, with_for_update=True)
        # A merge drops its source's pending mail as not sent; one already in flight went
        # out all the same, and the record must say so.
        sent_after_drop = status is MailStatus.SENT and (
            mail is not None and mail.status is MailStatus.NOT_SENT
        )
        if mail is None or (mail.status not in UNSENT and not sent_after_drop):
            return None  # deleted with its customer, or finished by another worker
        if mail.attempts != claimed.attempts and status is not MailStatus.SENT:
            # Our lease ran out and another worker claimed the mail again: its outcome
            # counts, not ours. A success is still recorded, since it is true whoever
            # sent it, and it stops the other worker's failure from causing a resend.
            return None
        now = uow.now()
        first_failure = not mail.last_error
        if status is MailStatus.PENDING and mail.attempts >= MAX_ATTEMPTS:
            status = MailStatus.FAILED
        mail.status = status
        mail.last_error = error
        what = f"{mail.kind.replace('_', ' ')} mail to {mail.to_address}"
        if status is MailStatus.PENDING:
            mail.next_attempt_at = now + _retry_delay(mail.attempts)
            if not first_failure:
                return status  # one "delayed" note per mail, not one per retry
            action = "mail delayed"
            detail = f"{what} could not be sent yet ({error}); retrying automatically"
        else:
            mail.secret = None
            if status is MailStatus.SENT:
                mail.sent_at = now
                action, detail = "mail sent", f"{what} sent"
            elif status is MailStatus.NOT_SENT:
                action, detail = "mail not sent", _not_sent(mail.kind, mail.to_address, reason)
            else:
                action = "mail failed"
                detail = f"{what} failed after {mail.attempts} attempt(s), giving up: {error}"
        customer = uow.session.get(Customer, mail.customer_id) if mail.customer_id else None
        if customer is not None:
            history.record(uow, SYSTEM_ACTOR, customer, action, detail=detail)
        return status


def _deliver_one(
    db: Database, transport: MailTransport | None, mail: _Claimed
) -> MailStatus | None:
    if transport is None:
        # Recipient and subject tell an operator which mail this was; the body is the
        # customer's personal letter (name, login, password slot) and stays in the outbox.
        log.info(
            "mail %s not sent (SMTP_URL is not set): %s mail to %s, subject %r",
            mail.id,
            mail.kind,
            mail.to_address,
            mail.subject,
        )
        return _finish(
            db, mail, MailStatus.NOT_SENT, reason="no mail server is configured (SMTP_URL)"
        )
    acceptance = _Acceptance(db, mail)
    try:
        transport.send(_message(mail, db.settings.mail_from), acceptance)
    # Any error, not only SMTP ones: one mail that cannot be built or sent must not stop
    # the rest of the outbox; it is retried and, if it keeps failing, failed for good.
    except Exception as exc:
        if acceptance.accepted:
            raise  # the server has the mail; what failed is recording it (see _record_sent)
        return _record_failure(db, mail, exc)
    if not acceptance.accepted:
        acceptance()  # a send that returned without error delivered the mail all the same
    return acceptance.status


@dataclass
class _Acceptance:
    """Records a mail as sent the moment the server accepts it (the `accepted` of a send)."""

    db: Database
    mail: _Claimed
    accepted: bool = False
    status: MailStatus | None = None

    def __call__(self) -> None:
        self.accepted = True
        log.info("mail %s sent to %s", self.mail.id, self.mail.to_address)
        self.status = _record_sent(self.db, self.mail)


def _record_failure(db: Database, mail: _Claimed, exc: Exception) -> MailStatus | None:
    """Record a send that failed: to retry later, or failed for good."""
    error = f"{type(exc).__name__}: {exc}"[:500]
    status = MailStatus.FAILED if _permanent(exc) else MailStatus.PENDING
    recorded = _finish(db, mail, status, error=error)
    given_up = recorded is MailStatus.FAILED
    log.log(
        logging.ERROR if given_up else logging.WARNING,
        "mail %s to %s not sent (attempt %d of %d), %s: %s",
        mail.id,
        mail.to_address,
        mail.attempts,
        MAX_ATTEMPTS,
        "giving up" if given_up else "will retry",
        error,
        # smtplib's errors are OSErrors; anything else is a bug worth a traceback.
        exc_info=not isinstance(exc, OSError),
    )
    return recorded


def _record_sent(db: Database, mail: _Claimed) -> MailStatus | None:
    """Record a mail the server accepted, waiting out a database outage (see record_patience).

    Left unrecorded, the mail would go out a second time once its lease ran out.
    """
    deadline = time.monotonic() + record_patience(db.settings).total_seconds()
    delay = 0.5
    while True:
        try:
            return _finish(db, mail, MailStatus.SENT)
        except DBAPIError as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning(
                "mail %s was sent but the database is unavailable (%s); recording it again in %g s",
                mail.id,
                type(exc).__name__,
                delay,
            )
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def deliver_due(
    db: Database, transport: MailTransport | None, *, limit: int = 50
) -> DeliveryReport:
    """Attempt up to `limit` due mails; with no transport, log each one's recipient and subject."""
    report = DeliveryReport()
    for _ in range(limit):
        # One claim per mail, not a batch: a lease must never run out while the mail
        # waits behind slow sends of others in the same batch.
        mail = _claim_next(db)
        if mail is None:
            break
        status = _deliver_one(db, transport, mail)
        if status is not None:
            report.count(status)
    return report


class OutboxWorker(PollingWorker):
    """A daemon thread that drains the outbox every `interval` seconds until stopped."""

    def __init__(
        self, db: Database, transport: MailTransport | None, *, interval: float = 5.0
    ) -> None:
        super().__init__(
            "mail outbox",
            lambda: bool(deliver_due(db, transport, limit=1).handled),
            interval=interval,
        )
