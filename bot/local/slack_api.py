"""A loopback stand-in for the Slack Web API: real HTTP, Slack's answers, every call recorded."""

from __future__ import annotations

import base64
import binascii
import copy
import itertools
import json
import mimetypes
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, parse_qsl, quote, urlencode, urlsplit

from bot.local.blockkit import (
    INTERACTIVE,
    JSON,
    STATE_KEYS,
    elements,
    entity_problems,
    message_problems,
    state_values,
    view_problems,
)

MAX_STACK = 3
# An @handle as people type it: letters, digits, dots, dashes and underscores.
_HANDLE = re.compile(r"(?<![\w<])@([\w.-]+)")
# What an install grants unless the authorize URL asked for other scopes.
DEFAULT_SCOPE = (
    "commands,chat:write,users:read,files:write,files:read,im:write,channels:read,groups:read,"
    "im:read,mpim:read,links:read,links:write"
)
# Slack's largest page of conversations.members, and its default one.
MAX_MEMBERS_PAGE = 1000
DEFAULT_MEMBERS_PAGE = 100
_JSON_PARAMS = ("view", "blocks", "attachments", "files", "metadata", "outputs")


# A wait ends as soon as what it waits for happens; the limit only bounds one that fails, so it
# is generous enough for a loaded machine (2 cores running both databases' tests at once).
WAIT_SECONDS = 30.0


class SlackError(Exception):
    """A request refused the way Slack refuses it: an error code and optional detail lines."""

    def __init__(self, error: str, messages: list[str] | None = None) -> None:
        self.error = error
        self.messages = list(messages or [])
        super().__init__(f"{error}: {'; '.join(self.messages)}" if self.messages else error)

    def body(self) -> JSON:
        """The JSON Slack answers with."""
        body: JSON = {"ok": False, "error": self.error}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


@dataclass(frozen=True)
class Call:
    """One request as it reached the stand-in, with the answer it got."""

    seq: int
    method: str
    params: JSON
    token: str | None
    ok: bool
    error: str | None
    response: JSON
    # The workspace whose token made the call; None without a token the stand-in issued.
    team_id: str | None = None


@dataclass(frozen=True)
class Message:
    """A message as the channel sees it, or as one person sees it when ephemeral."""

    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    via: str
    user: str | None = None
    ephemeral_to: str | None = None
    thread_ts: str | None = None
    files: list[JSON] = field(default_factory=list)

    def as_payload(self) -> JSON:
        """The `message` object Slack puts in interaction payloads."""
        payload: JSON = {"type": "message", "ts": self.ts, "text": self.text, "blocks": self.blocks}
        if self.user:
            payload["user"] = self.user
        if self.thread_ts:
            payload["thread_ts"] = self.thread_ts
        if self.files:
            payload["files"] = self.files
        return payload


@dataclass(frozen=True)
class Unfurled:
    """A chat.unfurl call Slack accepted: classic unfurls by URL, and the Work Objects."""

    channel: str
    ts: str
    unfurls: JSON
    entities: list[JSON]


@dataclass(frozen=True)
class Presented:
    """An entity.presentDetails answer: the flexpane's entity, or the error the viewer sees."""

    user_id: str
    entity: JSON | None
    error: JSON | None


@dataclass(frozen=True)
class StepRun:
    """A workflow step Slack started (function_executed), and how the app ended it: with
    functions.completeSuccess's `outputs` or functions.completeError's `error`."""

    execution_id: str
    callback_id: str
    team_id: str
    # The workflow token Slack sends with the event as `bot_access_token`.
    token: str
    outputs: JSON | None = None
    error: str | None = None

    @property
    def ended(self) -> bool:
        """Whether the app completed it, either way."""
        return self.outputs is not None or self.error is not None


@dataclass
class UploadedFile:
    """A file uploaded through files.getUploadURLExternal, the upload URL and completion."""

    id: str
    name: str
    length: int
    title: str = ""
    content: bytes | None = None
    completed: bool = False
    channels: list[str] = field(default_factory=list)
    initial_comment: str | None = None
    thread_ts: str | None = None
    # Set for a file a person put in a form's file_input (see `user_upload`).
    uploader: str = ""
    team_id: str = ""


@dataclass(frozen=True)
class SlackWorkspace:
    """The workspace the stand-in starts with, where the app is already installed as this bot."""

    team_id: str = "T0001"
    team_name: str = "Local Workspace"
    # A fresh token for each record, so nothing secret-looking is hard-coded.
    bot_token: str = field(default_factory=lambda: f"xoxb-local-{secrets.token_hex(8)}")
    bot_user_id: str = "UBOT"
    bot_id: str = "BBOT"


@dataclass(frozen=True)
class AppCredentials:
    """The app's id and the OAuth client credentials oauth.v2.access checks."""

    app_id: str = "ALOCAL"
    client_id: str = "local.client.id"
    # Fresh for each record, like the bot token.
    client_secret: str = field(default_factory=lambda: secrets.token_hex(16))


@dataclass(frozen=True)
class SlackUser:
    """A person in the user directory; without a name, the handle is the id in lower case."""

    user_id: str
    name: str | None = None
    # None: the stand-in's own workspace.
    team_id: str | None = None
    real_name: str | None = None
    is_admin: bool = False
    is_owner: bool = False
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    is_bot: bool = False
    deleted: bool = False
    # Slack Connect: someone of an organisation this workspace hasn't connected with.
    is_stranger: bool = False
    tz: str = "Europe/London"

    def info(self, default_team_id: str) -> JSON:
        """The `user` object users.info answers with."""
        handle = self.name or self.user_id.lower()
        return {
            "id": self.user_id,
            "team_id": self.team_id or default_team_id,
            "name": handle,
            "real_name": self.real_name or handle,
            "deleted": self.deleted,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            **({"is_stranger": True} if self.is_stranger else {}),
            "tz": self.tz,
            "profile": {"real_name": self.real_name or handle, "display_name": handle},
        }


@dataclass(frozen=True)
class SlackChannel:
    """A channel or group DM and who is in it (the app's bot user only when listed)."""

    channel_id: str
    name: str = ""
    members: tuple[str, ...] = ()
    is_private: bool = False
    is_mpim: bool = False
    # Slack Connect (shared with another organisation), pending, or shared across an org.
    is_ext_shared: bool = False
    is_pending_ext_shared: bool = False
    is_org_shared: bool = False

    def info(self, bot_user_id: str) -> JSON:
        """The `channel` object conversations.info answers with."""
        shared = self.is_ext_shared or self.is_org_shared
        return {
            "id": self.channel_id,
            "name": self.name or (f"mpdm-{len(self.members)}" if self.is_mpim else ""),
            "is_channel": not (self.is_private or self.is_mpim),
            "is_group": self.is_private and not self.is_mpim,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private or self.is_mpim,
            "is_shared": shared,
            "is_ext_shared": self.is_ext_shared,
            "is_org_shared": self.is_org_shared,
            "is_pending_ext_shared": self.is_pending_ext_shared,
            "is_member": bot_user_id in self.members,
            "num_members": len(self.members),
        }

    @property
    def scope(self) -> str:
        """The read scope Slack asks for this kind of conversation."""
        if self.is_mpim:
            return "mpim:read"
        return "groups:read" if self.is_private else "channels:read"


