"""Volunteers and the annual report in the browser, in French and in English.

A resident opts in as a volunteer, finds the café des bénévoles, signs up for a mission and
sees it on « Mon compte »; staff open the coverage page and the annual report. Elements are
found by role and by the text the person reads (from the catalogue).
"""

import re

import pytest

from tests.e2e.helpers import assert_no_problems, tr
from tests.e2e.test_accessibility_volunteers import volunteer_world
from tests.e2e.test_journeys import assert_language, click, flash, log_in, path

pytestmark = pytest.mark.e2e


def start(page, lang: str, email: str) -> None:
    page.goto("/auth/login")
    log_in(page, lang, email)
    assert path(page) == "/account"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_resident_opts_in_and_signs_up_for_a_cafe_mission(app, open_page, make_user, lang):
    volunteer_world(app, None)  # a café des bénévoles in 3 days with « Accueil du café »
    user = make_user(f"benevole-{lang}@example.org", name="Awa Diallo")
    page = open_page(lang, "mobile" if lang == "fr" else "desktop")
    start(page, lang, user.email)

    # The volunteering page invites the resident to opt in.
    click(page, "link", tr(lang, "Volunteering"), within="nav.main-nav")
    assert path(page) == "/volunteer"
    click(page, "link", tr(lang, "Become a volunteer"), within="main")
    assert path(page) == "/volunteer/profile"
    assert page.get_by_role("heading", level=1).inner_text() == tr(lang, "My volunteer profile")

    # Skills, a free slot in the grid (each box labelled « day — part »), consent.
    page.get_by_label(tr(lang, "Welcoming people")).check()
    page.get_by_label(tr(lang, "Cooking")).check()
    slot = f"{tr(lang, 'Saturday')} — {tr(lang, 'Morning')}"
    page.get_by_label(slot, exact=True).check()
    page.get_by_label(tr(lang, "The team may write to me when a mission needs hands")).check()
    click(page, "button", tr(lang, "I become a volunteer"), within="main")
    assert path(page) == "/volunteer"
    assert tr(lang, "Your volunteer profile is saved.") in flash(page)
    assert_language(page, lang)

    # The café des bénévoles: its next date and the mission that needs hands.
    click(page, "link", tr(lang, "The volunteers' café"), within="main")
    assert path(page) == "/volunteer/cafe"
    assert page.get_by_role("heading", level=1).inner_text() == tr(lang, "The volunteers' café")
    card = page.locator("main article.mission-card", has_text="Accueil du café")
    assert card.is_visible()
    click(page, "button", f"{tr(lang, 'I volunteer')} — Accueil du café", within="main")
    assert re.fullmatch(r"/missions/\d+", path(page))
    assert tr(lang, "You are signed up: thank you! A confirmation e-mail is on its way.") in flash(
        page
    )
    assert page.locator("main .badge", has_text=tr(lang, "You are signed up")).is_visible()

    # « Mon compte »: the mission, its state in words, and the hours block.
    click(page, "link", re.compile("^" + re.escape(tr(lang, "My account"))), within="header")
    block = page.get_by_role("region", name=tr(lang, "My missions"))
    assert block.get_by_role("link", name="Accueil du café").is_visible()
    assert block.locator(".badge", has_text=tr(lang, "Signed up")).is_visible()
    hours = tr(lang, "Hours served: %(hours)s") % {"hours": "0\xa0h"}  # never « 0.0 »
    assert hours in block.inner_text()
    assert block.get_by_role("button", name=f"{tr(lang, 'Withdraw')} — Accueil du café")
    assert_language(page, lang)
    assert_no_problems(page)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_staff_see_the_coverage_and_the_annual_report(app, open_page, make_user, lang):
    volunteer_world(app, None)
    staff = make_user(f"agent-{lang}@example.org", role="admin", name="Claire Agent")
    page = open_page(lang, "desktop" if lang == "fr" else "mobile")
    start(page, lang, staff.email)

    # Coverage: the café's mission is not covered, said in words.
    click(page, "link", tr(lang, "Volunteer coverage"), within="nav.main-nav")
    assert path(page) == "/staff/volunteers/coverage"
    row = page.locator("main table tbody tr", has_text="Accueil du café")
    assert tr(lang, "Not covered") in row.inner_text()

    # The annual report: one section per strategic theme, in the page's language.
    click(page, "link", tr(lang, "Annual report"), within="nav.main-nav")
    assert path(page) == "/staff/report"
    assert_language(page, lang)
    h1 = page.get_by_role("heading", level=1).inner_text()
    assert h1.startswith(tr(lang, "Annual report %(year)d").split("%")[0])
    axes = page.locator("main h2 .tree__code")
    assert [axes.nth(i).inner_text() for i in range(axes.count())] == ["1", "2", "3", "4"]
    assert page.get_by_role("heading", level=2, name=re.compile(r"^1 ")).is_visible()
    assert_no_problems(page)
