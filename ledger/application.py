"""The write side: one eventsourcing `Application` with a method per use case.

Every write goes through `record()`, which loads the deals it touches, decides
the new events against their rules, and saves them all in one transaction.
A version conflict with a concurrent writer reloads and decides again, so no
acknowledged report is ever lost or overwritten.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Iterable, Iterator
from copy import copy
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timezone
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import EventStore, IntegrityError, OperationalError, PersistenceError

from events.intake import Draft, RetractionDraft
from events.reports import DomainEvent, Source
from ledger import domain, reading
from ledger.errors import DealNotFoundError, DomainError, StorageError
from ledger.mapper import RecordReader
from ledger.preparing import Prepared, PreparedEvent
from ledger.reading import open_recorder

#: Import lines decided and stored at a time.
IMPORT_BATCH = 2000
#: How often a write is decided again after losing a race with another writer.
CONFLICT_RETRIES = 100


@dataclass
class Outcome:
    """What a write did: the events it stored, the reports it skipped, and flags."""

    recorded: list[DomainEvent | PreparedEvent] = field(default_factory=list)
    skipped: list[tuple[str, UUID]] = field(default_factory=list)
    flags: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Imported:
    """What an import did, in counts (an import may hold millions of events)."""

    recorded: int = 0
    skipped: int = 0
    flags: list[tuple[str, str]] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.recorded += len(outcome.recorded)
        self.skipped += len(outcome.skipped)
        self.flags += outcome.flags


def _batched(lines: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class DealLedger(Application[UUID]):
    """Appends reports about deals and reads them back."""

    name = reading.NAME
    env: ClassVar[dict[str, str]] = {
        **reading.ENV,  # the transcoder and mapper: the read side opens the store with the same
        # Deals stay cached and are fast-forwarded with only their new events, so a
        # write (and each retry after a lost race) does not re-read the whole deal.
        "AGGREGATE_CACHE_MAXSIZE": "1000",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }

    def construct_recorder(self) -> Any:
        """The library's recorder, opened again when other processes race on its DDL (see `open_recorder`)."""
        return open_recorder(super().construct_recorder, self.factory.close)

    def construct_repository(self) -> Any:
        """The library's repository (cache, fast-forwarding), reading a deal's events as light records.

        The rules need only each event's kind, id, content hash and dates:
        validating every stored event through pydantic again whenever a deal
        is loaded made writes to long deals, and imports into a large ledger,
        several times slower. Events not in today's shape still go through
        pydantic and the upcasters (`PydanticMapper.to_record`).
        """
        repository = super().construct_repository()
        repository.event_store = EventStore(mapper=RecordReader(self.mapper), recorder=self.recorder)  # type: ignore[arg-type]
        return repository

    def append(self, draft: Draft) -> Outcome:
        """Records one report; refuses it if the same report is already recorded."""
        outcome = self.record([draft])
        if outcome.skipped:
            raise DomainError(f"this report is already recorded as event {outcome.skipped[0][1]}")
        return outcome

    def retract(
        self,
        event_id: UUID,
        deal: str,
        reason: str,
        reported: date | None = None,
        source: Source | None = None,
        recorded_by: str | None = None,
    ) -> Outcome:
        """Withdraws an earlier report of the deal; the report itself stays."""
        draft = RetractionDraft(
            deal=deal,
            retracted=event_id,
            reason=reason,
            reported=reported or datetime.now(timezone.utc).date(),
            source=source,
            recorded_by=recorded_by,
        )
        return self.record([draft])

    def record(
        self, drafts: Iterable[Draft | RetractionDraft], labels: list[str] | None = None
    ) -> Outcome:
        """Records reports and retractions atomically: all of them or none.

        A report identical to one already in its deal (same content hash) is
        skipped and counted, so running the same import twice adds nothing.
        `labels` name each draft in error messages ("line 12").
        """
        drafts = list(drafts)
        reading.check_key(self)  # before the first write: a wrong key, or none, writes nothing
        for attempt in range(CONFLICT_RETRIES):
            outcome = self.decide(drafts, labels)
            try:
                if outcome.recorded:
                    self._save_events(outcome.recorded)
            except IntegrityError:
                # Lost a race for a deal: back off a little (randomly, so racers spread out) and decide again.
                time.sleep(random.uniform(0, min(0.2, 0.005 * 2 ** min(attempt, 6))))
                continue
            except OperationalError as error:
                raise StorageError(f"the ledger is busy or unavailable: {error}") from None
            return outcome
        raise StorageError("too many concurrent writers to the same deal; try again")

    def import_stream(
        self,
        lines: Iterable[tuple[str, Draft | RetractionDraft | Prepared]],
        batch: int = IMPORT_BATCH,
        owners_of: Callable[[list[UUID]], dict[UUID, str]] | None = None,
        now: datetime | None = None,
        known_to: int = 0,
    ) -> Imported:
        """Records an import of any size in one transaction: all of it or none.

        Lines are decided and stored a batch at a time; what the rules need to
        remember per event is kept in memory, and past `import_keys.IN_MEMORY`
        events in a scratch file (`ImportKeys`), so memory stays flat however long the file.
        Reports already in the ledger are skipped and counted. Other writers
        wait while an import runs. Lines are drafts, or reports prepared by
        `ledger.preparing` at `now`.

        An event id a line gives (lines moved from another ledger keep theirs)
        must not be used by another deal: `owners_of` tells which deal uses each
        of a batch's ids among the events up to notification `known_to` (the
        read models, as far as they have got); the ids of events recorded after
        it are read from the events themselves, once, when a line first gives
        an id, inside the import's transaction (`IdClaims`). So an import does
        not wait for the read models to catch up with earlier imports (a bulk
        load in chunks refolded the whole ledger before each chunk).
        """
        from ledger.collector import collector_paused
        from ledger.import_keys import ImportKeys

        reading.check_key(self)
        result = Imported()
        deals: dict[str, domain.Deal | None] = {}
        keys = ImportKeys()
        claims = IdClaims(keys, owners_of, lambda: self._event_ids_after(known_to))
        try:
            with self.recorder.bulk() as store, collector_paused() as batch_done:
                for chunk in _batched(lines, batch):
                    labels, drafts = [label for label, _ in chunk], [draft for _, draft in chunk]
                    claims.prefetch(drafts)
                    self._note_new_deals(drafts, deals)
                    outcome = decide(drafts, self._load, labels, deals=deals, claims=claims, now=now)
                    store([self.mapper.to_stored_event(event) for event in outcome.recorded])
                    result.add(outcome)
                    for slug in {draft.deal for draft in drafts}:
                        if deals[slug] is not None:
                            deals[slug] = keys.adopt(deals[slug])
                    keys.flush()
                    batch_done()
        except OperationalError as error:
            raise StorageError(f"the ledger is busy or unavailable: {error}") from None
        finally:
            keys.close()
        return result

    def _note_new_deals(self, drafts: list[Draft | RetractionDraft], deals: dict[str, domain.Deal | None]) -> None:
        """Notes the batch's deals that have no events yet (None in `deals`), found in one query:
        deciding then loads only the deals that exist, instead of asking for each new one in turn
        (an import of 20,000 reports in 10,000 new deals asked 10,000 times)."""
        unseen = {draft.deal: domain.deal_id(draft.deal) for draft in drafts if draft.deal not in deals}
        if unseen:
            present = self.recorder.streams_present(list(unseen.values()))
            deals.update({slug: None for slug, stream in unseen.items() if stream not in present})

    def _save_events(self, events: list[DomainEvent]) -> None:
        """`save()` for a list of new events, without its per-object protocol checks.

        The library checks `isinstance(obj, DomainEventProtocol)` for every
        object given to `save()`; on a bulk import that check alone costs more
        than storing the event.
        """
        processing = ProcessingEvent[UUID]()
        processing.events.extend(events)
        self._notify(self._record(processing))

    def decide(
        self, drafts: list[Draft | RetractionDraft], labels: list[str] | None = None
    ) -> Outcome:
        """The events the drafts would become, checked against the deals' rules."""
        return decide(drafts, self._load, labels)

    def _load(self, slug: str) -> domain.Deal | None:
        try:
            cached = self.repository.get(domain.deal_id(slug), projector_func=domain.project_deal)
        except AggregateNotFoundError:
            return None
        except PersistenceError as error:
            raise StorageError(f"cannot read deal {slug!r}: {error}") from None
        # Decisions fold new events into the deal: give them a copy, never the cached one.
        return replace(cached, **{f.name: copy(getattr(cached, f.name)) for f in fields(cached)})

    def deal_events(self, slug: str) -> list[DomainEvent]:
        """Every event of the deal in record order; refuses an unknown deal."""
        events = list(self.events.get(domain.deal_id(slug)))
        if not events:
            raise DealNotFoundError(f"unknown deal {slug!r}")
        return events  # type: ignore[return-value]

    def _event_ids_after(self, position: int) -> Iterator[tuple[UUID, str, str]]:
        """(event id, deal, kind) of every event recorded after notification `position`.

        On a SQLite ledger of plain JSON, SQL reads them (`ids_after`; ~4 µs an event against
        ~10 µs); an event not in today's shape, and every event after a state SQL cannot read,
        is read as below."""
        from events.stored import KINDS

        ids_after = getattr(self.recorder, "ids_after", None) if self.mapper.plain_json else None
        if ids_after is not None:
            try:
                for notification_id, topic, event_id, deal in ids_after(position):
                    if topic in KINDS and isinstance(event_id, str) and isinstance(deal, str):
                        yield UUID(event_id), deal, KINDS[topic]
                    else:
                        yield from self._ids_read(notification_id - 1, 1)
                    position = notification_id
                return
            except OperationalError:  # e.g. a state that is not JSON: decoding each one says which
                pass
        yield from self._ids_read(position)

    def _ids_read(self, position: int, limit: int | None = None) -> Iterator[tuple[UUID, str, str]]:
        """`_event_ids_after`, from each stored JSON decoded here (or its record if not in today's
        shape), of `limit` events or all."""
        from events.stored import KINDS

        found = reading.notifications(self.recorder, position + 1, batch=limit or 5000)
        for n in found if limit is None else itertools.islice(found, limit):
            state = self.mapper.decode_state(n.state, f"notification {n.id}")
            if not (n.topic in KINDS and isinstance(state.get("event_id"), str) and "deal" in state):
                record = self.mapper.to_record(n)
                state = {"event_id": record.event_id, "deal": record.deal}
            yield UUID(state["event_id"]), state["deal"], KINDS.get(n.topic, n.topic)

    def all_events(self, batch: int = 1000) -> Iterator[DomainEvent]:
        """Every event of the ledger, in the order they were recorded."""
        for notification in reading.notifications(self.recorder, 1, batch):
            yield self.mapper.to_domain_event(notification)


