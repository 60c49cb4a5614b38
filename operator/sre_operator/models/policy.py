"""ErrorBudgetPolicy: what happens as a budget is spent (after the SRE Workbook's example policy)."""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import Field, model_validator

from sre_operator.models.base import (
    ApiModel,
    Duration,
    ObjectMeta,
    api_config,
    cel_rules,
    exactly_one,
    require_exactly_one,
)

Action = Literal["notify", "freezeReleases", "requirePostmortem"]


class BurnRateAbove(ApiModel):
    rate: float = Field(gt=0, description="Burn rate (1 spends the budget exactly over the window).")
    window: Literal["5m", "30m", "1h", "2h", "6h", "1d", "3d"] = Field(
        description="Window the burn rate is measured over."
    )


class When(ApiModel):
    model_config = cel_rules(exactly_one(["budgetRemainingBelow", "burnRateAbove"], "must be given"))

    budget_remaining_below: float | None = Field(
        default=None, ge=-100, le=100, description="Applies while less than this percentage of the budget remains."
    )
    burn_rate_above: BurnRateAbove | None = Field(
        default=None, description="Applies while the budget burns faster than this."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> When:
        require_exactly_one(self, ["budget_remaining_below", "burn_rate_above"], "must be given")
        return self


class PolicyRule(ApiModel):
    name: str = Field(min_length=1, max_length=63, description="Rule name, unique in the policy.")
    when: When = Field(description="Condition, evaluated per SLO.")
    actions: list[Action] = Field(min_length=1, description="notify, freezeReleases and/or requirePostmortem.")


class Exceptions(ApiModel):
    change_classes: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Values of the reliability.dev/change-class annotation admitted during a freeze.",
    )
    new_workloads: bool = Field(
        default=True,
        description="Admit workloads created during a freeze (nothing that serves users changes); "
        "false holds creates too.",
    )


class Unfreeze(ApiModel):
    budget_remaining_above: float = Field(
        default=0, ge=-100, le=100, description="Percentage of budget that must remain to lift a freeze."
    )
    hold_for: Duration = Field(
        default="1h", description="How long the budget must stay above that before the freeze lifts."
    )


class Outage(ApiModel):
    single_incident_budget_percent: float = Field(
        gt=0, le=100, description="An incident spending this share of a budget needs a postmortem with a P0 action."
    )


class CorrectiveActionsRule(ApiModel):
    freeze_while_p0_overdue: bool = Field(
        default=False,
        description="Hold gates Frozen while a P0 corrective action of the plan (spec.postmortem.correctiveActions) "
        "is past its due date.",
    )


class Escalation(ApiModel):
    owner: str = Field(min_length=1, max_length=253, description="Who decides when the policy's parties disagree.")


class PolicySpec(ApiModel):
    rules: list[PolicyRule] = Field(min_length=1, max_length=50, description="Rules evaluated per SLO, in order.")
    exceptions: Exceptions | None = Field(default=None, description="Changes admitted during a freeze.")
    unfreeze: Unfreeze | None = Field(default=None, description="Hysteresis before a freeze lifts.")
    on_unknown: Literal["allow", "block"] = Field(
        default="allow", description="allow or block releases when budgets cannot be read."
    )
    outage: Outage | None = Field(default=None, description="Single-incident rule.")
    corrective_actions: CorrectiveActionsRule | None = Field(
        default=None, description="What overdue corrective actions do to releases."
    )
    escalation: Escalation | None = Field(default=None, description="Escalation of disputes.")
    approvers: list[str] = Field(default_factory=list, max_length=20, description="Who approved the policy.")
    review_by: datetime.date | None = Field(default=None, description="Date by which the policy is reviewed again.")


class ErrorBudgetPolicy(ApiModel):
    """What happens as a budget is spent."""

    model_config = api_config(extra="ignore")

    api_version: str = Field(alias="apiVersion")
    kind: Literal["ErrorBudgetPolicy"]
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: PolicySpec
