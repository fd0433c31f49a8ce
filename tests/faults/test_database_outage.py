"""PostgreSQL stopped and started under the running app: plain answers, nothing half-written, recovery."""

# ruff: noqa: F811 - tests take the imported fixtures as parameters

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from core.adapters.mail import OutboxWorker, SmtpTransport
from core.db import Database
from core.models import Customer, HistoryEntry, MailStatus, OutboxMail
from core.services import customers
from core.services.customers import CustomerInput
from tests.pg_cluster import PrivateCluster
from tests.slack.conftest import World, world  # noqa: F401 - fixture
from tests.slack.helpers import (
    ADMIN_ACTOR,
    FORM,
    HUB,
    acked,
    after,
    customers_home,
    fill_form,
    is_view,
    open_hub,
    seed,
    text_of,
    typed_values,
    updated,
    watch_logs,
)
from tests.smtp_server import SmtpServer
from tests.views_check import assert_valid_view

DOWN = "couldn't reach its database"
ZOE = {
    "first_name": "Zoe",
    "last_name": "Adams",
    "email": "zoe@example.com",
    "mobile": "07700 900123",
}


@pytest.fixture
def database_url(cluster_url: str, running_cluster: PrivateCluster) -> str:
    """The `world` fixture runs on the private cluster, which these tests stop and start."""
    return cluster_url


def _health(world: World) -> int:
    url = world.url.removesuffix("/slack/events") + "/healthz"
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 - loopback URL we built
            return int(reply.status)
    except urllib.error.HTTPError as error:
        return error.code


def _count(db: Database, model: type[object]) -> int:
    with db.unit_of_work(readonly=True) as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def _no_traceback(text: str) -> None:
    assert "Traceback" not in text and "OperationalError" not in text and "psycopg" not in text


def test_a_submission_while_the_database_is_down_is_refused_plainly_then_saved_once(
    world: World, running_cluster: PrivateCluster
) -> None:
    driver = world.staff
    open_hub(driver)
    after(driver, driver.click("+ Create Customer"), "views.push")
    driver.wait_for_view(is_view(FORM, "Create Customer"))
    fill_form(driver, ZOE)
    assert _health(world) == 200

    running_cluster.stop()
    assert _health(world) == 503
    response = acked(driver.submit())
    assert response.data.get("response_action") == "errors", response.text
    (message,) = driver.errors().values()
    assert DOWN in message and "try again" in message
    _no_traceback(response.text)
    form = driver.current_view()
    assert form is not None and form["callback_id"] == FORM
    assert typed_values(form)["email"] == ZOE["email"], "what was typed is kept"

    running_cluster.start()
    assert _health(world) == 200
    hub = updated(driver, driver.submit())
    assert hub["callback_id"] == HUB and "Created Zoe Adams" in text_of(hub)
    assert _count(world.db, Customer) == 1
    assert _count(world.db, OutboxMail) == 1
    assert _count(world.db, HistoryEntry) == 1


def test_opening_the_hub_details_or_home_during_an_outage_answers_plainly(
    world: World, running_cluster: PrivateCluster
) -> None:
    seed(world.db, [("Zoe", "Adams")])
    driver = world.staff
    open_hub(driver)

    running_cluster.stop()
    # A name in the open hub: its details can't be read.
    shown = after(driver, driver.click("Zoe Adams"), "views.push")
    assert DOWN in text_of(shown.params["view"])
    assert_valid_view(shown.params["view"])
    # The slash command answers in the channel, only to them.
    reply = acked(driver.slash("/customers"))
    assert DOWN in reply.data.get("text", ""), reply.text
    assert reply.data.get("response_type") == "ephemeral"
    # The Home tab says so instead of staying blank.
    home = after(driver, driver.open_home(), "views.publish")
    assert DOWN in text_of(home.params["view"])
    assert_valid_view(home.params["view"])
    for call in world.api.calls():
        _no_traceback(str(call.params))

    running_cluster.start()
    hub = open_hub(driver)
    assert "Zoe Adams" in text_of(hub)
    assert "Zoe Adams" in text_of(customers_home(driver))


def test_a_restart_between_two_steps_of_one_flow_is_not_noticed(
    world: World, running_cluster: PrivateCluster
) -> None:
    driver = world.staff
    open_hub(driver)
    after(driver, driver.click("+ Create Customer"), "views.push")
    fill_form(driver, ZOE)
    # Every pooled connection dies with the server; each is found closed and replaced on checkout.
    running_cluster.restart(mode="immediate")
    hub = updated(driver, driver.submit())
    assert "Created Zoe Adams" in text_of(hub)
    assert _count(world.db, Customer) == 1


def test_a_transaction_cut_by_a_restart_writes_nothing(
    world: World, running_cluster: PrivateCluster
) -> None:
    data = CustomerInput(**ZOE)
    uow_context = world.db.unit_of_work()
    uow = uow_context.__enter__()
    customers.create_customer(uow, ADMIN_ACTOR, data)
    uow.session.flush()
    # The server goes away with the transaction open: its commit fails, the rows are gone.
    running_cluster.restart(mode="fast")
    with pytest.raises(OperationalError):
        uow_context.__exit__(None, None, None)
    assert _count(world.db, Customer) == 0
    assert _count(world.db, OutboxMail) == 0
    with world.db.unit_of_work() as uow:
        customers.create_customer(uow, ADMIN_ACTOR, data)
    assert _count(world.db, Customer) == 1


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def test_the_mail_worker_rides_out_an_outage_and_sends_once(
    world: World, running_cluster: PrivateCluster, smtp: SmtpServer
) -> None:
    with world.db.unit_of_work() as uow:
        customers.create_customer(uow, ADMIN_ACTOR, CustomerInput(**ZOE))
    running_cluster.stop()
    worker = OutboxWorker(world.db, SmtpTransport(smtp.url), interval=0.05)
    with watch_logs() as logs:
        worker.start()
        try:
            logs.wait_for("mail outbox pass failed")
            assert worker.running and smtp.messages == []
            running_cluster.start()
            (mail,) = smtp.wait_for(1)
        finally:
            worker.stop()
    assert mail.rcpt_tos == [ZOE["email"]]
    with world.db.unit_of_work(readonly=True) as uow:
        statuses = list(uow.session.scalars(select(OutboxMail.status)))
    assert statuses == [MailStatus.SENT]
    assert len(smtp.messages) == 1
