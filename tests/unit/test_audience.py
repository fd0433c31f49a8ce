"""The audience rule's pure part (one member of a conversation) and who is staff among many."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.actor import Actor
from core.db import Database
from core.services.audience import Member, Reason, member_problem
from core.services.staff import add_staff, remove_staff, staff_among
from tests.conftest import MutableClock, make_settings, reset_postgres

TEAM = "T0001"


@pytest.mark.parametrize(
    ("member", "staff", "problem"),
    [
        (Member("U1", TEAM), True, None),
        (Member("U1", TEAM), False, Reason.NOT_STAFF),
        (Member("U1", TEAM, guest=True), True, Reason.GUEST),
        (Member("U1", "T0OTHER"), True, Reason.EXTERNAL),
        (Member("U1", TEAM, stranger=True), True, Reason.EXTERNAL),
        # The workspace's own apps and deactivated accounts read nothing as a person would.
        (Member("UBOT", TEAM, bot=True), False, None),
        (Member("U1", TEAM, deleted=True), False, None),
        # Another workspace's bot is as external as its people.
        (Member("UBOT2", "T0OTHER", bot=True), False, Reason.EXTERNAL),
    ],
)
def test_one_member(member: Member, staff: bool, problem: Reason | None) -> None:
    assert member_problem(member, team_id=TEAM, staff=staff) is problem


@pytest.fixture
def configured_db(database_url: str, clock: MutableClock) -> Iterator[Database]:
    database = Database(make_settings(database_url, admin_slack_user_ids="UBOSS"), clock=clock)
    if database.dialect == "postgresql":
        reset_postgres(database)
    try:
        yield database
    finally:
        database.dispose()


def test_staff_among_counts_configured_admins_and_staff_of_this_workspace_only(
    configured_db: Database, admin: Actor
) -> None:
    others = Actor("T0OTHER", "UADMIN2", admin.role)
    many = [f"U{n:05d}" for n in range(1200)]
    with configured_db.unit_of_work() as uow:
        add_staff(uow, admin, "UANNA")
        add_staff(uow, others, "UOTTO")
        for user in many[::2]:
            add_staff(uow, admin, user)
        remove_staff(uow, admin, many[0])
    asked = ["UBOSS", "UANNA", "UOTTO", "UNOBODY", *many]
    with configured_db.unit_of_work(readonly=True) as uow:
        found = staff_among(uow, TEAM, asked)
        assert staff_among(uow, TEAM, []) == set()
    assert found == {"UBOSS", "UANNA", *many[2::2]}
