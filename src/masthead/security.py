"""Secrets at rest: API keys as HMAC digests, tokens and passwords encrypted with MultiFernet.

API keys carry 256 random bits, so a keyed hash is enough and costs microseconds per request;
argon2 would cost 100+ ms per request for no gain (measured in shared/spec/stack-notes.md §7).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_PREFIX = "blt_"
LOOKUP_PREFIX_LENGTH = 12
"""`blt_` plus 8 characters: indexed for lookup, shown in listings, used to revoke."""


@dataclass(frozen=True, slots=True)
class NewApiKey:
    key: str
    prefix: str
    digest: str


def new_signing_secret() -> str:
    """A webhook signing secret (`whsec_` + 256 random bits), used whole as the HMAC key."""
    return "whsec_" + secrets.token_urlsafe(32)


def _derive(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


class Secrets:
    """Keyed operations derived from `MASTHEAD_SECRET_KEY` (newest key first, older ones kept
    so that rotation never locks anyone out)."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one secret key is required")
        self._peppers = [_derive(k, "masthead/api-key") for k in keys]
        self._url_keys = [_derive(k, "masthead/signed-url") for k in keys]
        self._fernet = MultiFernet(
            [Fernet(base64.urlsafe_b64encode(_derive(k, "masthead/fernet"))) for k in keys]
        )

    def new_api_key(self) -> NewApiKey:
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        return NewApiKey(key=key, prefix=key[:LOOKUP_PREFIX_LENGTH], digest=self.digest(key))

    def digest(self, key: str) -> str:
        return hmac.new(self._peppers[0], key.encode(), hashlib.sha256).hexdigest()

    def matches(self, key: str, stored_digest: str) -> bool:
        """Constant-time check against every key generation (rotation-tolerant)."""
        found = False
        for pepper in self._peppers:
            candidate = hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()
            found |= hmac.compare_digest(candidate, stored_digest)
        return found

    def sign_url(self, message: str) -> str:
        """A signature for a URL this server hands out (presigned uploads)."""
        mac = hmac.new(self._url_keys[0], message.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def verify_url(self, message: str, signature: str) -> bool:
        found = False
        for key in self._url_keys:
            mac = hmac.new(key, message.encode(), hashlib.sha256).digest()
            candidate = base64.urlsafe_b64encode(mac).decode().rstrip("=")
            found |= hmac.compare_digest(candidate, signature)
        return found

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("stored secret cannot be decrypted with the configured keys") from exc


def lookup_prefix(key: str) -> str:
    return key[:LOOKUP_PREFIX_LENGTH]


def hash_password(password: str) -> str:
    """argon2id for human passwords (low entropy, so a slow hash earns its cost here)."""
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)
