"""Short-lived signed chart image URLs: the signature binds tenant, customer and expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime

from core.config import RunMode, Settings

DEFAULT_LIFETIME = 600
# Expiries are rounded up to this step so re-rendering a view within it yields the same URL,
# letting Slack reuse the image it already fetched instead of asking for a fresh render.
EXPIRY_STEP = 300
CHARTS_PATH = "/charts/"
SUFFIX = ".png"
_VERSION = "c1"
_KEY_LABEL = b"customer-records/chart-links/v1"
_ID = re.compile(r"[A-Za-z0-9]{1,64}")
_MAC_LENGTH = 43  # base64url of 32 bytes, unpadded
_TOKEN = re.compile(
    rf"{_VERSION}\.(?P<team>{_ID.pattern})\.(?P<uid>{_ID.pattern})\.(?P<exp>0|[1-9][0-9]{{0,11}})"
    rf"\.(?P<mac>[A-Za-z0-9_-]{{{_MAC_LENGTH}}})"
)


class InvalidChartLink(Exception):
    """The link was altered, is not a chart link at all, or has expired; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ExpiredChartLink(InvalidChartLink):
    """The link was genuine but its lifetime is over."""


@dataclass(frozen=True)
class ChartGrant:
    """What a valid link allows: one customer's chart in one workspace, until `expires_at`."""

    team_id: str
    customer_uid: str
    expires_at: int


def chart_key(signing_secret: str | bytes) -> bytes:
    """The chart-link key derived from the Slack signing secret (HMAC with a fixed label)."""
    raw = signing_secret.encode() if isinstance(signing_secret, str) else signing_secret
    if not raw:
        raise ValueError("a chart link key needs a non-empty signing secret")
    # A purpose-bound key: a chart MAC can never pass for a Slack request signature, and the
    # signing secret itself signs nothing but Slack's requests.
    return hmac.new(raw, _KEY_LABEL, hashlib.sha256).digest()


def _mac(secret: bytes, team_id: str, customer_uid: str, expires_at: int) -> str:
    message = f"{_VERSION}\n{team_id}\n{customer_uid}\n{expires_at}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def chart_token(*, secret: bytes, team_id: str, customer_uid: str, expires_at: int) -> str:
    """The URL-safe token for one customer's chart (the path segment before `.png`)."""
    for name, value in (("team_id", team_id), ("customer_uid", customer_uid)):
        if not _ID.fullmatch(value):
            raise ValueError(f"{name} must be 1–64 ASCII letters or digits, not {value!r}")
    if not 0 <= expires_at < 10**12:
        raise ValueError(f"expires_at must be a Unix time in seconds, not {expires_at!r}")
    mac = _mac(secret, team_id, customer_uid, expires_at)
    return f"{_VERSION}.{team_id}.{customer_uid}.{expires_at}.{mac}"


def sign_chart_url(
    base_url: str, *, secret: bytes, team_id: str, customer_uid: str, expires_at: int
) -> str:
    """The public URL of one customer's chart image, valid until `expires_at` (Unix seconds)."""
    token = chart_token(
        secret=secret, team_id=team_id, customer_uid=customer_uid, expires_at=expires_at
    )
    return f"{base_url.rstrip('/')}{CHARTS_PATH}{token}{SUFFIX}"


def verify_chart_token(token: str, *, secret: bytes, now: float) -> ChartGrant:
    """What `token` grants; raises InvalidChartLink if malformed or tampered, ExpiredChartLink if old."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise InvalidChartLink("malformed")
    team_id, customer_uid = match["team"], match["uid"]
    expires_at = int(match["exp"])
    expected = _mac(secret, team_id, customer_uid, expires_at)
    # Compare the text, not decoded bytes: base64 leaves spare bits in the last character, and
    # only the one canonical spelling of the signature may pass. ASCII is guaranteed by _TOKEN.
    if not hmac.compare_digest(match["mac"], expected):
        raise InvalidChartLink("bad signature")
    if now >= expires_at:
        raise ExpiredChartLink("expired")
    return ChartGrant(team_id, customer_uid, expires_at)


def link_expiry(now: datetime, lifetime: int = DEFAULT_LIFETIME) -> int:
    """An expiry at least `lifetime` seconds after `now`, rounded up to EXPIRY_STEP."""
    earliest = int(now.timestamp()) + lifetime
    return -(-earliest // EXPIRY_STEP) * EXPIRY_STEP


def chart_image_url(
    settings: Settings, *, team_id: str, customer_uid: str, now: datetime
) -> str | None:
    """A signed chart URL under PUBLIC_BASE_URL, or None when the app serves no public images."""
    signing = settings.slack_signing_secret
    secret = signing.get_secret_value() if signing else ""
    # Only `serve --http` answers GET /charts/…; Socket Mode has no listening server.
    if settings.run_mode is not RunMode.HTTP or not settings.public_base_url or not secret:
        return None
    return sign_chart_url(
        settings.public_base_url,
        secret=chart_key(secret),
        team_id=team_id,
        customer_uid=customer_uid,
        expires_at=link_expiry(now),
    )
