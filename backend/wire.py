"""A lean HTTP/1.1 transport for httpx: kept-alive `http.client` connections.

httpx's own transport (httpcore) spends about 2 ms of CPU on each request here, which caps
one process at some 450 LINE pushes a second however many are in flight, and in the web
process competes with the webhooks for the interpreter. The LINE API is plain HTTP/1.1
JSON, so this transport sends through the standard library's connections instead (about
four times cheaper) while the client above it, its outcomes and the tests' respx routes
(`using="httpx"`) stay the same.

Connections are pooled per origin and reused one request at a time. A kept-alive
connection the server has already closed fails before anything is read; the request is
then sent once more on a fresh connection (LINE runs a retry key once, and a reply token
only once, so a repeat can never be a second message).
"""

from __future__ import annotations

import http.client
import ssl
import threading
from collections import defaultdict
from functools import cache

import httpx

Origin = tuple[str, str, int]
_PORTS = {"http": 80, "https": 443}
# The server's choice of encoding is left alone: httpx decodes what it is told it got.
_SKIPPED = frozenset({b"host", b"accept-encoding", b"connection", b"content-length"})
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class PooledTransport(httpx.BaseTransport):
    """Send httpx requests over pooled `http.client` connections."""

    def __init__(
        self, *, timeout: float, tls: ssl.SSLContext | None = None, max_idle: int = 64
    ) -> None:
        self.timeout = timeout
        self.tls = tls
        self.max_idle = max_idle
        self._idle: defaultdict[Origin, list[http.client.HTTPConnection]] = defaultdict(list)
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        origin = _origin(request.url)
        body = request.read()
        connection, reused = self._checkout(origin)
        try:
            status, headers, content = self._exchange(connection, request, body)
        except _STALE:
            connection.close()
            if not reused:
                raise httpx.RemoteProtocolError("the server closed the connection") from None
            connection = self._fresh(origin)
            try:
                status, headers, content = self._exchange(connection, request, body)
            except _STALE:
                connection.close()
                raise httpx.RemoteProtocolError("the server closed the connection") from None
        self._checkin(origin, connection)
        return httpx.Response(status, headers=headers, content=content, request=request)

    def close(self) -> None:
        with self._lock:
            idle = [connection for pool in self._idle.values() for connection in pool]
            self._idle.clear()
        for connection in idle:
            connection.close()

    def _exchange(
        self, connection: http.client.HTTPConnection, request: httpx.Request, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            connection.putrequest(
                request.method,
                request.url.raw_path.decode("ascii"),
                skip_accept_encoding=True,
            )
            for name, value in request.headers.raw:
                if name.lower() not in _SKIPPED:
                    connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            content = response.read()
        except _STALE:
            raise
        except TimeoutError as error:
            connection.close()
            raise httpx.ReadTimeout(str(error) or "timed out") from None
        except (OSError, http.client.HTTPException) as error:
            connection.close()
            raise httpx.ConnectError(f"{type(error).__name__}: {error}") from None
        if response.will_close:
            connection.close()
        return response.status, response.getheaders(), content

    def _checkout(self, origin: Origin) -> tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            idle = self._idle[origin]
            if idle:
                return idle.pop(), True
        return self._fresh(origin), False

    def _checkin(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        if connection.sock is None:
            return  # closed: the server said so, or it failed
        with self._lock:
            idle = self._idle[origin]
            if len(idle) < self.max_idle:
                idle.append(connection)
                return
        connection.close()

    def _fresh(self, origin: Origin) -> http.client.HTTPConnection:
        scheme, host, port = origin
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=self.tls)
        return http.client.HTTPConnection(host, port, timeout=self.timeout)


def _origin(url: httpx.URL) -> Origin:
    if url.scheme not in _PORTS:
        raise httpx.UnsupportedProtocol(f"unsupported scheme {url.scheme!r}")
    return url.scheme, url.host, url.port or _PORTS[url.scheme]


@cache
def tls() -> ssl.SSLContext:
    """The TLS context every outbound client shares. Loading the CA bundle takes tens of
    milliseconds of CPU; a client is opened per drain, and the answer a patient waits for
    should not pay that each time."""
    return httpx.create_ssl_context()


class LeanClient(httpx.Client):
    """An httpx client for JSON APIs without cookies, redirects or auth flows: `send` goes
    straight to the transport for the URL. LINE sets no cookies and never redirects its
    API calls, and what the full `send` does around the transport costs as much CPU as
    the transport itself."""

    def send(self, request: httpx.Request, **_: object) -> httpx.Response:
        response = self._transport_for_url(request.url).handle_request(request)
        response.request = request
        response.read()
        return response
