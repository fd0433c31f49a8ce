"""The soak, compressed: ~40 s of traffic through two workers, each kind of fault injected once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.soak.faults import KINDS
from tests.soak.stack import why_not

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.xdist_group("soak")
def test_a_short_soak_keeps_every_invariant(tmp_path: Path) -> None:
    reason = why_not()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the soak must run in CI: {reason}")
        pytest.skip(f"soak skipped: {reason}")
    # A fault every 6 s: the five kinds all happen within the 39 s the staff work.
    command = [sys.executable, "-m", "tests.soak", "--minutes", "0.65", "--fault-every", "6"]
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [*command, "--results", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    (written,) = tmp_path.glob("soak-*.json")
    summary = json.loads(written.read_text())
    failed = [c for c in summary["invariants"] if not c["passed"]]
    assert result.returncode == 0 and not failed, result.stdout[-4000:] + result.stderr[-2000:]
    assert [f["kind"] for f in summary["faults"]] == list(KINDS)
    assert summary["worker_starts"] == {"worker1": 2, "worker2": 1}
    done = summary["tally"]["interactions"]
    # Every kind of work happened at least once, and the changes were checked against it.
    assert {"create customer", "book event", "add note", "assign pass", "search"} <= set(done)
    assert summary["ledger"]["confirmed"]["customers"] >= 5
    assert summary["ledger"]["confirmed"]["bookings"] >= 1
