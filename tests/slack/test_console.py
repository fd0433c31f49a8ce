"""The terminal console: rendering of views, command parsing, and a scripted session end to end."""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console, RenderableType
from slack_sdk import WebClient

from bot.local.blockkit import Element, control_numbers, elements
from bot.local.console import (
    ADMIN,
    LOCAL_TEAM_ID,
    Command,
    ConsoleSession,
    LocalWorkspace,
    open_workspace,
    options_named,
    parse_command,
    run_console,
)
from bot.local.render import mrkdwn, render_confirm, render_message, render_view
from core.config import Settings
from tests.conftest import make_settings

NAMES = {"ULOCAL": "you"}


def _console(width: int = 100) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=width, color_system=None, force_terminal=False), buffer


def _text(renderable: RenderableType, width: int = 100) -> str:
    console, buffer = _console(width)
    console.print(renderable)
    return buffer.getvalue()


# --------------------------------------------------------------------- rendering

FORM_VIEW: dict[str, Any] = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Create Customer"},
    "submit": {"type": "plain_text", "text": "Save"},
    "close": {"type": "plain_text", "text": "Cancel"},
    "blocks": [
        {
            "type": "input",
            "block_id": "first_name",
            "label": {"type": "plain_text", "text": "First name"},
            "element": {"type": "plain_text_input", "action_id": "customer_form.first_name"},
        },
        {
            "type": "input",
            "block_id": "email",
            "label": {"type": "plain_text", "text": "Email"},
            "hint": {"type": "plain_text", "text": "Used to sign in."},
            "element": {
                "type": "email_text_input",
                "action_id": "customer_form.email",
                "placeholder": {"type": "plain_text", "text": "name@example.com"},
            },
        },
        {
            "type": "input",
            "block_id": "mobile",
            "optional": True,
            "label": {"type": "plain_text", "text": "Mobile"},
            "element": {"type": "plain_text_input", "action_id": "customer_form.mobile"},
        },
    ],
    "state": {
        "values": {
            "first_name": {
                "customer_form.first_name": {"type": "plain_text_input", "value": "Zoë"},
            },
            "email": {"customer_form.email": {"type": "email_text_input", "value": None}},
        }
    },
}

HUB_VIEW: dict[str, Any] = {
    "type": "home",
    "blocks": [
        {"type": "header", "text": {"type": "plain_text", "text": "Customers"}},
        {
            "type": "actions",
            "block_id": "hub_tabs",
            "elements": [
                {
                    "type": "button",
                    "action_id": "hub.tab.active",
                    "text": {"type": "plain_text", "text": "Active"},
                    "style": "primary",
                },
                {
                    "type": "button",
                    "action_id": "hub.tab.archived",
                    "text": {"type": "plain_text", "text": "Archived"},
                },
            ],
        },
        {
            "type": "input",
            "block_id": "hub_search",
            "dispatch_action": True,
            "optional": True,
            "label": {"type": "plain_text", "text": "Search"},
            "element": {
                "type": "plain_text_input",
                "action_id": "hub.search",
                "initial_value": "zoe",
                "dispatch_action_config": {"trigger_actions_on": ["on_character_entered"]},
            },
        },
        {
            "type": "section",
            "block_id": "hub_sort",
            "text": {"type": "mrkdwn", "text": "*1–2 of 2* active customers"},
            "accessory": {
                "type": "button",
                "action_id": "hub.sort",
                "text": {"type": "plain_text", "text": "Name A→Z ▲"},
            },
        },
        {"type": "divider"},
        {
            "type": "actions",
            "block_id": "row_1",
            "elements": [
                {
                    "type": "button",
                    "action_id": "customer.open",
                    "text": {"type": "plain_text", "text": "Zoë Müller"},
                },
                {
                    "type": "overflow",
                    "action_id": "customer.row_menu",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Manage"}, "value": "manage|1"},
                        {"text": {"type": "plain_text", "text": "Archive"}, "value": "archive|1"},
                    ],
                },
            ],
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": "zoe@example.com  ·  +44 7700 900123"}],
        },
    ],
    "state": {
        "values": {"hub_search": {"hub.search": {"type": "plain_text_input", "value": "zoe"}}}
    },
}


