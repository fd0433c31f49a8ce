"""`/customers import` on screen: the file an admin picks is downloaded with the bot token at
each step (nothing of it is kept between steps), its columns shown, a preview with the full
report in the admin's DM, then the import in the background with a DM message following it."""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import Ack
from slack_sdk.errors import SlackApiError

from bot.context.request import Request
from bot.context.slack_errors import error_code
from bot.logging_setup import ContextExecutor
from bot.views.customer_import import (
    FILE_ACTION,
    FILE_BLOCK,
    MAX_UPLOAD_BYTES,
    NAME_MAX,
    WELCOME_ACTION,
    WELCOME_BLOCK,
    ImportMeta,
    columns_view,
    failure_text,
    import_form,
    message_view,
    preview_view,
    progress_text,
    read_mapping,
    summary_text,
)
from bot.views.payload import state_values
from core.errors import DomainError, Forbidden
from core.services.customer_columns import CsvFile, UnusableFile, guess_mapping, read_csv
from core.services.customer_import import check_admin, import_rows, preview

log = logging.getLogger(__name__)

# Slack drops a submission not answered within 3 seconds; this leaves room for the network.
ACK_BUDGET = 2.0
DOWNLOAD_TIMEOUT = 60.0
# The DM message follows an import every few seconds, not on every batch.
PROGRESS_EVERY = 3.0
BATCH_ROWS = 1000
# Downloads and previews outlasting the answer, and the imports themselves, run here.
_POOL = ContextExecutor(ThreadPoolExecutor(max_workers=4, thread_name_prefix="import"))

View = dict[str, Any]


@dataclass(frozen=True)
class Errors:
    """Problems by input block: the form stays as it is."""

    errors: dict[str, str]


Answer = Errors | View


def refusal(request: Request) -> str | None:
    """Why `request`'s person may not import ("Only an admin …"), or None."""
    try:
        check_admin(request.actor)
    except Forbidden as exc:
        return exc.message
    return None


def open_import_form(request: Request, trigger_id: str) -> None:
    """The first step's modal: the file and the welcome mail checkbox."""
    request.client.views_open(trigger_id=trigger_id, view=import_form())


# ----------------------------------------------------------------- the file


def _trusted(url: str, request: Request) -> bool:
    """Only Slack's own hosts (or the API the client talks to) ever get the bot token."""
    target, api = urlsplit(url), urlsplit(request.client.base_url)
    if (target.scheme, target.netloc) == (api.scheme, api.netloc):
        return True
    host = target.hostname or ""
    return target.scheme == "https" and (host == "slack.com" or host.endswith(".slack.com"))


def download(request: Request, file_id: str) -> tuple[str, CsvFile]:
    """The file's name and its rows; UnusableFile says why not (under the file field)."""
    try:
        info = request.client.files_info(file=file_id)["file"]
    except SlackApiError as exc:
        code = error_code(exc)
        log.warning("reading an import file's details failed: %s", code)
        if code in {"file_not_found", "file_deleted"}:
            raise UnusableFile("Slack no longer has this file; choose it again.") from None
        if code == "missing_scope":
            raise UnusableFile(
                "Slack refused the file (missing_scope): the app needs the files:read "
                "permission; ask whoever installed it to reinstall it."
            ) from None
        raise UnusableFile(f"Slack refused the file ({code}); try again in a moment.") from None
    name = str(info.get("name") or "file.csv")[:NAME_MAX]
    if info.get("user") != request.actor.user_id:
        raise UnusableFile("Choose a file you uploaded yourself.")
    if int(info.get("size") or 0) > MAX_UPLOAD_BYTES:
        raise UnusableFile(_too_large())
    url = str(info.get("url_private_download") or info.get("url_private") or "")
    if not _trusted(url, request):
        raise UnusableFile("Slack gave no address to download this file from; try again.")
    proxy = request.client.proxy
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": proxy, "https": proxy} if proxy else {})
    )
    headers = {"Authorization": f"Bearer {request.client.token}"}
    asked = urllib.request.Request(url, headers=headers)  # noqa: S310 - `_trusted` checked it
    try:
        with opener.open(asked, timeout=DOWNLOAD_TIMEOUT) as got:
            data: bytes = got.read(MAX_UPLOAD_BYTES + 1)
    except urllib.error.HTTPError as exc:
        log.warning("downloading an import file failed: HTTP %s", exc.code)
        raise UnusableFile(f"Slack refused the download (HTTP {exc.code}); try again.") from None
    if len(data) > MAX_UPLOAD_BYTES:
        raise UnusableFile(_too_large())
    return name, read_csv(data)


