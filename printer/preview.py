"""Draw print ops onto a PNG the width of the paper, dot for dot like the printer head."""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
from PIL import Image, ImageDraw, ImageFont

from .ops import DOTS_PER_COLUMN, PAPER_DOTS, QR, Cut, Feed, Op, Text, char_width, text_width

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
GLYPH_DOTS = 24
LINE_DOTS = 32
CUT_DOTS = 48
QR_MODULE_DOTS = 6


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_CANDIDATES:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    # No CJK font installed: Latin still reads, Hanzi come out as boxes.
    try:
        return ImageFont.load_default(size)
    except TypeError:  # Pillow < 10.1 has only the fixed bitmap font
        return ImageFont.load_default()


def _height(op: Op, width: int) -> int:
    if isinstance(op, Text):
        return LINE_DOTS * op.size
    if isinstance(op, Feed):
        return LINE_DOTS * op.lines
    if isinstance(op, QR):
        return qr_image(op.data, width).height + LINE_DOTS // 2
    return CUT_DOTS


def _draw_text(draw: ImageDraw.ImageDraw, op: Text, y: int, width: int) -> None:
    font = _font(GLYPH_DOTS * op.size)
    cell = DOTS_PER_COLUMN * op.size
    line_width = text_width(op.text) * cell
    x = {"left": 0, "center": (width - line_width) // 2, "right": width - line_width}[op.align]
    for ch in op.text:
        box = char_width(ch) * cell
        if not ch.isspace():
            glyph = draw.textlength(ch, font=font)
            draw.text(
                (x + (box - glyph) / 2, y),
                ch,
                fill=0,
                font=font,
                stroke_width=1 if op.bold else 0,
                stroke_fill=0,
            )
        x += box


def qr_image(data: str, width: int) -> Image.Image:
    """The QR code centred on a white strip `width` dots wide."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, box_size=1)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    modules = len(matrix)
    symbol = Image.new("1", (modules, modules), 1)
    symbol.putdata([0 if dark else 1 for row in matrix for dark in row])
    box = max(1, min(QR_MODULE_DOTS, width // (modules + 8)))
    symbol = symbol.resize((modules * box, modules * box), Image.NEAREST)
    canvas = Image.new("1", (width, symbol.height + 4 * box), 1)
    canvas.paste(symbol, ((width - symbol.width) // 2, 2 * box))
    return canvas


def render_png(ops: list[Op], paper_mm: int) -> bytes:
    """PNG bytes of the ops as printed on paper of this width."""
    width = PAPER_DOTS[paper_mm]
    image = Image.new("L", (width, sum(_height(op, width) for op in ops) + LINE_DOTS), 255)
    draw = ImageDraw.Draw(image)
    y = LINE_DOTS // 2
    for op in ops:
        if isinstance(op, Text):
            _draw_text(draw, op, y, width)
        elif isinstance(op, QR):
            image.paste(qr_image(op.data, width).convert("L"), (0, y))
        elif isinstance(op, Cut):
            mid = y + CUT_DOTS // 2
            for x in range(0, width, 16):
                draw.line((x, mid, x + 8, mid), fill=0, width=2)
        y += _height(op, width)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
