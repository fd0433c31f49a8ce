"""Where the app posts about a customer: into a conversation only when everyone in it is staff of
the workspace, otherwise to the requester's DM, saying why (DESIGN.md §5), end to end."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.app import create_app
from bot.local.driver import AppEndpoint, SlackDriver
from bot.local.http import serve_wsgi
from bot.local.slack_api import SlackChannel, SlackUser, UploadedFile
from bot.transport.wsgi import create_wsgi_app
from core.actor import Actor
from core.models import Role
from core.services.staff import add_staff, remove_staff
from tests.slack.conftest import ADMIN, CHANNEL, GUEST, STAFF, STRANGER, TEAM, World
from tests.slack.details_helpers import details_after, notice_of, open_details
from tests.slack.helpers import acked, seed

ZOE = [("Zoë", "Ørsted")]
PARTNER = "UPARTNER"  # a Slack Connect member of another organisation
PARTNER_TEAM = "T0PARTNER"


def chart_asked(world: World, channel_id: str, *, timeout: float = 30) -> UploadedFile:
    """`/customers chart zoë ørsted` by staff in `channel_id`: the one chart uploaded (the first
    draws after loading matplotlib, slow on a busy machine)."""
    seen = len(world.api.files())
    acked(world.staff.slash("/customers", "chart zoë ørsted", channel_id=channel_id))
    world.api.wait_until(
        lambda: len(world.api.files()) > seen, timeout=timeout, description="the chart's upload"
    )
    return world.api.files()[-1]


def told(world: World, needle: str) -> str:
    """The requester's ephemeral note containing `needle`, waited for."""

    def text() -> str:
        return "\n".join(m.text for m in world.api.ephemeral_messages(STAFF))

    world.api.wait_until(lambda: needle in text(), timeout=10, description=repr(needle))
    return text()


def channel(world: World, channel_id: str, *members: str, **kinds: bool) -> str:
    """A channel of `members` and the app."""
    world.api.add_channel(
        SlackChannel(channel_id, channel_id.lower(), (*members, world.api.bot_user_id), **kinds)
    )
    return channel_id


def test_a_channel_of_staff_gets_the_chart(world: World) -> None:
    seed(world.db, ZOE)
    upload = chart_asked(world, channel(world, "CSTAFF", ADMIN, STAFF))
    assert upload.channels == ["CSTAFF"]
    assert "Asked for by <@USTAFF>" in (upload.initial_comment or "")
    assert world.api.dm_channel(STAFF) not in upload.channels


@pytest.mark.parametrize(
    ("member", "why"),
    [
        (GUEST, "#cmixed has guests in it"),
        (STRANGER, "#cmixed has members who aren't staff"),
        (PARTNER, "#cmixed has members from outside this workspace"),
    ],
    ids=["guest", "non-staff", "slack-connect-member"],
)
def test_a_channel_with_anyone_but_staff_gets_nothing_and_the_chart_goes_to_the_dm(
    world: World, member: str, why: str
) -> None:
    seed(world.db, ZOE)
    world.api.add_user(SlackUser(PARTNER, "partner", team_id=PARTNER_TEAM))
    with world.db.unit_of_work() as uow:
        # Even granted access here, a member of another workspace is not this workspace's staff.
        add_staff(uow, Actor(TEAM, ADMIN, Role.ADMIN), PARTNER)
    upload = chart_asked(world, channel(world, "CMIXED", ADMIN, STAFF, member))
    dm = world.api.dm_channel(STAFF)
    assert upload.channels == [dm]
    assert world.api.messages("CMIXED") == []
    assert why in (upload.initial_comment or "")
    note = told(world, "to your DM with the app")
    assert f"Posted Zoë Ørsted's sales chart to your DM with the app: {why}." in note


@pytest.mark.parametrize(
    "sharing",
    [{"is_ext_shared": True}, {"is_pending_ext_shared": True}, {"is_org_shared": True}],
    ids=["slack-connect", "invited-to-slack-connect", "org-shared"],
)
def test_a_shared_channel_is_never_all_staff(world: World, sharing: dict[str, bool]) -> None:
    seed(world.db, ZOE)
    # Only staff in it so far: the other side's retention and invitations still apply.
    upload = chart_asked(world, channel(world, "CSHARED", ADMIN, STAFF, **sharing))
    assert upload.channels == [world.api.dm_channel(STAFF)]
    told(world, "#cshared is shared with another organisation or workspace")


def test_a_stranger_flagged_by_slack_counts_as_external(world: World) -> None:
    seed(world.db, ZOE)
    world.api.add_user(SlackUser("USTRANGE", "strange", team_id=TEAM, is_stranger=True))
    upload = chart_asked(world, channel(world, "CCONNECT", STAFF, "USTRANGE"))
    assert upload.channels == [world.api.dm_channel(STAFF)]
    told(world, "has members from outside this workspace")


