"""亮身份: display name, staff number and photo set in the administration, shown for the clerk on duty at a
window only, the photo checked and stored re-encoded; statistics name people by their display names."""

from __future__ import annotations

import base64
import io

from PIL import Image

from queue_server.staff.identity import PHOTO_MAX_BYTES


def picture(fmt: str = "PNG", size=(900, 1200), exif: bool = False) -> bytes:
    image = Image.new("RGB", size, (200, 40, 40))
    out = io.BytesIO()
    if exif:
        info = Image.Exif()
        info[0x010F] = "SecretCam"  # Make
        info[0x0132] = "2026:01:01 00:00:00"
        image.save(out, fmt, exif=info)
    else:
        image.save(out, fmt)
    return out.getvalue()


def upload(data: bytes, kind: str = "image/png") -> dict:
    return {"image": f"data:{kind};base64," + base64.b64encode(data).decode()}


def test_identity_set_in_admin_is_shown_for_the_clerk_on_duty_only(as_user):
    root = as_user("root")
    r = root.patch("/admin/users/clerk3", {"display_name": "王小明", "staff_number": "EQ-0317"})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["display_name"], r.get_json()["staff_number"]) == ("王小明", "EQ-0317")
    r = root.put("/admin/users/clerk3/photo", upload(picture("JPEG", exif=True), "image/jpeg"))
    assert r.status_code == 200, r.get_json()
    version = r.get_json()["photo"]
    listed = {u["username"]: u for u in root.get("/admin/users").get_json()["users"]}
    assert listed["clerk3"]["photo"] == version and listed["clerk4"]["photo"] is None

    anyone = as_user()
    assert anyone.get("/halls/erdao/windows/3/clerk").get_json() == {"window": 3, "clerk": None}  # closed
    assert anyone.get("/halls/erdao/windows/3/clerk/photo").status_code == 404

    assert as_user("clerk3").post("/halls/erdao/windows/3/open").status_code == 200
    duty = anyone.get("/halls/erdao/windows/3/clerk").get_json()["clerk"]
    assert duty == {
        "name": "王小明",
        "staff_number": "EQ-0317",
        "photo": f"/api/v1/halls/erdao/windows/3/clerk/photo?v={version}",
    }
    photo = anyone.http.get(duty["photo"])
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert photo.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in photo.headers["Content-Security-Policy"]
    stored = Image.open(io.BytesIO(photo.data))
    assert stored.format == "JPEG" and max(stored.size) <= 600  # re-encoded and shrunk
    assert not stored.getexif(), "the camera's metadata is gone"
    assert b"SecretCam" not in photo.data
    # nobody with a photo at window 4: no way to fetch another staff member's photo
    assert anyone.get("/halls/erdao/windows/4/clerk/photo").status_code == 404

    assert root.delete("/admin/users/clerk3/photo").status_code == 200
    assert anyone.get("/halls/erdao/windows/3/clerk").get_json()["clerk"]["photo"] is None


def test_a_photo_that_is_not_a_small_picture_is_refused_and_nothing_is_stored(as_user):
    root = as_user("root")
    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    html_as_png = b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>"
    cases = [
        upload(gif.getvalue(), "image/gif"),
        upload(svg, "image/svg+xml"),
        upload(html_as_png),
        upload(picture()[:200]),  # cut off
        upload(b""),
        upload(b"\xff\xd8" + b"\0" * (PHOTO_MAX_BYTES + 10), "image/jpeg"),
        {"image": "not base64 at all!"},
        {"image": "data:image/png;base64"},  # a data: URL with no comma and nothing after it
    ]
    for body in cases:
        r = root.put("/admin/users/clerk3/photo", body)
        assert r.status_code in (413, 422), (body["image"][:40], r.status_code)
        error = r.get_json()["error"]
        if r.status_code == 422:
            assert error["field"] in ("photo", "image"), error
        assert "\u4e00" <= error["message_zh"][0] <= "\u9fff" or "照片" in error["message_zh"], error
    assert root.get("/admin/users/clerk3/photo").status_code == 404
    r = root.patch("/admin/users/clerk3", {"staff_number": "12 34<"})
    assert r.status_code == 422 and r.get_json()["error"]["field"] == "staff_number"


def test_only_managers_of_the_clerks_hall_set_a_photo(as_user):
    png = upload(picture())
    assert as_user("clerk3").put("/admin/users/clerk3/photo", png).status_code == 403
    assert as_user("boss").put("/admin/users/street1/photo", png).status_code == 403  # another hall
    assert as_user("boss").put("/admin/users/clerk3/photo", png).status_code == 200
    assert as_user().put("/admin/users/clerk3/photo", png).status_code == 401
    shown = as_user("boss").get("/admin/users/clerk3/photo").get_json()
    assert shown["image"].startswith("data:image/jpeg;base64,")


def test_statistics_name_clerks_by_display_name(as_user):
    root = as_user("root")
    assert root.patch("/admin/users/clerk3", {"display_name": "王小明"}).status_code == 200
    assert root.patch("/admin/users/clerk4", {"display_name": "王小明", "staff_number": "0042"}).status_code == 200
    for clerk, n in (("clerk3", 3), ("clerk4", 4)):
        me = as_user(clerk)
        assert me.post(f"/halls/erdao/windows/{n}/open").status_code == 200
        assert as_user().post("/halls/erdao/tickets", {"service": "QY001", "print": False}).status_code == 201
        assert me.post(f"/halls/erdao/windows/{n}/call-next").status_code == 200
    stats = as_user("boss").get("/halls/erdao/stats").get_json()
    names = sorted(row["name"] for row in stats["by_clerk"])
    assert names == ["王小明 (0042)", "王小明 (clerk3)"]  # two people of one name told apart
    csv = as_user("boss").get("/halls/erdao/stats/export?format=csv")
    assert csv.status_code == 200, csv.get_json()
    text = csv.data.decode("utf-8-sig")
    assert "王小明 (0042)" in text and ",clerk4," not in text