def _too_large() -> str:
    return (
        f"The file is larger than {MAX_UPLOAD_BYTES // 1024 // 1024} MB; split it, or import "
        "it with `customer-bot customers import`."
    )


def _read_as(file: CsvFile) -> str:
    separator = {",": "comma", ";": "semicolon", "\t": "tab"}.get(file.delimiter, file.delimiter)
    return f"{file.encoding}, {separator}-separated"


def _columns(meta: ImportMeta, file: CsvFile, problem: str = "") -> View:
    sample = file.rows[0].cells if file.rows else ()
    return columns_view(
        meta, file.header, sample, rows=len(file.rows), read_as=_read_as(file), problem=problem
    )


# ----------------------------------------------------------------- answering within 3 s


def _answer(
    ack: Ack,
    request: Request,
    view_id: str,
    work: Callable[[], Answer],
    working: str,
    late_problem: Callable[[str], View],
) -> None:
    """`work`'s answer within Slack's 3 seconds; past them a "working" view, then the answer
    (problems go into `late_problem`'s view, as the fields can no longer show them)."""
    future = _POOL.submit(work)
    try:
        answer = future.result(timeout=ACK_BUDGET)
    except TimeoutError:
        ack(response_action="update", view=message_view(working))
        late = _late(future, late_problem)
        request.client.views_update(view_id=view_id, view=late)
        return
    if isinstance(answer, Errors):
        ack(response_action="errors", errors=answer.errors)
    else:
        ack(response_action="update", view=answer)


def _late(future: Future[Answer], late_problem: Callable[[str], View]) -> View:
    try:
        answer = future.result()
    except Exception:
        log.exception("an import step failed after its form was answered")
        return message_view("Something went wrong reading the file; try again.", ok=False)
    if isinstance(answer, Errors):
        return late_problem(" ".join(answer.errors.values()))
    return answer


def _file_problem(exc: DomainError) -> Errors:
    return Errors({FILE_BLOCK: exc.message[:1000]})


# ----------------------------------------------------------------- the steps


def read_file(ack: Ack, request: Request, view: View) -> None:
    """The file form submitted: its columns as guessed, or why the file can't be read."""
    refused = refusal(request)
    if refused is not None:
        ack(response_action="errors", errors={FILE_BLOCK: refused})
        return
    state = state_values(view)
    chosen = (
        state.get(FILE_BLOCK, {}).get(FILE_ACTION, {})
        if isinstance(state.get(FILE_BLOCK), dict)
        else {}
    )
    files = chosen.get("files") if isinstance(chosen, dict) else None
    picked = files[0] if isinstance(files, list) and files and isinstance(files[0], dict) else {}
    file_id = picked.get("id")
    welcome_state = state.get(WELCOME_BLOCK, {})
    ticked = welcome_state.get(WELCOME_ACTION, {}) if isinstance(welcome_state, dict) else {}
    options = ticked.get("selected_options") if isinstance(ticked, dict) else None
    welcome = isinstance(options, list) and any(
        isinstance(o, dict) and o.get("value") == "yes" for o in options
    )
    if not isinstance(file_id, str) or not 0 < len(file_id) <= 40:
        ack(response_action="errors", errors={FILE_BLOCK: "Choose a CSV file."})
        return
    size = picked.get("size")
    if isinstance(size, int) and size > MAX_UPLOAD_BYTES:
        ack(response_action="errors", errors={FILE_BLOCK: _too_large()})
        return

    def work() -> Answer:
        try:
            name, file = download(request, file_id)
        except DomainError as exc:
            return _file_problem(exc)
        mapping = guess_mapping(file.header)
        meta = ImportMeta(
            file_id=file_id, name=name, welcome=welcome, columns=len(file.header), mapping=mapping
        )
        return _columns(meta, file)

    _answer(
        ack,
        request,
        str(view.get("id") or ""),
        work,
        "Reading the file…",
        lambda problem: import_form(welcome=welcome, problem=problem),
    )


