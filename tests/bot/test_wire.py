"""The LINE client's transport over real sockets: a small HTTP/1.1 server on 127.0.0.1
records what arrives and answers as told."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from backend import outbox, wire
from backend.settings import LineSettings
from bot import client


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: bytes
    port: int  # the client's port: the same port means the same kept-alive connection


@dataclass
class Server:
    url: str
    seen: list[Seen] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0
    close_after_each: bool = False


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.seen.append(
                Seen(self.path, dict(self.headers.items()), body, self.client_address[1])
            )
            time.sleep(state.delay)
            answer = json.dumps({"sentMessages": [{"id": "1"}]}).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            if state.close_after_each:
                self.close_connection = True

        def log_message(self, *args: Any) -> None:
            pass

    class Listening(ThreadingHTTPServer):
        # The default backlog of 5 refuses some of many connections opened at once
        # when the machine is busy; LINE's servers take them all.
        request_queue_size = 128

        def handle_error(self, request: Any, client_address: Any) -> None:
            # A client that gave up waiting (the timeout test) closed its end: expected.
            if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
                super().handle_error(request, client_address)

    httpd = Listening(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def line(server: Server, timeout: float = 5.0) -> client.LineClient:
    settings = LineSettings(
        _env_file=None,  # type: ignore[call-arg]
        access_token=SecretStr("token-123"),
        api_base=server.url,
        timeout_seconds=timeout,
    )
    return client.LineClient.connect(settings)


MESSAGES = [{"type": "text", "text": "明日10時のご予約です"}]


def test_a_push_arrives_with_its_token_retry_key_and_body_on_one_kept_alive_connection(
    server: Server,
) -> None:
    with line(server) as api:
        first = api.push("U1", MESSAGES, retry_key="key-1")
        second = api.push("U2", MESSAGES, retry_key="key-2")

    assert isinstance(first, outbox.Sent)
    assert isinstance(second, outbox.Sent)
    one, two = server.seen
    assert one.path == client.PUSH_PATH
    assert one.headers["Authorization"] == "Bearer token-123"
    assert one.headers["X-Line-Retry-Key"] == "key-1"
    assert one.headers["Content-Type"] == "application/json"
    assert json.loads(one.body) == {"to": "U1", "messages": MESSAGES}
    assert one.port == two.port  # the second request reused the connection


def test_a_connection_the_server_closed_is_replaced_and_the_request_still_goes_once(
    server: Server,
) -> None:
    server.close_after_each = True
    with line(server) as api:
        results = [api.push(f"U{n}", MESSAGES, retry_key=f"key-{n}") for n in range(3)]

    assert all(isinstance(result, outbox.Sent) for result in results)
    assert [json.loads(seen.body)["to"] for seen in server.seen] == ["U0", "U1", "U2"]
    assert len({seen.port for seen in server.seen}) == 3


def test_an_error_status_reaches_the_client_as_the_lines_outcome(server: Server) -> None:
    server.status = 500
    with line(server) as api:
        result = api.push("U1", MESSAGES, retry_key="key-1")

    assert isinstance(result, outbox.Retry)


def test_a_slow_server_is_a_timeout_and_a_closed_port_a_connection_failure(
    server: Server,
) -> None:
    server.delay = 0.5
    with line(server, timeout=0.1) as api:
        slow = api.push("U1", MESSAGES, retry_key="key-1")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    http = httpx.Client(transport=wire.PooledTransport(timeout=1), base_url=closed)
    with http, pytest.raises(httpx.ConnectError):
        http.post("/v2/bot/message/push", json={})

    assert slow == outbox.Retry("timeout")


def test_many_threads_share_the_pool_and_every_request_arrives_once(server: Server) -> None:
    transport = wire.PooledTransport(timeout=5)
    with httpx.Client(transport=transport, base_url=server.url) as http:
        threads = [
            threading.Thread(target=http.post, args=("/p",), kwargs={"json": {"n": n}})
            for n in range(40)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert sorted(json.loads(seen.body)["n"] for seen in server.seen) == list(range(40))
    assert len({seen.port for seen in server.seen}) <= 40
