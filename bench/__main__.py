"""Run every benchmark module in this package: `python -m bench` (what `make bench` calls)."""

from __future__ import annotations

import importlib
import pkgutil

import bench


def main() -> None:
    """Import each non-private module of the package and call its `main([])`."""
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if not m.name.startswith("_")
    )
    for name in names:
        importlib.import_module(f"bench.{name}").main([])


if __name__ == "__main__":
    main()
