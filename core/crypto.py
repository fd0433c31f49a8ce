"""Secrets kept in the database (bot tokens), encrypted with keys from TOKEN_ENCRYPTION_KEY."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_VARIABLE = "TOKEN_ENCRYPTION_KEY"
MAKE_A_KEY = (
    'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


class UnreadableSecret(Exception):
    """A stored value none of the configured keys decrypts (a key was dropped, or it is plain)."""


def split_keys(value: str) -> list[str]:
    """The comma-separated keys of `value`; ValueError naming the bad entry's position, never it."""
    keys = [part.strip() for part in value.split(",") if part.strip()]
    if not keys:
        raise ValueError(f"no key given; make one with: {MAKE_A_KEY}")
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ValueError(
                f"key {number} of {len(keys)} is not a Fernet key (32 url-safe base64-encoded "
                f"bytes); make one with: {MAKE_A_KEY}"
            ) from None
    return keys


class TokenCipher:
    """Encrypts with the first key; decrypts with any, so a new key can be put first (rotation)."""

    def __init__(self, keys: Sequence[str]) -> None:
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, text: str) -> str:
        """`text` encrypted and authenticated, as url-safe ASCII."""
        return self._fernet.encrypt(text.encode()).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """What `encrypt` was given; UnreadableSecret when no key fits."""
        try:
            return self._fernet.decrypt(stored.encode("ascii")).decode()
        except (InvalidToken, UnicodeEncodeError):
            raise UnreadableSecret(f"no key in {KEY_VARIABLE} decrypts this value") from None
