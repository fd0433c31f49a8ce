"""Suite-wide log scan: fail the run if anything any test logged leaks a secret or a welcome mail.

Every record created anywhere in the process (at DEBUG, with the app's own pinned levels),
and every Web API call the app makes to the local Slack stand-in, is captured and, after
each test, checked for: a customer password the suite used (every password that passes
through argon2 is remembered), a secret from any Settings the suite built, anything shaped
like a Slack token, Stripe key or URL password, and a full welcome mail body. Under
pytest-xdist each worker scans its own records and hands findings to the controller, which
sets a failing exit status and prints them.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import argon2
import pytest
from sqlalchemy.engine import make_url

from bot.local.slack_api import LocalSlackAPI
from bot.logging_setup import (
    SECRET_PATTERNS,
    URL_PASSWORD,
    Redactor,
    secret_values,
    set_levels,
)
from core.config import Settings

# The test SMTP server (aiosmtpd) logs every conversation it receives, bodies included: that
# is the far side of the wire, not something our app logged.
IGNORED_LOGGERS = frozenset({"mail.log"})
# Our code must not log a secret at all, redaction or not; a library's records are judged as
# the production handler writes them, after redaction.
OUR_LOGGERS = frozenset({"core", "bot", "tests"})
_SCRUB = Redactor()
# Fixed sentences of the welcome mail; a record holding both is the whole letter.
WELCOME_MARKERS = (
    "An account has been created for you with",
    "Please change your password after you first sign in.",
)
# Shorter remembered values (a test's deliberately weak password) would match ordinary text.
MIN_VALUE_LENGTH = 8
# Values learned in one test stay checked for this many tests: a background thread may log
# after its test ended. Checking each test's logs against every value ever seen would cost
# more than the suite.
WINDOW = 3
WORKER_KEY = "log_scan_findings"
SHOWN_FINDINGS = 20


def leaks(text: str, known: Mapping[str, str]) -> list[str]:
    """What in `text` must never be logged: a description per leak found."""
    found = [f"{kind} ({value[:3]}…)" for value, kind in known.items() if value in text]
    for pattern in (*SECRET_PATTERNS, URL_PASSWORD):
        match = pattern.search(text)
        if match:
            found.append(f"a secret-shaped string ({match.group(0)[:8]}…)")
    if all(marker in text for marker in WELCOME_MARKERS):
        found.append("a full welcome mail body")
    return found


def record_text(record: logging.LogRecord) -> str:
    """Everything a handler could write for `record`: message, traceback and stack."""
    try:
        parts = [record.getMessage()]
    except Exception:  # a malformed call still logs something; scan what it would show
        parts = [str(record.msg), repr(record.args)]
    if record.exc_info and record.exc_info[0] is not None:
        parts.append(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


@dataclass
class LogScan:
    """Captured records awaiting a check, the values to look for, and what was found."""

    sticky: dict[str, str] = field(default_factory=dict)
    recent: deque[dict[str, str]] = field(default_factory=lambda: deque([{}], maxlen=WINDOW))
    pending: list[tuple[str, str]] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    records: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def remember(self, value: str, kind: str) -> None:
        """Look for `value` in what this test and the next few log."""
        if len(value) >= MIN_VALUE_LENGTH:
            with self.lock:
                self.recent[-1][value] = kind

    def capture(self, record: logging.LogRecord) -> None:
        """Keep the record's text until the running test's check."""
        if record.name in IGNORED_LOGGERS:
            return
        text = record_text(record)
        if record.name.partition(".")[0] not in OUR_LOGGERS:
            # Libraries log what they log (slack_sdk's DEBUG shows OAuth responses, tokens
            # included); what counts is what the app's redacting filter lets through.
            text = _SCRUB(text)
        self.capture_text(f"logger {record.name!r}", text)

    def capture_text(self, source: str, text: str) -> None:
        """Keep text from `source` (a logger, or a Slack method) for the running test's check."""
        with self.lock:
            self.pending.append((source, text))
            self.records += 1

    def check(self, where: str) -> None:
        """Scan what was logged since the last check; start a new window generation."""
        with self.lock:
            batch, self.pending = self.pending, []
            known = dict(self.sticky)
            for generation in self.recent:
                known.update(generation)
            self.recent.append({})
        if not batch:
            return
        # One pass over the joined text; only a hit is traced back to its record.
        if not leaks("\x00".join(text for _, text in batch), known):
            return
        for source, text in batch:
            for leak in leaks(text, known):
                self.findings.append(f"{where}: {source}: {leak}")


