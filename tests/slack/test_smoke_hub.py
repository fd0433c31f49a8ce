"""A first walk through the hub, end to end."""

from __future__ import annotations

from tests.slack.conftest import World


def test_create_and_find(world: World) -> None:
    admin = world.admin
    r = admin.slash("/customers")
    assert r.status == 200
    view = admin.wait_for_view(lambda v: v.get("callback_id") == "hub.view")
    assert "No customers yet" in str(view)
    admin.click("+ Create Customer")
    admin.wait_for_view(lambda v: v.get("callback_id") == "customer_form.submit")
    admin.type("Zoë", into="First name")
    admin.type("Ørsted", into="Last name")
    admin.type("zoe@example.com", into="Email")
    admin.type("07700 900123", into="Mobile")
    admin.submit()
    world.wait_text(admin, "Created Zoë Ørsted")
    admin.type("zoe", into="Search")
    world.wait_text(admin, "1–1 of 1")
