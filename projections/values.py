"""`Value`: the base of the small immutable results a read command builds by the thousand.

A frozen dataclass does the same, but each one costs a millisecond at import
(its methods are generated and compiled at every start), and `ledger history`
must start about as fast as `ledger --version`. A `Value` subclass lists its
fields in `__slots__` and sets them once in its own `__init__` with
`object.__setattr__`; it compares, hashes and prints by those fields.
"""

from __future__ import annotations

from typing import Any


class Value:
    """Immutable; equal to another of its class with equal fields (like a frozen dataclass)."""

    __slots__ = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of an immutable {type(self).__name__}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of an immutable {type(self).__name__}")
