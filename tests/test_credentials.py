"""Per-store tokens encrypted at rest, with key rotation."""

from __future__ import annotations

import pytest

from integrations.credentials import CredentialError, CredentialStore


def test_round_trip_does_not_store_plaintext() -> None:
    store = CredentialStore([CredentialStore.generate_key()])
    ciphertext = store.encrypt("shpat_live_token_123")
    assert "shpat_live_token_123" not in ciphertext
    assert store.decrypt(ciphertext) == "shpat_live_token_123"


def test_rotation_keeps_old_tokens_readable_and_reencrypts_with_the_new_key() -> None:
    old_key, new_key = CredentialStore.generate_key(), CredentialStore.generate_key()
    old_ciphertext = CredentialStore([old_key]).encrypt("sk_test_abc")
    rotated_store = CredentialStore.from_setting(f"{new_key},{old_key}")
    assert rotated_store.decrypt(old_ciphertext) == "sk_test_abc"
    rotated = rotated_store.rotate(old_ciphertext)
    assert CredentialStore([new_key]).decrypt(rotated) == "sk_test_abc"
    with pytest.raises(CredentialError):
        CredentialStore([old_key]).decrypt(rotated)


def test_wrong_key_gives_a_clear_error_without_the_token() -> None:
    ciphertext = CredentialStore([CredentialStore.generate_key()]).encrypt("SG.secret-value")
    with pytest.raises(CredentialError) as info:
        CredentialStore([CredentialStore.generate_key()]).decrypt(ciphertext)
    assert "CREDENTIAL_KEYS" in str(info.value)
    assert "SG.secret-value" not in str(info.value)


@pytest.mark.parametrize("keys", [[], ["not-a-fernet-key"]])
def test_missing_or_malformed_keys_name_the_setting(keys: list[str]) -> None:
    with pytest.raises(CredentialError, match="CREDENTIAL_KEYS"):
        CredentialStore(keys)
