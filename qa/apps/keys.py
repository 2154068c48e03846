"""API keys: who may use a served chat and REST API, and who may add and remove articles.

A key is a random token (``qa_`` and 43 URL-safe characters, 256 bits) shown once, when it is
made. Only its SHA-256 is kept (a slow password hash adds nothing to a 256-bit random token),
in one of two places:

* a keys file (``--keys FILE``, by default ``qa-keys.json`` in the current folder), written by
  ``qa keys add NAME [--write]`` and ``qa keys revoke NAME``, read again by a running server
  whenever it changes, so that a revoked key stops working on its next request::

      {"keys": [{"name": "newsroom", "sha256": "…", "write": false, "created": "2026-12-07", "revoked": ""}]}

* the ``QA_API_KEYS`` environment variable (for containers), entries separated by commas, each
  ``NAME:sha256:HEX`` (what ``qa keys add`` prints) or ``NAME:KEY``, with ``:write`` after
  either for a key with write rights.

Clients send a key as ``Authorization: Bearer KEY``; in the browser chat, the login asks for the
key's name and the key. A server bound to an address other machines can reach refuses to start
without any key (see :func:`check_exposure`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import socket
import tempfile
import threading
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path

from ..errors import AuthenticationError, ExposedError, KeysFileError, PermissionDeniedError, warn

__all__ = [
    "DEFAULT_FILE",
    "ENV",
    "ApiKey",
    "KeyRing",
    "add_key",
    "check_exposure",
    "is_loopback",
    "keys_file",
    "read_keys",
    "revoke_key",
]

ENV = "QA_API_KEYS"
#: Where the keys file is unless ``--keys`` (or the ``QA_KEYS_FILE`` variable) names another.
DEFAULT_FILE = "qa-keys.json"
PREFIX = "qa_"
#: The fewest characters a key given in ``QA_API_KEYS`` may have (``qa keys add`` makes 46).
SHORTEST = 24
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_HEX = re.compile(r"^[0-9a-f]{64}$")
WRITE_HINT = "make one with qa keys add NAME --write, and send it as Authorization: Bearer KEY"


@dataclass(frozen=True)
class ApiKey:
    """One key as kept: its name, the SHA-256 of the key, its rights, and when it was made or revoked."""

    name: str
    sha256: str
    write: bool = False
    created: str = ""
    revoked: str = ""
    origin: str = "file"  # "file" or "env" (not written)


def digest(key: str) -> str:
    """The SHA-256 of a key, as kept."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def keys_file(path: str | os.PathLike | None = None) -> Path:
    """The keys file: ``path``, else ``QA_KEYS_FILE``, else :data:`DEFAULT_FILE` in the current folder."""
    return Path(path or os.environ.get("QA_KEYS_FILE") or DEFAULT_FILE).expanduser()


