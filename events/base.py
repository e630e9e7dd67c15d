"""Shared building blocks of the vocabulary: the immutable base model and text types."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict

from events.text import SLUG, check_line, check_plain_text, check_slug  # noqa: F401 - re-exported


class Immutable(BaseModel):
    """A frozen model that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def trusted(cls, **values: Any) -> Self:
        """An instance of values already checked, one for every field: what `model_construct`
        makes, without its pass over the fields for aliases and defaults (~5x slower; an import
        builds millions). Tested equal to the validated model (tests/unit/test_trusted.py)."""
        instance = cls.__new__(cls)
        # In the fields' order: pydantic serialises __dict__ in its order.
        _set(instance, "__dict__", {name: values[name] for name in cls.__pydantic_fields__})
        _set(instance, "__pydantic_fields_set__", set(values))
        _set(instance, "__pydantic_extra__", None)
        _set(instance, "__pydantic_private__", None)
        return instance


_set = object.__setattr__


Slug = Annotated[str, AfterValidator(check_slug)]
PlainText = Annotated[str, AfterValidator(check_plain_text)]
Line = Annotated[str, AfterValidator(check_line)]
