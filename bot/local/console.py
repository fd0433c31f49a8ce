"""`customer-bot console`: the real app in a terminal, with the local Slack stand-in as Slack."""

from __future__ import annotations

import re
import secrets
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TextIO, TypeVar

from pydantic import SecretStr
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.app import alert_worker, create_app
from bot.local.blockkit import (
    JSON,
    TEXT_INPUTS,
    Element,
    control_numbers,
    elements,
    plain,
    text_of,
)
from bot.local.driver import (
    CHOOSABLE,
    EXTERNAL_SELECTS,
    PICKERS,
    AppEndpoint,
    AppResponse,
    DriverError,
    SlackDriver,
)
from bot.local.http import serve_wsgi
from bot.local.render import render_confirm, render_message, render_view, view_title
from bot.local.slack_api import (
    LocalSlackAPI,
    Message,
    SlackChannel,
    SlackUser,
    SlackWorkspace,
    UploadedFile,
)
from bot.logging_setup import logging_to_file
from bot.transport.wsgi import EVENTS_PATH, create_wsgi_app
from core.actor import Actor
from core.adapters.mail import OutboxWorker, transport_from_settings
from core.config import Settings
from core.db import Database
from core.demo.customers import load_demo_customers, load_demo_history
from core.errors import ConfigError
from core.models import Role
from core.services.customers import customer_count
from core.services.staff import add_staff, resolve_actor
from core.services.workspaces import LOCAL_TEAM_ID

# Bolt's own default pool size for listeners.
LISTENER_THREADS = 10
LOCAL_TEAM_NAME = "Local workspace"
DEFAULT_DEMO_CUSTOMERS = 1000
DEFAULT_LOG_PATH = Path("var") / "console.log"
# How long to wait for the app to finish what a command set off before showing the screen.
SETTLE_TIMEOUT = 10.0
MAIL_INTERVAL = 1.0
MAX_WIDTH = 100
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class LocalUser:
    """A person of the local workspace."""

    user_id: str
    name: str
    real_name: str
    role: str


ADMIN = LocalUser("ULOCAL", "alex", "Alex Morgan", "admin")
STAFF = LocalUser("USTAFF", "sam", "Sam Staff", "staff")
LOCAL_USERS = (ADMIN, STAFF)
LOCAL_CHANNEL = "C0LOCAL"


class ConsoleError(Exception):
    """A command the console cannot carry out; the message says what to type instead."""


@dataclass(frozen=True)
class Command:
    """One typed line: a verb, what it points at (a number, label or user) and the rest."""

    verb: str
    target: str = ""
    text: str = ""


_VERBS = {
    "click": "click",
    "press": "click",
    "choose": "choose",
    "pick": "choose",
    "select": "choose",
    "type": "type",
    "fill": "type",
    "submit": "submit",
    "save": "submit",
    "back": "back",
    "close": "back",
    "cancel": "back",
    "home": "home",
    "as": "as",
    "help": "help",
    "?": "help",
    "quit": "quit",
    "exit": "quit",
    "q": "quit",
}


