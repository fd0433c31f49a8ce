"""The `customer-bot` command line, run in-process against a scratch SQLite file."""

from __future__ import annotations

import gc
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select
from typer.testing import CliRunner, Result

from bot import cli
from bot.cli import app
from core.actor import Actor
from core.config import Settings
from core.db import Database
from core.models import (
    Customer,
    CustomerStatus,
    MailStatus,
    OutboxMail,
    Role,
    Subscription,
    SubscriptionState,
)
from core.services.customers import CustomerInput, create_customer
from core.services.workspaces import LOCAL_TEAM_ID
from tests.conftest import make_settings
from tests.stripe_server import API_KEY, StripeStandIn, stripe_process, stripe_server  # noqa: F401
from tests.unit import history_rows


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working directory and an environment with none of the app's variables."""
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    # Wide enough that no email or message wraps inside the rich tables asserted on.
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setattr(cli, "console", Console(width=200))
    monkeypatch.setattr(cli, "err_console", Console(stderr=True, width=200))
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield tmp_path
    # The CLI configures logging for the process; leave it as the next test expects.
    root.setLevel(level)
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)


def invoke(*args: str, **env: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def url_in(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'cli.db'}"


def test_db_upgrade_creates_the_schema_then_reports_it_current(workdir: Path) -> None:
    first = invoke("db", "upgrade", DATABASE_URL=url_in(workdir))
    assert first.exit_code == 0, first.output
    assert "upgraded from schema none to" in first.stdout
    again = invoke("db", "upgrade", DATABASE_URL=url_in(workdir))
    assert again.exit_code == 0, again.output
    assert "is up to date" in again.stdout


def test_demo_data_and_search_work_with_no_configuration(workdir: Path) -> None:
    loaded = invoke("demo-data", "--customers", "50", "--seed", "1")
    assert loaded.exit_code == 0, loaded.output
    assert f"Loaded 50 demo customers into workspace {LOCAL_TEAM_ID}" in loaded.stdout
    assert (workdir / "var" / "customers.db").is_file()

    found = invoke("customers", "search", "zoe")
    assert found.exit_code == 0, found.output
    assert "Zoë" in found.stdout
    assert "UID" in found.stdout and "Mobile" in found.stdout
    assert "Archived" not in found.stdout


def test_search_includes_archived_customers_only_when_asked(workdir: Path) -> None:
    url = url_in(workdir)
    assert invoke("demo-data", "--customers", "60", "--seed", "2", DATABASE_URL=url).exit_code == 0
    db = Database(make_settings(url))
    with db.unit_of_work(readonly=True) as uow:
        email = uow.session.scalars(
            select(Customer.email).where(Customer.status == CustomerStatus.ARCHIVED).limit(1)
        ).one()
    db.dispose()

    hidden = invoke("customers", "search", email, DATABASE_URL=url)
    assert hidden.exit_code == 0, hidden.output
    assert "No active customers match" in hidden.stdout
    shown = invoke("customers", "search", email, "--archived", DATABASE_URL=url)
    assert shown.exit_code == 0, shown.output
    assert email in shown.stdout and "Archived" in shown.stdout


def test_the_only_workspace_is_the_default_team(workdir: Path) -> None:
    url = url_in(workdir)
    invoke("demo-data", "--customers", "40", "--team", "T0001", DATABASE_URL=url)
    found = invoke("customers", "search", "zoe", DATABASE_URL=url)
    assert found.exit_code == 0, found.output
    assert "Zo" in found.stdout

    invoke("demo-data", "--customers", "40", "--team", "T0002", DATABASE_URL=url)
    ambiguous = invoke("customers", "search", "zoe", DATABASE_URL=url)
    assert ambiguous.exit_code == 2
    assert "--team" in ambiguous.stderr


def test_bad_configuration_names_the_variable(workdir: Path) -> None:
    result = invoke("customers", "search", "zoe", BUSINESS_TIMEZONE="Mars/Olympus")
    assert result.exit_code == 2
    assert "BUSINESS_TIMEZONE" in result.stderr
    assert "Mars/Olympus" in result.stderr
    assert "Traceback" not in result.output


def test_unreachable_database_is_reported_without_its_password(workdir: Path) -> None:
    result = invoke(
        "db", "upgrade", DATABASE_URL="postgresql+psycopg://app:hunter2@127.0.0.1:1/customers"
    )
    assert result.exit_code == 1
    assert "Cannot open the database" in result.stderr
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output


def test_demo_data_refuses_a_non_positive_count(workdir: Path) -> None:
    result = invoke("demo-data", "--customers", "0", DATABASE_URL=url_in(workdir))
    assert result.exit_code == 2
    assert "--customers" in result.output


def test_mail_deliver_without_smtp_logs_and_marks_not_sent(workdir: Path) -> None:
    url = url_in(workdir)
    db = Database(make_settings(url))
    db.upgrade()
    password = "Initial-Pa55word!"
    with db.unit_of_work() as uow:
        create_customer(
            uow,
            Actor(team_id=LOCAL_TEAM_ID, user_id="UADMIN", role=Role.ADMIN),
            CustomerInput(
                first_name="Siobhán",
                last_name="O'Brien",
                email="siobhan@example.com",
                mobile="+353861234567",
                password=password,
            ),
        )

    result = invoke("mail", "deliver", DATABASE_URL=url)
    assert result.exit_code == 0, result.output
    assert "1 not sent" in result.stdout
    assert "SMTP_URL is not set" in result.stderr
    assert "siobhan@example.com" in result.stderr  # the log line standing in for the mail
    assert password not in result.output
    with db.unit_of_work(readonly=True) as uow:
        statuses = uow.session.scalars(select(OutboxMail.status)).all()
    db.dispose()
    assert statuses == [MailStatus.NOT_SENT]

    again = invoke("mail", "deliver", DATABASE_URL=url)
    assert "No mail was due" in again.stdout


def test_run_without_tokens_opens_the_console_with_demo_data_once(workdir: Path) -> None:
    url = url_in(workdir)
    first = CliRunner().invoke(
        app,
        ["run", "--demo-customers", "40"],
        input="/customers zoe\nquit\n",
        env={"DATABASE_URL": url},
    )
    assert first.exit_code == 0, first.output
    assert "demo customers" in first.output
    assert "Customers" in first.output
    assert "Zo" in first.output

    second = CliRunner().invoke(app, ["run"], input="quit\n", env={"DATABASE_URL": url})
    assert second.exit_code == 0, second.output
    db = Database(make_settings(url))
    with db.unit_of_work(readonly=True) as uow:
        assert len(uow.session.scalars(select(Customer.id)).all()) == 40
    db.dispose()


def test_run_with_a_bot_token_but_no_signing_secret_names_what_is_missing(workdir: Path) -> None:
    result = invoke("run", DATABASE_URL=url_in(workdir), SLACK_BOT_TOKEN="xoxb-test")
    assert result.exit_code == 2
    assert "SLACK_SIGNING_SECRET" in result.output
    assert "xoxb-test" not in result.output


@pytest.mark.parametrize(
    ("args", "env", "said"),
    [
        (
            ["serve"],
            {},
            ["No Slack credentials", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET", "console"],
        ),
        (
            ["serve"],
            {"SLACK_BOT_TOKEN": "xoxb-1"},
            [
                "HTTP mode was chosen because SLACK_BOT_TOKEN",
                "SLACK_SIGNING_SECRET",
                "SLACK_APP_TOKEN",
            ],
        ),
        (
            ["serve"],
            {"SLACK_APP_TOKEN": "xapp-1"},
            ["Socket Mode was chosen because SLACK_APP_TOKEN", "needs SLACK_BOT_TOKEN"],
        ),
        (
            ["serve", "--http"],
            {},
            ["HTTP mode was chosen because --http", "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"],
        ),
    ],
    ids=["nothing set", "only a bot token", "only an app token", "--http, nothing set"],
)
def test_serve_says_which_mode_it_chose_and_every_way_to_complete_it(
    workdir: Path, args: list[str], env: dict[str, str], said: list[str]
) -> None:
    result = invoke(*args, DATABASE_URL=url_in(workdir), **env)
    assert result.exit_code == 2
    for words in said:
        assert words in result.output, result.output
    # Serving turns collection off until start-up is done; a start refused turns it back on.
    assert gc.isenabled()


HEAVY = ("alembic", "matplotlib", "slack_bolt", "slack_sdk", "sqlalchemy", "stripe")


def test_the_command_line_imports_no_heavy_library_until_a_command_needs_it() -> None:
    # `customer-bot --help` and a mistyped command answer at once; the libraries load with
    # the command that uses them.
    code = f"import sys, bot.cli; print([m for m in {HEAVY!r} if m in sys.modules])"
    shown = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert shown.strip() == "[]"


def test_a_search_cut_at_its_limit_says_how_many_match_in_all(workdir: Path) -> None:
    url = url_in(workdir)
    db = Database(make_settings(url))
    db.upgrade()
    with db.unit_of_work() as uow:
        for n in range(46):
            create_customer(
                uow,
                Actor(LOCAL_TEAM_ID, "cli", Role.ADMIN),
                CustomerInput(
                    first_name=f"Zoe{n:02d}",
                    last_name="Quinn",
                    email=f"zoe{n}@example.com",
                    mobile=f"+44 7700 900{n:03d}",
                ),
                send_welcome=False,
            )
    db.dispose()

    cut = invoke("customers", "search", "quinn", DATABASE_URL=url)
    assert cut.exit_code == 0, cut.output
    assert 'First 20 of 46 customers matching "quinn"' in cut.stdout
    whole = invoke("customers", "search", "zoe07", DATABASE_URL=url)
    assert '1 customer matching "zoe07"' in whole.stdout


def test_serve_in_oauth_mode_without_a_token_key_refuses_to_start(workdir: Path) -> None:
    result = invoke(
        "serve",
        "--http",
        DATABASE_URL=url_in(workdir),
        SLACK_CLIENT_ID="1234.5678",
        SLACK_CLIENT_SECRET="client-secret-4711",
        SLACK_SIGNING_SECRET="signing-secret-4711",
        PUBLIC_BASE_URL="https://customers.example.test",
    )
    assert result.exit_code == 2
    assert "TOKEN_ENCRYPTION_KEY is not set" in result.output
    assert "Fernet.generate_key()" in result.output
    assert "4711" not in result.output


def test_stripe_reconcile_reports_what_it_fixed_and_fails_loudly_when_stripe_is_down(
    workdir: Path,
    stripe_server: StripeStandIn,  # noqa: F811 - the imported fixture
) -> None:
    url = url_in(workdir)
    assert invoke("db", "upgrade", DATABASE_URL=url).exit_code == 0
    db = Database(make_settings(url))
    stripe_id = stripe_server.subscription()
    with db.unit_of_work() as uow:
        now = uow.now()
        shop = history_rows.shop(uow, LOCAL_TEAM_ID, now + timedelta(days=3))
        owner = history_rows.customer(uow, Actor(LOCAL_TEAM_ID, "U1", Role.ADMIN))
        held = history_rows.subscription(uow, shop, owner, now, stripe_subscription_id=stripe_id)
    # Cancelled in Stripe's dashboard while nobody listened.
    stripe_server.request("DELETE", f"/v1/subscriptions/{stripe_id}")
    env = {"DATABASE_URL": url, "STRIPE_API_KEY": API_KEY, "STRIPE_API_BASE": stripe_server.url}
    since = (date.today() - timedelta(days=2)).isoformat()

    fixed = invoke("stripe", "reconcile", "--since", since, **env)
    assert fixed.exit_code == 0, fixed.output
    assert "customer.subscription.deleted" in fixed.stdout
    assert f"subscription #{held.id}: state active → suspended" in fixed.stdout
    assert f"since {since}: 2 events, 0 open payment links, 1 subscription" in fixed.stdout
    assert "1 record fixed." in fixed.stdout
    with db.unit_of_work(readonly=True) as uow:
        assert uow.session.get_one(Subscription, held.id).state is SubscriptionState.SUSPENDED
    db.dispose()
    again = invoke("stripe", "reconcile", **env)
    assert again.exit_code == 0, again.output
    assert "0 records fixed." in again.stdout

    down = invoke("stripe", "reconcile", **{**env, "STRIPE_API_BASE": "http://127.0.0.1:9"})
    assert down.exit_code == 1
    assert "Stopped: Stripe couldn't be reached" in down.output
    assert API_KEY not in down.output
    future = invoke("stripe", "reconcile", "--since", "2999-01-01", **env)
    assert future.exit_code == 2 and "is in the future" in future.output
    unreadable = invoke("stripe", "reconcile", "--since", "last week", **env)
    assert unreadable.exit_code == 2 and "--since" in unreadable.output


def test_customers_export_writes_csv_to_stdout_or_a_new_file_only(workdir: Path) -> None:
    import csv
    import io
    import stat

    url = url_in(workdir)
    assert invoke("demo-data", "--customers", "60", "--seed", "3", DATABASE_URL=url).exit_code == 0
    db = Database(make_settings(url))
    with db.unit_of_work(readonly=True) as uow:
        statuses = list(uow.session.scalars(select(Customer.status)))
        zoe = uow.session.scalars(select(Customer.uid).where(Customer.first_name == "Zoë")).all()
    db.dispose()
    active = statuses.count(CustomerStatus.ACTIVE)

    shown = invoke("customers", "export", DATABASE_URL=url)
    assert shown.exit_code == 0, shown.output
    header, *rows = list(csv.reader(io.StringIO(shown.stdout, newline="")))
    assert header == [
        "uid",
        "first_name",
        "last_name",
        "email",
        "mobile",
        "status",
        "created_at",
        "date_of_birth",
        "tags",
        "marketing_consent",
        "consent_at",
    ]
    assert len(rows) == active and {row[5] for row in rows} == {"active"}
    assert f"Exported {active} customers (active) of {LOCAL_TEAM_ID}." in shown.stderr

    out = workdir / "all.csv"
    written = invoke("customers", "export", "--all", "-o", str(out), DATABASE_URL=url)
    assert written.exit_code == 0, written.output
    lines = out.read_bytes().decode("utf-8").split("\r\n")
    assert len(lines) == len(statuses) + 2 and lines[-1] == ""  # header, rows, final CRLF
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert f"Exported {len(statuses)} customers (active and archived)" in written.stderr

    before = out.read_bytes()
    again = invoke("customers", "export", "--archived", "-o", str(out), DATABASE_URL=url)
    assert again.exit_code == 2 and "already exists" in again.output
    assert out.read_bytes() == before

    archived = invoke("customers", "export", "--archived", DATABASE_URL=url)
    assert archived.exit_code == 0, archived.output
    assert archived.stdout_bytes.count(b"\r\n") == statuses.count(CustomerStatus.ARCHIVED) + 1

    searched = invoke("customers", "export", "--all", "--search", "zoe", DATABASE_URL=url)
    assert searched.exit_code == 0, searched.output
    assert set(zoe) <= {row[0] for row in list(csv.reader(io.StringIO(searched.stdout)))[1:]}

    both = invoke("customers", "export", "--archived", "--all", DATABASE_URL=url)
    assert both.exit_code == 2 and "not both" in both.output


IMPORTS = Path(__file__).parent.parent / "data" / "imports"


def test_customers_import_dry_run_shows_mapping_problems_and_writes_the_report(
    workdir: Path,
) -> None:
    source = IMPORTS / "glofox_members.csv"
    result = invoke("customers", "import", str(source), "--dry-run", "--report", "report.csv")
    assert result.exit_code == 0, result.output
    assert "Ignored columns: Gender, Source, Membership Name" in result.stdout
    assert "Preview: 3 new, 0 updated, 0 unchanged, 4 invalid; 1 possible duplicates." in (
        " ".join(result.stdout.split())
    )
    assert "Line 2 has the same email" in result.stdout
    assert "Dry run: nothing was changed." in result.stdout
    report = (workdir / "report.csv").read_text().splitlines()
    assert report[0] == "line,outcome,reason,email" and len(report) == 8
    searched = invoke("customers", "search", "aoife")
    assert 'No active customers match "aoife"' in searched.stdout


def test_customers_import_imports_with_an_overridden_column_and_again_changes_nothing(
    workdir: Path,
) -> None:
    source = IMPORTS / "momence_customers.csv"
    first = invoke("customers", "import", str(source), "--map", "notes=Tags")
    assert first.exit_code == 0, first.output
    said = " ".join(first.stdout.split())
    assert "Notes Tags" in " ".join(first.stdout.replace("│", " ").split())
    assert "4 new, 0 updated, 0 unchanged, 1 invalid" in said
    again = invoke("customers", "import", str(source), "--map", "notes=Tags")
    assert "0 new, 0 updated, 4 unchanged, 1 invalid" in " ".join(again.stdout.split())
    found = invoke("customers", "search", "olivia")
    assert "olivia.jones@example.co.uk" in found.stdout


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "The file is empty."),
        (b"PK\x03\x04\x00\x00\x00", "not a CSV file"),
        (b"Name,Phone\nAnn Lee,+447700900123\n", "No email column was recognised"),
    ],
)
def test_customers_import_refuses_unusable_files_with_exit_2(
    workdir: Path, content: bytes, said: str
) -> None:
    (workdir / "in.csv").write_bytes(content)
    result = invoke("customers", "import", "in.csv")
    assert result.exit_code == 2, result.output
    assert said in " ".join(result.output.split())


def test_customers_import_refuses_an_unknown_field_to_map(workdir: Path) -> None:
    result = invoke(
        "customers", "import", str(IMPORTS / "momence_customers.csv"), "--map", "shoe=Tags"
    )
    assert result.exit_code == 2
    assert "There is no field 'shoe'" in result.output
