"""How reposts change a picture around it: a meme's caption bar, a phone screenshot's frame.
Shared by the hash-list tests and benchmarks/hashlists.py."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageDraw


def captioned(image: Image.Image, text: str = "when you see it lol") -> Image.Image:
    """A white bar 15% of the height below the picture, with black text in it."""
    bar = max(12, image.height * 15 // 100)
    out = Image.new("RGB", (image.width, image.height + bar), "white")
    out.paste(image, (0, 0))
    ImageDraw.Draw(out).text((10, image.height + bar // 3), text, fill="black")
    return out


def screenshot(image: Image.Image) -> Image.Image:
    """Scaled to 80% on a grey screen with a title bar above, as a phone screenshot looks."""
    inner = image.resize((image.width * 4 // 5, image.height * 4 // 5))
    out = Image.new("RGB", (image.width, image.height + image.height // 8), (238, 238, 238))
    ImageDraw.Draw(out).rectangle((0, 0, image.width, image.height // 16), fill=(40, 40, 40))
    out.paste(inner, ((image.width - inner.width) // 2, image.height // 8))
    return out


def copy_of(pixels: Any, scale: float = 0.5, quality: int = 40) -> bytes:
    """A smaller, lossier JPEG of ``pixels``: a repost as platforms recompress it."""
    image = Image.fromarray(pixels)
    image = image.resize((int(image.width * scale), int(image.height * scale)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()
