"""The local emulation's state folder: the server's address, the pump's positions, the key.

`$EXPORTINTEL_HOME/.local/` when that variable is set, else `.local/` at the repository root
(the folder holding `pyproject.toml`), else `.local/` in the working folder. The folder outlives
the server: the pseudonymisation key is generated once and reused by every `local up`, so
pseudonyms stay stable across restarts and replays keep deduplicating.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

HOME_VARIABLE = "EXPORTINTEL_HOME"
STATE_FOLDER = ".local"
KEY_FILE = "pseudonymisation.key"
SERVER_FILE = "server.json"
SERVER_LOG = "server.log"
CHECKPOINT_FILE = "pump-checkpoints.json"
DEAD_LETTER_FOLDER = "dead-letter"
KEY_BYTES = 32


def state_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where the emulation keeps its state (not created here)."""
    env = os.environ if environ is None else environ
    home = env.get(HOME_VARIABLE)
    if home:
        return Path(home).expanduser().resolve() / STATE_FOLDER
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").is_file():
        return repo / STATE_FOLDER
    return Path.cwd() / STATE_FOLDER


def ensure_state_dir(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def load_or_create_key(directory: Path) -> bytes:
    """The pseudonymisation key: read from the state folder, generated there on first use.

    Stored as hex in a file only its owner can read (0600), created atomically so two
    concurrent first runs cannot end up with different keys.
    """
    ensure_state_dir(directory)
    path = directory / KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_key(path)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secrets.token_bytes(KEY_BYTES).hex() + "\n")
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        # Someone widened the permissions: narrow them again rather than refuse to start.
        path.chmod(0o600)
    text = path.read_text(encoding="ascii").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{path} does not hold a hex key") from None
    if len(key) < KEY_BYTES:
        raise ValueError(f"{path} holds a key shorter than {KEY_BYTES} bytes")
    return key


@dataclass(frozen=True)
class ServerState:
    """What the detached server writes once it listens."""

    pid: int
    endpoint_url: str
    started_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def write_server_state(directory: Path, state: ServerState) -> None:
    ensure_state_dir(directory)
    temporary = directory / f".{SERVER_FILE}.{state.pid}.tmp"
    temporary.write_text(state.to_json(), encoding="utf-8")
    os.replace(temporary, directory / SERVER_FILE)


def read_server_state(directory: Path) -> ServerState | None:
    path = directory / SERVER_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ServerState(int(data["pid"]), str(data["endpoint_url"]), str(data["started_at"]))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def clear_server_state(directory: Path, pid: int | None = None) -> None:
    """Remove the server file (only if it still names `pid`, when given)."""
    current = read_server_state(directory)
    if current is None or pid is None or current.pid == pid:
        (directory / SERVER_FILE).unlink(missing_ok=True)
