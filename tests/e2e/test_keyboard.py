"""Keyboard only: create an account and reach « Mon compte » with Tab, Enter and Space.


At every step the focused element must be on screen with a visible focus indicator.
"""

from urllib.parse import urlsplit

import pytest

from tests.e2e.helpers import (
    assert_focus_visible,
    assert_no_problems,
    confirmation_path,
    focused,
    tr,
)

pytestmark = pytest.mark.e2e

MAX_TABS = 40  # a page needing more Tabs to reach its main action is itself a problem


def path(page) -> str:
    return urlsplit(page.url).path


def tab(page, backwards: bool = False) -> dict:
    """Press Tab (or Shift+Tab) once; the newly focused element must show its focus."""
    page.keyboard.press("Shift+Tab" if backwards else "Tab")
    return assert_focus_visible(page)


def tab_to(page, matches, what: str, backwards: bool = False) -> dict:
    """Press Tab until ``matches(focused)``; every element passed on the way shows its focus."""
    for _ in range(MAX_TABS):
        info = tab(page, backwards)
        if matches(info):
            return info
    pytest.fail(f"{what} not reached in {MAX_TABS} Tab presses")


def type_in_next_field(page, name: str, text: str) -> None:
    """Tab to the next field, which must be ``name`` (the focus order follows the form)."""
    info = tab(page)
    assert info["name"] == name, f"expected the field {name!r} next, focus is on {info}"
    page.keyboard.type(text)


# French on a phone, English on a desktop: both languages and both widths, in half the time.
@pytest.mark.parametrize(("lang", "width"), [("fr", "mobile"), ("en", "desktop")])
def test_create_an_account_with_the_keyboard_only(app, open_page, lang, width):
    page = open_page(lang, width)
    page.goto("/")

    # The first Tab shows the skip link.
    info = tab(page)
    assert info["tag"] == "a" and info["href"] == "#main"
    assert info["text"] == tr(lang, "Skip to content")

    # Through the header to « Créer un compte ».
    register = tr(lang, "Create an account")
    tab_to(page, lambda i: i["tag"] == "a" and i["text"] == register, "the register link")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert path(page) == "/auth/register"

    # The skip link jumps over the header: the next Tab is the first field of the form.
    tab(page)
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    email = f"clavier-{lang}-{page.viewport_name}@example.org"
    type_in_next_field(page, "email", email)
    type_in_next_field(page, "display_name", "Awa Clavier")
    type_in_next_field(page, "password", "une phrase assez longue")
    type_in_next_field(page, "password_confirm", "une phrase assez longue")

    info = tab(page)
    assert info["name"] == "commune"
    page.keyboard.type("Sceaux")  # a closed list box selects the option typed
    assert page.locator("select[name=commune]").input_value() == "sceaux"

    info = tab(page)
    assert info["name"] == "accept_terms"
    page.keyboard.press("Space")
    assert page.locator("input[name=accept_terms]").is_checked()

    create = tr(lang, "Create my account")
    tab_to(page, lambda i: i["tag"] == "button" and i["text"] == create, "the submit button")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert path(page) == "/auth/register/sent"
    assert page.locator("h1").inner_text() == tr(lang, "Check your mailbox")

    # The link of the welcome mail confirms the address and opens the log-in page, where the
    # skip link, two fields and Enter log in.
    page.goto(confirmation_path(app, email))
    assert path(page) == "/auth/login"
    tab(page)
    page.keyboard.press("Enter")
    type_in_next_field(page, "email", email)
    type_in_next_field(page, "password", "une phrase assez longue")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert path(page) == "/account"
    assert page.locator("h1").inner_text() == tr(lang, "My account")
    assert tr(lang, "You are logged in.") in page.locator(".flashes").inner_text()

    # The page opens at the content (the form was sent from #main): Shift+Tab goes back up to
    # the log-out button of the header, which Space presses.
    logout = tr(lang, "Log out")
    tab_to(
        page,
        lambda i: i["tag"] == "button" and i["text"] == logout,
        "the log-out button",
        backwards=True,
    )
    with page.expect_navigation():
        page.keyboard.press("Space")
    assert tr(lang, "You are logged out.") in page.locator(".flashes").inner_text()
    assert_no_problems(page)


# Pages whose every focusable element is visited with Tab (header, content and footer).
TAB_THROUGH = ["/", "/auth/register", "/initiatives", "/events"]


@pytest.mark.parametrize("url", TAB_THROUGH)
@pytest.mark.parametrize("width", ["desktop", "mobile"])
def test_every_element_shows_its_focus(open_page, url, width):
    page = open_page("fr", width)
    page.goto(url)
    count = page.locator("a[href], button, input:not([type=hidden]), select, textarea").count()
    seen = 0
    for _ in range(count + 5):
        page.keyboard.press("Tab")
        if focused(page) is None:  # past the last element: the browser's own interface
            break
        assert_focus_visible(page)
        seen += 1
    assert seen == count, f"{seen} elements reached with Tab, {count} on the page"
