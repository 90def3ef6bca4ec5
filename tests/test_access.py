"""Who may do what: every rule of ``app.url_map`` against a table, as six kinds of visitor.

Adding a route means adding one line to ``ACCESS``:

    "events_staff.edit": Access(COMMUNE_STAFF, params={"id": "event_sceaux"}),

``params`` maps a URL argument to a key of the ids made by the ``SETUP`` functions (or by
``_base_ids``); arguments without a mapping are looked up by their own name. A domain that
needs rows for its routes appends a function ``setup(users) -> {key: value}`` to ``SETUP``
(objects in Sceaux, owned by ``users["resident"]``). ``by_method={"POST": LOGIN}`` gives one
method another level; ``denied=404`` for routes that hide what a visitor may not see.
"""

from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from blagis.extensions import db
from blagis.models import ObjectiveNode, Role, User, UserSession, utcnow
from tests.conftest import PASSWORD

PUBLIC = "public"  # everyone, anonymous included
LOGIN = "login"  # any account
VOLUNTEER = "volunteer"  # volunteers and above
STAFF = "staff"  # staff of any commune and admins
COMMUNE_STAFF = "commune_staff"  # staff of the object's commune (Sceaux), unscoped staff, admins
ADMIN = "admin"
OWNER = "owner"  # only the account that owns the object: SETUP rows belong to "resident"
OWNER_OR_COMMUNE_STAFF = "owner_or_commune_staff"  # the owner, or staff of its commune (Sceaux)

VISITORS = ("anonymous", "resident", "volunteer", "other_staff", "staff", "admin")

ALLOWED = {
    PUBLIC: set(VISITORS),
    LOGIN: {"resident", "volunteer", "other_staff", "staff", "admin"},
    VOLUNTEER: {"volunteer", "other_staff", "staff", "admin"},
    STAFF: {"other_staff", "staff", "admin"},
    COMMUNE_STAFF: {"staff", "admin"},
    ADMIN: {"admin"},
    OWNER: {"resident"},
    OWNER_OR_COMMUNE_STAFF: {"resident", "staff", "admin"},
}


@dataclass(frozen=True)
class Access:
    level: str
    #: URL argument -> key in the ids dict (default: the argument's own name)
    params: dict = field(default_factory=dict)
    #: form data sent with POST (default: nothing, so a form answers 400/422 and stores nothing)
    data: dict = field(default_factory=dict)
    #: methods checked (default: every method of the rule but HEAD/OPTIONS)
    methods: tuple = ()
    #: another level for one method, e.g. {"POST": LOGIN} on a public page
    by_method: dict = field(default_factory=dict)
    #: the status a logged-in visitor gets when refused (403; 404 for routes that hide it)
    denied: int = 403
    #: the route ends the visitor's session (log-out): the walker gives it back afterwards
    ends_session: bool = False

    def level_for(self, method: str) -> str:
        return self.by_method.get(method, self.level)


