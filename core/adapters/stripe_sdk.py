"""The stripe package, imported on first use: importing it loads an HTTP stack (and aiohttp,
when installed) that costs a server's start-up a tenth of a second most workspaces never need.

Import as `stripe` under `if not TYPE_CHECKING`, so type checkers still see the real package."""

from __future__ import annotations

import importlib
from typing import Any


def __getattr__(name: str) -> Any:
    # The import lock makes a first use from two threads at once import it once.
    package = importlib.import_module("stripe")
    try:
        return getattr(package, name)
    except AttributeError:
        # A submodule the package does not load itself (stripe.oauth_error).
        return importlib.import_module(f"stripe.{name}")
