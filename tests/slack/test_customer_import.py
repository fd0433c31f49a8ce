"""`/customers import` in Slack: the file form, the columns, the preview, the import in the DM."""

from __future__ import annotations

import csv
import io
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.local.driver import SlackDriver
from bot.local.slack_api import Message
from bot.surfaces import customer_import as import_surface
from bot.views.customer_import import MAX_UPLOAD_BYTES
from core.models import Customer, CustomerStatus, OutboxMail
from tests.slack.conftest import ADMIN, World
from tests.slack.helpers import (
    JSON,
    acked,
    customer_count,
    interaction,
    is_view,
    open_hub,
    post_signed,
    rows,
    text_of,
)

DATA = Path(__file__).parents[1] / "data" / "imports"
CSV_FILE = "CSV file"


def _open_form(driver: SlackDriver) -> JSON:
    acked(driver.slash("/customers", "import"))
    return driver.wait_for_view(is_view("customer_import.submit"))


def _columns(
    world: World, name: str, content: bytes | None = None, *, welcome: bool = False
) -> JSON:
    """The admin opens the form, picks the file (and the checkbox) and reads it."""
    _open_form(world.admin)
    world.admin.attach(
        name, content if content is not None else (DATA / name).read_bytes(), into=CSV_FILE
    )
    if welcome:
        world.admin.choose("Send welcome mails", menu="Welcome mails")
    acked(world.admin.submit())
    return world.admin.wait_for_view(is_view("customer_import.columns"))


def _chosen(view: JSON, block_id: str) -> str:
    chosen = view["state"]["values"][block_id]["customer_import.column"]["selected_option"]
    return str(chosen["text"]["text"])


def _preview(world: World) -> JSON:
    acked(world.admin.submit())
    return world.admin.wait_for_view(is_view("customer_import.preview"))


def _dm(world: World) -> list[Message]:
    return world.api.messages(world.api.dm_channel(ADMIN))


def _imported(world: World) -> Message:
    """The DM's import message once it says the import is done (or stopped)."""
    world.api.wait_until(
        lambda: any(m.text.startswith("Imported ") or "stopped" in m.text for m in _dm(world)),
        timeout=10,
        description="the import's summary",
    )
    [message] = [m for m in _dm(world) if m.text.startswith(("Imported", "Importing"))]
    return message


