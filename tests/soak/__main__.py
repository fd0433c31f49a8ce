"""`python -m tests.soak --minutes 30`: the soak (what `make soak` runs); exit 1 if an invariant fails."""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from types import FrameType

from rich.console import Console

from tests.soak.run import Options, run
from tests.soak.stack import why_not


def _parse(argv: list[str]) -> Options:
    parser = argparse.ArgumentParser(prog="python -m tests.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0, help="how long the staff work")
    parser.add_argument(
        "--fault-every",
        type=float,
        default=None,
        help="seconds between faults (default: about 15 per run, 30 s to 3 min apart)",
    )
    parser.add_argument("--staff", type=int, default=4, help="staff members besides the admin")
    parser.add_argument("--seed", type=int, default=2026, help="seed of what the staff do")
    parser.add_argument("--results", type=Path, default=None, help="directory for the JSON")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.staff < 1:
        parser.error("--minutes must be positive and --staff at least 1")
    every = args.fault_every or max(30.0, min(180.0, args.minutes * 60 / 15))
    return Options(args.minutes, every, args.staff, args.seed, args.results)


def _stop_on_sigterm() -> None:
    def stop(_signum: int, _frame: FrameType | None) -> None:
        # Unwinds like Ctrl-C, so every process and temp dir is cleaned up.
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def main(argv: list[str] | None = None) -> int:
    """Run the soak; 0 when every invariant held, 1 when one failed, 2 when it cannot run."""
    options = _parse(sys.argv[1:] if argv is None else argv)
    console = Console()
    reason = why_not()
    if reason:
        console.print(f"[yellow]The soak cannot run here: {reason}[/yellow]")
        return 2
    _stop_on_sigterm()
    try:
        ok = run(options, console)
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted; everything the soak started has been stopped.[/yellow]")
        return 130
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
