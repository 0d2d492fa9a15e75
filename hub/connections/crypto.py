"""The vault's encryption: Fernet under rotatable keys from ``FIELD_ENCRYPTION_KEYS``.

The first key encrypts; every key decrypts. To rotate, put a new key first, keep the old
ones after it, and run ``manage.py rotate_keys``; then drop the old keys.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class VaultError(Exception):
    """A stored secret cannot be read with the configured keys."""


@lru_cache(maxsize=8)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise VaultError("FIELD_ENCRYPTION_KEYS is empty: the vault has no key to use.")
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plain: str) -> str:
    return fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # Deliberately says nothing about the value: only which setting to look at.
        raise VaultError(
            "A stored secret could not be decrypted with FIELD_ENCRYPTION_KEYS. "
            "Was a key removed before `manage.py rotate_keys` ran?"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt one stored value under the first key."""
    try:
        return fernet().rotate(token.encode()).decode()
    except InvalidToken:
        raise VaultError("A stored secret could not be decrypted for rotation.") from None


def generate_key() -> str:
    return Fernet.generate_key().decode()