def test_in_the_dm_with_the_app_the_chart_posts_there_without_a_note(world: World) -> None:
    seed(world.db, ZOE)
    dm = world.api.dm_channel(STAFF)
    upload = chart_asked(world, dm)
    assert upload.channels == [dm]
    assert "Only you can see it here" not in (upload.initial_comment or "")
    assert "to your DM" not in "\n".join(m.text for m in world.api.ephemeral_messages(STAFF))


def test_a_group_dm_posts_only_when_everyone_in_it_is_staff(world: World) -> None:
    seed(world.db, ZOE)
    assert chart_asked(world, channel(world, "GSTAFF", ADMIN, STAFF, is_mpim=True)).channels == [
        "GSTAFF"
    ]
    upload = chart_asked(world, channel(world, "GMIXED", STAFF, STRANGER, is_mpim=True))
    assert upload.channels == [world.api.dm_channel(STAFF)]
    # A group DM has no name to show.
    told(world, "That conversation has members who aren't staff")


def test_a_dm_between_people_the_app_cannot_see_sends_the_chart_to_the_dm(world: World) -> None:
    seed(world.db, ZOE)
    upload = chart_asked(world, "DSOMEONEELSE")
    assert upload.channels == [world.api.dm_channel(STAFF)]
    told(world, "I couldn't check who is in that conversation")


@pytest.mark.parametrize("error", ["not_in_channel", "missing_scope", "ratelimited"])
def test_when_slack_wont_say_who_is_in_it_the_chart_goes_to_the_dm(
    world: World, error: str
) -> None:
    seed(world.db, ZOE)
    if error == "ratelimited":
        # More 429s than the client's two retries.
        world.api.rate_limit("conversations.members", times=3)
    else:
        world.api.fail("conversations.members", error)
    upload = chart_asked(world, CHANNEL)
    assert upload.channels == [world.api.dm_channel(STAFF)]
    assert world.api.messages(CHANNEL) == []
    told(world, "I couldn't check who is in #front-desk")


def test_an_install_without_the_read_scopes_fails_safe(world: World) -> None:
    seed(world.db, ZOE)
    world.api.fail("conversations.info", "missing_scope")
    upload = chart_asked(world, CHANNEL)
    assert upload.channels == [world.api.dm_channel(STAFF)]
    told(world, "I couldn't check who is in that conversation")


def test_a_public_channel_of_staff_without_the_app_gets_the_invite_hint_by_dm(
    world: World,
) -> None:
    seed(world.db, ZOE)
    # Its members can be read (channels:read) but the app may not post there.
    world.api.add_channel(SlackChannel("COPEN", "open", (ADMIN, STAFF)))
    upload = chart_asked(world, "COPEN")
    dm = world.api.dm_channel(STAFF)
    assert upload.channels == [dm]
    assert "/invite" in (upload.initial_comment or "")
    told(world, "to your DM with the app: I'm not a member of that conversation.")


def test_a_guest_joining_is_seen_at_once_not_after_the_cache_expires(world: World) -> None:
    seed(world.db, ZOE)
    assert chart_asked(world, CHANNEL).channels == [CHANNEL]
    answer = world.admin.join(CHANNEL, GUEST)
    assert answer.status == 200
    assert world.api.calls("views.publish", since=answer.mark) == [], "the joiner isn't refused"
    upload = chart_asked(world, CHANNEL)
    assert upload.channels == [world.api.dm_channel(STAFF)]
    told(world, "#front-desk has guests in it")
    # And when the guest leaves, the channel is all staff again.
    world.admin.leave(CHANNEL, GUEST)
    assert chart_asked(world, CHANNEL).channels == [CHANNEL]


def test_without_the_event_the_members_are_remembered_for_a_while(world: World) -> None:
    seed(world.db, ZOE)
    assert chart_asked(world, CHANNEL).channels == [CHANNEL]
    mark = world.api.mark()
    assert chart_asked(world, CHANNEL).channels == [CHANNEL]
    assert world.api.calls("conversations.members", since=mark) == []
    # Slack changed the channel but no event arrived: the minute's cache still answers, which
    # is what the member_joined_channel listener is there to cut short.
    world.api.join(CHANNEL, GUEST)
    assert chart_asked(world, CHANNEL).channels == [CHANNEL]


