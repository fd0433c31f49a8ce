"""Customers' links, `{PUBLIC_BASE_URL}/c/{UID}`: made for the details view's *Copy link*, read
back from the links Slack asks the app to unfurl."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from core.services.customers import UID_ALPHABET, UID_LENGTH

LINK_PATH = "/c/"
_UID = re.compile(rf"[{UID_ALPHABET}]{{{UID_LENGTH}}}")


def customer_link(public_base_url: str | None, uid: str) -> str | None:
    """The customer's link, or None when PUBLIC_BASE_URL isn't set (nothing serves it)."""
    if not public_base_url:
        return None
    return public_base_url.rstrip("/") + LINK_PATH + uid


def uid_in_path(path: str) -> str | None:
    """The UID a `/c/{UID}` path names (None: not a customer link's path)."""
    if not path.startswith(LINK_PATH):
        return None
    uid = path.removeprefix(LINK_PATH).rstrip("/").upper()
    return uid if _UID.fullmatch(uid) else None


def uid_of_link(public_base_url: str | None, url: str) -> str | None:
    """The UID a link names when it is one of this deployment's customer links, else None."""
    if not public_base_url:
        return None
    try:
        base, link = urlsplit(public_base_url), urlsplit(url)
    except ValueError:
        return None
    if link.scheme not in {"http", "https"} or link.netloc.lower() != base.netloc.lower():
        return None
    prefix = base.path.rstrip("/")
    if not link.path.startswith(prefix + LINK_PATH):
        return None
    return uid_in_path(link.path.removeprefix(prefix))