def _unquote(text: str) -> str:
    """Drop one pair of surrounding quotes, so `type 1 "  spaced "` keeps its spaces."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


def parse_command(line: str) -> Command:
    """Read one typed line; anything unrecognised becomes the verb "unknown"."""
    text = line.strip()
    if not text:
        return Command("refresh")
    head, _, rest = text.partition(" ")
    rest = rest.strip()
    if text.startswith("/"):
        return Command("slash", head, rest)
    if head.isdigit():
        return Command("use", head, _unquote(rest))
    verb = _VERBS.get(head.lower())
    if verb is None:
        return Command("unknown", text)
    if verb in {"choose", "type"}:
        target, _, value = rest.partition(" ")
        return Command(verb, target, _unquote(value.strip()))
    return Command(verb, _unquote(rest))


HELP_ROWS = (
    ("/customers [text]", "run the slash command: /customers zoe, /customers new, /customers help"),
    ("N", "press button N (for a menu or a field, says how to use it)"),
    (
        "choose N OPTION",
        "pick OPTION in menu N by its number, its name or words of it: choose 5 yoga 21 dec",
    ),
    ("type N TEXT", "fill text field N (a search field updates the list); type N alone clears it"),
    ("N OPTION, N TEXT", "short for choose N OPTION or type N TEXT"),
    ("N 2026-03-20, N 10:30", "set date picker or time picker N (24-hour time)"),
    ("click LABEL", "press the button labelled LABEL, e.g. click Next"),
    ("submit, save", "press the modal's submit button"),
    ("back, close", "close the top modal, as Slack's Close or Cancel does"),
    ("home", "close any modals and open the app's Home tab"),
    ("as USER", "act as someone else: as alex (admin), as sam (staff), as UNEW (no access)"),
    ("Enter", "look again"),
    ("help", "this list"),
    ("quit", "leave (Ctrl-D and Ctrl-C work too)"),
)
HINT = "N press · N OPTION choose · N TEXT type · submit · back · home · /customers · help · quit"


def help_table() -> Table:
    """Every console command with what it does."""
    table = Table(title="Console commands", title_justify="left", show_header=False, box=None)
    table.add_column(style="bold cyan", no_wrap=True)
    table.add_column()
    for command, meaning in HELP_ROWS:
        table.add_row(Text(command), Text(meaning))
    return table


class _TrackingExecutor(Executor):
    """Bolt's listener executor, counting what runs on it so the console knows when it's idle."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner
        self._busy = 0
        self._changed = threading.Condition()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        # Counted before the request that submits it is answered, so no finished answer
        # can be seen while its listener has yet to start.
        with self._changed:
            self._busy += 1
        try:
            future = self._inner.submit(fn, *args, **kwargs)
        except BaseException:
            self._finished()
            raise
        future.add_done_callback(lambda _future: self._finished())
        return future

    def _finished(self) -> None:
        with self._changed:
            self._busy -= 1
            self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no listener runs; False if some still did after `timeout` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self._busy == 0, timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)


@dataclass
class LocalWorkspace:
    """The running pieces: the Slack stand-in, the app over HTTP and the database."""

    api: LocalSlackAPI
    db: Database
    app_url: str
    signing_secret: str
    listeners: _TrackingExecutor
    customers: int
    demo_loaded: int

    def driver(self, user_id: str) -> SlackDriver:
        """A Slack client for one person of the workspace."""
        return SlackDriver(
            self.api,
            AppEndpoint(self.app_url, self.signing_secret),
            user_id=user_id,
            team_id=LOCAL_TEAM_ID,
            channel_id=LOCAL_CHANNEL,
        )

    def settle(self, timeout: float = SETTLE_TIMEOUT) -> bool:
        """Wait until the app has finished handling what it was sent; False on timeout."""
        return self.listeners.wait_idle(timeout)


def local_settings(settings: Settings, api: LocalSlackAPI, signing_secret: str) -> Settings:
    """The settings with Slack replaced by the stand-in and the local admin made an admin."""
    admins = [*settings.admin_slack_user_ids]
    if ADMIN.user_id not in admins:
        admins.append(ADMIN.user_id)
    return settings.model_copy(
        update={
            "slack_bot_token": SecretStr(api.bot_token),
            "slack_signing_secret": SecretStr(signing_secret),
            "slack_app_token": None,
            # One local workspace with the stand-in's token, never OAuth installs.
            "slack_client_id": None,
            "slack_client_secret": None,
            "slack_api_url": api.base_url,
            "admin_slack_user_ids": admins,
        }
    )


