"""The emulation as a detached background process: `exportintel local up|down|status`.

`python -m exportintel.local.server --state DIR` runs a `LocalEmulation` (moto on 127.0.0.1,
a free port chosen by the system) until SIGTERM, and writes `DIR/server.json` (pid, endpoint)
once it listens. `start_detached` launches it in its own session, so it outlives the shell
that ran `local up`; `stop_detached` ends it by the pid it recorded. Emulated data lives in
the server's memory: `local down` discards the lake, while the state folder (the key, the
pump's positions) stays.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

from exportintel.local.state import (
    SERVER_LOG,
    ServerState,
    clear_server_state,
    ensure_state_dir,
    read_server_state,
    write_server_state,
)

MODULE = "exportintel.local.server"


# Servers this process started: their `Popen` knows when they exit (a zombie child would
# still answer signal 0).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _alive(pid: int) -> bool:
    child = _CHILDREN.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_our_server(pid: int) -> bool:
    """Guard against a recycled pid: the process must be this module (where /proc tells)."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return _alive(pid)
    try:
        return MODULE.encode() in cmdline.read_bytes()
    except OSError:
        return False


def _answers(endpoint_url: str, timeout: float = 1.0) -> bool:
    parsed = urlparse(endpoint_url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout):
            return True
    except OSError:
        return False


def running(state: Path) -> ServerState | None:
    """The recorded server if it is alive and listening; a stale record is removed."""
    current = read_server_state(state)
    if current is None:
        return None
    if _alive(current.pid) and _is_our_server(current.pid) and _answers(current.endpoint_url):
        return current
    if not _alive(current.pid):
        clear_server_state(state, current.pid)
    return None


def start_detached(state: Path, *, timeout: float = 30.0) -> tuple[ServerState, bool]:
    """Start the server in the background unless one runs; (its state, whether it is new)."""
    current = running(state)
    if current is not None:
        return current, False
    ensure_state_dir(state)
    clear_server_state(state)
    with (state / SERVER_LOG).open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", MODULE, "--state", str(state)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[process.pid] = process
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        recorded = read_server_state(state)
        ready = recorded is not None and recorded.pid == process.pid
        if ready and recorded is not None and _answers(recorded.endpoint_url):
            return recorded, True
        if process.poll() is not None:
            raise RuntimeError(
                f"the emulation server exited with {process.returncode}; see {state / SERVER_LOG}"
            )
        time.sleep(0.05)
    process.terminate()
    raise TimeoutError(f"the emulation server did not answer in {timeout:.0f} s")


def stop_detached(state: Path, *, timeout: float = 10.0) -> bool:
    """Stop the recorded server; False when none was running (not an error)."""
    current = read_server_state(state)
    if current is None:
        return False
    if not _alive(current.pid) or not _is_our_server(current.pid):
        clear_server_state(state, current.pid)
        return False
    os.kill(current.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(current.pid):
        if time.monotonic() > deadline:
            os.kill(current.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    clear_server_state(state, current.pid)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=MODULE, description="Run the local emulation server.")
    parser.add_argument("--state", required=True, help="state folder (server.json goes here)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    args = parser.parse_args(argv)

    from exportintel.local.emulation import LocalEmulation

    state = Path(args.state)
    emulation = LocalEmulation(state=state, host=args.host, port=args.port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    # Provisioning is the caller's step (`local up`), so re-running it needs no restart.
    emulation.start(provision=False)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    write_server_state(state, ServerState(os.getpid(), emulation.endpoint_url, started))
    print(f"{started} serving {emulation.endpoint_url} (pid {os.getpid()})", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emulation.stop(reset=False)
        clear_server_state(state, os.getpid())
        print(f"{dt.datetime.now(dt.UTC).isoformat(timespec='seconds')} stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
