"""Secrets at rest: Fernet encryption for credentials (data-source passwords, tokens).

The key comes from ``settings.HEADWAY_SECRETS_KEYS`` (env ``HEADWAY_SECRETS_KEYS``): a
comma-separated list of Fernet keys, the first encrypts, all decrypt. Rotation: put a new
key first, keep the old one after it, run ``manage.py rotate_secrets`` (re-encrypts every
stored secret with the first key), then drop the old key. Without a configured key a
development key derived from ``SECRET_KEY`` is used (the production checks refuse that).

A ciphertext is never logged, never shown and never put in an audit entry or an API
response; pages show ``mask()`` instead.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretError(Exception):
    """A stored secret cannot be decrypted (the key was changed without rotation)."""


def _keys() -> list[bytes]:
    configured = [k.strip() for k in getattr(settings, "HEADWAY_SECRETS_KEYS", []) if k.strip()]
    if configured:
        return [k.encode() for k in configured]
    digest = hashlib.sha256(("headway-secrets:" + settings.SECRET_KEY).encode()).digest()
    return [base64.urlsafe_b64encode(digest)]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k) for k in _keys()])


def encrypt(plain: str) -> str:
    """The ciphertext of ``plain`` ('' stays '': no secret stored)."""
    if not plain:
        return ""
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretError("A stored secret cannot be read with the configured keys "
                          "(HEADWAY_SECRETS_KEYS changed without rotation?).")


def rotate(token: str) -> str:
    """The same secret encrypted with the first key."""
    return _fernet().rotate(token.encode()).decode() if token else ""


def mask(plain: str) -> str:
    """What a page may show of a secret: that there is one, never its text."""
    return "•••• (stored)" if plain else ""
