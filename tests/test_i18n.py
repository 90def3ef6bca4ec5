from pathlib import Path

from babel.messages.pofile import read_po

from blagis.extensions import db
from blagis.models import User

PO = Path(__file__).resolve().parent.parent / "blagis" / "translations" / "fr" / "LC_MESSAGES"


def test_french_catalogue_is_complete():
    with open(PO / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    missing = [
        m.id
        for m in catalog
        if m.id and not (m.string if isinstance(m.string, str) else all(m.string))
    ]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not missing, f"untranslated: {missing[:10]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:10]}"


def test_catalogue_is_compiled():
    assert (PO / "messages.mo").exists(), "run the setup command: catalogues are compiled there"


def test_catalogue_covers_the_source():
    """Every translatable string of the code is in the catalogue (extraction is up to date)."""
    from babel.messages.extract import extract_from_dir

    root = Path(__file__).resolve().parent.parent
    with open(PO / "messages.po", "rb") as fh:
        known = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(fh) if m.id}
    method_map = [
        ("blagis/**.py", "python"),
        ("templates/**.html", "jinja2"),
        ("templates/**.txt", "jinja2"),
    ]
    missing = set()
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
        str(root),
        method_map,
        keywords={"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None},
        # Babel's default skips "_*" folders, i.e. templates/_macros: look there too.
        directory_filter=lambda path: (
            Path(path).name not in {"node_modules", "__pycache__"}
            and not Path(path).name.startswith(".")
        ),
    ):
        msgid = message if isinstance(message, str) else message[0]
        if msgid and msgid not in known:
            missing.add(msgid)
    assert not missing, f"not extracted: {sorted(missing)[:10]}"


def test_language_order(client, make_user, auth):
    # Accept-Language when nothing else says.
    html = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    # Unsupported languages fall back to French.
    html = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="fr">' in html


def test_account_preference_then_query(app, make_user, auth):
    user = make_user("en@example.org", locale="en")
    client = app.test_client()
    client.post("/auth/login", data={"email": user.email, "password": "correct horse battery"})
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    # ?lang= wins and is remembered.
    assert '<html lang="fr">' in client.get("/?lang=fr").get_data(as_text=True)
    assert '<html lang="fr">' in client.get("/objectives").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, user.id).locale == "en"


def test_language_switch_keeps_the_page(client):
    html = client.get("/objectives/1?lang=fr").get_data(as_text=True)
    assert 'href="/objectives/1?lang=en"' in html


def test_bad_lang_value_is_ignored(client):
    response = client.get("/?lang=xx%00")
    assert response.status_code == 200


def test_templates_follow_a_forced_language_inside_a_request(app):
    """Mail is written in the recipient's language while the page is in the visitor's."""
    from flask import render_template_string
    from flask_babel import force_locale

    from blagis.mail.queue import _html_env

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string("{{ _('Log in') }}") == "Log in"
        with force_locale("fr"):
            assert render_template_string("{{ _('Log in') }}") == "Se connecter"
            html = _html_env().from_string("{{ _('Events') }}").render()
            assert html == "Événements"
        assert render_template_string("{{ _('Log in') }}") == "Log in"
