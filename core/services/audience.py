"""Who may read what the app posts about a customer: the rule for one member of a conversation.

DESIGN.md §5: charts, unfurls, alerts and exports go into a conversation only when all its
members are staff of that workspace; otherwise to the requester's DM. "Staff" is what the
access gate admits: an admin or a staff member of the workspace (`staff_among`) whose Slack
account is a full member of that same workspace — not a guest, not someone from another
workspace or organisation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Reason(StrEnum):
    """Why a conversation is not all staff, the worst first."""

    # Shared with another organisation or workspace (Slack Connect, org-wide or pending):
    # what is posted there falls under the other side's retention, exports and invitations.
    SHARED = "shared"
    EXTERNAL = "external"
    GUEST = "guest"
    NOT_STAFF = "not_staff"
    # Slack would not say who is in it (not a member, missing scope, rate limited).
    UNCHECKED = "unchecked"


@dataclass(frozen=True)
class Member:
    """What Slack says about one member of a conversation (users.info)."""

    user_id: str
    team_id: str
    guest: bool = False
    # Slack Connect: a person of another organisation this workspace hasn't connected with.
    stranger: bool = False
    bot: bool = False
    deleted: bool = False


@dataclass(frozen=True)
class Verdict:
    """Whether everyone who can read the conversation is staff; if not, why not."""

    all_staff: bool
    reason: Reason | None = None

    @classmethod
    def no(cls, reason: Reason) -> Verdict:
        """Not all staff, because of `reason`."""
        return cls(False, reason)


ALL_STAFF = Verdict(True)


def member_problem(member: Member, *, team_id: str, staff: bool) -> Reason | None:
    """Why `member` must not read customer data in `team_id`, or None when they may."""
    if member.team_id != team_id or member.stranger:
        # Bots of another workspace are as external as its people.
        return Reason.EXTERNAL
    if member.bot or member.deleted:
        # The workspace's own apps (this one included) were installed by its admins and are
        # no person reading the conversation; a deactivated account can't sign in.
        return None
    if member.guest:
        return Reason.GUEST
    return None if staff else Reason.NOT_STAFF
