"""Retries, backoff and value encoding, without a Seedboard server."""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from seedboard import TransportError
from seedboard.client import Client, RetryPolicy, parse_retry_after
from seedboard.encoding import decode_value, encode_float, jsonable, to_float


def test_backoff_grows_exponentially_within_jitter_bounds_and_is_capped() -> None:
    policy = RetryPolicy(base=0.5, cap=8.0)
    for attempt, ceiling in enumerate([0.5, 1, 2, 4, 8, 8, 8]):
        assert policy.delay(attempt, rng=lambda: 0.0) == ceiling / 2
        assert policy.delay(attempt, rng=lambda: 0.999999) == pytest.approx(ceiling, rel=1e-5)
    assert policy.delay(10_000) <= 8.0


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_server_is_retried_until_the_budget_then_raises_transport_error() -> None:
    client = Client(f"http://127.0.0.1:{_closed_port()}", "t", retry=RetryPolicy(budget=1.2, base=0.1, cap=0.4))
    started = time.monotonic()
    with pytest.raises(TransportError):
        client.get("auth/whoami/")
    assert 0.5 < time.monotonic() - started < 2.0


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503 with Retry-After to the first request, then echoes the body."""

    bodies: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.bodies.append(body)
        if len(self.bodies) == 1:
            self.send_response(503)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky_url() -> Iterator[str]:
    _Flaky.bodies = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_503_is_retried_with_the_same_body_after_retry_after(flaky_url: str) -> None:
    client = Client(flaky_url, "t", retry=RetryPolicy(budget=5, base=0.01, cap=0.02))
    started = time.monotonic()
    answer = client.post("runs/x/metrics/", content=b'{"batch_id":"b-1"}')
    assert answer == {"batch_id": "b-1"}
    assert _Flaky.bodies == [b'{"batch_id":"b-1"}'] * 2
    assert time.monotonic() - started >= 0.95  # Retry-After: 1 beats the 0.02 s backoff


def test_non_finite_floats_travel_as_strings_and_come_back() -> None:
    assert [encode_float(v) for v in (1.5, math.nan, math.inf, -math.inf)] == [1.5, "NaN", "Infinity", "-Infinity"]
    assert math.isnan(decode_value("NaN")) and decode_value("-Infinity") == -math.inf
    assert decode_value(2) == 2.0
    assert jsonable({"a": (1, math.nan), "b": {"c": math.inf}}) == {"a": [1, "NaN"], "b": {"c": "Infinity"}}
    with pytest.raises(TypeError, match=r"config\.opt"):
        jsonable({"opt": object()}, "config")


def test_logged_values_convert_like_float_but_refuse_text() -> None:
    np = pytest.importorskip("numpy")
    assert to_float(True) == 1.0 and to_float(3) == 3.0
    assert to_float(np.float16(0.5)) == 0.5 and to_float(np.int64(7)) == 7.0
    for bad in ("1.5", b"1", None, [1.0], 10**400):
        with pytest.raises((TypeError, ValueError)):
            to_float(bad)
