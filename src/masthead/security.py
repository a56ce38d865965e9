"""Secrets at rest: API keys as HMAC digests, tokens and passwords encrypted with MultiFernet.

API keys carry 256 random bits, so a keyed hash is enough and costs microseconds per request;
argon2 would cost 100+ ms per request for no gain (measured in shared/spec/stack-notes.md §7).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
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
        # Keyed once: `digest` runs on every request, and copying a keyed HMAC skips the
        # two key blocks that `hmac.new` hashes each time (4.7 -> 3.6 µs).
        self._key_mac = hmac.new(self._peppers[0], digestmod=hashlib.sha256)
        self._url_keys = [_derive(k, "masthead/signed-url") for k in keys]
        self._device_keys = [_derive(k, "masthead/known-device") for k in keys]
        self._fernet = MultiFernet(
            [Fernet(base64.urlsafe_b64encode(_derive(k, "masthead/fernet"))) for k in keys]
        )

    def new_api_key(self) -> NewApiKey:
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        return NewApiKey(key=key, prefix=key[:LOOKUP_PREFIX_LENGTH], digest=self.digest(key))

    def digest(self, key: str) -> str:
        mac = self._key_mac.copy()
        mac.update(key.encode())
        return mac.hexdigest()

    def matches(self, key: str, stored_digest: str) -> bool:
        """Constant-time check against every key generation (rotation-tolerant)."""
        found = False
        for pepper in self._peppers:
            candidate = hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()
            found |= hmac.compare_digest(candidate, stored_digest)
        return found

    def sign_url(self, message: str) -> str:
        """A signature for a URL this server hands out (presigned uploads)."""
        return _mac(self._url_keys[0], message)

    def verify_url(self, message: str, signature: str) -> bool:
        return _verify_mac(self._url_keys, message, signature)

    def sign_device(self, message: str) -> str:
        """A signature for a browser's known-device cookie (services/web_auth.py)."""
        return _mac(self._device_keys[0], message)

    def verify_device(self, message: str, signature: str) -> bool:
        return _verify_mac(self._device_keys, message, signature)

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("stored secret cannot be decrypted with the configured keys") from exc


def _mac(key: bytes, message: str) -> str:
    mac = hmac.new(key, message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def _verify_mac(keys: list[bytes], message: str, signature: str) -> bool:
    """Constant-time against every key generation; a signature that is not ASCII (no
    signature of ours is) is simply wrong, never an error."""
    if not signature.isascii():
        return False
    found = False
    for key in keys:
        found |= hmac.compare_digest(_mac(key, message), signature)
    return found


def lookup_prefix(key: str) -> str:
    return key[:LOOKUP_PREFIX_LENGTH]


_HASHER = PasswordHasher()
DUMMY_PASSWORD_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$XaffPo2+SIOL3DKEMNFZmg"
    "$eI+BoyViD14UXped6cBbrdgEID2dWLWjtATdiReHxsU"
)
"""A hash of a random, forgotten password with the hasher's parameters: checked when there
is no user (or no password), so a refusal costs the same time whether the email exists."""

PASSWORD_THREADS = 2
"""argon2 runs here, never on the event loop. Each check takes ~64 MiB and some 100s of ms
on 4 lanes, so a burst of sign-ins waits its turn instead of taking every core and memory."""
_password_pool = ThreadPoolExecutor(PASSWORD_THREADS, thread_name_prefix="masthead-argon2")


def hash_password(password: str) -> str:
    """argon2id for human passwords (low entropy, so a slow hash earns its cost here)."""
    return _HASHER.hash(password)


def password_matches(stored: str | None, password: str) -> bool:
    """True only for a stored hash that `password` matches; without one, the dummy hash is
    checked all the same (and the answer is False)."""
    try:
        return _HASHER.verify(stored or DUMMY_PASSWORD_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def check_password(stored: str | None, password: str) -> bool:
    """`password_matches` in the bounded password pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_password_pool, password_matches, stored, password)


async def new_password_hash(password: str) -> str:
    """`hash_password` in the bounded password pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_password_pool, hash_password, password)
