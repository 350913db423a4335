"""Token text format and hashing, without Django: `sb_<prefix>_<secret>`."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_PREFIX_BYTES = 6  # 12 hex characters: a public handle, unique per token
TOKEN_SECRET_BYTES = 32  # 256 bits of secret


def token_generate() -> tuple[str, str, str]:
    """Return (token text, prefix, digest)."""
    prefix = secrets.token_hex(TOKEN_PREFIX_BYTES)
    secret = secrets.token_urlsafe(TOKEN_SECRET_BYTES)
    text = f"sb_{prefix}_{secret}"
    return text, prefix, token_digest(text)


def token_digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def token_split(text: str) -> str | None:
    """The prefix of a well-formed token text, or None."""
    parts = text.split("_", 2)
    if len(parts) != 3 or parts[0] != "sb" or len(parts[1]) != 2 * TOKEN_PREFIX_BYTES or not parts[2]:
        return None
    return parts[1]


def token_matches(text: str, digest: str) -> bool:
    return hmac.compare_digest(token_digest(text), digest)
