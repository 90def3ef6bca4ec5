"""Accounts: registration, log-in, password reset."""

import hashlib

from flask import session as cookie_session
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from blagis.extensions import db, login_manager
from blagis.i18n import LANG_SESSION_KEY

# The session cookie's key of its UserSession row (the row's id is the key's SHA-256).
SESSION_KEY = "_sk"


def session_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def load_user(user_id: str):
    """The account of a session whose UserSession row is still there and unexpired.

    Log-out deletes the row: every copy of the cookie, here or on another instance, then
    loads no account. A cookie without a key (made before the sessions table, or a
    Flask-Login remember cookie, which Blagis never sets) loads none either.
    """
    from blagis.models import User, UserSession, utcnow

    key = cookie_session.get(SESSION_KEY)
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        return None
    if not isinstance(key, str) or not key:
        return None
    query = (
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            User.id == uid,
            UserSession.id == session_digest(key),
            UserSession.expires_at > utcnow(),
        )
    )
    return _read_account(query)


def _read_account(query):
    """The account, in one round trip to PostgreSQL.

    Every logged-in request starts here. Read through the request's session it would open the
    transaction — BEGIN, SELECT, then ROLLBACK at the end: three round trips of ~0.45 ms on
    our machine — even when nothing else is read (the staff report's kept copy). Read in
    autocommit it is one SELECT; ``merge(load=False)`` then hands the row to the session
    without a query, as SQLAlchemy documents for objects taken from a cache. SQLite (no round
    trips) and a session already in a transaction read it the usual way.
    """
    session = db.session()
    if session.in_transaction() or db.engine.dialect.name != "postgresql":
        return session.scalar(query)
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        with Session(bind=conn) as reader:
            user = reader.scalar(query)
            if user is None:
                return None
            reader.expunge(user)
    return session.merge(user, load=False)


def remember_login(user, key: str) -> None:
    """Rotate the session at log-in (no fixation) but keep the chosen language.

    ``key`` is the one ``services.open_session`` recorded: the cookie carries it, and the
    session lives while its row does (log-out, PERMANENT_SESSION_LIFETIME).
    """
    lang = cookie_session.get(LANG_SESSION_KEY)
    cookie_session.clear()
    if lang:
        cookie_session[LANG_SESSION_KEY] = lang
    cookie_session[SESSION_KEY] = key
    cookie_session.permanent = True
    login_user(user)


def forget_login() -> None:
    """Forget who is logged in on this browser, keeping the chosen language."""
    lang = cookie_session.get(LANG_SESSION_KEY)
    logout_user()
    cookie_session.clear()
    if lang:
        cookie_session[LANG_SESSION_KEY] = lang


def init_login(app) -> None:
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
