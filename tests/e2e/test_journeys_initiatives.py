"""Initiatives in a real browser, in French and in English: a resident proposes, staff publish
in another browser, the resident sees it published and supports a neighbour's initiative.

Elements are found by role and by the text the person reads (from the catalogue): a missing
label or translation fails here.
"""

import re

import pytest

from tests.e2e import scenes
from tests.e2e.helpers import assert_accessible, assert_no_problems, confirmation_path, tr
from tests.e2e.test_journeys import click, log_in, path, register

pytestmark = pytest.mark.e2e

TITLE = {"fr": "Des jardinières sur la place du marché", "en": "Planters on the market square"}


def staff_page(open_page, make_user, lang: str, viewport: str = "desktop"):
    """Staff of Sceaux, logged in through the form in their own browser."""
    staff = make_user(f"agent-{lang}@example.org", role="staff", scope="sceaux", name="Agent")
    page = open_page(lang, viewport)
    page.goto("/auth/login")
    log_in(page, lang, staff.email)
    return page


def initiative_row(page, title: str):
    return page.locator("main li").filter(has=page.get_by_role("link", name=title, exact=True))


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_resident_proposes_staff_publish_resident_supports_another(app, open_page, make_user, lang):
    neighbour = scenes.initiative(app, make_user, title="Une boîte à livres devant l’école")

    # Sign up: the confirmation link from the welcome mail, then log in.
    page = open_page(lang, "mobile")
    email = f"proposer-{lang}@example.org"
    page.goto("/auth/register")
    register(page, lang, email, name="Awa Diallo")
    assert path(page) == "/auth/register/sent"
    page.goto(confirmation_path(app, email))
    log_in(page, lang, email)
    assert path(page) == "/account"

    # Propose, from « Mon compte ».
    click(page, "link", tr(lang, "Propose an initiative"), within="main")
    assert page.get_by_role("heading", level=1).inner_text() == tr(lang, "Propose an initiative")
    page.get_by_label(tr(lang, "Title")).fill(TITLE[lang])
    page.get_by_label(tr(lang, "Summary")).fill("Fleurir la place avec des bacs entretenus.")
    page.get_by_label(tr(lang, "Description")).fill("Des bacs en bois, plantés par les voisins.")
    page.get_by_label(tr(lang, "Commune")).select_option(label="Sceaux")
    click(page, "button", tr(lang, "Send my proposal"), within="main")
    assert page.get_by_role("heading", level=1).inner_text() == TITLE[lang]

    # Pending on « Mon compte », in words.
    click(page, "link", re.compile("^" + tr(lang, "My account")), within="header")
    row = initiative_row(page, TITLE[lang])
    assert tr(lang, "Awaiting moderation") in row.inner_text()

    # Staff, in another browser: the moderation queue, the initiative, « Publier ».
    staff = staff_page(open_page, make_user, lang)
    click(staff, "link", tr(lang, "Moderation"), within="nav.main-nav")
    assert path(staff) == "/staff/initiatives"
    click(staff, "link", TITLE[lang], within="main")
    staff.get_by_role("radio", name=tr(lang, "Publish"), exact=True).check()
    click(staff, "button", tr(lang, "Save the decision"), within="main")
    assert re.fullmatch(r"/staff/initiatives/\d+", path(staff))
    assert tr(lang, "Published") in staff.locator("main .initiative__meta").inner_text()
    assert_no_problems(staff)

    # The resident sees it published.
    page.reload()
    row = initiative_row(page, TITLE[lang])
    assert tr(lang, "Published") in row.inner_text()
    assert tr(lang, "Awaiting moderation") not in row.inner_text()

    # …and in the public list, where they support a neighbour's initiative.
    click(page, "link", tr(lang, "Initiatives"), within="nav.main-nav")
    assert page.get_by_role("link", name=TITLE[lang], exact=True).is_visible()
    page.get_by_role("searchbox", name=tr(lang, "Words to look for")).fill("livres")
    click(page, "button", tr(lang, "Search"), within="main")
    click(page, "link", "Une boîte à livres devant l’école", within="main")
    assert path(page) == f"/initiatives/{neighbour}"
    supports = page.get_by_role("region", name=tr(lang, "Supports"))
    click(page, "button", tr(lang, "I support this initiative"), within="main")
    assert supports.get_by_role("button", name=tr(lang, "Withdraw my support")).is_visible()
    count = {
        "fr": "1 personne soutient cette initiative.",
        "en": "1 person supports this initiative.",
    }
    assert supports.get_by_text(count[lang]).is_visible()
    assert_accessible(page, f"supported initiative ({lang}, mobile)")
    assert_no_problems(page)
