"""A minimal read-only PostgreSQL client: libpq itself, through ctypes.

Why it exists: the start of read commands. `import psycopg` alone costs
75-95 ms, a large part of a `ledger history` on a PostgreSQL ledger, while
loading libpq and connecting cost under 10 ms. So the read commands' quick
path (`ledger.pg_reads.PgQuickStore`) talks to libpq directly; psycopg stays
the driver for everything else (writes, catch-ups, rebuilds, the library).

It does only what that path needs: connect with keywords (started early, and
finished when the command first reads, see `start`), run one statement
with `$1, $2 …` parameters sent as text, and take its rows back as text,
converted by column type (integers, bool, bytea, numeric, floats; the rest
str; NULL None). `library()` gives None where libpq cannot be loaded, and
the caller goes the psycopg way.
"""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from ctypes import POINTER, c_char_p, c_int, c_size_t, c_uint, c_void_p
from typing import Any

#: Names the dynamic loader finds libpq under (Linux, macOS, Windows).
NAMES = ("libpq.so.5", "libpq.5.dylib", "libpq.dll")
CONNECTION_OK, CONNECTION_BAD = 0, 1
#: PQconnectPoll's answers: failed, wants to read, wants to write, done.
POLLING_FAILED, POLLING_READING, POLLING_WRITING, POLLING_OK = 0, 1, 2, 3
PGRES_COMMAND_OK = 1
PGRES_TUPLES_OK = 2
PG_DIAG_SQLSTATE = ord("C")
PG_DIAG_MESSAGE_PRIMARY = ord("M")

#: ctypes signatures of the functions used: (name, restype, argtypes). PGconn* and PGresult*
#: are c_void_p, so that ctypes never cuts a pointer down to an int.
SIGNATURES: list[tuple[str, Any, list[Any]]] = [
    ("PQconnectStartParams", c_void_p, [POINTER(c_char_p), POINTER(c_char_p), c_int]),
    ("PQconnectPoll", c_int, [c_void_p]),
    ("PQsocket", c_int, [c_void_p]),
    ("PQstatus", c_int, [c_void_p]),
    ("PQerrorMessage", c_char_p, [c_void_p]),
    ("PQfinish", None, [c_void_p]),
    ("PQexecParams", c_void_p, [c_void_p, c_char_p, c_int, c_void_p, POINTER(c_char_p), c_void_p, c_void_p, c_int]),
    ("PQresultStatus", c_int, [c_void_p]),
    ("PQresultErrorMessage", c_char_p, [c_void_p]),
    ("PQresultErrorField", c_char_p, [c_void_p, c_int]),
    ("PQntuples", c_int, [c_void_p]),
    ("PQnfields", c_int, [c_void_p]),
    ("PQfname", c_char_p, [c_void_p, c_int]),
    ("PQftype", c_uint, [c_void_p, c_int]),
    ("PQgetvalue", c_char_p, [c_void_p, c_int, c_int]),
    ("PQgetisnull", c_int, [c_void_p, c_int, c_int]),
    ("PQclear", None, [c_void_p]),
    ("PQunescapeBytea", c_void_p, [c_char_p, POINTER(c_size_t)]),
    ("PQfreemem", None, [c_void_p]),
]


class LibpqError(Exception):
    """A connection or statement libpq reports as failed; the message is one line (the server's, if it sent one)."""

    def __init__(self, message: str, sqlstate: str | None = None):
        super().__init__(message)
        self.sqlstate = sqlstate


@functools.cache
def library() -> Any | None:
    """libpq with its signatures declared, loaded once; None if it cannot be loaded.

    The copy psycopg-binary bundles first (found without importing psycopg): the
    library path then runs on the same libpq as psycopg, and it loads faster here
    (~4.5 vs ~7 ms); else the dynamic loader's. Not `ctypes.util.find_library`:
    it runs ldconfig.
    """
    for candidate in candidates():
        try:
            # Lazy binding: its functions are resolved when first called, not all at load
            # (a read calls a dozen of them; ~1.2 of ~2.4 ms here).
            lib = ctypes.CDLL(candidate, mode=os.RTLD_LAZY | os.RTLD_LOCAL)
        except OSError:
            continue
        try:
            for name, restype, argtypes in SIGNATURES:
                function = getattr(lib, name)
                function.restype, function.argtypes = restype, argtypes
        except AttributeError:  # too old a libpq
            continue
        # Once per value read: without argtypes a call costs a third as much. Only ever
        # called with the result as a c_void_p and two Python ints (C ints).
        lib.value, lib.isnull = lib["PQgetvalue"], lib["PQgetisnull"]
        lib.value.restype, lib.isnull.restype = c_char_p, c_int
        return lib
    return None


