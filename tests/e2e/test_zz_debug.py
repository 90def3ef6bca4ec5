import pytest
from tests.e2e import scenes
from tests.e2e.test_accessibility import log_in

pytestmark = pytest.mark.e2e

def test_debug(open_page, app, make_user):
    page = open_page("fr", "mobile")
    user = make_user("a@example.org", role="admin")
    log_in(page, user.email)
    scenes.audit_and_outbox(app, make_user)
    for url in ("/admin/outbox", "/admin/audit"):
        page.goto(url)
        print(url, page.evaluate("""() => [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > 361).slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + (e.getAttribute('href')||'') + (e.innerText||'').slice(0,40))"""))
