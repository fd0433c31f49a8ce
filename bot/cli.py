"""`customer-bot`: the command line over the core services (typer + rich)."""

from __future__ import annotations

import gc
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TextIO

import typer
from rich.console import Console
from rich.markup import escape

from core.errors import ConfigError, DomainError

# Each command imports what it uses when it runs, so `--help` and quick commands start fast.
if TYPE_CHECKING:
    from rich.progress import Progress
    from rich.table import Table
    from sqlalchemy.exc import DBAPIError

    from core.actor import Actor
    from core.adapters.mail import DeliveryReport, MailTransport
    from core.config import Settings
    from core.db import Database, UnitOfWork
    from core.demo.customers import DemoSummary
    from core.services.customer_columns import ColumnMapping, CsvFile
    from core.services.customer_import import ImportReport
    from core.services.customers import CustomerRecord
    from core.services.segments import SegmentFilters, SegmentResult
    from core.services.stripe_reconcile import ReconcileReport

CLI_USER_ID = "cli"
FIRST_RUN_CUSTOMERS = 1000

app = typer.Typer(
    help="Customer Records for Slack: manage a studio's customers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
customers_app = typer.Typer(help="Look up and import customer records.", no_args_is_help=True)
mail_app = typer.Typer(help="The outgoing mail queue.", no_args_is_help=True)
stripe_app = typer.Typer(help="The studio's Stripe account.", no_args_is_help=True)
catalog_app = typer.Typer(
    help="What can be booked or assigned: events, services, passes, videos, plans, questionnaires.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(customers_app, name="customers")
app.add_typer(mail_app, name="mail")
app.add_typer(catalog_app, name="catalog")
app.add_typer(stripe_app, name="stripe")

console = Console()
err_console = Console(stderr=True)

TeamOption = Annotated[
    str | None,
    typer.Option(
        "--team",
        help="Slack team id of the workspace (default: the only one, else the local workspace).",
    ),
]


def _fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]Error:[/bold red] [red]{escape(message)}[/red]")
    raise typer.Exit(code)


def _settings() -> Settings:
    from bot.logging_setup import configure_logging
    from core.config import load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        _fail(f"{exc}. Fix it in the environment or in .env.", 2)
    configure_logging(settings)
    return settings


def _url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=True)


def _revision(db: Database) -> str | None:
    from core.migrations.runner import current_revision

    return current_revision(db.engine)


def _unreachable(db: Database, exc: DBAPIError) -> NoReturn:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
    _fail(f"Cannot open the database {_url(db)}: {reason}")


def _upgrade(db: Database) -> None:
    from sqlalchemy.exc import DBAPIError

    try:
        db.upgrade()
    except DBAPIError as exc:
        _unreachable(db, exc)
    except ConfigError as exc:
        _fail(f"{exc}. Fix it in the environment or in .env.", 2)


@contextmanager
def _database() -> Iterator[Database]:
    """Settings, a Database migrated to the newest schema, and clean disposal."""
    from core.db import Database

    db = Database(_settings())
    try:
        _upgrade(db)
        yield db
    except DomainError as exc:
        _fail(exc.message)
    finally:
        db.dispose()


def _team_id(db: Database, team: str | None) -> str:
    from core.services.workspaces import LOCAL_TEAM_ID, team_ids

    if team is not None:
        if not team.strip():
            _fail("--team needs a Slack team id such as T0123ABCD.", 2)
        return team.strip()
    with db.unit_of_work(readonly=True) as uow:
        teams = team_ids(uow, limit=4)
    if not teams:
        return LOCAL_TEAM_ID
    if len(teams) == 1:
        return teams[0]
    listed = ", ".join(teams[:3]) + (", …" if len(teams) > 3 else "")
    _fail(f"This database holds several workspaces ({listed}); choose one with --team.", 2)


def _actor(team_id: str) -> Actor:
    from core.actor import Actor
    from core.models import Role

    return Actor(team_id=team_id, user_id=CLI_USER_ID, role=Role.ADMIN)


