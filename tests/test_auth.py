import re

import pytest
from sqlalchemy import select

from blagis.extensions import db
from blagis.models import OutboxMessage, User
from tests.conftest import PASSWORD

GOOD = {
    "email": "Alice@Example.org",
    "display_name": "Alice",
    "password": "a long enough password",
    "password_confirm": "a long enough password",
    "commune": "sceaux",
    "accept_terms": "y",
}


def test_register_logs_in_and_lowercases_email(app, client):
    response = client.post("/auth/register", data=GOOD)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "alice@example.org"))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert user.locale == "fr"
        mails = db.session.scalars(select(OutboxMessage)).all()
        assert [m.template for m in mails] == ["account_created"]
    assert "Alice" in client.get("/account").get_data(as_text=True)


def test_register_duplicate_email_case_insensitive(client, make_user):
    make_user("alice@example.org")
    response = client.post("/auth/register", data=GOOD)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html and 'aria-describedby="email-error"' in html


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
    for data in ({}, {"email": ["a", "b"]}, {"commune": "\x00"}, {"password": "é" * 5000}):
        assert client.post("/auth/register", data=data).status_code == 422


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
    message = "Adresse e-mail ou mot de passe incorrect."
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