def test_a_real_export_is_previewed_remapped_and_imported_with_progress_in_the_dm(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    columns = _columns(world, "momence_customers.csv")
    shown = text_of(columns)
    assert "momence_customers.csv: 5 rows, read as UTF-8, comma-separated" in shown
    # The guess is shown; the columns no field reads are named.
    assert _chosen(columns, "col_full_name") == "Customer (e.g. Hannah Taylor)"
    assert _chosen(columns, "col_email").startswith("Email")
    assert _chosen(columns, "col_mobile").startswith("Phone number")
    assert _chosen(columns, "col_uid") == "— none —"
    # Momence's Tags column is read as the customers' tags.
    assert "Not read: Total visits\n" in shown + "\n"
    assert _chosen(columns, "col_tags").startswith("Tags")
    assert len(columns["private_metadata"]) < 3000

    preview = _preview(world)
    shown = text_of(preview)
    assert "New\n4" in shown and "Invalid\n1" in shown and "Possible duplicates\n1" in shown
    assert "read as DD/MM/YYYY: a date reads '23/01/2024'" in shown
    assert "Line 5 (cher@example.co.uk): Name 'Cher' is one word" in shown
    assert "Line 6 (h.taylor@example.co.uk): Possible duplicate: same name as line 2" in shown
    assert "No welcome mails are sent." in shown
    # The full report went to the admin's DM, at preview time, before anything changed.
    [report] = world.api.files()
    assert report.name == "import-report-momence_customers.csv"
    assert report.channels == [world.api.dm_channel(ADMIN)]
    lines = list(csv.reader(io.StringIO((report.content or b"").decode())))
    assert lines[0] == ["line", "outcome", "reason", "email"] and len(lines) == 6
    assert customer_count(world.db) == 0

    # Back to columns, mobile read from another column: the preview changes.
    acked(world.admin.click("Back to columns"))
    world.admin.wait_for_view(is_view("customer_import.columns"))
    world.admin.choose("Total visits", menu="Mobile")
    preview = _preview(world)
    assert "New\n0" in text_of(preview) and "Invalid\n5" in text_of(preview)
    assert "Mobile '14'" in text_of(preview)
    acked(world.admin.click("Back to columns"))
    columns = world.admin.wait_for_view(is_view("customer_import.columns"))
    assert _chosen(columns, "col_mobile").startswith("Total visits")
    world.admin.choose("Phone number", menu="Mobile")
    _preview(world)

    # Import: batches of 2 rows, each one shown (no wait between updates here).
    monkeypatch.setattr(import_surface, "BATCH_ROWS", 2)
    monkeypatch.setattr(import_surface, "PROGRESS_EVERY", 0.0)
    mark = world.api.mark()
    acked(world.admin.submit())
    world.admin.wait_for_view(is_view("customer_import.message", "Importing momence_customers.csv"))
    message = _imported(world)
    assert message.text == (
        "Imported momence_customers.csv: 4 new, 0 updated, 0 unchanged, 1 invalid; "
        "1 possible duplicates (the preview's report lists them)."
    )
    posted = world.api.calls("chat.postMessage", since=mark)
    assert [c.params["text"] for c in posted] == ["Importing momence_customers.csv: 0 of 5 rows…"]
    updates = [c.params["text"] for c in world.api.calls("chat.update", since=mark)]
    assert updates[:2] == [
        "Importing momence_customers.csv: 2 of 5 rows…",
        "Importing momence_customers.csv: 4 of 5 rows…",
    ]
    assert updates[-1] == message.text
    # Downloads always carried the bot token; the customers are in the hub's list.
    assert all(c.ok for c in world.api.calls("download"))
    assert "Hannah Taylor" in rows(open_hub(world.admin, "Taylor"))
    assert customer_count(world.db) == 4


def test_progress_is_shown_every_few_seconds_not_per_batch(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _columns(world, "momence_customers.csv")
    _preview(world)
    monkeypatch.setattr(import_surface, "BATCH_ROWS", 1)
    mark = world.api.mark()
    acked(world.admin.submit())
    _imported(world)
    # Five batches land within a few seconds: only the summary replaces the first message.
    assert len(world.api.calls("chat.update", since=mark)) == 1


def test_a_semicolon_file_with_a_bom_is_read_and_imported_with_welcome_mails(world: World) -> None:
    columns = _columns(world, "spreadsheet_semicolon_bom.csv", welcome=True)
    assert "read as UTF-8, semicolon-separated" in text_of(columns)
    assert _chosen(columns, "col_full_name").startswith("Full name")
    assert _chosen(columns, "col_archived").startswith("Archived")
    preview = _preview(world)
    assert "New\n3" in text_of(preview) and "Invalid\n1" in text_of(preview)
    assert "New active customers get a welcome mail" in text_of(preview)
    acked(world.admin.submit())
    message = _imported(world)
    assert "3 new" in message.text and "2 welcome mails queued." in message.text
    with world.db.unit_of_work(readonly=True) as uow:
        mailed = set(uow.session.scalars(select(OutboxMail.to_address)))
        archived = uow.session.scalar(
            select(Customer.status).where(Customer.email == "lea.martin@example.fr")
        )
    assert mailed == {"zoe.dubois@example.fr", "jose.garcia@example.es"}
    assert archived is CustomerStatus.ARCHIVED


def test_without_the_checkbox_no_welcome_mail_goes(world: World) -> None:
    _columns(world, "spreadsheet_semicolon_bom.csv")
    _preview(world)
    acked(world.admin.submit())
    assert "welcome" not in _imported(world).text
    with world.db.unit_of_work(readonly=True) as uow:
        assert uow.session.scalar(select(OutboxMail.id)) is None


def test_unusable_files_are_refused_under_the_field(world: World) -> None:
    form = _open_form(world.admin)
    # A spreadsheet saved with a .csv name.
    world.admin.attach("clients.csv", b"PK\x03\x04\x00\x00binary", into=CSV_FILE)
    acked(world.admin.submit())
    assert "not a CSV file" in world.admin.errors()["file"]
    assert world.admin.current_view()["id"] == form["id"]  # type: ignore[index]

    world.admin.attach("clients.csv", b"Name,Phone\nAnn Lee,+447700900111\n", into=CSV_FILE)
    acked(world.admin.submit())
    assert "No email column was recognised" not in world.admin.errors().get("file", "")
    columns = world.admin.wait_for_view(is_view("customer_import.columns"))
    # Without an email column the preview is refused under the Email field.
    acked(world.admin.submit())
    assert "No email column was recognised" in world.admin.errors()["col_email"]
    assert world.admin.current_view()["id"] == columns["id"]  # type: ignore[index]


def test_a_file_over_25_mb_is_refused_without_downloading(world: World) -> None:
    _open_form(world.admin)
    big = b"email\n" + b"a" * MAX_UPLOAD_BYTES
    world.admin.attach("huge.csv", big, into=CSV_FILE)
    acked(world.admin.submit())
    assert "larger than 25 MB" in world.admin.errors()["file"]
    assert not world.api.calls("download") and not world.api.calls("files.info")


def test_staff_are_refused(world: World) -> None:
    answer = acked(world.staff.slash("/customers", "import"))
    assert "Only an admin can import customers." in answer.text
    assert not world.api.calls("views.open")
    # A form submitted by staff anyway (forged) is refused under its field, nothing read.
    _columns(world, "momence_customers.csv")
    view = world.api.view(world.admin.current_view()["id"])  # type: ignore[index]
    forged = {**view, "callback_id": "customer_import.submit"}
    answer = post_signed(world.staff, interaction(world.staff, "view_submission", forged))
    assert answer.data == {
        "response_action": "errors",
        "errors": {"file": "Only an admin can import customers."},
    }


def test_the_download_needs_the_bot_token(world: World) -> None:
    info = world.api.user_upload(ADMIN, "clients.csv", b"email\na@example.com\n")
    url = info["url_private_download"]
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url)  # noqa: S310
    assert refused.value.code == 403
    asked = urllib.request.Request(url, headers={"Authorization": "Bearer xoxb-wrong"})  # noqa: S310
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(asked)  # noqa: S310
    asked = urllib.request.Request(  # noqa: S310
        url, headers={"Authorization": f"Bearer {world.api.bot_token}"}
    )
    with urllib.request.urlopen(asked) as got:  # noqa: S310
        assert got.read() == b"email\na@example.com\n"
    assert json.dumps(info).count(world.api.bot_token) == 0


def test_a_workspace_without_files_read_is_told_to_reinstall(world: World) -> None:
    _open_form(world.admin)
    world.admin.attach("clients.csv", (DATA / "momence_customers.csv").read_bytes(), into=CSV_FILE)
    world.api.fail("files.info", "missing_scope")
    acked(world.admin.submit())
    assert "needs the files:read permission" in world.admin.errors()["file"]
