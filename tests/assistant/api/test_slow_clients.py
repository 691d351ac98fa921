"""Slow clients (slowloris) cannot hold connections: a request head must arrive within header_timeout_s and its body
within body_timeout_s, while slow (but timely) bodies, normal requests and the keep-alive timeout are unchanged. A real
uvicorn server, raw sockets."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.api.app import create_app
from assistant.api.codes import BODY_TIMEOUT
from tests.assistant.api.conftest import live_server
from tests.conftest import make_settings

HEADER_TIMEOUT_S = 1.0
KEEP_ALIVE_TIMEOUT_S = 3
BODY_TIMEOUT_S = 4.5  # longer than the 3 s slow body that must still be answered


@pytest.fixture(scope="module")
def address(shipped_index: Path) -> Iterator[tuple[str, int]]:
    settings = make_settings(index_dir=shipped_index, rate_limit_per_minute=0, header_timeout_s=HEADER_TIMEOUT_S,
                             keep_alive_timeout_s=KEEP_ALIVE_TIMEOUT_S, body_timeout_s=BODY_TIMEOUT_S)
    with live_server(create_app(settings), settings) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def closed(sock: socket.socket, within_s: float) -> bool:
    """Whether the server closes ``sock`` within ``within_s`` (bytes it sends meanwhile are read and dropped)."""
    deadline = time.monotonic() + within_s
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True
    return False


def trickle(sock: socket.socket, data: bytes, every_s: float) -> bytes:
    """Send ``data`` one byte every ``every_s`` s until the server closes the connection; the bytes not sent."""
    for i in range(len(data)):
        try:
            sock.sendall(data[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            return data[i:]
        if i + 1 < len(data) and closed(sock, every_s):
            return data[i + 1:]
    return b""


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length body."""
    sock.settimeout(30)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


# a head that never ends: without the timeout it takes 60 bytes x 0.2 s = 12 s to send, and the connection stays
SLOW_HEAD = b"GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 20


def test_a_head_sent_one_byte_at_a_time_is_cut_off_after_the_header_timeout(address) -> None:
    with socket.create_connection(address) as sock:
        started = time.monotonic()
        unsent = trickle(sock, SLOW_HEAD, every_s=0.2)
        took = time.monotonic() - started
    assert unsent, "the server kept the connection open while the head arrived one byte at a time"
    assert HEADER_TIMEOUT_S - 0.1 < took < HEADER_TIMEOUT_S + 1.5, took


@pytest.mark.parametrize("sent", [b"", b"GET /v1/health HTTP/1.1\r\nHost: x\r\n"], ids=["nothing", "partial head"])
def test_a_connection_that_stops_sending_its_head_is_closed(address, sent: bytes) -> None:
    with socket.create_connection(address) as sock:
        started = time.monotonic()
        sock.sendall(sent)
        assert closed(sock, within_s=HEADER_TIMEOUT_S + 1.5)  # before: open for good
        assert time.monotonic() - started > HEADER_TIMEOUT_S - 0.1


def test_requests_slow_bodies_and_keep_alive_are_unchanged(address) -> None:
    with socket.create_connection(address) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        # a body sent slowly after a complete head: 3 s, longer than the header timeout, and still answered
        body = json.dumps({"question": "Vad är ett socialt företag?"}).encode()
        sock.sendall(b"POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        assert trickle(sock, body, every_s=3.0 / len(body)) == b""
        response = read_response(sock)
        assert response.startswith(b"HTTP/1.1 200") and b'"mode":"extractive"' in response
        # the connection left idle: closed by the keep-alive timeout, not by the header timeout
        started = time.monotonic()
        assert closed(sock, within_s=KEEP_ALIVE_TIMEOUT_S + 2)
        assert KEEP_ALIVE_TIMEOUT_S - 0.3 < time.monotonic() - started, time.monotonic() - started


def test_the_next_head_on_a_keep_alive_connection_is_timed_from_its_first_byte(address) -> None:
    with socket.create_connection(address) as sock:
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        time.sleep(2.0)  # idle for longer than the header timeout, less than the keep-alive timeout
        started = time.monotonic()
        assert trickle(sock, SLOW_HEAD, every_s=0.2)
        assert time.monotonic() - started < HEADER_TIMEOUT_S + 1.5


ASK_HEAD = b"POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"


@pytest.mark.parametrize("how", ["stalls", "trickles"])
def test_a_body_that_stalls_or_trickles_after_a_complete_head_gets_408(address, how: str) -> None:
    body = json.dumps({"question": "Vad är ett socialt företag?"}).encode()
    with socket.create_connection(address) as sock:
        started = time.monotonic()
        sock.sendall(ASK_HEAD % len(body) + body[:10])
        if how == "trickles":  # one byte every 0.2 s: the whole body would take 8 s
            for i in range(10, 10 + int((BODY_TIMEOUT_S + 0.5) / 0.2)):
                try:
                    sock.sendall(body[i:i + 1])
                except (BrokenPipeError, ConnectionResetError):
                    break
                time.sleep(0.2)
        response = read_response(sock)  # before: no answer and the connection held until the client gave up
        took = time.monotonic() - started
        assert response.startswith(b"HTTP/1.1 408") and b"did not arrive within 4.5 s" in response, response
        assert json.loads(response.partition(b"\r\n\r\n")[2])["code"] == BODY_TIMEOUT
        assert BODY_TIMEOUT_S - 0.2 < took < BODY_TIMEOUT_S + 2.0, took
        assert closed(sock, within_s=2.0)
