"""Events in a real browser, in French and in English: the waiting list of a full workshop,
and the staff's day (create an event, register someone at the desk, take attendance on a
phone, link an initiative to an objective).

Elements are found by role and by the text the person reads (from the catalogue).
"""

import re
from datetime import timedelta

import pytest

from blagis.models import utcnow
from blagis.timeutils import PARIS
from tests.e2e import scenes
from tests.e2e.helpers import assert_accessible, assert_no_problems, tr, trn
from tests.e2e.test_journeys import click, flash, log_in, path
from tests.e2e.test_journeys_initiatives import staff_page

pytestmark = pytest.mark.e2e

WORKSHOP = "Atelier couture : réparer ses vêtements"


def resident_page(open_page, make_user, lang: str, email: str, name: str, viewport="desktop"):
    make_user(email, name=name)
    page = open_page(lang, viewport)
    page.goto("/auth/login")
    log_in(page, lang, email)
    return page


def registration_box(page):
    return page.get_by_role("region", name=tr(page.lang, "Registration"))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_waiting_list_then_promoted_when_someone_cancels(app, open_page, make_user, lang):
    event_id = scenes.event(app, capacity=1, max_seats=1, title=WORKSHOP)

    # The first resident takes the only place, from the list of activities.
    first = resident_page(open_page, make_user, lang, f"first-{lang}@example.org", "Fatou Sow")
    click(first, "link", tr(lang, "Events"), within="nav.main-nav")
    click(first, "link", WORKSHOP, within="main")
    assert path(first) == f"/events/{event_id}"
    assert (
        trn(lang, "%(num)d place left", "%(num)d places left", 1)
        in first.locator("main .event-detail__facts").inner_text()
    )
    click(first, "button", tr(lang, "I sign up"), within="main")
    assert tr(lang, "Registered") in registration_box(first).inner_text()

    # The second finds it full, in words, and joins the waiting list.
    second = resident_page(
        open_page, make_user, lang, f"second-{lang}@example.org", "Marc Leroy", "mobile"
    )
    second.goto(f"/events/{event_id}")
    assert tr(lang, "Full") in second.locator("main .event-detail__facts").inner_text()
    click(second, "button", tr(lang, "Join the waiting list"), within="main")
    box = registration_box(second)
    assert tr(lang, "On the waiting list") in box.inner_text()
    assert tr(lang, "You are number %(n)d in the queue.") % {"n": 1} in box.inner_text()
    assert_accessible(second, f"waiting list ({lang}, mobile)")

    # The first cancels; the second is promoted: confirmed on the event page and on « Mon compte ».
    # Cancelling asks first, on a page of its own (no JavaScript): « Oui, annuler … ».
    click(first, "link", tr(lang, "Cancel my registration"), within="main")
    assert_accessible(first, f"cancel confirmation ({lang}, mobile)")
    click(first, "button", tr(lang, "Yes, cancel my registration"), within="main")
    assert tr(lang, "On the waiting list") not in registration_box(first).inner_text()
    second.reload()
    box = registration_box(second)
    assert tr(lang, "Registered") in box.inner_text()
    assert tr(lang, "On the waiting list") not in box.inner_text()
    click(second, "link", re.compile("^" + tr(lang, "My account")), within="header")
    mine = second.get_by_role("region", name=tr(lang, "My registrations"))
    item = mine.locator("li").filter(has=second.get_by_role("link", name=WORKSHOP))
    assert tr(lang, "Registered") in item.inner_text()
    assert_no_problems(first)
    assert_no_problems(second)


def local(days: int, hour: int) -> str:
    """A datetime-local value, Paris time, ``days`` from now."""
    when = (utcnow() + timedelta(days=days)).astimezone(PARIS)
    return when.replace(hour=hour, minute=0).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_staff_create_an_event_register_a_walk_in_take_attendance_link_an_objective(
    app, open_page, make_user, lang
):
    title = {"fr": "Repair café de décembre", "en": "December repair café"}[lang]
    resident = make_user(f"inscrite-{lang}@example.org", name="Inès Martin")
    initiative_id = scenes.initiative(app, make_user, title="Un composteur collectif")

    # Create an event through the form.
    staff = staff_page(open_page, make_user, lang)
    click(staff, "link", tr(lang, "Manage events"), within="nav.main-nav")
    click(staff, "link", tr(lang, "Create an event"), within="main")
    staff.get_by_label(tr(lang, "Title")).fill(title)
    staff.get_by_label(tr(lang, "Kind of activity")).select_option(label=tr(lang, "Repair café"))
    staff.get_by_label(tr(lang, "Description")).fill("Apportez vos objets cassés.")
    staff.get_by_label(tr(lang, "Start"), exact=True).fill(local(4, 14))
    staff.get_by_label(tr(lang, "End"), exact=True).fill(local(4, 17))
    staff.get_by_label(tr(lang, "Place"), exact=True).fill("Centre social des Blagis")
    staff.get_by_label(tr(lang, "Commune")).select_option(label="Sceaux")
    staff.get_by_label(tr(lang, "Capacity (seats)")).fill("8")
    click(staff, "button", tr(lang, "Publish"), within="main")
    assert tr(lang, "The event is published.") in flash(staff)
    assert staff.get_by_role("heading", level=1).inner_text() == title
    event_path = path(staff)
    assert re.fullmatch(r"/staff/events/\d+/registrations", event_path)
    event_id = int(event_path.split("/")[3])
    scenes.register(app, resident, event_id)

    # Register a person without an account, at the desk: name and phone.
    staff.get_by_label(tr(lang, "Name"), exact=True).fill("Mme Nguyen")
    staff.get_by_label(tr(lang, "Phone")).fill("06 12 34 56 78")
    click(staff, "button", tr(lang, "Register"), within="main")
    attendance = staff.locator("main ul.attendance-list")
    assert "Mme Nguyen" in attendance.inner_text() and "06 12 34 56 78" in attendance.inner_text()
    assert_no_problems(staff)

    # Attendance on a phone: present / absent, told in words and by the pressed button.
    phone = open_page(lang, "mobile")
    phone.context.add_cookies(staff.context.cookies())  # the same agent, on their phone
    phone.goto(event_path)
    marks = (("Mme Nguyen", "Present", "Absent"), ("Inès Martin", "Absent", "Present"))
    for name, mark, other in marks:
        click(phone, "button", f"{tr(lang, mark)} — {name}", within="main")
        button = phone.get_by_role("button", name=f"{tr(lang, mark)} — {name}")
        assert button.get_attribute("aria-pressed") == "true"
        row = phone.locator("main li.attendance-item").filter(has_text=name)
        assert tr(lang, mark) in row.locator(".badge").all_inner_texts()
        assert tr(lang, other) not in row.locator(".badge").all_inner_texts()
    assert_accessible(phone, f"attendance ({lang}, 360 px)")
    assert_no_problems(phone)

    # Link an initiative to an objective (the checkbox tree), then see it on the objective.
    staff.goto(f"/staff/initiatives/{initiative_id}")
    objectives = staff.get_by_role("group", name=tr(lang, "Linked contract objectives"))
    objectives.get_by_role("checkbox", name=re.compile(r"^1\.1\.1 ")).check()
    click(staff, "button", tr(lang, "Save the objectives"), within="main")
    assert objectives.get_by_role("checkbox", name=re.compile(r"^1\.1\.1 ")).is_checked()
    staff.goto("/objectives/1.1.1")
    linked = staff.get_by_role("region", name=tr(lang, "Linked initiatives"))
    assert linked.get_by_role("link", name="Un composteur collectif").is_visible()
    assert_no_problems(staff)
