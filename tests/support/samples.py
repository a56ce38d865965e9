"""Real media files made on the fly: images with Pillow, video with the ffmpeg binary that the
imageio-ffmpeg wheel carries (a dev dependency, so no system package is needed)."""

from __future__ import annotations

import functools
import io
import subprocess
import tempfile
from pathlib import Path

import imageio_ffmpeg
from PIL import Image


def image(fmt: str = "JPEG", size: tuple[int, int] = (640, 480), color: str = "teal") -> bytes:
    out = io.BytesIO()
    mode = "RGBA" if fmt in ("PNG", "WEBP") else "RGB"
    Image.new(mode, size, color).save(out, fmt)
    return out.getvalue()


def noisy_jpeg(size: tuple[int, int], quality: int = 95) -> bytes:
    """A JPEG that compresses badly (random pixels), to exceed byte limits at small sizes."""
    out = io.BytesIO()
    Image.effect_noise(size, 100).convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def animated_gif(frames: int = 3, size: tuple[int, int] = (32, 32)) -> bytes:
    colors = ["red", "green", "blue", "yellow"]
    images = [Image.new("RGB", size, colors[i % len(colors)]) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


@functools.cache
def video(seconds: float = 2.0, size: str = "320x240", container: str = "mp4") -> bytes:
    """An H.264/AAC MP4 (or WebM) of `seconds`, cached per process (ffmpeg takes ~0.2 s)."""
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    codec = ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    if container == "webm":
        codec = ["-c:v", "libvpx-vp9", "-c:a", "libopus"]
    with tempfile.TemporaryDirectory() as work:
        target = Path(work) / f"clip.{container}"
        subprocess.run(
            [
                ffmpeg,
                "-loglevel",
                "error",
                "-y",
                "-f",
                "lavfi",
                "-i",
                f"testsrc=size={size}:rate=30",
                "-f",
                "lavfi",
                "-i",
                "sine=frequency=440",
                "-t",
                str(seconds),
                *codec,
                "-shortest",
                str(target),
            ],
            check=True,
            timeout=120,
        )
        return target.read_bytes()