def _progress() -> Progress:
    """A progress bar: what is being done, the bar, done of total and the time so far."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _load_demo(db: Database, team_id: str, count: int, seed: int | None) -> DemoSummary:
    from core.demo.customers import load_demo_customers, load_demo_history

    started = time.perf_counter()
    try:
        with _progress() as bar:
            task = bar.add_task("Creating demo customers", total=count)
            with db.unit_of_work() as uow:
                summary = load_demo_customers(
                    uow,
                    team_id,
                    count,
                    seed=seed,
                    progress=lambda done, _total: bar.update(task, completed=done),
                )
                history = bar.add_task("Adding their history", total=None)
                load_demo_history(
                    uow,
                    team_id,
                    made=summary,
                    seed=seed,
                    progress=lambda done, total: bar.update(history, completed=done, total=total),
                )
    except KeyboardInterrupt:
        _fail("Interrupted; no demo customers were saved.", 130)
    elapsed = time.perf_counter() - started
    console.print(
        f"Loaded {summary.created:,} demo customers into workspace {escape(team_id)} "
        f"({summary.archived:,} archived) in {elapsed:.1f} s."
    )
    return summary


def _customer_table(rows: Sequence[CustomerRecord], title: str) -> Table:
    from rich.table import Table

    from core.models import CustomerStatus

    table = Table(title=title, title_justify="left")
    table.add_column("UID", no_wrap=True, style="dim")
    table.add_column("Name", style="bold")
    table.add_column("Email", overflow="fold")
    table.add_column("Mobile", no_wrap=True)
    table.add_column("Status", no_wrap=True)
    for row in rows:
        archived = row.status is CustomerStatus.ARCHIVED
        status = "[yellow]Archived[/yellow]" if archived else "[green]Active[/green]"
        table.add_row(row.uid, escape(row.full_name), escape(row.email), escape(row.mobile), status)
    return table


def _search(
    db: Database, team_id: str, text: str, *, archived: bool, limit: int, more: str
) -> None:
    from core.formatting import counted
    from core.models import CustomerStatus
    from core.services.customers import count_matches, search_customers

    status = None if archived else CustomerStatus.ACTIVE
    with db.unit_of_work(readonly=True) as uow:
        actor = _actor(team_id)
        rows = search_customers(uow, actor, text, status=status, limit=limit)
        total, estimated = (
            count_matches(uow, actor, text, status=status) if len(rows) == limit else (0, False)
        )
    shown = escape(text.strip())
    if not rows:
        hint = "" if archived else " Add --archived to include archived customers."
        console.print(f'No {"" if archived else "active "}customers match "{shown}".{hint}')
        return
    found = counted(len(rows), "customer", "customers")
    if total > len(rows):
        found = f"First {len(rows):,} of {'about ' if estimated else ''}{total:,} customers"
    console.print(_customer_table(rows, f'{found} matching "{shown}"'))
    if total > len(rows):
        console.print(f"Showing the best {limit} matches; {more}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create the database or migrate it to the newest schema."""
    from sqlalchemy.exc import DBAPIError

    from core.db import Database

    db = Database(_settings())
    try:
        before = _revision(db)
        _upgrade(db)
        after = _revision(db)
    except DBAPIError as exc:
        _unreachable(db, exc)
    finally:
        db.dispose()
    if before == after:
        console.print(f"Database {escape(_url(db))} is up to date (schema {after}).")
    else:
        console.print(
            f"Database {escape(_url(db))} upgraded from schema {before or 'none'} to {after}."
        )


@app.command("demo-data")
def demo_data(
    customers: Annotated[
        int,
        typer.Option("--customers", min=1, max=1_000_000, help="How many customers to create."),
    ] = FIRST_RUN_CUSTOMERS,
    team: TeamOption = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Repeatable names, emails and mobiles.")
    ] = None,
) -> None:
    """Add realistic demo customers (varied names, emails, mobiles; about 10% archived)."""
    with _database() as db:
        _load_demo(db, _team_id(db, team), customers, seed)


@customers_app.command("search")
def customers_search(
    text: Annotated[str, typer.Argument(help="Part of a name, an email or mobile digits.")],
    team: TeamOption = None,
    archived: Annotated[
        bool, typer.Option("--archived", help="Include archived customers.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Most rows to show.")] = 20,
) -> None:
    """Find customers as the Slack search box does: any part of the name, accents optional."""
    from core.services.paging import MAX_PAGE_SIZE

    if not text.strip():
        _fail("Give some text to search for, e.g. customer-bot customers search zoe", 2)
    if limit > MAX_PAGE_SIZE:
        _fail(f"--limit can be at most {MAX_PAGE_SIZE}.", 2)
    with _database() as db:
        more = f"use --limit (up to {MAX_PAGE_SIZE}) to see more."
        _search(db, _team_id(db, team), text, archived=archived, limit=limit, more=more)


