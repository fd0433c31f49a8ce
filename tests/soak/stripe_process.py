"""The Stripe stand-in as a process that keeps its port and its data across a stop and start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.stripe_server import HOST, StripeStandIn, free_port

# localstripe keeps its objects in a pickle under /tmp shared by every user of the machine;
# this one keeps them in the soak's own directory, so a restart finds every payment again
# (as Stripe does after an outage) and nothing leaks between runs.
_SERVE = """
import pickle, sys
from aiohttp import web
from localstripe import resources
from localstripe.server import app
path = sys.argv[3]

def dump(self):
    with open(path, "wb") as f:
        pickle.dump(dict(self), f, protocol=pickle.HIGHEST_PROTOCOL)

def load(self):
    try:
        with open(path, "rb") as f:
            self.clear()
            self.update(pickle.load(f))
    except FileNotFoundError:
        pass

resources.Store.dump_to_disk = dump
resources.Store.try_load_from_disk = load
resources.store.try_load_from_disk()
web.run_app(app, host=sys.argv[1], port=int(sys.argv[2]), print=None, access_log=None)
"""


class PersistentStripe(StripeStandIn):
    """localstripe on one fixed loopback port, its store in `directory`; restartable."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory / "localstripe.log")
        self.store_path = directory / "localstripe.pickle"
        self.port = free_port()

    def start(self) -> None:
        """Launch on the stand-in's port (the same one after a stop) and wait until it answers."""
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
                [sys.executable, "-c", _SERVE, HOST, str(self.port), str(self.store_path)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        if not self._wait_until_ready():
            self.stop()
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"localstripe did not start on port {self.port}:\n{tail}")
