"""API-key digests: the same HMAC-SHA256 as the keys already stored, call after call."""

from __future__ import annotations

import hashlib
import hmac

from masthead.security import Secrets


def test_digest_is_the_stored_hmac_and_does_not_drift() -> None:
    secrets = Secrets(["new-secret", "old-secret"])
    pepper = hmac.new(b"new-secret", b"masthead/api-key", hashlib.sha256).digest()
    for key in ("blt_first", "blt_second", "blt_first"):
        expected = hmac.new(pepper, key.encode(), hashlib.sha256).hexdigest()
        assert secrets.digest(key) == expected
        assert secrets.matches(key, expected)
    issued = secrets.new_api_key()
    assert secrets.digest(issued.key) == issued.digest
    assert Secrets(["old-secret"]).digest("blt_first") != secrets.digest("blt_first")
    assert secrets.matches("blt_first", Secrets(["old-secret"]).digest("blt_first"))
