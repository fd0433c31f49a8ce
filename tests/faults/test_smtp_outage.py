"""The mail server down when a customer is created: the customer is saved, the welcome mail waits."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.adapters.mail import FIRST_RETRY, SmtpTransport, deliver_due
from core.models import MailStatus, OutboxMail
from tests.conftest import MutableClock
from tests.slack.conftest import World, world  # noqa: F401 - fixture
from tests.slack.helpers import after, customer_count, fill_form, open_hub, text_of, updated
from tests.smtp_server import SmtpServer


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """The outbox's own tests cover both databases; here the mail server is what fails."""
    path = tmp_path / "test.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def _outbox(world: World) -> tuple[MailStatus, int, timedelta]:
    with world.db.unit_of_work(readonly=True) as uow:
        mail = uow.session.scalars(select(OutboxMail)).one()
        return mail.status, mail.attempts, mail.next_attempt_at - mail.created_at


def test_smtp_down_keeps_the_welcome_mail_queued_then_sends_it_once(
    world: World, smtp: SmtpServer, clock: MutableClock
) -> None:
    transport = SmtpTransport(smtp.url, timeout=2)
    smtp.down()
    driver = world.staff
    open_hub(driver)
    after(driver, driver.click("+ Create Customer"), "views.push")
    fill_form(
        driver,
        {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
    )
    fill_form(driver, {"mobile": "07700 900456"})
    hub = updated(driver, driver.submit())
    assert "Created Ada Lovelace" in text_of(hub)
    assert customer_count(world.db) == 1

    # Down: the attempt fails and the mail waits, backing off.
    assert deliver_due(world.db, transport).retrying == 1
    assert _outbox(world) == (MailStatus.PENDING, 1, FIRST_RETRY)
    assert deliver_due(world.db, transport).handled == 0, "not before its back-off ends"
    clock.advance(seconds=FIRST_RETRY.total_seconds())
    assert deliver_due(world.db, transport).retrying == 1
    assert _outbox(world) == (MailStatus.PENDING, 2, FIRST_RETRY * 3)

    smtp.up()
    clock.advance(seconds=(FIRST_RETRY * 2).total_seconds())
    assert deliver_due(world.db, transport).sent == 1
    clock.advance(hours=2)
    assert deliver_due(world.db, transport).handled == 0
    (mail,) = smtp.messages
    assert mail.rcpt_tos == ["ada@example.com"]
    assert _outbox(world)[0] is MailStatus.SENT
    assert customer_count(world.db) == 1
