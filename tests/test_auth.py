import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blagis.extensions import db
from blagis.models import OutboxMessage, User, utcnow
from tests.conftest import PASSWORD

GOOD = {
    "email": "Alice@Example.org",
    "display_name": "Alice",
    "password": "a long enough password",
    "password_confirm": "a long enough password",
    "commune": "sceaux",
    "accept_terms": "y",
}


def _link(app, template: str, path: str) -> str:
    with app.app_context():
        mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.template == template))
        return re.search(r"http://blagis\.test(" + path + r"\S+)", mail.body_text).group(1)


def test_register_asks_to_confirm_then_logs_in(app, client, auth):
    response = client.post("/auth/register", data=GOOD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/register/sent"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "alice@example.org"))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert user.locale == "fr" and user.email_confirmed_at is None
        mails = db.session.scalars(select(OutboxMessage)).all()
        assert [m.template for m in mails] == ["account_created"]
    # Not logged in, and cannot log in before confirming.
    assert client.get("/account").status_code == 302
    refused = auth.login("alice@example.org", GOOD["password"])
    assert refused.status_code == 422
    assert "confirmer votre adresse" in refused.get_data(as_text=True)
    link = _link(app, "account_created", "/auth/confirm/")
    assert client.get(link).status_code == 302
    assert auth.login("alice@example.org", GOOD["password"]).status_code == 302
    assert "Alice" in client.get("/account").get_data(as_text=True)


def test_register_taken_address_same_answer_and_warns_owner(app, client, make_user):
    make_user("alice@example.org", name="Original Alice")
    response = client.post("/auth/register", data=GOOD)
    fresh = client.post("/auth/register", data=dict(GOOD, email="new@example.org"))
    assert response.status_code == fresh.status_code == 302
    assert response.headers["Location"] == fresh.headers["Location"]
    with app.app_context():
        mails = {m.recipient: m.template for m in db.session.scalars(select(OutboxMessage))}
        assert mails == {
            "alice@example.org": "account_exists",
            "new@example.org": "account_created",
        }
        assert db.session.scalar(select(func.count(User.id))) == 2


def test_resend_confirmation_only_after_right_password(app, client, auth):
    client.post("/auth/register", data=GOOD)
    # Without a log-in attempt, nothing is sent.
    assert client.post("/auth/confirm/resend").status_code == 302
    auth.login("alice@example.org", "a wrong password here")
    assert client.post("/auth/confirm/resend").status_code == 302
    page = auth.login("alice@example.org", GOOD["password"]).get_data(as_text=True)
    assert "/auth/confirm/resend" in page
    assert client.post("/auth/confirm/resend").status_code == 302
    with app.app_context():
        templates = db.session.scalars(select(OutboxMessage.template)).all()
        assert templates == ["account_created", "account_created"]


def test_bad_confirmation_link(client):
    assert client.get("/auth/confirm/garbage").status_code == 302


def test_reset_link_confirms_the_address(app, client, auth):
    client.post("/auth/register", data=GOOD)
    client.post("/auth/reset", data={"email": "alice@example.org"})
    link = _link(app, "password_reset", "/auth/reset/")
    new = "a brand new password"
    assert client.post(link, data={"password": new, "password_confirm": new}).status_code == 302
    assert auth.login("alice@example.org", new).status_code == 302


@pytest.mark.parametrize(
    "password",
    ["qwertyuiop", "QwertyUiop", "motdepasse123", "1234567890", "alice@example.org"],
)
def test_register_refuses_common_or_email_passwords(client, password):
    data = dict(GOOD, password=password, password_confirm=password)
    response = client.post("/auth/register", data=data)
    assert response.status_code == 422
    assert 'id="password-error"' in response.get_data(as_text=True)


def test_reset_refuses_common_password(app, client, make_user):
    make_user("carol@example.org")
    client.post("/auth/reset", data={"email": "carol@example.org"})
    link = _link(app, "password_reset", "/auth/reset/")
    for bad in ("password1234", "carol@example.org"):
        response = client.post(link, data={"password": bad, "password_confirm": bad})
        assert response.status_code == 422


def test_register_duplicate_email_case_insensitive(app, client, make_user):
    make_user("alice@example.org")
    response = client.post("/auth/register", data=dict(GOOD, email="ALICE@example.ORG"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 1


@pytest.mark.parametrize(
    "field,value",
    [
        ("email", "not-an-email"),
        ("email", "a" * 300 + "@example.org"),
        ("display_name", ""),
        ("display_name", "x" * 81),
        ("password", "short"),
        ("password_confirm", "something else entirely"),
        ("commune", "atlantis"),
        ("accept_terms", ""),
    ],
)
def test_register_rejects_bad_fields(client, field, value):
    data = dict(GOOD, **{field: value})
    if field == "password":
        data["password_confirm"] = value
    response = client.post("/auth/register", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error_field = field
    assert f'id="{error_field}-error"' in html


def test_register_with_garbage_types_never_500(client):
    for data in ({}, {"email": ["a", "b"]}, {"password": "é" * 5000}):
        assert client.post("/auth/register", data=data).status_code == 422
    # A NUL character is refused before any view (PostgreSQL cannot store it).
    assert client.post("/auth/register", data={"commune": "\x00"}).status_code == 400


def test_login_and_logout(client, make_user, auth):
    user = make_user("bob@example.org")
    response = auth.login("BOB@example.org")
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/account").status_code == 302
    assert user.email == "bob@example.org"


def test_login_wrong_password_same_message_as_unknown_account(client, make_user, auth):
    make_user("bob@example.org")
    wrong = auth.login("bob@example.org", "bad password!!").get_data(as_text=True)
    unknown = auth.login("nobody@example.org", "bad password!!").get_data(as_text=True)
    message = "Adresse e-mail ou mot de passe incorrect."  # the same words for both
    assert message in wrong and message in unknown


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/events", "/events"),
        ("https://evil.example/", "/account"),
        ("//evil.example/", "/account"),
        ("/\\evil.example", "/account"),
        ("javascript:alert(1)", "/account"),
    ],
)
def test_next_only_inside_the_site(client, make_user, target, expected):
    make_user("bob@example.org")
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"email": "bob@example.org", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_account_requires_login(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_password_reset_flow(app, client, make_user, auth):
    make_user("carol@example.org", locale="en")
    response = client.post("/auth/reset", data={"email": "carol@example.org"})
    assert response.status_code == 302
    # An unknown address gets the same answer and queues nothing.
    assert client.post("/auth/reset", data={"email": "x@example.org"}).status_code == 302
    with app.app_context():
        (mail,) = db.session.scalars(select(OutboxMessage)).all()
        assert mail.recipient == "carol@example.org" and mail.locale == "en"
        assert "new password" in mail.subject.lower()
        link = re.search(r"http://blagis\.test(/auth/reset/\S+)", mail.body_text).group(1)
    assert client.get(link).status_code == 200
    bad = client.post(link, data={"password": "short", "password_confirm": "short"})
    assert bad.status_code == 422
    new = "a brand new password"
    response = client.post(link, data={"password": new, "password_confirm": new})
    assert response.status_code == 302
    assert auth.login("carol@example.org", new).status_code == 302
    # The link works once only.
    assert client.get(link).status_code == 302


def test_password_change_ends_other_sessions(app, client, make_user, auth):
    from blagis.auth.services import set_password

    user = make_user("dan@example.org")
    auth.login_as(user)
    assert client.get("/account").status_code == 200
    with app.app_context():
        set_password(db.session.get(User, user.id), "another password here")
        db.session.commit()
    assert client.get("/account").status_code == 302


def test_bad_reset_token(client):
    response = client.get("/auth/reset/not-a-token")
    assert response.status_code == 302


def test_session_rotated_at_login(client, make_user, auth):
    make_user("erin@example.org")
    client.get("/?lang=en")
    with client.session_transaction() as sess:
        sess["planted"] = "fixation"
    auth.login("erin@example.org")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("lang") == "en"


def test_rehash_when_parameters_change(app, make_user, auth):
    user = make_user("frank@example.org")
    old_params = app.config["ARGON2_PARAMS"]
    app.config["ARGON2_PARAMS"] = {"time_cost": 2, "memory_cost": 2048, "parallelism": 1}
    try:
        assert auth.login("frank@example.org").status_code == 302
        with app.app_context():
            new_hash = db.session.get(User, user.id).password_hash
        assert new_hash != user.password_hash and "t=2" in new_hash
    finally:
        app.config["ARGON2_PARAMS"] = old_params


def test_create_user_cli(app, runner):
    result = runner.invoke(
        args=[
            "create-user",
            "Staff@Example.org",
            "--role",
            "staff",
            "--password",
            "0123456789ab",
            "--commune",
            "sceaux",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "staff@example.org"))
        assert user.is_staff and user.scope_commune_code == "sceaux"
    common = runner.invoke(args=["create-user", "y@example.org", "--password", "qwertyuiop"])
    assert common.exit_code != 0 and "common" in common.output
    again = runner.invoke(
        args=["create-user", "staff@example.org", "--role", "staff", "--password", "0123456789ab"]
    )
    assert again.exit_code != 0
    short = runner.invoke(args=["create-user", "x@example.org", "--password", "short"])
    assert short.exit_code != 0


def test_csrf_is_enforced(app, client, make_user):
    make_user("gina@example.org")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(
            "/auth/login", data={"email": "gina@example.org", "password": PASSWORD}
        )
        assert response.status_code == 400
        from tests.conftest import csrf_token_from

        token = csrf_token_from(client.get("/auth/login").get_data(as_text=True))
        response = client.post(
            "/auth/login",
            data={"email": "gina@example.org", "password": PASSWORD, "csrf_token": token},
        )
        assert response.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_password_is_checked_without_the_sqlite_write_lock(app, client, make_user, monkeypatch):
    """argon2 takes ~50 ms: on SQLite no other writer may wait for it (blagis/dbtuning.py)."""
    from blagis import dbtuning
    from blagis.auth import services

    user = make_user()
    seen = []
    verify = services.verify_password

    def probe(password_hash, password):
        connection = db.session.connection()
        seen.append((connection.dialect.name, connection.info.get(dbtuning.INFO_KEY)))
        return verify(password_hash, password)

    monkeypatch.setattr(services, "verify_password", probe)
    client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    client.post("/auth/login", data={"email": user.email, "password": "not the password"})
    assert len(seen) == 2
    for dialect, immediate in seen:
        assert dialect != "sqlite" or immediate is False
    with app.app_context():
        assert db.session.get(User, user.id).last_login_at is not None


# --- sessions: log-out ends every copy; a lifetime (issue 15, item 3) ----------------------


def _copy_of_session(app, client):
    """Another browser holding a copy of ``client``'s session cookie (as a thief would)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_logout_ends_every_copy_of_the_session(app, client, make_user, auth):
    auth.login_as(make_user("copy@example.org"))
    thief = _copy_of_session(app, client)
    assert thief.get("/account").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/account").status_code == 302
    # The copy taken before the log-out opens nothing either, on this or any instance.
    response = thief.get("/account")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_logout_leaves_the_other_devices_logged_in(app, client, make_user, auth):
    user = make_user("two@example.org")
    phone = app.test_client()
    assert phone.post("/auth/login", data={"email": user.email, "password": PASSWORD}).status_code
    auth.login_as(user)
    auth.logout()
    assert phone.get("/account").status_code == 200


def test_logout_everywhere_ends_every_session_of_the_account(app, client, make_user, auth):
    user = make_user("lost-phone@example.org")
    other = make_user("someone-else@example.org")
    phone = app.test_client()
    phone.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    thief = _copy_of_session(app, phone)
    neighbour = app.test_client()
    neighbour.post("/auth/login", data={"email": other.email, "password": PASSWORD})
    auth.login_as(user)
    page = client.get("/account?lang=en").get_data(as_text=True)
    assert 'action="/account/logout-everywhere"' in page and "Log out everywhere" in page
    response = client.post("/account/logout-everywhere", follow_redirects=True)
    assert "You are logged out on every device." in response.get_data(as_text=True)
    for browser in (client, phone, thief):
        assert browser.get("/account").status_code == 302
    assert neighbour.get("/account").status_code == 200  # other accounts are untouched
    assert auth.login(user.email).status_code == 302  # and one logs in again as usual
    assert client.get("/account").status_code == 200


def test_logout_everywhere_is_a_post_with_csrf(app, client, make_user, auth):
    auth.login_as(make_user())
    assert client.get("/account/logout-everywhere").status_code == 405
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/account/logout-everywhere").status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert client.get("/account").status_code == 200


def test_a_session_ends_after_its_lifetime(app, client, make_user, auth):
    from blagis.models import UserSession

    resident = make_user("resident@example.org")
    staff = make_user("agent@example.org", role="staff")
    response = auth.login_as(resident)
    (cookie,) = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "Expires=" in cookie  # a permanent cookie, refused by the server once too old
    staff_client = app.test_client()
    staff_client.post("/auth/login", data={"email": staff.email, "password": PASSWORD})
    with app.app_context():
        rows = {r.user_id: r for r in db.session.scalars(select(UserSession))}
        lived = {uid: row.expires_at - row.created_at for uid, row in rows.items()}
        assert lived[resident.id] == timedelta(days=14)
        assert lived[staff.id] == timedelta(hours=12)  # staff open everyone's data
        rows[resident.id].expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert client.get("/account").status_code == 302
    assert staff_client.get("/account").status_code == 200


def test_password_reset_ends_every_session(app, client, make_user, auth):
    user = make_user("reset-sessions@example.org")
    laptop = app.test_client()
    laptop.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    client.post("/auth/reset", data={"email": user.email})
    link = _link(app, "password_reset", "/auth/reset/")
    new = "a brand new password"
    assert client.post(link, data={"password": new, "password_confirm": new}).status_code == 302
    assert laptop.get("/account").status_code == 302


def test_a_cookie_without_a_session_key_opens_nothing(app, client, make_user, auth):
    """A cookie signed with the secret but naming only the account (as before the sessions
    table, or a forged remember-me) is no session."""
    user = make_user("old-cookie@example.org")
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
    assert client.get("/account").status_code == 302
    client.set_cookie("remember_token", f"{user.id}|forged")
    assert client.get("/account").status_code == 302


# --- password reset: no timing oracle (issue 15, item 7) -----------------------------------


def test_password_reset_does_the_same_work_for_an_unknown_address(
    app, client, make_user, count_queries, monkeypatch
):
    """The same statements and the same rendering whether the account exists or not (the
    timing itself is measured by bench/reset_timing.py, not here); only the known account's
    message stays in the outbox."""
    from blagis.auth import services
    from blagis.mail import queue as mail_queue

    make_user("known@example.org")
    rendered = []
    render = mail_queue.render_message
    sign = services.make_reset_token

    def spy_render(template, context, **kwargs):
        rendered.append((template, context["user"].email))
        return render(template, context, **kwargs)

    monkeypatch.setattr(mail_queue, "render_message", spy_render)
    monkeypatch.setattr(
        services, "make_reset_token", lambda user: rendered.append(("token",)) or sign(user)
    )
    statements = {}
    for email in ("known@example.org", "unknown@example.org"):
        with count_queries() as counted:
            assert client.post("/auth/reset", data={"email": email}).status_code == 302
        statements[email] = [" ".join(s.split()) for s in counted.statements]
    assert statements["known@example.org"] == statements["unknown@example.org"]
    assert any(s.startswith("INSERT INTO outbox_messages") for s in statements["known@example.org"])
    assert rendered == [
        ("token",),
        ("password_reset", "known@example.org"),
        ("token",),
        ("password_reset", "unknown@example.org"),
    ]
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage.recipient)).all() == ["known@example.org"]