@customers_app.command("import")
def customers_import(
    file: Annotated[Path, typer.Argument(help="The CSV file another system exported.")],
    team: TeamOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would happen and change nothing.")
    ] = False,
    welcome_mail: Annotated[
        bool,
        typer.Option(
            "--welcome-mail", help="Mail each new active customer a portal login (a new password)."
        ),
    ] = False,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help="Read a field from another column: field=Column (name or number); "
            "field= reads it from none. Fields: uid, first_name, last_name, full_name, email, "
            "mobile, status, archived, active, created_at, date_of_birth, notes.",
        ),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write the full report (line, outcome, reason, email)."),
    ] = None,
) -> None:
    """Add customers from another system's CSV (Mindbody, Glofox, Momence, a spreadsheet…).

    Rows match existing customers by email; importing the same file again changes nothing."""
    from core.services.customer_import import preview

    if report is not None and report.exists():
        _fail(f"{report} already exists; choose a new file name.", 2)
    parsed, columns = _read_import(file, mapping or [])
    with _database() as db:
        team_id = _team_id(db, team)
        actor = _actor(team_id)
        with db.unit_of_work(readonly=True) as uow:
            planned = preview(uow, actor, parsed, columns)
        _print_report(planned, "Preview" if dry_run else "Preview (before importing)")
        if report is not None:
            _write_report(report, planned.as_csv())
        if dry_run:
            console.print("Dry run: nothing was changed.")
            return
        done = _import_with_progress(db, actor, parsed, columns, file.name, welcome_mail)
    _print_counts(done, f"Imported {escape(file.name)} into workspace {escape(team_id)}")
    if welcome_mail:
        console.print(
            f"{done.welcome_mails:,} welcome mails queued; the server sends them "
            "(or `customer-bot mail deliver`)."
        )


def _read_import(file: Path, mapping: list[str]) -> tuple[CsvFile, ColumnMapping]:
    """The file parsed and the columns it is read by, shown; exit 2 when it can't be used."""
    from core.services.customer_columns import (
        UnusableFile,
        guess_mapping,
        mapping_problem,
        override,
        read_csv,
    )

    try:
        data = file.read_bytes()
    except OSError as exc:
        _fail(f"Cannot read {file}: {exc.strerror or exc}", 2)
    if any("=" not in choice for choice in mapping):
        _fail("--map takes field=Column, e.g. --map mobile='Cell phone'.", 2)
    try:
        parsed = read_csv(data)
        choices = [(choice.partition("=")[0], choice.partition("=")[2]) for choice in mapping]
        columns = override(guess_mapping(parsed.header), parsed.header, choices)
    except UnusableFile as exc:
        _fail(f"{file.name}: {exc.message}", 2)
    _print_mapping(parsed.header, columns, len(parsed.rows))
    problem = mapping_problem(columns)
    if problem is not None:
        _fail(problem, 2)
    return parsed, columns


def _print_mapping(header: Sequence[str], columns: ColumnMapping, rows: int) -> None:
    from rich.table import Table

    from core.services.customer_columns import FIELD_LABELS, ignored_columns

    table = Table(title=f"{rows:,} rows; columns read", title_justify="left")
    table.add_column("Field")
    table.add_column("Column")
    for field, index in sorted(columns.items(), key=lambda item: item[1]):
        table.add_row(FIELD_LABELS[field], escape(header[index]))
    console.print(table)
    ignored = ignored_columns(header, columns)
    if ignored:
        console.print(f"Ignored columns: {escape(', '.join(ignored))}")


def _print_counts(report: ImportReport, title: str) -> None:
    from core.services.customer_import import Outcome

    counts = ", ".join(f"{report.count(o):,} {o.value}" for o in Outcome)
    console.print(f"{title}: {counts}; {report.possible_duplicates:,} possible duplicates.")


def _print_report(report: ImportReport, title: str) -> None:
    from rich.table import Table

    from core.services.customer_import import PROBLEMS_SHOWN

    if report.dates is not None:
        console.print(
            f"Dates such as 03/04/2024 are read as {report.dates.order.value}: "
            f"{escape(report.dates.reason)}."
        )
    _print_counts(report, title)
    problems = report.problems(PROBLEMS_SHOWN)
    if not problems:
        return
    table = Table(title=f"First {len(problems)} problems", title_justify="left")
    table.add_column("Line", justify="right")
    table.add_column("Outcome")
    table.add_column("Email")
    table.add_column("Reason")
    for line in problems:
        table.add_row(str(line.line), line.outcome.value, escape(line.email), escape(line.reason))
    console.print(table)


