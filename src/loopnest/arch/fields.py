"""Field types shared by the architecture spec models (``spec`` and ``pim``): numbers that also
accept a safe arithmetic expression (``loopnest.arch.expr``), and the strict frozen base model
(unknown fields are errors)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from loopnest.arch.expr import numeric_field

Num = BeforeValidator(numeric_field)
PosInt = Annotated[int, Num, Field(gt=0)]
PosFloat = Annotated[float, Num, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Num, Field(ge=0, allow_inf_nan=False)]
Action = Literal["read", "write", "update"]  # what a storage level is charged for


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
