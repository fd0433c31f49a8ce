"""Customer links in conversations: unfurled as Work Objects with personal data only where
everyone is staff (`is_all_staff`), the flexpane's full record only for a staff viewer, and
*Open* / *Add note* from either opening the customer's details."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.deps import Deps
from bot.context.request import Request
from bot.surfaces.audience import is_all_staff
from bot.surfaces.customer_details import details_or_gone
from bot.views.origin import DetailsState, Tab
from bot.views.tabs import DetailsMeta
from bot.views.unfurls import (
    GONE_TITLE,
    Unfurl,
    card_unfurl,
    details_entity,
    gone_unfurl,
    private_unfurl,
    restricted_error,
    unfurl_arguments,
)
from core.customer_links import LINK_PATH, uid_in_path, uid_of_link
from core.services.audience import member_problem
from core.services.customer_cards import CustomerCard, Found, customer_card, find_linked
from core.services.seen_events import first_sighting
from core.services.settings import studio_settings
from core.services.staff import staff_among

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shared:
    """A link_shared event: where the links were posted and which of them are ours."""

    team_id: str
    channel_id: str
    # The message's ts, or Slack's unfurl_id and source for links still in the composer.
    target: dict[str, Any]
    links: tuple[tuple[str, str], ...]  # (url, uid)


def first_delivery(deps: Deps, team_id: str, event_id: object) -> bool:
    """False when Slack already delivered this event (a retry after the app was slow)."""
    if not isinstance(event_id, str) or not event_id:
        return True  # nothing to tell a retry by; Slack always sends one
    with deps.db.unit_of_work() as uow:
        return first_sighting(uow, team_id, event_id[:64])


def _target(event: dict[str, Any]) -> dict[str, Any] | None:
    ts, unfurl_id, source = event.get("message_ts"), event.get("unfurl_id"), event.get("source")
    if isinstance(ts, str) and ts:
        return {"ts": ts}
    if isinstance(unfurl_id, str) and isinstance(source, str) and unfurl_id:
        return {"unfurl_id": unfurl_id, "source": source}  # a link still in the composer
    return None


def shared_links(deps: Deps, team_id: str, event: dict[str, Any]) -> Shared | None:
    """The customer links of a link_shared event, or None when it names none of ours."""
    base = deps.settings.public_base_url
    links = []
    for link in event.get("links") or []:
        url = link.get("url") if isinstance(link, dict) else None
        uid = uid_of_link(base, url) if isinstance(url, str) else None
        if url and uid:
            links.append((str(url), uid))
    channel_id, target = event.get("channel"), _target(event)
    if not links or target is None or not isinstance(channel_id, str):
        return None
    return Shared(team_id, channel_id, target, tuple(dict.fromkeys(links)))


def _cards(
    deps: Deps, team_id: str, uids: list[str]
) -> tuple[dict[str, Found], dict[str, CustomerCard], str]:
    with deps.db.unit_of_work(readonly=True) as uow:
        found = {uid: find_linked(uow, team_id, uid) for uid in uids}
        cards = {uid: customer_card(uow, team_id, uid) for uid in uids}
        timezone = studio_settings(uow, team_id).timezone
    return found, {uid: card for uid, card in cards.items() if card is not None}, timezone


def unfurl_links(deps: Deps, client: WebClient, shared: Shared) -> None:
    """chat.unfurl the links: a card with personal data only when everyone in the conversation
    is staff, a card without it otherwise; another workspace's links are left alone."""
    found, cards, timezone = _cards(deps, shared.team_id, [uid for _url, uid in shared.links])
    # Asked once per event, and only when some card would carry personal data.
    all_staff = bool(cards) and is_all_staff(deps, client, shared.team_id, shared.channel_id)
    unfurls: list[Unfurl] = []
    for url, uid in shared.links:
        card = cards.get(uid)
        if found[uid] is Found.GONE:
            unfurls.append(gone_unfurl(url, uid))
        elif card is not None:
            unfurls.append(
                card_unfurl(url, card, timezone) if all_staff else private_unfurl(url, uid)
            )
    if not unfurls:
        return
    try:
        client.chat_unfurl(channel=shared.channel_id, **shared.target, **unfurl_arguments(unfurls))
    except SlackApiError as exc:
        # The message was deleted or edited meanwhile: no one is waiting for this card.
        log.warning("Slack refused an unfurl: %s", exc.response.get("error"))


def viewer_is_staff(deps: Deps, client: WebClient, team_id: str, user_id: str) -> bool:
    """Whether `user_id` is staff of `team_id` now: granted access, not a guest, not from
    another workspace (the same rule as for a conversation's members)."""
    with deps.db.unit_of_work(readonly=True) as uow:
        staff = user_id in staff_among(uow, team_id, [user_id])
    if not staff:
        return False
    try:
        member = deps.audience.people.person(client, team_id, user_id)
    except SlackApiError as exc:
        log.info("can't tell who %s is (%s)", user_id, exc.response.get("error"))
        return False
    return member_problem(member, team_id=team_id, staff=True) is None


def _uid_of(deps: Deps, event: dict[str, Any]) -> tuple[str, str | None]:
    link = event.get("link")
    url = event.get("entity_url") or (link.get("url") if isinstance(link, dict) else "") or ""
    uid = uid_of_link(deps.settings.public_base_url, str(url))
    ref = event.get("external_ref")
    if uid is None and isinstance(ref, dict) and isinstance(ref.get("id"), str):
        uid = uid_in_path(LINK_PATH + ref["id"])  # the card's external_ref.id is the UID
    return str(url), uid


def present_details(deps: Deps, client: WebClient, team_id: str, event: dict[str, Any]) -> None:
    """entity_details_requested: the full record for a staff viewer, else an error status."""
    trigger_id, user_id = str(event.get("trigger_id") or ""), str(event.get("user") or "")
    if not trigger_id:
        return
    url, uid = _uid_of(deps, event)
    if not viewer_is_staff(deps, client, team_id, user_id):
        client.entity_presentDetails(trigger_id=trigger_id, error=restricted_error())
        return
    card, timezone = None, deps.settings.business_timezone
    if uid is not None:
        _found, cards, timezone = _cards(deps, team_id, [uid])
        card = cards.get(uid)
    if card is None:
        gone = {"status": "not_found", "custom_title": GONE_TITLE, "custom_message": GONE_TITLE}
        client.entity_presentDetails(trigger_id=trigger_id, error=gone)
        return
    client.entity_presentDetails(
        trigger_id=trigger_id, metadata=details_entity(url, card, timezone)
    )


def open_linked(request: Request, trigger_id: str, uid: str, *, notes: bool = False) -> None:
    """*Open* / *Add note* on an unfurl or in the flexpane: the customer's details (on the Notes
    tab for *Add note*), the same view as the hub's Manage."""
    state = DetailsState(tab=Tab.NOTES) if notes else DetailsState()
    view = details_or_gone(request, DetailsMeta(uid=uid, state=state))
    request.client.views_open(trigger_id=trigger_id, view=view)
