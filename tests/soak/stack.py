"""Everything the soak runs, on 127.0.0.1 only: a private PostgreSQL cluster, the Slack, Stripe
and SMTP stand-ins, and two app workers sharing the database. Closing stops all of it and
deletes every file it made, whatever state it is in."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

from bot.local import SlackUser
from core.actor import Actor
from core.config import Settings
from core.db import Database
from core.models import Event, EventOccurrence, PassType, Role
from core.services.staff import add_staff
from tests.pg_cluster import PrivateCluster, unavailable_reason
from tests.smtp_server import SmtpServer
from tests.soak.slack_standin import RateLimitingSlackAPI
from tests.soak.stripe_process import PersistentStripe
from tests.soak.workers import Worker, worker_env
from tests.stripe_server import API_KEY

TEAM = "TSOAK"
ADMIN = "USOAKADMIN"
SESSIONS = 30
MAIL_FROM = "Soak Studio <studio@example.test>"


def why_not() -> str | None:
    """Why the soak cannot run on this machine (no PostgreSQL binaries), or None."""
    return unavailable_reason()


@dataclass(frozen=True)
class Roster:
    """Who works in the workspace: the admin and the staff members' Slack ids."""

    admin: str
    staff: list[str]


class Stack:
    """Start with `with Stack(staff=4) as stack:`; everything is up inside the block."""

    def __init__(self, *, staff: int, workers: int = 2) -> None:
        self.roster = Roster(ADMIN, [f"USOAKSTAFF{n}" for n in range(1, staff + 1)])
        self.worker_count = workers
        self.signing_secret = secrets.token_hex(16)
        self._exit = ExitStack()
        self.directory = Path(tempfile.mkdtemp(prefix="soak-"))
        self._exit.callback(shutil.rmtree, self.directory, ignore_errors=True)
        self.cluster: PrivateCluster
        self.slack: RateLimitingSlackAPI
        self.stripe: PersistentStripe
        self.smtp: SmtpServer
        self.workers: list[Worker] = []
        self.database_url = ""

    def __enter__(self) -> Stack:
        try:
            self._start()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop every process and server, remove every file; safe to call twice."""
        self._exit.close()

    def _start(self) -> None:
        self.cluster = PrivateCluster()
        self._exit.callback(self.cluster.close)
        self.cluster.start()
        self.database_url = self.cluster.create_database("soak")
        self.slack = RateLimitingSlackAPI(team_id=TEAM, team_name="Soak Studio")
        self.slack.start()
        self._exit.callback(self.slack.stop)
        self.stripe = PersistentStripe(self.directory)
        self.stripe.start()
        self._exit.callback(self.stripe.stop)
        self.smtp = SmtpServer()
        self.smtp.start()
        self._exit.callback(self.smtp.close)
        self._prepare_database()
        for user in [self.roster.admin, *self.roster.staff]:
            self.slack.add_user(SlackUser(user, user.lower(), team_id=TEAM))
        env = worker_env(self.environment())
        for n in range(1, self.worker_count + 1):
            worker = Worker(f"worker{n}", env, self.directory)
            self._exit.callback(worker.stop)
            worker.start()
            self.workers.append(worker)

    def environment(self) -> dict[str, str]:
        """The settings every worker runs with, as environment variables."""
        return {
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "SLACK_SIGNING_SECRET": self.signing_secret,
            "SLACK_API_URL": self.slack.base_url,
            "DATABASE_URL": self.database_url,
            "ADMIN_SLACK_USER_IDS": self.roster.admin,
            "STRIPE_API_KEY": API_KEY,
            "STRIPE_API_BASE": self.stripe.url,
            "SMTP_URL": self.smtp.url,
            # The stand-in answers at once; a short timeout keeps a killed worker's mail lease
            # (30 timeouts) inside the soak's drain.
            "SMTP_TIMEOUT_SECONDS": "1",
            "MAIL_FROM": MAIL_FROM,
            "PORTAL_URL": "https://portal.example.test/login",
            "LOG_LEVEL": "INFO",
        }

    def database(self) -> Database:
        """A connection of the soak's own to the workers' database (the caller disposes it)."""
        return Database(
            Settings(_env_file=None, database_url=self.database_url, mail_from=MAIL_FROM)
        )

    def _prepare_database(self) -> None:
        """Migrate once (workers then start on a current schema), add staff and the catalog."""
        db = self.database()
        try:
            db.upgrade()
            admin = Actor(TEAM, self.roster.admin, Role.ADMIN)
            with db.unit_of_work() as uow:
                for user in self.roster.staff:
                    add_staff(uow, admin, user)
                yoga = Event(
                    team_id=TEAM,
                    key="yoga",
                    name="Morning Yoga",
                    timezone="Europe/London",
                    price_minor=1200,
                    credit_price=1,
                    capacity=100_000,
                )
                uow.session.add(yoga)
                uow.session.add(
                    PassType(
                        team_id=TEAM,
                        key="ten",
                        name="10-class pass",
                        credits=10,
                        validity_days=365,
                        price_minor=9000,
                    )
                )
                uow.session.flush()
                first = datetime.now(UTC).replace(hour=7, minute=0, second=0, microsecond=0)
                for day in range(1, SESSIONS + 1):
                    uow.session.add(
                        EventOccurrence(
                            team_id=TEAM,
                            event_id=yoga.id,
                            starts_at=first + timedelta(days=day),
                            duration_minutes=60,
                            timezone=yoga.timezone,
                            capacity=yoga.capacity,
                            price_minor=yoga.price_minor,
                        )
                    )
        finally:
            db.dispose()
