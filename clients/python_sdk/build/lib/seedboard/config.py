"""Settings resolution: arguments > environment > the settings file of `seedboard login`.

Environment variables (each read through a helper that raises `ConfigurationError` on a
bad value rather than silently falling back):

- ``SEEDBOARD_URL``: server address, e.g. ``https://seedboard.example.org``.
- ``SEEDBOARD_TOKEN`` (or ``SEEDBOARD_TOKEN_FILE``, a file holding it): API token.
- ``SEEDBOARD_MODE``: ``online`` (default) or ``offline`` (log to the spool only).
- ``SEEDBOARD_DIR``: home of the settings file and the spool, default ``~/.seedboard``.
- ``SEEDBOARD_FLUSH_TIMEOUT``: seconds a finishing run may spend flushing, default 30.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigurationError

__all__ = [
    "MODES",
    "SETTINGS_FILE",
    "Settings",
    "load_settings_file",
    "normalize_url",
    "resolve_dir",
    "resolve_settings",
    "save_login",
]

MODES = ("online", "offline")
SETTINGS_FILE = "settings.json"
DEFAULT_FLUSH_TIMEOUT = 30.0


@dataclass(frozen=True)
class Settings:
    """Resolved SDK settings. `url`/`token` may be None in offline mode."""

    url: str | None
    token: str | None
    mode: str
    dir: Path
    flush_timeout: float

    @property
    def spool_dir(self) -> Path:
        """Where runs that could not be sent are kept: ``<dir>/spool``."""
        return self.dir / "spool"

    def server(self) -> tuple[str, str]:
        """Return ``(url, token)``, or raise `ConfigurationError` naming what is missing."""
        missing = [name for name, v in (("URL", self.url), ("token", self.token)) if not v]
        if missing:
            what = " and ".join(missing)
            raise ConfigurationError(
                f"No Seedboard server {what}: pass url=/token=, set SEEDBOARD_URL and "
                "SEEDBOARD_TOKEN, or run `seedboard login` (or use mode='offline')."
            )
        assert self.url is not None and self.token is not None
        return self.url, self.token


def normalize_url(url: str) -> str:
    """Strip whitespace, trailing slashes and an ``/api/v1`` suffix from a server URL."""
    url = url.strip().rstrip("/")
    if url.endswith("/api/v1"):
        url = url[: -len("/api/v1")]
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"Seedboard URL must start with http:// or https://: {url!r}")
    return url


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _env_token(environ: Mapping[str, str]) -> str | None:
    token = _env(environ, "SEEDBOARD_TOKEN")
    if token:
        return token
    path = _env(environ, "SEEDBOARD_TOKEN_FILE")
    if path is None:
        return None
    try:
        return Path(path).expanduser().read_text().strip() or None
    except OSError as exc:
        raise ConfigurationError(f"SEEDBOARD_TOKEN_FILE cannot be read: {exc}") from exc


def _positive_float(name: str, raw: str | float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value > 0 or value == float("inf"):
        raise ConfigurationError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value


def resolve_dir(
    dir: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """The SDK's home directory: argument > ``SEEDBOARD_DIR`` > ``~/.seedboard``."""
    env = os.environ if environ is None else environ
    raw = os.fspath(dir) if dir is not None else (_env(env, "SEEDBOARD_DIR") or "~/.seedboard")
    return Path(raw).expanduser()


def load_settings_file(dir: Path) -> dict[str, str]:
    """Read ``<dir>/settings.json`` (written by `seedboard login`); {} when absent."""
    path = dir / SETTINGS_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"Cannot read the settings file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"The settings file {path} does not hold a JSON object")
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def save_login(dir: Path, *, url: str, token: str) -> Path:
    """Write url and token to ``<dir>/settings.json``, readable by the owner only (0600)."""
    dir.mkdir(parents=True, exist_ok=True)
    path = dir / SETTINGS_FILE
    tmp = dir / f".{SETTINGS_FILE}.{os.getpid()}.tmp"
    # Created 0600 from the start so the token is never world-readable, even briefly.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump({"url": normalize_url(url), "token": token}, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def resolve_settings(
    *,
    url: str | None = None,
    token: str | None = None,
    mode: str | None = None,
    dir: str | os.PathLike[str] | None = None,
    flush_timeout: float | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Resolve every setting: explicit argument > ``SEEDBOARD_*`` variable > settings file."""
    env = os.environ if environ is None else environ
    home = resolve_dir(dir, env)

    mode = mode or _env(env, "SEEDBOARD_MODE") or "online"
    if mode not in MODES:
        raise ConfigurationError(f"mode / SEEDBOARD_MODE must be one of {MODES}, got {mode!r}")

    raw_timeout = (
        flush_timeout if flush_timeout is not None else _env(env, "SEEDBOARD_FLUSH_TIMEOUT")
    )
    timeout = (
        DEFAULT_FLUSH_TIMEOUT
        if raw_timeout is None
        else _positive_float("SEEDBOARD_FLUSH_TIMEOUT", raw_timeout)
    )

    url = url or _env(env, "SEEDBOARD_URL")
    token = token or _env_token(env)
    if url is None or token is None:
        saved = load_settings_file(home)
        saved_url = normalize_url(saved["url"]) if saved.get("url") else None
        # A saved token belongs to the saved server: never send it to another one.
        if (
            token is None
            and saved.get("token")
            and (url is None or normalize_url(url) == saved_url)
        ):
            token = saved["token"]
        url = url or saved_url
    return Settings(
        url=normalize_url(url) if url else None,
        token=token,
        mode=mode,
        dir=home,
        flush_timeout=timeout,
    )
