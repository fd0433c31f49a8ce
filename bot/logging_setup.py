"""Process-wide logging: JSON lines or rich text, a request id per interaction, secrets scrubbed.

The CLI entry points call `configure_logging` once. Every record then passes two filters on
our handler: `RequestContextFilter` tags it with the Slack interaction it belongs to, and
`RedactingFilter` removes configured secrets and anything shaped like a token or a URL password.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TextIO, TypeVar
from urllib.parse import unquote, urlsplit

from rich.console import Console
from rich.logging import RichHandler
from slack_bolt.request import BoltRequest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from core.config import Settings

HANDLER_NAME = "customer-bot"
REDACTED = "[redacted]"
# Below this length a configured "secret" (a test's `s`) would shred ordinary words.
MIN_SECRET_LENGTH = 6

# Credentials recognisable by shape, whether or not this process has them configured.
SECRET_PATTERNS = (
    re.compile(r"\bxox(?:e\.xox)?[abeoprs]-[A-Za-z0-9-]{4,}"),  # Slack bot/user/refresh tokens
    re.compile(r"\bxapp-[A-Za-z0-9-]{4,}"),  # Slack app-level tokens
    re.compile(r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{4,}"),  # Stripe secret/restricted keys
    re.compile(r"\bwhsec_[A-Za-z0-9]{8,}"),  # Stripe webhook signing secrets
    # Stripe Connect's authorization codes and refresh tokens (stripe's DEBUG records quote both)
    re.compile(r"\b(?:ac|rt)_[A-Za-z0-9]{16,}"),
    re.compile(r"(?i)(?<=bearer )[A-Za-z0-9._~+/=-]{8,}"),  # Authorization headers
)
# scheme://user:password@host: the password goes, the user and host stay for diagnosis.
URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]*):[^\s@/]+@")

# SQL echo carries statement parameters: contact details and the one-time password held in
# the mail outbox. No LOG_LEVEL may switch it on; engine warnings still come through. The
# pool's per-checkout lines are only noise.
# Slack's libraries quote whole request and response bodies in some records (a refused
# signature's form body at INFO, every Web API call's parameters and answer at DEBUG): people's
# names, emails and typed passwords, of any size. Their records stop where a quote begins.
_LIBRARIES = ("slack_bolt", "slack_sdk", "bot.bolt")
_QUOTE = re.compile(
    r"(?i)\(\{|\b(?:request body|body|body_params|json_body|query_params|headers|files)\s*[:=]"
)
LIBRARY_MESSAGE_MAX = 500
_PINNED_LOGGERS = {"sqlalchemy.engine": logging.WARNING, "sqlalchemy.pool": logging.WARNING}


@dataclass(frozen=True)
class RequestTag:
    """The interaction a log record belongs to."""

    request_id: str
    team_id: str | None = None
    user_id: str | None = None


_CURRENT: contextvars.ContextVar[RequestTag | None] = contextvars.ContextVar(
    "log_request", default=None
)


def withheld(text: str) -> str:
    """A library's message up to where it starts to quote a body, on one line, kept short."""
    first = text.split("\n", 1)[0]
    quote = _QUOTE.search(first)
    if quote is not None:
        before = first[: quote.start()].rstrip(" ,(")
        first = f"{before} [body withheld]" if before else "[body withheld]"
    return first[:LIBRARY_MESSAGE_MAX]


def withhold_library_bodies() -> None:
    """Make every record of Slack's libraries, at any level and for any handler, stop before
    it quotes a request or response body (see `withheld`); installing it twice is harmless."""
    make = logging.getLogRecordFactory()
    if getattr(make, "withholds_bodies", False):
        return

    def record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        made = make(*args, **kwargs)
        if made.name.startswith(_LIBRARIES):
            made.msg, made.args = withheld(made.getMessage()), None
        return made

    record.withholds_bodies = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(record)


def current_tag() -> RequestTag | None:
    """The interaction being handled in this context, if any."""
    return _CURRENT.get()


@contextmanager
def tagged(tag: RequestTag) -> Iterator[RequestTag]:
    """Attribute every record logged in this context to `tag` until the block ends."""
    token = _CURRENT.set(tag)
    try:
        yield tag
    finally:
        _CURRENT.reset(token)


def tag_for(request: BoltRequest) -> RequestTag:
    """Slack's own id for the interaction when it sends one, else timestamp and a random part."""
    body = request.body if isinstance(request.body, dict) else {}
    given = body.get("event_id") or body.get("trigger_id")
    if isinstance(given, str) and given:
        request_id = given[:100]
    else:
        stamp = (request.headers.get("x-slack-request-timestamp") or [""])[0]
        request_id = f"{stamp[:20] or 'local'}-{uuid.uuid4().hex[:12]}"
    # A forged payload can put anything where the ids belong; only strings name anyone.
    team, user = request.context.team_id, request.context.user_id
    return RequestTag(
        request_id,
        team if isinstance(team, str) and team else None,
        user if isinstance(user, str) and user else None,
    )


P = ParamSpec("P")
T = TypeVar("T")


class ContextExecutor(Executor):
    """Runs each task in a copy of the submitter's context, so a listener logs with its request id.

    Bolt hands listeners to a thread pool, and a pool thread does not inherit context variables.
    """

    def __init__(self, inner: Executor) -> None:
        self.inner = inner

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Schedule `fn` in a copy of the current context."""
        context = contextvars.copy_context()
        return self.inner.submit(lambda: context.run(fn, *args, **kwargs))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shut the wrapped executor down."""
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


