"""Signed chart image links: round trip, and every kind of tampering, expiry and garbage refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.chart_links import (
    DEFAULT_LIFETIME,
    EXPIRY_STEP,
    ChartGrant,
    ExpiredChartLink,
    InvalidChartLink,
    chart_image_url,
    chart_key,
    chart_token,
    link_expiry,
    sign_chart_url,
    verify_chart_token,
)
from tests.conftest import make_settings

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
KEY = chart_key(SIGNING_SECRET)
NOW = int(datetime(2026, 3, 14, 9, 30, tzinfo=UTC).timestamp())
EXPIRES = NOW + DEFAULT_LIFETIME
TOKEN = chart_token(secret=KEY, team_id="T0001", customer_uid="0123ABCDEFGH", expires_at=EXPIRES)
URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")


def verify(token: str, *, now: float = NOW, secret: bytes = KEY) -> ChartGrant:
    return verify_chart_token(token, secret=secret, now=now)


def test_a_signed_url_round_trips() -> None:
    url = sign_chart_url(
        "https://crm.example.com/",
        secret=KEY,
        team_id="T0001",
        customer_uid="0123ABCDEFGH",
        expires_at=EXPIRES,
    )
    assert url.startswith("https://crm.example.com/charts/c1.")
    assert url.endswith(".png")
    token = url.removeprefix("https://crm.example.com/charts/").removesuffix(".png")
    assert URL_SAFE.fullmatch(token)
    assert verify(token) == ChartGrant("T0001", "0123ABCDEFGH", EXPIRES)


def test_a_base_url_with_a_path_keeps_it() -> None:
    url = sign_chart_url(
        "https://example.com/crm", secret=KEY, team_id="T1", customer_uid="U1", expires_at=EXPIRES
    )
    assert url.startswith("https://example.com/crm/charts/")


def parts(token: str) -> list[str]:
    return token.split(".")


@pytest.mark.parametrize(
    ("index", "value"),
    [
        (1, "T0002"),  # another tenant
        (2, "0123ABCDEFGJ"),  # another customer
        (3, str(EXPIRES + 3600)),  # a longer life
        (3, str(EXPIRES - 1)),
    ],
)
def test_changing_team_customer_or_expiry_breaks_the_signature(index: int, value: str) -> None:
    fields = parts(TOKEN)
    fields[index] = value
    with pytest.raises(InvalidChartLink) as caught:
        verify(".".join(fields))
    assert caught.value.reason == "bad signature"
    assert not isinstance(caught.value, ExpiredChartLink)


def test_a_changed_signature_is_refused() -> None:
    fields = parts(TOKEN)
    fields[4] = ("A" if fields[4][0] != "A" else "B") + fields[4][1:]
    with pytest.raises(InvalidChartLink, match="bad signature"):
        verify(".".join(fields))


def test_a_key_from_another_signing_secret_is_refused() -> None:
    with pytest.raises(InvalidChartLink, match="bad signature"):
        verify(TOKEN, secret=chart_key("another-signing-secret"))


def test_an_expired_link_is_refused_as_expired() -> None:
    assert verify(TOKEN, now=EXPIRES - 1).expires_at == EXPIRES
    for late in (EXPIRES, EXPIRES + 0.5, EXPIRES + 86_400):
        with pytest.raises(ExpiredChartLink, match="expired"):
            verify(TOKEN, now=late)


def test_a_tampered_expired_link_says_tampered_not_expired() -> None:
    fields = parts(TOKEN)
    fields[2] = "0123ABCDEFGJ"
    with pytest.raises(InvalidChartLink) as caught:
        verify(".".join(fields), now=EXPIRES + 10)
    assert caught.value.reason == "bad signature"


@pytest.mark.parametrize(
    "token",
    [
        "",
        "c1",
        "garbage",
        TOKEN + ".png",
        TOKEN + "=",
        TOKEN[:-1],
        TOKEN + "A",
        TOKEN.replace("c1.", "c2.", 1),
        TOKEN.replace(f".{EXPIRES}.", f".0{EXPIRES}."),
        TOKEN.replace(f".{EXPIRES}.", f".{EXPIRES}0000000000."),
        TOKEN.replace(f".{EXPIRES}.", ".-5."),
        TOKEN.replace("T0001", "T00é1"),
        TOKEN.replace("T0001", "T0001/../"),
        TOKEN.replace("T0001", ""),
        TOKEN + "\n",
        " " + TOKEN,
        "c1.T0001.0123ABCDEFGH.1.",
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidChartLink, match="malformed"):
        verify(token)


ALPHABET = st.sampled_from(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=/%~ é"
)


@given(position=st.integers(min_value=0), replacement=ALPHABET)
def test_any_changed_character_is_refused(position: int, replacement: str) -> None:
    position %= len(TOKEN)
    tampered = TOKEN[:position] + replacement + TOKEN[position + 1 :]
    if tampered != TOKEN:
        with pytest.raises(InvalidChartLink):
            verify(tampered)


@given(position=st.integers(min_value=0), inserted=st.text(ALPHABET, min_size=1, max_size=3))
def test_any_inserted_text_is_refused(position: int, inserted: str) -> None:
    position %= len(TOKEN) + 1
    with pytest.raises(InvalidChartLink):
        verify(TOKEN[:position] + inserted + TOKEN[position:])


@given(start=st.integers(min_value=0), length=st.integers(min_value=1, max_value=8))
def test_any_removed_text_is_refused(start: int, length: int) -> None:
    start %= len(TOKEN)
    with pytest.raises(InvalidChartLink):
        verify(TOKEN[:start] + TOKEN[start + length :])


@given(text=st.text(max_size=120))
def test_arbitrary_text_never_verifies_or_crashes(text: str) -> None:
    with pytest.raises(InvalidChartLink):
        verify(text)


def test_ids_that_cannot_be_signed_safely_are_refused() -> None:
    for team, uid in [("T0001", "a.b"), ("T 1", "X"), ("", "X"), ("T1", "é"), ("T1", "x" * 65)]:
        with pytest.raises(ValueError, match="ASCII letters or digits"):
            chart_token(secret=KEY, team_id=team, customer_uid=uid, expires_at=EXPIRES)
    with pytest.raises(ValueError, match="Unix time"):
        chart_token(secret=KEY, team_id="T1", customer_uid="X", expires_at=-1)


def test_the_key_is_derived_and_never_the_signing_secret() -> None:
    assert chart_key(SIGNING_SECRET) == chart_key(SIGNING_SECRET.encode())
    assert chart_key(SIGNING_SECRET) != chart_key(SIGNING_SECRET + "x")
    assert len(KEY) == 32
    assert SIGNING_SECRET.encode() not in KEY
    assert SIGNING_SECRET not in TOKEN
    with pytest.raises(ValueError, match="non-empty"):
        chart_key("")


def test_expiry_is_at_least_the_lifetime_and_stable_within_a_step() -> None:
    start = datetime(2026, 3, 14, 9, 30, 7, tzinfo=UTC)
    expiry = link_expiry(start)
    assert expiry % EXPIRY_STEP == 0
    assert DEFAULT_LIFETIME <= expiry - start.timestamp() < DEFAULT_LIFETIME + EXPIRY_STEP
    assert link_expiry(start + timedelta(seconds=60)) == expiry
    assert link_expiry(start + timedelta(seconds=EXPIRY_STEP)) > expiry


def test_chart_image_url_needs_a_public_base_url_and_a_signing_secret() -> None:
    now = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)

    def url_for(**settings: str) -> str | None:
        configured = make_settings("sqlite://", **settings)
        return chart_image_url(configured, team_id="T0001", customer_uid="0123ABCDEFGH", now=now)

    assert url_for() is None
    assert url_for(public_base_url="https://crm.example.com") is None
    assert url_for(slack_signing_secret=SIGNING_SECRET) is None
    socket_mode = url_for(
        public_base_url="https://crm.example.com",
        slack_signing_secret=SIGNING_SECRET,
        slack_bot_token="xoxb-1",
        slack_app_token="xapp-1",
    )
    assert socket_mode is None
    url = url_for(public_base_url="https://crm.example.com", slack_signing_secret=SIGNING_SECRET)
    assert url is not None
    token = url.removeprefix("https://crm.example.com/charts/").removesuffix(".png")
    grant = verify(token, now=now.timestamp())
    assert (grant.team_id, grant.customer_uid) == ("T0001", "0123ABCDEFGH")
    assert grant.expires_at == link_expiry(now)
