"""The sales chart end to end: `/customers chart NAME` uploads, and signed image links serve it."""

from __future__ import annotations

import io
import threading
import urllib.error
import urllib.request
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from matplotlib.figure import Figure
from PIL import Image
from sqlalchemy import select

import core.adapters.charts
import core.services.sales
from bot.transport.wsgi import EVENTS_PATH
from core.chart_links import chart_key, link_expiry, sign_chart_url
from core.demo.customers import load_demo_customers, load_demo_history
from core.models import Booking, BookingState, Customer, Pass, PassState, VideoPurchase
from core.services.sales import SalesSeries
from tests.conftest import MutableClock
from tests.slack.conftest import STAFF, TEAM, World
from tests.slack.helpers import acked, post_raw, seed

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OTHER_TEAM = "T0002"
ZOE = [("Zoë", "Ørsted"), ("Zoey", "Quinn"), ("Zoe", "Young"), ("Mark", "Taylor")]
# Loopback requests must never be routed through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(PNG_SIGNATURE)
    return Image.open(io.BytesIO(data)).size


def ephemeral_text(world: World, user: str = STAFF) -> str:
    return "\n".join(m.text for m in world.api.ephemeral_messages(user))


def wait_ephemeral(world: World, needle: str) -> None:
    world.api.wait_until(
        lambda: needle in ephemeral_text(world), timeout=10, description=f"a reply with {needle!r}"
    )


# ----------------------------------------------------------------- /customers chart NAME


