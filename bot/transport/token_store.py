"""slack_sdk's SQLAlchemy stores, with bot tokens encrypted at rest and expired states purged."""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime
from typing import TypeVar

from slack_sdk.oauth.installation_store import Bot, Installation, InstallationStore
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from core.crypto import TokenCipher, UnreadableSecret

log = logging.getLogger(__name__)

# Every token field an Installation or a Bot carries; absent ones are skipped.
TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")

Stored = TypeVar("Stored", Installation, Bot)


class EncryptedInstallationStore(InstallationStore):
    """slack_sdk's own store and tables; tokens are encrypted on save and decrypted on find."""

    def __init__(self, store: SQLAlchemyInstallationStore, cipher: TokenCipher) -> None:
        self.store = store
        self.cipher = cipher

    @property
    def logger(self) -> logging.Logger:
        """The wrapped store's logger."""
        return self.store.logger

    def save(self, installation: Installation) -> None:
        """Store an install; the wrapped store saves its bot row from the encrypted copy too."""
        self.store.save(self._sealed(installation))

    def save_bot(self, bot: Bot) -> None:
        """Store a bot row (a refreshed token) encrypted."""
        self.store.save_bot(self._sealed(bot))

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """The newest bot row of a workspace, its tokens readable."""
        found = self.store.find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return self._opened(found, team_id)

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The newest installation of a workspace (or of a user in it), its tokens readable."""
        found = self.store.find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return self._opened(found, team_id)

    def delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget a workspace's bot rows (an uninstall)."""
        self.store.delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    def delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Forget a workspace's installation rows, or one user's."""
        self.store.delete_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id
        )

    def _sealed(self, entity: Stored) -> Stored:
        sealed = copy.copy(entity)
        for name in TOKEN_FIELDS:
            value = getattr(sealed, name, None)
            if value:
                setattr(sealed, name, self.cipher.encrypt(value))
        return sealed

    def _opened(self, entity: Stored | None, team_id: str | None) -> Stored | None:
        if entity is None:
            return None
        try:
            for name in TOKEN_FIELDS:
                value = getattr(entity, name, None)
                if value:
                    setattr(entity, name, self.cipher.decrypt(value))
        except UnreadableSecret:
            # As if not installed: Bolt answers without running a listener, and nobody is served
            # with a token the configured keys cannot vouch for.
            log.error("no key in TOKEN_ENCRYPTION_KEY decrypts the stored token of %s", team_id)
            return None
        return entity


class PurgingOAuthStateStore(SQLAlchemyOAuthStateStore):
    """slack_sdk's state store; issuing a state first deletes the expired ones (indexed)."""

    def issue(self, *args: object, **kwargs: object) -> str:
        """A new state, after purging states past their expiry that were never used."""
        # slack_sdk stores naive UTC timestamps.
        now = datetime.now(UTC).replace(tzinfo=None)
        with self.engine.begin() as conn:
            conn.execute(self.oauth_states.delete().where(self.oauth_states.c.expire_at <= now))
        return super().issue(*args, **kwargs)
