"""The ticket as the printer receives it: decoded fields, widths, capabilities, the materials slip, the preview."""

from __future__ import annotations

import io

import pytest
from escpos.capabilities import Profile, get_profile
from escpos.printer import Dummy
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from printer.connections import connected
from printer.exceptions import PayloadError
from printer.layout import PrinterCaps, TicketPrint, preview_png, print_ticket, ticket_ops
from printer.ops import Text, text_width, wrap
from tests.support import decode


def printed(payload: dict, paper_mm: int = 80, profile: str = "default") -> bytes:
    dummy = Dummy(profile=profile)
    print_ticket(dummy, TicketPrint.from_payload(payload), paper_mm)
    return dummy.output


def test_ticket_over_tcp_decodes_to_every_field(fake_printer, payload):
    with connected(fake_printer.config()) as p:
        print_ticket(p, TicketPrint.from_payload(payload), 80)
    [stream] = fake_printer.wait_for_jobs(1)
    out = decode(stream)
    texts = out.texts
    assert out.lines[0].text == "青山区政务服务中心" and out.lines[0].chinese
    [number] = [line for line in out.lines if line.text == "A007"]
    assert number.double and number.bold and number.align == "center"
    assert "不动产登记（二手房转移）" in texts
    assert "前面还有 3 人 / 3 ahead" in texts
    assert "预计等候 5–12 分钟" in texts
    assert "取号时间 Issued 2026-11-27 09:30" in texts  # the hall's local time, as issued
    assert out.qr == [payload["track_url"]]
    notices = "".join(texts)
    assert "请留意叫号，过号请重新取号（当日有效）：谢谢配合、欢迎评价—" in notices
    assert "Please watch the display for your number" in " ".join(texts)
    assert "?" not in "".join(texts)
    assert len(out.cuts) == 1


def test_qr_is_centred_before_it_is_stored(payload):
    stream = printed(payload)
    qr_at = stream.index(b"\x1d(k")
    assert stream.rfind(b"\x1ba\x01", 0, qr_at) > stream.rfind(b"\x1ba\x00", 0, qr_at)


def test_chinese_lines_are_wrapped_in_chinese_mode(payload):
    stream = printed(payload)
    for mark in "（），：、—":
        assert mark.encode("gb18030") in stream
    for line in decode(stream).lines:
        assert line.chinese == (not line.text.isascii())


@pytest.mark.parametrize(("paper_mm", "columns"), [(58, 32), (80, 48)])
def test_lines_fit_the_paper(payload, paper_mm, columns):
    payload["notices"] = [
        "办事群众请保管好个人物品，" * 6,
        "Keep your ticket until the service is finished " * 3,
    ]
    lines = decode(printed(payload, paper_mm)).lines
    for line in lines:
        assert text_width(line.text) * line.width <= columns
    widest = max(text_width(line.text) for line in lines if not set(line.text) <= {"-"})
    assert columns - 2 <= widest <= columns  # the long notices fill the line, and no more


def test_58mm_wraps_where_80mm_does_not(payload):
    narrow = decode(printed(payload, 58)).texts
    wide = decode(printed(payload, 80)).texts
    assert "Qingshan District Government Service Center" in wide
    assert "Qingshan District Government Service Center" not in narrow
    assert len(narrow) > len(wide)


def test_wrap_keeps_closing_punctuation_off_the_line_start():
    lines = wrap("一二三四五六七，八九", 14)
    assert lines == ["一二三四五六", "七，八九"]
    assert wrap("Please watch the display", 10) == ["Please", "watch the", "display"]


def test_profile_without_native_qr_gets_a_raster_image(payload):
    assert not get_profile("TH230").supports("qrCode")
    out_bytes = printed(payload, 80, profile="TH230")
    assert b"\x1d(k" not in out_bytes
    out = decode(out_bytes)
    assert out.qr == [] and len(out.images) == 1
    width, height = out.images[0]
    assert width == 576 and height > 100


def test_profile_without_cut_sends_no_cut(payload):
    assert get_profile("Sunmi-V2").supports("qrCode")
    assert not get_profile("Sunmi-V2").supports("paperFullCut")
    stream = printed(payload, 58, profile="Sunmi-V2")
    assert b"\x1dV" not in stream
    assert decode(stream).qr == [payload["track_url"]]


def test_constructed_profile_without_qr_or_cut(payload):
    dummy = Dummy(profile=Profile(features={"qrCode": False}))
    print_ticket(dummy, TicketPrint.from_payload(payload), 58)
    assert b"\x1d(k" not in dummy.output and b"\x1dV" not in dummy.output
    assert decode(dummy.output).images[0][0] == 384


def test_explicit_caps_override_the_profile(payload):
    dummy = Dummy()
    print_ticket(dummy, TicketPrint.from_payload(payload), 80, PrinterCaps(native_qr=False, cut="PART"))
    assert b"\x1d(k" not in dummy.output and b"\x1dV\x01" in dummy.output


def test_materials_slip_after_a_cut(payload):
    payload["with_materials"] = True
    out = decode(printed(payload))
    assert len(out.cuts) == 2
    ticket, slip = out.slips()
    slip_texts = [line.text for line in slip]
    assert "材料告知单" in slip_texts
    assert "1. 居民身份证原件及复印件（一式两份）" in slip_texts
    assert "2. 不动产权证书" in slip_texts
    assert "3. Marriage certificate (if married)" in slip_texts
    assert "承诺时限 5 个工作日" in slip_texts
    assert "材料告知单" not in [line.text for line in ticket]


def test_instant_service_says_so(payload):
    payload.update(with_materials=True, kind="instant", time_limit_days=0, materials=[])
    texts = decode(printed(payload, 80)).texts
    assert "即办件（当场办结）" in texts and "无需提交材料 / No materials needed" in texts


@pytest.mark.parametrize(
    ("low_s", "high_s", "line"),
    [
        (0, 20, "预计等候 少于 1 分钟"),
        (600, 600, "预计等候 约 10 分钟"),
        (61, 119, "预计等候 1–2 分钟"),
    ],
)
def test_wait_range_in_minutes(payload, low_s, high_s, line):
    payload["estimated_wait"] = {"low_s": low_s, "high_s": high_s}
    assert line in decode(printed(payload)).texts


def test_ops_are_described_once(payload):
    ops = ticket_ops(TicketPrint.from_payload(payload), 80)
    assert Text("A007", "center", 2, True) in ops


@pytest.mark.parametrize("paper_mm", [58, 80])
def test_preview_is_a_png_the_width_of_the_paper(payload, paper_mm):
    payload["with_materials"] = True
    image = Image.open(io.BytesIO(preview_png(TicketPrint.from_payload(payload), paper_mm)))
    assert image.format == "PNG"
    assert image.width == {58: 384, 80: 576}[paper_mm]
    assert image.height > image.width


def test_bad_payload_names_the_field(payload):
    del payload["track_url"]
    with pytest.raises(PayloadError, match="track_url"):
        TicketPrint.from_payload(payload)
    payload.update(track_url="https://x", issued_at="yesterday")
    with pytest.raises(PayloadError):
        TicketPrint.from_payload(payload)


@given(
    text=st.text(alphabet=st.sampled_from(list("政务服务中心，。（）：、— abcXYZ0123-/")), max_size=120),
    width=st.integers(min_value=2, max_value=48),
)
def test_wrap_never_overflows_and_loses_nothing(text, width):
    lines = wrap(text, width)
    assert all(text_width(line) <= width for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
