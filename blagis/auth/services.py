"""Account rules, shared by the views and the CLI."""

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from blagis.auth.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from blagis.domain import DomainError
from blagis.extensions import db
from blagis.models import Commune, Role, User, utcnow


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    email: str,
    display_name: str,
    password: str,
    *,
    role: Role = Role.RESIDENT,
    commune_code: str | None = None,
    locale: str | None = None,
) -> User:
    """Create an account; the e-mail is unique whatever its case."""
    email = normalise_email(email)
    if find_user_by_email(email) is not None:
        raise DomainError(_("An account already uses this e-mail address."), field="email")
    if commune_code and db.session.get(Commune, commune_code) is None:
        raise DomainError(_("Unknown commune."), field="commune")
    user = User(
        email=email,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        role=Role(role),
        commune_code=commune_code or None,
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The account if the password matches; same work done when no account exists."""
    user = find_user_by_email(email)
    if user is None:
        verify_password(dummy_hash(), password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def set_password(user: User, password: str) -> None:
    """Change the password and end every other session of this account."""
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 1) + 1


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_reset_token(user: User) -> str:
    # The hash's tail makes the token single-use: it dies once the password changes.
    return _reset_serializer().dumps({"uid": user.id, "h": user.password_hash[-16:]})


def user_from_reset_token(token: str) -> User | None:
    """The account a valid, unexpired, unused token belongs to, else None."""
    max_age = current_app.config["PASSWORD_RESET_MAX_AGE"]
    try:
        data = _reset_serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict):
        return None
    uid = data.get("uid")
    if not isinstance(uid, int):
        return None
    user = db.session.get(User, uid)
    if user is None or user.password_hash[-16:] != data.get("h"):
        return None
    return user


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0
