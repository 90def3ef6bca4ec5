"""Language choice and locale-aware formatting (French first, English too)."""

from flask import current_app, request, session, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user

LANG_SESSION_KEY = "lang"


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


def fmt_datetime(value, format="medium"):  # noqa: A002
    """A datetime in Europe/Paris, in the current locale."""
    return format_datetime(value, format) if value else ""


def fmt_date(value, format="medium"):  # noqa: A002
    return format_date(value, format) if value else ""


def fmt_number(value):
    return format_decimal(value) if value is not None else ""


def init_app(app) -> None:
    from blagis.extensions import babel

    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="translations"
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
