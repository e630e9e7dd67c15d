"""Keeping the materialised read models up to date by pulling notifications.

The library's SQLite recorder cannot push new events to subscribers, so every
read command first pulls the notifications recorded since the tracking
position and replays the deals they touch: each deal's events are read once,
as light records (`events.stored`, no pydantic), folded once, and their rows
written a few hundred deals at a time. The same code rebuilds the read models
from nothing. Works on both backends; on SQLite the events are read as plain
rows within the catch-up's own transaction (`projections.sources`).

The library is imported only when a `Reader` is made, so a `QuickReader`
(`projections.quick`) can share the queries without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from events.stored import StoredRecord
from ledger.errors import DealNotFoundError
from ledger.sqlite_reads import worker_file
from ledger.streams import deal_id
from projections.sealing import Sealer


class Reader:
    """The read side of one ledger: its materialised indexes and the deal folds."""

    def __init__(self, app: Any):
        import random
        import time

        from eventsourcing.persistence import PersistenceError

        from projections.index import SQLiteIndex

        self.app = app
        index_class: Any = SQLiteIndex
        if type(app.factory).__module__ == "ledger.pg_stores":
            from projections.pg_index import PostgresIndex

            index_class = PostgresIndex
        for attempt in range(1, 6):
            try:
                self.index = app.factory.tracking_recorder(index_class)
                break
            except PersistenceError:
                # Another process created the read-model tables at the same moment.
                if attempt == 5:
                    raise
                time.sleep(random.uniform(0.05, 0.2) * attempt)
        self.sealer = Sealer(app.mapper.cipher, app.env.get("CIPHER_KEY"))

    def check_key(self) -> None:
        """Refuses a key the ledger's events cannot be read with, before its read models are read
        (`ledger.reading.check_key`)."""
        from ledger.reading import check_key

        check_key(self.app)

    def position(self) -> int:
        """The last notification the read models include."""
        return self.index.max_tracking_id(self.app.name) or 0

    def behind(self) -> int:
        """How many notifications the read models have yet to process."""
        return (self.app.recorder.max_notification_id() or 0) - self.position()

    def catch_up(self, advance: Callable[[int], None] | None = None, jobs: int | None = None) -> int:
        """Processes every notification recorded since the tracking position.

        One catch-up at a time: another process catching up meanwhile is
        waited for, and then there is usually nothing left to do. Returns how
        many notifications were processed. One that would refold most of the
        ledger rebuilds instead (see `_rebuild_pays`). One that refolds many
        events folds on `jobs` worker processes (by default one per core from
        `projections.parallel.PARALLEL_FROM_EVENTS` events refolded).
        """
        if self.behind() <= 0:
            return 0
        with self._exclusive() as writer:
            start = writer.position(self.app.name)
            source = self._source(writer)
            streams, last = source.touched(start)
            if self._rebuild_pays(writer, last - start, last, len(streams)):
                self._refill(writer, advance)
            else:
                self._catch_up(writer, advance, jobs, source=source, touched=(streams, last))
            return last - start

    def _rebuild_pays(self, writer: Any, new: int, last: int, touched: int) -> bool:
        """True when a catch-up would refold most of the ledger: most of its events are new (the
        first read after a big import), or the new ones touch most of its deals (a big import in
        chunks). A catch-up refolds each touched deal whole, on one process, keeping the indexes
        in order row by row; a rebuild folds on every core and builds them once (a million
        events imported into an empty ledger: 42 s as a catch-up, 23 s as a rebuild, here)."""
        from projections.parallel import PARALLEL_FROM_EVENTS

        if new < PARALLEL_FROM_EVENTS:
            return False
        return new >= last // 2 or touched >= writer.count("deal_index") // 2

    def _catch_up(
        self, writer: Any, advance: Callable[[int], None] | None, jobs: int | None = None,
        source: Any = None, touched: tuple[list[Any], int] | None = None, refill: bool = False,
    ) -> int:  # fmt: skip
        """Folds the deals with events after the writer's position (`touched`: those deals and the
        last notification, when the caller has them) and moves the position on.

        With `refill`, empties the read models first and folds every event (see `_refill`).
        """
        from eventsourcing.persistence import Tracking

        from projections.parallel import default_jobs

        start = 0 if refill else writer.position(self.app.name)
        source = source or self._source(writer)
        streams, last = touched or source.touched(start)
        if jobs is None:
            jobs = default_jobs(self._refold_size(writer, streams, last) if start else last)
        events_at = self._events_at()
        empty = (lambda: writer.clear(self.app.name)) if refill else None
        if jobs > 1 and events_at and len(streams) >= jobs:
            self._fold_in_parallel(writer, streams, events_at, jobs, advance, empty)
        else:
            if empty:
                empty()
            self._fold(writer, source, streams, advance)
        if last > start:
            writer.write({}, {}, [], Tracking(self.app.name, last))
        return last - start

    @staticmethod
    def _refold_size(writer: Any, streams: list[Any], last: int) -> int:
        """About how many events a catch-up of `streams` (up to notification `last`) refolds."""
        from projections.parallel import refold_size

        if len(streams) < 2:  # a read after an append: no need to count the deals
            return len(streams)
        return refold_size(len(streams), last, writer.count("deal_index"))

    def _fold(self, writer: Any, source: Any, streams: list[Any], advance: Callable[[int], None] | None) -> None:
        """Folds the deals of `streams` and writes their rows, in this process."""
        from ledger.collector import collector_paused
        from projections.batches import folded

        batches = folded(source, streams, self._sealed if self.sealer.cipher else None)
        with collector_paused() as batch_done:
            for deals, parties, events in batches:
                writer.write(deals, parties, events)
                batch_done()
                if advance:
                    advance(len(deals))

    def _fold_in_parallel(
        self, writer: Any, streams: list[Any], events_at: tuple[Any, ...], jobs: int,
        advance: Callable[[int], None] | None, empty: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        """`_fold` on `jobs` worker processes (see `projections.parallel`): this process copies
        their rows from the scratch files, in order, as each is complete. `empty` (a rebuild's
        emptying of the read models) runs once the workers have started: they read only events."""
        import multiprocessing

        from projections.parallel import chunk_folds, chunk_rows, copy_chunk, replace_from_chunk, workers

        done = multiprocessing.get_context("spawn").Value("q", 0)
        reported = 0

        def tick() -> None:
            nonlocal reported
            if advance and done.value > reported:
                now = done.value
                advance(now - reported)
                reported = now

        cursor = writer.plain_cursor()
        with workers(events_at, streams, jobs, done) as started:
            if empty:
                empty()
            for i, chunk in enumerate(started.chunks(tick)):
                if events_at[0] == "sqlite":
                    name = f"chunk{i}"
                    (copy_chunk if writer.fresh else replace_from_chunk)(cursor, chunk, name)
                    writer.attached.append((cursor.connection, name))
                elif not writer.fresh:  # a catch-up: the chunk's deals' rows replace theirs
                    writer.write(*chunk_folds(chunk))
                else:
                    for table, columns, rows in chunk_rows(chunk):
                        writer.add(table, columns, rows)

    def _events_at(self) -> tuple[Any, ...] | None:
        """Where worker processes can read the events as plain rows (no key): ("sqlite", file) or
        ("postgres", connection settings, table); None where they cannot."""
        table = getattr(self.app.recorder, "events_table_name", None)
        if not self._plain_events() or self.sealer.cipher or table is None:
            return None
        if type(self.app.factory).__module__ == "ledger.pg_stores":
            from ledger.pg_reads import connect_settings

            return ("postgres", connect_settings(self.app.env), f'{self.index.prefix}"{table}"')
        return worker_file(self.app.env.get("SQLITE_DBNAME") or "") if table == "stored_events" else None

    def _source(self, writer: Any) -> Any:
        """Where a catch-up reads events: plain rows in its own transaction, else the recorder."""
        from projections.sources import PostgresRows, RecorderEvents, SQLiteRows, plain_record

        cursor = writer.plain_cursor()
        table = getattr(self.app.recorder, "events_table_name", None)
        if cursor is None or table is None:
            return RecorderEvents(self.app.recorder, self.app.mapper)
        record = plain_record if self._plain_events() else self.app.mapper.record
        if getattr(writer.c, "sqlite_cursor", None) is None:
            return PostgresRows(cursor, f'{self.index.prefix}"{table}"', record)
        if table != "stored_events":
            return RecorderEvents(self.app.recorder, self.app.mapper)
        return SQLiteRows(cursor, record)

    def _plain_events(self) -> bool:
        """Whether the events are stored as plain JSON (no key, no compression)."""
        return bool(getattr(self.app.mapper, "plain_json", False))

    def _records(self, stream: Any) -> list[StoredRecord]:
        """Every event of one stream, in record order, as light records."""
        from projections.sources import RecorderEvents

        return RecorderEvents(self.app.recorder, self.app.mapper).records(stream)

    def _validated(self, stream: Any) -> list[Any]:
        """Every event of one stream as the write side's models."""
        to_domain_event = self.app.mapper.to_domain_event
        return [to_domain_event(stored) for stored in self.app.recorder.select_events(stream)]

    def _sealed(self, deal: tuple[Any, ...], parties: list[tuple[Any, ...]]) -> tuple[Any, Any]:
        if not self.sealer.cipher:
            return deal, parties
        seal = self.sealer.seal
        deal = (*deal[:-1], seal(deal[-1]))
        parties = [
            (self.sealer.party(p[0]), p[1], seal(p[2]), seal(p[3]), *p[4:7], seal(p[7]), seal(p[8]), *p[9:])
            for p in parties
        ]
        return deal, parties

    def rebuild(self, advance: Callable[[int], None] | None = None, jobs: int | None = None) -> dict[str, int]:
        """Drops the read models and builds them again from every event.

        `jobs` processes fold the deals (see `projections.parallel`); by
        default one per core (at most 4) for a large ledger without a key,
        else one.
        """
        with self._exclusive() as writer:
            self._refill(writer, advance, jobs)
        return self.counts()

    def _refill(self, writer: Any, advance: Callable[[int], None] | None, jobs: int | None = None) -> None:
        """Empties the read models and folds every event into them again, in the writer's transaction.

        Emptying drops millions of rows on a large ledger (4 s of a 31 s SQLite rebuild of a
        million events, here): with worker processes it runs while they fold.
        """
        self._catch_up(writer, advance, jobs, refill=True)
        writer.finish()

    @contextmanager
    def _exclusive(self) -> Iterator[Any]:
        """The index's one writing transaction; chunk files a parallel fold attached (SQLite) are
        detached once it has ended (see `projections.parallel.detach`)."""
        from projections.parallel import detach

        writer = None
        try:
            with self.index.exclusive() as writer:
                yield writer
        finally:
            if writer:
                detach(writer.attached)

    def counts(self) -> dict[str, int]:
        """Rows in each read model."""
        counts = {}
        for table in ("deal_index", "party_index", "event_index"):
            counts[table] = self.index.select(f"SELECT COUNT(*) AS n FROM {{{table}}}")[0]["n"]
        return counts

    def mismatches(self, advance: Callable[[int], None] | None = None, jobs: int | None = None) -> list[tuple[str, str]]:
        """(deal, what differs) wherever the read models differ from a fresh fold of the events;
        `advance` is told of each deal checked.

        The events are validated again through pydantic and folded, on `jobs` processes (by
        default one per core for a large ledger without a key, as a rebuild; see
        `projections.parallel.refolded`), while this one compares.
        """
        from ledger.mapper import CipherError

        found: list[tuple[str, str]] = []
        slugs = [r["deal"] for r in self.index.select("SELECT deal FROM {deal_index} ORDER BY deal")]
        indexed_events = self.index.select("SELECT COUNT(*) AS n, COUNT(DISTINCT deal) AS d FROM {event_index}")[0]
        if indexed_events["d"] != len(slugs):
            found.append(("", f"event_index names {indexed_events['d']} deals, deal_index {len(slugs)}"))
        try:
            for slug, rows in self._refolded(slugs, indexed_events["n"], jobs):
                found += self._differences(slug, rows)
                if advance:
                    advance(1)
        except CipherError as error:
            return [("", f"read models not checked: {error}")]
        return found

    def _refolded(self, slugs: list[str], events: int, jobs: int | None) -> Iterator[tuple[str, Any]]:
        """(slug, `rows.refold` of the deal) for each slug, in order: here, or on worker processes."""
        from projections.parallel import default_jobs, refolded
        from projections.rows import refold

        jobs = default_jobs(events) if jobs is None else jobs
        events_at = self._events_at() if jobs > 1 and len(slugs) >= jobs else None
        if events_at:
            yield from refolded(events_at, slugs, jobs)
        else:
            for slug in slugs:
                yield slug, refold(self._validated, slug)

    def _differences(self, slug: str, rows: Any) -> list[tuple[str, str]]:
        """(slug, what differs) between the deal's rows in the read models and `rows`, a fresh
        fold (or why its events cannot be read)."""
        from projections.index import DEAL_COLUMNS

        if isinstance(rows, str):
            return [(slug, f"its events cannot be read: {rows}")]
        deal, parties = rows
        found = []
        stored = self.index.select("SELECT * FROM {deal_index} WHERE deal = ?", (slug,))[0]
        stored["headline"] = self.sealer.open(stored["headline"])
        if tuple(stored[c] for c in DEAL_COLUMNS) != deal:
            found.append((slug, "deal_index row differs from the events"))
        stored_parties = self.index.select("SELECT * FROM {party_index} WHERE deal = ?", (slug,))
        opened = sorted(
            (r["party"], self.sealer.open(r["commitment"]), self.sealer.open(r["name"]), r["event_id"],
             self.sealer.open(r["source"]), self.sealer.open(r["amount"]), r["retracted"], r["is_current"])
            for r in stored_parties
        )  # fmt: skip
        fresh = sorted(
            (self.sealer.party(p[0]), p[2], p[3], p[4], p[7], p[8], p[9], p[10]) for p in parties
        )
        if opened != fresh:
            found.append((slug, "party_index rows differ from the events"))
        return found

    def deal_events(self, slug: str) -> list[StoredRecord]:
        """Every event of the deal, in record order, as light records; refuses an unknown deal."""
        records = self._records(deal_id(slug))
        if not records:
            raise DealNotFoundError(f"unknown deal {slug!r}")
        return records

    def deal_of_event(self, event_id: UUID) -> str | None:
        """The deal an event id belongs to, if the ledger has it."""
        rows = self.index.select("SELECT deal FROM {event_index} WHERE event_id = ?", (str(event_id),))
        return rows[0]["deal"] if rows else None

    def deals_of_events(self, event_ids: list[UUID]) -> dict[UUID, str]:
        """The deal of each of these event ids that the ledger has (one query per 500 ids)."""
        found: dict[UUID, str] = {}
        for start in range(0, len(event_ids), 500):
            part = [str(event_id) for event_id in event_ids[start : start + 500]]
            marks = ", ".join("?" for _ in part)
            rows = self.index.select(f"SELECT event_id, deal FROM {{event_index}} WHERE event_id IN ({marks})", part)
            found.update((UUID(row["event_id"]), row["deal"]) for row in rows)
        return found

    def find_event(self, given: str) -> tuple[UUID, str]:
        """The full id and deal of the event whose id is, or starts with, `given`."""
        from ledger.errors import DomainError, EventNotFoundError, UnreadableInput

        prefix = given.strip().lower()
        if len(prefix) < 8 or not all(ch in "0123456789abcdef-" for ch in prefix):
            raise UnreadableInput(f"{given!r} is not an event id (give at least its first 8 characters)")
        rows = self.index.select(
            "SELECT event_id, deal FROM {event_index} WHERE event_id >= ? AND event_id < ? LIMIT 2",
            (prefix, prefix + "\uffff"),
        )
        if not rows:
            raise EventNotFoundError(f"no event {given!r} in the ledger")
        if len(rows) > 1:
            raise DomainError(f"{given!r} matches several events; give more of the id")
        return UUID(rows[0]["event_id"]), rows[0]["deal"]

    def deals(self, status: str | None = None) -> list[dict[str, Any]]:
        """Rows of the deal index, latest reported first."""
        where = "WHERE status = ?" if status else ""
        rows = self.index.select(
            f"SELECT * FROM {{deal_index}} {where} ORDER BY last_reported DESC, deal",
            (status,) if status else (),
        )
        for row in rows:
            row["headline"] = self.sealer.open(row["headline"])
        return rows

    def party(self, party: str) -> list[dict[str, Any]]:
        """Every commitment point of a party across deals, oldest reported first; reports of the same
        day by when they were recorded, and reports recorded at the same moment (an import's) in
        the order their deal holds them, as `history` lists them."""
        rows = self.index.select(
            "SELECT p.* FROM {party_index} p LEFT JOIN {event_index} e ON e.event_id = p.event_id "
            "WHERE p.party = ? ORDER BY p.deal, p.reported, p.recorded, e.version, p.commitment",
            (self.sealer.party(party),),
        )
        for row in rows:
            row["party"] = party
            for column in ("commitment", "name", "source", "amount"):
                row[column] = self.sealer.open(row[column])
        return rows

