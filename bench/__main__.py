"""Run every benchmark in this package, then the report: `python -m bench [--quick]` (`make bench`)."""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import time
import traceback

import bench
from bench import report
from bench._support import QUICK_ENV, console

# Not a benchmark: it summarises the others' results, so it runs last.
REPORT = "report"


def main(argv: list[str] | None = None) -> int:
    """Call each non-private module's `main([])`, then write the Performance report.

    One benchmark failing does not stop the others; the exit status says whether any did.
    """
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help=f"smoke-run every benchmark (as {QUICK_ENV}=1 does)"
    )
    if parser.parse_args(argv).quick:
        # Through the environment, so benchmarks see it whatever their own arguments.
        os.environ[QUICK_ENV] = "1"
    names = sorted(
        m.name
        for m in pkgutil.iter_modules(bench.__path__)
        if not m.name.startswith("_") and m.name != REPORT
    )
    failed = []
    for name in names:
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").main([])
        except Exception:
            traceback.print_exc()
            failed.append(name)
        console.print(f"[dim]bench.{name}: {time.perf_counter() - started:.0f} s[/dim]")
    report.main([])
    if failed:
        console.print(f"[red]Failed: {', '.join(failed)}[/red]")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
