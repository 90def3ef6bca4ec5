"""Language choice and locale-aware formatting (French first, English too)."""

import os
from datetime import datetime
from functools import lru_cache

from babel import dates as babel_dates
from flask import current_app, g, request, session, url_for
from flask_babel import format_decimal, get_locale, get_translations
from flask_login import current_user

from blagis.timeutils import PARIS

LANG_SESSION_KEY = "lang"
# The language the source strings are written in: it needs no catalogue.
SOURCE_LOCALE = "en"


def supported_locales() -> tuple[str, ...]:
    return tuple(current_app.config["BLAGIS_LOCALES"])


def select_locale() -> str:
    """``?lang=`` (remembered in the session), then the account, then Accept-Language, then fr."""
    locales = supported_locales()
    asked = request.args.get("lang")
    if asked in locales:
        session[LANG_SESSION_KEY] = asked
        return asked
    remembered = session.get(LANG_SESSION_KEY)
    if remembered in locales:
        return remembered
    if current_user and current_user.is_authenticated and current_user.locale in locales:
        return current_user.locale
    return request.accept_languages.best_match(locales) or locales[0]


def current_locale() -> str:
    return str(get_locale() or "fr")


_labels: dict[tuple[int, str], dict] = {}


def translated(mapping: dict) -> dict[str, str]:
    """``{key: label}`` of a module's lazy labels, in the current language, translated once.

    A list page asks for a label per row (a moderation queue: ~280 look-ups, 6 ms a page);
    the catalogues do not change while the process runs, so each language's copy is kept.
    """
    key = (id(mapping), current_locale())
    labels = _labels.get(key)
    if labels is None:
        labels = _labels[key] = {k: str(v) for k, v in mapping.items()}
    return labels


def lang_switch_url(lang: str) -> str:
    """The current page in another language (keeps the query string)."""
    if request.endpoint is None or request.url_rule is None:
        return url_for("main.index", lang=lang)
    args = request.args.to_dict(flat=False)
    args["lang"] = [lang]
    values = dict(request.view_args or {})
    try:
        return url_for(request.endpoint, **values, **args)
    except Exception:  # noqa: BLE001 - a page without a GET form (POST-only) falls back home
        return url_for("main.index", lang=lang)


# Formatting a date with Babel costs ~40 µs, and a listing formats a hundred; the same events'
# dates come back on every page, so the results are kept (the time zone is fixed: Paris).
@lru_cache(maxsize=16384)
def _datetime_text(value, format: str, locale: str) -> str:  # noqa: A002
    return babel_dates.format_datetime(value, format, tzinfo=PARIS, locale=locale)


@lru_cache(maxsize=16384)
def _date_text(value, format: str, locale: str) -> str:  # noqa: A002
    if isinstance(value, datetime):
        value = value.astimezone(PARIS)
    return babel_dates.format_date(value, format, locale=locale)


def fmt_datetime(value, format="medium"):  # noqa: A002
    """A datetime in Europe/Paris, in the current locale."""
    return _datetime_text(value, format, current_locale()) if value else ""


def fmt_date(value, format="medium"):  # noqa: A002
    return _date_text(value, format, current_locale()) if value else ""


def fmt_number(value):
    return format_decimal(value) if value is not None else ""


def _translations():
    """Flask-Babel's catalogue for the request's language, looked up once per language.

    Flask-Babel finds it again for every string a template translates (~20 µs: context, domain,
    locale, cache); a page translates 40 to 300 strings. Kept on ``g`` with the locale object it
    was found for, so ``force_locale`` (mail in the recipient's language) still switches it.
    """
    state = g.get("_flask_babel")
    locale = getattr(state, "babel_locale", None)
    kept = g.get("_blagis_translations")
    if locale is not None and kept is not None and kept[0] is locale:
        return kept[1]
    translations = get_translations()
    state = g.get("_flask_babel")
    g._blagis_translations = (getattr(state, "babel_locale", None), translations)
    return translations


def check_catalogues(app) -> None:
    """Refuse to start when a configured language has no compiled catalogue.

    Without its ``.mo``, Flask-Babel silently falls back to the source strings: the pages would
    say ``<html lang="fr">`` and be in English. Installing the package compiles them (setup.py);
    a checkout used without installing needs ``pybabel compile``.
    """
    directories = [
        os.path.join(app.root_path, directory)
        for directory in app.config["BABEL_TRANSLATION_DIRECTORIES"].split(";")
    ]
    domain = app.config.get("BABEL_DOMAIN", "messages")
    for locale in app.config["BLAGIS_LOCALES"]:
        if locale == SOURCE_LOCALE:
            continue
        paths = [os.path.join(d, locale, "LC_MESSAGES", f"{domain}.mo") for d in directories]
        if not any(os.path.isfile(path) for path in paths):
            raise RuntimeError(
                f"No compiled translation catalogue for the language {locale!r} "
                f"(looked for {', '.join(paths)}). Compile the catalogues with "
                "`pybabel compile -d blagis/translations` (or `make translations`), or "
                "reinstall the package (`pip install -e .` compiles them)."
            )


def init_app(app) -> None:
    from blagis.extensions import babel

    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    check_catalogues(app)
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="translations"
    )
    # The same callables Flask-Babel installs, with the catalogue looked up once (_translations).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals.update(
        current_locale=current_locale,
        lang_switch_url=lang_switch_url,
    )
    app.jinja_env.filters.update(
        datetime=fmt_datetime,
        date=fmt_date,
        number=fmt_number,
    )
