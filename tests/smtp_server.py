"""A real SMTP server on loopback (aiosmtpd) that collects what it receives.

Use the `smtp_server` fixture by importing it into a test module:

    from tests.smtp_server import smtp_server  # noqa: F401

or build one directly (`with SmtpServer(credentials=("user", "pw")) as server:`) for a
server that demands AUTH. `server.down()` makes connections to its port be refused
(the port stays reserved), `server.up()` brings it back on the same port, so a
transport built from `server.url` sees a real outage and a real recovery.

`SmtpServer(dedupe=True)` keeps one copy of a message per Message-ID, as receiving mail
servers and mailbox providers do: `messages` is then what the recipients see, while
`transmissions` lists every message accepted. `server.stall_at("RCPT" | "DATA" | "QUIT")`
makes the next conversation stop answering at that command until the test releases it; a
client that disconnects meanwhile leaves nothing delivered (at DATA, the message is kept only
when the server goes on to accept it).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
# aiosmtpd logs the whole conversation (message bodies included) under this name; tests
# that check what *our* code logs leave these records out.
SERVER_LOGGER = "mail.log"


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server accepted it."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    # The AUTH login of the session that sent it, None when it did not authenticate.
    login: str | None

    @property
    def body(self) -> str:
        """The decoded text of the (single-part) message, with SMTP's CRLFs as newlines."""
        content = self.message.get_content()
        assert isinstance(content, str)
        return content.replace("\r\n", "\n")


class _Handler:
    """aiosmtpd hooks; they run on the server's event-loop thread."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await self.server.pause("QUIT")
        return "221 Bye"

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.server.credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        await self.server.pause("RCPT")
        if address.lower() in self.server.refused_recipients:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await self.server.pause("DATA")
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        auth: object = session.auth_data  # a LoginPassword once AUTH succeeded
        login = auth.login.decode() if isinstance(auth, LoginPassword) else None
        self.server.record(
            ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), message, login)
        )
        return "250 2.0.0 Message accepted for delivery"


class Stall:
    """A command at which the server stops answering, once, until the test releases it."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.reached = threading.Event()
        self._released = threading.Event()

    def release(self) -> None:
        """Let the stalled conversation go on."""
        self._released.set()

    def wait_reached(self, timeout: float = 30.0) -> None:
        """Block until a client is stalled here; fail the test after `timeout`."""
        if not self.reached.wait(timeout):
            pytest.fail(f"no client reached {self.command} within {timeout}s")

    async def hold(self) -> None:
        """Wait on the server's event loop; cancelled if the client disconnects meanwhile."""
        self.reached.set()
        while not self._released.is_set():
            await asyncio.sleep(0.02)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 at a free port."""

    def __init__(self, *, credentials: tuple[str, str] | None = None, dedupe: bool = False) -> None:
        self.credentials = credentials
        self.dedupe = dedupe
        self.refused_recipients: set[str] = set()
        self.port = 0
        self._messages: list[ReceivedMail] = []
        self._transmissions: list[ReceivedMail] = []
        self._stalls: dict[str, Stall] = {}
        self._arrived = threading.Condition()
        self._controller: Controller | None = None
        # While down, a bound but not listening socket holds the port: connecting is
        # refused at once, and nothing else can take the port before up().
        self._placeholder: socket.socket | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        """Listen on a free loopback port (tries a few in case another process races us)."""
        for _ in range(5):
            self.port = _free_port()
            try:
                self._listen()
            except OSError:
                continue
            return
        raise RuntimeError("no free loopback port for the test SMTP server")

    def close(self) -> None:
        """Stop listening and release the port."""
        for stall in list(self._stalls.values()):
            stall.release()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None

    def down(self) -> None:
        """Simulate an outage: connections to the port are refused from now on."""
        assert self._controller is not None, "the server is not up"
        self._controller.stop()
        self._controller = None
        placeholder = socket.socket()
        placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        placeholder.bind((HOST, self.port))
        self._placeholder = placeholder

    def up(self) -> None:
        """End the outage: listen on the same port again."""
        assert self._placeholder is not None, "the server is not down"
        self._placeholder.close()
        self._placeholder = None
        self._listen()

    def _listen(self) -> None:
        options: dict[str, Any] = {}
        if self.credentials is not None:
            # Loopback only, so AUTH without TLS is acceptable here.
            options = {"authenticator": self._authenticate, "auth_require_tls": False}
        controller = Controller(
            _Handler(self), hostname=HOST, port=self.port, server_hostname="smtp.test", **options
        )
        controller.start()
        self._controller = controller

    def __enter__(self) -> SmtpServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- what clients use ------------------------------------------------------------

    @property
    def url(self) -> str:
        """SMTP_URL for this server, with the credentials it demands (percent-encoded)."""
        if self.credentials is None:
            return f"smtp://{HOST}:{self.port}"
        return self.url_with(*self.credentials)

    def url_with(self, user: str, password: str) -> str:
        """SMTP_URL for this server with the given (possibly wrong) credentials."""
        return f"smtp://{quote(user, safe='')}:{quote(password, safe='')}@{HOST}:{self.port}"

    # -- what tests inspect ----------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMail]:
        """Everything delivered so far (one per Message-ID with `dedupe`), oldest first."""
        with self._arrived:
            return list(self._messages)

    @property
    def transmissions(self) -> list[ReceivedMail]:
        """Every message accepted so far, copies of one Message-ID included, oldest first."""
        with self._arrived:
            return list(self._transmissions)

    def record(self, mail: ReceivedMail) -> None:
        """Called by the handler for each accepted message."""
        with self._arrived:
            self._transmissions.append(mail)
            if not (self.dedupe and self._delivered(mail)):
                self._messages.append(mail)
            self._arrived.notify_all()

    def _delivered(self, mail: ReceivedMail) -> bool:
        """Whether a message with `mail`'s Message-ID already reached the same recipients."""
        key = mail.message["Message-ID"]
        return key is not None and any(
            seen.message["Message-ID"] == key and seen.rcpt_tos == mail.rcpt_tos
            for seen in self._messages
        )

    def stall_at(self, command: str) -> Stall:
        """Make the next conversation stop answering at `command` until released."""
        stall = Stall(command)
        with self._arrived:
            self._stalls[command] = stall
        return stall

    async def pause(self, command: str) -> None:
        """Called by the handler at `command`: hold there if a stall is set for it."""
        with self._arrived:
            stall = self._stalls.pop(command, None)
        if stall is not None:
            await stall.hold()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        """Block until at least `count` messages arrived; fail the test after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(
                        f"expected {count} mail(s) within {timeout}s, got {len(self._messages)}"
                    )
                self._arrived.wait(remaining)
            return list(self._messages)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert self.credentials is not None
        ok = (
            isinstance(auth_data, LoginPassword)
            and (
                auth_data.login.decode(),
                auth_data.password.decode(),
            )
            == self.credentials
        )
        # handled=False: aiosmtpd answers a failure with 535, as a real server does.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A running SMTP server without AUTH, closed after the test."""
    with SmtpServer() as server:
        yield server
