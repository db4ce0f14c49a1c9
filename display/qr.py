"""QR codes for the server's own links (a ticket to follow, a booking to show), drawn once per link."""

from __future__ import annotations

import re
from functools import lru_cache

QR_MAX = 300  # characters: the longest own link with a long public_url; bounds the drawing time too
QR_PER_IP = "60 per minute"  # a kiosk draws one per ticket, a phone one per booking
# What follows the server's base URL in the links kiosk.js and book.js draw.
OWN_PATHS = re.compile(r"/t/[\w.~%-]{1,64}|/bookings/[\w.~%-]{1,64}\?id=[\w.~%-]{1,64}")


def own_link(data: str, bases: list[str]) -> bool:
    """Whether `data` is a ticket or booking link under one of this server's base URLs."""
    for base in bases:
        base = base.rstrip("/")
        if base and data.startswith(base + "/") and OWN_PATHS.fullmatch(data[len(base) :]):
            return True
    return False


@lru_cache(maxsize=256)
def svg(data: str) -> bytes:
    """The QR code of `data` as SVG (drawing one takes milliseconds of CPU; the kiosk asks again on each render)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2)
    return image.to_string()
