"""Accounts: registration, log-in, password reset."""

from flask_babel import lazy_gettext as _l

from blagis.extensions import db, login_manager


def load_user(user_id: str):
    """Sessions carry ``id:session_version`` so a password change logs out other sessions."""
    from blagis.models import User

    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, uid)
    if user is None or user.session_version != version:
        return None
    return user


def init_login(app) -> None:
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
