"""ReleaseGate: blocks rollouts of gated workloads while an error budget is exhausted."""

from __future__ import annotations

import datetime
from typing import Literal

from pydantic import Field, model_validator

from sre_operator.models.base import (
    ApiModel,
    DnsLabel,
    LocalRef,
    ObjectMeta,
    api_config,
    cel_rules,
    exactly_one,
    require_exactly_one,
)


class LabelSelector(ApiModel):
    match_labels: dict[str, str] = Field(default_factory=dict, description="Labels a workload must carry.")


class Target(ApiModel):
    model_config = cel_rules(exactly_one(["name", "selector"], "must be given"))

    api_version: str = Field(default="apps/v1", max_length=253, description="API version of the workload.")
    kind: str = Field(min_length=1, max_length=63, description="Kind of the workload, such as Deployment or Rollout.")
    name: str | None = Field(default=None, min_length=1, max_length=253, description="Name of one workload.")
    selector: LabelSelector | None = Field(default=None, description="Workloads with these labels.")

    @model_validator(mode="after")
    def _name_or_selector(self) -> Target:
        require_exactly_one(self, ["name", "selector"], "must be given")
        return self


class Enforcement(ApiModel):
    admission: bool = Field(
        default=True, description="Deny pod-template changes of targets while frozen (validating webhook)."
    )
    pause_rollouts: bool = Field(default=False, description="Also pause Argo Rollouts and Deployments while frozen.")


class Override(ApiModel):
    reason: str = Field(min_length=1, max_length=512, description="Why the gate is opened by hand.")
    by: str = Field(min_length=1, max_length=253, description="Who opened it.")
    expires: datetime.datetime = Field(description="When the override stops applying (RFC 3339).")


class GateSpec(ApiModel):
    plan_ref: LocalRef = Field(description="The ServiceReliabilityPlan whose budgets gate releases.")
    policy_ref: LocalRef | None = Field(
        default=None, description="The ErrorBudgetPolicy (default: the plan's release.policyRef)."
    )
    slos: list[DnsLabel] = Field(default_factory=list, description="SLOs of the plan that gate (default: all).")
    targets: list[Target] = Field(min_length=1, max_length=50, description="Workloads this gate holds.")
    enforcement: Enforcement = Field(default_factory=Enforcement, description="How the gate is enforced.")
    mode: Literal["enforce", "dryRun"] = Field(default="enforce", description="enforce, or dryRun to report only.")
    overrides: list[Override] = Field(
        default_factory=list, max_length=20, description="Audited, expiring manual openings."
    )


class ReleaseGate(ApiModel):
    """Blocks rollouts while an error budget is exhausted."""

    model_config = api_config(extra="ignore")

    api_version: str = Field(alias="apiVersion")
    kind: Literal["ReleaseGate"]
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: GateSpec