ACCESS: dict[str, Access] = {
    "static": Access(PUBLIC, params={"filename": "static_file"}),
    "main.index": Access(PUBLIC),
    "main.privacy": Access(PUBLIC),
    "main.terms": Access(PUBLIC),
    "main.accessibility": Access(PUBLIC),
    "main.healthz": Access(PUBLIC),
    "auth.login": Access(PUBLIC),
    "auth.logout": Access(PUBLIC, ends_session=True),
    "auth.register": Access(PUBLIC),
    "auth.check_mailbox": Access(PUBLIC),
    "auth.confirm": Access(PUBLIC, params={"token": "confirm_token"}),
    "auth.resend_confirmation": Access(PUBLIC),
    "auth.reset_request": Access(PUBLIC),
    "auth.reset_password": Access(PUBLIC, params={"token": "reset_token"}),
    "account.index": Access(LOGIN),
    "account.logout_everywhere": Access(LOGIN, ends_session=True),
    "account.export": Access(LOGIN),
    "account.delete": Access(LOGIN),
    "account.edit": Access(LOGIN),
    "objectives.index": Access(PUBLIC),
    "objectives.node": Access(PUBLIC, params={"code": "objective_code"}),
    "objectives_api.api_objectives": Access(PUBLIC),
    # indicators (issue 7)
    "report.index": Access(STAFF),
    "report.report_csv": Access(STAFF),
    "report.set_target": Access(STAFF),
    "admin.users": Access(ADMIN),
    "admin.audit": Access(ADMIN),
    # --- initiatives (published one in Sceaux by "resident"; another by a non-visitor) ---
    "initiatives.index": Access(PUBLIC),
    "initiatives.show": Access(PUBLIC, params={"id": "initiative_sceaux"}),
    "initiatives.new": Access(LOGIN),
    # Published: its author is sent back to the page (no longer editable), others get 403.
    "initiatives.edit": Access(OWNER, params={"id": "initiative_sceaux"}),
    # The author may not support or report their own: these use someone else's initiative.
    "initiatives.support": Access(LOGIN, params={"id": "initiative_other"}),
    "initiatives.report": Access(LOGIN, params={"id": "initiative_other"}),
    "initiatives_api.api_index": Access(PUBLIC),
    "initiatives_staff.queue": Access(STAFF),
    "initiatives_staff.detail": Access(COMMUNE_STAFF, params={"id": "initiative_sceaux"}),
    "initiatives_staff.moderate": Access(COMMUNE_STAFF, params={"id": "initiative_sceaux"}),
    "initiatives_staff.status": Access(COMMUNE_STAFF, params={"id": "initiative_sceaux"}),
    "initiatives_staff.objectives": Access(COMMUNE_STAFF, params={"id": "initiative_sceaux"}),
    # --- events (an event in Sceaux with a walk-in registration; a partner) ---
    "events.index": Access(PUBLIC),
    "events.detail": Access(PUBLIC, params={"event_id": "event_sceaux"}),
    "events.detail_ics": Access(PUBLIC, params={"event_id": "event_sceaux"}),
    "events.feed": Access(PUBLIC),
    "events.register": Access(LOGIN, params={"event_id": "event_sceaux"}),
    "events.cancel": Access(LOGIN, params={"event_id": "event_sceaux"}),
    "events_api.api_events": Access(PUBLIC),
    "events_staff.index": Access(STAFF),
    "events_staff.new": Access(STAFF),
    "events_staff.partners": Access(STAFF),
    "events_staff.edit_partner": Access(STAFF, params={"partner_id": "partner"}),
    "events_staff.edit": Access(COMMUNE_STAFF, params={"event_id": "event_sceaux"}),
    "events_staff.registrations": Access(COMMUNE_STAFF, params={"event_id": "event_sceaux"}),
    "events_staff.registrations_csv": Access(COMMUNE_STAFF, params={"event_id": "event_sceaux"}),
    "events_staff.registrations_sheet": Access(COMMUNE_STAFF, params={"event_id": "event_sceaux"}),
    "events_staff.drop_ins": Access(COMMUNE_STAFF, params={"event_id": "event_sceaux"}),
    "events_staff.attendance": Access(
        COMMUNE_STAFF, params={"registration_id": "registration_sceaux"}
    ),
    "events_staff.cancel_registration": Access(
        COMMUNE_STAFF, params={"registration_id": "registration_sceaux"}
    ),
    # --- mail ---
    "notifications.settings": Access(LOGIN),
    "notifications.unsubscribe_view": Access(PUBLIC, params={"token": "unsubscribe_token"}),
    # Every recipient's address: staff limited to a commune are refused (unscoped staff and
    # admins only; both staff visitors here are scoped, hence ADMIN).
    "outbox_admin.index": Access(ADMIN),
    "outbox_admin.retry": Access(ADMIN, params={"message_id": "outbox_message"}),
    # --- calls ---
    "calls.index": Access(STAFF),
    "calls.opt_out": Access(STAFF),
    "calls.done": Access(COMMUNE_STAFF, params={"call_id": "call_sceaux"}),
}

# Functions ``setup(users) -> dict`` making the rows other domains' routes need.
SETUP: list = []


def _initiatives_setup(users) -> dict:
    from blagis.auth.services import create_user
    from blagis.models import Initiative, ModerationState

    other = create_user("author@example.org", "Author", "a long author password")
    made = {}
    for key, author in (("initiative_sceaux", users["resident"]), ("initiative_other", other)):
        initiative = Initiative(
            title="Un banc place des Ailantes",
            summary="Pour se reposer",
            body="Un banc à l’ombre.",
            commune_code="sceaux",
            author_id=author.id,
            state=ModerationState.PUBLISHED,
            published_at=utcnow(),
        )
        db.session.add(initiative)
        db.session.flush()
        made[key] = initiative.id
    return made


