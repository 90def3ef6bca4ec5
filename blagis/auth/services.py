"""Account rules, shared by the views and the CLI."""

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from blagis import dbtuning
from blagis.auth.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from blagis.domain import DomainError
from blagis.extensions import db
from blagis.mail import queue_mail
from blagis.models import Commune, Role, User, utcnow
from blagis.urls import absolute_url

# Per-account log-in throttling (config keys override): after LOGIN_MAX_FAILURES failures
# within LOGIN_FAILURE_WINDOW seconds the account is locked LOGIN_LOCK_SECONDS, doubling with
# each further failure up to LOGIN_LOCK_MAX seconds.
LOGIN_DEFAULTS = {
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_FAILURE_WINDOW": 15 * 60,
    "LOGIN_LOCK_SECONDS": 60,
    "LOGIN_LOCK_MAX": 60 * 60,
}


def _setting(key: str) -> int:
    return int(current_app.config.get(key, LOGIN_DEFAULTS[key]))


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
    confirmed: bool = True,
) -> User:
    """Create an account; the e-mail is unique whatever its case.

    Accounts made by an administrator (CLI, demo, tests) are confirmed; the public
    registration passes ``confirmed=False`` and the owner confirms from the e-mail.
    """
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
        email_confirmed_at=utcnow() if confirmed else None,
    )
    db.session.add(user)
    db.session.flush()
    return user


def register_account(
    email: str, display_name: str, password: str, *, commune_code: str | None, locale: str
) -> User | None:
    """Public registration, answering the same way whether the address is new or taken.

    A new address gets an unconfirmed account and an ``account_created`` mail with the
    confirmation link; a taken one gets an ``account_exists`` mail instead (at most one an
    hour). Returns the new account, or None when the address was taken.
    """
    existing = find_user_by_email(email)
    if existing is not None:
        hash_password(password)  # the same work as a real registration: no timing oracle
        queue_mail(
            existing.email,
            "account_exists",
            locale=existing.locale or locale,
            context={"user": existing, "reset_url": absolute_url("auth.reset_request")},
            dedup_key=f"account-exists:{existing.id}:{utcnow():%Y%m%d%H}",
        )
        return None
    user = create_user(
        email, display_name, password, commune_code=commune_code, locale=locale, confirmed=False
    )
    send_confirmation(user)
    return user


def send_confirmation(user: User) -> None:
    """Queue the welcome mail carrying the signed confirmation link."""
    queue_mail(
        user.email,
        "account_created",
        locale=user.locale,
        context={
            "user": user,
            "confirm_url": absolute_url("auth.confirm", token=make_confirm_token(user)),
            "days": current_app.config["EMAIL_CONFIRM_MAX_AGE"] // 86400,
        },
    )


class LoginOutcome(StrEnum):
    OK = "ok"
    FAILED = "failed"  # unknown address, wrong password or account locked: one message
    UNCONFIRMED = "unconfirmed"  # right password, e-mail not confirmed yet


@dataclass
class LoginAttempt:
    outcome: LoginOutcome
    user: User | None = None


def check_login(email: str, password: str) -> LoginAttempt:
    """Check a log-in; the same work is done when no account exists or it is locked.

    The caller commits either way: failures are counted on the account.
    """
    # On SQLite the password is checked before taking the write lock: argon2 costs ~50 ms of
    # CPU, and every registration of the site would wait for it (blagis/dbtuning.py).
    dbtuning.begin_read(db.session)
    user = find_user_by_email(email)
    now = utcnow()
    if user is None or (user.locked_until is not None and user.locked_until > now):
        verify_password(dummy_hash(), password)
        return LoginAttempt(LoginOutcome.FAILED)
    right = verify_password(user.password_hash, password)
    new_hash = hash_password(password) if right and needs_rehash(user.password_hash) else None
    dbtuning.begin_write(db.session)  # the account is read again under the lock
    if not right:
        _count_failure(user, now)
        return LoginAttempt(LoginOutcome.FAILED)
    user.failed_logins = 0
    user.locked_until = None
    if new_hash is not None:
        user.password_hash = new_hash
    if user.email_confirmed_at is None:
        return LoginAttempt(LoginOutcome.UNCONFIRMED, user)
    user.last_login_at = now
    return LoginAttempt(LoginOutcome.OK, user)


def authenticate(email: str, password: str) -> User | None:
    """The account if the log-in succeeds (confirmed, not locked, right password)."""
    attempt = check_login(email, password)
    return attempt.user if attempt.outcome == LoginOutcome.OK else None


def _count_failure(user: User, now) -> None:
    """One more failure; past the threshold the account is locked for a growing delay."""
    window = timedelta(seconds=_setting("LOGIN_FAILURE_WINDOW"))
    last = user.last_failed_login_at
    if last is None or now - last > window:
        user.failed_logins = 0
    user.failed_logins = (user.failed_logins or 0) + 1
    user.last_failed_login_at = now
    excess = user.failed_logins - _setting("LOGIN_MAX_FAILURES")
    if excess >= 0:
        seconds = min(
            _setting("LOGIN_LOCK_SECONDS") * 2 ** min(excess, 16), _setting("LOGIN_LOCK_MAX")
        )
        user.locked_until = now + timedelta(seconds=seconds)


def _confirm_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="email-confirm")


def make_confirm_token(user: User) -> str:
    return _confirm_serializer().dumps({"uid": user.id, "e": user.email})


def confirm_email(token: str) -> User | None:
    """Mark the account of a valid link as confirmed; None for a bad or expired link."""
    max_age = current_app.config["EMAIL_CONFIRM_MAX_AGE"]
    try:
        data = _confirm_serializer().loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("uid"), int):
        return None
    # A GET that writes: the SQLite write lock first, as every write path takes it (a
    # deferred transaction that read cannot always become the writer: "database is locked").
    dbtuning.begin_write(db.session)
    user = db.session.get(User, data["uid"])
    if user is None or user.email != data.get("e"):
        return None
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    return user


def set_password(user: User, password: str) -> None:
    """Change the password and end every other session of this account."""
    user.password_hash = hash_password(password)
    user.session_version = (user.session_version or 1) + 1
    user.failed_logins = 0
    user.locked_until = None


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_reset_token(user: User) -> str:
    # The hash's tail makes the token single-use: it dies once the password changes.
    return _reset_serializer().dumps({"uid": user.id, "h": user.password_hash[-16:]})


def request_password_reset(email: str, locale: str) -> User | None:
    """Queue the reset link for the account of ``email``; returns it, or None when none.

    The same work is done either way, so that the answer's timing does not tell whether an
    account exists (a reviewer measured 13.5 against 10.1 ms): an unknown address gets a
    stand-in account (never stored) whose token and message are made and queued exactly as a
    real one, in a savepoint; the savepoint is released for an account and rolled back
    otherwise, so only that last statement differs and no row is left for the unknown address.
    ``bench/reset_timing.py`` measures both paths.
    """
    user = find_user_by_email(email)
    target = user or User(
        id=0, email=normalise_email(email), display_name="", password_hash=dummy_hash()
    )
    savepoint = db.session.begin_nested()
    queue_mail(
        target.email,
        "password_reset",
        locale=target.locale or locale,
        context={
            "user": target,
            "reset_url": absolute_url("auth.reset_password", token=make_reset_token(target)),
            "minutes": current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
        },
    )
    if user is None:
        savepoint.rollback()
    else:
        savepoint.commit()
    return user


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
