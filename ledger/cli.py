"""The `ledger` command: a thin click layer over the application and the read side.

Exit codes: 0 ok; 1 a refused operation (a rule of the ledger); 2 bad usage or
unreadable input. Every error is one line on stderr, never a traceback.
Modules beyond click are imported inside commands so `--help` stays fast.
"""

from __future__ import annotations

import os
import sys
from functools import cached_property
from typing import Any

import click

# pydantic looks for plugins through importlib.metadata on first import, which
# costs a tenth of a second at every start; the ledger uses none.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from ledger import __version__

EPILOG_DB = "The ledger is a SQLite file by default; see `ledger --help` for --db."
#: Settings of the library that change how stored events read back (a ledger with them is read through it).
LIBRARY_TOPICS = ("CIPHER_TOPIC", "COMPRESSOR_TOPIC", "MAPPER_TOPIC", "TRANSCODER_TOPIC")
#: PostgreSQL's SQLSTATE for a schema that does not exist (`ledger init` creates it).
INVALID_SCHEMA_NAME = "3F000"


class InputError(click.ClickException):
    """Unreadable input (exit code 2)."""

    exit_code = 2


class Refused(click.ClickException):
    """A refused operation (exit code 1)."""

    exit_code = 1


def translate(error: Exception) -> click.ClickException | None:
    """Our library errors as the CLI's exceptions, with their exit codes."""
    from eventsourcing.persistence import PersistenceError

    from events.figures import FigureError
    from events.intake import IntakeError
    from ledger.errors import LedgerError, UnreadableInput

    if isinstance(error, (IntakeError, FigureError, UnreadableInput)):
        return InputError(str(error))
    if isinstance(error, LedgerError):
        return Refused(str(error))
    if isinstance(error, PersistenceError):
        return Refused(f"database error: {error}".splitlines()[0])
    import sqlite3

    if isinstance(error, sqlite3.DatabaseError):  # from a plain connection (the quick reader, a check)
        return Refused(f"database error: {error}".splitlines()[0])
    return None


def check_slug_argument(value: str) -> None:
    """Refuses a DEAL or PARTY argument that is not a slug, as unreadable input (exit code 2)."""
    from events.text import check_slug

    try:
        check_slug(value)
    except ValueError as error:
        raise InputError(str(error)) from None


