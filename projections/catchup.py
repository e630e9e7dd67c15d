"""Keeping the materialised read models up to date by pulling notifications.

The library's SQLite recorder cannot push new events to subscribers, so every
read command first pulls the notifications recorded since the tracking
position and replays the deals they touch. The same code rebuilds the read
models from nothing. Works on both backends.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError, Tracking

from events.reports import DomainEvent
from ledger.mapper import CipherError
from projections.index import DEAL_COLUMNS, SQLiteIndex
from projections.rows import deal_rows
from projections.sealing import Sealer

#: Notifications read per query while catching up.
BATCH = 5000


class Reader:
    """The read side of one ledger: its materialised indexes and the deal folds."""

    def __init__(self, app: Any):
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

    def position(self) -> int:
        """The last notification the read models include."""
        return self.index.max_tracking_id(self.app.name) or 0

    def behind(self) -> int:
        """How many notifications the read models have yet to process."""
        return (self.app.recorder.max_notification_id() or 0) - self.position()

    def catch_up(self, advance: Callable[[int], None] | None = None) -> int:
        """Processes every notification recorded since the tracking position.

        One catch-up at a time: another process catching up meanwhile is
        waited for, and then there is usually nothing left to do. Returns how
        many notifications were processed.
        """
        if self.behind() <= 0:
            return 0
        with self.index.exclusive() as writer:
            return self._catch_up(writer, advance)

    def _catch_up(self, writer: Any, advance: Callable[[int], None] | None) -> int:
        start = writer.position(self.app.name)
        touched: dict[str, None] = {}
        last = start
        events: list[tuple[str, str, str, int]] = []
        for notification_id, state, version in self._new_states(start):
            touched[state["deal"]] = None
            events.append((state["event_id"], state["deal"], _kind(state), version))
            last = notification_id
            if len(events) == BATCH:
                writer.write({}, {}, events)
                events = []
        writer.write({}, {}, events)
        for slug in touched:
            deal, parties = self._sealed(*deal_rows(self.app.deal_events(slug)))
            writer.write({slug: deal}, {slug: parties}, [])
            if advance:
                advance(1)
        if last > start:
            writer.write({}, {}, [], Tracking(self.app.name, last))
        return last - start

    def _sealed(self, deal: tuple[Any, ...], parties: list[tuple[Any, ...]]) -> tuple[Any, Any]:
        seal = self.sealer.seal
        deal = (*deal[:-1], seal(deal[-1]))
        parties = [
            (self.sealer.party(p[0]), p[1], seal(p[2]), seal(p[3]), *p[4:7], seal(p[7]), seal(p[8]), *p[9:])
            for p in parties
        ]
        return deal, parties

    def _new_states(self, start: int) -> Iterator[tuple[int, dict[str, Any], int]]:
        """The decoded state of each notification after `start`, without validation."""
        mapper = self.app.mapper
        while True:
            notifications = self.app.recorder.select_notifications(start=start + 1, limit=BATCH)
            for n in notifications:
                state = mapper.decode_state(n.state, f"notification {n.id}")
                yield n.id, state | {"__topic__": n.topic}, n.originator_version
            if len(notifications) < BATCH:
                return
            start = notifications[-1].id

    def rebuild(self, advance: Callable[[int], None] | None = None) -> dict[str, int]:
        """Drops the read models and builds them again from every event."""
        with self.index.exclusive() as writer:
            writer.clear(self.app.name)
            self._catch_up(writer, advance)
        return self.counts()

    def counts(self) -> dict[str, int]:
        """Rows in each read model."""
        counts = {}
        for table in ("deal_index", "party_index", "event_index"):
            counts[table] = self.index.select(f"SELECT COUNT(*) AS n FROM {{{table}}}")[0]["n"]
        return counts

    def mismatches(self) -> list[tuple[str, str]]:
        """(deal, what differs) wherever the read models differ from a fresh fold of the events."""
        found = []
        slugs = [r["deal"] for r in self.index.select("SELECT deal FROM {deal_index} ORDER BY deal")]
        indexed_events = self.index.select("SELECT COUNT(*) AS n, COUNT(DISTINCT deal) AS d FROM {event_index}")[0]
        if indexed_events["d"] != len(slugs):
            found.append(("", f"event_index names {indexed_events['d']} deals, deal_index {len(slugs)}"))
        for slug in slugs:
            try:
                deal, parties = deal_rows(self.app.deal_events(slug))
            except CipherError as error:
                return [("", f"read models not checked: {error}")]
            except Exception as error:  # noqa: BLE001 - a verify reports, it does not stop
                found.append((slug, f"its events cannot be read: {str(error).splitlines()[0]}"))
                continue
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

    def deal_events(self, slug: str) -> list[DomainEvent]:
        """Every event of the deal, in record order."""
        return self.app.deal_events(slug)

    def deal_of_event(self, event_id: UUID) -> str | None:
        """The deal an event id belongs to, if the ledger has it."""
        rows = self.index.select("SELECT deal FROM {event_index} WHERE event_id = ?", (str(event_id),))
        return rows[0]["deal"] if rows else None

    def find_event(self, given: str) -> tuple[UUID, str]:
        """The full id and deal of the event whose id is, or starts with, `given`."""
        from ledger.errors import DomainError, EventNotFoundError

        prefix = given.strip().lower()
        if len(prefix) < 8 or not all(ch in "0123456789abcdef-" for ch in prefix):
            raise DomainError(f"{given!r} is not an event id (give at least its first 8 characters)")
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
        """Every commitment point of a party across deals, oldest reported first."""
        rows = self.index.select(
            "SELECT * FROM {party_index} WHERE party = ? ORDER BY deal, reported, recorded",
            (self.sealer.party(party),),
        )
        for row in rows:
            row["party"] = party
            for column in ("commitment", "name", "source", "amount"):
                row[column] = self.sealer.open(row[column])
        return rows


def _kind(state: dict[str, Any]) -> str:
    from eventsourcing.utils import resolve_topic

    return resolve_topic(state["__topic__"]).kind
