"""Secrets kept at rest, sealed (Fernet: AES with an HMAC) with a key derived from
CITADEL_SECRETS_KEY, so a copy of the database alone does not give away a mailbox password."""

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from citadel.core.errors import CitadelError


class SecretsUnreadable(CitadelError):
    pass


def _fernet() -> Fernet:
    digest = hashlib.sha256(b"citadel-secrets\0" + settings.CITADEL["SECRETS_KEY"].encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def secrets_seal(values: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(values, sort_keys=True).encode()).decode() if values else ""


def secrets_open(sealed: str) -> dict[str, str]:
    if not sealed:
        return {}
    try:
        return json.loads(_fernet().decrypt(sealed.encode()))
    except InvalidToken:
        raise SecretsUnreadable(
            "Its secrets were sealed with another CITADEL_SECRETS_KEY; restore that key to use them."
        ) from None