def _prepare_data(db: Database, demo_customers: int, announce: Callable[[str], None]) -> int:
    """Demo customers on first start (none in the workspace yet), and the local staff member."""
    with db.unit_of_work() as uow:
        loaded = 0
        # Staff first, so the demo notes are written by the people of this workspace.
        if resolve_actor(uow, LOCAL_TEAM_ID, STAFF.user_id) is None:
            admin = Actor(team_id=LOCAL_TEAM_ID, user_id=ADMIN.user_id, role=Role.ADMIN)
            add_staff(uow, admin, STAFF.user_id)
        if not customer_count(uow, LOCAL_TEAM_ID) and demo_customers > 0:
            announce(f"First start: loading {demo_customers:,} demo customers and their history…")
            made = load_demo_customers(uow, LOCAL_TEAM_ID, demo_customers)
            load_demo_history(uow, LOCAL_TEAM_ID, made=made)
            loaded = made.created
    return loaded


@contextmanager
def open_workspace(
    settings: Settings,
    *,
    demo_customers: int = DEFAULT_DEMO_CUSTOMERS,
    announce: Callable[[str], None] = lambda _message: None,
) -> Iterator[LocalWorkspace]:
    """Start the stand-in, the database (migrated, demo data on first start), app and mail."""
    signing_secret = secrets.token_hex(16)
    with LocalSlackAPI(SlackWorkspace(LOCAL_TEAM_ID, LOCAL_TEAM_NAME)) as api:
        local = local_settings(settings, api, signing_secret)
        try:
            transport = transport_from_settings(local)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        db = Database(local)
        try:
            db.upgrade()
            loaded = _prepare_data(db, demo_customers, announce)
            with db.unit_of_work(readonly=True) as uow:
                customers = customer_count(uow, LOCAL_TEAM_ID)
            for user in LOCAL_USERS:
                api.add_user(SlackUser(user.user_id, user.name, real_name=user.real_name))
            # The channel commands are typed in: the local staff and the app, so charts post there.
            staff = tuple(user.user_id for user in LOCAL_USERS)
            api.add_channel(SlackChannel(LOCAL_CHANNEL, "front-desk", (*staff, api.bot_user_id)))
            # Listeners run after the ack, so an answered request says nothing about the views
            # they will update next; counting them lets each screen show the command's outcome.
            listeners = _TrackingExecutor(ThreadPoolExecutor(max_workers=LISTENER_THREADS))
            app = create_app(local, db, listener_executor=listeners)
            root, stop_http = serve_wsgi(create_wsgi_app(app, db))
            worker = OutboxWorker(db, transport, interval=MAIL_INTERVAL)
            worker.start()
            alerts = alert_worker(app, interval=MAIL_INTERVAL)
            alerts.start()
            try:
                yield LocalWorkspace(
                    api=api,
                    db=db,
                    app_url=root + EVENTS_PATH,
                    signing_secret=signing_secret,
                    listeners=listeners,
                    customers=customers,
                    demo_loaded=loaded,
                )
            finally:
                stop_http()
                listeners.wait_idle(SETTLE_TIMEOUT)
                listeners.shutdown()
                alerts.stop()
                worker.stop()
        finally:
            db.dispose()


Reader = Callable[[Text], str | None]


def _reader(out: Console, stream: TextIO | None) -> Reader:
    """Read a line after a prompt: from the terminal, or from `stream`, echoed like typing."""
    if stream is None:
        # Line editing and history (Up repeats a command) for input(), where the platform has it.
        with suppress(ImportError):
            import readline  # noqa: F401

        def from_terminal(prompt: Text) -> str | None:
            try:
                return out.input(prompt)
            except EOFError:
                return None

        return from_terminal

    def from_stream(prompt: Text) -> str | None:
        line = stream.readline()
        if not line:
            return None
        line = line.rstrip("\r\n")
        out.print(prompt + Text(line), highlight=False)
        return line

    return from_stream


