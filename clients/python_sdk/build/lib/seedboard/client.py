"""HTTP transport: explicit timeouts, capped exponential backoff with jitter, error mapping.

Every write the SDK makes is idempotent (runs by client-made id, metric batches by
``batch_id``, summary PATCHes merge, metric definitions are PUT by key), so any request
may be retried; the one exception, creating a saved comparison, at worst saves a
duplicate comparison, which changes no data. Retried: connection
errors, timeouts, 429 and 5xx (except 501). The wait before attempt *n+1* is drawn from
``[d/2, d]`` with ``d = min(cap, base * 2**n)`` ("equal jitter": spreads clients apart
while keeping a floor), or the server's ``Retry-After`` when that is longer. Retrying
stops when the next attempt would start past the deadline (a time budget, not a count,
because the caller's promise is "give up within N seconds").
"""

from __future__ import annotations

import email.utils
import functools
import random
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Union

import httpx

from ._version import __version__
from .errors import APIError, TransportError, api_error_for

__all__ = ["Client", "RetryPolicy", "parse_retry_after"]

Deadline = Union[float, Callable[[], float], None]
Params = Union[Mapping[str, Any], list[tuple[str, Any]], None]

_NO_RETRY_5XX = frozenset({501})


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often to retry one request.

    `budget` is the total seconds one request may spend across attempts and waits.
    """

    budget: float = 30.0
    base: float = 0.5
    cap: float = 8.0

    def delay(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """Seconds to wait after failed attempt number `attempt` (0-based)."""
        ceiling = min(self.cap, self.base * (2.0 ** min(attempt, 62)))
        return ceiling / 2 + rng() * ceiling / 2


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _retryable_status(status: int) -> bool:
    return status == 429 or (status >= 500 and status not in _NO_RETRY_5XX)


def _error_from(response: httpx.Response) -> APIError:
    code, message, field = "", "", None
    try:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            code = str(err.get("code") or "")
            message = str(err.get("message") or "")
            field = err.get("field") if isinstance(err.get("field"), str) else None
    except ValueError:
        pass
    if not message:
        message = response.text[:300] or response.reason_phrase
    return api_error_for(response.status_code, code=code, message=message, field=field)


@functools.lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    # Loading the CA bundle costs ~20 ms of CPU; a sweep that starts hundreds of runs in
    # one process pays it once instead of once per run.
    return httpx.create_ssl_context()


class Client:
    """A small synchronous client for the Seedboard REST API.

    Args:
        url: server address (without ``/api/v1``).
        token: API token, sent as ``Authorization: Bearer``.
        timeout: seconds to wait for a response once connected (per attempt).
        connect_timeout: seconds to wait for a TCP connection (per attempt).
        retry: the retry policy; ``RetryPolicy(budget=0)`` makes a single attempt.
    """

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._http = httpx.Client(
            base_url=f"{self.url}/api/v1/",
            headers={
                "Authorization": f"Bearer {token}",
                "User-Agent": f"seedboard-python/{__version__}",
                "Accept": "application/json",
            },
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
            verify=_ssl_context(),
        )

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Params = None,
        json: Any = None,
        content: bytes | None = None,
        deadline: Deadline = None,
        retry: bool = True,
    ) -> Any:
        """Send a request and return the decoded JSON body.

        `path` is relative to ``/api/v1/`` or an absolute URL (a pagination ``next``).
        `json` is serialized by httpx; pre-encoded bodies go in `content`. `deadline` is a
        `time.monotonic()` instant (or a callable returning one, re-read before every
        wait so a finishing run can shorten it); default now + the policy's budget.
        With ``retry=False`` exactly one attempt is made.

        Raises `TransportError` or an `APIError` subclass once retrying is over.
        """
        start = time.monotonic()
        if deadline is None:
            fixed = start + self.retry.budget

            def get_deadline() -> float:
                return fixed

        elif callable(deadline):
            get_deadline = deadline
        else:
            fixed_deadline = deadline

            def get_deadline() -> float:
                return fixed_deadline

        headers = {"Content-Type": "application/json"} if content is not None else None
        attempt = 0
        while True:
            remaining = get_deadline() - time.monotonic()
            # Never let one attempt outlive the deadline by more than a short grace.
            per_try = max(0.5, min(self._timeout, remaining))
            timeout = httpx.Timeout(per_try, connect=min(self._connect_timeout, per_try))
            wait: float | None = None
            try:
                response = self._http.request(
                    method,
                    path,
                    params=params,
                    json=json,
                    content=content,
                    headers=headers,
                    timeout=timeout,
                )
            except httpx.TransportError as exc:
                failure: Exception = TransportError(f"{method} {path}: {exc!r}")
                failure.__cause__ = exc
            else:
                if response.status_code < 400:
                    return response.json() if response.content else None
                failure = _error_from(response)
                if not _retryable_status(response.status_code):
                    raise failure
                wait = parse_retry_after(response.headers.get("Retry-After"))
            if not retry:
                raise failure
            delay = max(self.retry.delay(attempt), wait or 0.0)
            if time.monotonic() + delay > get_deadline():
                raise failure
            _sleep_until(time.monotonic() + delay, get_deadline)
            if time.monotonic() >= get_deadline():
                raise failure
            attempt += 1

    def download(
        self,
        path: str,
        *,
        params: Params = None,
        write: Callable[[bytes], None],
        start: Callable[[dict[str, str]], None] | None = None,
    ) -> dict[str, str]:
        """GET a streamed file, handing each chunk of the body to `write`; returns the
        response's headers (lower-case names), also given to `start` before the body.

        Retried like `request` (connection errors, 429, 5xx) until the body starts; a
        transfer cut after that raises `TransportError`, as the caller's copy is then
        incomplete. Raises an `APIError` subclass for an error answer.
        """
        deadline = time.monotonic() + self.retry.budget
        attempt = 0
        while True:
            started = False
            wait: float | None = None
            try:
                with self._http.stream(
                    "GET", path, params=params, headers={"Accept": "*/*"}
                ) as response:
                    if response.status_code < 400:
                        started = True
                        headers = {name.lower(): v for name, v in response.headers.items()}
                        if start is not None:
                            start(headers)
                        for chunk in response.iter_bytes():
                            write(chunk)
                        return headers
                    response.read()
                    failure: Exception = _error_from(response)
                    if not _retryable_status(response.status_code):
                        raise failure
                    wait = parse_retry_after(response.headers.get("Retry-After"))
            except httpx.TransportError as exc:
                failure = TransportError(f"GET {path}: {exc!r}")
                failure.__cause__ = exc
                if started:
                    raise failure from exc
            delay = max(self.retry.delay(attempt), wait or 0.0)
            if time.monotonic() + delay > deadline:
                raise failure
            time.sleep(delay)
            attempt += 1

    def get(self, path: str, *, params: Params = None, deadline: Deadline = None) -> Any:
        """``request("GET", ...)``."""
        return self.request("GET", path, params=params, deadline=deadline)

    def post(
        self,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        deadline: Deadline = None,
        retry: bool = True,
    ) -> Any:
        """``request("POST", ...)``."""
        return self.request(
            "POST", path, json=json, content=content, deadline=deadline, retry=retry
        )

    def put(
        self,
        path: str,
        *,
        json: Any = None,
        deadline: Deadline = None,
        retry: bool = True,
    ) -> Any:
        """``request("PUT", ...)``."""
        return self.request("PUT", path, json=json, deadline=deadline, retry=retry)

    def patch(
        self,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        deadline: Deadline = None,
        retry: bool = True,
    ) -> Any:
        """``request("PATCH", ...)``."""
        return self.request(
            "PATCH", path, json=json, content=content, deadline=deadline, retry=retry
        )

    def delete(self, path: str, *, deadline: Deadline = None) -> Any:
        """``request("DELETE", ...)``; a retried delete that already happened ends in a 404."""
        return self.request("DELETE", path, deadline=deadline)


def _sleep_until(until: float, deadline: Callable[[], float]) -> None:
    # Short slices so a deadline moved earlier (a run starting to finish) is seen quickly.
    while True:
        now = time.monotonic()
        end = min(until, deadline())
        if now >= end:
            return
        time.sleep(min(0.1, end - now))
