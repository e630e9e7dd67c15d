"""Storing pydantic events: a mapper that validates on the way in and out, and orjson.

Upcasting follows the library's convention: an event class with
`class_version = N` has static methods `upcast_v1_v2(state)`, ... that bring
an older stored state up to date before validation.

The read side takes `to_record` instead: the stored JSON as a light record
(`events.stored`), with no pydantic unless an event is not in today's shape
(then it goes through `to_domain_event`, upcasters included). pydantic is
imported only when an event is validated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent, Transcoder
from eventsourcing.utils import get_topic, resolve_topic

from events.stored import StoredRecord, decode, record_of
from ledger.errors import StorageError

if TYPE_CHECKING:
    from pydantic import BaseModel


class CipherError(StorageError):
    """Stored events that cannot be decrypted or read with the key given."""


class OrjsonTranscoder(Transcoder):
    """JSON bytes through orjson."""

    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj)

    def decode(self, data: bytes) -> Any:
        return orjson.loads(data)


class PydanticMapper(Mapper):
    """Domain events that are pydantic models <-> the library's stored events."""

    @property
    def plain_json(self) -> bool:
        """Whether stored states are plain JSON (no key, no compression), which SQL and other
        processes can read as they are."""
        return not self.cipher and not self.compressor and isinstance(self.transcoder, OrjsonTranscoder)

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        stored_state = getattr(domain_event, "stored_json", None)  # made by an import's reader (`ledger.preparing`)
        if stored_state is not None:
            topic = domain_event.topic
        else:
            topic, stored_state = self.topic_of(domain_event), self.plain_state(domain_event)
        if self.compressor:
            stored_state = self.compressor.compress(stored_state)
        if self.cipher:
            stored_state = self.cipher.encrypt(stored_state)
        return StoredEvent(
            originator_id=domain_event.originator_id,
            originator_version=domain_event.originator_version,
            topic=topic,
            state=stored_state,
        )

    def plain_state(self, event: BaseModel) -> bytes:
        """The event's stored JSON before compression and encryption: without its stream and version,
        which the stored event has as columns."""
        state = dict(getattr(event, "json_state", None) or event.model_dump(mode="json"))
        del state["originator_id"], state["originator_version"]
        class_version = getattr(type(event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return self.transcoder.encode(state)

    @staticmethod
    def topic_of(event: BaseModel) -> str:
        return get_topic(type(event))

    def decode_state(self, state: bytes, where: str) -> dict[str, Any]:
        """The stored state as a dict: decrypted, decompressed and parsed, not validated."""
        if self.cipher:
            try:
                state = self.cipher.decrypt(state)
            except Exception:
                raise CipherError(
                    "cannot decrypt the ledger's events: LEDGER_CIPHER_KEY is not the key they were written with"
                ) from None
        try:
            if self.compressor:
                state = self.compressor.decompress(state)
            return self.transcoder.decode(state)
        except Exception:
            hint = "" if self.cipher else " (or it is encrypted and LEDGER_CIPHER_KEY is not set)"
            raise CipherError(f"cannot read the stored state of {where}: it is corrupt{hint}") from None

    def to_record(self, stored_event: StoredEvent) -> StoredRecord:
        """The stored event as a light record: decrypted and decoded, validated only if not in today's shape."""
        s = stored_event
        return self.record(s.originator_id, s.originator_version, s.topic, s.state)

    def record(self, originator_id: Any, version: int, topic: str, stored_state: bytes) -> StoredRecord:
        """`to_record` for the parts of a stored event, as a plain query returns them."""
        state = None
        if not self.cipher and not self.compressor:
            try:
                state = self.transcoder.decode(stored_state)
            except Exception:  # noqa: BLE001 - decode_state below names the event
                pass
        if state is None:
            state = self.decode_state(stored_state, f"event {originator_id} version {version}")
        record = decode(state, topic, originator_id, version)
        if record is None:
            record = record_of(self.to_domain_event(StoredEvent(originator_id, version, topic, stored_state)))
        return record

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        from pydantic import ValidationError

        cls = resolve_topic(stored_event.topic)
        where = f"event {stored_event.originator_id} version {stored_event.originator_version}"
        event_state = self.decode_state(stored_event.state, where)
        from_version = event_state.pop("class_version", 1)
        while from_version < getattr(cls, "class_version", 1):
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        event_state["originator_id"] = stored_event.originator_id
        event_state["originator_version"] = stored_event.originator_version
        try:
            return cls.model_validate(event_state)
        except ValidationError as error:
            raise MapperDeserialisationError(f"stored {where} is not a valid {cls.__name__}: {error}") from error


def plain_mapper() -> PydanticMapper:
    """A mapper of plain stored JSON (no compression, no cipher): what an import's readers write, and
    what reads an unencrypted event through pydantic."""
    return PydanticMapper(transcoder=OrjsonTranscoder())


class RecordReader:
    """The part of a mapper an event store reads with, giving light records (`PydanticMapper.to_record`)."""

    def __init__(self, mapper: PydanticMapper):
        self.mapper = mapper

    def to_domain_event(self, stored_event: StoredEvent) -> StoredRecord:
        return self.mapper.to_record(stored_event)

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        return self.mapper.to_stored_event(domain_event)
