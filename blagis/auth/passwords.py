"""Password hashing with argon2id, rehashed at log-in when the parameters change.

The parameters come from ``ARGON2_PARAMS`` in the configuration (argon2-cffi's defaults,
RFC 9106's low-memory profile, when unset); tests lower them to stay fast.
"""

from functools import lru_cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context


@lru_cache(maxsize=8)
def _hasher_for(params: tuple) -> PasswordHasher:
    return PasswordHasher(**dict(params))


def _hasher() -> PasswordHasher:
    params = current_app.config.get("ARGON2_PARAMS") if has_app_context() else None
    return _hasher_for(tuple(sorted((params or {}).items())))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def dummy_hash() -> str:
    """A hash to verify against when no account matches, so that the answer takes as long
    whether the e-mail exists or not."""
    return _dummy_for(id(_hasher()))


@lru_cache(maxsize=8)
def _dummy_for(_key: int) -> str:
    return _hasher().hash("not-a-real-password-for-timing")


_COMMON_PATH = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased (lines starting with # are notes)."""
    with _COMMON_PATH.open(encoding="utf-8") as handle:
        return frozenset(
            line.strip().lower() for line in handle if line.strip() and not line.startswith("#")
        )


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why this new password is refused (a translated message), or None when it is fine.

    Length is checked by the forms; this adds what a length rule cannot see: a password from
    the common list (whatever its case) or equal to the account's e-mail address.
    """
    from flask import has_request_context
    from flask_babel import gettext

    # The CLI has no request (hence no locale): English there.
    _ = gettext if has_request_context() else (lambda text: text)
    candidate = (password or "").strip().lower()
    if candidate in common_passwords():
        return _("This password is among the most common ones. Choose another one.")
    if email and candidate == email.strip().lower():
        return _("The password must not be your e-mail address.")
    return None