def test_controls_are_numbered_in_the_order_the_console_uses() -> None:
    shown = _text(render_view(HUB_VIEW))
    numbered = [e.label for e in elements(HUB_VIEW["blocks"])]
    assert numbered == ["Active", "Archived", "Search", "Name A→Z ▲", "Zoë Müller", "overflow"]
    positions = [shown.index(f"[{n}]") for n in range(1, len(numbered) + 1)]
    assert positions == sorted(positions)
    assert "[1]  Active" in shown
    assert "[2] Archived" in shown
    assert "[3] Search (optional) · updates as you type" in shown
    assert "[4] Name A→Z ▲" in shown
    assert "[5] Zoë Müller   [6] ⋯ Manage · Archive" in shown
    assert "[7]" not in shown
    assert "Home" in shown.splitlines()[0]


def test_inputs_show_typed_values_placeholders_hints_and_errors_under_their_field() -> None:
    shown = _text(render_view(FORM_VIEW, errors={"email": "Enter a valid email address."}))
    lines = [line.strip("│ ") for line in shown.splitlines()]
    email = lines.index("[2] Email")
    assert lines[email + 1 : email + 4] == [
        "name@example.com",
        "Used to sign in.",
        "⚠ Enter a valid email address.",
    ]
    assert lines[lines.index("[1] First name") + 1] == "Zoë"
    assert "[3] Mobile (optional)" in lines
    assert "Create Customer" in lines[0]
    assert "submit = Save" in shown
    assert "back = Cancel" in shown


def test_a_pushed_modal_names_the_modals_beneath_it() -> None:
    shown = _text(render_view(FORM_VIEW, trail=["Customers"]))
    assert "Customers › Create Customer" in shown.splitlines()[0]


def test_mrkdwn_becomes_styled_text() -> None:
    text = mrkdwn(
        "*Zoë* _wrote_ `code` to <mailto:zoe@example.com|zoe@example.com> "
        "for <@ULOCAL> &amp; <@UOTHER|them>: &lt;hi&gt; snake_case_name :white_check_mark:",
        NAMES,
    )
    assert text.plain == (
        "Zoë wrote code to zoe@example.com for @you & @them: <hi> snake_case_name ✅"
    )
    styles = {text.plain[span.start : span.end]: str(span.style) for span in text.spans}
    assert "bold" in styles["Zoë"]
    assert "italic" in styles["wrote"]
    assert "link mailto:zoe@example.com" in styles["zoe@example.com"]
    assert "snake_case_name" not in styles


def test_nested_emphasis_and_bare_links() -> None:
    text = mrkdwn("*Deleted _Zoë_* — see <https://example.com/a?b=1&amp;c=2>")
    assert text.plain == "Deleted Zoë — see https://example.com/a?b=1&c=2"
    italic = [s for s in text.spans if "italic" in str(s.style)]
    assert [text.plain[s.start : s.end] for s in italic] == ["Zoë"]


def _option(label: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": label}, "value": label.lower()}


def test_menus_choices_pickers_and_unknown_blocks() -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Book"},
        "blocks": [
            {
                "type": "input",
                "block_id": "class",
                "label": {"type": "plain_text", "text": "Class"},
                "element": {
                    "type": "static_select",
                    "action_id": "pick",
                    "options": [_option("Yoga"), _option("Pilates")],
                },
            },
            {
                "type": "actions",
                "block_id": "choices",
                "elements": [
                    {
                        "type": "radio_buttons",
                        "action_id": "when",
                        "options": [_option("Morning"), _option("Evening")],
                        "initial_option": _option("Evening"),
                    },
                    {
                        "type": "checkboxes",
                        "action_id": "extras",
                        "options": [_option("Mat")],
                    },
                    {"type": "datepicker", "action_id": "day", "initial_date": "2026-03-14"},
                ],
            },
            {
                "type": "image",
                "image_url": "https://example.com/chart.png",
                "alt_text": "Sales chart",
            },
            {"type": "rich_text", "elements": []},
        ],
        "state": {
            "values": {
                "class": {"pick": {"type": "static_select", "selected_option": _option("Pilates")}},
                "choices": {
                    "when": {"type": "radio_buttons", "selected_option": _option("Evening")},
                    "day": {"type": "datepicker", "selected_date": "2026-03-14"},
                },
            }
        },
    }
    shown = _text(render_view(view))
    assert "[1] Class" in shown
    # A select's options one per line, numbered as `choose` takes them, the chosen one marked.
    assert "Pilates  ▾" in shown
    assert "     1. Yoga" in shown and "▸  2. Pilates" in shown
    assert "[2] ○ Morning  ◉ Evening   [3] ☐ Mat   [4]  2026-03-14  ▾" in shown
    assert "[image: Sales chart]" in shown
    assert "[rich_text block]" in shown
    assert "back = Close" in shown
    assert "submit" not in shown


