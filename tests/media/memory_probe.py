"""Run in a child process by test_s3_storage: puts then downloads one file through S3Storage and
prints how far each raised the process's peak resident memory (VmHWM), as JSON.

A child of its own because the test process also runs moto's server, which keeps every object it
receives in memory; the peak is reset between the two steps through /proc/self/clear_refs.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

from masthead.media.s3 import S3Options, S3Storage, parse_store_url


def peak_kib() -> int:
    status = Path("/proc/self/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    assert match, "no VmHWM in /proc/self/status"
    return int(match.group(1))


def reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


async def main(store_url: str, endpoint: str, source: Path) -> dict[str, float]:
    storage = S3Storage(
        parse_store_url(store_url),
        S3Options(endpoint, "us-east-1", "test-key-id", "test-secret-key"),
    )
    warm = source.with_name("warm.bin")
    warm.write_bytes(b"warm up the client and its connection pool")
    await storage.put("warm", warm, "application/octet-stream")
    await storage.download("warm", source.with_name("warm.copy"), cap=1024)

    reset_peak()
    before = peak_kib()
    await storage.put("big", source, "video/mp4")
    put_growth = peak_kib() - before

    reset_peak()
    before = peak_kib()
    size = await storage.download("big", source.with_name("big.copy"), cap=1 << 30)
    download_growth = peak_kib() - before
    return {
        "size": size,
        "put_growth_mib": put_growth / 1024,
        "download_growth_mib": download_growth / 1024,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], sys.argv[2], Path(sys.argv[3])))))