def candidates() -> Iterator[str]:
    """Where libpq may be loaded from, first choice first: psycopg-binary's
    `psycopg_binary.libs/libpq-*` (its wheels' copy), then the dynamic loader's search path."""
    yield from bundled()
    yield from NAMES


def bundled() -> Iterator[str]:
    import importlib.util

    try:
        spec = importlib.util.find_spec("psycopg_binary")
    except (ImportError, ValueError):
        return
    if spec is None or not spec.submodule_search_locations:
        return
    libs = os.path.join(os.path.dirname(os.path.abspath(spec.submodule_search_locations[0])), "psycopg_binary.libs")
    if os.path.isdir(libs):
        yield from sorted(os.path.join(libs, name) for name in os.listdir(libs) if name.startswith("libpq-"))


def first_line(message: bytes | None, default: str) -> str:
    """The first non-empty line of a libpq message."""
    lines = (message or b"").decode("utf-8", "replace").strip().splitlines()
    return lines[0].strip() if lines else default


def connect(keywords: Mapping[str, str | None]) -> Connection:
    """A connection with these libpq keywords (dbname, host, port, user, password, connect_timeout …;
    None values left out); text comes and goes as UTF-8. A failure is a `LibpqError` with libpq's message."""
    return start(keywords).finish()


def start(keywords: Mapping[str, str | None]) -> Connecting:
    """Starts connecting (as `connect`) without waiting for the server: `Connecting.finish` does.

    Connecting is mostly the server's work (a new backend, authentication):
    ~0.4 ms of this process's time in 3-10 ms here. A read command starts it
    before it loads its own modules, moves it on when it can (`advance`), and
    finishes it when it first reads.
    """
    lib = library()
    if lib is None:
        raise LibpqError("libpq cannot be loaded")
    given = {"client_encoding": "UTF8", **{k: str(v) for k, v in keywords.items() if v is not None}}
    names = (c_char_p * (len(given) + 1))(*(k.encode() for k in given), None)
    values = (c_char_p * (len(given) + 1))(*(v.encode() for v in given.values()), None)
    handle = lib.PQconnectStartParams(names, values, 0)
    if not handle:
        raise LibpqError("out of memory")
    connecting = Connecting(lib, handle, float(given.get("connect_timeout", 0)) or None)
    connecting.advance(0)
    return connecting


class Connecting:
    """A connection on its way (see `start`); `finish` gives it, `close` abandons it."""

    def __init__(self, lib: Any, handle: int, timeout: float | None):
        self.lib = lib
        self.handle: int | None = handle
        self.timeout = timeout
        # As libpq says to begin, unless it failed at once (bad keywords, say).
        self.polled = POLLING_FAILED if lib.PQstatus(handle) == CONNECTION_BAD else POLLING_WRITING

    def advance(self, wait: float | None) -> bool:
        """Polls libpq as long as its socket gets ready within `wait` seconds (0: only while it is
        ready now; None: for ever). True when libpq has nothing more to wait for.

        Each answer of the server needs a poll before the next step: the SSL and GSS
        negotiation, then the startup message, after which the server works alone.
        """
        import select
        import time

        lib, handle = self.lib, self.handle
        deadline = None if wait is None else time.monotonic() + wait
        while self.polled in (POLLING_READING, POLLING_WRITING):
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            socket = [lib.PQsocket(handle)]
            reading = self.polled == POLLING_READING
            ready = select.select(socket if reading else [], [] if reading else socket, [], left)
            if not ready[0] and not ready[1]:
                return False
            self.polled = lib.PQconnectPoll(handle)
        return True

    def finish(self) -> Connection:
        """The connection once the server has accepted it; a `LibpqError` if it refused, or did not
        answer within connect_timeout (libpq leaves the waiting, and so its timeout, to the caller)."""
        if self.handle is None:
            raise LibpqError("the connection is closed")
        if not self.advance(self.timeout):
            self.close()
            raise LibpqError("timeout expired")
        lib, handle = self.lib, self.handle
        if self.polled != POLLING_OK or lib.PQstatus(handle) != CONNECTION_OK:
            message = first_line(lib.PQerrorMessage(handle), "cannot connect")
            self.close()
            raise LibpqError(message)
        self.handle = None
        return Connection(lib, handle)

    def close(self) -> None:
        if self.handle is not None:
            self.lib.PQfinish(self.handle)
            self.handle = None

    def __del__(self) -> None:
        self.close()


