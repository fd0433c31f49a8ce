"""Slack's v0 request signature, computed exactly as Slack does for requests it sends to apps."""

from __future__ import annotations

import hashlib
import hmac


def signature(signing_secret: str, timestamp: int, body: bytes) -> str:
    """`v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}` keyed with the signing secret."""
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(signing_secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The two headers Slack adds to every request it sends."""
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature(signing_secret, timestamp, body),
    }
