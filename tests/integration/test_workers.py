"""`customer-bot serve --http --workers 2` on PostgreSQL: one customer's story told through both
worker processes in turn, and the shared mail outbox sending each mail exactly once.

The server is a real subprocess (gunicorn master and two workers) on a database of its own.
gunicorn hands each connection to whichever worker accepts it first, so the test steers: it
opens a connection, asks the kernel (through psutil) which worker accepted it, and keeps it
only if that is the worker whose turn it is.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
from sqlalchemy import select

from bot.local import (
    AppEndpoint,
    AppResponse,
    LocalSlackAPI,
    SlackDriver,
    SlackUser,
    SlackWorkspace,
)
from bot.local.driver import retry_headers
from bot.local.signing import signed_headers
from core.actor import Actor
from core.db import Database
from core.models import Customer, CustomerStatus, MailStatus, OutboxMail, Role
from core.services.customers import CustomerInput, create_customer
from tests.conftest import PG_ENV, make_settings, scratch_database
from tests.integration.server_process import free_port, server_env, serving
from tests.slack.conftest import TRIGGER_TTL
from tests.slack.helpers import (
    DETAILS,
    FORM,
    HUB,
    acked,
    after,
    fill_form,
    is_view,
    open_hub,
    row_menu,
    rows,
    text_of,
    updated,
)
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.postgres

TEAM = "T0001"
ADMIN = "UADMIN"
WORKERS = 2
READY_SECONDS = 30.0
# The outbox loop of each worker looks every 5 s; a backlog drains without pausing.
MAIL_SECONDS = 15.0
STOP_SECONDS = 30.0
# Enough that draining them outlasts the gap between the two workers' first outbox passes.
QUEUED_MAILS = 40


@pytest.fixture
def database_url() -> Iterator[str]:
    """A PostgreSQL database of this test's own, dropped afterwards."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"needs PostgreSQL: set {PG_ENV} (several workers do not run on SQLite)")
    with scratch_database(base, f"crworkers_{uuid.uuid4().hex[:10]}") as url:
        yield url


class WorkerRouter:
    """Opens connections to the server that a chosen worker process has accepted."""

    def __init__(self, master: psutil.Process, port: int) -> None:
        self.master = master
        self.port = port

    def workers(self) -> list[int]:
        """The worker processes' ids, in a fixed order."""
        return sorted(child.pid for child in self.master.children())

    def _acceptor(self, client_port: int, deadline: float) -> int | None:
        """Which worker accepted our connection from `client_port` (None: none yet, in time)."""
        while time.monotonic() < deadline:
            for pid in self.workers():
                try:
                    sockets = psutil.Process(pid).net_connections(kind="tcp")
                except psutil.NoSuchProcess:
                    continue
                for conn in sockets:
                    if (
                        conn.laddr.port == self.port
                        and conn.raddr
                        and conn.raddr.port == client_port
                    ):
                        return pid
            time.sleep(0.002)
        return None

    def connect(self, pid: int, *, timeout: float = 10.0) -> http.client.HTTPConnection:
        """A connection that worker `pid` has accepted (others are closed and tried again)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            conn.connect()
            assert conn.sock is not None
            acceptor = self._acceptor(conn.sock.getsockname()[1], deadline)
            if acceptor == pid:
                return conn
            conn.close()
        raise TimeoutError(f"worker {pid} accepted none of our connections in {timeout}s")


class PinnedDriver(SlackDriver):
    """A SlackDriver whose requests go to the server's workers in turn, noting who served each."""

    def __init__(
        self, api: LocalSlackAPI, app_url: str, signing_secret: str, *, router: WorkerRouter
    ) -> None:
        super().__init__(api, AppEndpoint(app_url, signing_secret), user_id=ADMIN, team_id=TEAM)
        self.router = router
        self.turns = itertools.cycle(router.workers())
        self.served: list[int] = []

    def _post(self, body: bytes, content_type: str, *, retry_num: int = 0) -> AppResponse:
        pid = next(self.turns)
        conn = self.router.connect(pid)
        headers = {
            "Content-Type": content_type,
            "Connection": "close",
            **signed_headers(self.app.signing_secret, int(time.time()), body),
            **retry_headers(retry_num),
        }
        mark = self.api.mark()
        started = time.perf_counter()
        try:
            conn.request("POST", urlsplit(self.app.url).path, body, headers)
            reply = conn.getresponse()
            raw = reply.read()
        finally:
            conn.close()
        self.served.append(pid)
        answer = raw.decode()
        data = json.loads(answer) if answer.strip().startswith("{") else {}
        return AppResponse(reply.status, answer, data, mark, time.perf_counter() - started)


