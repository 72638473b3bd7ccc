"""Password policy (issue 11): long enough, not the username, not a known common one.

Length beats composition rules (NIST SP 800-63B): no forced digits or
symbols, but a refusal list of the passwords that guessing attacks try
first. The list is short on purpose; it holds the usual suspects in the
Latin and Chinese (pinyin, digits) worlds, all at least 8 characters.
"""

from __future__ import annotations

from pingan.kit.errors import ValidationFailed

MAX_PASSWORD_LENGTH = 1024  # hashing cost is per byte; nobody types more

_COMMON = """
    password password1 password12 password123 passw0rd p@ssw0rd p@ssword
    12345678 123456789 1234567890 0123456789 87654321 987654321 11111111
    00000000 88888888 66666666 12341234 11223344 12121212 123123123
    qwertyui qwerty12 qwerty123 qwertyuiop 1qaz2wsx 1q2w3e4r 1q2w3e4r5t
    q1w2e3r4 zaq12wsx zxcvbnm1 zxcvbnm123 asdfghjk asdfasdf abcd1234
    abc12345 abcdefgh a1b2c3d4 aa123456 iloveyou iloveyou1 sunshine
    princess football baseball superman batman123 starwars trustno1
    letmein1 welcome1 welcome123 admin123 administrator admin1234 changeme
    changeme1 default1 monkey123 dragon123 master123 shadow123 whatever
    woaini1314 woaini520 5201314520 woaiwojia wangyang woaini123 zhang123
    wang1234 li123456 qq123456 a123456789 1314520520 beijing2008
    pingan123 pingan1234 pinganpingan
"""
COMMON_PASSWORDS = frozenset(_COMMON.split())


def check_password(password: str, *, username: str, min_length: int) -> None:
    """Raise ``ValidationFailed`` (field ``password``) if the policy refuses it."""
    if len(password) < min_length:
        raise ValidationFailed(
            f"password must be at least {min_length} characters", field="password"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"password must be at most {MAX_PASSWORD_LENGTH} characters", field="password"
        )
    folded = password.casefold()
    name = username.strip().casefold()
    if name and folded in (name, name[::-1]):
        raise ValidationFailed("password must not be the username", field="password")
    if folded in COMMON_PASSWORDS:
        raise ValidationFailed(
            "password is one of the most common ones; choose another", field="password"
        )
