"""HTTP security headers on every response, and a guard against NUL characters in input."""

from flask import abort, request, session
from werkzeug.datastructures import ImmutableMultiDict

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
)


def set_security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


# Messages waiting to be shown (flash) live in the session cookie: a client that never follows
# the redirects showing them (a script, a form posted again and again) would grow the cookie
# past the 4 kB browsers keep, and lose its log-in with it.
MAX_WAITING_MESSAGES = 5


def keep_session_small(response):
    waiting = session.get("_flashes")
    if waiting and len(waiting) > MAX_WAITING_MESSAGES:
        session["_flashes"] = waiting[-MAX_WAITING_MESSAGES:]
    return response


def reject_nul_characters():
    """A NUL character is never meaningful in input, and PostgreSQL refuses it in text:
    dealt with here rather than as a 500 in whichever query meets it. In the address or a
    form it is a 400; in query parameters (ignored when bad) it is dropped."""
    if "\x00" in request.path:
        abort(400)
    pairs = list(request.args.items(multi=True))
    if any("\x00" in k or "\x00" in v for k, v in pairs):
        request.args = ImmutableMultiDict(
            (k.replace("\x00", ""), v.replace("\x00", "")) for k, v in pairs
        )
    if request.method == "POST":
        for key, value in request.form.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)


def init_app(app) -> None:
    app.before_request(reject_nul_characters)
    app.after_request(set_security_headers)
    app.after_request(keep_session_small)
