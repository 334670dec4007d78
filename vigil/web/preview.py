"""Review previews made on the server: downscaled, blurred and optionally grayscale, so the
unblurred image reaches a browser only when a reviewer asks for it."""

from __future__ import annotations

import io

from PIL import Image, ImageFilter, ImageOps


def preview(data: bytes, *, side: int, blur: float, gray: bool) -> bytes:
    """A JPEG no larger than ``side`` on its longest side. ``blur`` is the Gaussian radius as
    a fraction of that side (0 for none)."""
    with Image.open(io.BytesIO(data)) as opened:
        opened.seek(0)  # the first frame of an animation
        image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail((side, side))
    if gray:
        image = ImageOps.grayscale(image).convert("RGB")
    if blur > 0:
        image = image.filter(ImageFilter.GaussianBlur(radius=blur * max(image.size)))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()
