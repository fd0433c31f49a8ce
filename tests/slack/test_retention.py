"""`/customers retention` end to end: the chart and its numbers posted where everyone is staff,
else to the requester's DM saying why; never for strangers."""

from __future__ import annotations

import pytest

from core.actor import Actor
from core.models import Role
from tests.slack.conftest import ADMIN, STAFF, STRANGER, TEAM, World
from tests.slack.helpers import acked, customers_home, seed
from tests.slack.test_audience import channel, told
from tests.slack.test_chart import png_size
from tests.unit.commerce_helpers import london, open_shop, visit


@pytest.fixture
def visited(world: World) -> None:
    """Zoë's first visit in February and a second in March (the clock is 14 Mar 2026)."""
    admin = Actor(TEAM, ADMIN, Role.ADMIN)
    shop = open_shop(world.db, admin)
    zoe = seed(world.db, [("Zoë", "Ørsted")])[0]
    visit(world.db, admin, shop, zoe.uid, london("2026-02-10 10:00"))
    visit(world.db, admin, shop, zoe.uid, london("2026-03-10 10:00"))


def _uploaded(world: World, channel_id: str) -> str:
    """`/customers retention` typed in `channel_id`: the one upload's comment."""
    response = acked(world.staff.slash("/customers", "retention", channel_id=channel_id))
    assert "Building the retention report" in response.text
    world.api.wait_until(lambda: bool(world.api.files()), timeout=30, description="the upload")
    [upload] = world.api.files()
    assert upload.name == "retention.png"
    assert upload.content is not None
    assert png_size(upload.content) == (800, 350)
    return upload.initial_comment or ""


@pytest.mark.usefixtures("visited")
def test_a_channel_of_staff_gets_the_chart_and_the_numbers(world: World) -> None:
    where = channel(world, "CSTAFF", ADMIN, STAFF)
    comment = _uploaded(world, where)
    assert world.api.files()[0].channels == [where]
    assert f"Asked for by <@{STAFF}>" in comment
    assert "Month   Active  New  Returning  Lapsed" in comment
    assert "Feb 26       1    1          0       0" in comment
    assert "Mar 26       1    0          1       0" in comment
    assert "60 days without a visit" in comment


@pytest.mark.usefixtures("visited")
def test_a_channel_with_a_non_staff_member_gets_nothing_and_the_report_goes_to_the_dm(
    world: World,
) -> None:
    comment = _uploaded(world, channel(world, "CMIXED", ADMIN, STAFF, STRANGER))
    assert world.api.files()[0].channels == [world.api.dm_channel(STAFF)]
    assert world.api.messages("CMIXED") == []
    assert "#cmixed has members who aren't staff" in comment
    assert "Mar 26       1    0          1       0" in comment
    told(world, "Posted the retention report to your DM with the app: #cmixed has members")


def test_where_the_app_is_not_a_member_the_report_arrives_by_dm(world: World) -> None:
    world.api.fail("files.completeUploadExternal", "not_in_channel")
    comment = _uploaded(world, world.staff.channel_id)
    assert world.api.files()[0].channels == [world.api.dm_channel(STAFF)]
    assert "I couldn't post the retention report where you asked" in comment
    told(world, "to your DM with the app: I'm not a member of that conversation.")


def test_other_upload_failures_are_reported(world: World) -> None:
    world.api.fail("files.getUploadURLExternal", "missing_scope")
    acked(world.staff.slash("/customers", "retention"))
    told(world, "Slack didn't accept the chart (`missing_scope`)")
    assert world.api.files() == []


def test_strangers_get_no_report(world: World) -> None:
    response = acked(world.stranger.slash("/customers", "retention"))
    assert "Building" not in response.text
    assert world.api.calls("files.getUploadURLExternal") == []


@pytest.mark.usefixtures("visited")
def test_homes_retention_report_goes_to_the_dm(world: World) -> None:
    customers_home(world.staff)
    acked(world.staff.click("Retention report", surface="home"))
    world.api.wait_until(lambda: bool(world.api.files()), timeout=30, description="the upload")
    [upload] = world.api.files()
    assert upload.channels == [world.api.dm_channel(STAFF)]
    assert upload.name == "retention.png"
    assert "Mar 26       1    0          1       0" in (upload.initial_comment or "")