@dataclass(frozen=True)
class _Install:
    token: str
    team_id: str
    team_name: str
    bot_user_id: str
    bot_id: str
    scope: str = DEFAULT_SCOPE


@dataclass(frozen=True)
class _Grant:
    """An OAuth code: who approved the install where, and the redirect URI it went to."""

    install: _Install
    installer: str
    redirect_uri: str | None


@dataclass
class _Trigger:
    user_id: str
    issued: float
    view_id: str | None
    used: bool = False


@dataclass
class _View:
    data: JSON
    user_id: str
    typed: dict[str, dict[str, JSON]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class _ResponseTarget:
    channel: str
    user_id: str
    original_ts: str | None


@dataclass
class _Fault:
    error: str
    status: int
    retry_after: int | None
    remaining: int


class Hold:
    """Calls of one Web API method made to wait before they are answered, until released.

    Shows an app answers Slack before it gets to a slow call: its answer arrives while the
    call is still held, not after the hold gives up (`timed_out`)."""

    def __init__(self, method: str, limit: float) -> None:
        self.method = method
        self.limit = limit
        self.entered = threading.Event()
        self.timed_out = False
        self._released = threading.Event()

    def wait(self) -> None:
        """Hold one call (on the stand-in's request thread) until released or the limit."""
        self.entered.set()
        if not self._released.wait(self.limit):
            self.timed_out = True

    def release(self) -> None:
        """Let the held calls, and every later one, through."""
        self._released.set()


@dataclass(frozen=True)
class _Request:
    method: str
    params: JSON
    token: str | None
    basic_auth: tuple[str, str] | None


class LocalSlackAPI:
    """Slack's Web API (and the client's side of views) on 127.0.0.1 for a real WebClient."""

    def __init__(
        self,
        workspace: SlackWorkspace | None = None,
        *,
        app: AppCredentials | None = None,
        trigger_ttl: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        port: int = 0,
    ) -> None:
        workspace = workspace or SlackWorkspace()
        app = app or AppCredentials()
        self.team_id = workspace.team_id
        self.port = port
        self.bot_token = workspace.bot_token
        self.bot_user_id = workspace.bot_user_id
        self.bot_id = workspace.bot_id
        self.app_id = app.app_id
        self.client_id = app.client_id
        self.client_secret = app.client_secret
        self.trigger_ttl = trigger_ttl
        self._clock = clock
        # One re-entrant lock guards all state; waiters are woken on every change.
        self._cond = threading.Condition(threading.RLock())
        self._seq = itertools.count(1)
        self._calls: list[Call] = []
        self._installs = {
            self.bot_token: _Install(
                self.bot_token, self.team_id, workspace.team_name, self.bot_user_id, self.bot_id
            )
        }
        self._codes: dict[str, _Grant] = {}
        self._revoked: set[str] = set()
        self._users: dict[str, JSON] = {}
        self._channels: dict[str, SlackChannel] = {}
        self._triggers: dict[str, _Trigger] = {}
        self._views: dict[str, _View] = {}
        self._stacks: dict[str, list[str]] = {}
        self._homes: dict[str, str] = {}
        self._messages: list[Message] = []
        self._files: dict[str, UploadedFile] = {}
        self._unfurled: list[Unfurled] = []
        self._presented: list[Presented] = []
        self._step_runs: dict[str, StepRun] = {}
        self._response_urls: dict[str, _ResponseTarget] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._holds: dict[str, Hold] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._methods = self._web_api_methods()

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        """Listen on a free loopback port and serve in a background thread."""
        if self._server is not None:
            return self
        self._server = _Server(("127.0.0.1", self.port), _Handler, self)
        # A short poll interval keeps stop() quick: shutdown waits for the loop to look again.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), name="local-slack-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        """`http://127.0.0.1:PORT` of the running server."""
        if self._server is None:
            raise RuntimeError("LocalSlackAPI is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def base_url(self) -> str:
        """The Web API base URL to give `WebClient(base_url=...)`."""
        return f"{self.root_url}/api/"

    # ----------------------------------------------------------------- workspace set-up

    def add_user(self, user: SlackUser) -> JSON:
        """Put a person in the user directory that users.info answers from."""
        info = user.info(self.team_id)
        with self._cond:
            self._users[user.user_id] = info
            self._cond.notify_all()
        return copy.deepcopy(info)

    def add_channel(self, channel: SlackChannel) -> None:
        """Create (or replace) a channel or group DM with its members."""
        with self._cond:
            self._channels[channel.channel_id] = channel
            self._cond.notify_all()

    def channel(self, channel_id: str) -> SlackChannel | None:
        """A channel as set up, or None (DMs are not listed: see `dm_channel`)."""
        with self._cond:
            return self._channels.get(channel_id)

    def join(self, channel_id: str, user_id: str) -> None:
        """`user_id` joins the channel (the app hears of it only by an event the test sends)."""
        with self._cond:
            channel = self._channels[channel_id]
            if user_id not in channel.members:
                self._channels[channel_id] = replace(channel, members=(*channel.members, user_id))
            self._cond.notify_all()

    def leave(self, channel_id: str, user_id: str) -> None:
        """`user_id` leaves the channel."""
        with self._cond:
            channel = self._channels[channel_id]
            kept = tuple(m for m in channel.members if m != user_id)
            self._channels[channel_id] = replace(channel, members=kept)
            self._cond.notify_all()

    def user(self, user_id: str) -> JSON | None:
        """A directory entry, or None."""
        with self._cond:
            found = self._users.get(user_id)
            return copy.deepcopy(found) if found else None

    def user_named(self, handle: str) -> JSON | None:
        """The member whose handle is `handle` (as typed after @, any case), or None."""
        wanted = handle.casefold()
        with self._cond:
            found = next(
                (u for u in self._users.values() if str(u.get("name", "")).casefold() == wanted),
                None,
            )
            return copy.deepcopy(found) if found else None

    def escaped_command_text(self, text: str) -> str:
        """Slash command text as Slack sends it for a command with `should_escape`: &, < and >
        escaped, and each @handle of a member as a mention <@U…|handle>."""
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

        def mention(match: re.Match[str]) -> str:
            member = self.user_named(match.group(1))
            return f"<@{member['id']}|{member['name']}>" if member else match.group(0)

        return _HANDLE.sub(mention, escaped)

    def issue_oauth_code(
        self,
        team_id: str,
        *,
        team_name: str = "Another Workspace",
        installer: str = "UINSTALLER",
        scope: str = DEFAULT_SCOPE,
        redirect_uri: str | None = None,
    ) -> str:
        """A code that oauth.v2.access exchanges for a new bot token of `team_id`."""
        n = next(self._seq)
        install = _Install(
            token=f"xoxb-{team_id.lower()}-{n}-{secrets.token_hex(6)}",
            team_id=team_id,
            team_name=team_name,
            bot_user_id=f"UBOT{n}",
            bot_id=f"BBOT{n}",
            scope=scope,
        )
        code = f"code-{n}-{secrets.token_hex(6)}"
        with self._cond:
            self._codes[code] = _Grant(install, installer, redirect_uri)
        return code

    def approve(
        self,
        authorize_url: str,
        *,
        team_id: str,
        user_id: str,
        team_name: str = "Another Workspace",
    ) -> str:
        """What Slack's consent page does when `user_id` allows the install: the redirect back.

        Checks the authorize URL as Slack does and returns `redirect_uri?code=…&state=…`."""
        url = urlsplit(authorize_url)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if url.path.rstrip("/").split("/")[-3:] != ["oauth", "v2", "authorize"]:
            raise SlackError("invalid_authorize_url", [url.path])
        if query.get("client_id") != self.client_id:
            raise SlackError("invalid_client_id")
        if not query.get("scope"):
            raise SlackError("invalid_scope", ["no bot scope asked for"])
        redirect_uri = query.get("redirect_uri")
        if not redirect_uri:
            raise SlackError("bad_redirect_uri", ["the app configures no redirect URL here"])
        code = self.issue_oauth_code(
            team_id,
            team_name=team_name,
            installer=user_id,
            scope=query["scope"],
            redirect_uri=redirect_uri,
        )
        back = {"code": code, **({"state": query["state"]} if "state" in query else {})}
        return f"{redirect_uri}?{urlencode(back)}"

    def uninstall(self, team_id: str) -> None:
        """The workspace removes the app: every token issued for it stops working."""
        with self._cond:
            self._revoked.update(t for t, i in self._installs.items() if i.team_id == team_id)
            self._cond.notify_all()

    def team_of(self, token: str) -> str | None:
        """The workspace a token was issued for, or None."""
        with self._cond:
            install = self._installs.get(token)
            return install.team_id if install else None

    def start_step(self, callback_id: str, team_id: str | None = None) -> StepRun:
        """Slack starting a workflow step of the app in `team_id`: a new execution, and the
        workflow token (`xwfp-…`) that comes with it and acts as the app's bot there."""
        team = team_id or self.team_id
        n = next(self._seq)
        run = StepRun(
            f"Fx{n:08d}", callback_id, team, f"xwfp-{team.lower()}-{n}-{secrets.token_hex(6)}"
        )
        with self._cond:
            primary = self._installs[self.bot_token]
            self._installs[run.token] = replace(primary, token=run.token, team_id=team)
            self._step_runs[run.execution_id] = run
        return run

    def step_runs(self, callback_id: str | None = None) -> list[StepRun]:
        """Every workflow step started (of `callback_id`), oldest first, as it stands now."""
        with self._cond:
            runs = list(self._step_runs.values())
        return [r for r in runs if callback_id is None or r.callback_id == callback_id]

    def wait_for_end(self, run: StepRun, *, timeout: float = WAIT_SECONDS) -> StepRun:
        """The step run once the app completed it, either way."""
        self.wait_until(
            lambda: self._step_runs[run.execution_id].ended,
            timeout=timeout,
            description=f"{run.callback_id} to complete",
        )
        with self._cond:
            return self._step_runs[run.execution_id]

    def dm_channel(self, user_id: str) -> str:
        """The id of the app's DM with a user."""
        return f"D{user_id}"

    # ----------------------------------------------------------------- fault injection

    def fail(self, method: str, error: str, *, times: int = 1) -> None:
        """Make the next `times` calls of `method` answer `{"ok": false, "error": error}`."""
        self._add_fault(method, _Fault(error, 200, None, times))

    def rate_limit(self, method: str, *, retry_after: int = 0, times: int = 1) -> None:
        """Make the next `times` calls of `method` answer HTTP 429 with Retry-After."""
        self._add_fault(method, _Fault("ratelimited", 429, retry_after, times))

    def server_error(self, method: str, *, status: int = 500, times: int = 1) -> None:
        """Make the next `times` calls of `method` answer HTTP `status` (Slack having trouble)."""
        self._add_fault(method, _Fault("internal_error", status, None, times))

    @contextmanager
    def hold(self, method: str, *, limit: float = 30.0) -> Iterator[Hold]:
        """Inside the block, calls of `method` wait (at most `limit` seconds) until it ends."""
        held = Hold(method, limit)
        with self._cond:
            self._holds[method] = held
        try:
            yield held
        finally:
            with self._cond:
                self._holds.pop(method, None)
            held.release()

    def _add_fault(self, method: str, fault: _Fault) -> None:
        with self._cond:
            self._faults.setdefault(method, deque()).append(fault)

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    # ----------------------------------------------------------------- the record

    def mark(self) -> int:
        """How many calls were made so far; pass it as `since=` to look only at later ones."""
        with self._cond:
            return len(self._calls)

    def calls(self, method: str | None = None, *, since: int = 0) -> list[Call]:
        """Recorded calls, oldest first, optionally of one method and after a mark."""
        with self._cond:
            return [c for c in self._calls[since:] if method is None or c.method == method]

    def last(self, method: str) -> Call:
        """The latest call of a method; LookupError when there was none."""
        found = self.calls(method)
        if not found:
            raise LookupError(f"no {method} call; calls so far: {self._summary()}")
        return found[-1]

    def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        timeout: float = WAIT_SECONDS,
        since: int = 0,
    ) -> Call:
        """The first call of `method` after `since` matching `predicate`, waiting up to `timeout`."""
        box: list[Call] = []

        def found() -> bool:
            for call in self._calls[since:]:
                if call.method == method and (predicate is None or predicate(call)):
                    box.append(call)
                    return True
            return False

        self.wait_until(found, timeout=timeout, description=f"a matching {method} call")
        return box[0]

    def wait_until(
        self, condition: Callable[[], bool], *, timeout: float = WAIT_SECONDS, description: str = ""
    ) -> None:
        """Block until `condition()` holds (re-checked on every change); TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    what = description or "condition"
                    raise TimeoutError(
                        f"timed out after {timeout}s waiting for {what}; calls: {self._summary()}"
                    )
                self._cond.wait(remaining)

    def _summary(self) -> str:
        with self._cond:
            shown = [f"{c.method}{'' if c.ok else '!' + str(c.error)}" for c in self._calls[-20:]]
        return ", ".join(shown) or "none"

    def _record(self, method: str, params: JSON, token: str | None, response: JSON) -> None:
        with self._cond:
            ok = bool(response.get("ok", True))
            error = None if ok else str(response.get("error"))
            seq = len(self._calls) + 1
            install = self._installs.get(token) if token else None
            team_id = install.team_id if install else None
            self._calls.append(Call(seq, method, params, token, ok, error, response, team_id))
            self._cond.notify_all()

    # ----------------------------------------------------------------- messages and files

    def messages(self, channel_id: str) -> list[Message]:
        """Messages everyone in the channel sees, oldest first."""
        with self._cond:
            return [m for m in self._messages if m.channel == channel_id and not m.ephemeral_to]

    def ephemeral_messages(self, user_id: str, channel_id: str | None = None) -> list[Message]:
        """Messages only `user_id` sees (acks, response_url posts, chat.postEphemeral)."""
        with self._cond:
            return [
                m
                for m in self._messages
                if m.ephemeral_to == user_id and (channel_id is None or m.channel == channel_id)
            ]

    def say(
        self, channel_id: str, user_id: str, text: str, *, thread_ts: str | None = None
    ) -> Message:
        """A person's message in a channel (what staff write; the app reads it via shortcuts)."""
        with self._cond:
            message = Message(
                channel_id, self._new_ts(), text, [], "user", user_id, thread_ts=thread_ts
            )
            self._messages.append(message)
            self._cond.notify_all()
        return message

    def permalink(self, channel_id: str, ts: str) -> str:
        """The permalink Slack gives a message (threads' replies carry their thread)."""
        team = self.team_id.lower()
        url = f"https://{team}.slack.test/archives/{channel_id}/p{ts.replace('.', '')}"
        found = self._find_message(channel_id, ts)
        if found is not None and found.thread_ts and found.thread_ts != ts:
            url += f"?thread_ts={found.thread_ts}&cid={channel_id}"
        return url

    def unfurled(self, channel_id: str | None = None) -> list[Unfurled]:
        """Every unfurl the app made (in `channel_id`), oldest first."""
        with self._cond:
            return [u for u in self._unfurled if channel_id is None or u.channel == channel_id]

    def presented(self, user_id: str | None = None) -> list[Presented]:
        """Every flexpane the app filled (for `user_id`), oldest first."""
        with self._cond:
            return [p for p in self._presented if user_id is None or p.user_id == user_id]

    def files(self) -> list[UploadedFile]:
        """Completed uploads, oldest first."""
        with self._cond:
            return [copy.deepcopy(f) for f in self._files.values() if f.completed]

    def user_upload(self, user_id: str, name: str, content: bytes, *, team_id: str = "") -> JSON:
        """A file `user_id` picked in a form's file_input: what the submission's state holds.

        Slack stores it as theirs; the app reads it with `files.info` and downloads its
        `url_private_download` with the bot token (403 without)."""
        with self._cond:
            file_id = f"F{next(self._seq):09d}"
            upload = UploadedFile(file_id, name, len(content), title=name, content=content)
            upload.uploader, upload.team_id = user_id, team_id or self.team_id
            self._files[file_id] = upload
            return self._user_file_info(upload)

    def new_response_url(
        self, channel_id: str, user_id: str, *, message_ts: str | None = None
    ) -> str:
        """A response_url on this server; `message_ts` is the message replace_original targets."""
        key = f"R{next(self._seq)}"
        with self._cond:
            self._response_urls[key] = _ResponseTarget(channel_id, user_id, message_ts)
        return f"{self.root_url}/response/{key}"

    def deliver_response(
        self, channel_id: str, user_id: str, body: Mapping[str, Any], *, via: str
    ) -> Message | None:
        """Show an app's reply (an ack body) as Slack does: ephemeral unless `in_channel`."""
        with self._cond:
            return self._deliver(_ResponseTarget(channel_id, user_id, None), body, via)

    def _deliver(
        self, target: _ResponseTarget, body: Mapping[str, Any], via: str
    ) -> Message | None:
        original = self._find_message(target.channel, target.original_ts)
        if body.get("delete_original"):
            if original is not None:
                self._messages.remove(original)
                self._cond.notify_all()
            return None
        blocks = list(body.get("blocks") or [])
        problems = message_problems(blocks)
        if problems:
            raise SlackError("invalid_blocks", problems)
        blocks = self._with_ids(blocks)
        text = str(body.get("text") or "")
        if body.get("replace_original") and original is not None:
            message = replace(original, text=text, blocks=blocks)
            self._messages[self._messages.index(original)] = message
        else:
            ephemeral = body.get("response_type", "ephemeral") != "in_channel"
            message = Message(
                channel=target.channel,
                ts=self._new_ts(),
                text=text,
                blocks=blocks,
                via=via,
                user=self._bot_user_for(target.user_id),
                ephemeral_to=target.user_id if ephemeral else None,
                thread_ts=body.get("thread_ts"),
            )
            self._messages.append(message)
        # A later replace_original from the same response_url edits this message.
        target.original_ts = message.ts
        self._cond.notify_all()
        return message

    def _latest_install(self, team_id: str) -> _Install | None:
        found = [i for i in self._installs.values() if i.team_id == team_id]
        return found[-1] if found else None

    def _bot_user_for(self, user_id: str) -> str:
        """The app's bot user in the workspace of `user_id`."""
        install = self._latest_install(self._users.get(user_id, {}).get("team_id", self.team_id))
        return install.bot_user_id if install else self.bot_user_id

    def _find_message(self, channel: str, ts: str | None) -> Message | None:
        return next((m for m in self._messages if m.channel == channel and m.ts == ts), None)

    def _new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._seq):06d}"

    # ----------------------------------------------------------------- the client's side of views

    def issue_trigger_id(self, user_id: str, *, view_id: str | None = None) -> str:
        """A fresh trigger_id as Slack sends with an interaction (`view_id`: the modal it came from)."""
        trigger_id = f"{next(self._seq)}.{int(time.time())}.local"
        with self._cond:
            self._triggers[trigger_id] = _Trigger(user_id, self._clock(), view_id)
        return trigger_id

    def current_view(self, user_id: str) -> JSON | None:
        """The modal on top of the user's stack, with state, or None."""
        with self._cond:
            stack = self._stacks.get(user_id)
            return self._payload(self._views[stack[-1]]) if stack else None

    def stack(self, user_id: str) -> list[JSON]:
        """The user's open modals, root first."""
        with self._cond:
            return [self._payload(self._views[v]) for v in self._stacks.get(user_id, [])]

    def home_view(self, user_id: str) -> JSON | None:
        """The user's App Home as last published, with state, or None."""
        with self._cond:
            view_id = self._homes.get(user_id)
            return self._payload(self._views[view_id]) if view_id else None

    def view(self, view_id: str) -> JSON:
        """An open modal or a home view by id; LookupError when closed or unknown."""
        with self._cond:
            return self._payload(self._get_view(view_id))

    def view_errors(self, view_id: str) -> dict[str, str]:
        """Field errors shown under the view's inputs (block_id → message)."""
        with self._cond:
            return dict(self._get_view(view_id).errors)

    def set_errors(self, view_id: str, errors: Mapping[str, str]) -> None:
        """Show `response_action: errors`; every key must be an input block of the view."""
        with self._cond:
            record = self._get_view(view_id)
            inputs = {b.get("block_id") for b in record.data["blocks"] if b.get("type") == "input"}
            unknown = sorted(set(errors) - inputs)
            if unknown:
                raise SlackError("invalid_arguments", [f"errors name no input block: {unknown}"])
            record.errors = dict(errors)
            self._cond.notify_all()

    def set_value(self, view_id: str, block_id: str, action_id: str, value: JSON) -> None:
        """Record what the user typed or chose in one element (value as in state.values)."""
        with self._cond:
            record = self._get_view(view_id)
            kinds = {
                (e.block_id, e.action_id): e.kind
                for e in elements(record.data["blocks"])
                if e.kind in STATE_KEYS
            }
            if kinds.get((block_id, action_id)) != value.get("type"):
                raise LookupError(
                    f"view {view_id} has no {value.get('type')} {block_id}/{action_id}"
                )
            record.typed.setdefault(block_id, {})[action_id] = copy.deepcopy(value)
            self._cond.notify_all()

    def replace_view(self, view_id: str, view: Mapping[str, Any]) -> JSON:
        """Apply `response_action: update`: same view id, new content and hash."""
        with self._cond:
            record = self._get_view(view_id)
            _check_view(view, "modal")
            return self._update(record, view)

    def push_view(self, user_id: str, view: Mapping[str, Any]) -> JSON:
        """Apply `response_action: push` on top of the user's stack."""
        with self._cond:
            _check_view(view, "modal")
            stack = self._stacks.get(user_id)
            # The pushed view belongs to the workspace of the modal it goes on top of.
            team_id = self._views[stack[-1]].data["team_id"] if stack else self.team_id
            return self._push(user_id, view, team_id)

    def close_view(self, user_id: str, *, view_id: str | None = None) -> JSON | None:
        """Pop the top modal (only if it is `view_id`, when given), as Cancel or an empty ack does."""
        with self._cond:
            stack = self._stacks.get(user_id, [])
            if not stack or (view_id is not None and stack[-1] != view_id):
                return None
            popped = self._payload(self._views.pop(stack.pop()))
            self._cond.notify_all()
            return popped

    def clear_stack(self, user_id: str) -> list[JSON]:
        """Close every modal of the user (`response_action: clear`); returns them root first."""
        with self._cond:
            closed = [self._payload(self._views.pop(v)) for v in self._stacks.pop(user_id, [])]
            self._cond.notify_all()
            return closed

    def _get_view(self, view_id: str) -> _View:
        record = self._views.get(view_id)
        if record is None:
            raise LookupError(f"view {view_id} is not open")
        return record

    def _payload(self, record: _View) -> JSON:
        payload = copy.deepcopy(record.data)
        payload["state"] = {"values": state_values(payload["blocks"], record.typed)}
        return payload

    def _new_hash(self) -> str:
        return f"{int(time.time())}.{next(self._seq):08x}"

    def _with_ids(self, blocks: list[Any]) -> list[JSON]:
        """Deep copy of blocks with the block_id/action_id Slack generates when missing."""
        filled: list[JSON] = copy.deepcopy(blocks)
        for block in filled:
            block.setdefault("block_id", f"b{next(self._seq)}")
            items: list[JSON] = []
            if isinstance(block.get("accessory"), dict):
                items.append(block["accessory"])
            if isinstance(block.get("element"), dict):
                items.append(block["element"])
            if block.get("type") == "actions":
                items.extend(i for i in block.get("elements", []) if isinstance(i, dict))
            for item in items:
                if item.get("type") in INTERACTIVE:
                    item.setdefault("action_id", f"a{next(self._seq)}")
        return filled

    def _new_view(
        self,
        view: Mapping[str, Any],
        user_id: str,
        team_id: str,
        previous: str | None,
        root: str | None,
    ) -> _View:
        view_id = f"V{next(self._seq):09d}"
        install = self._latest_install(team_id)
        data: JSON = {
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
            **copy.deepcopy(dict(view)),
        }
        data.update(
            id=view_id,
            team_id=team_id,
            app_id=self.app_id,
            app_installed_team_id=team_id,
            bot_id=install.bot_id if install else self.bot_id,
            blocks=self._with_ids(list(view.get("blocks", []))),
            hash=self._new_hash(),
            previous_view_id=previous,
            root_view_id=root or view_id,
        )
        record = _View(data, user_id)
        self._views[view_id] = record
        self._cond.notify_all()
        return record

    def _update(self, record: _View, view: Mapping[str, Any]) -> JSON:
        fixed = ("id", "team_id", "app_id", "app_installed_team_id", "bot_id")
        kept = {key: record.data[key] for key in (*fixed, "previous_view_id", "root_view_id")}
        data: JSON = {
            "private_metadata": "",
            "callback_id": "",
            # The external_id keeps naming the view unless the update gives a new one.
            "external_id": record.data.get("external_id", ""),
            "clear_on_close": False,
            "notify_on_close": False,
            **copy.deepcopy(dict(view)),
            **kept,
        }
        data["blocks"] = self._with_ids(list(view.get("blocks", [])))
        data["hash"] = self._new_hash()
        # Slack keeps what was typed only where block_id, action_id and element type are unchanged.
        present = {(e.block_id, e.action_id, e.kind) for e in elements(data["blocks"])}
        typed: dict[str, dict[str, JSON]] = {}
        for block_id, values in record.typed.items():
            for action_id, value in values.items():
                if (block_id, action_id, value.get("type")) in present:
                    typed.setdefault(block_id, {})[action_id] = value
        record.typed = typed
        record.data = data
        record.errors = {}
        self._cond.notify_all()
        return self._payload(record)

    def _push(self, user_id: str, view: Mapping[str, Any], team_id: str) -> JSON:
        stack = self._stacks.get(user_id, [])
        if not stack:
            raise SlackError("invalid_arguments", ["no modal is open to push onto"])
        if len(stack) >= MAX_STACK:
            raise SlackError("push_limit_reached")
        record = self._new_view(view, user_id, team_id, stack[-1], stack[0])
        stack.append(record.data["id"])
        return self._payload(record)

    # ----------------------------------------------------------------- HTTP plumbing

    def _serve(self, handler: BaseHTTPRequestHandler, verb: str) -> None:
        url = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        parts = url.path.strip("/").split("/")
        if parts[0] == "api" and len(parts) == 2:
            headers = {k.lower(): v for k, v in handler.headers.items()}
            status, extra, body = self._api(parts[1], url.query, raw, headers)
            _send(
                handler,
                status,
                json.dumps(body).encode(),
                "application/json; charset=utf-8",
                extra,
            )
        elif verb == "POST" and parts[:2] == ["upload", "v1"] and len(parts) == 3:
            self._upload(handler, parts[2], raw)
        elif verb == "POST" and parts[0] == "response" and len(parts) == 2:
            self._response_url(handler, parts[1], raw)
        elif verb == "GET" and parts[0] == "files" and len(parts) == 3:
            self._download(handler, parts[1])
        elif verb == "GET" and parts[0] == "files-pri" and len(parts) == 4:
            self._private_download(handler, parts[1], handler.headers.get("Authorization") or "")
        else:
            _send(handler, 404, b"not found", "text/plain")

    def _api(
        self, method: str, query: str, raw: bytes, headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], JSON]:
        try:
            params, token, basic = _parse(query, raw, headers)
        except SlackError as exc:
            self._record(method, {}, None, exc.body())
            return 200, {}, exc.body()
        with self._cond:
            held = self._holds.get(method)
        if held is not None:
            held.wait()
        with self._cond:
            fault = self._take_fault(method)
            if fault is not None:
                body: JSON = {"ok": False, "error": fault.error}
                self._record(method, params, token, body)
                extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
                return fault.status, extra, body
            try:
                handler = self._methods.get(method)
                if handler is None:
                    raise SlackError("unknown_method")
                body = {"ok": True, **handler(_Request(method, params, token, basic))}
            except SlackError as exc:
                body = exc.body()
            self._record(method, params, token, body)
        return 200, {}, body

    def _upload(self, handler: BaseHTTPRequestHandler, file_id: str, raw: bytes) -> None:
        with self._cond:
            upload = self._files.get(file_id)
            if upload is not None:
                upload.content = raw
        self._record(
            "upload", {"file_id": file_id, "bytes": len(raw)}, None, {"ok": upload is not None}
        )
        if upload is None:
            _send(handler, 404, b"file not found", "text/plain")
        else:
            _send(handler, 200, f"OK - {len(raw)}".encode(), "text/plain")

    def _response_url(self, handler: BaseHTTPRequestHandler, key: str, raw: bytes) -> None:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        params = body if isinstance(body, dict) else {"raw": raw.decode(errors="replace")}
        with self._cond:
            target = self._response_urls.get(key)
            try:
                if target is None:
                    raise SlackError("no_service")
                if not isinstance(body, dict):
                    raise SlackError("invalid_payload")
                self._deliver(target, body, "response_url")
            except SlackError as exc:
                self._record("response_url", params, None, exc.body())
                _send(handler, 404 if target is None else 400, exc.error.encode(), "text/plain")
                return
        self._record("response_url", params, None, {"ok": True})
        _send(handler, 200, b"ok", "text/plain")

    def _download(self, handler: BaseHTTPRequestHandler, file_id: str) -> None:
        with self._cond:
            upload = self._files.get(file_id)
        if upload is None or upload.content is None:
            _send(handler, 404, b"file not found", "text/plain")
            return
        kind = mimetypes.guess_type(upload.name)[0] or "application/octet-stream"
        _send(handler, 200, upload.content, kind)

    def _private_download(
        self, handler: BaseHTTPRequestHandler, file_id: str, authorization: str
    ) -> None:
        """A person's file, as Slack serves `url_private_download`: only with a token of its
        workspace in the Authorization header."""
        scheme, _, token = authorization.partition(" ")
        with self._cond:
            upload = self._files.get(file_id)
            install = self._installs.get(token) if scheme.lower() == "bearer" else None
            allowed = (
                install is not None
                and token not in self._revoked
                and upload is not None
                and install.team_id == upload.team_id
            )
        self._record("download", {"file_id": file_id}, token or None, {"ok": allowed})
        if not allowed or upload is None or upload.content is None:
            _send(handler, 403, b"forbidden", "text/plain")
            return
        kind = mimetypes.guess_type(upload.name)[0] or "application/octet-stream"
        _send(handler, 200, upload.content, kind)

    # ----------------------------------------------------------------- Web API methods

    def _web_api_methods(self) -> dict[str, Callable[[_Request], JSON]]:
        """The Web API methods the stand-in answers, by name."""
        return {
            "auth.test": self._auth_test,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.unfurl": self._chat_unfurl,
            "entity.presentDetails": self._entity_present_details,
            "views.open": self._views_open,
            "views.push": self._views_push,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "files.info": self._files_info,
            "oauth.v2.access": self._oauth_v2_access,
            "functions.completeSuccess": self._functions_complete_success,
            "functions.completeError": self._functions_complete_error,
        }

    def _install(self, request: _Request) -> _Install:
        if not request.token:
            raise SlackError("not_authed")
        install = self._installs.get(request.token)
        if install is None:
            raise SlackError("invalid_auth")
        if request.token in self._revoked:
            raise SlackError("token_revoked")
        return install

    def _auth_test(self, request: _Request) -> JSON:
        install = self._install(request)
        return {
            "url": f"https://{install.team_id.lower()}.slack.test/",
            "team": install.team_name,
            "user": "customer-records",
            "team_id": install.team_id,
            "user_id": install.bot_user_id,
            "bot_id": install.bot_id,
            "is_enterprise_install": False,
        }

    def _users_info(self, request: _Request) -> JSON:
        self._install(request)
        user_id = str(request.params.get("user", ""))
        user = self._users.get(user_id)
        bot = next((i for i in self._installs.values() if i.bot_user_id == user_id), None)
        if user is None and bot is not None:
            # Every install's bot user is in its workspace's directory.
            app_user = SlackUser(user_id, "customer-records", team_id=bot.team_id, is_bot=True)
            return {"user": app_user.info(self.team_id)}
        if user is None:
            raise SlackError("user_not_found")
        return {"user": copy.deepcopy(user)}

    def _conversations_open(self, request: _Request) -> JSON:
        self._install(request)
        users = [u for u in str(request.params.get("users", "")).split(",") if u]
        if len(users) != 1:
            raise SlackError("invalid_arguments", ["the local stand-in opens one-to-one DMs only"])
        return {"channel": {"id": self.dm_channel(users[0])}}

    def _conversation(self, request: _Request, install: _Install) -> tuple[JSON, list[str]]:
        """The conversation asked about and its members, as the install may see them."""
        channel_id = str(request.params.get("channel") or "")
        granted = set(install.scope.split(","))
        user_id = channel_id[1:]
        if channel_id.startswith("D") and user_id in self._users:
            if "im:read" not in granted:
                raise SlackError("missing_scope")
            info: JSON = {
                "id": channel_id,
                "is_im": True,
                "is_private": True,
                "user": user_id,
                "is_shared": False,
                "is_ext_shared": False,
                "is_org_shared": False,
            }
            return info, [user_id, install.bot_user_id]
        channel = self._channels.get(channel_id)
        if channel is None:
            raise SlackError("channel_not_found")
        # Slack hides private conversations from an app that isn't in them.
        private = channel.is_private or channel.is_mpim
        if private and install.bot_user_id not in channel.members:
            raise SlackError("channel_not_found")
        if channel.scope not in granted:
            raise SlackError("missing_scope")
        return channel.info(install.bot_user_id), list(channel.members)

    def _conversations_info(self, request: _Request) -> JSON:
        install = self._install(request)
        info, _members = self._conversation(request, install)
        return {"channel": info}

    def _conversations_members(self, request: _Request) -> JSON:
        install = self._install(request)
        _info, members = self._conversation(request, install)
        raw_limit = str(request.params.get("limit") or DEFAULT_MEMBERS_PAGE)
        if not raw_limit.isdigit() or int(raw_limit) < 1:
            raise SlackError("invalid_limit")
        limit = min(int(raw_limit), MAX_MEMBERS_PAGE)
        cursor = str(request.params.get("cursor") or "")
        start = 0
        if cursor:
            try:
                start = int(base64.urlsafe_b64decode(cursor).decode().removeprefix("members:"))
            except (ValueError, binascii.Error, UnicodeDecodeError):
                raise SlackError("invalid_cursor") from None
        page = members[start : start + limit]
        more = start + limit < len(members)
        next_cursor = (
            base64.urlsafe_b64encode(f"members:{start + limit}".encode()).decode() if more else ""
        )
        return {"members": page, "response_metadata": {"next_cursor": next_cursor}}

    def _check_can_post(self, channel_id: str, install: _Install) -> None:
        """Refuse a post into a set-up channel the app's bot user isn't in, as Slack does."""
        channel = self._channels.get(channel_id)
        if channel is not None and install.bot_user_id not in channel.members:
            raise SlackError("not_in_channel")

    def _channel(self, request: _Request) -> str:
        channel = str(request.params.get("channel") or "")
        if not channel:
            raise SlackError("channel_not_found")
        # Posting to a user id posts into the app's DM with that user.
        return self.dm_channel(channel) if channel[0] in "UW" else channel

    def _message_content(self, request: _Request) -> tuple[str, list[JSON]]:
        text = str(request.params.get("text") or "")
        blocks = request.params.get("blocks") or []
        if not text and not blocks and not request.params.get("attachments"):
            raise SlackError("no_text")
        problems = message_problems(blocks)
        if problems:
            raise SlackError("invalid_blocks", problems)
        return text, self._with_ids(blocks)

    def _post_message(
        self, request: _Request, install: _Install, channel: str, ephemeral_to: str | None
    ) -> Message:
        text, blocks = self._message_content(request)
        thread_ts = request.params.get("thread_ts") or None
        message = Message(
            channel,
            self._new_ts(),
            text,
            blocks,
            request.method,
            install.bot_user_id,
            ephemeral_to,
            thread_ts,
        )
        self._messages.append(message)
        return message

    def _chat_post_message(self, request: _Request) -> JSON:
        install = self._install(request)
        channel = self._channel(request)
        self._check_can_post(channel, install)
        message = self._post_message(request, install, channel, None)
        return {"channel": channel, "ts": message.ts, "message": message.as_payload()}

    def _chat_post_ephemeral(self, request: _Request) -> JSON:
        install = self._install(request)
        channel = self._channel(request)
        user = str(request.params.get("user") or "")
        if not user:
            raise SlackError("user_not_in_channel")
        message = self._post_message(request, install, channel, user)
        return {"message_ts": message.ts}

    def _channel_message(self, request: _Request) -> Message:
        channel = self._channel(request)
        ts = str(request.params.get("ts") or "")
        found = self._find_message(channel, ts)
        if found is None or found.ephemeral_to:
            raise SlackError("message_not_found")
        return found

    def _chat_update(self, request: _Request) -> JSON:
        self._install(request)
        original = self._channel_message(request)
        text, blocks = self._message_content(request)
        message = replace(original, text=text, blocks=blocks)
        self._messages[self._messages.index(original)] = message
        return {
            "channel": message.channel,
            "ts": message.ts,
            "text": text,
            "message": message.as_payload(),
        }

    def _chat_delete(self, request: _Request) -> JSON:
        self._install(request)
        message = self._channel_message(request)
        self._messages.remove(message)
        return {"channel": message.channel, "ts": message.ts}

    def _chat_get_permalink(self, request: _Request) -> JSON:
        # Slack needs no scope for it; the message must exist (ephemeral ones don't).
        self._install(request)
        channel = str(request.params.get("channel") or "")
        ts = str(request.params.get("message_ts") or "")
        if not channel:
            raise SlackError("channel_not_found")
        found = self._find_message(channel, ts)
        if found is None or found.ephemeral_to:
            raise SlackError("message_not_found")
        return {"channel": channel, "permalink": self.permalink(channel, ts)}

    def _chat_unfurl(self, request: _Request) -> JSON:
        if "links:write" not in self._install(request).scope.split(","):
            raise SlackError("missing_scope")
        channel = str(request.params.get("channel") or "")
        ts = str(request.params.get("ts") or "")
        unfurl_id = str(request.params.get("unfurl_id") or "")
        if not unfurl_id and self._find_message(channel, ts) is None:
            raise SlackError("cannot_unfurl_message")
        unfurls = request.params.get("unfurls")
        if not isinstance(unfurls, dict) or not unfurls:
            raise SlackError("invalid_unfurls")
        for unfurl in unfurls.values():
            problems = message_problems(unfurl.get("blocks") if isinstance(unfurl, dict) else None)
            if problems:
                raise SlackError("invalid_blocks", problems)
        metadata = request.params.get("metadata") or {}
        entities = metadata.get("entities") if isinstance(metadata, dict) else None
        for entity in entities or []:
            problems = entity_problems(entity)
            if problems:
                raise SlackError("invalid_metadata", problems)
        self._unfurled.append(Unfurled(channel or unfurl_id, ts, unfurls, list(entities or [])))
        return {}

    def _entity_present_details(self, request: _Request) -> JSON:
        if "links:write" not in self._install(request).scope.split(","):
            raise SlackError("missing_scope")
        metadata, error = request.params.get("metadata"), request.params.get("error")
        if (metadata is None) == (error is None):
            raise SlackError("invalid_arguments", ["send either metadata or error"])
        if metadata is not None:
            problems = entity_problems(metadata)
            if problems:
                raise SlackError("invalid_metadata", problems)
        elif not isinstance(error, dict) or not error.get("status"):
            raise SlackError("invalid_arguments", ["error needs a status"])
        trigger = self._exchange_trigger(request)
        self._presented.append(Presented(trigger.user_id, metadata, error))
        return {}

    def _running_step(self, request: _Request) -> StepRun:
        """The execution a completion names; it must be of the token's workspace, still running."""
        install = self._install(request)
        run = self._step_runs.get(str(request.params.get("function_execution_id") or ""))
        if run is None or run.team_id != install.team_id:
            raise SlackError("function_execution_not_found")
        if run.ended:
            raise SlackError("execution_not_in_running_state")
        return run

    def _functions_complete_success(self, request: _Request) -> JSON:
        run = self._running_step(request)
        outputs = request.params.get("outputs")
        if not isinstance(outputs, dict):
            raise SlackError("invalid_arguments", ["outputs must be an object"])
        self._step_runs[run.execution_id] = replace(run, outputs=outputs)
        return {}

    def _functions_complete_error(self, request: _Request) -> JSON:
        run = self._running_step(request)
        error = request.params.get("error")
        if not isinstance(error, str) or not error.strip():
            raise SlackError("invalid_arguments", ["error must say why the step failed"])
        self._step_runs[run.execution_id] = replace(run, error=error)
        return {}

    def _exchange_trigger(self, request: _Request) -> _Trigger:
        trigger_id = request.params.get("trigger_id") or request.params.get("interactivity_pointer")
        trigger = self._triggers.get(str(trigger_id))
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if self._clock() - trigger.issued > self.trigger_ttl:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    def _valid_view(self, request: _Request, expected_type: str) -> JSON:
        view = request.params.get("view")
        _check_view(view, expected_type)
        assert isinstance(view, dict)
        return view

    def _claim_external_id(self, view: JSON, *, replacing: Collection[str] = ()) -> None:
        """Refuse an external_id another open view has; `replacing`: views this one supersedes."""
        external_id = view.get("external_id")
        if external_id and any(
            record.data.get("external_id") == external_id
            for view_id, record in self._views.items()
            if view_id not in replacing
        ):
            raise SlackError("duplicate_external_id")

    def _views_open(self, request: _Request) -> JSON:
        install = self._install(request)
        view = self._valid_view(request, "modal")
        trigger = self._exchange_trigger(request)
        # The new modal replaces the user's open ones, so their external ids are free again.
        self._claim_external_id(view, replacing=self._stacks.get(trigger.user_id, []))
        for old in self._stacks.pop(trigger.user_id, []):
            del self._views[old]
        record = self._new_view(view, trigger.user_id, install.team_id, None, None)
        self._stacks[trigger.user_id] = [record.data["id"]]
        return {"view": self._payload(record)}

    def _views_push(self, request: _Request) -> JSON:
        install = self._install(request)
        view = self._valid_view(request, "modal")
        self._claim_external_id(view)
        trigger = self._exchange_trigger(request)
        if trigger.view_id not in self._stacks.get(trigger.user_id, []):
            raise SlackError("invalid_arguments", ["trigger_id did not come from an open modal"])
        return {"view": self._push(trigger.user_id, view, install.team_id)}

    def _views_update(self, request: _Request) -> JSON:
        self._install(request)
        view_id = request.params.get("view_id")
        external_id = request.params.get("external_id")
        record = next(
            (
                r
                for r in self._views.values()
                if (view_id and r.data["id"] == view_id)
                or (external_id and r.data.get("external_id") == external_id)
            ),
            None,
        )
        if record is None:
            raise SlackError("not_found")
        view = self._valid_view(request, str(record.data["type"]))
        _check_hash(request, record)
        return {"view": self._update(record, view)}

    def _views_publish(self, request: _Request) -> JSON:
        install = self._install(request)
        user_id = str(request.params.get("user_id") or "")
        if not user_id:
            raise SlackError("invalid_arguments", ["user_id is required"])
        view = self._valid_view(request, "home")
        home_id = self._homes.get(user_id)
        self._claim_external_id(view, replacing=[home_id] if home_id else [])
        if home_id is None:
            record = self._new_view(view, user_id, install.team_id, None, None)
            self._homes[user_id] = record.data["id"]
            return {"view": self._payload(record)}
        record = self._views[home_id]
        _check_hash(request, record)
        return {"view": self._update(record, view)}

    def _files_get_upload_url(self, request: _Request) -> JSON:
        self._install(request)
        filename = str(request.params.get("filename") or "")
        length = str(request.params.get("length") or "")
        if not filename or not length.isdigit():
            raise SlackError("invalid_arguments", ["filename and length are required"])
        file_id = f"F{next(self._seq):09d}"
        self._files[file_id] = UploadedFile(file_id, filename, int(length))
        return {"upload_url": f"{self.root_url}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, request: _Request) -> JSON:
        install = self._install(request)
        wanted = request.params.get("files")
        if not isinstance(wanted, list) or not wanted:
            raise SlackError("invalid_arguments", ["files must be a non-empty JSON array"])
        uploads: list[tuple[UploadedFile, str | None]] = []
        for item in wanted:
            upload = self._files.get(str(item.get("id")) if isinstance(item, dict) else "")
            if upload is None or upload.content is None:
                raise SlackError("file_not_found")
            uploads.append((upload, item.get("title")))
        channels = [c for c in str(request.params.get("channels") or "").split(",") if c]
        if request.params.get("channel_id"):
            channels.insert(0, str(request.params["channel_id"]))
        for channel in channels:
            self._check_can_post(channel, install)
        comment = request.params.get("initial_comment") or None
        thread_ts = request.params.get("thread_ts") or None
        infos: list[JSON] = []
        for upload, title in uploads:
            upload.title = title or upload.name
            upload.completed = True
            upload.channels = channels
            upload.initial_comment = comment
            upload.thread_ts = thread_ts
            infos.append(self._file_info(upload, install))
        for channel in channels:
            self._messages.append(
                Message(
                    channel=channel,
                    ts=self._new_ts(),
                    text=comment or "",
                    blocks=[],
                    via=request.method,
                    user=install.bot_user_id,
                    thread_ts=thread_ts,
                    files=infos,
                )
            )
        return {"files": infos}

    @staticmethod
    def _described(upload: UploadedFile, user: str, url: str) -> JSON:
        """What Slack says of any file: its name, type, size, owner and private URL."""
        mimetype = mimetypes.guess_type(upload.name)[0] or "application/octet-stream"
        return {
            "id": upload.id,
            "name": upload.name,
            "title": upload.title,
            "mimetype": mimetype,
            "filetype": upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else "",
            "size": len(upload.content or b""),
            "user": user,
            "url_private": url,
        }

    def _file_info(self, upload: UploadedFile, install: _Install) -> JSON:
        url = f"{self.root_url}/files/{upload.id}/{upload.name}"
        described = self._described(upload, install.bot_user_id, url)
        return {**described, "permalink": url, "channels": list(upload.channels)}

    def _files_info(self, request: _Request) -> JSON:
        install = self._install(request)
        upload = self._files.get(str(request.params.get("file") or ""))
        if upload is None or not upload.uploader or upload.team_id != install.team_id:
            raise SlackError("file_not_found")
        return {"file": self._user_file_info(upload)}

    def _user_file_info(self, upload: UploadedFile) -> JSON:
        """A person's file as `files.info` and a file_input's state describe it."""
        private = f"{self.root_url}/files-pri/{upload.id}/download/{quote(upload.name)}"
        described = self._described(upload, upload.uploader, private)
        return {**described, "url_private_download": private}

    def _oauth_v2_access(self, request: _Request) -> JSON:
        client_id, client_secret = request.basic_auth or (
            str(request.params.get("client_id") or ""),
            str(request.params.get("client_secret") or ""),
        )
        if client_id != self.client_id:
            raise SlackError("invalid_client_id")
        if client_secret != self.client_secret:
            raise SlackError("bad_client_secret")
        grant = self._codes.pop(str(request.params.get("code") or ""), None)
        if grant is None:
            raise SlackError("invalid_code")
        if grant.redirect_uri and request.params.get("redirect_uri") != grant.redirect_uri:
            raise SlackError("bad_redirect_uri")
        install, installer = grant.install, grant.installer
        self._installs[install.token] = install
        return {
            "access_token": install.token,
            "token_type": "bot",
            "scope": install.scope,
            "bot_user_id": install.bot_user_id,
            "app_id": self.app_id,
            "team": {"id": install.team_id, "name": install.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": installer},
        }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], api: LocalSlackAPI
    ) -> None:
        super().__init__(address, handler)
        self.api = api


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self.server.api._serve(self, "GET")

    def do_POST(self) -> None:
        self.server.api._serve(self, "POST")

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: every call is recorded instead."""


def _check_view(view: object, expected_type: str) -> None:
    """Refuse a view as Slack does, listing what is wrong with it."""
    problems = view_problems(view, expected_type=expected_type)
    if problems:
        raise SlackError("invalid_arguments", problems)


def _check_hash(request: _Request, record: _View) -> None:
    """Refuse an update made from an older version of the view than the one shown."""
    expected_hash = request.params.get("hash")
    if expected_hash and expected_hash != record.data["hash"]:
        raise SlackError("hash_conflict")


def _send(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(body)


def _parse(
    query: str, raw: bytes, headers: Mapping[str, str]
) -> tuple[JSON, str | None, tuple[str, str] | None]:
    """Params from the query and a form or JSON body, the bearer token, the basic-auth pair.

    `headers` are keyed in lower case.
    """
    params: JSON = dict(parse_qsl(query, keep_blank_values=True))
    content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if raw:
        if content_type == "application/json":
            try:
                body = json.loads(raw)
            except ValueError:
                raise SlackError("invalid_json") from None
            if not isinstance(body, dict):
                raise SlackError("invalid_json")
            params.update(body)
        elif content_type == "application/x-www-form-urlencoded":
            params.update(parse_qsl(raw.decode(), keep_blank_values=True))
        else:
            raise SlackError("invalid_post_type")
    # Form posts carry views and blocks as JSON strings; JSON posts carry them as objects.
    for key in _JSON_PARAMS:
        if isinstance(params.get(key), str):
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                raise SlackError("invalid_arguments", [f"{key} is not valid JSON"]) from None
    token = params.pop("token", None)
    basic: tuple[str, str] | None = None
    authorization = headers.get("authorization") or ""
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "bearer" and credentials:
        token = credentials
    elif scheme.lower() == "basic" and credentials:
        try:
            client_id, _, secret = base64.b64decode(credentials).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise SlackError("invalid_auth") from None
        basic = (client_id, secret)
    return params, (str(token) if token else None), basic
