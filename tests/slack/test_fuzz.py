"""Bad input: every modal submission, block action, slash command and event, fuzzed over signed HTTP.

Hypothesis draws, for every callback_id, action_id, `/customers` text and event the app accepts
(`TARGETS`, checked against the registered listeners and bot/views/__init__.py below), realistic
payloads and hostile ones: random and 10,000-character text, control characters, right-to-left
and emoji text, wrong types, missing fields, malformed JSON, forged private_metadata (random
JSON, other customers' and other tenants' UIDs, huge pages, negative ids), unknown action ids
and values naming another tenant's records — as staff, admins, non-staff, guests and a user of
another workspace. Every case must keep the invariants of `Harness.problems`.

FUZZ_EXAMPLES raises the number of examples per group (e.g. FUZZ_EXAMPLES=2000 for a long run).
Run with `-s` to see the cases counted per group.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

import bot.views
from bot.app import create_app
from core.db import Database
from tests.conftest import MutableClock, make_settings
from tests.slack.conftest import TEAM
from tests.slack.fuzz_payloads import (
    LEAK,
    TARGETS,
    Case,
    Harness,
    Target,
    draw_case,
    open_harness,
    texts,
    wrong_types,
)
from tests.slack.helpers import post_raw
from tests.stripe_server import StripeStandIn, stripe_process, stripe_server  # noqa: F401

# Examples per group and database; tuned so the file runs in well under a minute with -n 2.
DEFAULT_EXAMPLES = {
    "commands": 100,
    "hub": 140,
    "catalog": 150,
    "details": 150,
    "commerce": 150,
    "raw": 50,
}


def _examples(group: str) -> int:
    raised = os.environ.get("FUZZ_EXAMPLES")
    return int(raised) if raised else DEFAULT_EXAMPLES[group]


def _group(target: Target) -> str:
    if target.kind in {"command", "event", "shortcut", "step"}:
        return "commands"
    surfaces = " ".join(target.surfaces)
    if "catalog" in surfaces or target.id.startswith("catalog"):
        return "catalog"
    if any(
        word in surfaces
        for word in (
            "book_",
            "assign_",
            "bookings.",
            "appointments.",
            "passes.",
            "videos.",
            "subscriptions.",
        )
    ) or target.id in {"customer_details.row", "customer_details.commerce"}:
        return "commerce"
    if (
        "details" in surfaces
        or "note" in surfaces
        or "questionnaire" in surfaces
        or "merge" in surfaces
    ):
        return "details"
    return "hub"


GROUPS: dict[str, list[Target]] = {}
for _target in TARGETS:
    GROUPS.setdefault(_group(_target), []).append(_target)


@pytest.fixture
def fuzz(
    database_url: str,
    clock: MutableClock,
    stripe_server: StripeStandIn,  # noqa: F811
) -> Iterator[Harness]:
    # With Stripe set up, as only then is Refund offered, so its form can be fuzzed too.
    with open_harness(database_url, clock, stripe=stripe_server) as harness:
        yield harness


def run(h: Harness, case: Case) -> None:
    """Send the case and assert every invariant; the harness counts it."""
    for line in case.notes:
        note(line)
    sent = h.send(case.body, case.content_type)
    h.cases += 1
    problems = h.problems(sent, may_change=case.may_change, inputs=case.inputs, hidden=case.hidden)
    h.repair()
    detail = "\n".join(case.notes)
    assert not problems, (
        f"{case.target.label} as {case.who}: HTTP {sent.response.status} "
        f"{sent.response.text[:300]!r}\n{detail}\n" + "\n".join(problems)
    )


def _report(h: Harness, group: str, record_property: Callable[[str, object], None]) -> None:
    record_property("fuzz_cases", h.cases)
    print(f"\nfuzz[{group}, {h.db.dialect}]: {h.cases:,} cases, 0 failures")


def fuzz_settings(group: str) -> settings:
    # The run in `make test` is seeded, so CI sees the same cases every time; a long run
    # (`make fuzz`, FUZZ_EXAMPLES set) draws new ones.
    return settings(
        max_examples=_examples(group),
        derandomize="FUZZ_EXAMPLES" not in os.environ,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


@pytest.mark.parametrize("group", ["commands", "hub", "catalog", "details", "commerce"])
def test_every_request_is_answered_or_ignored_without_harm(
    fuzz: Harness, group: str, record_property: Callable[[str, object], None]
) -> None:
    fuzz.prepare({s for t in GROUPS[group] for s in t.surfaces} | {"hub", "home"})

    @fuzz_settings(group)
    @given(st.data())
    def case(data: st.DataObject) -> None:
        label = data.draw(st.sampled_from([t.label for t in GROUPS[group]]), label="target")
        target = next(t for t in GROUPS[group] if t.label == label)
        run(fuzz, draw_case(data.draw, fuzz, target))

    case()
    _report(fuzz, group, record_property)


RAW_TYPES = (
    "application/x-www-form-urlencoded",
    "application/json",
    "text/plain",
    "multipart/form-data; boundary=x",
    "",
)


@st.composite
def raw_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """Bodies Slack never sends: junk bytes, bare JSON, odd content types, broken encodings."""
    kind = draw(st.sampled_from(["bytes", "json", "form", "invalid-utf8", "huge"]))
    content_type = draw(st.sampled_from(RAW_TYPES))
    if kind == "bytes":
        return draw(st.binary(max_size=300)), content_type
    if kind == "json":
        value = draw(
            st.one_of(
                wrong_types(),
                st.dictionaries(
                    st.sampled_from(["type", "payload", "command", "event", "challenge", "token"]),
                    st.one_of(texts(), wrong_types()),
                    max_size=4,
                ),
            )
        )
        return json.dumps(value).encode(), content_type
    if kind == "form":
        fields = draw(
            st.dictionaries(
                st.sampled_from(
                    [
                        "payload",
                        "command",
                        "text",
                        "user_id",
                        "team_id",
                        "type",
                        "ssl_check",
                        "trigger_id",
                    ]
                ),
                texts(),
                max_size=5,
            )
        )
        from urllib.parse import urlencode

        # Lone surrogates become bytes no UTF-8 decoder accepts.
        return urlencode(fields, errors="surrogatepass").encode(), content_type
    if kind == "invalid-utf8":
        return (
            b"payload=%7B%22type%22%3A%22block_actions%22%2C%22x%22%3A%22\xff\xfe%22%7D",
            content_type,
        )
    return b"payload=" + b"x" * draw(st.integers(10_000, 200_000)), content_type


def test_bodies_slack_never_sends_are_refused_without_harm(
    fuzz: Harness, record_property: Callable[[str, object], None]
) -> None:
    @fuzz_settings("raw")
    @given(raw_bodies())
    def case(raw: tuple[bytes, str]) -> None:
        body, content_type = raw
        note(f"{content_type}: {body[:300]!r}")
        sent = fuzz.send(body, content_type)
        fuzz.cases += 1
        problems = fuzz.problems(sent, may_change=frozenset())
        assert not problems, "\n".join(problems)

    case()
    _report(fuzz, "raw", record_property)


# ----------------------------------------------------------------- nothing escapes the fuzzer


def _listener_ids(tmp_path: Path) -> list[str | re.Pattern[str]]:
    settings_ = make_settings(
        f"sqlite:///{tmp_path / 'ids.db'}", slack_signing_secret="s", slack_bot_token="xoxb-ids"
    )
    db = Database(settings_)
    app = create_app(settings_, db)
    found: list[str | re.Pattern[str]] = []
    for listener in app._listeners:
        for matcher in listener.matchers:
            func = getattr(matcher, "func", None)
            for cell in getattr(func, "__closure__", None) or ():
                value = cell.cell_contents
                if isinstance(value, str | re.Pattern):
                    found.append(value)
    db.dispose()
    return found


def test_every_registered_listener_is_fuzzed(tmp_path: Path) -> None:
    listened = _listener_ids(tmp_path)
    assert len(listened) >= 50
    fuzzed = {t.id for t in TARGETS}
    for constraint in listened:
        if isinstance(constraint, str):
            assert constraint in fuzzed, f"no fuzz target for {constraint!r}"
        else:
            assert any(constraint.search(i) for i in fuzzed), f"none matches {constraint.pattern}"


# An id ends at a word's end, or at the `>` closing a placeholder such as `<tab>`.
DOCUMENTED = re.compile(r"\b[a-z_]+(?:\.[a-z_<>]+)+(?:\b|(?<=>))")


def test_every_documented_id_is_fuzzed() -> None:
    doc = bot.views.__doc__ or ""
    fuzzed = {t.id for t in TARGETS}
    expansions = {
        "<tab>": [
            "bookings",
            "appointments",
            "passes",
            "videos",
            "subscriptions",
            "questionnaires",
            "notes",
            "account",
        ],
        "<form>": ["book_event", "book_appointment", "assign_pass", "assign_video"],
        "<kind>": ["service", "facilitator", "pass_type", "video", "plan", "questionnaire"],
    }
    missing: list[str] = []
    for token in sorted(set(DOCUMENTED.findall(doc))):
        if token.endswith((".py", ".update", ".publish", ".open", ".push")) or token.startswith(
            "views."
        ):
            continue
        names = [token]
        for marker, words in expansions.items():
            if marker in token:
                names = [n.replace(marker, w) for n in names for w in words]
        for name in names:
            if "<" in name:
                continue
            if name not in fuzzed and not any(
                t.startswith(name + ".") or t.endswith("." + name) for t in fuzzed
            ):
                missing.append(name)
    assert not missing, f"documented but never fuzzed: {missing}"


# ----------------------------------------------------------------- forged pairs of customer and row

ROW_FORMS_VALUES: dict[str, dict[str, Any]] = {
    "form:bookings.transfer": {
        "occurrence_id": ("static_select", "booking_transfer.occurrence", 3)
    },
    "form:bookings.cancel": {},
    "form:appointments.reschedule": {
        "day": ("datepicker", "appointment_reschedule.day", "2026-05-04"),
        "starts_at": ("timepicker", "appointment_reschedule.time", "11:00"),
    },
    "form:appointments.cancel": {},
    "form:passes.adjust": {
        "delta": ("number_input", "pass_adjust.delta", "2"),
        "reason": ("plain_text_input", "pass_adjust.reason", "Goodwill"),
    },
    "form:passes.extend": {"valid_to": ("datepicker", "pass_extend.valid_to", "2026-07-01")},
    "form:passes.cancel": {},
    "form:videos.extend": {"extra_days": ("number_input", "video_extend.days", "7")},
    "form:videos.cancel": {},
    "form:subscriptions.suspend": {},
}


@pytest.mark.parametrize("surface", sorted(ROW_FORMS_VALUES))
def test_a_row_form_changes_only_rows_of_the_customer_it_names(fuzz: Harness, surface: str) -> None:
    """A form or confirmation about one customer's row, its metadata forged to name another
    customer (ours or another workspace's), changes nothing and says why."""
    for who, other_uid in (
        ("staff", fuzz.tenants[TEAM].uids[1]),
        ("admin", fuzz.tenants["T0002"].main),
    ):
        view = fuzz.place(who, surface)
        meta = json.loads(view["private_metadata"])
        meta["details"]["uid"] = other_uid
        values = {}
        for block_id, (kind, action_id, value) in ROW_FORMS_VALUES[surface].items():
            key = {
                "static_select": "selected_option",
                "datepicker": "selected_date",
                "timepicker": "selected_time",
            }.get(kind, "value")
            if kind == "static_select":
                value = {
                    "text": {"type": "plain_text", "text": "x"},
                    "value": str(fuzz.tenants[TEAM].of("event_occurrences")[value]),
                }
            values[block_id] = {action_id: {"type": kind, key: value}}
        view = {**view, "private_metadata": json.dumps(meta), "state": {"values": values}}
        payload = fuzz.interaction(who, "view_submission", view)
        sent = fuzz.send(
            urlencode({"payload": json.dumps(payload)}).encode(),
            "application/x-www-form-urlencoded",
        )
        problems = fuzz.problems(sent, may_change=frozenset())
        assert not problems, f"{surface} as {who}, details naming {other_uid}: {problems}"


@st.composite
def chart_paths(draw: st.DrawFn) -> str:
    """/charts/… paths: junk, near-miss tokens, traversal, huge ones."""
    part = st.one_of(texts(), st.sampled_from(["c1", "T0001", "T0002", "0", "9" * 13, "..", ""]))
    token = ".".join(draw(st.lists(part, min_size=1, max_size=6)))
    suffix = draw(st.sampled_from([".png", ".png", "", ".PNG", ".png/x", "%00.png"]))
    return "/charts/" + quote(token, safe="", errors="replace") + suffix


def test_chart_links_anyone_can_guess_show_nothing(
    fuzz: Harness, record_property: Callable[[str, object], None]
) -> None:
    root = fuzz.world.url.removesuffix("/slack/events")

    @fuzz_settings("raw")
    @given(chart_paths())
    def case(path: str) -> None:
        mark = fuzz.records.mark()
        status, body = post_raw(root + path, b"", {}, method="GET")
        fuzz.cases += 1
        assert 400 <= status < 500, (path[:200], status)
        assert not body.startswith(b"\x89PNG")
        assert not LEAK.search(body.decode("utf-8", "replace"))
        assert not [r for r in fuzz.records.since(mark) if r.levelno >= logging.ERROR]

    case()
    _report(fuzz, "charts", record_property)


@pytest.mark.parametrize("view_id", ["V" * 3000, "V12 34", "", 12345, None])
@pytest.mark.parametrize("surface", ["hub", "home"])
def test_a_view_id_slack_never_issues_is_refused_without_harm(
    fuzz: Harness, surface: str, view_id: object
) -> None:
    """Found by a long fuzz run: a forged hub view with a 3,000-character id reached the hub's
    listeners, whose origin holds at most 64 characters, and failed there."""
    fuzz.prepare({surface})
    view = {**fuzz.place("staff", surface), "id": view_id}
    action = {"action_id": "hub.tab.archived", "block_id": "hub_tabs", "type": "button"}
    payload = {**fuzz.interaction("staff", "block_actions", view), "actions": [action]}
    sent = fuzz.send(
        urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"
    )
    assert fuzz.problems(sent, may_change=frozenset()) == []
    assert [c.method for c in sent.calls if c.method.startswith("views.")] == []


@pytest.mark.parametrize("row_id", [2**63, 10**18, 999_999])
@pytest.mark.parametrize("surface", sorted(ROW_FORMS_VALUES))
def test_a_row_form_naming_a_row_that_is_not_there_says_so(
    fuzz: Harness, surface: str, row_id: int
) -> None:
    """Found by a long fuzz run: an id beyond a BIGINT reached PostgreSQL, and a form refused
    about a field it no longer shows failed redrawing itself about a row not on the record."""
    placed = fuzz.place("staff", surface)
    meta = {**json.loads(placed["private_metadata"]), "row_id": row_id}
    for blocks in (placed["blocks"], []):
        view = {
            **placed,
            "blocks": blocks,
            "private_metadata": json.dumps(meta),
            "state": {"values": {}},
        }
        payload = fuzz.interaction("staff", "view_submission", view)
        sent = fuzz.send(
            urlencode({"payload": json.dumps(payload)}).encode(),
            "application/x-www-form-urlencoded",
        )
        assert fuzz.problems(sent, may_change=frozenset()) == [], f"{len(blocks)} blocks"