def test_chart_command_acks_at_once_then_uploads_the_png_here(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    zoe = seed(world.db, ZOE)[0]
    # Hold rendering until the ack is in: proves the upload happens after it, not before.
    release = threading.Event()
    real_render = core.adapters.charts.render_sales_chart

    def held_render(series: SalesSeries, *, title: str) -> bytes:
        assert release.wait(10), "the test never released the render"
        return real_render(series, title=title)

    monkeypatch.setattr("bot.surfaces.charts.render_sales_chart", held_render)

    response = acked(world.staff.slash("/customers", "chart zoë ørsted"))
    assert "Finding 'zoë ørsted' to post their sales chart" in response.data["text"]
    assert world.api.files() == []
    release.set()
    world.api.wait_until(lambda: bool(world.api.files()), timeout=10, description="the upload")

    [upload] = world.api.files()
    assert upload.name == f"sales-{zoe.uid}.png"
    assert upload.title == "Sales — Zoë Ørsted"
    assert upload.channels == [world.staff.channel_id]
    assert upload.content is not None
    assert png_size(upload.content) == (800, 350)
    [shared] = world.staff.messages()
    assert "*Zoë Ørsted*" in shared.text
    assert f"<@{STAFF}>" in shared.text


def test_a_name_matching_several_posts_nothing_and_offers_the_matches(world: World) -> None:
    zoe, zoey, young, _ = seed(world.db, ZOE)
    acked(world.staff.slash("/customers", "chart zoe"))
    world.api.wait_until(
        lambda: any(m.blocks for m in world.api.ephemeral_messages(STAFF)),
        timeout=10,
        description="the choice",
    )
    [choice] = [m for m in world.api.ephemeral_messages(STAFF) if m.blocks]
    assert "3 customers match 'zoe'. Whose sales chart should I post here?" in str(choice.blocks)
    offered = [b["accessory"]["value"] for b in choice.blocks if "accessory" in b]
    assert sorted(offered) == sorted([zoe.uid, zoey.uid, young.uid])
    assert world.api.files() == [], "nobody's chart is posted on a guess"

    acked(world.staff.click("Post chart", in_block=f"chart_{zoey.uid}", message=choice))
    world.api.wait_until(lambda: bool(world.api.files()), timeout=10, description="the upload")
    [upload] = world.api.files()
    assert upload.name == f"sales-{zoey.uid}.png"
    assert upload.channels == [world.staff.channel_id]
    wait_ephemeral(world, "Posted Zoey Quinn's sales chart here.")


def test_a_name_that_is_one_customers_whole_name_is_not_ambiguous(world: World) -> None:
    people = seed(world.db, [("Zoe", "Young"), ("Zoe", "Youngblood")])
    acked(world.staff.slash("/customers", "chart zoe young"))
    world.api.wait_until(lambda: bool(world.api.files()), timeout=10, description="the upload")
    assert world.api.files()[0].name == f"sales-{people[0].uid}.png"


def test_a_single_match_posts_without_a_note(world: World) -> None:
    mark = seed(world.db, ZOE)[3]
    acked(world.staff.slash("/customers", "chart mark taylor"))
    world.api.wait_until(lambda: bool(world.api.files()), timeout=10, description="the upload")
    assert world.api.files()[0].name == f"sales-{mark.uid}.png"
    assert "others match" not in ephemeral_text(world)


def test_no_match_says_so_and_uploads_nothing(world: World) -> None:
    seed(world.db, ZOE)
    acked(world.staff.slash("/customers", "chart <nobody>"))
    wait_ephemeral(world, "No customer matches '&lt;nobody&gt;'.")
    assert world.api.files() == []


def test_another_tenants_customers_are_not_found(world: World) -> None:
    seed(world.db, [("Olga", "Elsewhere")], team_id=OTHER_TEAM)
    acked(world.staff.slash("/customers", "chart olga"))
    wait_ephemeral(world, "No customer matches 'olga'.")
    assert world.api.files() == []


def test_chart_without_a_name_explains_the_usage(world: World) -> None:
    response = acked(world.staff.slash("/customers", "chart"))
    assert "Usage: `/customers chart NAME`" in response.text
    assert world.api.calls("files.getUploadURLExternal", since=response.mark) == []


@pytest.mark.parametrize("error", ["not_in_channel", "channel_not_found"])
def test_where_the_app_cannot_post_the_chart_arrives_by_dm(world: World, error: str) -> None:
    zoe = seed(world.db, ZOE)[0]
    # Everyone in the channel is staff, but Slack refuses the upload there.
    world.api.fail("files.completeUploadExternal", error)
    acked(world.staff.slash("/customers", "chart zoë ørsted"))
    dm = world.api.dm_channel(STAFF)
    world.api.wait_until(
        lambda: any(f.channels == [dm] for f in world.api.files()),
        timeout=10,
        description="the chart in the DM",
    )
    [upload] = world.api.files()
    assert upload.name == f"sales-{zoe.uid}.png"
    [note] = world.api.messages(dm)
    assert "I couldn't post the chart for *Zoë Ørsted* where you asked" in note.text
    assert "/invite" in note.text
    assert world.api.messages(world.staff.channel_id) == []
    wait_ephemeral(world, "to your DM with the app: I'm not a member of that conversation.")


def test_other_upload_failures_are_reported_not_swallowed(world: World) -> None:
    seed(world.db, ZOE)
    world.api.fail("files.getUploadURLExternal", "missing_scope")
    acked(world.staff.slash("/customers", "chart mark"))
    wait_ephemeral(world, "Slack didn't accept the chart (`missing_scope`)")
    assert world.api.files() == []


def test_non_staff_cannot_post_a_chart(world: World) -> None:
    seed(world.db, ZOE)
    response = acked(world.stranger.slash("/customers", "chart zoe"))
    assert "Finding" not in response.text
    assert world.api.calls("files.getUploadURLExternal") == []


# ----------------------------------------------------------------- signed image links


def root_of(world: World) -> str:
    return world.url.removesuffix(EVENTS_PATH)


def link(world: World, clock: MutableClock, uid: str, *, team_id: str = TEAM) -> str:
    return sign_chart_url(
        root_of(world),
        secret=chart_key(world.signing_secret),
        team_id=team_id,
        customer_uid=uid,
        expires_at=link_expiry(clock()),
    )


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with _OPENER.open(url, timeout=10) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_a_signed_link_serves_the_png(world: World, clock: MutableClock) -> None:
    zoe = seed(world.db, ZOE)[0]
    url = link(world, clock, zoe.uid)
    status, headers, body = get(url)
    assert status == 200
    assert headers["Content-Type"] == "image/png"
    assert png_size(body) == (800, 350)
    remaining = link_expiry(clock()) - int(clock().timestamp())
    assert headers["Cache-Control"] == f"private, max-age={remaining}"


def assert_refused(url: str, status: int = 403) -> None:
    got, headers, body = get(url)
    assert got == status
    assert headers["Content-Type"].startswith("text/plain")
    assert len(body) < 100
    assert b"Traceback" not in body


def test_tampered_links_are_refused(world: World, clock: MutableClock) -> None:
    zoe, zoey = seed(world.db, ZOE)[:2]
    url = link(world, clock, zoe.uid)
    assert_refused(url.replace(zoe.uid, zoey.uid))
    expiry = str(link_expiry(clock()))
    assert_refused(url.replace(expiry, str(int(expiry) + 3600)))
    mac_start = url.rindex(".", 0, -len(".png")) + 1
    flipped = "A" if url[mac_start] != "A" else "B"
    assert_refused(url[:mac_start] + flipped + url[mac_start + 1 :])
    assert_refused(root_of(world) + "/charts/garbage.png")
    assert_refused(root_of(world) + "/charts/" + "A" * 5000 + ".png")


def test_an_expired_link_is_refused(world: World, clock: MutableClock) -> None:
    zoe = seed(world.db, ZOE)[0]
    url = link(world, clock, zoe.uid)
    assert get(url)[0] == 200
    clock.advance(seconds=link_expiry(clock()) - clock().timestamp())
    assert_refused(url)


def test_a_link_cannot_reach_another_tenant(world: World, clock: MutableClock) -> None:
    seed(world.db, ZOE)
    [olga] = seed(world.db, [("Olga", "Elsewhere")], team_id=OTHER_TEAM)
    # A link signed for this workspace naming the other workspace's customer finds nobody.
    assert_refused(link(world, clock, olga.uid), 404)
    # Re-labelling a genuine link with the other workspace breaks its signature.
    own = link(world, clock, olga.uid)
    assert_refused(own.replace(f".{TEAM}.", f".{OTHER_TEAM}."))
    # Only the other workspace's own link shows the other workspace's customer.
    assert get(link(world, clock, olga.uid, team_id=OTHER_TEAM))[0] == 200


def test_a_deleted_customer_is_not_found(world: World, clock: MutableClock) -> None:
    assert_refused(link(world, clock, "0123ABCDEFGH"), 404)


def test_other_methods_and_paths_are_not_charts(world: World, clock: MutableClock) -> None:
    zoe = seed(world.db, ZOE)[0]
    url = link(world, clock, zoe.uid)
    status, _ = post_raw(url, b"", {})
    assert status == 404
    assert_refused(url.removesuffix(".png"), 404)


def expected_counts(world: World, uid: str, months: list[str], zone: str) -> list[list[int]]:
    """Purchases per month and kind, counted independently of the sales service."""
    tz = ZoneInfo(zone)
    counts: list[Counter[str]] = [Counter(), Counter(), Counter()]

    def label(moment: datetime) -> str:
        return core.services.sales.month_label(moment.astimezone(tz).date())

    with world.db.unit_of_work(readonly=True) as uow:
        customer = uow.session.scalars(select(Customer).where(Customer.uid == uid)).one()
        for booking in uow.session.scalars(
            select(Booking).where(Booking.customer_id == customer.id)
        ):
            if booking.state is not BookingState.CANCELLED:
                counts[0][label(booking.booked_at)] += 1
        for bought in uow.session.scalars(select(Pass).where(Pass.customer_id == customer.id)):
            if bought.state is not PassState.CANCELLED:
                counts[1][label(bought.purchased_at)] += 1
        videos = select(VideoPurchase).where(VideoPurchase.customer_id == customer.id)
        for video in uow.session.scalars(videos):
            if video.cancelled_at is None:
                counts[2][label(video.purchased_at)] += 1
    return [[kind[month] for month in months] for kind in counts]


def test_the_plotted_values_equal_the_database_counts(
    world: World, clock: MutableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with world.db.unit_of_work() as uow:
        load_demo_customers(uow, TEAM, 4, seed=11)
        load_demo_history(uow, TEAM, customers_limit=4, seed=11)
    with world.db.unit_of_work(readonly=True) as uow:
        uids = list(uow.session.scalars(select(Customer.uid).where(Customer.team_id == TEAM)))
    drawn: list[Figure] = []
    real_figure = core.adapters.charts.sales_figure

    def recording_figure(series: SalesSeries, *, title: str) -> Figure:
        drawn.append(real_figure(series, title=title))
        return drawn[-1]

    monkeypatch.setattr(core.adapters.charts, "sales_figure", recording_figure)
    total = 0
    for uid in uids:
        status, _, body = get(link(world, clock, uid))
        assert status == 200
        assert png_size(body) == (800, 350)
        ax = drawn[-1].axes[0]
        months = [t.get_text() for t in ax.get_xticklabels()]
        assert len(months) == 12
        assert months[-1] == "Mar 26"
        zone = ax.get_xlabel().removeprefix("Month (").removesuffix(")")
        plotted = [[int(bar.get_height()) for bar in bars] for bars in ax.containers]
        assert plotted == expected_counts(world, uid, months, zone)
        total += sum(map(sum, plotted))
    assert total > 0, "the demo history should give at least one purchase to chart"
