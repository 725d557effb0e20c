"""A TLS-terminating proxy on 127.0.0.1 in front of the (plain HTTP) FHIR sandbox, requiring a client
certificate signed by ``client_ca``: mutual TLS against a real server, without touching the sandbox."""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from pathlib import Path


class TlsProxy:
    def __init__(self, target_port: int, *, cert: Path, key: Path, client_ca: Path) -> None:
        self.target = ("127.0.0.1", target_port)
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(str(cert), str(key))
        self._context.load_verify_locations(str(client_ca))
        self._context.verify_mode = ssl.CERT_REQUIRED
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.handshakes_refused = 0
        self._closing = threading.Event()
        threading.Thread(target=self._accept, name="tls-proxy", daemon=True).start()

    def close(self) -> None:
        self._closing.set()
        _close(self._server)

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(10)
        try:
            tls = self._context.wrap_socket(client, server_side=True)
        except (ssl.SSLError, OSError):
            self.handshakes_refused += 1
            _close(client)
            return
        tls.settimeout(None)
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _close(tls)
            return
        upstream.settimeout(None)
        for sock in (tls, upstream):  # no Nagle: small writes would wait for delayed ACKs
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_pump, args=(upstream, tls), daemon=True).start()
        _pump(tls, upstream)


def _pump(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        _close(src)
        _close(dst)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
