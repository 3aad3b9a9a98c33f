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
from collections.abc import Callable, Mapping
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
API_TOKEN_FILE = "api-token"


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
    """The pseudonymisation key: read from the state folder, generated there on first use."""
    path = directory / KEY_FILE
    text = _load_or_create_secret(path, lambda: secrets.token_bytes(KEY_BYTES).hex())
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise ValueError(f"{path} does not hold a hex key") from None
    if len(key) < KEY_BYTES:
        raise ValueError(f"{path} holds a key shorter than {KEY_BYTES} bytes")
    return key


def load_or_create_api_token(directory: Path) -> str:
    """The local API's development token (a bearer token `exportintel serve` accepts)."""
    path = directory / API_TOKEN_FILE
    token = _load_or_create_secret(path, lambda: secrets.token_urlsafe(32))
    if len(token) < 32:
        raise ValueError(f"{path} holds a token shorter than 32 characters")
    return token


def _load_or_create_secret(path: Path, generate: Callable[[], str]) -> str:
    """A secret kept in the state folder, generated on first use.

    Stored in a file only its owner can read (0600), created atomically so two concurrent
    first runs cannot end up with different secrets.
    """
    ensure_state_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(generate() + "\n")
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        # Someone widened the permissions: narrow them again rather than refuse to start.
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


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