def _status_note(status: int, log_path: Path) -> str:
    if status == 404:
        return "The app does not handle that (HTTP 404)."
    if status == 401:
        return "The app refused the request's signature (HTTP 401)."
    return f"The app failed (HTTP {status}); the details are in {log_path}."


def _option_label(option: dict[str, object]) -> str:
    return plain(text_of(option.get("text")))


def options_named(options: list[JSON], wanted: str) -> list[JSON]:
    """The options `wanted` names: by label, by number, by the start of a label, or by words
    of it ("yoga 21 dec" finds "Morning Yoga · Sat 21 Dec, 10:00"), the first way that finds any."""
    folded = wanted.casefold()
    labels = [_option_label(o).casefold() for o in options]
    by_label = [o for o, label in zip(options, labels, strict=True) if label == folded]
    if by_label:
        return by_label
    if wanted.isdigit() and 1 <= int(wanted) <= len(options):
        return [options[int(wanted) - 1]]
    words = folded.split()
    return [o for o, label in zip(options, labels, strict=True) if label.startswith(folded)] or [
        o for o, label in zip(options, labels, strict=True) if all(w in label for w in words)
    ]


class ConsoleSession:
    """The read–act–show loop for one terminal, acting through a SlackDriver."""

    def __init__(
        self, workspace: LocalWorkspace, out: Console, read: Reader, *, log_path: Path
    ) -> None:
        self.workspace = workspace
        self.api = workspace.api
        self.out = out
        self.read = read
        self.log_path = log_path
        self.driver = workspace.driver(ADMIN.user_id)
        self.names = {user.user_id: user.name for user in LOCAL_USERS}
        # Messages shown, by where, when and what they say (a replaced one shows again).
        self._seen: set[tuple[str, str, str]] = set()
        self._files_seen: set[str] = set()
        # The input blocks each view had when first shown: fields a redraw adds are numbered
        # after them, so the numbers already seen keep meaning the same fields.
        self._first_inputs: dict[tuple[str, str], frozenset[str]] = {}
        # The newest message with controls just shown (a choice to make): its controls are
        # numbered after the view's until the next screen.
        self._message: Message | None = None
        # Files the app shares (a sales chart) are saved here, for any image viewer to open.
        self.files_dir = log_path.parent / "files"
        self._shown_once = False
        # People whose open modals came from a slash command, not from Home.
        self._over_channel: set[str] = set()

    # ----------------------------------------------------------------- the loop

    def run(self) -> None:
        """Show Home, then read and carry out commands until quit, EOF or Ctrl-C."""
        try:
            note = self._act(self.driver.open_home())
            self.show(note)
            while True:
                line = self.read(self._prompt())
                if line is None or not self.handle(line):
                    break
        except KeyboardInterrupt:
            self.out.print()
        self.out.print("Bye.")

    def handle(self, line: str) -> bool:
        """Carry out one typed line and show the result; False when the user wants to leave."""
        command = parse_command(line)
        if command.verb == "quit":
            return False
        if command.verb == "help":
            self.out.print(help_table())
            return True
        try:
            before = len(self.api.stack(self.driver.user_id))
            note = self._dispatch(command)
            note = self._back_to_home(command.verb, before) or note
        except (ConsoleError, DriverError) as exc:
            self._problem(str(exc))
            return True
        except LookupError:
            # The view changed between reading it and acting on it (a late update landed).
            self._problem("The screen changed meanwhile; look again and retry.")
            return True
        self.show(note)
        return True

    def _dispatch(self, command: Command) -> str | None:
        verb = command.verb
        if verb == "refresh":
            return None
        if verb == "slash":
            # Typed as in Slack; sent as Slack sends /customers (should_escape: mentions resolved).
            text = self.api.escaped_command_text(command.text)
            response = self.driver.slash(command.target, text)
            if response.status == 404:
                raise ConsoleError(
                    f"{command.target} is not a command of this app. Try /customers."
                )
            return self._act(response)
        if verb == "use":
            return self._use(command.target, command.text)
        if verb == "click":
            return self._click(self._button(command.target))
        if verb == "choose":
            return self._choose(self._element(command.target), command.text)
        if verb == "type":
            return self._type(self._element(command.target), command.text)
        if verb == "submit":
            self._require_modal("submit")
            return self._act(self.driver.submit())
        if verb == "back":
            self._require_modal("close")
            return self._act(self.driver.close())
        if verb == "home":
            for _modal in self.api.stack(self.driver.user_id):
                self._act(self.driver.close())
            return self._act(self.driver.open_home())
        if verb == "as":
            return self._switch(command.target)
        return self._unknown(command.target)

    def _back_to_home(self, verb: str, before: int) -> str | None:
        """Show Home afresh when the last modal of a slash command closes.

        In Slack that modal sat over a channel and the person would click the Home tab to
        see Home (app_home_opened); modals opened from Home go back to it as it is.
        """
        user_id = self.driver.user_id
        after = len(self.api.stack(user_id))
        if verb == "as":
            return None
        if verb == "slash" and after:
            self._over_channel.add(user_id)
        elif not before and after:
            self._over_channel.discard(user_id)
        elif before and not after and user_id in self._over_channel:
            self._over_channel.discard(user_id)
            return self._act(self.driver.open_home())
        return None

    def _unknown(self, text: str) -> str | None:
        """A button's label typed on its own presses it; anything else gets pointed to help."""
        view = self.driver.current_view()
        buttons = [e for e in self.driver.find_elements() if e.kind == "button"] if view else []
        wanted = text.casefold()
        if len(wanted) >= 3 and any(wanted in e.label.casefold() for e in buttons):
            return self._click(self._button(text))
        raise ConsoleError(f"Unknown command {text!r}. Type help to see the commands.")

    # ----------------------------------------------------------------- acting

    def _act(self, response: AppResponse | None) -> str | None:
        """Wait for the app to finish; a note when it failed or is still busy."""
        notes = []
        if response is not None and response.status != 200:
            notes.append(_status_note(response.status, self.log_path))
        if not self.workspace.settle():
            notes.append("The app is still working; press Enter in a moment to look again.")
        return " ".join(notes) or None

    def _elements(self) -> list[Element]:
        if self.driver.current_view() is None:
            raise ConsoleError("Nothing is open. Type /customers to open the customer list.")
        return self.driver.find_elements()

    def _message_elements(self) -> list[Element]:
        return elements(self._message.blocks) if self._message is not None else []

    def _late(self, view: JSON) -> frozenset[str]:
        """The input blocks of `view` that it did not have when its page was first shown (a
        page: the view and its callback_id, as Home shows Today or Customers in one view)."""
        inputs = frozenset(
            str(b.get("block_id")) for b in view.get("blocks") or [] if b.get("type") == "input"
        )
        page = (str(view.get("id")), str(view.get("callback_id")))
        first = self._first_inputs.setdefault(page, inputs)
        return inputs - first

    def _numbered(self) -> list[tuple[int, Element]]:
        """The controls on screen with the numbers they are shown under, in number order: the
        view's, then those of the message just shown."""
        view = self.driver.current_view()
        if view is None and self._message is None:
            self._elements()
        found = self.driver.find_elements() if view is not None else []
        numbers = control_numbers(found, self._late(view or {}))
        numbered = sorted(zip(numbers, found, strict=True), key=lambda pair: pair[0])
        after = max(numbers, default=0)
        numbered += [(after + i, e) for i, e in enumerate(self._message_elements(), 1)]
        return numbered

    def _message_of(self, element: Element) -> Message | None:
        """The message `element` is in, or None when it is in the view."""
        return self._message if element in self._message_elements() else None

    def _element(self, number: str) -> Element:
        numbered = self._numbered()
        if not number.isdigit():
            raise ConsoleError(
                f"Give the number shown in brackets, e.g. [3] is 3 (got {number or 'nothing'})."
            )
        index = int(number)
        found = next((e for n, e in numbered if n == index), None)
        if found is None:
            shown = f"1 to {numbered[-1][0]}" if numbered else "none: nothing here can be used"
            raise ConsoleError(f"There is no [{index}] on screen; the numbers are {shown}.")
        return found

    def _button(self, target: str) -> Element:
        if target.isdigit():
            return self._element(target)
        if not target:
            raise ConsoleError("Click what? Give a number or a button's label, e.g. click Next.")
        buttons = [(i, e) for i, e in self._numbered() if e.kind == "button"]
        wanted = target.casefold()
        matches = [(i, e) for i, e in buttons if e.label.casefold() == wanted] or [
            (i, e) for i, e in buttons if wanted in e.label.casefold()
        ]
        if len(matches) == 1:
            return matches[0][1]
        if not matches:
            raise ConsoleError(f"No button is labelled {target!r}.")
        listed = ", ".join(f"[{i}] {e.label}" for i, e in matches[:8])
        raise ConsoleError(f"{target!r} could be {listed}: give the number.")

    def _use(self, number: str, text: str) -> str | None:
        element = self._element(number)
        if element.kind == "button":
            if text:
                raise ConsoleError(f"[{number}] is a button: type {number} alone to press it.")
            return self._click(element)
        if element.kind in CHOOSABLE:
            return self._choose(element, text)
        if element.kind in TEXT_INPUTS:
            return self._type(element, text)
        if element.kind in PICKERS:
            return self._pick(element, text)
        raise ConsoleError(f"[{number}] is a {element.kind}, which the console cannot fill in.")

    def _click(self, element: Element) -> str | None:
        number = self._number_of(element)
        if element.kind != "button":
            raise ConsoleError(self._usage(element, number))
        if not self._confirmed(element):
            return "Cancelled; nothing was changed."
        where = self._message_of(element)
        return self._act(
            self.driver.click(
                element.action_id, in_block=element.block_id, message=where, confirm=True
            )
        )

    def _choose(self, element: Element, wanted: str) -> str | None:
        number = self._number_of(element)
        if element.kind not in CHOOSABLE:
            raise ConsoleError(self._usage(element, number))
        external = element.kind in EXTERNAL_SELECTS
        if not wanted:
            raise ConsoleError(self._usage(element, number))
        option = wanted if external else self._option(element, number, wanted)
        if not self._confirmed(element):
            return "Cancelled; nothing was changed."
        where = self._message_of(element)
        return self._act(
            self.driver.choose(
                option,
                menu=element.action_id,
                in_block=element.block_id,
                message=where,
                confirm=True,
            )
        )

    def _option(self, element: Element, number: int, wanted: str) -> str:
        """The value (else label) of the option `wanted` names (see `options_named`)."""
        matches = options_named(element.options, wanted)
        if len(matches) != 1:
            raise ConsoleError(
                f"{'Which' if matches else 'No'} option {wanted!r}? " + self._usage(element, number)
            )
        value = matches[0].get("value")
        return value if isinstance(value, str) else _option_label(matches[0])

    def _type(self, element: Element, text: str) -> str | None:
        if element.kind in PICKERS:
            return self._pick(element, text)
        number = self._number_of(element)
        if element.kind not in TEXT_INPUTS:
            raise ConsoleError(self._usage(element, number))
        return self._act(self.driver.type(text, into=element.action_id, in_block=element.block_id))

    def _pick(self, element: Element, text: str) -> str | None:
        if not text:
            raise ConsoleError(self._usage(element, self._number_of(element)))
        try:
            response = self.driver.pick(text, into=element.action_id, in_block=element.block_id)
        except DriverError as exc:
            raise ConsoleError(f"{exc}. {self._usage(element, self._number_of(element))}") from None
        return self._act(response)

    def _number_of(self, element: Element) -> int:
        return next(n for n, e in self._numbered() if e == element)

    @staticmethod
    def _usage(element: Element, number: int) -> str:
        if element.kind == "button":
            return f"[{number}] is a button: type {number} to press it."
        if element.kind in TEXT_INPUTS:
            return f"[{number}] is a text field: type {number} TEXT to fill it in."
        if element.kind == "datepicker":
            return f"[{number}] is a date: type {number} YYYY-MM-DD, e.g. {number} 2026-03-20."
        if element.kind == "timepicker":
            return f"[{number}] is a time: type {number} HH:MM (24-hour), e.g. {number} 10:30."
        offered = (
            ", ".join(f"{i} {_option_label(o)}" for i, o in enumerate(element.options, 1))
            or "the app suggests options as you type"
        )
        return f"[{number}] is a menu: choose {number} OPTION. Options: {offered}."

    def _confirmed(self, element: Element) -> bool:
        """Ask like Slack's confirm dialog when the control has one; True when it has none."""
        confirm = element.element.get("confirm")
        if not isinstance(confirm, dict):
            return True
        self.out.print(render_confirm(confirm, names=self.names))
        answer = self.read(Text("yes or no › ", style="bold"))
        return answer is not None and answer.strip().casefold() in {"y", "yes"}

    def _require_modal(self, what: str) -> None:
        if self.api.current_view(self.driver.user_id) is None:
            raise ConsoleError(
                f"No modal is open, so there is nothing to {what}. "
                "Type /customers to open the customer list."
            )

    def _switch(self, who: str) -> str | None:
        wanted = who.strip()
        user = next(
            (u for u in LOCAL_USERS if wanted.casefold() in {u.name, u.role, u.user_id.casefold()}),
            None,
        )
        if user is not None:
            user_id = user.user_id
        elif _SLACK_ID.match(wanted):
            user_id = wanted
            if self.api.user(user_id) is None:
                self.api.add_user(SlackUser(user_id, user_id.lower()))
            self.names.setdefault(user_id, user_id.lower())
        else:
            raise ConsoleError(
                "Act as whom? as alex (admin), as sam (staff), or a new Slack id such as "
                "as UNEW for someone without access."
            )
        self.driver = self.workspace.driver(user_id)
        # Coming back to Slack shows the Home tab afresh, unless a modal is still open.
        if self.api.current_view(user_id) is None:
            return self._act(self.driver.open_home())
        return None

    # ----------------------------------------------------------------- showing

    def _prompt(self) -> Text:
        user_id = self.driver.user_id
        # Asked each time: access changes with /customers staff add and remove.
        with self.workspace.db.unit_of_work(readonly=True) as uow:
            actor = resolve_actor(uow, LOCAL_TEAM_ID, user_id)
        prompt = Text()
        prompt.append(f"{self.names.get(user_id, user_id)} ", style="bold")
        prompt.append(f"({actor.role.value if actor else 'no access'})", style="dim")
        prompt.append(" › ", style="bold")
        return prompt

    def _problem(self, message: str) -> None:
        self.out.print(Text(message, style="yellow"))

    def _new_messages(self) -> list[tuple[str, Message]]:
        """Messages this person can see that have not been shown yet, oldest first."""
        user_id = self.driver.user_id
        found = [("Only visible to you", m) for m in self.driver.ephemeral_messages()]
        found += [("Message in the channel", m) for m in self.driver.messages()]
        dm = self.api.dm_channel(user_id)
        found += [("Direct message from the app", m) for m in self.driver.messages(dm)]
        fresh = []
        for heading, message in found:
            key = (message.channel, message.ts, message.text)
            if key not in self._seen:
                self._seen.add(key)
                fresh.append((heading, message))
        return sorted(fresh, key=lambda pair: pair[1].ts)

    def _new_files(self) -> list[tuple[UploadedFile, Path]]:
        """Files shared where this person can see them and not shown yet, each saved to disk."""
        visible = {self.driver.channel_id, self.api.dm_channel(self.driver.user_id)}
        saved = []
        for upload in self.api.files():
            if upload.id in self._files_seen or upload.content is None:
                continue
            if not visible & set(upload.channels):
                continue
            self._files_seen.add(upload.id)
            path = self.files_dir / f"{upload.id}-{Path(upload.name).name}"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(upload.content)
            saved.append((upload, path))
        return saved

    def show(self, note: str | None = None) -> None:
        """Draw the current view, new messages and the command hint (clearing a terminal)."""
        if self.out.is_terminal and self._shown_once:
            self.out.clear()
        self._shown_once = True
        width = min(self.out.width, MAX_WIDTH)
        view = self.driver.current_view()
        after = 0
        if view is None:
            self.out.print(Text("Nothing is open. Type /customers to open the customer list."))
        else:
            after = max(control_numbers(self.driver.find_elements(), self._late(view)), default=0)
            stack = self.api.stack(self.driver.user_id)
            trail = [view_title(v) for v in stack[:-1]] if view.get("type") == "modal" else []
            shown = render_view(
                view,
                errors=self.driver.errors(),
                names=self.names,
                trail=trail,
                width=width,
                late=self._late(view),
            )
            self.out.print(shown)
        fresh = self._new_messages()
        choices = [m for _, m in fresh if elements(m.blocks)]
        self._message = choices[-1] if choices else None
        for heading, message in fresh:
            self.out.print(
                render_message(
                    message.text,
                    message.blocks,
                    heading=heading,
                    names=self.names,
                    width=width,
                    after=after if message is self._message else None,
                )
            )
        for upload, path in self._new_files():
            shared = Text(f"📎 {upload.title or upload.name}", style="bold")
            shared.append(f" was shared here; open {path} to see it.")
            self.out.print(shared)
        if note:
            self._problem(note)
        self.out.print(Text(HINT, style="dim"))