def _write_report(path: Path, text: str) -> None:
    try:
        _write_private(path, text)
    except OSError as exc:
        _fail(f"Cannot write {path}: {exc.strerror or exc}")
    console.print(f"Full report written to {escape(str(path))}.")


def _import_with_progress(
    db: Database, actor: Actor, parsed: CsvFile, columns: ColumnMapping, source: str, mail: bool
) -> ImportReport:
    from core.services.customer_import import import_rows

    try:
        with _progress() as bar:
            task = bar.add_task("Importing customers", total=len(parsed.rows))
            return import_rows(
                db,
                actor,
                parsed,
                columns,
                source=source,
                send_welcome=mail,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except KeyboardInterrupt:
        _fail("Interrupted; the batches already imported stay. Run it again to finish.", 130)


def _create_private(path: Path, *, newline: str | None = None) -> TextIO:
    """`path` created readable by its owner only, open for writing; never an existing file."""
    # Owner-only from the first byte: exports are people's personal data.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline=newline)


def _write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only with `text`; an existing file is never overwritten."""
    with _create_private(path) as out:
        out.write(text)


@customers_app.command("export")
def customers_export(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this new file (owner-only) instead of stdout."
        ),
    ] = None,
    archived: Annotated[
        bool, typer.Option("--archived", help="The Archived list instead of the Active one.")
    ] = False,
    every: Annotated[
        bool, typer.Option("--all", help="Active and archived customers (active first).")
    ] = False,
    search: Annotated[
        str, typer.Option("--search", help="Only customers the hub's search finds for this.")
    ] = "",
    team: TeamOption = None,
) -> None:
    """The customer list as CSV (uid, names, email, mobile, status, created_at, date_of_birth)."""
    from core.formatting import counted
    from core.models import CustomerStatus
    from core.services.customer_export import record_list_export, write_customers_csv

    if archived and every:
        _fail("Choose --archived or --all, not both.", 2)
    if output is not None and output.exists():
        _fail(f"{output} already exists; choose a new file name.", 2)
    status = None if every else CustomerStatus.ARCHIVED if archived else CustomerStatus.ACTIVE
    with _database() as db:
        team_id = _team_id(db, team)
        with db.unit_of_work(readonly=True) as uow:
            if output is None:
                stdout = typer.get_text_stream("stdout")
                count = write_customers_csv(
                    uow, _actor(team_id), stdout, status=status, text=search
                )
                stdout.flush()
            else:
                try:
                    with _create_private(output, newline="") as out:
                        count = write_customers_csv(
                            uow, _actor(team_id), out, status=status, text=search
                        )
                except OSError as exc:
                    _fail(f"Cannot write {output}: {exc.strerror or exc}")
        with db.unit_of_work() as uow:
            record_list_export(uow, _actor(team_id), count, status, search)
    which = "active and archived" if status is None else status.value
    where = "" if output is None else f" to {escape(str(output))}"
    exported = counted(count, "customer", "customers")
    err_console.print(f"Exported {exported} ({which}) of {escape(team_id)}{where}.")


FILTER_HELP = (
    "Filters as name=value: status (active, archived, any), lapsed_days, seen_days, "
    "visits_days with visits_min and/or visits_max, spend_at_least, spend_below (money, "
    "e.g. 99.50), pass_ending_days, subscription (active, past_due, paused, suspended, none)."
)


def _segment_filters(db: Database, team_id: str, given: list[str]) -> SegmentFilters:
    """The filters typed as name=value, or exit naming what to fix."""
    from bot.views.segments import BLOCK_OF, read_filters
    from core.services.segments import SegmentFilters
    from core.services.settings import studio_settings

    known = set(BLOCK_OF) - {"name"}
    typed: dict[str, str] = {}
    for item in given:
        name, sep, value = item.partition("=")
        if not sep or name.strip() not in known:
            _fail(f"{item!r} is not a filter. {FILTER_HELP}", 2)
        typed[name.strip()] = value.strip()
    with db.unit_of_work(readonly=True) as uow:
        currency = studio_settings(uow, team_id).currency
    read = read_filters(typed, currency)
    if not isinstance(read, SegmentFilters):
        names = {block: name for name, block in BLOCK_OF.items()}
        _fail("; ".join(f"{names.get(block, block)}: {text}" for block, text in read.items()), 2)
    return read


@customers_app.command("segment")
def customers_segment(
    filters: Annotated[list[str] | None, typer.Argument(help=FILTER_HELP)] = None,
    save: Annotated[
        str | None, typer.Option("--save", help="Save it under this name for the workspace.")
    ] = None,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Write the customers it matches as CSV to stdout.")
    ] = False,
    team: TeamOption = None,
) -> None:
    """Count the customers a segment matches and show the first of them (as Slack does)."""
    from core.services import saved_segments
    from core.services.segments import segment

    with _database() as db:
        team_id = _team_id(db, team)
        chosen = _segment_filters(db, team_id, filters or [])
        try:
            with db.unit_of_work() as uow:
                if as_csv:
                    _segment_csv(uow, team_id, chosen)
                    return
                result = segment(uow, _actor(team_id), chosen, page_size=20)
                if save is not None:
                    saved_segments.save_segment(uow, _actor(team_id), save, chosen)
        except DomainError as exc:
            _fail(exc.message, 2)
    console.print(_segment_table(result))
    if save is not None:
        console.print(f'Saved as "{escape(save.strip())}"; Slack\'s Home lists it with its count.')


def _segment_csv(uow: UnitOfWork, team_id: str, chosen: SegmentFilters) -> None:
    from core.formatting import counted
    from core.services.customer_export import record_list_export, write_customers_csv
    from core.services.segments import segment_customer_ids

    actor = _actor(team_id)
    stdout = typer.get_text_stream("stdout")
    within = segment_customer_ids(uow, actor, chosen)
    count = write_customers_csv(uow, actor, stdout, status=None, within=within)
    stdout.flush()
    record_list_export(uow, actor, count, None, "", within="a segment")
    err_console.print(f"Exported {counted(count, 'customer', 'customers')} in the segment.")


def _segment_table(result: SegmentResult) -> Table:
    from rich.table import Table

    from core.formatting import counted, format_date, format_money

    page = result.page
    title = f"{counted(page.total, 'customer', 'customers')} match"
    if page.total > len(page.rows):
        title += f"; the first {len(page.rows)} by name"
    table = Table(title=title, title_justify="left")
    for column in ("UID", "Name", "Email", "Last visit", "Visits", "Spent"):
        table.add_column(column)
    for row in page.rows:
        last = format_date(row.last_visit_at.date()) if row.last_visit_at else "none"
        spent = format_money(row.spend_minor, result.currency)
        table.add_row(row.uid, escape(row.name), escape(row.email), last, str(row.visits), spent)
    return table


@app.command("export-customer")
def export_customer_command(
    uid: Annotated[str, typer.Argument(help="The customer's UID, as shown in Slack.")],
    team: TeamOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this new file (owner-only) instead of stdout."
        ),
    ] = None,
) -> None:
    """Everything held about one customer, as JSON (subject access); noted in their history."""
    from core.services.export import export_customer, export_text

    if output is not None and output.exists():
        _fail(f"{output} already exists; choose a new file name.", 2)
    with _database() as db:
        team_id = _team_id(db, team)
        # The file is written before the transaction commits, so the history never
        # records an export that did not happen.
        with db.unit_of_work() as uow:
            data = export_customer(uow, _actor(team_id), uid.strip().upper())
            text = export_text(data)
            if output is None:
                typer.echo(text, nl=False)
            else:
                try:
                    _write_private(output, text)
                except OSError as exc:
                    _fail(f"Cannot write {output}: {exc.strerror or exc}")
    if output is not None:
        err_console.print(
            f"Exported customer {escape(data['customer']['uid'])} to {escape(str(output))}."
        )


@catalog_app.command("import")
def catalog_import(
    file: Annotated[Path, typer.Argument(help="The catalog YAML file (see `catalog example`).")],
    team: TeamOption = None,
) -> None:
    """Add or update the catalog from a YAML file, by key; importing again changes nothing."""
    from core.services.catalog_import import import_catalog, read_catalog_text

    with _database() as db:
        text = read_catalog_text(file)
        team_id = _team_id(db, team)
        with db.unit_of_work() as uow:
            s = import_catalog(uow, team_id, text, source=file.name)
    console.print(
        f"Imported {escape(file.name)} into workspace {escape(team_id)}: {s.events} events "
        f"({s.occurrences_added:,} sessions added, {s.occurrences_updated:,} updated), "
        f"{s.services} appointment services, {s.facilitators} facilitators, "
        f"{s.pass_types} pass types, {s.videos} videos, {s.plans} subscription plans, "
        f"{s.questionnaires} questionnaires."
    )


@catalog_app.command("export")
def catalog_export(
    team: TeamOption = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this new file instead of stdout."),
    ] = None,
) -> None:
    """The workspace's catalog as a file `catalog import` reads, with what was changed in Slack."""
    from core.services.catalog_export import export_catalog

    if output is not None and output.exists():
        _fail(f"{output} already exists; choose a new file name.", 2)
    with _database() as db:
        team_id = _team_id(db, team)
        with db.unit_of_work(readonly=True) as uow:
            text = export_catalog(uow, team_id)
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(f"Cannot write {output}: {exc.strerror or exc}")
    err_console.print(f"Exported the catalog of {escape(team_id)} to {escape(str(output))}.")


@catalog_app.command("example")
def catalog_example() -> None:
    """Print the documented example catalog, to start your own: `... example > catalog.yaml`."""
    from core.services.catalog_import import EXAMPLE_CATALOG

    typer.echo(EXAMPLE_CATALOG.read_text(encoding="utf-8"), nl=False)


def _drain(db: Database, transport: MailTransport | None) -> DeliveryReport:
    from core.adapters.mail import DeliveryReport, deliver_due

    total = DeliveryReport()
    # Mails that fail are rescheduled into the future, so this ends once the due ones are done.
    while (report := deliver_due(db, transport)).handled:
        total.sent += report.sent
        total.retrying += report.retrying
        total.failed += report.failed
        total.not_sent += report.not_sent
    return total


def _deliver_until_stopped(db: Database, transport: MailTransport | None, interval: float) -> None:
    from core.adapters.mail import OutboxWorker

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stop.set())
    worker = OutboxWorker(db, transport, interval=interval)
    worker.start()
    console.print(f"Delivering mail every {interval:g} s; press Ctrl-C to stop.")
    try:
        # A timed wait keeps Ctrl-C responsive on every platform.
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop()
    console.print("Mail delivery stopped.")


