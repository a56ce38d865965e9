"""Finding a PDS from a DID (platforms/bluesky_xrpc.py): identity documents come from hosts a
user names, so they are read capped, and decoded off the event loop when compressed."""

from __future__ import annotations

import httpx
import orjson
import pytest

from masthead.platforms.base import Permanent
from masthead.platforms.bluesky_xrpc import IDENTITY_BYTES, pds_of
from tests.support.files import FileServer


async def test_a_compressed_did_document_is_read(files: FileServer) -> None:
    service = {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer"}
    document = {"service": [{**service, "serviceEndpoint": "https://pds.example.com"}]}
    files.add("did:plc:good", orjson.dumps(document))

    async with httpx.AsyncClient() as client:
        found = await pds_of(client, files.url("/encoded/gzip"), "did:plc:good")

    assert found == "https://pds.example.com"


async def test_a_did_document_that_inflates_past_its_cap_is_refused(files: FileServer) -> None:
    files.add("did:plc:bomb", b"\0" * (64 * 1024 * 1024))

    async with httpx.AsyncClient() as client:
        with pytest.raises(Permanent, match=f"longer than {IDENTITY_BYTES:,} bytes"):
            await pds_of(client, files.url("/encoded/gzip"), "did:plc:bomb")