def test_messages_and_confirm_dialogs() -> None:
    message = render_message(
        "Sorry, ask <@ULOCAL> for access.", [], heading="Only visible to you", names=NAMES
    )
    assert "Sorry, ask @you for access." in _text(message)
    assert "Only visible to you" in _text(message)
    with_blocks = render_message("fallback", HUB_VIEW["blocks"], heading="In the channel")
    assert " Active    Archived" in _text(with_blocks)
    assert "Search (optional)" in _text(with_blocks)
    assert " zoe " in _text(with_blocks)
    assert "[1]" not in _text(with_blocks)
    assert "fallback" not in _text(with_blocks)
    confirm = render_confirm(
        {
            "title": {"type": "plain_text", "text": "Delete Zoë?"},
            "text": {"type": "mrkdwn", "text": "This *cannot* be undone."},
            "confirm": {"type": "plain_text", "text": "Delete"},
            "deny": {"type": "plain_text", "text": "Keep"},
        }
    )
    shown = _text(confirm)
    assert "Delete Zoë?" in shown
    assert "This cannot be undone." in shown
    assert "yes = Delete   no = Keep" in shown


# --------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("", Command("refresh")),
        ("/customers  zoe ", Command("slash", "/customers", "zoe")),
        ("/customers", Command("slash", "/customers", "")),
        ("7", Command("use", "7", "")),
        ("7 Archive", Command("use", "7", "Archive")),
        ("choose 7 Edit Contact", Command("choose", "7", "Edit Contact")),
        ("type 4 07700 900123", Command("type", "4", "07700 900123")),
        ('type 1 "  spaced "', Command("type", "1", "  spaced ")),
        ("type 4", Command("type", "4", "")),
        ("click + Create Customer", Command("click", "+ Create Customer")),
        ("SAVE", Command("submit")),
        ("close", Command("back")),
        ("as sam", Command("as", "sam")),
        ("?", Command("help")),
        ("exit", Command("quit")),
        ("Next", Command("unknown", "Next")),
    ],
)
def test_parse_command(line: str, command: Command) -> None:
    assert parse_command(line) == command


# --------------------------------------------------------------------- a whole session


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(f"sqlite:///{tmp_path / 'console.db'}", log_level="INFO")


def _steps(transcript: str) -> Iterator[tuple[str, str]]:
    """(typed command, what the console printed after it) for each prompt in the transcript."""
    marker = "(admin) › "
    chunks = transcript.split("alex " + marker)
    for chunk in chunks[1:]:
        command, _, shown = chunk.partition("\n")
        yield command, shown


def _run(
    settings: Settings, log_path: Path, script: list[str], *, demo: int = 30, width: int = 100
) -> str:
    """Run the console on `script` (one command a line); everything it printed."""
    out, buffer = _console(width)
    run_console(
        settings,
        input_stream=io.StringIO("\n".join(script) + "\n"),
        output=out,
        demo_customers=demo,
        log_path=log_path,
    )
    return buffer.getvalue()


