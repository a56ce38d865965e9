"""OAuth connects in progress, on SQLite and PostgreSQL: each state is taken back once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from masthead.store import oauth_states
from tests.store.conftest import Seeded

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


async def _add(seeded: Seeded, state_hash: str, *, expires_at: datetime) -> None:
    await seeded.db.write(
        lambda c: oauth_states.add(
            c,
            state_hash=state_hash,
            user_id=seeded.caller.user_id,
            platform="twitter",
            code_verifier="sealed",
            redirect_uri="https://masthead.example/oauth/twitter/callback",
            now=NOW,
            expires_at=expires_at,
        )
    )


async def test_a_state_is_taken_once_even_by_two_callbacks_at_once(seeded: Seeded) -> None:
    await _add(seeded, "a" * 64, expires_at=NOW + timedelta(minutes=10))

    first, second = await asyncio.gather(
        seeded.db.write(lambda c: oauth_states.take(c, "a" * 64, "twitter")),
        seeded.db.write(lambda c: oauth_states.take(c, "a" * 64, "twitter")),
    )

    taken = [t for t in (first, second) if t is not None]
    assert len(taken) == 1
    assert taken[0].user_id == seeded.caller.user_id
    assert taken[0].expires_at == NOW + timedelta(minutes=10)


async def test_a_state_is_not_taken_for_another_platform(seeded: Seeded) -> None:
    await _add(seeded, "b" * 64, expires_at=NOW + timedelta(minutes=10))
    assert await seeded.db.write(lambda c: oauth_states.take(c, "b" * 64, "linkedin")) is None
    assert await seeded.db.write(lambda c: oauth_states.take(c, "b" * 64, "twitter")) is not None


async def test_adding_a_state_drops_the_expired_ones(seeded: Seeded) -> None:
    await _add(seeded, "c" * 64, expires_at=NOW - timedelta(seconds=1))
    await _add(seeded, "d" * 64, expires_at=NOW + timedelta(minutes=10))
    assert await seeded.db.write(lambda c: oauth_states.take(c, "c" * 64, "twitter")) is None
