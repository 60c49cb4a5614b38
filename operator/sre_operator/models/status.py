"""Status of the three kinds as the operator writes it (the CRD's status schema comes from here)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from sre_operator.models.base import Condition


class StatusModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class GeneratedObject(StatusModel):
    api_version: str = Field(description="API version of the generated object.")
    kind: str = Field(description="Kind of the generated object.")
    name: str = Field(description="Name of the generated object, in the plan's namespace.")


class SloStatus(StatusModel):
    objective: float = Field(description="Objective as a percentage.")
    window: str = Field(default="", description="Window the budget is measured over.")
    budget_remaining: float | None = Field(
        default=None, description="Share of the error budget left (1 is all, below 0 is overspent)."
    )
    burn_rates: dict[str, float] = Field(default_factory=dict, description="Burn rate per window.")
    evaluated_at: str = Field(default="", description="When Prometheus was last read (RFC 3339).")


class PlanStatus(StatusModel):
    observed_generation: int = Field(default=0, description="metadata.generation the status describes.")
    conditions: list[Condition] = Field(default_factory=list, description="Valid, Ready and Complete.")
    assumptions: list[str] = Field(
        default_factory=list, description="Defaults the operator filled in, one sentence each."
    )
    residual_risks: list[str] = Field(default_factory=list, description="Risks the plan accepts as written.")
    generated: list[GeneratedObject] = Field(default_factory=list, description="Objects generated from the plan.")
    slos: dict[str, SloStatus] = Field(default_factory=dict, description="Budget state per SLO name.")
    slo_count: int = Field(default=0, description="Number of SLOs in the plan.")
    lowest_budget_remaining: str = Field(default="", description="Lowest remaining budget of any SLO, as a percentage.")


class PolicyStatus(StatusModel):
    observed_generation: int = Field(default=0, description="metadata.generation the status describes.")
    conditions: list[Condition] = Field(default_factory=list, description="Valid.")


class GateStatus(StatusModel):
    observed_generation: int = Field(default=0, description="metadata.generation the status describes.")
    conditions: list[Condition] = Field(default_factory=list, description="Valid and Ready.")
    state: Literal["Open", "Frozen", "Evaluating", "Invalid"] = Field(
        default="Evaluating", description="Open, Frozen, Evaluating or Invalid."
    )
    allowed: bool = Field(default=True, description="Whether gated rollouts are admitted now.")
    reason: str = Field(default="", description="Why, in one line.")
    budget_remaining: float | None = Field(default=None, description="Lowest remaining budget of the gated SLOs.")
    burn_rates: dict[str, float] = Field(
        default_factory=dict, description="Burn rate per window of the SLO that decides."
    )
    since: str = Field(default="", description="When the state last changed (RFC 3339).")
    decision_id: str = Field(default="", description="Identifier of the decision, for audit.")