@mail_app.command("deliver")
def mail_deliver(
    loop: Annotated[
        bool, typer.Option("--loop", help="Keep delivering as mail arrives, until Ctrl-C.")
    ] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.5, help="Seconds between passes with --loop.")
    ] = 5.0,
) -> None:
    """Send the queued mail (welcome mails) over SMTP_URL, retrying failures with back-off."""
    from core.adapters.mail import transport_from_settings

    with _database() as db:
        try:
            transport = transport_from_settings(db.settings)
        except ValueError as exc:
            _fail(str(exc), 2)
        if transport is None:
            err_console.print(
                "[yellow]SMTP_URL is not set: mail is not sent; the log names each mail's "
                "recipient and subject, and the mail is marked as not sent.[/yellow]"
            )
        if loop:
            _deliver_until_stopped(db, transport, interval)
            return
        report = _drain(db, transport)
    if not report.handled:
        console.print("No mail was due.")
        return
    console.print(
        f"Mail: {report.sent} sent, {report.not_sent} not sent, "
        f"{report.retrying} to retry later, {report.failed} failed."
    )
    if report.retrying:
        console.print("Mail to retry goes out on a later run, or keep this running with --loop.")


def _since(given: datetime | None, now: datetime) -> datetime:
    from core.services.stripe_reconcile import EVENT_RETENTION

    if given is None:
        return now - EVENT_RETENTION
    since = given.replace(tzinfo=UTC)
    if since > now:
        _fail(f"--since {given:%Y-%m-%d} is in the future; give a past date (YYYY-MM-DD).", 2)
    if since < now - EVENT_RETENTION:
        err_console.print(
            "[yellow]Stripe lists only the last 30 days of events; older changes are found by "
            "comparing payment links, subscriptions and payments.[/yellow]"
        )
    return since


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _reconcile_table(report: ReconcileReport) -> Table:
    from rich.table import Table

    table = Table(title=f"Fixed or still different in {escape(report.team_id)}")
    for column in ("What", "Stripe id", "Outcome"):
        table.add_column(column)
    for finding in report.changes + report.unresolved:
        style = "red" if finding.unresolved else ""
        table.add_row(finding.step, escape(finding.subject), escape(finding.outcome), style=style)
    return table


