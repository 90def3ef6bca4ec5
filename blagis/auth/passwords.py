"""Password hashing with argon2id, rehashed at log-in when the parameters change.

The parameters come from ``ARGON2_PARAMS`` in the configuration (argon2-cffi's defaults,
RFC 9106's low-memory profile, when unset); tests lower them to stay fast.
"""

from functools import lru_cache

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
