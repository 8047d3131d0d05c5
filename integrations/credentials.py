"""Per-store vendor tokens encrypted at rest with Fernet, with key rotation (MultiFernet).

The first key encrypts; every key decrypts, so a new key can be put first and old tokens
re-encrypted with `rotate` at leisure. A token is never logged and never put in an exception.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class CredentialError(Exception):
    """A stored credential cannot be read or the keys are unusable; says which setting to fix."""


class CredentialStore:
    """Encrypts and decrypts vendor tokens. Keep the ciphertext anywhere; keep the keys secret."""

    SETTING = "CREDENTIAL_KEYS"

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise CredentialError(f"No encryption key configured: set {self.SETTING} (see .env.example).")
        try:
            self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        except (ValueError, TypeError) as exc:
            raise CredentialError(
                f"{self.SETTING} holds a malformed key: each must be 32 url-safe base64-encoded bytes "
                "(generate one with `support-agent keygen`)."
            ) from exc

    @classmethod
    def from_setting(cls, value: str) -> CredentialStore:
        return cls([part for part in value.split(",") if part.strip()])

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise CredentialError(
                f"A stored credential cannot be decrypted with the configured keys: was {self.SETTING} "
                "changed without keeping the old key? Put the new key first and keep the old ones after it."
            ) from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt with the first (newest) key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken:
            raise CredentialError(
                f"Cannot rotate: no key in {self.SETTING} decrypts this credential."
            ) from None