def _checked_name(name: str, where: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise KeysFileError(
            f"{where}: key name {name!r} must be 1-64 letters, digits, '_', '.', '@' or '-', starting with a "
            "letter or digit"
        )
    return name


def read_keys(path: str | os.PathLike) -> list[ApiKey]:
    """The keys of a keys file (none when it does not exist).

    Raises:
        KeysFileError: the file is unreadable or malformed (the message names the entry).
    """
    path = Path(path)
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeysFileError(f"keys file {path} cannot be read ({exc}); mend it or move it away") from exc
    entries = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise KeysFileError(f'keys file {path} must hold {{"keys": [...]}}; mend it or move it away')
    out, seen = [], set()
    for i, entry in enumerate(entries):
        where = f"keys file {path}, entry {i + 1}"
        if not isinstance(entry, dict):
            raise KeysFileError(f"{where} is not an object")
        name = _checked_name(entry.get("name"), where)
        sha = entry.get("sha256")
        if not isinstance(sha, str) or not _HEX.match(sha):
            raise KeysFileError(f"{where} ({name}): sha256 must be 64 lower-case hex digits")
        if name in seen:
            raise KeysFileError(f"{where}: the name {name} is used twice")
        seen.add(name)
        out.append(
            ApiKey(
                name,
                sha,
                write=bool(entry.get("write", False)),
                created=str(entry.get("created", "")),
                revoked=str(entry.get("revoked", "") or ""),
            )
        )
    return out


def _write_keys(path: Path, keys: list[ApiKey]) -> None:
    """Write the keys file whole (a temporary file renamed over it, readable by its owner only)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{k: v for k, v in asdict(key).items() if k != "origin"} for key in keys]
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"keys": rows}, fh, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def add_key(path: str | os.PathLike, name: str, *, write: bool = False) -> tuple[str, ApiKey]:
    """Make a key called ``name`` in the keys file at ``path``; returns the key (shown only now) and its entry.

    Raises:
        KeysFileError: the name is malformed or taken, or the file is malformed.
    """
    path = Path(path)
    _checked_name(name, "qa keys add")
    keys = read_keys(path)
    if any(k.name == name for k in keys):
        raise KeysFileError(f"{path} already has a key called {name}; pick another name, or revoke that one first")
    key = PREFIX + secrets.token_urlsafe(32)
    entry = ApiKey(name, digest(key), write=write, created=date.today().isoformat())
    _write_keys(path, [*keys, entry])
    return key, entry


def revoke_key(path: str | os.PathLike, name: str) -> ApiKey:
    """Revoke the key ``name`` (kept, marked revoked, so that its use gets a clear answer).

    Raises:
        KeysFileError: no such key, or the file is malformed.
    """
    path = Path(path)
    keys = read_keys(path)
    found = [k for k in keys if k.name == name]
    if not found:
        known = ", ".join(k.name for k in keys) or "none"
        raise KeysFileError(f"{path} has no key called {name} (keys: {known})")
    revoked = replace(found[0], revoked=found[0].revoked or date.today().isoformat())
    _write_keys(path, [revoked if k.name == name else k for k in keys])
    return revoked


def env_keys(value: str | None) -> list[ApiKey]:
    """The keys of a ``QA_API_KEYS`` value (see the module docstring).

    Raises:
        KeysFileError: an entry is malformed (named by its position, never by its key).
    """
    out = []
    for i, raw in enumerate(p.strip() for p in (value or "").split(",")):
        if not raw:
            continue
        where = f"{ENV}, entry {i + 1}"
        parts = raw.split(":")
        write = parts[-1] == "write"
        if write:
            parts = parts[:-1]
        if len(parts) == 3 and parts[1] == "sha256":
            name, sha = parts[0], parts[2].lower()
            if not _HEX.match(sha):
                raise KeysFileError(f"{where}: the hash after sha256: must be 64 hex digits")
        elif len(parts) == 2:
            name, key = parts
            if len(key) < SHORTEST:
                raise KeysFileError(
                    f"{where}: the key is shorter than {SHORTEST} characters; make one with qa keys add NAME"
                )
            sha = digest(key)
        else:
            raise KeysFileError(f"{where}: write NAME:KEY or NAME:sha256:HEX, with :write after it for write rights")
        out.append(ApiKey(_checked_name(name, where), sha, write=write, origin="env"))
    return out


class KeyRing:
    """The keys a server accepts: a keys file (read again when it changes) and ``QA_API_KEYS``.

    Args:
        path: the keys file (it may not exist yet).
        env: the value of ``QA_API_KEYS`` (None: none).

    Raises:
        KeysFileError: (on construction) the file or the variable is malformed.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, env: str | None = None) -> None:
        self.path = None if path is None else Path(path)
        self._env = env_keys(env)
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._by_hash: dict[str, ApiKey] = {}
        self._reload(strict=True)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None) -> KeyRing:
        """The keys file at ``path`` (see :func:`keys_file`) and the ``QA_API_KEYS`` variable."""
        return cls(keys_file(path), env=os.environ.get(ENV))

    def _file_stamp(self) -> tuple | None:
        if self.path is None:
            return None
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _reload(self, *, strict: bool = False) -> None:
        stamp = self._file_stamp()
        with self._lock:
            if stamp == self._stamp and self._by_hash:
                return
            try:
                found = read_keys(self.path) if stamp is not None else []
            except KeysFileError:
                if strict:
                    raise
                warn(f"the keys file {self.path} became unreadable; the keys read before stay in use")
                return
            self._by_hash = {k.sha256: k for k in [*found, *self._env]}
            self._stamp = stamp

    @property
    def keys(self) -> list[ApiKey]:
        """Every key known (revoked ones included)."""
        return list(self._current().values())

    @property
    def required(self) -> bool:
        """Whether any key is in force: then every request needs one."""
        return _in_force(self._current())

    def _current(self) -> dict[str, ApiKey]:
        """The keys by hash, read again first if the file changed."""
        self._reload()
        return self._by_hash

    def check(self, key: str | None, *, write: bool = False) -> ApiKey | None:
        """The entry of ``key``; None when no key is needed and none was given.

        Raises:
            AuthenticationError: a key is needed and missing, or the key is wrong or revoked.
            PermissionDeniedError: ``write`` is asked and the key (or no key) has no write rights.
        """
        known = self._current()
        entry = None
        if key:
            entry = known.get(digest(key))  # a lookup by hash: the key itself is never compared
            if entry is None:
                raise AuthenticationError("the API key is not known here; check it, or ask for a new one")
            if entry.revoked:
                raise AuthenticationError(f"the API key {entry.name} was revoked on {entry.revoked}; ask for a new one")
        elif _in_force(known):
            raise AuthenticationError("this server needs an API key: send it as Authorization: Bearer KEY")
        if write and (entry is None or not entry.write):
            who = f"the key {entry.name} has" if entry else "requests without a key have"
            raise PermissionDeniedError(
                f"adding and removing articles needs write rights, and {who} none; {WRITE_HINT}"
            )
        return entry

    def login(self, name: str, key: str) -> bool:
        """The browser chat's login: ``name`` and ``key`` of a key in force."""
        try:
            entry = self.check(key or "")
        except AuthenticationError:
            return False
        return entry is not None and hmac.compare_digest(entry.name.encode(), (name or "").strip().encode())


def _in_force(keys: dict[str, ApiKey]) -> bool:
    return any(not k.revoked for k in keys.values())


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only (127.0.0.0/8, ::1, or a name that resolves only there)."""
    host = host.strip().strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(found) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in found)


def check_exposure(host: str, keys: KeyRing, *, insecure: bool = False) -> None:
    """Refuse to serve on an address other machines can reach without any key in force.

    Raises:
        ExposedError: ``host`` is not loopback, no key is in force and ``insecure`` is off.
    """
    if is_loopback(host) or keys.required:
        return
    where = keys.path or DEFAULT_FILE
    if not insecure:
        raise ExposedError(
            f"serving on {host} lets other machines in, and no API key is set: make one with "
            f"qa keys add NAME (--write to let it add and remove articles; kept in {where}) or set {ENV}; "
            "or pass --insecure on a closed network"
        )
    warn(f"serving on {host} without API keys (--insecure): anyone who can reach it can read the whole archive")
