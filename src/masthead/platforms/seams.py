"""Typed data between a publisher's steps. `prepare` returns, and the engine stores as JSON,
a plain dict (`platforms/base.py`); a publisher declares its shape as a frozen dataclass and
crosses the boundary with `stored` and `loaded`, so it reads fields, not `prepared["..."]`.
The stored keys are the field names, so data stored before a restart reads back the same."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any, Self, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance as _Dataclass


Seam = TypeVar("Seam", bound="_Dataclass")


def stored(seam: _Dataclass) -> dict[str, Any]:
    """The dict the engine stores: every field that has a value."""
    return {key: value for key, value in asdict(seam).items() if value is not None}


def loaded(kind: type[Seam], prepared: dict[str, Any]) -> Seam:
    """The dataclass back from what the engine stored (absent fields take their defaults)."""
    return kind(**{f.name: prepared[f.name] for f in fields(kind) if f.name in prepared})


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredCredentials:
    """An account's credentials as a platform reads them: a subclass names the keys its
    platform stores (tokens, handles, ends), each None when absent. What is stored stays the
    JSON object it always was: `from_stored` reads any row, old ones too, and `to_stored`
    gives back that same object, keys this version does not name (`others`) included."""

    others: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> Self:
        names = {f.name for f in fields(cls)} - {"others"}
        named = {key: value for key, value in stored.items() if key in names and value is not None}
        return cls(**named, others={k: v for k, v in stored.items() if k not in named})

    def to_stored(self) -> dict[str, Any]:
        named = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "others"}
        return {**self.others, **{k: v for k, v in named.items() if v is not None}}
