"""axe-core audit of the volunteers' pages, the annual report and an objective with figures,
in French and English, at both widths (same checks as test_accessibility.py).

Each test builds a small world first (``volunteer_world``): a café des bénévoles linked to
objective 1.1.1 with a mission, and a past mission the logged-in person served, so the
lists, the certificate, the coverage and the figures are not empty.
"""

from datetime import timedelta

import pytest

from tests.e2e.helpers import (
    assert_accessible,
    assert_no_problems,
    assert_page_structure,
    screenshot,
    tr,
)
from tests.e2e.test_accessibility import LONG_EMAIL, LONG_NAME, Page, log_in

pytestmark = pytest.mark.e2e

# fmt: off
PAGES = [
    Page("volunteer",             "/volunteer", shot=True),
    Page("volunteer-profile",     "/volunteer/profile", who="resident"),
    Page("volunteer-profile-own", "/volunteer/profile", who="volunteer"),
    Page("volunteer-cafe",        "/volunteer/cafe", who="volunteer", shot=True),
    Page("mission",               "/missions/{mission}"),
    Page("volunteer-certificate", "/volunteer/certificate", who="volunteer"),
    Page("staff-coverage",        "/staff/volunteers/coverage", who="admin"),
    Page("staff-mission",         "/staff/missions/{mission}", who="admin"),
    Page("staff-report",          "/staff/report", who="admin", shot=True),
    Page("objective-figures",     "/objectives/1.1.1"),
]
# fmt: on


def volunteer_world(app, user_id: int | None) -> dict:
    """A café with a mission (in 3 days), and a past mission served by ``user_id`` this year,
    both through an event linked to objective 1.1.1 (so the figures show them)."""
    from sqlalchemy import select

    from blagis.extensions import db
    from blagis.models import (
        Event,
        EventKind,
        Mission,
        MissionSignup,
        ObjectiveNode,
        SignupState,
        VolunteerProfile,
        utcnow,
    )

    now = utcnow()
    with app.app_context():
        node = db.session.scalar(select(ObjectiveNode).where(ObjectiveNode.code == "1.1.1"))

        def event(start, **values):
            row = Event(
                title="Café des bénévoles",
                description="Se rencontrer autour d’un café.",
                kind=EventKind.CAFE_BENEVOLES,
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                place="Centre social des Blagis",
                commune_code="sceaux",
                **values,
            )
            row.objectives = [node]
            db.session.add(row)
            db.session.flush()
            return row

        def mission(ev, title):
            row = Mission(
                event_id=ev.id,
                title=title,
                description="Accueillir les participants et servir le café.",
                starts_at=ev.starts_at,
                ends_at=ev.ends_at,
                needed=3,
                commune_code="sceaux",
                place=ev.place,
            )
            db.session.add(row)
            db.session.flush()
            return row

        start = now.replace(minute=0, second=0, microsecond=0)
        coming = mission(event(start + timedelta(days=3), capacity=None), "Accueil du café")
        past_start = max(start - timedelta(days=7), start.replace(month=1, day=1, hour=10))
        served = mission(event(past_start, drop_in_count=6), "Préparer la salle")
        if user_id is not None:
            db.session.add(  # the person is made just before: no profile yet
                VolunteerProfile(
                    user_id=user_id,
                    skills=["accueil"],
                    skills_other="",
                    availability=["sat-morning"],
                    contact_ok=True,
                )
            )
            db.session.add(
                MissionSignup(
                    mission_id=served.id,
                    user_id=user_id,
                    state=SignupState.CONFIRMED,
                    attended=True,
                    created_at=past_start - timedelta(days=2),
                )
            )
            db.session.add(
                MissionSignup(
                    mission_id=coming.id,
                    user_id=user_id,
                    state=SignupState.CONFIRMED,
                    created_at=now,
                )
            )
        db.session.commit()
        ids = {"mission": coming.id, "served": served.id}
        db.session.remove()
    return ids


@pytest.mark.parametrize("target", PAGES, ids=[p.name for p in PAGES])
def test_volunteer_page_has_no_axe_violation(reused_page, target, app, make_user):
    page = reused_page
    user = None
    if target.who:
        user = make_user(LONG_EMAIL, role=target.who, name=LONG_NAME)
    with_profile = target.who in ("volunteer", "admin")
    ids = volunteer_world(app, user.id if user and with_profile else None)
    if user:
        log_in(page, user.email)
    response = page.goto(target.path.format(**ids))
    if target.submit:
        with page.expect_navigation() as navigation:
            page.locator("main form[method=post] button[type=submit]").first.click()
        response = navigation.value
    assert response.status == target.status
    assert page.locator("html").get_attribute("lang") == page.lang
    assert_accessible(page, f"{target.name} ({page.lang}, {page.viewport_name})")
    assert_page_structure(page)
    if target.submit:
        assert page.get_by_role("alert").locator("h2").inner_text() == tr(
            page.lang, "The form has errors"
        )
    assert_no_problems(page)
    if target.shot:
        screenshot(page, target.name)
