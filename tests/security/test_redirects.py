"""Sign-in sends staff only to a path on this site: never to another host, however the `next` is spelled."""

from __future__ import annotations

from tests.security.test_sessions import csrf_of
from tests.support import PASSWORD

# Browsers drop tab, CR and LF inside a URL and read a backslash as a slash: each of these is another host.
FOREIGN = [
    "//evil.example",
    "/\t/evil.example",
    "/\r\n/evil.example",
    "/\n/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    " //evil.example",
    "\t//evil.example",
    "/\u2028/evil.example",
    "/\u200b/evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    "/",
    "",
]


def sign_in(client, next_in_form: str | None = None, query: str = ""):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    form = {"csrf_token": token, "username": "clerk3", "password": PASSWORD}
    if next_in_form is not None:
        form["next"] = next_in_form
    return client.post("/login" + query, data=form)


def test_a_next_to_another_host_goes_to_the_role_home(make_app):
    app = make_app()
    for target in FOREIGN:
        r = sign_in(app.test_client(), target)
        assert r.status_code == 303 and r.headers["Location"] == "/clerk", repr(target)
    # The attack as sent: /login?next=/%09/evil.example answered Location: //evil.example.
    r = sign_in(app.test_client(), query="?next=/%09/evil.example")
    assert r.status_code == 303 and r.headers["Location"] == "/clerk"


def test_a_header_in_next_is_not_injected(make_app):
    r = sign_in(make_app().test_client(), "/account\r\nSet-Cookie: planted=1")
    assert r.status_code == 303 and r.headers["Location"] == "/clerk"
    assert "planted" not in str(r.headers)


def test_a_path_on_this_site_is_kept(make_app):
    app = make_app()
    for target in ("/account", "/stats/erdao?from=2026-03-02", "/board/erdao#top", "/t/abc"):
        r = sign_in(app.test_client(), target)
        assert r.status_code == 303 and r.headers["Location"] == target
