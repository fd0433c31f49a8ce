"""Who is in a conversation, as Slack says: its sharing, its members and each member's account,
remembered briefly so posting about a customer doesn't ask Slack every time, and forgotten by
every worker when someone joins or leaves."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context.slack_errors import error_code
from bot.transport.inbound import is_slack_id
from core.db import Database
from core.services.audience import Member
from core.services.conversation_changes import changed_since, note_change

PEOPLE_CACHE_SECONDS = 300.0
# Short, and dropped on member_joined_channel / member_left_channel: at once by the worker that
# gets the event, and by any other at its next look (`SharedChanges`).
MEMBERS_CACHE_SECONDS = 60.0
# Workers' clocks may differ a little: a change this close before a fetch counts as after it.
CLOCK_SKEW = timedelta(seconds=2)
# Slack recommends pages of at most 200 members.
MEMBERS_PAGE = 200


class People:
    """users.info answers about people, remembered for a few minutes."""

    def __init__(
        self, ttl: float = PEOPLE_CACHE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._answers: dict[tuple[str, str], tuple[float, Member]] = {}
        self._lock = threading.Lock()

    def person(self, client: WebClient, team_id: str, user_id: str) -> Member:
        """`user_id`'s account as `team_id`'s install sees it; SlackApiError if Slack can't say."""
        key = (team_id, user_id)
        now = self._clock()
        with self._lock:
            cached = self._answers.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        user = client.users_info(user=user_id)["user"]
        member = Member(
            user_id=user_id,
            # Slack Connect members carry their own workspace's id.
            team_id=str(user.get("team_id") or ""),
            guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
            stranger=bool(user.get("is_stranger")),
            bot=bool(user.get("is_bot") or user.get("is_app_user")),
            deleted=bool(user.get("deleted")),
        )
        with self._lock:
            self._answers[key] = (now + self.ttl, member)
        return member


@dataclass(frozen=True)
class Conversation:
    """A conversation's sharing (conversations.info) and its member ids (conversations.members)."""

    channel_id: str
    # "#name" for channels; None for DMs and group DMs, which have no name to show.
    label: str | None
    shared: bool
    member_ids: tuple[str, ...]


def _shared(channel: dict[str, Any]) -> bool:
    # is_shared covers every kind; is_pending_ext_shared: invited to Slack Connect, not yet
    # accepted, and the history is the other side's once it is.
    return any(
        bool(channel.get(key))
        for key in ("is_shared", "is_ext_shared", "is_org_shared", "is_pending_ext_shared")
    )


class Unseen(Exception):
    """Slack wouldn't say who is in a conversation (its error code); `label` names the
    conversation when Slack said that much."""

    def __init__(self, error: str, label: str | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.label = label


class SharedChanges:
    """Membership changes every worker sees: noted in the database by the worker Slack's event
    reached, checked by each worker before it trusts what it remembers."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def now(self) -> datetime:
        """The time a fetch starts, on the database's clock."""
        now: datetime = self.db.clock()
        return now

    def note(self, team_id: str, channel_id: str) -> None:
        """Someone joined or left `channel_id`."""
        with self.db.unit_of_work() as uow:
            note_change(uow, team_id, channel_id)

    def since(self, team_id: str, channel_id: str, fetched_at: datetime) -> bool:
        """Whether `channel_id`'s members changed after a fetch started at `fetched_at`."""
        with self.db.unit_of_work(readonly=True) as uow:
            return changed_since(uow, team_id, channel_id, fetched_at - CLOCK_SKEW)


class Audience:
    """Conversations' members, remembered a minute and forgotten when someone joins or leaves
    (here at once, and on every other worker through `changes`)."""

    def __init__(
        self,
        people: People | None = None,
        *,
        changes: SharedChanges | None = None,
        ttl: float = MEMBERS_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.people = people or People(clock=clock)
        self.changes = changes
        self.ttl = ttl
        self._clock = clock
        self._conversations: dict[tuple[str, str], tuple[float, datetime | None, Conversation]] = {}
        # Bumped by forget(): an answer fetched while someone joined is not kept.
        self._generations: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()

    def conversation(self, client: WebClient, team_id: str, channel_id: str) -> Conversation:
        """The conversation as Slack describes it; Unseen when Slack won't say."""
        key = (team_id, channel_id)
        now = self._clock()
        with self._lock:
            cached = self._conversations.get(key)
            generation = self._generations.get(key, 0)
        if cached is not None and cached[0] > now and not self._changed(key, cached[1]):
            return cached[2]
        fetched_at = self.changes.now() if self.changes else None
        try:
            channel = client.conversations_info(channel=channel_id)["channel"]
        except SlackApiError as exc:
            raise Unseen(error_code(exc)) from exc
        name = channel.get("name")
        named = not (channel.get("is_im") or channel.get("is_mpim")) and isinstance(name, str)
        label = f"#{name}" if named else None
        try:
            member_ids = tuple(self._member_ids(client, channel_id))
        except SlackApiError as exc:
            raise Unseen(error_code(exc), label) from exc
        found = Conversation(channel_id, label, _shared(channel), member_ids)
        with self._lock:
            if self._generations.get(key, 0) == generation:
                self._conversations[key] = (now + self.ttl, fetched_at, found)
        return found

    def _changed(self, key: tuple[str, str], fetched_at: datetime | None) -> bool:
        if self.changes is None or fetched_at is None:
            return False
        return self.changes.since(*key, fetched_at)

    def forget(self, team_id: str, channel_id: str) -> None:
        """Someone joined or left: the next question about the conversation asks Slack again."""
        if not (is_slack_id(team_id) and is_slack_id(channel_id)):
            return  # nothing Slack would name, so nothing cached under it
        key = (team_id, channel_id)
        with self._lock:
            self._conversations.pop(key, None)
            self._generations[key] = self._generations.get(key, 0) + 1
        if self.changes is not None:
            self.changes.note(team_id, channel_id)

    @staticmethod
    def _member_ids(client: WebClient, channel_id: str) -> list[str]:
        ids: list[str] = []
        cursor: str | None = None
        while True:
            page = client.conversations_members(
                channel=channel_id, limit=MEMBERS_PAGE, **({"cursor": cursor} if cursor else {})
            )
            ids.extend(str(m) for m in page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return ids