def _events_setup(users) -> dict:
    from blagis.models import Event, EventKind, Partner, Registration, RegistrationState

    partner = Partner(name="Centre social des Blagis")
    start = utcnow() + timedelta(days=5)
    event = Event(
        title="Café numérique",
        kind=EventKind.CAFE_NUMERIQUE,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="Centre social",
        commune_code="sceaux",
        capacity=20,
    )
    db.session.add_all([partner, event])
    db.session.flush()
    registration = Registration(
        event_id=event.id,
        name="Mme Durand",
        phone="01 46 00 00 00",
        seats=1,
        state=RegistrationState.CONFIRMED,
    )
    db.session.add(registration)
    db.session.flush()
    return {"partner": partner.id, "event_sceaux": event.id, "registration_sceaux": registration.id}


def _mail_setup(users) -> dict:
    from blagis.mail import queue_mail
    from blagis.mail.unsubscribe import make_token

    message = queue_mail(
        "someone@example.org",
        "password_reset",
        context={"user": None, "reset_url": "x", "minutes": 1},
    )
    return {
        "unsubscribe_token": make_token(users["resident"], "reminder"),
        "outbox_message": message.id,
    }


def _calls_setup(users) -> dict:
    from blagis.models import CallReason, CallTask, Event, EventKind, Registration

    start = utcnow() + timedelta(days=6)
    event = Event(
        title="Repair café",
        kind=EventKind.REPAIR_CAFE,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="Centre social",
        commune_code="sceaux",
        cancelled=True,
    )
    db.session.add(event)
    db.session.flush()
    registration = Registration(
        event_id=event.id, name="M. Morel", phone="01 46 00 00 01", seats=1, state="confirmed"
    )
    db.session.add(registration)
    db.session.flush()
    call = CallTask(
        registration_id=registration.id,
        event_id=event.id,
        commune_code="sceaux",
        reason=CallReason.EVENT_CANCELLED,
    )
    db.session.add(call)
    db.session.flush()
    return {"call_sceaux": call.id}


SETUP += [_initiatives_setup, _events_setup, _mail_setup, _calls_setup]


def _base_ids(app, users) -> dict:
    from blagis.auth.services import create_user, make_confirm_token, make_reset_token

    with app.app_context():
        spare = create_user("spare@example.org", "Spare", "a long spare password", confirmed=False)
        db.session.commit()
        code = db.session.scalar(select(ObjectiveNode.code).order_by(ObjectiveNode.id).limit(1))
        return {
            "static_file": "css/blagis.css",
            "confirm_token": make_confirm_token(spare),
            "reset_token": make_reset_token(spare),
            "objective_code": code,
        }


@pytest.fixture
def visitors(app, make_user):
    """One logged-in session cookie per kind of visitor (None for anonymous)."""
    users = {
        "resident": make_user("resident@example.org", role=Role.RESIDENT),
        "volunteer": make_user("volunteer@example.org", role=Role.VOLUNTEER),
        "other_staff": make_user("other@example.org", role=Role.STAFF, scope="bagneux"),
        "staff": make_user("staff@example.org", role=Role.STAFF, scope="sceaux"),
        "admin": make_user("admin@example.org", role=Role.ADMIN, commune=None),
    }
    cookies = {"anonymous": None}
    for name, user in users.items():
        client = app.test_client()
        response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, name
        cookies[name] = client.get_cookie("session").value
    ids = _base_ids(app, users)
    ids.update({f"{name}_id": user.id for name, user in users.items()})
    with app.app_context():
        rows = {u.email: db.session.get(User, u.id) for u in users.values()}
        by_role = {name: rows[u.email] for name, u in users.items()}
        for setup in SETUP:
            ids.update(setup(by_role) or {})
        db.session.commit()
    return cookies, ids


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - ACCESS.keys())
    assert not missing, "routes without an access rule: " + ", ".join(
        f"add {endpoint!r} to ACCESS in tests/test_access.py" for endpoint in missing
    )
    stale = sorted(ACCESS.keys() - endpoints)
    assert not stale, f"ACCESS names routes that no longer exist: {stale}"


def _url(app, rule, access: Access, ids: dict) -> str:
    values = {}
    for arg in rule.arguments:
        key = access.params.get(arg, arg)
        assert key in ids, f"{rule.endpoint}: no value for <{arg}>; set params= or add a SETUP"
        values[arg] = ids[key]
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and "/auth/login" in response.headers.get("Location", "")


def _live_sessions(app) -> list[dict]:
    with app.app_context():
        rows = db.session.execute(select(UserSession.__table__)).mappings().all()
        db.session.remove()
    return [dict(row) for row in rows]


def _give_sessions_back(app, sessions: list[dict]) -> None:
    """Put back the session rows a log-out deleted, so the visitors' cookies work again."""
    table = UserSession.__table__
    with app.app_context():
        live = set(db.session.scalars(select(table.c.id)))
        missing = [row for row in sessions if row["id"] not in live]
        if missing:
            db.session.execute(table.insert(), missing)
            db.session.commit()
        db.session.remove()


