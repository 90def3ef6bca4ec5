"""axe-core audit of every page, in French and English, at desktop and 360-px widths.

To audit a new page, add ONE line to PAGES. A ``{placeholder}`` in the path is filled by the
function of the same name in URL_VALUES (it creates what the page needs and returns the
value), e.g. ``Page("initiative", "/initiatives/{initiative_id}")`` with
``URL_VALUES["initiative_id"] = lambda app, make_user, user: ...`` (``user``: the account
logged in, or None). ``given="name"`` runs ``GIVEN[name](app, make_user, user)`` first, to
fill a page that has no placeholder (a list, « Mon compte »). The data come from
``tests/e2e/scenes.py``, made through the real services.
"""

import json
import re
import string
from typing import NamedTuple
from urllib.parse import quote

import pytest

from tests.conftest import PASSWORD
from tests.e2e import scenes
from tests.e2e.helpers import (
    ROOT,
    assert_accessible,
    assert_no_problems,
    assert_page_structure,
    axe_violations,
    screenshot,
    tr,
)

pytestmark = pytest.mark.e2e


class Page(NamedTuple):
    name: str
    path: str
    who: str | None = None  # None: a visitor; else the role of the account logged in first
    submit: bool = False  # send the page's main form empty, to audit the errors shown
    expired: bool = False  # with submit: a stale CSRF token, as after a long pause (400 page)
    status: int = 200
    shot: bool = False  # save a screenshot (test-artifacts/screenshots/<name>-<lang>-<width>.png)
    given: str | None = None  # GIVEN[given](app, make_user, user) makes the page's data first
    form: str = "main form[method=post]"  # with submit: the form sent (its first button)


# fmt: off
PAGES = [
    Page("home",               "/", shot=True),
    Page("register",           "/auth/register", shot=True),
    Page("register-errors",    "/auth/register", submit=True, status=422, shot=True),
    Page("login",              "/auth/login", shot=True),
    Page("login-errors",       "/auth/login", submit=True, status=422),
    Page("reset-request",      "/auth/reset"),
    Page("reset-password",     "/auth/reset/{reset_token}"),
    Page("account",            "/account", who="resident", shot=True),
    Page("objectives",         "/objectives", shot=True),
    Page("objectives-targets", "/objectives", given="targets", shot=True),
    Page("objective-axis",     "/objectives/1"),
    Page("objective-action",   "/objectives/1.1.1", shot=True),
    Page("privacy",            "/about/privacy"),
    Page("terms",              "/about/terms"),
    Page("accessibility",      "/accessibility", shot=True),
    Page("not-found",          "/no-such-page", status=404),
    Page("method-not-allowed", "/auth/logout", status=405),
    Page("form-expired",       "/auth/login", submit=True, expired=True, status=400),
    Page("check-mailbox",      "/auth/register/sent"),
    Page("account-full",       "/account", who="resident", given="account", shot=True),
    Page("account-delete",     "/account/delete", who="resident"),
    Page("unsubscribe",        "/unsubscribe/{unsubscribe_token}"),
    # Initiatives
    Page("initiatives",        "/initiatives", given="initiatives", shot=True),
    Page("initiatives-search", "/initiatives?q=potager&status=under_study&commune=sceaux"
                               "&objective=1&sort=supported", given="initiatives"),
    Page("initiative",         "/initiatives/{initiative_id}", who="resident", shot=True),
    Page("initiative-visitor", "/initiatives/{initiative_id}"),
    Page("initiative-new",     "/initiatives/new", who="resident"),
    Page("initiative-errors",  "/initiatives/new", who="resident", submit=True, status=422),
    Page("initiative-edit",    "/initiatives/{my_initiative_id}/edit", who="resident"),
    Page("initiatives-queue",  "/staff/initiatives", who="staff", given="initiatives", shot=True),
    Page("initiative-staff",   "/staff/initiatives/{initiative_id}", who="staff", shot=True),
    Page("initiative-staff-errors", "/staff/initiatives/{initiative_id}", who="staff",
         submit=True, status=422, form="main form[action$=status]"),
    Page("forbidden",          "/staff/initiatives", who="resident", status=403),
    # Events
    Page("events",             "/events", given="events", shot=True),
    Page("event",              "/events/{event_id}", who="resident", shot=True),
    Page("event-visitor",      "/events/{event_id}"),
    Page("event-waitlist",     "/events/{waitlisted_event_id}", who="resident"),
    Page("staff-events",       "/staff/events", who="staff", given="events"),
    Page("event-new",          "/staff/events/new", who="staff"),
    Page("event-new-errors",   "/staff/events/new", who="staff", submit=True, status=422),
    Page("event-edit",         "/staff/events/{event_id}/edit", who="staff"),
    Page("attendance",         "/staff/events/{attendance_event_id}/registrations",
         who="staff", shot=True),
    Page("attendance-errors",  "/staff/events/{attendance_event_id}/registrations",
         who="staff", submit=True, status=422, form="main form[action$=registrations]"),
    Page("partners",           "/staff/partners", who="staff", given="partners"),
    Page("partner-edit",       "/staff/partners/{partner_id}/edit", who="staff"),
    # Journeys (issue 20): desks, account self-service, past events, attestations
    Page("contact",            "/contact", given="desks", shot=True),
    Page("staff-desks",        "/staff/desks", who="staff", given="desks"),
    Page("staff-desks-errors", "/staff/desks", who="staff", submit=True, status=422),
    Page("account-password",   "/account/password", who="resident"),
    Page("account-password-errors", "/account/password", who="resident", submit=True,
         status=422),
    Page("event-past",         "/events/{past_event_id}", who="resident", shot=True),
    Page("events-past",        "/events?past=1", given="past_events"),
    Page("event-cancel",       "/events/{my_event_id}/cancel", who="resident"),
    Page("certificate",        "/volunteer/certificate", who="volunteer", given="served"),
    Page("attestation",        "/volunteer/attestations/{my_attestation_id}", who="volunteer",
         shot=True),
    Page("attestation-check",  "/attestations/{attestation_code}", shot=True),
    Page("attestation-lookup", "/attestations?code=NOPE", status=404),
    # Administration
    Page("admin-users",        "/admin/users", who="admin", given="initiatives"),
    Page("admin-audit",        "/admin/audit", who="admin", given="activity"),
    Page("admin-outbox",       "/admin/outbox", who="admin", given="activity"),
]
# fmt: on