class RequestContextFilter(logging.Filter):
    """Adds request_id, team_id and user_id (None outside an interaction) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Tag the record; never drops it."""
        tag = _CURRENT.get()
        record.request_id = tag.request_id if tag else None
        record.team_id = tag.team_id if tag else None
        record.user_id = tag.user_id if tag else None
        return True


def secret_values(settings: Settings) -> list[str]:
    """The secret values configured in `settings`: tokens, keys and the passwords in URLs."""
    values: list[str] = []
    for secret in (
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_app_token,
        settings.slack_client_secret,
        settings.stripe_api_key,
    ):
        if secret is not None:
            values.append(secret.get_secret_value())
    # Each key alone too: a log line could hold one of them without the others.
    values += settings.token_keys
    if settings.token_encryption_key is not None:
        values.append(settings.token_encryption_key.get_secret_value())
    if settings.smtp_url is not None:
        password = urlsplit(settings.smtp_url.get_secret_value()).password
        if password:
            values += [password, unquote(password)]
    try:
        db_password = make_url(settings.database_url.get_secret_value()).password
    except ArgumentError:  # a URL SQLAlchemy cannot parse has no password to hide
        db_password = None
    if db_password:
        values.append(str(db_password))
    return values


class Redactor:
    """Replaces known secret values and secret-shaped text with a marker."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        known = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)
        self._known = re.compile("|".join(map(re.escape, known))) if known else None

    def __call__(self, text: str) -> str:
        """`text` with every secret in it replaced."""
        if self._known is not None:
            text = self._known.sub(REDACTED, text)
        for pattern in SECRET_PATTERNS:
            text = pattern.sub(REDACTED, text)
        return URL_PASSWORD.sub(rf"\1:{REDACTED}@", text)


class RedactingFilter(logging.Filter):
    """Scrubs secrets from a record's message, arguments, traceback and stack before it is written."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        message = record.getMessage()
        clean = self.redact(message)
        if clean != message:
            # Merged so that a secret inside an argument cannot reappear at formatting time.
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the request, any exception."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            # Several gunicorn workers write to one stream: the pid tells their lines apart.
            "pid": record.process,
            "thread": record.threadName,
        }
        for key in ("request_id", "team_id", "user_id"):
            value = getattr(record, key, None)
            if value is not None:
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            if not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
            entry["exception"] = {"type": record.exc_info[0].__name__, "stack": record.exc_text}
        elif record.exc_text:
            entry["exception"] = {"stack": record.exc_text}
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


class _TextFormatter(logging.Formatter):
    """The message for the terminal, followed by the request it belongs to when known."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id is None:
            return text
        who = "/".join(
            v for v in (getattr(record, "team_id", None), getattr(record, "user_id", None)) if v
        )
        return f"{text}  [{request_id}{' ' + who if who else ''}]"


def build_handler(
    stream: TextIO | None = None,
    *,
    json_lines: bool | None = None,
    secrets: Iterable[str] = (),
    path: Path | None = None,
) -> logging.Handler:
    """A handler with the request and redaction filters: JSON unless writing to a terminal.

    `path` writes JSON lines to that file instead of a stream.
    """
    handler: logging.Handler
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.setFormatter(JsonFormatter())
    else:
        out = stream if stream is not None else sys.stderr
        if json_lines is None:
            json_lines = not out.isatty()
        if json_lines:
            handler = logging.StreamHandler(out)
            handler.setFormatter(JsonFormatter())
        else:
            handler = RichHandler(console=Console(file=out), show_path=False, markup=False)
            handler.setFormatter(_TextFormatter("%(message)s"))
    handler.set_name(HANDLER_NAME)
    handler.addFilter(RequestContextFilter())
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    return handler


def set_levels(level: str) -> None:
    """Root at `level`; chatty or parameter-logging libraries held back whatever it is."""
    logging.getLogger().setLevel(level)
    # Alembic announces its dialect on every start; that is noise outside debugging.
    logging.getLogger("alembic").setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    for name, pinned in _PINNED_LOGGERS.items():
        logging.getLogger(name).setLevel(pinned)


def configure_logging(settings: Settings, *, path: Path | None = None) -> logging.Handler:
    """Install the app's one root handler (replacing an earlier one), to stderr or to `path`."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    handler = build_handler(secrets=secret_values(settings), path=path)
    root.addHandler(handler)
    set_levels(settings.log_level)
    return handler


@contextmanager
def logging_to_file(settings: Settings, path: Path) -> Iterator[logging.Handler]:
    """Send every record to `path` as JSON lines instead of the screen, until the block ends."""
    handler = build_handler(secrets=secret_values(settings), path=path)
    root = logging.getLogger()
    names = ["", "alembic", *_PINNED_LOGGERS]
    saved_handlers = root.handlers[:]
    saved_levels = {name: logging.getLogger(name).level for name in names}
    root.handlers = [handler]
    set_levels(settings.log_level)
    try:
        yield handler
    finally:
        root.handlers = saved_handlers
        for name, level in saved_levels.items():
            logging.getLogger(name).setLevel(level)
        handler.close()
