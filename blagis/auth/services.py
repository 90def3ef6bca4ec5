"""Account rules, shared by the views and the CLI."""

import secrets
from dataclasses import dataclass
from enum import StrEnum

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, func, select

from blagis import dbtuning, privacy
from blagis.auth import session_digest
from blagis.auth.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from blagis.domain import DomainError
from blagis.extensions import db
from blagis.mail import queue_mail
from blagis.models import Commune, Role, User, UserSession, utcnow
from blagis.urls import absolute_url


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
    FAILED = "failed"  # unknown address or wrong password: one message
    UNCONFIRMED = "unconfirmed"  # right password, e-mail not confirmed yet


@dataclass
class LoginAttempt:
    outcome: LoginOutcome
    user: User | None = None


def check_login(email: str, password: str) -> LoginAttempt:
    """Check a log-in; the same work is done when no account exists.

    Failures are not counted here: the log-in view's rate limits count them per (address,
    account) and per address (blagis/auth/views.py), so that nobody can lock an account for
    everyone. A success writes (last log-in, a better hash); the caller commits.
    """
    # On SQLite the password is checked before taking the write lock: argon2 costs ~50 ms of
    # CPU, and every registration of the site would wait for it (blagis/dbtuning.py).
    dbtuning.begin_read(db.session)
    user = find_user_by_email(email)
    if user is None:
        verify_password(dummy_hash(), password)
        return LoginAttempt(LoginOutcome.FAILED)
    if not verify_password(user.password_hash, password):
        return LoginAttempt(LoginOutcome.FAILED)
    new_hash = hash_password(password) if needs_rehash(user.password_hash) else None
    dbtuning.begin_write(db.session)  # the account is read again under the lock
    if new_hash is not None:
        user.password_hash = new_hash
    if user.email_confirmed_at is None:
        return LoginAttempt(LoginOutcome.UNCONFIRMED, user)
    user.last_login_at = utcnow()
    return LoginAttempt(LoginOutcome.OK, user)


def authenticate(email: str, password: str) -> User | None:
    """The account if the log-in succeeds (confirmed, right password)."""
    attempt = check_login(email, password)
    return attempt.user if attempt.outcome == LoginOutcome.OK else None


# --- sessions -----------------------------------------------------------------------------


def session_lifetime(user: User):
    """How long a session of this account lasts after its log-in (a timedelta)."""
    lifetime = current_app.config["PERMANENT_SESSION_LIFETIME"]
    if user.is_staff:
        lifetime = min(lifetime, current_app.config["STAFF_SESSION_LIFETIME"])
    return lifetime


def open_session(user: User) -> str:
    """Record a new session of ``user``; returns the key its cookie carries (the caller commits).

    The account's expired sessions are cleared on the way (the purge clears the rest).
    """
    now = utcnow()
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now)
    )
    key = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            id=session_digest(key),
            user_id=user.id,
            created_at=now,
            expires_at=now + session_lifetime(user),
        )
    )
    db.session.flush()
    return key


def end_session(key: str | None) -> None:
    """End the session with this cookie key: every copy of the cookie stops working."""
    if key:
        db.session.execute(delete(UserSession).where(UserSession.id == session_digest(key)))


def end_all_sessions(user: User, *, keep: str | None = None) -> int:
    """End every session of ``user`` (all devices, all copies) but ``keep``; returns how many."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep:
        query = query.where(UserSession.id != session_digest(keep))
    return db.session.execute(query.execution_options(synchronize_session=False)).rowcount or 0


def export_sessions(user: User) -> list[dict]:
    rows = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.created_at)
    )
    return [
        {"logged_in_at": row.created_at.isoformat(), "expires_at": row.expires_at.isoformat()}
        for row in rows
    ]


def purge_sessions(cutoff) -> int:
    """Expired sessions are deleted whatever the retention cutoff: they open nothing."""
    result = db.session.execute(
        delete(UserSession)
        .where(UserSession.expires_at <= utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


privacy.register_exporter("sessions", export_sessions)
privacy.register_eraser(end_all_sessions)
privacy.register_purger("sessions", purge_sessions)


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


def set_password(user: User, password: str, *, keep_session: str | None = None) -> None:
    """Change the password and end every session of this account but ``keep_session``."""
    user.password_hash = hash_password(password)
    end_all_sessions(user, keep=keep_session)


def change_password(user: User, current: str, new: str, *, keep_session: str | None) -> None:
    """The owner changes their password: the current one first; every session of the account
    but ``keep_session`` (the one making the change) ends (``set_password``); audited."""
    if not verify_password(user.password_hash, current):
        raise DomainError(_("This is not your current password."), field="current_password")
    if verify_password(user.password_hash, new):
        raise DomainError(_("Choose a password different from the current one."), field="password")
    set_password(user, new, keep_session=keep_session)
    from blagis import audit

    audit.record("account.password_changed", "user", user.id, actor=user)


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
