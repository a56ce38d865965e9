"""Part 3: ingest of a 1 GiB file through POST /v2/media, beside `curl` writing the same file
to disk from the same local HTTP server in the same run, and the server's peak RSS growth.
Then the same file as a presigned upload: `curl -T` to Masthead's presigned URL, beside
`curl -T` to a bare aiohttp receiver that only writes the body to disk (bench/put_sink.py).

The file is a real MP4 (a 2 s clip made with the ffmpeg binary of the imageio-ffmpeg wheel)
followed by a `free` box that pads it to the size asked for: a valid container, so Masthead
sniffs, probes and stores it like any upload, and the padding costs nothing to make.
"""

from __future__ import annotations

import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import imageio_ffmpeg

from bench.api import _first_start_credentials
from bench.procs import (
    HOST,
    BenchError,
    RssSampler,
    child,
    clean_env,
    cpu_seconds,
    free_port,
    python_module,
    wait_for_http,
    wait_for_port,
)

CLIP_SECONDS = 2
RSS_EVERY = 0.02
"""Seconds between RSS samples of the server: a 1 GiB ingest takes about one second."""


@dataclass(frozen=True)
class MediaPlan:
    size: int = 1024**3
    runs: int = 2


def make_sample(path: Path, size: int) -> None:
    """An MP4 clip padded with a `free` box to exactly `size` bytes."""
    with tempfile.TemporaryDirectory() as work:
        clip = Path(work) / "clip.mp4"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(),
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc=size=640x360:rate=30:duration={CLIP_SECONDS}",
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                str(clip),
            ],
            check=True,
            timeout=120,
        )
        head = clip.read_bytes()
    padding = size - len(head)
    if padding < 8 or padding >= 2**32:
        raise BenchError(f"cannot pad a {len(head)}-byte clip to {size} bytes with one box")
    block = bytes(8 * 1024 * 1024)
    with path.open("wb") as out:
        out.write(head)
        out.write(padding.to_bytes(4, "big") + b"free")
        remaining = padding - 8
        while remaining:
            step = min(remaining, len(block))
            out.write(block[:step])
            remaining -= step


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Timed:
    """Wall time and the CPU time of the process that did the work (load-independent)."""

    seconds: float
    cpu: float


def _curl(url: str, dest: Path) -> Timed:
    started, cpu = time.perf_counter(), _children_cpu()
    subprocess.run(["curl", "-sS", "--fail", "-o", str(dest), url], check=True, timeout=600)
    timed = Timed(time.perf_counter() - started, _children_cpu() - cpu)
    dest.unlink()
    return timed


def _curl_put(url: str, source: Path, receiver: int) -> Timed:
    """`curl -T`, timed, with the CPU time of the `receiver` process."""
    started, cpu = time.perf_counter(), cpu_seconds(receiver)
    subprocess.run(
        ["curl", "-sS", "--fail", "-o", "/dev/null", "-T", str(source), url],
        check=True,
        timeout=600,
    )
    return Timed(time.perf_counter() - started, cpu_seconds(receiver) - cpu)


def _presign(base: str, key: str) -> str:
    response = httpx.post(
        f"{base}/v2/media/uploads",
        json={"filename": "big.mp4"},
        headers={"blotato-api-key": key},
        timeout=30,
    )
    if response.status_code != 201:
        raise BenchError(f"POST /v2/media/uploads answered {response.status_code}")
    url: str = response.json()["presignedUrl"]
    return url


def _rates(size: int, baseline: Timed, masthead: Timed, before: int, peak: int) -> dict[str, Any]:
    return {
        "curl_s": round(baseline.seconds, 3),
        "curl_mib_s": round(size / 1024**2 / baseline.seconds, 1),
        "masthead_s": round(masthead.seconds, 3),
        "masthead_mib_s": round(size / 1024**2 / masthead.seconds, 1),
        "ratio": round(baseline.seconds / masthead.seconds, 3),
        "baseline_cpu_s": round(baseline.cpu, 2),
        "masthead_cpu_s": round(masthead.cpu, 2),
        "rss_before_mib": round(before / 1024**2, 1),
        "rss_peak_mib": round(peak / 1024**2, 1),
        "rss_growth_mib": round((peak - before) / 1024**2, 1),
    }


def _forget_stored(data_dir: Path) -> None:
    """The same bytes again would be stored once: remove them so each run stores anew."""
    for stored in (data_dir / "media").rglob("*"):
        if stored.is_file():
            stored.unlink()


