"""Where the app may post about a customer: into a conversation only when everyone in it is
staff of the workspace, otherwise to the requester's DM, saying why (DESIGN.md §5).

Charts use `destination`; anything else that posts customer data (unfurls, alerts, exports)
asks `is_all_staff` or `destination` too, so the rule lives here once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.audience import Conversation, Unseen
from bot.context.deps import Deps
from bot.context.request import Request
from core.services.audience import ALL_STAFF, Reason, Verdict, member_problem
from core.services.staff import staff_among

log = logging.getLogger(__name__)

_WHY = {
    Reason.SHARED: "{where} is shared with another organisation or workspace",
    Reason.EXTERNAL: "{where} has members from outside this workspace",
    Reason.GUEST: "{where} has guests in it",
    Reason.NOT_STAFF: "{where} has members who aren't staff",
    Reason.UNCHECKED: "I couldn't check who is in {where}",
}


@dataclass(frozen=True)
class Judged:
    """A conversation's verdict, and how to name the conversation to the requester."""

    verdict: Verdict
    label: str


def judge(deps: Deps, client: WebClient, team_id: str, channel_id: str) -> Judged:
    """Whether everyone who can read `channel_id` is staff of `team_id`.

    Fails safe: whatever Slack won't say (not a member, a missing scope, rate limits past the
    client's retries) counts as "not all staff"."""
    unnamed = "that conversation"
    try:
        conversation = deps.audience.conversation(client, team_id, channel_id)
    except Unseen as exc:
        log.info("can't tell who is in %s (%s)", channel_id, exc.error)
        return Judged(Verdict.no(Reason.UNCHECKED), exc.label or unnamed)
    label = conversation.label or unnamed
    try:
        return Judged(_verdict(deps, client, team_id, conversation), label)
    except SlackApiError as exc:
        # A member's account Slack won't describe (users.info) is no one to trust either.
        log.info("can't tell who is in %s (%s)", channel_id, exc.response.get("error"))
        return Judged(Verdict.no(Reason.UNCHECKED), label)


def is_all_staff(deps: Deps, client: WebClient, team_id: str, channel_id: str) -> bool:
    """True only when every member of `channel_id` is staff of `team_id` and it isn't shared."""
    return judge(deps, client, team_id, channel_id).verdict.all_staff


def _verdict(deps: Deps, client: WebClient, team_id: str, conversation: Conversation) -> Verdict:
    if conversation.shared:
        return Verdict.no(Reason.SHARED)
    with deps.db.unit_of_work(readonly=True) as uow:
        staff = staff_among(uow, team_id, conversation.member_ids)
    # Non-staff first: one person's account settles it, so a big channel costs few lookups.
    ordered = sorted(conversation.member_ids, key=lambda user_id: user_id in staff)
    for user_id in ordered:
        member = deps.audience.people.person(client, team_id, user_id)
        problem = member_problem(member, team_id=team_id, staff=user_id in staff)
        if problem is not None:
            return Verdict.no(problem)
    return ALL_STAFF


@dataclass(frozen=True)
class Destination:
    """Where to post: the conversation asked for, or the requester's DM and why."""

    channel_id: str
    # Why not where it was asked for, worded for the requester; None: posted where asked.
    why_not: str | None = None

    @property
    def redirected(self) -> bool:
        """The post goes to the requester's DM instead of where it was asked for."""
        return self.why_not is not None


def dm_with(client: WebClient, user_id: str) -> str:
    """The app's DM with `user_id`."""
    return str(client.conversations_open(users=user_id)["channel"]["id"])


def destination(request: Request, channel_id: str | None) -> Destination:
    """Where a post about a customer asked for in `channel_id` may go (None: no conversation,
    as from the Home tab: the requester's DM, nothing to explain)."""
    user_id = request.actor.user_id
    if not channel_id:
        return Destination(dm_with(request.client, user_id))
    judged = judge(request.deps, request.client, request.actor.team_id, channel_id)
    if judged.verdict.all_staff:
        return Destination(channel_id)
    reason = judged.verdict.reason or Reason.UNCHECKED
    why = _WHY[reason].format(where=judged.label)
    return Destination(dm_with(request.client, user_id), why_not=why[0].upper() + why[1:])
