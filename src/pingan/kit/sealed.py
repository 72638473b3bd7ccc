"""Secrets the server must use again later (webhook signing keys, the federation
key), sealed before they reach the database.

A copy of the database (a backup, a replica, a dump handed to a vendor) then
holds no usable key: the sealing key lives outside it, in
``PINGAN_SECRETS_KEY`` (a Fernet key; every server of one installation needs
the same) or, when that is unset, in a file beside the embedded database
(``PINGAN_SECRETS_KEY_FILE``), made on first use and readable by its owner
only. Values stored before sealing existed carry no prefix and are read as
they are.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from pingan.settings import get_settings

PREFIX = "sealed:"
_lock = threading.Lock()
_cache: dict[str, Fernet] = {}


def _key_from_file(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # O_EXCL: two processes starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
    return key


def _box() -> Fernet:
    settings = get_settings()
    configured = settings.secrets_key.strip()
    cache_key = configured or settings.secrets_key_file
    with _lock:
        box = _cache.get(cache_key)
        if box is None:
            raw = configured.encode() if configured else _key_from_file(Path(cache_key))
            try:
                box = Fernet(raw)
            except ValueError:
                raise RuntimeError(
                    "PINGAN_SECRETS_KEY (or its key file) is not a Fernet key: "
                    "make one with `python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'`"
                ) from None
            _cache[cache_key] = box
    return box


def seal(plain: str) -> str:
    return PREFIX + _box().encrypt(plain.encode()).decode()


def unseal(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # stored before sealing existed
    try:
        return _box().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise RuntimeError(
            "a sealed secret does not open with this installation's key: "
            "was the database restored without its PINGAN_SECRETS_KEY?"
        ) from None
