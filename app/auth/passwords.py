"""Password hashing and the password policy (QUALITY A1, A2, A4, A5)."""
from __future__ import annotations

import re
import secrets
import string
import unicodedata

from werkzeug.security import check_password_hash, generate_password_hash

#: Passwords that every guessing list starts with, plus the demo password. Compared after
#: lower-casing, so "Password" is refused too.
COMMON_PASSWORDS = frozenset({
    "123456", "1234567", "12345678", "123456789", "1234567890", "12345678910", "123456789012",
    "a123456", "a12345678", "abc123456", "abc123456789", "password", "password1", "password123",
    "passw0rd", "p@ssw0rd", "qwerty", "qwerty123", "qwertyuiop", "111111", "000000", "888888",
    "666666", "11111111", "88888888", "1qaz2wsx", "1qaz2wsx3edc", "zxcvbnm", "iloveyou",
    "admin", "admin123", "admin123456", "root", "welcome", "woaini", "woaini1314", "5201314",
    "tiejun2021", "tiejun20212021", "taiyuan", "taiyuan2021", "police", "police123456",
    "gongan", "gongan123456", "jingcha", "jingcha123456", "zhengfa2021", "aaaaaaaaaaaa",
})
MAX_BYTES_HASHED = 1024  # scrypt/pbkdf2 take any length; this only bounds the request body


def hash_password(password: str, method: str) -> str:
    """Salted, slow hash (scrypt in production; the salt makes equal passwords differ)."""
    return generate_password_hash(password, method=method)


def hash_method_of(stored_hash: str) -> str:
    """The method and parameters a stored hash was made with, e.g. ``scrypt:32768:8:1``."""
    return (stored_hash or "").split("$", 1)[0]


def verify_password(stored_hash: str, password: str) -> bool:
    if not stored_hash or len(password.encode()) > MAX_BYTES_HASHED:
        return False
    return check_password_hash(stored_hash, password)


def _normalise(value: str) -> str:
    return unicodedata.normalize("NFKC", value).lower()


def policy_errors(password: str, *, min_length: int, max_length: int, identifiers: list[str]) -> list[str]:
    """Reasons a new password is refused (message ids in Chinese; translated by the caller).

    ``identifiers`` are the user's own data (username, badge number, phone, birthday forms);
    the password may neither equal nor contain them.
    """
    from flask_babel import gettext as _

    errors: list[str] = []
    if len(password) < min_length:
        errors.append(_("密码至少需要 %(n)d 个字符。", n=min_length))
    if len(password) > max_length:
        errors.append(_("密码不能超过 %(n)d 个字符。", n=max_length))
    norm = _normalise(password)
    # "Password123456" is "password" with digits stuck on: judge the word, not the decoration.
    core = re.sub(r"^[\d\W_]+|[\d\W_]+$", "", norm)
    if norm in COMMON_PASSWORDS or core in COMMON_PASSWORDS or len(set(norm)) <= 2:
        errors.append(_("这个密码太常见，容易被猜到，请换一个。"))
    for ident in identifiers:
        ident_norm = _normalise(ident or "")
        if len(ident_norm) >= 4 and (ident_norm in norm or norm in ident_norm):
            errors.append(_("密码不能包含您的账号、警号、手机号或生日。"))
            break
    return errors


def identifiers_of(user) -> list[str]:
    """The user's own identifiers that must not appear in the password (A2)."""
    values = [user.username, user.badge_no or "", user.phone or ""]
    if user.birth_date:
        b = user.birth_date
        values += [b.strftime("%Y%m%d"), b.strftime("%Y-%m-%d"), b.strftime("%m%d%Y"), b.strftime("%y%m%d")]
    return [v for v in values if v]


def random_initial_password() -> str:
    """16 random characters from an unambiguous alphabet; not derivable from anything (A4)."""
    alphabet = "".join(ch for ch in string.ascii_letters + string.digits if ch not in "0O1lI")
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(16))
        if re.search(r"\d", candidate) and re.search(r"[a-z]", candidate) and re.search(r"[A-Z]", candidate):
            return candidate
