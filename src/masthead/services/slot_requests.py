"""What the slot routes accept, checked the same way through every door (pydantic, strict)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from masthead.platforms.registry import TARGET_TYPES
from masthead.services.errors import invalid_fields

M = TypeVar("M", bound=BaseModel)

if TYPE_CHECKING:
    TargetType = str
else:  # the registry's names as literals, so that /openapi.json lists them as an enum
    TargetType = Literal[TARGET_TYPES]

NUMERIC_ID = r"^[1-9][0-9]{0,17}$"


class SlotTargetModel(BaseModel):
    model_config = ConfigDict(strict=True)
    platform: TargetType
    accountId: str = Field(pattern=NUMERIC_ID)
    subaccountId: str | None = None


Day = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class SlotIn(BaseModel):
    model_config = ConfigDict(strict=True)
    hour: int = Field(ge=0, le=23)
    minute: int = Field(ge=0, le=59)
    day: Day
    selectedTargets: list[SlotTargetModel]
    timezone: str | None = Field(default=None, description="ours: IANA zone of hour/minute")


class SlotsIn(BaseModel):
    model_config = ConfigDict(strict=True)
    slots: list[SlotIn]


class SlotPatch(BaseModel):
    model_config = ConfigDict(strict=True)
    selectedTargets: list[SlotTargetModel] | None = None
    hour: int | None = Field(default=None, ge=0, le=23)
    minute: int | None = Field(default=None, ge=0, le=59)
    day: Day | None = None
    timezone: str | None = None


class NextAvailableIn(BaseModel):
    model_config = ConfigDict(strict=True)
    platform: TargetType
    accountId: str = Field(pattern=NUMERIC_ID)
    subaccountId: str | None = None


def parse(model: type[M], data: Any) -> M:
    """`data` as `model`, or the 422 REST gives for the same body."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_fields(exc.errors()) from None