LONG_EMAIL = "marie-christine.de-la-fontaine@mairie-bourg-la-reine.example.org"
LONG_NAME = "Marie-Christine de La Fontaine-Beaumarchais"


def _reset_token(app, make_user, user=None):
    from blagis.auth.services import make_reset_token
    from blagis.extensions import db
    from blagis.models import User

    user = make_user()
    with app.app_context():
        return make_reset_token(db.session.get(User, user.id))


def _unsubscribe_token(app, make_user, user=None):
    from blagis.extensions import db
    from blagis.mail.unsubscribe import make_token
    from blagis.models import User

    resident = make_user()
    with app.app_context():
        return make_token(db.session.get(User, resident.id), "reminder")


URL_VALUES = {
    "reset_token": _reset_token,
    "unsubscribe_token": _unsubscribe_token,
    "initiative_id": lambda app, make_user, user: scenes.published_initiative(app, make_user),
    "my_initiative_id": scenes.my_initiative,
    "event_id": lambda app, make_user, user: scenes.event(app),
    "waitlisted_event_id": scenes.full_event,
    "attendance_event_id": lambda app, make_user, user: scenes.event_with_registrations(
        app, make_user
    ),
    "partner_id": scenes.partner,
    "past_event_id": scenes.past_event,
    "my_event_id": lambda app, make_user, user: _my_event(app, user),
    "my_attestation_id": scenes.attestation,
    "attestation_code": scenes.attestation_code,
}


def _my_event(app, user) -> int:
    event_id = scenes.event(app)
    scenes.register(app, user, event_id)
    return event_id


GIVEN = {
    "initiatives": scenes.initiatives,
    "events": scenes.events,
    "partners": scenes.partner,
    "account": scenes.account,
    "activity": scenes.audit_and_outbox,
    "targets": scenes.targets,
    "desks": scenes.desks,
    "past_events": lambda app, make_user, user: [scenes.past_event(app) for _ in range(2)],
    "served": lambda app, make_user, user: scenes.attestation(app, make_user, user),
}


def resolve(path: str, app, make_user, user=None) -> str:
    names = {field for _, field, _, _ in string.Formatter().parse(path) if field}
    return path.format(**{name: URL_VALUES[name](app, make_user, user) for name in names})