class IdClaims:
    """Which deal each explicitly given event id belongs to: ids are unique across the ledger.

    An import asks the read models about a batch's ids at once (`prefetch`);
    ids of earlier batches are in its `ImportKeys`, those of this batch here.
    The ids of the events the read models have not folded yet (`unfolded`)
    join the import's keys before the first batch that gives an id.
    """

    def __init__(
        self,
        keys: Any,
        owners_of: Callable[[list[UUID]], dict[UUID, str]] | None,
        unfolded: Callable[[], Iterable[tuple[UUID, str, str]]] | None = None,
    ):
        self.keys = keys
        self.owners_of = owners_of
        self.unfolded = unfolded
        self.known: dict[UUID, str] = {}
        self.claimed: dict[UUID, str] = {}

    def prefetch(self, drafts: list[Draft | RetractionDraft]) -> None:
        """Starts a batch: asks the import's keys and the read models about its ids at once."""
        ids = [draft.event_id for draft in drafts if draft.event_id is not None]
        targets = [draft.retracted for draft in drafts if isinstance(draft, RetractionDraft)]
        if ids and self.unfolded:
            self.keys.note_recorded(self.unfolded())
            self.unfolded = None
        self.keys.prefetch(ids + targets)
        self.known = self.owners_of(ids) if self.owners_of and ids else {}
        self.claimed = {}

    def check(self, event_id: UUID | None, deal: domain.Deal | None, slug: str) -> None:
        if event_id is None or (deal and event_id in deal.kinds):
            return
        owner = self.claimed.get(event_id)
        if owner is None:
            mine = self.keys.owner(event_id)
            owner = mine[0] if mine else self.known.get(event_id)
        if owner is not None and owner != slug:
            raise DomainError(f"event id {event_id} is already used by deal {owner!r}")
        self.claimed[event_id] = slug