def single_line(message: str) -> str:
    """An error message on one line, whatever the user's input put in it."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in message.strip())


class LedgerGroup(click.Group):
    """Turns every failure into one line on stderr and the right exit code."""

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:  # type: ignore[override]
        extra.pop("standalone_mode", None)
        try:
            code = super().main(args, prog_name, standalone_mode=False, **extra)
        except click.exceptions.Exit as done:
            code = done.exit_code
        except click.UsageError as error:
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            click.echo(f"Error: {single_line(error.format_message())}{hint}", err=True)
            code = 2
        except click.ClickException as error:
            click.echo(f"Error: {single_line(error.format_message())}", err=True)
            code = error.exit_code
        except click.Abort:
            click.echo("Aborted.", err=True)
            code = 1
        except BrokenPipeError:
            sys.stderr.close()
            code = 1
        except Exception as error:  # noqa: BLE001 - the promise is: never a traceback
            known = translate(error)
            if os.environ.get("LEDGER_DEBUG"):
                raise
            message = known.format_message() if known else f"unexpected {type(error).__name__}: {error}"
            first = message.splitlines()[0] if known is None and message.strip() else message
            click.echo(f"Error: {single_line(first) if first else type(error).__name__}", err=True)
            code = known.exit_code if known else 1
        sys.exit(code if isinstance(code, int) else 0)


class Session:
    """What a command works on: the chosen ledger, opened only when first needed."""

    def __init__(self, db: str | None):
        self.db = db
        #: A PostgreSQL connection begun for the quick reader (`read_soon`), until it takes it.
        self._started: Any = None

    @cached_property
    def location(self) -> Any:
        from ledger.storage import locate

        return locate(self.db)

    def exists(self) -> bool:
        """False for a SQLite file that has not been created yet."""
        from pathlib import Path

        return self.location.is_postgres or Path(self.location.target).expanduser().exists()

    @cached_property
    def app(self) -> Any:
        from ledger.application import DealLedger

        return self._open(DealLedger)

    def _open(self, opener: Any) -> Any:
        from eventsourcing.persistence import PersistenceError

        from ledger.errors import StorageError

        settings = self.location.settings()
        if not self.location.is_postgres:
            from ledger.sqlite_reads import refuse_foreign_file

            refuse_foreign_file(settings["SQLITE_DBNAME"])
        for attempt in range(3):
            try:
                return opener(env=settings)
            except PersistenceError as error:
                # Two first users creating the tables at once: one loses the race; the tables now exist.
                if attempt < 2 and "already exists" in str(error):
                    continue
                first = str(error).splitlines()[0] if str(error) else type(error).__name__
                if getattr(error.__cause__, "sqlstate", None) == INVALID_SCHEMA_NAME:
                    first += " (`ledger init` creates it)"
                raise StorageError(f"cannot open the ledger at {self.location.display}: {first}") from None

    @cached_property
    def store(self) -> Any:
        """The ledger opened for reading only (no write side, no pydantic), or the application if open."""
        if "app" in self.__dict__:
            return self.app
        from ledger.reading import LedgerStore

        return self._open(LedgerStore)

    def close(self) -> None:
        """Closes what the command opened (connections, a PostgreSQL pool), at the end of the command:
        in a process that goes on (a test's CliRunner, a script calling `cli`) nothing is left
        to the garbage collector, which may run on a pool's own thread and cannot join it."""
        quick, store, app = (self.__dict__.pop(name, None) for name in ("quick", "store", "app"))
        self.__dict__.pop("reader", None)  # the quick reader, or a Reader over `store`
        started, self._started = self._started, None  # begun, never read through
        opened = {id(thing): thing for thing in (getattr(quick, "store", None), store, app, started) if thing is not None}
        for thing in opened.values():
            thing.close()

    @cached_property
    def quick(self) -> Any:
        """The quick reader (`projections.quick`) of a ledger without a key, or None; its read
        models may be behind (`QuickReader.caught_up`)."""
        return self._quick_reader()

    @cached_property
    def reader(self) -> Any:
        """The read side, caught up with every event recorded so far."""
        quick = self.quick
        if quick is not None and quick.caught_up():
            quick.check_key()
            return quick
        from ledger.output import progress
        from projections.catchup import Reader

        reader = Reader(self.store)
        reader.check_key()
        # A few new events can touch many deals, each refolded whole: a bar only once it takes a while.
        with progress("catching up read models", None, "deals", after=1.0) as advance:
            reader.catch_up(advance)
        return reader

    def deal_events(self, slug: str) -> list[Any]:
        """Every event of the deal (`Reader.deal_events`). They are read from the events themselves,
        so the read models are not caught up first, even on a ledger with a key (no quick reader)."""
        reader = self.__dict__.get("reader") or self.quick
        if reader is None:
            from projections.catchup import Reader

            reader = Reader(self.store)
        return reader.deal_events(slug)

    def read_soon(self) -> None:
        """Begins connecting to a PostgreSQL ledger the quick reader will read (`_quick_reader`):
        the server makes the connection (3-10 ms, little of it this process's) while the
        command loads its modules. Anything wrong with the ledger is said when it is read."""
        if self._started is not None or "quick" in self.__dict__:
            return
        try:
            settings = self._quick_settings()
        except Exception:  # noqa: BLE001 - an unusable location is reported by the read itself
            return
        if settings is not None and self.location.is_postgres:
            from ledger.pg_reads import PgQuickStore

            self._started = PgQuickStore.start(settings)

    def _quick_settings(self) -> dict[str, str] | None:
        """The ledger's settings if the quick reader may read it (no key, nothing open), else None."""
        if "app" in self.__dict__ or "store" in self.__dict__ or not self.exists():
            return None
        settings = self.location.settings()
        if "CIPHER_TOPIC" in settings or any(key.endswith(LIBRARY_TOPICS) or key.startswith("DEALLEDGER_") for key in os.environ):
            return None
        return settings

    def _quick_reader(self) -> Any:
        """For a ledger without a key: reads through one plain connection (projections.quick)."""
        settings = self._quick_settings()
        if settings is None:
            return None
        if self._started is not None:
            self._started.advance(0)  # take what the server has answered so far: it goes on while the reader loads
        from projections.quick import QuickReader

        if self.location.is_postgres:
            started, self._started = self._started, None
            return QuickReader.open_postgres(settings, self.location.display, started)
        return QuickReader.open(settings["SQLITE_DBNAME"], float(settings["SQLITE_LOCK_TIMEOUT"]))


def reads(function: Any) -> Any:
    """Marks a command that reads (`Session.reader`, `Session.deal_events`): on PostgreSQL, its
    connection is begun before the command loads its modules (`Session.read_soon`)."""
    import functools

    @functools.wraps(function)
    def wrapper(session: Session, *args: Any, **kwargs: Any) -> Any:
        session.read_soon()
        return function(session, *args, **kwargs)

    return wrapper


def wrap_errors(function: Any) -> Any:
    """Turns our library errors raised inside a command into click errors."""
    import functools

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except click.ClickException:
            raise
        except Exception as error:
            known = translate(error)
            if known is None:
                raise
            raise known from None

    return wrapper


def _given(ctx: click.Context, param: click.Parameter, db: str | None) -> str | None:
    """Refuses an empty --db (`--db "$UNSET"` in a script), which would have meant the default ledger."""
    if db is not None and not db.strip():
        raise click.BadParameter("is empty: give a SQLite file path or a postgresql:// URL", param_hint="'--db' (or LEDGER_DB)")
    return db


@click.group(cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option(
    "--db",
    metavar="PATH|URL",
    envvar="LEDGER_DB",
    callback=_given,
    help="SQLite file or postgresql:// URL [env LEDGER_DB; default "
    "$XDG_DATA_HOME/deal-ledger/ledger.db].",
)
@click.version_option(version=__version__, prog_name="ledger")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """An auditable, append-only record of what was reported about financing deals.

    Every report is appended as an immutable event; a wrong one is retracted
    by a new event, never edited. Read commands rebuild current state and the
    history of every reported figure.

    \b
    Example:
      ledger append openai-2026 talks-opened --source "The Information" \\
          --reported 2026-01-28 --figure "size=up to $100B" --party "nvidia=up to $30B"
      ledger history openai-2026
    """
    ctx.obj = Session(db)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    """Console script entry point."""
    cli()


from ledger import admin_commands, read_commands, write_commands  # noqa: E402, F401 - registers the commands