def test_a_new_user_manages_customers_from_the_console(settings: Settings, tmp_path: Path) -> None:
    script = [
        "/customers zoe",
        "back",
        "Customers",
        "5",
        "save",
        "type 1 Quentin",
        "type 2 Zyx",
        "type 3 not-an-email",
        "type 4 07700 900123",
        "save",
        "type 3 quentin.zyx@example.com",
        "save",
        "type 6 zyx",
        "choose 9 Edit Contact",
        "type 2 Zyx-Smith",
        "save",
        "type 6",
        "7",
        "Next",
        "type 6 zyx",
        "choose 9 Archive",
        "Undo",
        "choose 9 archive",
        "4",
        "choose 9 Activate",
        "3",
        "choose 9 4",
        "submit",
        "99",
        "type 1 x",
        "frobnicate",
        "/nope",
        "/customers help",
        "help",
    ]
    log_path = tmp_path / "var" / "console.log"
    transcript = _run(settings, log_path, script, width=120)
    start, _, _ = transcript.partition("alex (admin) › ")
    assert "First start: loading 30 demo customers" in start
    steps = list(_steps(transcript))
    assert [command for command, _ in steps] == script
    screens = [shown for _, shown in steps]
    # About a tenth of demo customers are archived, at random.
    found = re.search(r"1–10 of (\d+) active customers", screens[2])
    assert found is not None
    active = int(found.group(1))
    pages = math.ceil((active + 1) / 10)

    def after(index: int, *needles: str) -> None:
        for needle in needles:
            assert needle in screens[index], f"{script[index]!r} did not show {needle!r}"

    after(0, "Customers", "[4] Search", "zoe", "Zoë", "submit = Search")
    # Home opens on Today; the customer list is one press away.
    after(1, "Home", "Today", "[2] Customers")
    after(2, "Customers", f"1–10 of {active} active customers")
    after(3, "Create Customer", "[1] First name", "submit = Save", "back = Cancel")
    after(4, "⚠ Please fill out this field.")
    after(9, "⚠ Enter a valid email address")
    after(11, "✅ Created Quentin Zyx.", f"1–10 of {active + 1} active customers")
    after(12, "1 active customer", "[8] Quentin Zyx ")
    after(13, "Edit Contact", "Quentin", "quentin.zyx@example.com", "+44 7700 900123")
    after(15, "✅ Saved Quentin Zyx-Smith's contact details.")
    after(17, "Name Z→A ▼")
    after(18, f"11–20 of {active + 1} active customers", f"Page 2 of {pages}", "◀ Previous")
    # The notice's Undo is numbered last (after Home's Settings, Stripe, the catalog's kinds,
    # its 15 upcoming events, Review duplicates, Manage tags, New segment and Retention report),
    # so the rows' numbers stay.
    after(
        20,
        "✅ Archived Quentin Zyx-Smith.",
        "[8] Settings",
        "[9] Connect Stripe",
        "[10] Services",
        "[14] Subscription plans",
        "[16] Add event",
        "[36] Undo",
        "No active customers match 'zyx'",
    )
    after(
        21,
        "✅ Activated Quentin Zyx-Smith.",
        "[8] Quentin Zyx-Smith",
        "[10] Settings",
        "[11] Connect Stripe",
        "[12] Services",
        "[18] Add event",
        "[38] Undo",
    )
    after(22, "✅ Archived Quentin Zyx-Smith.")
    after(23, "1 archived customer", "Activate")
    after(24, "✅ Activated Quentin Zyx-Smith.", "No archived customers match 'zyx'")
    after(26, "Delete customer?", "Permanently delete Quentin Zyx-Smith")
    after(27, "✅ Deleted Quentin Zyx-Smith and their history permanently.")
    after(28, "There is no [99] on screen; the numbers are 1 to 35.")
    after(29, "[1] is a button: type 1 to press it.")
    after(30, "Unknown command 'frobnicate'. Type help to see the commands.")
    after(31, "/nope is not a command of this app. Try /customers.")
    after(32, "Only visible to you", "/customers new — create a customer")
    after(33, "Console commands", "choose N OPTION")
    assert transcript.rstrip().endswith("Bye.")
    assert "Traceback" not in transcript
    # Logs go to the file, not between the views.
    assert "Unhandled request" in log_path.read_text()
    assert "Unhandled request" not in transcript