def decide(
    drafts: list[Draft | RetractionDraft | Prepared],
    load: Callable[[str], domain.Deal | None],
    labels: list[str] | None = None,
    deals: dict[str, domain.Deal | None] | None = None,
    claims: IdClaims | None = None,
    now: datetime | None = None,
) -> Outcome:
    """The events the drafts become, in order, each checked against its deal.

    A draft whose event id, or whose content, is already in its deal is
    skipped and counted instead. `deals` carries deal states from one call to
    the next (a batched import); they are updated in place. A `Prepared`
    report (read off this process, at `now`) has passed the rules that need
    no deal; it is placed here like a draft.
    """
    now = now or datetime.now(timezone.utc)
    named = labels is not None or len(drafts) > 1  # errors say which line or report
    labels = labels or [f"report {n}" for n in range(1, len(drafts) + 1)]
    deals = {} if deals is None else deals
    outcome = Outcome()
    for label, draft in zip(labels, drafts, strict=True):
        if draft.deal not in deals:
            deals[draft.deal] = load(draft.deal)
        deal = deals[draft.deal]
        try:
            if claims:
                claims.check(draft.event_id, deal, draft.deal)
            event = _decide_one(deal, draft, now)
        except DomainError as error:
            raise type(error)(f"{label}: {error}" if named else str(error)) from None
        if isinstance(event, UUID):
            outcome.skipped.append((label, event))
            continue
        if not isinstance(draft, RetractionDraft) and (closed := domain.after_close(deal, draft)):
            outcome.flags.append((label, f"reported after the deal closed on {closed.isoformat()}"))
        deals[draft.deal] = domain.project_deal(deal, [event])
        outcome.recorded.append(event)
    return outcome


def _decide_one(
    deal: domain.Deal | None, draft: Draft | RetractionDraft | Prepared, now: datetime
) -> DomainEvent | PreparedEvent | UUID:
    if deal and draft.event_id in deal.kinds:
        return draft.event_id
    if isinstance(draft, RetractionDraft):
        if deal is None:
            raise DealNotFoundError(f"unknown deal {draft.deal!r}")
        event = domain.retract_report(
            deal, draft.retracted, draft.reason, draft.reported, draft.source, draft.recorded_by, now
        )
        domain.check_record_time(draft.recorded, now)
        return event.model_copy(
            update={"event_id": draft.event_id or event.event_id, "timestamp": draft.recorded or now}
        )
    if isinstance(draft, Prepared):
        return domain.is_duplicate(deal, draft) or draft.event(*domain.next_place(deal, draft.deal))
    event = domain.record_report(deal, draft, now)
    return domain.is_duplicate(deal, event) or event


def preview(app: DealLedger | None, drafts: list[Draft | RetractionDraft]) -> Outcome:
    """What recording the drafts would do, without writing (for `--dry-run`)."""
    return decide(drafts, app._load if app else lambda slug: None)