@stripe_app.command("reconcile")
def stripe_reconcile(
    team: TeamOption = None,
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since",
            formats=["%Y-%m-%d"],
            help="Compare from this day, YYYY-MM-DD (default: 30 days ago, as far as Stripe "
            "lists events).",
        ),
    ] = None,
) -> None:
    """Compare the records with Stripe and fix what differs (events missed while down)."""
    from core.adapters.payments import gateways_from_settings
    from core.services.stripe_reconcile import EVENTS, LINKS, REFUNDS, SUBSCRIPTIONS, reconcile

    with _database() as db:
        team_id = _team_id(db, team)
        with db.unit_of_work(readonly=True) as uow:
            start = _since(since, uow.now())
        report = reconcile(db, gateways_from_settings(db.settings).get, team_id, start)
    checked = report.checked
    if report.changes or report.unresolved:
        console.print(_reconcile_table(report))
    console.print(
        f"Compared {escape(team_id)} with Stripe since {start:%Y-%m-%d}: "
        f"{_count(checked.get(EVENTS, 0), 'event')}, "
        f"{_count(checked.get(LINKS, 0), 'open payment link')}, "
        f"{_count(checked.get(SUBSCRIPTIONS, 0), 'subscription')}, "
        f"refunds of {_count(checked.get(REFUNDS, 0), 'payment')}; "
        f"{_count(len(report.changes), 'record')} fixed."
    )
    if report.failure is not None:
        _fail(f"Stopped: {report.failure} What was fixed before stays fixed; run it again.")
    if report.unresolved:
        _fail(f"{len(report.unresolved)} could not be fixed now (in red above); run it again.")


