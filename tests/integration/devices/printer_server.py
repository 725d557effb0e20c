"""Receipt-printer stand-ins for tests: they record every byte and answer DLE EOT like an Epson printer.

- :class:`PrinterServer`: a network printer on 127.0.0.1 (raw TCP, like port 9100). Each connection is one
  job (python-escpos's Network opens, writes, closes). ``stop()`` closes the listening socket: the next
  connection is refused, as with a printer switched off.
- :class:`PtyPrinter`: a serial printer on a pseudo-terminal (``path`` is the port the kiosk opens).

State is set from the test (``state.paper``, ``state.online``, ...). Status queries (``10 04 n``) are
answered inline with the byte :func:`devices.printer.status.encode` gives for the current state and kept out
of the recorded bytes (they are counted in ``queries``): a job's bytes are exactly what the paper would get.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import tty
from collections.abc import Callable
from dataclasses import dataclass, field

from devices.printer.status import Paper, encode

DLE, EOT = 0x10, 0x04


@dataclass
class PrinterState:
    online: bool = True
    paper: Paper = Paper.OK
    cover_open: bool = False
    silent: bool = False  # never answers DLE EOT (printers with status replies switched off)
    paper_out_after_job: bool = False  # the roll runs out while the next job prints


@dataclass
class Job:
    data: bytearray = field(default_factory=bytearray)
    queries: list[int] = field(default_factory=list)


class Responder:
    """Splits a byte stream into job bytes and DLE EOT queries, answering each query from ``state``."""

    def __init__(self, state: PrinterState, lock: threading.Lock) -> None:
        self.state = state
        self.lock = lock

    def consume(self, job: Job, buffer: bytes, reply: Callable[[bytes], None]) -> bytes:
        """Record ``buffer`` into ``job``; returns an incomplete tail to prepend to the next chunk."""
        out = bytearray()
        i = 0
        while i < len(buffer):
            if buffer[i] == DLE:
                if i + 2 >= len(buffer):
                    break  # wait for the rest of a possible query
                if buffer[i + 1] == EOT and buffer[i + 2] in (1, 2, 3, 4):
                    n = buffer[i + 2]
                    with self.lock:
                        job.queries.append(n)
                        job.data.extend(out)
                        out.clear()
                        state = self.state
                        if state.paper_out_after_job and job.data:
                            state.paper, state.online, state.paper_out_after_job = Paper.OUT, False, False
                        answer = None
                        if not state.silent:
                            answer = encode(online=state.online, cover_open=state.cover_open, paper=state.paper)
                    if answer is not None:
                        reply(bytes([answer.get(n, 0x12)]))
                    i += 3
                    continue
            out.append(buffer[i])
            i += 1
        with self.lock:
            job.data.extend(out)
        return buffer[i:]


class PrinterServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.state = PrinterState()
        self.connections: list[Job] = []
        self._lock = threading.Lock()
        self._responder = Responder(self.state, self._lock)
        self._sock = socket.create_server((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        self._done = threading.Condition()
        self._closed = 0
        self._accepting = threading.Thread(target=self._accept, name="printer-server", daemon=True)
        self._accepting.start()

    @property
    def jobs(self) -> list[bytes]:
        """Bytes received per connection that carried more than status queries."""
        with self._lock:
            return [bytes(c.data) for c in self.connections if c.data]

    @property
    def queries(self) -> list[int]:
        with self._lock:
            return [q for c in self.connections for q in c.queries]

    def wait_closed(self, count: int, timeout: float = 10.0) -> bool:
        """True once ``count`` connections have been closed by the client (all their bytes are in)."""
        with self._done:
            return self._done.wait_for(lambda: self._closed >= count, timeout=timeout)

    def stop(self) -> None:
        """Stop listening (the next connection is refused); connections already open finish."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
        self._sock.close()
        self._accepting.join(timeout=5)

    def __enter__(self) -> PrinterServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            job = Job()
            with self._lock:
                self.connections.append(job)
            threading.Thread(target=self._serve, args=(conn, job), daemon=True).start()

    def _serve(self, conn: socket.socket, job: Job) -> None:
        pending = b""
        try:
            with conn:
                while chunk := conn.recv(65536):
                    pending = self._responder.consume(job, pending + chunk, conn.sendall)
                with self._lock:
                    job.data.extend(pending)
        except OSError:
            pass
        finally:
            with self._done:
                self._closed += 1
                self._done.notify_all()


class PtyPrinter:
    """A serial printer: the kiosk opens ``path``; everything it writes lands in ``job``."""

    def __init__(self) -> None:
        self.state = PrinterState()
        self.job = Job()
        self._lock = threading.Lock()
        self._responder = Responder(self.state, self._lock)
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._changed = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="pty-printer", daemon=True)
        self._thread.start()

    @property
    def data(self) -> bytes:
        with self._lock:
            return bytes(self.job.data)

    def wait_for(self, predicate: Callable[[bytes], bool], timeout: float = 10.0) -> bool:
        """True once ``predicate(data)`` holds (the serial line delivers bytes after the write returns)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self.data), timeout=timeout)

    def close(self) -> None:
        self._stop = True
        for fd in (self._slave, self._master):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        pending = b""
        while not self._stop:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:
                return
            if not chunk:
                return
            pending = self._responder.consume(self.job, pending + chunk, self._reply)
            with self._changed:
                self._changed.notify_all()

    def _reply(self, answer: bytes) -> None:
        with contextlib.suppress(OSError):
            os.write(self._master, answer)