def show_preview(ack: Ack, request: Request, view: View, meta: ImportMeta) -> None:
    """The columns chosen: the preview, with the full report sent to the admin's DM."""
    refused = refusal(request)
    mapping, errors = read_mapping(state_values(view), meta.columns)
    if refused is not None:
        errors = {FILE_BLOCK: refused}
    if errors:
        _refuse(ack, view, errors)
        return
    chosen = meta.model_copy(update={"mapping": mapping})

    def work() -> Answer:
        try:
            name, file = download(request, chosen.file_id)
            with request.deps.db.unit_of_work(readonly=True) as uow:
                report = preview(uow, request.actor, file, mapping)
        except DomainError as exc:
            return message_view(exc.message, ok=False)
        sent = _send_report(request, name, report.as_csv())
        return preview_view(chosen, report, sent=sent)

    _answer(
        ack,
        request,
        str(view.get("id") or ""),
        work,
        f"Reading {meta.name} for the preview…",
        lambda problem: message_view(problem, ok=False),
    )


def _refuse(ack: Ack, view: View, errors: dict[str, str]) -> None:
    """Problems under the fields shown; one about no field (a forged form) in the view's place."""
    shown = {str(b.get("block_id")) for b in view.get("blocks", []) if isinstance(b, dict)}
    if set(errors) <= shown:
        ack(response_action="errors", errors=errors)
    else:
        ack(response_action="update", view=message_view(" ".join(errors.values()), ok=False))


def _send_report(request: Request, name: str, text: str) -> str:
    """The full report to the admin's DM; says where it went, or why it didn't."""
    filename = f"import-report-{name.rsplit('.', 1)[0][:100]}.csv"
    try:
        dm = request.client.conversations_open(users=request.actor.user_id)["channel"]["id"]
        request.client.files_upload_v2(
            channel=dm,
            content=text.encode("utf-8"),
            filename=filename,
            title=filename,
            initial_comment=f"The preview's full report for {name}: every row, what importing "
            "does with it and why.",
        )
    except SlackApiError as exc:
        log.warning("sending an import report failed: %s", exc.response.get("error"))
        return f"Slack refused the full report ({exc.response.get('error')}); nothing was sent."
    return f"The full report (every row) is in your DM: {filename}."


def back_to_columns(request: Request, view_id: str, meta: ImportMeta) -> None:
    """Back to columns pressed on the preview: the columns view as last chosen."""
    refused = refusal(request)
    if refused is not None:
        request.client.views_update(view_id=view_id, view=message_view(refused, ok=False))
        return
    try:
        _name, file = download(request, meta.file_id)
    except DomainError as exc:
        request.client.views_update(view_id=view_id, view=message_view(exc.message, ok=False))
        return
    request.client.views_update(view_id=view_id, view=_columns(meta, file))


def start_import(ack: Ack, request: Request, meta: ImportMeta) -> None:
    """Import pressed: the modal says it started; the import runs in the background."""
    refused = refusal(request)
    if refused is not None:
        ack(response_action="update", view=message_view(refused, ok=False))
        return
    ack(
        response_action="update",
        view=message_view(
            f"Importing {meta.name}. A message in your DM with the app follows it and ends "
            "with the summary; you can close this."
        ),
    )
    _POOL.submit(run_import, request, meta)


def run_import(request: Request, meta: ImportMeta) -> None:
    """Import the file in batches, the DM message updated every few seconds, then the summary."""
    client = request.client
    dm = client.conversations_open(users=request.actor.user_id)["channel"]["id"]
    try:
        name, file = download(request, meta.file_id)
    except DomainError as exc:
        client.chat_postMessage(channel=dm, text=f"Could not import {meta.name}: {exc.message}")
        return
    total = len(file.rows)
    message = client.chat_postMessage(channel=dm, text=progress_text(name, 0, total))
    ts = str(message["ts"])
    done = 0
    shown_at = time.monotonic()

    def progress(rows: int, of: int) -> None:
        nonlocal done, shown_at
        done = rows
        if rows < of and time.monotonic() - shown_at >= PROGRESS_EVERY:
            client.chat_update(channel=dm, ts=ts, text=progress_text(name, rows, of))
            shown_at = time.monotonic()

    try:
        report = import_rows(
            request.deps.db,
            request.actor,
            file,
            meta.mapping,
            source=name,
            send_welcome=meta.welcome,
            progress=progress,
            batch_size=BATCH_ROWS,
        )
    except DomainError as exc:
        client.chat_update(channel=dm, ts=ts, text=failure_text(name, done, total, exc.message))
        return
    except Exception:
        log.exception("an import stopped part-way")
        reason = "something went wrong."
        client.chat_update(channel=dm, ts=ts, text=failure_text(name, done, total, reason))
        return
    client.chat_update(channel=dm, ts=ts, text=summary_text(name, report, welcome=meta.welcome))