def test_other_people_see_their_own_access(settings: Settings, tmp_path: Path) -> None:
    script = [
        "as sam",
        "/customers zoe",
        "choose 7 Delete",
        "as UNEW",
        "/customers",
        "as alex",
        "/customers staff add @unew",
        "as UNEW",
        "quit",
    ]
    transcript = _run(settings, tmp_path / "console.log", script)
    staff = transcript.split("sam (staff) › choose 7 Delete")[1].split("sam (staff) › ")[0]
    # Staff are offered only what their role allows.
    assert "No option 'Delete'?" in staff
    assert "Options: 1 Manage, 2 Edit Contact, 3 Archive." in staff
    stranger = transcript.split("unew (no access) › /customers")[1]
    assert "you don't have access yet. Ask" in stranger
    assert "@alex to add you: they type /customers staff add and mention you." in stranger
    assert "Only visible to you" in stranger
    assert "@unew can now use Customer Records as staff." in transcript
    assert "unew (staff) › quit" in transcript
    assert transcript.rstrip().endswith("Bye.")


@pytest.fixture
def workspace(settings: Settings) -> Iterator[LocalWorkspace]:
    with open_workspace(settings, demo_customers=0) as running:
        yield running


def _session(workspace: LocalWorkspace, answers: list[str]) -> tuple[ConsoleSession, io.StringIO]:
    out, buffer = _console()
    replies = iter(answers)
    return ConsoleSession(
        workspace, out, lambda _prompt: next(replies, None), log_path=Path("console.log")
    ), buffer


def test_a_control_with_a_confirm_dialog_asks_first(workspace: LocalWorkspace) -> None:
    client = WebClient(token=workspace.api.bot_token, base_url=workspace.api.base_url)
    confirm = {
        "title": {"type": "plain_text", "text": "Really?"},
        "text": {"type": "mrkdwn", "text": "This pokes the app."},
        "confirm": {"type": "plain_text", "text": "Poke"},
        "deny": {"type": "plain_text", "text": "Leave it"},
    }
    button = {
        "type": "button",
        "action_id": "test.poke",
        "text": {"type": "plain_text", "text": "Poke"},
        "confirm": confirm,
    }
    client.views_publish(
        user_id=ADMIN.user_id,
        view={"type": "home", "blocks": [{"type": "actions", "elements": [button]}]},
    )
    session, buffer = _session(workspace, ["no", "yes"])
    mark = workspace.api.mark()
    session.handle("1")
    assert "Really?" in buffer.getvalue()
    assert "Cancelled; nothing was changed." in buffer.getvalue()
    assert workspace.api.mark() == mark
    session.handle("Poke")
    assert "The app does not handle that (HTTP 404)." in buffer.getvalue()


def test_home_is_fresh_after_closing_a_modal_opened_by_the_slash_command(
    workspace: LocalWorkspace,
) -> None:
    session, buffer = _session(workspace, [])
    for line in ["home", "/customers", "3", "type 1 Zoë", "type 2 Ørsted"]:
        session.handle(line)
    for line in ["type 3 zoe@example.com", "type 4 07700 900123", "save"]:
        session.handle(line)
    assert "✅ Created Zoë Ørsted." in buffer.getvalue()
    before = len(buffer.getvalue())
    session.handle("back")
    assert "Today, " in buffer.getvalue()[before:]
    session.handle("Customers")
    home = buffer.getvalue()[before:]
    assert "Home" in home
    assert "1 active customer" in home
    assert "Zoë Ørsted" in home


def test_ctrl_c_leaves_cleanly(workspace: LocalWorkspace) -> None:
    out, buffer = _console()

    def interrupted(_prompt: object) -> str | None:
        raise KeyboardInterrupt

    ConsoleSession(workspace, out, interrupted, log_path=Path("console.log")).run()
    assert buffer.getvalue().rstrip().endswith("Bye.")


def test_the_workspace_is_ready_for_the_local_users(workspace: LocalWorkspace) -> None:
    assert workspace.customers == 0
    assert workspace.demo_loaded == 0
    assert workspace.api.team_id == LOCAL_TEAM_ID
    session, buffer = _session(workspace, ["quit"])
    session.run()
    shown = buffer.getvalue()
    assert "No events today." in shown and "Nothing needs anyone today." in shown
    assert shown.rstrip().endswith("Bye.")