def text_param(value: Any) -> bytes | None:
    """A parameter in PostgreSQL's text format."""
    if value is None:
        return None
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return b"\\x" + bytes(value).hex().encode()
    encoded = str(value).encode()
    if b"\0" in encoded:
        raise LibpqError("PostgreSQL text cannot contain NUL (0x00) characters")
    return encoded


def numeric(value: bytes) -> Any:
    from decimal import Decimal

    return Decimal(value.decode())


def bytea(value: bytes) -> bytes:
    """bytea's text: hex (`\\x…`, the default output) or the older escape format."""
    if value.startswith(b"\\x"):
        return bytes.fromhex(value[2:].decode())
    lib = library()
    size = c_size_t()
    pointer = lib.PQunescapeBytea(value, ctypes.byref(size))
    if not pointer:
        raise LibpqError("out of memory")
    try:
        return ctypes.string_at(pointer, size.value)
    finally:
        lib.PQfreemem(pointer)


#: Column type OID -> what makes a Python value of its text (int2, int4, int8, oid, float4,
#: float8, numeric, bool, bytea); any other type is str.
LOADERS: dict[int, Callable[[bytes], Any]] = {
    21: int, 23: int, 20: int, 26: int, 700: float, 701: float, 1700: numeric,
    16: lambda value: value == b"t", 17: bytea,
}  # fmt: skip


class Connection:
    """One libpq connection; `execute` runs a statement, `close` ends it."""

    def __init__(self, lib: Any, handle: int):
        self.lib = lib
        self.handle: int | None = handle

    def execute(self, statement: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """(column names, rows) of the statement, its `$1, $2 …` marks bound to `params`.

        A statement the server refuses is a `LibpqError` with its message (and `sqlstate`).
        """
        lib = self.lib
        if self.handle is None:
            raise LibpqError("the connection is closed")
        values = (c_char_p * len(params))(*(text_param(p) for p in params))
        result = lib.PQexecParams(self.handle, statement.encode(), len(params), None, values, None, None, 0)
        if not result:
            raise LibpqError(first_line(lib.PQerrorMessage(self.handle), "the statement failed"))
        try:
            if lib.PQresultStatus(result) not in (PGRES_COMMAND_OK, PGRES_TUPLES_OK):
                state = lib.PQresultErrorField(result, PG_DIAG_SQLSTATE)
                primary = lib.PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)
                message = first_line(primary or lib.PQresultErrorMessage(result), "the statement failed")
                raise LibpqError(message, state.decode() if state else None)
            return self.rows(result)
        finally:
            lib.PQclear(result)

    def rows(self, result: int) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The column names and converted rows of a result."""
        lib = self.lib
        columns = range(lib.PQnfields(result))
        names = [lib.PQfname(result, c).decode() for c in columns]
        loaders = [LOADERS.get(lib.PQftype(result, c), bytes.decode) for c in columns]
        pointer, value, isnull = c_void_p(result), lib.value, lib.isnull
        rows = []
        for r in range(lib.PQntuples(result)):
            values = [value(pointer, r, c) for c in columns]  # text never holds a zero byte; NULL is b""
            if b"" in values:
                values = [v if v or not isnull(pointer, r, c) else None for c, v in zip(columns, values)]
            rows.append(tuple([None if v is None else load(v) for load, v in zip(loaders, values)]))
        return names, rows

    def close(self) -> None:
        if self.handle is not None:
            self.lib.PQfinish(self.handle)
            self.handle = None

    def __del__(self) -> None:  # as psycopg's: one nobody closed ends with its last reference
        self.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
