"""What a visitor does, in French and in English, with the mouse (clicks) as a person would.

Elements are found by their role and the text the person reads (from the catalogue), so a
missing translation or a renamed button fails here. Add a domain's journeys in its own module
(test_journeys_<domain>.py) with the same fixtures and the helpers below.
"""

import re
from urllib.parse import urlsplit

import pytest

from tests.conftest import PASSWORD
from tests.e2e.helpers import assert_no_problems, confirmation_path, tr

pytestmark = pytest.mark.e2e

LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def path(page) -> str:
    return urlsplit(page.url).path


def click(page, role: str, name: str, *, within: str = "body") -> None:
    """Click the element of ``role`` named ``name`` and wait for the next page."""
    with page.expect_navigation():
        page.locator(within).get_by_role(role, name=name, exact=True).first.click()


def assert_language(page, lang: str) -> None:
    assert page.locator("html").get_attribute("lang") == lang


def flash(page) -> str:
    return page.locator(".flashes").inner_text()


def register(page, lang: str, email: str, name: str = "Inès Martin") -> None:
    """Fill the register form through its visible labels and send it."""
    page.get_by_label(tr(lang, "E-mail address")).fill(email)
    page.get_by_label(tr(lang, "Name shown on the site")).fill(name)
    page.get_by_label(tr(lang, "Password"), exact=True).fill(PASSWORD)
    page.get_by_label(tr(lang, "Confirm the password")).fill(PASSWORD)
    page.get_by_label(tr(lang, "Your commune")).select_option(label="Bagneux")
    page.get_by_label(tr(lang, "I accept the terms of use and the privacy policy")).check()
    click(page, "button", tr(lang, "Create my account"), within="main")


def log_in(page, lang: str, email: str) -> None:
    page.get_by_label(tr(lang, "E-mail address")).fill(email)
    page.get_by_label(tr(lang, "Password")).fill(PASSWORD)
    click(page, "button", tr(lang, "Log in"), within="main")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_visitor_switches_language_registers_and_explores_the_objectives(app, open_page, lang):
    other = "en" if lang == "fr" else "fr"
    page = open_page(other, "desktop")  # the browser speaks the other language
    page.goto("/")
    assert_language(page, other)

    # The language switch (a link in its own navigation) changes every word of the page.
    click(page, "link", LANGUAGE_NAMES[lang], within="nav.lang-switch")
    assert_language(page, lang)
    assert page.get_by_role("heading", level=1).inner_text() == tr(
        lang, "Take part in the life of the Blagis quarter"
    )

    # Register: « check your mailbox », still in the chosen language; the link of the
    # welcome mail confirms the address, then the person logs in and lands on « Mon compte ».
    email = f"parcours-{lang}@example.org"
    click(page, "link", tr(lang, "Create an account"), within="header")
    assert path(page) == "/auth/register"
    register(page, lang, email)
    assert path(page) == "/auth/register/sent"
    assert_language(page, lang)
    assert page.get_by_role("heading", level=1).inner_text() == tr(lang, "Check your mailbox")
    page.goto(confirmation_path(app, email))
    assert path(page) == "/auth/login"
    assert tr(lang, "Your e-mail address is confirmed. You can log in.") in flash(page)
    log_in(page, lang, email)
    assert path(page) == "/account"
    assert_language(page, lang)
    assert page.get_by_role("heading", level=1).inner_text() == tr(lang, "My account")
    assert email in page.locator("main").inner_text()

    # Log out, then log in again.
    click(page, "button", tr(lang, "Log out"), within="header")
    assert path(page) == "/"
    assert tr(lang, "You are logged out.") in flash(page)
    assert_language(page, lang)
    click(page, "link", tr(lang, "Log in"), within="header")
    log_in(page, lang, email)
    assert path(page) == "/account"
    assert tr(lang, "You are logged in.") in flash(page)
    assert_language(page, lang)

    # The objectives tree, then one node, through the main menu.
    click(page, "link", tr(lang, "Contract objectives"), within="nav.main-nav")
    assert path(page) == "/objectives"
    tree = page.locator("main ul.tree--root")
    assert tree.locator("> li").count() == 4  # the four strategic themes
    click(page, "link", re.compile(r"^1\.1 "), within="main")
    assert path(page) == "/objectives/1.1"
    assert_language(page, lang)
    breadcrumb = page.get_by_role("navigation", name=tr(lang, "Breadcrumb"))
    assert breadcrumb.get_by_role("link", name=tr(lang, "Contract objectives")).is_visible()
    assert page.locator("main h1").inner_text()
    assert_no_problems(page)


def test_wrong_password_is_told_next_to_the_form(open_page):
    page = open_page("fr", "mobile")
    page.goto("/auth/login")
    log_in(page, "fr", "personne@example.org")
    assert path(page) == "/auth/login"
    alert = page.get_by_role("alert")
    wrong = tr(
        "fr",
        "Wrong e-mail address or password. After several failed attempts from "
        "your connection, log-in to this account is paused for a few minutes.",
    )
    assert wrong in alert.inner_text()
    assert tr("fr", "The form has errors") in alert.inner_text()