SESSIONS = [
    _option("Morning Yoga · Mon 16 Mar, 07:00 · 3 places left"),
    _option("Morning Yoga · Sat 21 Mar, 10:00 · full"),
    _option("Café Barre · Sat 21 Mar, 10:00 · 12 places left"),
]


@pytest.mark.parametrize(
    ("wanted", "found"),
    [
        ("2", [1]),
        ("café barre", [2]),
        ("morning", [0, 1]),
        ("yoga 21 mar", [1]),
        ("21 MAR", [1, 2]),
        ("pilates", []),
    ],
)
def test_an_option_is_named_by_number_label_start_or_words_of_it(
    wanted: str, found: list[int]
) -> None:
    assert options_named(SESSIONS, wanted) == [SESSIONS[i] for i in found]


def _control(action_id: str, block_id: str = "b") -> Element:
    return Element("button", action_id, action_id, block_id, "actions")


def test_numbers_stay_put_when_a_pager_or_a_notice_changes() -> None:
    tabs = [_control("hub.tab.active"), _control("hub.sort")]
    rows = [_control("hub.open", "row_A"), _control("hub.open", "row_B")]
    prev, nxt = _control("hub.page.prev", "pager"), _control("hub.page.next", "pager")
    undo = _control("notice.undo", "notice")

    first_page = control_numbers([*tabs, *rows, nxt])
    middle_page = control_numbers([undo, *tabs, *rows, prev, nxt])
    last_page = control_numbers([*tabs, *rows, prev])

    assert first_page == [1, 2, 3, 4, 6]
    assert middle_page == [7, 1, 2, 3, 4, 5, 6]
    assert last_page == [1, 2, 3, 4, 5]


def test_a_field_a_redraw_adds_is_numbered_after_those_already_shown() -> None:
    tabs = [_control("a"), _control("b")]
    day = Element("datepicker", "Day", "day", "day", "input")
    service = Element("static_select", "Service", "service", "service", "input")
    facilitator = Element("static_select", "Facilitator", "who", "facilitator_id", "input")

    assert control_numbers([*tabs, service, facilitator, day], late={"facilitator_id"}) == [
        1,
        2,
        3,
        5,
        4,
    ]


def test_choosing_a_service_keeps_the_day_on_its_number(settings: Settings, tmp_path: Path) -> None:
    script = [
        "/customers",
        "6",
        "click Appointments",
        "click Book Appointment",
        "1 massage",
    ]
    transcript = _run(settings, tmp_path / "console.log", script, width=120)
    screens = [shown for _, shown in _steps(transcript)]
    assert "[2] Day" in screens[3] and "] Facilitator" not in screens[3]
    assert "▸  4. Sports Massage" in screens[4], "chosen by words of it"
    assert "[2] Day" in screens[4] and "[6] Facilitator" in screens[4]


README = Path(__file__).resolve().parents[2] / "README.md"
# What the console says when a command does not do what was meant.
MISSES = (
    "There is no [",
    "Unknown command",
    "No option",
    "Which option",
    "No button is labelled",
    "could be [",
    "is a button:",
    "is a menu:",
    "Nothing is open",
    "The app failed",
    "Traceback",
)


def _walkthrough() -> list[str]:
    """The commands of README's console walkthrough, without their notes."""
    section = README.read_text(encoding="utf-8").split("### The local console", 1)[1]
    block = section.split("```text\n", 1)[1].split("```", 1)[0]
    return [re.split(r"\s{2,}", line.strip(), maxsplit=1)[0] for line in block.splitlines()]


def test_the_readmes_walkthrough_works_as_written(settings: Settings, tmp_path: Path) -> None:
    script = _walkthrough()
    assert script[0] == "/customers zoe" and script[-1] == "quit"
    transcript = _run(settings, tmp_path / "var" / "console.log", script, demo=200, width=120)
    for miss in MISSES:
        assert miss not in transcript, f"{miss!r} in:\n{transcript}"
    for shown in (
        "✅ Archived",
        "✅ Activated",
        "Assign Pass",
        "Whose sales chart should I post here?",
        "sales chart here.",
        "📎 Sales",
        "sam (staff) › quit",
    ):
        assert shown in transcript, shown
    assert list((tmp_path / "var" / "files").glob("*.png"))