# One scan per process (each xdist worker is a process); hooks without `config` reach it here.
_SCANS: list[LogScan] = []
_UNDO: list[Callable[[], None]] = []


def _patch(
    owner: Any, name: str, wrap: Callable[[Any], Any], undo: list[Callable[[], None]]
) -> None:
    original = getattr(owner, name)
    setattr(owner, name, wrap(original))
    undo.append(lambda: setattr(owner, name, original))


def _install(scan: LogScan) -> list[Callable[[], None]]:
    """Hook record creation, password hashing and Settings; returns how to undo each."""
    undo: list[Callable[[], None]] = []

    def handle(original: Callable[[logging.Logger, logging.LogRecord], None]) -> Any:
        # Logger.handle sees every record before any handler, filter or propagation rule,
        # so tests that swap the root handlers (the console) are scanned too.
        def wrapper(self: logging.Logger, record: logging.LogRecord) -> None:
            scan.capture(record)
            original(self, record)

        return wrapper

    def hasher_method(original: Callable[..., Any]) -> Any:
        def wrapper(self: argon2.PasswordHasher, *args: Any) -> Any:
            scan.remember(str(args[-1]), "a customer password")
            return original(self, *args)

        return wrapper

    def settings_init(original: Callable[..., None]) -> Any:
        def wrapper(self: Settings, *args: Any, **kwargs: Any) -> None:
            original(self, *args, **kwargs)
            for value in secret_values(self):
                scan.remember(value, "a configured secret")

        return wrapper

    def slack_call(original: Callable[..., None]) -> Any:
        # What the app sends to Slack is shown to people: the same rules as for logs.
        def wrapper(self: LocalSlackAPI, method: str, params: Any, *args: Any) -> None:
            scan.capture_text(f"Slack call {method}", json.dumps(params, default=str))
            original(self, method, params, *args)

        return wrapper

    _patch(logging.Logger, "handle", handle, undo)
    _patch(LocalSlackAPI, "_record", slack_call, undo)
    # hash(password) and verify(hash, password): the plain password is the last argument.
    _patch(argon2.PasswordHasher, "hash", hasher_method, undo)
    _patch(argon2.PasswordHasher, "verify", hasher_method, undo)
    _patch(Settings, "__init__", settings_init, undo)
    return undo


def _sticky_secrets() -> dict[str, str]:
    """Secrets that live for the whole session: the PostgreSQL password CI may use."""
    url = os.environ.get("TEST_DATABASE_URL")
    password = make_url(url).password if url else None
    return {str(password): "the test database password"} if password else {}


def pytest_configure(config: pytest.Config) -> None:
    scan = LogScan(sticky=_sticky_secrets())
    _SCANS[:] = [scan]
    root = logging.getLogger()
    level = root.level
    _UNDO[:] = [*_install(scan), lambda: root.setLevel(level)]
    # The app's most verbose setting: every record it could ever write gets created.
    set_levels("DEBUG")


def pytest_unconfigure(config: pytest.Config) -> None:
    while _UNDO:
        _UNDO.pop()()


def pytest_runtest_logfinish(nodeid: str) -> None:
    for scan in _SCANS:
        scan.check(nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """On the xdist controller: collect what a worker found."""
    output = getattr(node, "workeroutput", None) or {}
    for scan in _SCANS:
        scan.findings += output.get(WORKER_KEY, [])


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    for scan in _SCANS:
        scan.check("after the last test")
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[WORKER_KEY] = scan.findings
        elif scan.findings and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    findings = [finding for scan in _SCANS for finding in scan.findings]
    if not findings:
        return
    reporter = terminalreporter
    reporter.section("log scan: secrets or personal data in the logs", sep="=", red=True)
    for finding in findings[:SHOWN_FINDINGS]:
        reporter.line(finding, red=True)
    if len(findings) > SHOWN_FINDINGS:
        reporter.line(f"… and {len(findings) - SHOWN_FINDINGS} more")
    reporter.line("Nothing may log these; fix the code that logged them (see tests/log_scan.py).")
