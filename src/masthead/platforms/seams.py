"""Typed data between a publisher's steps. `prepare` returns, and the engine stores as JSON,
a plain dict (`platforms/base.py`); a publisher declares its shape as a frozen dataclass and
crosses the boundary with `stored` and `loaded`, so it reads fields, not `prepared["..."]`.
The stored keys are the field names, so data stored before a restart reads back the same."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance as _Dataclass


Seam = TypeVar("Seam", bound="_Dataclass")


def stored(seam: _Dataclass) -> dict[str, Any]:
    """The dict the engine stores: every field that has a value."""
    return {key: value for key, value in asdict(seam).items() if value is not None}


def loaded(kind: type[Seam], prepared: dict[str, Any]) -> Seam:
    """The dataclass back from what the engine stored (absent fields take their defaults)."""
    return kind(**{f.name: prepared[f.name] for f in fields(kind) if f.name in prepared})