def log_in(page, email: str, password: str = PASSWORD, then: str | None = None):
    """Log in through the form, as a person would; ``then``: the page to land on (the form's
    ``next``, one page load fewer). Returns the response of the page landed on."""
    page.goto("/auth/login" + (f"?next={quote(then, safe='/')}" if then else ""))
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    with page.expect_navigation() as navigation:
        page.locator("main form button[type=submit]").click()
    assert "/auth/login" not in page.url, "log-in failed"
    return navigation.value


@pytest.mark.parametrize("target", PAGES, ids=[p.name for p in PAGES])
def test_page_has_no_axe_violation(reused_page, target, app, make_user):
    page = reused_page
    user = None
    if target.who:  # a long name and address: the layout must hold them on a phone
        user = make_user(LONG_EMAIL, role=target.who, name=LONG_NAME)
    if target.given:
        GIVEN[target.given](app, make_user, user)
    path = resolve(target.path, app, make_user, user)
    response = log_in(page, user.email, then=path) if user else page.goto(path)
    form = page.locator(target.form).first
    if target.expired:
        form.locator("input[name=csrf_token]").evaluate("el => { el.value = 'stale'; }")
    if target.submit:
        with page.expect_navigation() as navigation:
            form.locator("button[type=submit]").first.click()
        response = navigation.value
    assert response.status == target.status
    assert page.locator("html").get_attribute("lang") == page.lang
    assert_accessible(page, f"{target.name} ({page.lang}, {page.viewport_name})")
    assert_page_structure(page)
    if target.submit and not target.expired:  # the error summary is in the page's language
        assert page.get_by_role("alert").locator("h2").inner_text() == tr(
            page.lang, "The form has errors"
        )
    assert_no_problems(page)
    if target.shot:
        screenshot(page, target.name)


def test_language_of_the_page_is_declared(page):
    """The whole interface follows the browser's language, and html[lang] says which."""
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == page.lang
    skip = page.locator("a.skip-link")
    assert skip.inner_text() == tr(page.lang, "Skip to content")


def test_the_audit_catches_violations(reused_page):
    """The audit is real: axe reports a low-contrast text and an image without a text."""
    page = reused_page
    page.goto("/")
    page.evaluate(
        """() => {
          const p = document.createElement("p");
          p.textContent = "Faible contraste";
          p.style.color = "#bbbbbb";
          p.style.background = "#ffffff";
          const img = document.createElement("img");
          img.src = "/static/img/logo.svg";
          document.querySelector("main").append(p, img);
        }"""
    )
    found = {v["id"] for v in axe_violations(page)}
    assert {"color-contrast", "image-alt"} <= found


def test_statement_names_the_axe_core_version_used(open_page):
    """The statement says which axe-core tested the pages: the one package.json pins."""
    from blagis.main.views import AXE_CORE_VERSION

    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["axe-core"]
    assert AXE_CORE_VERSION == pinned
    page = open_page("fr", "desktop")
    page.goto("/accessibility")
    axe_violations(page)  # loads the installed axe-core into the page
    assert page.evaluate("() => axe.version") == AXE_CORE_VERSION
    assert AXE_CORE_VERSION in page.locator("main").inner_text()


def test_required_and_optional_fields_are_told(app):
    """RGAA 11.10: the form says all fields are required but those labelled « facultatif »;
    required fields carry ``required``. (No browser needed: the macro's output.)"""
    from flask import render_template_string
    from flask_wtf import FlaskForm
    from wtforms import StringField
    from wtforms.validators import DataRequired, Optional

    class Form(FlaskForm):
        name = StringField("Name", validators=[DataRequired()])
        phone = StringField("Phone", validators=[Optional()])

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        html = render_template_string(
            '{% from "_macros/forms.html" import field, form_errors %}'
            "{{ form_errors(form) }}{{ field(form.name) }}{{ field(form.phone) }}",
            form=Form(meta={"csrf": False}),
        )
    assert "Sauf mention « facultatif », tous les champs sont obligatoires." in html
    assert '<label for="name">Name</label>' in html
    assert (
        '<label for="phone">Phone <span class="label-optional">(facultatif)</span></label>' in html
    )

    def tag(name):
        return re.search(rf'<input [^>]*id="{name}"[^>]*>', html).group(0)

    assert " required" in tag("name") and " required" not in tag("phone")