def _console(settings: Settings, demo_customers: int) -> None:
    from sqlalchemy.exc import DBAPIError

    from bot.local.console import run_console

    try:
        run_console(settings, demo_customers=demo_customers)
    except ConfigError as exc:
        _fail(f"{exc}. Fix it in the environment or in .env.", 2)
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        _fail(f"Cannot open the database: {reason}")


DemoOption = Annotated[
    int,
    typer.Option(
        "--demo-customers", min=0, max=1_000_000, help="Demo customers loaded on first start."
    ),
]


@app.command("console")
def console_command(demo_customers: DemoOption = FIRST_RUN_CUSTOMERS) -> None:
    """The local workspace: the real app in this terminal, with no Slack account needed."""
    _console(_settings(), demo_customers)


@app.command("run")
def run(demo_customers: DemoOption = FIRST_RUN_CUSTOMERS) -> None:
    """What `make run` does: Slack when tokens are configured, else the local workspace."""
    from core.config import RunMode

    settings = _settings()
    if settings.run_mode is RunMode.LOCAL:
        _console(settings, demo_customers)
    else:
        serve(http=settings.run_mode is RunMode.HTTP)


@app.command("serve")
def serve(
    http: Annotated[
        bool, typer.Option("--http", help="Serve HTTP (POST /slack/events) instead of Socket Mode.")
    ] = False,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on with --http.")
    ] = "0.0.0.0",  # noqa: S104 - a server's job
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port for --http.")] = 3000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            help="Worker processes for --http (gunicorn); more than 1 needs PostgreSQL.",
        ),
    ] = 1,
) -> None:
    """Run against Slack: Socket Mode when SLACK_APP_TOKEN is set, else --http."""
    # Until start-up has frozen its heap (bot/transport/server.py): import is 15% faster.
    # Enabled again whatever happens, for a caller that goes on (a test, a failed start).
    gc.disable()
    try:
        _serve(http=http, host=host, port=port, workers=workers)
    finally:
        gc.enable()


def _serve(*, http: bool, host: str, port: int, workers: int) -> None:
    from bot.transport.server import serve_http, serve_socket_mode
    from core.config import RunMode

    settings = _settings()
    problem = settings.serve_problem(http=http)
    if problem is not None:
        _fail(problem, 2)
    try:
        if http or settings.run_mode is not RunMode.SOCKET:
            serve_http(settings, host=host, port=port, workers=workers)
        elif workers > 1:
            _fail("--workers needs --http: Socket Mode runs as one process.", 2)
        else:
            serve_socket_mode(settings)
    except ConfigError as exc:
        _fail(f"{exc}. Fix it in the environment or in .env.", 2)
    except KeyboardInterrupt:
        console.print("Stopped.")


def main() -> None:
    """Console-script entry point."""
    app()
