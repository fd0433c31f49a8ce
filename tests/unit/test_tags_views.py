"""The tag and consent views: suggestions, the details' lines, the admins' modal at its limits."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.views.notice import Notice
from bot.views.tabs import DetailsMeta
from bot.views.tags import (
    SELECT_MAX,
    ConsentFormMeta,
    TagsFormMeta,
    consent_form,
    profile_blocks,
    tag_options,
    tags_admin_modal,
    tags_form,
)
from core.models import ConsentSource, ConsentState
from core.services.consent import Consent
from core.services.tags import TagUse
from tests.views_check import assert_valid_view

UNKNOWN = Consent(ConsentState.UNKNOWN, None, None)


def test_typed_text_is_offered_as_a_new_tag_only_when_no_tag_has_that_name() -> None:
    assert [o["value"] for o in tag_options(["VIP"], "  vip ")] == ["VIP"]
    new = tag_options(["VIP"], "Early   bird")
    assert [(o["text"]["text"], o["value"]) for o in new] == [
        ("New tag: Early bird", "Early bird"),
        ("VIP", "VIP"),
    ]
    assert tag_options([], "") == []
    assert len(tag_options([], "x" * 80)[0]["value"]) == 40


def test_the_admins_modal_lists_every_tag_and_offers_the_first_hundred() -> None:
    many = [TagUse(i, f"tag {i:03d}", i % 3) for i in range(1, 151)]
    modal = tags_admin_modal(many, Notice("Renamed.", ok=True))
    assert_valid_view(modal)
    text = str(modal)
    assert "tag 150" in text and "1 customer" in text
    (select,) = [b for b in modal["blocks"] if b.get("block_id") == "tag"]
    assert len(select["element"]["options"]) == SELECT_MAX
    empty = tags_admin_modal([])
    assert_valid_view(empty)
    assert "submit" not in empty


def test_details_lines_offer_changes_only_when_the_record_takes_them() -> None:
    given = Consent(ConsentState.GRANTED, datetime(2026, 1, 5, 10, tzinfo=UTC), ConsentSource.PHONE)
    editable = profile_blocks(["VIP", "*bold*"], given, "Europe/London", editable=True)
    assert editable[0]["text"]["text"] == "*Tags* `VIP` `*bold*`"
    assert "Granted · 5 Jan 2026" in editable[1]["text"]["text"]
    assert "through staff, on the phone" in editable[1]["text"]["text"]
    assert all("accessory" in block for block in editable)
    frozen = profile_blocks([], UNKNOWN, "UTC", editable=False)
    assert frozen[0]["text"]["text"] == "*Tags* none"
    assert not any("accessory" in block for block in frozen)


def test_the_forms_are_valid_views() -> None:
    details = DetailsMeta(uid="ABC")
    assert_valid_view(tags_form(TagsFormMeta(view_id="V1", details=details), "Zoë", ["VIP"]))
    assert_valid_view(consent_form(ConsentFormMeta(view_id="V1", details=details), "Zoë", UNKNOWN))