def run_media(workdir: Path, plan: MediaPlan) -> dict[str, Any]:
    """Nothing is pinned here, unlike parts 1 and 2: an ingest is a pipeline (network, hash,
    disk) that uses both cores, as it does in production, and curl is given the same machine.
    The destination of curl and Masthead's data dir are on the same file system."""
    workdir.mkdir(parents=True, exist_ok=True)
    source_dir = workdir / "files"
    source_dir.mkdir()
    sample = source_dir / "big.mp4"
    print(f"  making a {plan.size / 1024**3:g} GiB sample ...", flush=True)
    make_sample(sample, plan.size)
    file_port = free_port()
    file_url = f"http://{HOST}:{file_port}/big.mp4"
    sink_port = free_port()
    sink_dir = workdir / "sink"
    sink_dir.mkdir()
    port = free_port()
    base = f"http://{HOST}:{port}"
    env = clean_env(
        {
            "MASTHEAD_DATA_DIR": str(workdir / "data"),
            "MASTHEAD_API_RATE_LIMITS": "off",
            "MASTHEAD_LOG_LEVEL": "WARNING",
            "MASTHEAD_FETCH_ALLOW": f"{HOST}:{file_port}",
            "MASTHEAD_MEDIA_MAX_BYTES": str(plan.size + 1024**2),
            "MASTHEAD_PUBLIC_URL": base,
        }
    )
    with (
        child(
            "file server",
            python_module(
                "http.server", "--bind", HOST, "--directory", str(source_dir), str(file_port)
            ),
            env=clean_env({}),
            log=workdir / "files.log",
        ) as files,
        child(
            "bare PUT receiver",
            python_module("bench.put_sink", "--port", str(sink_port), "--dir", str(sink_dir)),
            env=clean_env({}),
            log=workdir / "sink.log",
        ) as sink,
        child(
            "masthead serve",
            python_module("masthead", "serve", "--port", str(port)),
            env=env,
            log=workdir / "masthead.log",
        ) as server,
    ):
        wait_for_port(files, file_port)
        wait_for_port(sink, sink_port)
        wait_for_http(server, f"{base}/readyz")
        key, _ = _first_start_credentials(workdir / "masthead.log")
        runs: list[dict[str, Any]] = []
        for n in range(plan.runs):
            print(f"  run {n + 1}/{plan.runs}: curl to disk, then POST /v2/media ...", flush=True)
            curl = _curl(file_url, workdir / "curl.out")
            with RssSampler({"server": server.pid}, RSS_EVERY) as rss:
                before = rss.peak["server"]
                started, cpu = time.perf_counter(), cpu_seconds(server.pid)
                response = httpx.post(
                    f"http://{HOST}:{port}/v2/media",
                    json={"url": file_url},
                    headers={"blotato-api-key": key},
                    timeout=600,
                )
                masthead = Timed(time.perf_counter() - started, cpu_seconds(server.pid) - cpu)
            if response.status_code != 201:
                raise BenchError(f"POST /v2/media answered {response.status_code}: {response.text}")
            runs.append(_rates(plan.size, curl, masthead, before, rss.peak["server"]))
            _forget_stored(workdir / "data")
        uploads: list[dict[str, Any]] = []
        for n in range(plan.runs):
            print(f"  upload {n + 1}/{plan.runs}: curl -T to a bare receiver, then to Masthead ...")
            bare = _curl_put(f"http://{HOST}:{sink_port}/big.mp4", sample, sink.pid)
            presigned = _presign(base, key)
            with RssSampler({"server": server.pid}, RSS_EVERY) as rss:
                before = rss.peak["server"]
                masthead = _curl_put(presigned, sample, server.pid)
            uploads.append(_rates(plan.size, bare, masthead, before, rss.peak["server"]))
            _forget_stored(workdir / "data")
    return {
        "size_bytes": plan.size,
        "runs": runs,
        "best_ratio": max(r["ratio"] for r in runs),
        "max_rss_growth_mib": max(r["rss_growth_mib"] for r in runs),
        "uploads": uploads,
        "best_upload_ratio": max(r["ratio"] for r in uploads),
        "max_upload_rss_growth_mib": max(r["rss_growth_mib"] for r in uploads),
        "goals": {"ratio_at_least": 0.8, "rss_growth_under_mib": 64},
    }
