"""The suite-wide log scan can fail: it finds planted leaks, and a leak fails a pytest run.

Planted records go straight to the scanner's functions, never through a logger, so this
run's own scan stays clean.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.actor import Actor
from core.adapters.mail import LOGIN_SLOT, SECRET_SLOT, queue_welcome_mail
from core.db import Database
from core.models import Role
from core.security import generate_password, hash_password
from tests.conftest import make_settings
from tests.log_scan import _SCANS, WINDOW, LogScan, leaks
from tests.unit.history_rows import customer

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Planted-Pa55word!"


def _record(message: str, name: str = "core.services.customers") -> logging.LogRecord:
    return logging.LogRecord(name, logging.INFO, __file__, 1, message, None, None)


def _welcome_body(sqlite_template: Path, tmp_path: Path) -> str:
    """A real welcome mail as it goes out, from the code that writes it."""
    path = tmp_path / "mail.db"
    shutil.copyfile(sqlite_template, path)
    db = Database(make_settings(f"sqlite:///{path}"))
    try:
        with db.unit_of_work() as uow:
            mail = queue_welcome_mail(uow, customer(uow, Actor("T1", "U1", Role.ADMIN)), PASSWORD)
            return mail.body.replace(LOGIN_SLOT, mail.to_address).replace(SECRET_SLOT, PASSWORD)
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (f"customer created with password {PASSWORD}", "a customer password"),
        ("posting with xoxb-1234-5678-abcdefgh", "secret-shaped"),
        ("app token xapp-1-A01-123-abcdef", "secret-shaped"),
        ("stripe sk_live_51Habcdefg refused", "secret-shaped"),
        ("connect smtp://mailer:hunter2@mail:587", "secret-shaped"),
    ],
)
def test_each_kind_of_leak_is_found(text: str, what: str) -> None:
    [found] = leaks(text, {PASSWORD: "a customer password"})
    assert what in found
    # The report names the kind and a hint, never the whole secret.
    assert PASSWORD not in found and "hunter2" not in found


def test_a_full_welcome_mail_body_is_found_and_a_mention_of_one_is_not(
    sqlite_template: Path, tmp_path: Path
) -> None:
    body = _welcome_body(sqlite_template, tmp_path)
    assert "a full welcome mail body" in leaks(f"sending:\n{body}", {})
    assert leaks("mail 3 not sent: welcome mail to a@example.com, subject 'Your login'", {}) == []


def test_findings_name_the_test_and_the_logger_and_ignore_the_test_smtp_server() -> None:
    scan = LogScan()
    scan.remember(PASSWORD, "a customer password")
    scan.capture(_record("nothing to see"))
    scan.capture(_record(f"bad {PASSWORD}"))
    scan.capture(_record(f"DATA with {PASSWORD}", name="mail.log"))
    scan.check("tests/x.py::test_y")
    assert scan.findings == [
        "tests/x.py::test_y: logger 'core.services.customers': a customer password (Pla…)"
    ]
    assert scan.records == 2


def test_our_code_may_not_log_a_token_at_all_a_library_only_unredacted() -> None:
    scan = LogScan()
    token = "xoxb-1234-5678-oauthresponse"
    scan.capture(_record(f"response body: access_token={token}", name="slack_sdk.web"))
    scan.capture(_record(f"installed with {token}", name="bot.transport.oauth"))
    scan.check("t")
    assert scan.findings == ["t: logger 'bot.transport.oauth': a secret-shaped string (xoxb-123…)"]


def test_a_value_is_checked_for_a_few_tests_then_forgotten() -> None:
    scan = LogScan()
    scan.remember(PASSWORD, "a customer password")
    for test in range(WINDOW):
        scan.capture(_record(f"late {PASSWORD}"))
        scan.check(f"t{test}")
    scan.capture(_record(f"much later {PASSWORD}"))
    scan.check("later")
    assert [f.split(":")[0] for f in scan.findings] == [f"t{test}" for test in range(WINDOW)]


def test_this_runs_scan_remembers_hashed_passwords_and_configured_secrets() -> None:
    [scan] = _SCANS
    generated = generate_password()
    hash_password(generated)
    make_settings("sqlite://", slack_signing_secret="0123456789abcdef-signing")
    logging.getLogger("core.test").debug("a harmless line")
    remembered = scan.recent[-1]
    assert remembered[generated] == "a customer password"
    assert remembered["0123456789abcdef-signing"] == "a configured secret"
    assert any(text == "a harmless line" for _, text in scan.pending)


LEAKY_TEST = """
import logging

from bot.local.slack_api import LocalSlackAPI
from core.security import hash_password


def test_leaks():
    hash_password("Leaky-Pa55word!")
    logging.getLogger("core.leaky").debug("created with %s", "Leaky-Pa55word!")
    # As if the app had put the password into a message to Slack.
    LocalSlackAPI()._record("chat.postMessage", {"text": "Leaky-Pa55word!"}, None, {"ok": True})
"""


@pytest.mark.parametrize("workers", [[], ["-n", "1"]], ids=["one process", "xdist"])
def test_a_leak_fails_the_pytest_run_with_a_clear_message(
    tmp_path: Path, workers: list[str]
) -> None:
    (tmp_path / "test_leaky.py").write_text(textwrap.dedent(LEAKY_TEST), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTEST_XDIST_WORKER", None)
    run = subprocess.run(  # noqa: S603 - our own interpreter running pytest
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.log_scan",
            "--rootdir",
            str(tmp_path),
            "-c",
            os.devnull,
            *workers,
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 passed" in run.stdout  # the test itself passed: the scan failed the run
    assert "log scan: secrets or personal data in the logs" in run.stdout
    assert "test_leaky.py::test_leaks: logger 'core.leaky': a customer password" in run.stdout
    assert (
        "test_leaky.py::test_leaks: Slack call chat.postMessage: a customer password" in run.stdout
    )
    assert "Leaky-Pa55word!" not in run.stdout
