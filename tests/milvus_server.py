"""A real Milvus server (the ``milvus`` package's standalone binary, 2.3.5) for the tests.

The server's gRPC and metrics ports listen on every interface whatever its config says, so it
runs inside a network namespace of its own that has only a loopback device (``ip netns``, as
root): nothing outside this machine can reach it, and its fixed ports never clash with the
host's. The tests reach it through a byte bridge: a forwarder inside the namespace listens on a
Unix socket (a file, which namespaces do not separate) and connects to the server's port; a
forwarder here listens on a free port of 127.0.0.1 and connects to that socket.

:func:`unavailable` says why a server cannot be had here (not root, no ``ip``, no package), so
that the tests skip with the reason. The server is stopped by its process id: SIGTERM, then
SIGKILL after 5 s (a 2.3 server can hang on SIGTERM for more than 30 s). The server and the
inner forwarder die with the process that started them (``PR_SET_PDEATHSIG``), and namespaces
left by a process that was killed are removed by the next start.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

#: The server's own port inside its namespace (the default: nothing else listens there).
GRPC_PORT = 19530
STARTUP_SECONDS = 60


def unavailable() -> str | None:
    """Why a real server cannot be started here, or None when it can."""
    if sys.platform != "linux":
        return "a real Milvus server runs here only on Linux"
    if os.geteuid() != 0:
        return "running the real Milvus server in a loopback-only network namespace needs root (ip netns)"
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is missing: apt-get install iproute2"
    try:
        import milvus  # noqa: F401
    except ImportError:
        return "the milvus package (the real server, 2.3.5) is not installed: pip install -e '.[milvus]'"
    probe = f"qa-probe-{uuid.uuid4().hex[:8]}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"network namespaces cannot be made here ({made.stderr.strip()})"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _die_with_parent() -> None:
    """In a child, before exec: be killed when the thread that started it ends (Linux)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _remove_stale_namespaces() -> None:
    """Namespaces of earlier runs that no process is in any more (a run that was killed)."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split("\n")
    for name in (line.split()[0] for line in listed if line.startswith("qa-milvus-")):
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout.strip()
        if not pids:
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(1 << 16):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def _forward(listen: str, port: int) -> None:
    """Inside the namespace: accept on the Unix socket ``listen``, connect each to 127.0.0.1:``port``."""

    async def handle(reader, writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, server_writer), _pipe(server_reader, writer))

    server = await asyncio.start_unix_server(handle, listen)
    async with server:
        await server.serve_forever()


class RealMilvus:
    """A Milvus 2.3.5 standalone server in its own loopback-only network namespace, reached at
    ``127.0.0.1:port`` through a bridge. Use :meth:`start` and :meth:`stop` (or a ``with``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.namespace = f"qa-milvus-{uuid.uuid4().hex[:8]}"
        self.socket = self.folder / "grpc.sock"
        self.port = _free_port()
        self.server: subprocess.Popen | None = None
        self._inner: subprocess.Popen | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def uri(self) -> str:
        return f"milvus://127.0.0.1:{self.port}"

    def __enter__(self) -> RealMilvus:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        """Make the namespace, start the server and both forwarders, and wait until it answers."""
        self.folder.mkdir(parents=True, exist_ok=True)
        _remove_stale_namespaces()
        subprocess.run(["ip", "netns", "add", self.namespace], check=True, capture_output=True)
        subprocess.run(["ip", "netns", "exec", self.namespace, "ip", "link", "set", "lo", "up"], check=True)
        self._start_server()
        self._inner = subprocess.Popen(
            ["ip", "netns", "exec", self.namespace, sys.executable, __file__, str(self.socket), str(GRPC_PORT)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        self._start_outer()
        self._wait()

    def _start_server(self) -> None:
        """The package's own launcher writes the config and unpacks the binary; only its process is
        started inside the namespace (the launcher would start it here, and stops it when it is
        garbage-collected, so its process handle is taken over)."""
        import milvus

        config = milvus.MilvusServerConfig(data_dir=str(self.folder / "server"), listen_port=GRPC_PORT)
        launcher = milvus.MilvusServer(config, wait_for_started=False)
        popen = subprocess.Popen

        def in_namespace(cmds, **kwargs):
            return popen(["ip", "netns", "exec", self.namespace, *cmds], preexec_fn=_die_with_parent, **kwargs)

        milvus.subprocess.Popen = in_namespace
        try:
            launcher.start()
        finally:
            milvus.subprocess.Popen = popen
        self.server, launcher.server_proc = launcher.server_proc, None

    def _start_outer(self) -> None:
        ready = threading.Event()

        async def handle(reader, writer):
            try:
                inner_reader, inner_writer = await asyncio.open_unix_connection(str(self.socket))
            except OSError:
                writer.close()
                return
            await asyncio.gather(_pipe(reader, inner_writer), _pipe(inner_reader, writer))

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            server = self._loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", self.port))
            ready.set()
            try:
                self._loop.run_forever()
            finally:
                server.close()

        threading.Thread(target=run, name="milvus-bridge", daemon=True).start()
        ready.wait(10)

    def _wait(self) -> None:
        from pymilvus import MilvusClient

        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                client = MilvusClient(uri=f"http://127.0.0.1:{self.port}", timeout=5)
                client.list_collections()
                client.close()
                return
            except Exception:
                if (self.server is not None and self.server.poll() is not None) or time.monotonic() > deadline:
                    log = self.folder / "server" / "logs" / "milvus-stdout.log"
                    self.stop()
                    raise RuntimeError(f"the Milvus server did not start (see {log})") from None
                time.sleep(0.5)

    def kill(self) -> None:
        """Stop the server at once (SIGKILL), leaving its data (a crash)."""
        if self.server is not None and self.server.poll() is None:
            self.server.kill()
            self.server.wait(10)

    def restart(self) -> None:
        """Start the server again on the same data (the namespace and bridge stay)."""
        self.kill()
        self._start_server()
        self._wait()

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s), the forwarders and the namespace."""
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(5)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait(10)
        if self._inner is not None and self._inner.poll() is None:
            self._inner.kill()
            self._inner.wait(10)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        subprocess.run(["ip", "netns", "del", self.namespace], capture_output=True)


if __name__ == "__main__":  # the forwarder inside the namespace (see the module docstring)
    asyncio.run(_forward(sys.argv[1], int(sys.argv[2])))
