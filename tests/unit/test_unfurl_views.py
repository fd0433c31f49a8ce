"""The Work Objects a customer link unfurls as: shaped as slack_sdk's models describe them,
accepted by the local Slack's checks, and personal data only in the staff card."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from slack_sdk.models.metadata import (
    EntityActionButton,
    EntityActions,
    EntityAttributes,
    EntityCustomField,
    EntityMetadata,
    EntityPayload,
    EntityTitle,
    ExternalRef,
)

from bot.local.blockkit import entity_problems, message_problems
from bot.views.unfurls import (
    Unfurl,
    card_unfurl,
    details_entity,
    gone_unfurl,
    private_unfurl,
    restricted_error,
    unfurl_arguments,
)
from core.models import CustomerStatus
from core.services.customer_cards import CustomerCard, NoteLine, PassLine, Upcoming

URL = "https://records.example.test/c/0123456789AB"
CARD = CustomerCard(
    uid="0123456789AB",
    full_name="Zoë Ørsted",
    status=CustomerStatus.ACTIVE,
    email="zoe@example.com",
    mobile="+447700900100",
    upcoming=(Upcoming("Morning flow", datetime(2026, 3, 20, 9, 0, tzinfo=UTC)),),
    passes=(PassLine("Ten classes", 7, date(2026, 6, 1)),),
    notes=(NoteLine(datetime(2026, 3, 10, 12, 0, tzinfo=UTC), "Prefers mornings"),),
)


def sdk_shaped(entity: dict[str, Any]) -> dict[str, Any]:
    """The entity rebuilt from slack_sdk's models: any key they don't know is dropped."""
    payload = entity["entity_payload"]
    attributes = dict(payload["attributes"])
    attributes["title"] = EntityTitle(**attributes["title"])
    actions = payload.get("actions")
    built = EntityPayload(
        attributes=EntityAttributes(**attributes),
        custom_fields=[EntityCustomField(**f) for f in payload.get("custom_fields", [])] or None,
        actions=EntityActions(
            primary_actions=[EntityActionButton(**a) for a in actions["primary_actions"]]
        )
        if actions
        else None,
    )
    metadata = EntityMetadata(
        entity_type=entity["entity_type"],
        entity_payload=built,
        external_ref=ExternalRef(**entity["external_ref"]),
        url=entity["url"],
        app_unfurl_url=entity["app_unfurl_url"],
    )
    shaped: dict[str, Any] = metadata.to_dict()
    return shaped


@pytest.mark.parametrize(
    "entity",
    [
        card_unfurl(URL, CARD, "Europe/London").entity,
        private_unfurl(URL, CARD.uid).entity,
        gone_unfurl(URL, CARD.uid).entity,
        details_entity(URL, CARD, "Europe/London"),
    ],
    ids=["card", "private", "gone", "flexpane"],
)
def test_each_entity_is_what_slack_sdk_models_and_the_local_checks_accept(
    entity: dict[str, Any],
) -> None:
    assert sdk_shaped(entity) == entity
    assert entity_problems(entity) == []


@pytest.mark.parametrize(
    "unfurl", [card_unfurl(URL, CARD, "UTC"), private_unfurl(URL, "X"), gone_unfurl(URL, "X")]
)
def test_the_classic_fallback_is_valid_block_kit(unfurl: Unfurl) -> None:
    assert message_problems(unfurl.blocks) == []
    arguments = unfurl_arguments([unfurl])
    assert arguments["unfurls"] == {URL: {"blocks": unfurl.blocks}}
    assert arguments["metadata"] == {"entities": [unfurl.entity]}


def test_the_card_carries_the_summary_and_the_flexpane_the_record() -> None:
    card = json.dumps(card_unfurl(URL, CARD, "Europe/London").entity, ensure_ascii=False)
    for shown in ("Zoë Ørsted", "Active", "Morning flow, 20 Mar 2026, 09:00 GMT", '"7"'):
        assert shown in card
    assert "zoe@example.com" not in card  # contact details only in the flexpane
    full = json.dumps(details_entity(URL, CARD, "Europe/London"), ensure_ascii=False)
    for shown in ("zoe@example.com", "+44 7700 900100", "Ten classes: 7 left", "Prefers mornings"):
        assert shown in full


@pytest.mark.parametrize(
    "anonymous",
    [
        private_unfurl(URL, CARD.uid).entity,
        gone_unfurl(URL, CARD.uid).entity,
        restricted_error(),
    ],
)
def test_what_others_see_holds_nothing_personal(anonymous: dict[str, Any]) -> None:
    text = json.dumps(anonymous, ensure_ascii=False)
    for personal in ("Zoë", "Ørsted", "zoe@", "7700", "Morning", "Ten classes", "Prefers"):
        assert personal not in text


def test_the_local_checks_refuse_an_entity_slack_would() -> None:
    entity = private_unfurl(URL, CARD.uid).entity
    broken = {**entity, "entity_type": "slack#/entities/customer", "colour": "red"}
    problems = entity_problems(broken)
    assert any("entity_type" in p for p in problems)
    assert any("colour" in p for p in problems)