def walk(app, table: dict, cookies: dict, ids: dict) -> list[str]:
    """Every rule of ``app`` in ``table``, every method, every visitor: what went wrong."""
    failures = []
    sessions = _live_sessions(app)
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        access = table.get(rule.endpoint)
        if access is None:
            continue  # reported by test_every_route_is_in_the_table
        methods = access.methods or sorted(rule.methods - {"HEAD", "OPTIONS"})
        url = _url(app, rule, access, ids)
        for method in methods:
            for visitor in VISITORS:
                client = app.test_client()
                if cookies[visitor]:
                    client.set_cookie("session", cookies[visitor])
                response = client.open(url, method=method, data=access.data)
                response.close()  # static files are streamed from an open file
                if access.ends_session:
                    _give_sessions_back(app, sessions)
                status = response.status_code
                level = access.level_for(method)
                allowed = visitor in ALLOWED[level]
                where = f"{method} {url} as {visitor} ({level}): {status}"
                if status >= 500:
                    failures.append(f"{where}: server error")
                elif allowed:
                    # Flask-Login's refusal carries ?next=; a public page may itself send
                    # to the log-in page (resend confirmation without a session).
                    location = response.headers.get("Location", "")
                    sent_to_login = _is_login_redirect(response) and (
                        level != PUBLIC or "next=" in location
                    )
                    if status in (401, 403, access.denied) or sent_to_login:
                        failures.append(f"{where}: refused but should be allowed")
                elif visitor == "anonymous":
                    if not _is_login_redirect(response):
                        failures.append(f"{where}: expected a redirect to log in")
                elif status != access.denied:
                    failures.append(f"{where}: expected {access.denied}")
    return failures


def test_access_table(app, visitors):
    cookies, ids = visitors
    failures = walk(app, ACCESS, cookies, ids)
    assert not failures, "\n".join(failures)


def test_the_walker_tells_commune_and_owner_rules_apart(app, database, visitors):
    """The harness itself, on an app with two routes of the kinds the domains will add."""
    from flask import abort
    from flask_login import current_user

    from blagis import create_app
    from blagis.permissions import login_required, require_commune_scope, staff_required
    from tests.conftest import test_config as make_config

    cookies, ids = visitors
    probe = create_app(make_config(database))

    @probe.route("/probe/commune/<code>", endpoint="probe_commune")
    @staff_required
    def commune_page(code):
        require_commune_scope(code)
        return "ok"

    @probe.route("/probe/owner/<int:uid>", methods=["GET", "POST"], endpoint="probe_owner")
    @login_required
    def owner_page(uid):
        if current_user.id != uid:
            abort(403)
        return "ok"

    ids = dict(ids, commune="sceaux")
    right = {
        "probe_commune": Access(COMMUNE_STAFF, params={"code": "commune"}),
        "probe_owner": Access(OWNER, params={"uid": "resident_id"}),
    }
    try:
        assert walk(probe, right, cookies, ids) == []
        wrong = {
            "probe_commune": Access(STAFF, params={"code": "commune"}),
            "probe_owner": Access(LOGIN, params={"uid": "resident_id"}, by_method={"POST": PUBLIC}),
        }
        failures = walk(probe, wrong, cookies, ids)
        assert any("/probe/commune/sceaux as other_staff" in f for f in failures)
        assert any("GET /probe/owner/" in f and "as volunteer" in f for f in failures)
        assert any("POST /probe/owner/" in f and "as anonymous" in f for f in failures)
    finally:
        with probe.app_context():
            db.session.remove()
            db.engine.dispose()


def test_forbidden_pages_are_localized(app, visitors):
    cookies, _ids = visitors
    client = app.test_client()
    client.set_cookie("session", cookies["resident"])
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "Accès refusé" in response.get_data(as_text=True)


# POST routes exempt from CSRF on purpose, with the ids that make their own proof fail: the
# one-click unsubscribe link (RFC 8058: mail clients post to it with no form; the signed token
# in the address is the proof, so a forged token must still be refused).
CSRF_EXEMPT = {"notifications.unsubscribe_view": {"unsubscribe_token": "forged.token"}}


