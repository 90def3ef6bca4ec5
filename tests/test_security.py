"""Headers, cookies, rate limits (memory and the real Redis), error pages."""

import os
import uuid

import pytest

from blagis import create_app
from blagis.extensions import db
from tests.conftest import PASSWORD
from tests.conftest import test_config as make_config

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


_BUILT = []


def build_app(config):
    """An app of its own on the test database; its connections are closed after the test."""
    app = create_app(config)
    _BUILT.append(app)
    return app


@pytest.fixture(autouse=True)
def _dispose_extra_apps():
    yield
    while _BUILT:
        app = _BUILT.pop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- headers and cookies ------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/no-such-page", "/api/v1/objectives", "/auth/login"])
def test_security_headers(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def _login_cookie_header(app, make_user) -> str:
    user = make_user()
    client = app.test_client()
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def test_session_cookie_flags_over_http(app, make_user):
    cookie = _login_cookie_header(app, make_user)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_secure_over_https(app, database, make_user):
    https_app = build_app(make_config(database, BLAGIS_BASE_URL="https://blagis.example"))
    assert https_app.config["SESSION_COOKIE_SECURE"] is True
    assert https_app.config["REMEMBER_COOKIE_SECURE"] is True
    cookie = _login_cookie_header(https_app, make_user)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- error pages --------------------------------------------------------------------------


def test_server_error_page_shows_no_stack_trace(app, database):
    broken = build_app(make_config(database, TESTING=False))

    @broken.route("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    response = broken.test_client().get("/boom", headers={"Accept-Language": "en"})
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Traceback" not in html and "hunter2" not in html and "RuntimeError" not in html
    assert "Something went wrong on our side" in html
    api = broken.test_client().get("/api/v1/objectives")
    assert api.status_code == 200


# --- rate limits --------------------------------------------------------------------------


def _limited_app(database, storage: str, prefix: str, **extra):
    settings = {
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": storage,
        "RATELIMIT_KEY_PREFIX": prefix,
        "RATELIMIT_LOGIN": "3 per minute",
        "RATELIMIT_REGISTER": "2 per minute",
        "RATELIMIT_RESET": "2 per minute",
    }
    return build_app(make_config(database, **{**settings, **extra}))


def _wrong_login(client, lang: str = "fr"):
    return client.post(
        f"/auth/login?lang={lang}", data={"email": "x@example.org", "password": "wrong password!"}
    )


def _assert_429_page(response, lang: str):
    assert response.status_code == 429
    retry = int(response.headers["Retry-After"])
    assert 0 < retry <= 60
    html = response.get_data(as_text=True)
    if lang == "fr":
        assert "Trop de tentatives" in html and "Vous pourrez réessayer dans" in html
    else:
        assert "Too many requests" in html and "You can try again in" in html


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_login_limit_with_memory_storage(app, database, lang):
    limited = _limited_app(database, "memory://", f"mem-{uuid.uuid4().hex}")
    client = limited.test_client()
    for _ in range(3):
        assert _wrong_login(client, lang).status_code == 422
    _assert_429_page(_wrong_login(client, lang), lang)
    # Only POSTs count: the page itself still opens.
    assert client.get("/auth/login").status_code == 200
    # Another app with its own memory storage has its own count.
    other = _limited_app(database, "memory://", f"mem-{uuid.uuid4().hex}")
    assert _wrong_login(other.test_client()).status_code == 422


# --- failed log-ins: throttled per (address, account), never a lock for everyone -----------


A = {"REMOTE_ADDR": "198.51.100.7"}
B = {"REMOTE_ADDR": "203.0.113.9"}
# The per-address limit of every log-in POST, set high: these tests are about the failures limit.
ADDRESS_HIGH = {"RATELIMIT_LOGIN": "100 per minute"}


def _log_in(client, email, password, address, lang="fr"):
    return client.post(
        f"/auth/login?lang={lang}",
        data={"email": email, "password": password},
        environ_base=address,
    )


def _assert_throttled(response, lang):
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    html = response.get_data(as_text=True)
    if lang == "fr":
        assert "Trop de tentatives" in html and "Vous pourrez réessayer dans" in html
    else:
        assert "Too many requests" in html and "You can try again in" in html


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_wrong_passwords_from_one_address_never_lock_the_account(app, database, make_user, lang):
    """Six wrong passwords for the administrator from address A: A is throttled for that
    account, the administrator still logs in from address B."""
    admin = make_user("admin@example.org", role="admin")
    limited = _limited_app(database, "memory://", f"mem-{uuid.uuid4().hex}", **ADDRESS_HIGH)
    attacker, owner = limited.test_client(), limited.test_client()
    for _ in range(5):
        assert _log_in(attacker, admin.email, "wrong password!", A, lang).status_code == 422
    _assert_throttled(_log_in(attacker, admin.email, "wrong password!", A, lang), lang)
    # From A even the right password waits (that is the throttle), in any case of the address.
    _assert_throttled(_log_in(attacker, "ADMIN@example.org", PASSWORD, A, lang), lang)
    # From B the owner logs in at once.
    assert _log_in(owner, admin.email, PASSWORD, B, lang).status_code == 302
    assert owner.get("/account").status_code == 200
    # A is held for that account only, and an unknown address is held the same way (the
    # throttle tells nothing about which accounts exist).
    assert _log_in(attacker, "other@example.org", "wrong password!", A, lang).status_code == 422
    for _ in range(5):
        _log_in(attacker, "nobody@example.org", "wrong password!", A, lang)
    _assert_throttled(_log_in(attacker, "nobody@example.org", "wrong password!", A, lang), lang)


def test_right_passwords_are_not_counted_as_failures(app, database, make_user):
    user = make_user("often@example.org")
    limited = _limited_app(database, "memory://", f"mem-{uuid.uuid4().hex}", **ADDRESS_HIGH)
    client = limited.test_client()
    for _ in range(8):
        assert _log_in(client, user.email, PASSWORD, A).status_code == 302
    for _ in range(4):
        assert _log_in(client, user.email, "wrong password!", A).status_code == 422
    assert _log_in(client, user.email, PASSWORD, A).status_code == 302


def test_failed_logins_are_counted_in_redis_across_instances(
    app, database, make_user, redis_prefix
):
    user = make_user("shared@example.org")
    first = _limited_app(database, REDIS_URL, redis_prefix, **ADDRESS_HIGH)
    second = _limited_app(database, REDIS_URL, redis_prefix, **ADDRESS_HIGH)
    for instance in (first, second, first, second, first):
        response = _log_in(instance.test_client(), user.email, "wrong password!", A)
        assert response.status_code == 422
    _assert_throttled(_log_in(second.test_client(), user.email, PASSWORD, A), "fr")
    assert _log_in(first.test_client(), user.email, PASSWORD, B).status_code == 302


@pytest.mark.parametrize(
    "path,data",
    [
        ("/auth/register", {"email": "not-an-email"}),
        ("/auth/reset", {"email": "not-an-email"}),
    ],
)
def test_register_and_reset_are_limited(app, database, path, data):
    limited = _limited_app(database, "memory://", f"mem-{uuid.uuid4().hex}")
    client = limited.test_client()
    assert [client.post(path, data=data).status_code for _ in range(3)] == [422, 422, 429]


@pytest.mark.parametrize(
    "endpoint,key",
    [
        ("initiatives.new", "RATELIMIT_PROPOSE"),
        ("initiatives.report", "RATELIMIT_REPORT"),
        ("events.register", "RATELIMIT_REGISTRATION"),
    ],
)
def test_domain_views_are_limited(app, database, make_user, endpoint, key):
    """Proposing, reporting and registering: the third POST in a minute is a 429."""
    from datetime import timedelta

    from blagis.models import Event, EventKind, Initiative, ModerationState, utcnow

    author, user = make_user(), make_user()
    with app.app_context():
        start = utcnow() + timedelta(days=2)
        event = Event(
            title="Atelier",
            kind=EventKind.ATELIER,
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            place="Salle",
            commune_code="sceaux",
            capacity=5,
        )
        initiative = Initiative(
            title="Des bancs",
            summary="Pour s’asseoir",
            body="Des bancs",
            commune_code="sceaux",
            author_id=author.id,
            state=ModerationState.PUBLISHED,
            published_at=utcnow(),
        )
        db.session.add_all([event, initiative])
        db.session.commit()
        paths = {
            "initiatives.new": "/initiatives/new",
            "initiatives.report": f"/initiatives/{initiative.id}/report",
            "events.register": f"/events/{event.id}/register",
        }
    limited = _limited_app(
        database, "memory://", f"mem-{uuid.uuid4().hex}", **{key: "2 per minute"}
    )
    client = limited.test_client()
    login = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert login.status_code == 302
    bad = {"seats": "99"} if endpoint == "events.register" else {}
    statuses = [client.post(paths[endpoint], data=bad).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]


def test_limits_off_in_the_main_test_app(client):
    assert [_wrong_login(client).status_code for _ in range(12)] == [422] * 12


@pytest.fixture
def redis_prefix():
    """A key prefix unique to this test; the keys are deleted afterwards."""
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL} (set TEST_REDIS_URL)")
    prefix = f"blagis-test-{uuid.uuid4().hex}"
    yield prefix
    keys = list(connection.scan_iter(match=f"*{prefix}*"))
    if keys:
        connection.delete(*keys)
    connection.close()


def test_login_limit_on_redis(app, database, redis_prefix):
    limited = _limited_app(database, REDIS_URL, redis_prefix)
    client = limited.test_client()
    assert [_wrong_login(client).status_code for _ in range(3)] == [422] * 3
    _assert_429_page(_wrong_login(client), "fr")
    import redis

    keys = list(redis.Redis.from_url(REDIS_URL).scan_iter(match=f"*{redis_prefix}*"))
    assert keys, "the count is kept in Redis under the configured prefix"


def test_two_apps_share_the_count_on_redis(app, database, redis_prefix):
    """Two instances (two gunicorn workers or servers) share one Redis: one count."""
    first = _limited_app(database, REDIS_URL, redis_prefix).test_client()
    second = _limited_app(database, REDIS_URL, redis_prefix).test_client()
    assert _wrong_login(first).status_code == 422
    assert _wrong_login(second).status_code == 422
    assert _wrong_login(first).status_code == 422
    _assert_429_page(_wrong_login(second), "fr")
    _assert_429_page(_wrong_login(first), "fr")
    # A different prefix (another site on the same Redis) has its own count.
    other = _limited_app(database, REDIS_URL, redis_prefix + "-other").test_client()
    assert _wrong_login(other).status_code == 422


@pytest.mark.parametrize(
    "method,url,data",
    [
        ("GET", "/objectives/a%00b", None),
        ("POST", "/auth/login", {"email": "a@example.org\x00", "password": "whatever!!"}),
        ("POST", "/auth/login", {"e\x00mail": "x"}),
    ],
)
def test_nul_characters_are_a_bad_request(client, method, url, data):
    response = client.open(url, method=method, data=data)
    assert response.status_code == 400
    assert "Requête incorrecte" in response.get_data(as_text=True)


def test_nul_characters_in_query_parameters_are_dropped(client):
    assert client.get("/?lang=en%00").status_code == 200
    assert 'lang="en"' in client.get("/?lang=e%00n").get_data(as_text=True)


# Views that must be rate limited, with their key.
LIMITED = {
    "auth.login": {"RATELIMIT_LOGIN", "RATELIMIT_LOGIN_FAILURES"},
    "auth.register": {"RATELIMIT_REGISTER"},
    "auth.reset_request": {"RATELIMIT_RESET"},
    "auth.resend_confirmation": {"RATELIMIT_RESET"},
    "initiatives.new": {"RATELIMIT_PROPOSE"},
    "initiatives.report": {"RATELIMIT_REPORT"},
    "events.register": {"RATELIMIT_REGISTRATION"},
}


def test_abuse_prone_views_are_rate_limited(app):
    from blagis.ratelimits import DEFAULTS, limits_of

    for endpoint, keys in LIMITED.items():
        view = app.view_functions[endpoint]
        assert set(limits_of(view)) == keys, f"{endpoint} needs @limit"
        assert keys <= set(DEFAULTS)


def test_unknown_limit_key_is_refused():
    from blagis.ratelimits import limit

    with pytest.raises(KeyError):
        limit("RATELIMIT_TYPO")


def test_unread_messages_do_not_grow_the_session_cookie(client, auth, make_user):
    """A client that never follows the redirects keeps only the newest waiting messages."""
    from blagis.security import MAX_WAITING_MESSAGES

    auth.login_as(make_user())
    with client.session_transaction() as session:
        session["_flashes"] = [("info", f"Message {n}") for n in range(20)]
    client.get("/events.ics")  # a response that shows no message
    with client.session_transaction() as session:
        kept = session["_flashes"]
        assert "_user_id" in session  # still logged in
    assert [text for _, text in kept] == [f"Message {n}" for n in range(15, 20)]
    assert len(kept) == MAX_WAITING_MESSAGES