@dataclass
class Running:
    """The server process, where it logs, and a driver steering requests across its workers."""

    process: subprocess.Popen[bytes]
    log: Path
    driver: PinnedDriver
    router: WorkerRouter
    # The initial passwords in the welcome mails queued before the server started.
    queued_passwords: list[str]

    def output(self) -> str:
        """Everything the master and workers logged so far."""
        return self.log.read_text(errors="replace")


def _queue_welcome_mails(db: Database) -> list[str]:
    """Customers whose welcome mails wait in the outbox; returns their passwords."""
    passwords = [f"Queued-{n}-{uuid.uuid4().hex[:8]}" for n in range(QUEUED_MAILS)]
    actor = Actor(TEAM, ADMIN, Role.ADMIN)
    with db.unit_of_work() as uow:
        for n, password in enumerate(passwords):
            data = CustomerInput(
                first_name=f"Queued{n}",
                last_name="Customer",
                email=f"queued{n}@example.com",
                mobile=f"+44 7700 900{200 + n:03d}",
                password=password,
            )
            create_customer(uow, actor, data)
    return passwords


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[tuple[Running, SmtpServer, Database]]:
    signing_secret = uuid.uuid4().hex
    port = free_port()
    with (
        LocalSlackAPI(SlackWorkspace(team_id=TEAM), trigger_ttl=TRIGGER_TTL) as api,
        SmtpServer() as smtp,
    ):
        api.add_user(SlackUser(ADMIN, "admin", team_id=TEAM))
        env = server_env(api, database_url, signing_secret, ADMIN, SMTP_URL=smtp.url)
        log = tmp_path / "server.log"
        with serving(env, port, WORKERS, log) as process:
            router = WorkerRouter(psutil.Process(process.pid), port)
            db = Database(make_settings(database_url))
            try:
                deadline = time.monotonic() + READY_SECONDS
                while len(router.workers()) < WORKERS:
                    assert process.poll() is None, log.read_text()
                    assert time.monotonic() < deadline, log.read_text()
                    time.sleep(0.002)
                # A worker accepts connections only once its app is built.
                for pid in router.workers():
                    router.connect(pid, timeout=READY_SECONDS).close()
                # Each worker's outbox loop made its first (empty) pass as the worker started
                # and looks again 5 s later; queued now, the backlog is found by both passes,
                # which are only as far apart as the workers' start-ups.
                passwords = _queue_welcome_mails(db)
                url = f"http://127.0.0.1:{port}/slack/events"
                driver = PinnedDriver(api, url, signing_secret, router=router)
                yield Running(process, log, driver, router, passwords), smtp, db
            finally:
                db.dispose()


def _customer(db: Database, email: str) -> Customer:
    with db.unit_of_work(readonly=True) as uow:
        found = uow.session.scalars(select(Customer).where(Customer.email == email)).one()
        uow.session.expunge(found)
    return found


def _outbox(db: Database) -> list[tuple[str, MailStatus, int, bool]]:
    with db.unit_of_work(readonly=True) as uow:
        found = uow.session.execute(
            select(
                OutboxMail.to_address,
                OutboxMail.status,
                OutboxMail.attempts,
                OutboxMail.secret.is_(None),
            )
        ).all()
    return [(row[0], row[1], row[2], row[3]) for row in found]


