"""The LinkedIn fake served in-process through the kit's injectable transport: no port, no
thread, the same fake and the same contract checks as the tests over a real socket."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from masthead.platforms.linkedin import LinkedInPublisher
from masthead.platforms.oauth import credentials_from_token_response
from tests.fakes.linkedin import ACTIVE_VERSIONS, FakeLinkedIn


@pytest.fixture
async def in_process() -> AsyncIterator[tuple[FakeLinkedIn, LinkedInPublisher]]:
    fake = FakeLinkedIn()  # never started: no server listens on fake.url
    publisher = LinkedInPublisher(
        api_url=fake.url,
        version=max(ACTIVE_VERSIONS),
        app=None,
        token_url=fake.token_url,
        transport=httpx.ASGITransport(app=fake.app()),
    )
    yield fake, publisher
    await publisher.aclose()
    assert fake.invalid == [], "requests LinkedIn's documented contract refuses"


async def test_connect_reads_the_member_and_their_pages_in_process(
    in_process: tuple[FakeLinkedIn, LinkedInPublisher],
) -> None:
    fake, publisher = in_process
    member = fake.add_member("Ada Lovelace")
    page = fake.add_organization("Analytical Engines", {member.id: "ADMINISTRATOR"})

    connected = await publisher.connect(credentials_from_token_response(fake.issue_tokens(member)))

    assert (connected.external_id, connected.username) == (member.id, "Ada Lovelace")
    assert [(s.kind, s.external_id) for s in connected.subaccounts] == [("organization", page.id)]
    assert fake.requests, "the calls went through the fake"
