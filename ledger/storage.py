"""Where the ledger lives: a SQLite file by default, PostgreSQL for teams.

The location becomes the eventsourcing library's own settings
(`PERSISTENCE_MODULE`, `SQLITE_DBNAME`, `POSTGRES_*`); nothing here writes SQL.
"""

from __future__ import annotations

import os
from pathlib import Path

from ledger.errors import StorageError, UnreadableInput

#: How long a writer waits for another writer's lock before giving up (seconds).
LOCK_TIMEOUT = "30"


def default_path() -> Path:
    """`$XDG_DATA_HOME/deal-ledger/ledger.db`, i.e. `~/.local/share/deal-ledger/ledger.db`."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "deal-ledger" / "ledger.db"


class Location:
    """A ledger database: a SQLite file path or a PostgreSQL URL (a plain class: every command makes one)."""

    __slots__ = ("target",)

    def __init__(self, target: str):
        self.target = target

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Location) and other.target == self.target

    def __hash__(self) -> int:
        return hash(self.target)

    def __repr__(self) -> str:
        return f"Location({self.display!r})"

    @property
    def is_postgres(self) -> bool:
        return self.target.startswith(("postgresql://", "postgres://"))

    @property
    def display(self) -> str:
        """The location safe to print: a URL's password is masked."""
        return mask_password(self.target) if self.is_postgres else self.target

    def settings(self) -> dict[str, str]:
        """The eventsourcing library's environment for this location (and cipher)."""
        return self._store_settings() | cipher_settings()

    def _store_settings(self) -> dict[str, str]:
        if self.is_postgres:
            return postgres_settings(self.target)
        path = Path(self.target).expanduser()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StorageError(f"cannot create the folder for {self.target!r}: {error.strerror}") from None
        return {
            "PERSISTENCE_MODULE": "ledger.stores:LedgerSQLiteFactory",
            "SQLITE_DBNAME": str(path),
            "SQLITE_LOCK_TIMEOUT": LOCK_TIMEOUT,
        }


def cipher_settings() -> dict[str, str]:
    """AES-GCM encryption of event state when `LEDGER_CIPHER_KEY` (or `_FILE`) is set."""
    key = os.environ.get("LEDGER_CIPHER_KEY", "").strip()
    where = "LEDGER_CIPHER_KEY"
    key_file = os.environ.get("LEDGER_CIPHER_KEY_FILE")
    if not key and key_file:
        where = "LEDGER_CIPHER_KEY_FILE"
        try:
            key = Path(key_file).expanduser().read_text().strip()
        except OSError as error:
            raise StorageError(f"cannot read LEDGER_CIPHER_KEY_FILE {key_file!r}: {error.strerror}") from None
    if not key:
        return {}
    check_key(key, where)
    return {"CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher", "CIPHER_KEY": key}


def check_key(key: str, where: str) -> None:
    """Refuses a cipher key that is not base64 of 16, 24 or 32 bytes (what `ledger keygen` prints)."""
    import base64
    import binascii

    try:
        size = len(base64.b64decode(key, validate=True))
    except (binascii.Error, ValueError):
        size = 0
    if size not in (16, 24, 32):
        raise UnreadableInput(f"{where} does not hold a key: give the base64 text `ledger keygen` prints")


def locate(db: str | None) -> Location:
    """The location from `--db`, else `LEDGER_DB`, else the default file."""
    target = db or os.environ.get("LEDGER_DB") or str(default_path())
    if target == ":memory:":
        raise StorageError("an in-memory ledger would be lost on exit; give a file path")
    return Location(target)


def postgres_settings(url: str) -> dict[str, str]:
    """`postgresql://user:pass@host:port/dbname?schema=name&connect_timeout=10` as POSTGRES_* settings."""
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url)
    dbname = parts.path.lstrip("/")
    if not dbname or not parts.hostname:
        raise StorageError(f"{mask_password(url)!r} needs a host and a database name")
    try:
        port = parts.port or 5432
    except ValueError:
        raise StorageError(f"{mask_password(url)!r} has an invalid port") from None
    query = parse_qs(parts.query)
    settings = {
        "PERSISTENCE_MODULE": "ledger.pg_stores:LedgerPostgresFactory",
        "POSTGRES_DBNAME": unquote(dbname),
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(port),
        "POSTGRES_USER": unquote(parts.username or os.environ.get("PGUSER", "postgres")),
        "POSTGRES_PASSWORD": unquote(parts.password or os.environ.get("PGPASSWORD", "")),
        "POSTGRES_CONNECT_TIMEOUT": query.get("connect_timeout", ["10"])[0],
        "POSTGRES_LOCK_TIMEOUT": LOCK_TIMEOUT,
        # An import keeps its transaction open while it reads the next batch of lines.
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "120",
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "2",
    }
    if "schema" in query:
        settings["POSTGRES_SCHEMA"] = query["schema"][0]
    return settings


def mask_password(url: str) -> str:
    """The URL with its password replaced by '***'."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{userinfo}:***@{netloc[1]}"))
