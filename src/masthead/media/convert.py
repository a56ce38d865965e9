"""Image conversions a platform needs (PNG/WebP to JPEG, a JPEG under a byte limit).

Video is not transcoded: a later issue should add an ffmpeg-based transcode for codecs or
containers a platform refuses (HEVC to H.264 for X, WebM to MP4), run in the worker.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageOps

JPEG_QUALITIES = (90, 85, 80, 72, 65)
MIN_SIDE = 320


def recipe(max_bytes: int | None) -> str:
    """The variant's name: the same conversion is made once and reused."""
    return f"jpeg<={max_bytes}" if max_bytes else "jpeg"


def to_jpeg(source: Path, dest: Path, max_bytes: int | None = None) -> None:
    """Flatten transparency on white (JPEG has no alpha), keep the EXIF orientation, then try
    falling qualities and, only if that is not enough, smaller sizes until under `max_bytes`."""
    with Image.open(source) as opened:
        image = ImageOps.exif_transpose(opened)
        if image.mode in ("RGBA", "LA", "P"):
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, "white")
            image.paste(rgba, mask=rgba.getchannel("A"))
        else:
            image = image.convert("RGB")
    while True:
        for quality in JPEG_QUALITIES:
            image.save(dest, "JPEG", quality=quality, optimize=True, progressive=True)
            if max_bytes is None or dest.stat().st_size <= max_bytes:
                return
        width, height = image.size
        if min(width, height) <= MIN_SIDE:
            raise ValueError(f"cannot bring the image under {max_bytes:,} bytes")
        image = image.resize((int(width * 0.8), int(height * 0.8)), Image.Resampling.LANCZOS)