def test_two_workers_share_one_story_and_send_each_mail_once(
    server: tuple[Running, SmtpServer, Database],
) -> None:
    running, smtp, db = server
    driver = running.driver
    first, second = running.router.workers()

    # Open the hub, then Create Customer, then submit it: three requests, alternating workers.
    open_hub(driver)
    after(driver, driver.click("+ Create Customer"), "views.push")
    driver.wait_for_view(is_view(FORM, "Create Customer"))
    fill_form(
        driver,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.com",
            "mobile": "07700 900123",
            "password": "Engine-1843-Notes",
        },
    )
    hub = updated(driver, driver.submit())
    assert hub["callback_id"] == HUB
    assert "Ada Lovelace" in rows(hub)
    ada = _customer(db, "ada@example.com")
    assert (ada.first_name, ada.mobile, ada.status) == (
        "Ada",
        "+447700900123",
        CustomerStatus.ACTIVE,
    )

    # Search as you type: the other worker renders the view the first one opened.
    hub = updated(driver, driver.type("ada", into="Search"))
    assert rows(hub) == ["Ada Lovelace"]
    assert json.loads(hub["private_metadata"])["q"] == "ada"

    # Details, then Edit Contact from them, then save.
    after(driver, driver.click("Ada Lovelace"), "views.push")
    details = driver.wait_for_view(is_view(DETAILS, "Ada Lovelace"))
    assert ada.uid in text_of(details)
    after(driver, driver.click("Edit"), "views.push")
    driver.wait_for_view(is_view(FORM, "Edit Contact"))
    driver.type("Byron", into="Last name")
    saved = acked(driver.submit())
    driver.api.wait_for(
        "views.update", lambda c: c.params["view"]["callback_id"] == HUB, since=saved.mark
    )
    driver.wait_for_view(is_view(DETAILS, "Ada Byron"))
    assert _customer(db, "ada@example.com").last_name == "Byron"
    driver.close()
    hub = driver.wait_for_view(is_view(HUB, "Ada Byron"))

    # Archive from the row's menu.
    hub = updated(driver, row_menu(driver, hub, "Ada Byron", "Archive"))
    assert "Ada Byron" not in rows(hub)
    assert _customer(db, "ada@example.com").status is CustomerStatus.ARCHIVED

    # Every request went to the worker whose turn it was: the story spanned both processes.
    assert len(driver.served) >= 8
    assert driver.served == [(first, second)[n % 2] for n in range(len(driver.served))]

    # Every welcome mail (the backlog both outbox loops found at start-up, and Ada's) went
    # out once: one SENT row and one message each.
    expected = QUEUED_MAILS + 1
    deadline = time.monotonic() + MAIL_SECONDS
    while any(status is not MailStatus.SENT for _, status, _, _ in _outbox(db)):
        assert time.monotonic() < deadline, _outbox(db)
        time.sleep(0.02)
    received = smtp.wait_for(expected, timeout=MAIL_SECONDS)
    # One claim per mail (a second claim would have counted a second attempt) and one
    # message per mail at the server, each to its own address; the passwords are erased.
    outbox = _outbox(db)
    assert len(outbox) == expected
    assert {(attempts, erased) for _, _, attempts, erased in outbox} == {(1, True)}
    assert len(smtp.messages) == expected
    assert sorted(m.rcpt_tos[0] for m in received) == sorted(to for to, *_ in outbox)
    assert len({m.message["Message-ID"] for m in received}) == expected
    assert "Engine-1843-Notes" in next(
        m.body for m in received if m.rcpt_tos == ["ada@example.com"]
    )

    # SIGTERM stops the master and both workers cleanly.
    workers = [psutil.Process(pid) for pid in (first, second)]
    running.process.send_signal(signal.SIGTERM)
    assert running.process.wait(STOP_SECONDS) == 0, running.output()
    _gone, alive = psutil.wait_procs(workers, timeout=STOP_SECONDS)
    assert not alive
    output = running.output()
    assert output.count("Worker exiting") == WORKERS, output
    assert '"stopped"' in output, output
    # Nothing secret reached the logs of any process.
    secrets = [driver.api.bot_token, driver.app.signing_secret, "Engine-1843-Notes"]
    for secret in [*secrets, *running.queued_passwords]:
        assert secret not in output