def test_a_join_heard_by_another_worker_is_seen_here_at_once(world: World) -> None:
    seed(world.db, ZOE)
    assert chart_asked(world, CHANNEL).channels == [CHANNEL]
    # A second worker on the same database; Slack's event reaches only it.
    pool = ThreadPoolExecutor(2)
    other = create_app(world.db.settings, world.db, listener_executor=pool)
    root, stop = serve_wsgi(create_wsgi_app(other, world.db))
    try:
        endpoint = AppEndpoint(root + "/slack/events", world.signing_secret)
        there = SlackDriver(world.api, endpoint, user_id=ADMIN, team_id=TEAM, channel_id=CHANNEL)
        assert there.join(CHANNEL, GUEST).status == 200
    finally:
        stop()
        pool.shutdown(wait=True)
    mark = world.api.mark()
    assert chart_asked(world, CHANNEL).channels == [world.api.dm_channel(STAFF)]
    assert world.api.calls("conversations.members", since=mark), "asked Slack again"


def test_taking_someone_off_staff_counts_at_once(world: World) -> None:
    seed(world.db, ZOE)
    admin = Actor(TEAM, ADMIN, Role.ADMIN)
    world.api.add_user(SlackUser("USAM", "sam", team_id=TEAM))
    with world.db.unit_of_work() as uow:
        add_staff(uow, admin, "USAM")
    assert chart_asked(world, channel(world, "CTEAM", STAFF, "USAM")).channels == ["CTEAM"]
    with world.db.unit_of_work() as uow:
        remove_staff(uow, admin, "USAM")
    # The members are remembered; who is staff is read afresh each time.
    assert chart_asked(world, "CTEAM").channels == [world.api.dm_channel(STAFF)]
    told(world, "#cteam has members who aren't staff")


def test_members_are_read_page_by_page(world: World) -> None:
    seed(world.db, ZOE)
    crowd = [f"UCROWD{n:04d}" for n in range(450)]
    admin = Actor(TEAM, ADMIN, Role.ADMIN)
    with world.db.unit_of_work() as uow:
        for user in crowd:
            add_staff(uow, admin, user)
    for user in crowd:
        world.api.add_user(SlackUser(user, user.lower(), team_id=TEAM))
    mark = world.api.mark()
    # 450 members, each looked up once: ample time on a busy machine.
    crowded = chart_asked(world, channel(world, "CCROWD", *crowd), timeout=60)
    assert crowded.channels == ["CCROWD"]
    pages = world.api.calls("conversations.members", since=mark)
    assert [len(c.response["members"]) for c in pages] == [200, 200, 51]
    assert "cursor" not in pages[0].params
    assert [c.params["cursor"] for c in pages[1:]] == [
        pages[0].response["response_metadata"]["next_cursor"],
        pages[1].response["response_metadata"]["next_cursor"],
    ]
    # Someone who isn't staff on the last page is found too.
    upload = chart_asked(world, channel(world, "CCROWD2", *crowd, STRANGER), timeout=60)
    assert upload.channels == [world.api.dm_channel(STAFF)]


def test_post_chart_in_the_details_says_it_went_to_the_dm_and_why(world: World) -> None:
    seed(world.db, [("Zoe", "Adams")])
    channel(world, "CMIXED", STAFF, GUEST)
    driver = world.staff.as_user(STAFF)
    driver.channel_id = "CMIXED"
    open_details(driver, "Zoe Adams")
    view = details_after(driver, driver.click("Post chart"), "Posted Zoe Adams's sales chart")
    assert "to your DM with the app: #cmixed has guests in it." in notice_of(view)
    (upload,) = world.api.files()
    assert upload.channels == [world.api.dm_channel(STAFF)]
    assert world.api.messages("CMIXED") == []


def test_a_choice_among_matches_posts_by_the_same_rule(world: World) -> None:
    seed(world.db, [("Zoe", "Adams"), ("Zoe", "Young")])
    channel(world, "CMIXED", STAFF, STRANGER)
    acked(world.staff.slash("/customers", "chart zoe", channel_id="CMIXED"))
    world.api.wait_until(
        lambda: any(m.blocks for m in world.api.ephemeral_messages(STAFF)),
        timeout=10,
        description="the choice",
    )
    [choice] = [m for m in world.api.ephemeral_messages(STAFF) if m.blocks]
    [young] = [b["block_id"] for b in choice.blocks if "Young" in str(b) and "accessory" in b]
    acked(world.staff.click("Post chart", in_block=young, message=choice))
    told(world, "Posted Zoe Young's sales chart to your DM with the app")
    assert [f.channels for f in world.api.files()] == [[world.api.dm_channel(STAFF)]]


@pytest.mark.parametrize("who", [STRANGER, GUEST, "UOUTSIDER"])
def test_anyone_joining_is_heard_and_nobody_is_refused_for_it(world: World, who: str) -> None:
    world.api.add_user(SlackUser("UOUTSIDER", "outsider", team_id=PARTNER_TEAM))
    answer = world.admin.join(CHANNEL, who)
    assert answer.status == 200
    world.admin.leave(CHANNEL, who)
    assert world.api.calls("views.publish") == []
    assert world.api.calls("chat.postEphemeral") == []
