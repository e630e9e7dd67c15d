"""Shared building blocks of the vocabulary: the immutable base model and text types."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from events.text import CONTROL, SLUG, check_line, check_plain_text, check_slug  # noqa: F401 - re-exported


class Immutable(BaseModel):
    """A frozen model that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Slug = Annotated[str, AfterValidator(check_slug)]
PlainText = Annotated[str, AfterValidator(check_plain_text)]
Line = Annotated[str, AfterValidator(check_line)]