def _banner(workspace: LocalWorkspace, settings: Settings, log_path: Path) -> Text:
    url = workspace.db.engine.url.render_as_string(hide_password=True)
    banner = Text("Customer Records for Slack", style="bold")
    banner.append(" — local console: the real app, with a stand-in for Slack\n")
    loaded = (
        f" ({workspace.demo_loaded:,} demo customers loaded on this first start)"
        if workspace.demo_loaded
        else ""
    )
    banner.append(f"Database {url}, {workspace.customers:,} customers{loaded}.\n", style="dim")
    mail = (
        "Mail goes out over SMTP_URL."
        if settings.smtp_url
        else f"Mail is not sent (no SMTP_URL): {log_path} names each mail's recipient and subject."
    )
    banner.append(
        f"You are @{ADMIN.name} (admin); `as sam` switches to a staff member. {mail}\n", style="dim"
    )
    banner.append("Try ")
    banner.append("/customers zoe", style="bold cyan")
    banner.append(", or ")
    banner.append("help", style="bold cyan")
    banner.append(" for every command.")
    return banner


def run_console(
    settings: Settings,
    *,
    input_stream: TextIO | None = None,
    output: Console | None = None,
    demo_customers: int = DEFAULT_DEMO_CUSTOMERS,
    log_path: Path = DEFAULT_LOG_PATH,
) -> None:
    """Run the app against the local Slack stand-in and drive it from the terminal until quit.

    Reads commands from `input_stream` (echoing them) instead of the terminal when given.
    """
    out = output or Console()
    with (
        logging_to_file(settings, log_path),
        open_workspace(
            settings,
            demo_customers=demo_customers,
            announce=lambda message: out.print(Text(message, style="dim")),
        ) as workspace,
    ):
        out.print(_banner(workspace, settings, log_path))
        ConsoleSession(workspace, out, _reader(out, input_stream), log_path=log_path).run()
