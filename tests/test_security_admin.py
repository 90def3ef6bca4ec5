"""/admin/users (roles and commune scope, audited, never without an admin) and /admin/audit."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from blagis import audit
from blagis.extensions import db
from blagis.models import AuditEntry, Role, User, utcnow


@pytest.fixture
def admin_client(client, auth, make_user):
    admin = make_user("admin@example.org", role=Role.ADMIN, commune=None, name="Admin")
    auth.login_as(admin)
    return client, admin


def test_users_list_and_search(admin_client, make_user):
    client, _admin = admin_client
    make_user("nadia@example.org", name="Nadia")
    make_user("oscar@example.org", name="Oscar", role=Role.STAFF)
    html = client.get("/admin/users").get_data(as_text=True)
    assert "nadia@example.org" in html and "oscar@example.org" in html
    html = client.get("/admin/users?q=NAD").get_data(as_text=True)
    assert "nadia@example.org" in html and "oscar@example.org" not in html
    html = client.get("/admin/users?role=staff").get_data(as_text=True)
    assert "oscar@example.org" in html and "nadia@example.org" not in html
    for query in ("?page=-3", "?page=abc", "?q=%25_%5C", "?role=emperor", "?page=99999"):
        assert client.get("/admin/users" + query).status_code == 200


def test_change_role_and_scope_is_audited(app, admin_client, make_user):
    client, admin = admin_client
    user = make_user("paul@example.org")
    data = {"user_id": user.id, "role": "staff", "commune": "bagneux"}
    response = client.post("/admin/users", data=data)
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(User, user.id)
        assert row.role == Role.STAFF and row.scope_commune_code == "bagneux"
        (entry,) = db.session.scalars(select(AuditEntry)).all()
        assert entry.action == "user.role" and entry.actor_id == admin.id
        assert entry.object_id == str(user.id)
        assert entry.before == {"role": "resident", "scope_commune": None}
        assert entry.after == {"role": "staff", "scope_commune": "bagneux"}
    # Promoting to admin drops the commune limit: admins act everywhere.
    client.post("/admin/users", data={"user_id": user.id, "role": "admin", "commune": "sceaux"})
    with app.app_context():
        row = db.session.get(User, user.id)
        assert row.role == Role.ADMIN and row.scope_commune_code is None


@pytest.mark.parametrize(
    "data",
    [
        {"user_id": "abc", "role": "staff", "commune": ""},
        {"user_id": "999999999", "role": "staff", "commune": ""},
        {"user_id": "2147483648", "role": "staff", "commune": ""},  # past 32-bit ids
        {"user_id": "99999999999999999999999", "role": "staff", "commune": ""},
        {"role": "staff"},
        {"user_id": "{id}", "role": "emperor", "commune": ""},
        {"user_id": "{id}", "role": "staff", "commune": "atlantis"},
        {"user_id": "{id}", "role": ["staff", "admin"], "commune": "\x00"},
    ],
)
def test_bad_input_is_a_form_error(app, admin_client, make_user, data):
    client, _admin = admin_client
    user = make_user("quinn@example.org")
    data = {k: (str(user.id) if v == "{id}" else v) for k, v in data.items()}
    response = client.post("/admin/users", data=data)
    if any("\x00" in str(v) for v in data.values()):
        assert response.status_code == 400  # refused before the view: blagis/security.py
    else:
        assert response.status_code == 422
        assert 'role="alert"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).role == Role.RESIDENT
        assert db.session.scalar(select(AuditEntry.id)) is None


def test_last_admin_cannot_be_demoted(app, admin_client, make_user):
    client, admin = admin_client
    response = client.post(
        "/admin/users", data={"user_id": admin.id, "role": "staff", "commune": ""}
    )
    assert response.status_code == 422
    assert "dernier administrateur" in response.get_data(as_text=True)
    second = make_user("second@example.org", role=Role.ADMIN)
    response = client.post(
        "/admin/users", data={"user_id": second.id, "role": "resident", "commune": ""}
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(User, admin.id).role == Role.ADMIN


def test_csrf_on_admin_users(app, admin_client, make_user):
    client, _admin = admin_client
    user = make_user("rita@example.org")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/admin/users", data={"user_id": user.id, "role": "admin"})
        assert response.status_code in (400, 422)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    with app.app_context():
        assert db.session.get(User, user.id).role == Role.RESIDENT


def _entries(app, admin, other):
    with app.app_context():
        actor = db.session.get(User, admin.id)
        e1 = audit.record("user.role", "user", other.id, actor=actor, after={"role": "staff"})
        e2 = audit.record("initiative.moderate", "initiative", 12, actor=actor)
        audit.record("event.create", "event", 3, actor=None)
        e1.at = utcnow() - timedelta(days=40)
        e2.at = utcnow() - timedelta(days=10)
        db.session.commit()


def test_audit_filters(app, admin_client, make_user):
    client, admin = admin_client
    other = make_user("sam@example.org")
    _entries(app, admin, other)

    def rows(query=""):
        html = client.get("/admin/audit" + query).get_data(as_text=True)
        return [
            a
            for a in ("user.role", "initiative.moderate", "event.create")
            if f"<td>{a}</td>" in html
        ]

    assert rows() == ["user.role", "initiative.moderate", "event.create"]
    assert rows("?action=user.role") == ["user.role"]
    assert rows("?object_type=event") == ["event.create"]
    assert rows("?actor=admin@example.org") == ["user.role", "initiative.moderate"]
    assert rows(f"?actor={admin.id}") == ["user.role", "initiative.moderate"]
    since = (utcnow() - timedelta(days=20)).date().isoformat()
    assert rows(f"?date_from={since}") == ["initiative.moderate", "event.create"]
    until = (utcnow() - timedelta(days=20)).date().isoformat()
    assert rows(f"?date_to={until}") == ["user.role"]
    # Bad values are ignored, never a 500.
    for query in ("?date_from=2024-13-45", "?date_to=9999-12-31", "?actor=%00", "?page=0"):
        assert client.get("/admin/audit" + query).status_code == 200
    for query in ("?actor=2147483648", "?actor=99999999999999999"):  # past 32-bit ids
        assert client.get("/admin/audit" + query).status_code == 200
        assert rows(query) == []


def test_audit_is_paginated(app, admin_client):
    client, admin = admin_client
    with app.app_context():
        for i in range(55):
            audit.record("thing.touch", "thing", i, actor=db.session.get(User, admin.id))
        db.session.commit()
    first = client.get("/admin/audit").get_data(as_text=True)
    assert first.count("<td>thing.touch</td>") == 50 and 'rel="next"' in first
    second = client.get("/admin/audit?page=2").get_data(as_text=True)
    assert second.count("<td>thing.touch</td>") == 5 and 'rel="prev"' in second


def test_audit_page_query_count_is_bounded(app, admin_client, make_user, count_queries):
    client, admin = admin_client
    users = [make_user(f"many{i}@example.org", role=Role.STAFF) for i in range(20)]
    with app.app_context():
        for i, user in enumerate(users):
            audit.record("thing.touch", "thing", i, actor=db.session.get(User, user.id))
        db.session.commit()
    with count_queries() as q:
        assert client.get("/admin/audit").status_code == 200
    assert q.count <= 10
