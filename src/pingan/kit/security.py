"""Credential primitives: argon2id password hashes and opaque random tokens.

Tokens are never stored: only their SHA-256 digest is, so a copy of the
database does not hand out working sessions or API keys.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# argon2-cffi's defaults are the RFC 9106 "low memory" argon2id profile.
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return str(_hasher.hash(password))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return bool(_hasher.check_needs_rehash(password_hash))


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# A fixed hash to verify against when the user does not exist, so a failed
# login takes the same time whether or not the username is known.
DUMMY_HASH = hash_password("pingan-timing-equaliser")