def test_every_post_needs_a_csrf_token(app, visitors):
    """CSRFProtect guards every POST route, the domains' included, logged in or not."""
    cookies, ids = visitors
    app.config["WTF_CSRF_ENABLED"] = True
    failures = []
    try:
        for rule in app.url_map.iter_rules():
            access = ACCESS.get(rule.endpoint)
            if access is None or "POST" not in rule.methods:
                continue
            url = _url(app, rule, access, dict(ids, **CSRF_EXEMPT.get(rule.endpoint, {})))
            for visitor in ("anonymous", "admin"):
                client = app.test_client()
                if cookies[visitor]:
                    client.set_cookie("session", cookies[visitor])
                response = client.post(url, data=access.data)
                if response.status_code != 400:
                    failures.append(f"POST {url} as {visitor}: {response.status_code}")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert not failures, "POST accepted without a CSRF token:\n" + "\n".join(failures)


# --- volunteers (issue 6) ---------------------------------------------------------------------


def _volunteers_setup(users) -> dict:
    from datetime import timedelta

    from blagis.models import Event, EventKind, Mission, utcnow

    start = utcnow() + timedelta(days=5)
    event = Event(
        title="Café des bénévoles",
        kind=EventKind.CAFE_BENEVOLES,
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="Centre social",
        commune_code="sceaux",
    )
    db.session.add(event)
    db.session.flush()
    missions = [
        Mission(
            event_id=event.id if i == 0 else None,
            title=f"Mission {i}",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            needed=2,
            commune_code="sceaux",
        )
        for i in range(2)
    ]
    db.session.add_all(missions)
    db.session.flush()
    return {
        "volunteers_event": event.id,
        "volunteers_mission": missions[0].id,
        "volunteers_mission_cancel": missions[1].id,
    }


SETUP.append(_volunteers_setup)
_MISSION = {"mission_id": "volunteers_mission"}
ACCESS.update(
    {
        "volunteers.index": Access(PUBLIC),
        "volunteers.cafe": Access(PUBLIC),
        "volunteers.profile": Access(LOGIN, data={"skills": "juggling"}),
        "volunteers.certificate": Access(LOGIN),
        "missions.detail": Access(PUBLIC, params=_MISSION),
        "missions.signup": Access(LOGIN, params=_MISSION),
        "missions.withdraw": Access(LOGIN, params=_MISSION),
        "volunteers_staff.coverage": Access(STAFF),
        "volunteers_staff.new_mission": Access(STAFF),
        "volunteers_staff.event_missions": Access(
            COMMUNE_STAFF, params={"event_id": "volunteers_event"}
        ),
        "volunteers_staff.mission": Access(COMMUNE_STAFF, params=_MISSION),
        "volunteers_staff.edit_mission": Access(COMMUNE_STAFF, params=_MISSION),
        "volunteers_staff.attendance": Access(COMMUNE_STAFF, params=_MISSION),
        "volunteers_staff.contact": Access(COMMUNE_STAFF, params=_MISSION),
        "volunteers_staff.cancel_mission": Access(
            COMMUNE_STAFF, params={"mission_id": "volunteers_mission_cancel"}
        ),
    }
)


# --- journeys (issue 20): password, desks, attestations -----------------------------------------


def _journeys_setup(users) -> dict:
    from datetime import date

    from blagis.models import Attestation, Desk

    desks = [
        Desk(commune_code="sceaux", name=f"Accueil {i}", address="1 rue de l’Exemple")
        for i in range(2)
    ]
    attestation = Attestation(
        code="ABCDEFGHJKLMNPQR",
        user_id=users["resident"].id,
        full_name="Résidente",
        period_start=date(2026, 1, 10),
        period_end=date(2026, 3, 14),
        total_minutes=180,
        missions=[],
        organisation="Blagis",
        commune_code="sceaux",
    )
    db.session.add_all([*desks, attestation])
    db.session.flush()
    return {
        "desk": desks[0].id,
        "desk_delete": desks[1].id,
        "attestation": attestation.id,
        "attestation_code": "ABCD-EFGH-JKLM-NPQR",
    }


SETUP.append(_journeys_setup)
ACCESS.update(
    {
        "account.password": Access(LOGIN),
        "contact.index": Access(PUBLIC),
        "contact_staff.desks": Access(STAFF),
        "contact_staff.edit": Access(COMMUNE_STAFF, params={"desk_id": "desk"}),
        "contact_staff.delete": Access(COMMUNE_STAFF, params={"desk_id": "desk_delete"}),
        "attestations.lookup": Access(PUBLIC),
        "attestations.verify": Access(PUBLIC, params={"code": "attestation_code"}),
        "attestations.document": Access(
            OWNER_OR_COMMUNE_STAFF, params={"attestation_id": "attestation"}
        ),
        "attestations.staff_issue": Access(STAFF, params={"user_id": "volunteer_id"}),
    }
)
