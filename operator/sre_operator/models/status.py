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
    evaluated_at: str = Field(default="", description="When these values were read from Prometheus (RFC 3339).")
    unknown: str = Field(default="", description="Why the budget is unknown (no data, stale, Prometheus unreachable).")
    rules: list[str] = Field(default_factory=list, description="Rules of the plan's policy that hold for this SLO.")


class RequiredPostmortem(StatusModel):
    slo: str = Field(description="SLO whose budget triggered the requirement.")
    rule: str = Field(description="Policy rule with the requirePostmortem action.")
    reason: str = Field(description="What the budget was when the rule started to hold.")
    since: str = Field(description="When the requirement was recorded (RFC 3339).")
    url: str = Field(
        default="",
        description="Link to the postmortem, from the plan annotation reliability.dev/postmortem.<slo>; "
        "the requirement is met once it is set.",
    )


class CorrectiveActionsStatus(StatusModel):
    open: dict[str, int] = Field(default_factory=dict, description="Actions not done yet, per priority.")
    overdue: dict[str, int] = Field(default_factory=dict, description="Actions past their due date, per priority.")
    overdue_p0: list[str] = Field(default_factory=list, description="Ids of P0 actions past their due date.")
    announced: dict[str, str] = Field(
        default_factory=dict, description="Overdue action id -> date its last reminder Event was posted."
    )


class WrittenReport(StatusModel):
    name: str = Field(description="Which report: the cadence (weekly, monthly...) or calendar-<period>-<zone>.")
    period: str = Field(description="The period it covers, such as 2026-W47 or 2026-11.")
    config_map: str = Field(description="ConfigMap holding it, key <name>.md.")
    written_at: str = Field(description="When it was written (RFC 3339).")


class PlanStatus(StatusModel):
    observed_generation: int = Field(default=0, description="metadata.generation the status describes.")
    conditions: list[Condition] = Field(default_factory=list, description="Valid, Ready and Complete.")
    assumptions: list[str] = Field(
        default_factory=list, description="Defaults the operator filled in, one sentence each."
    )
    residual_risks: list[str] = Field(
        default_factory=list, description="Risks the plan accepts as written, and what the capacity checks found."
    )
    capacity_risks: list[str] = Field(
        default_factory=list, description="What the last check of spec.capacity against the live workloads found."
    )
    generated: list[GeneratedObject] = Field(default_factory=list, description="Objects generated from the plan.")
    slos: dict[str, SloStatus] = Field(default_factory=dict, description="Budget state per SLO name.")
    slo_count: int = Field(default=0, description="Number of SLOs in the plan.")
    postmortems_required: list[RequiredPostmortem] = Field(
        default_factory=list, description="Postmortems the policy requires, kept until one is linked."
    )
    lowest_budget_remaining: str = Field(default="", description="Lowest remaining budget of any SLO, as a percentage.")
    corrective_actions: CorrectiveActionsStatus | None = Field(
        default=None, description="Corrective actions not done yet, by priority, and the overdue ones."
    )
    reports: list[WrittenReport] = Field(
        default_factory=list, description="The reliability reports last written on reporting.cadence and calendars."
    )


class PolicyStatus(StatusModel):
    observed_generation: int = Field(default=0, description="metadata.generation the status describes.")
    conditions: list[Condition] = Field(default_factory=list, description="Valid.")


class AdmissionDecision(StatusModel):
    at: str = Field(description="When (RFC 3339).")
    outcome: str = Field(description="admitted (the gate was not frozen), denied, exception, override or dry-run.")
    message: str = Field(description="The workload and why.")
    user: str = Field(default="", description="Who made the request.")


class GateHistoryEntry(StatusModel):
    at: str = Field(description="When (RFC 3339).")
    event: str = Field(
        description="The state entered (Open, Frozen, Evaluating, Invalid), override-started or override-ended."
    )
    message: str = Field(default="", description="Why, or the override in one line.")


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
    slo: str = Field(default="", description="The SLO that decides (the lowest budget, or the one that froze).")
    rule: str = Field(default="", description="The policy rule that froze the gate, if one did.")
    frozen_by: str = Field(
        default="", description="budget (a policy rule) or unknown (budgets unreadable, onUnknown block)."
    )
    recovering_since: str = Field(
        default="", description="Since when every gated SLO has stayed above the unfreeze threshold (RFC 3339)."
    )
    override: str = Field(default="", description="The active override, in one line.")
    expired_overrides: list[str] = Field(
        default_factory=list, description="Overrides past their expiry, ignored, one line each."
    )
    paused: list[str] = Field(
        default_factory=list, description="Workloads this gate paused (enforcement.pauseRollouts), as Kind/name."
    )
    history: list[GateHistoryEntry] = Field(
        default_factory=list,
        description="The latest changes of state and overrides started or ended (at most 20), newest first.",
    )
    last_decisions: list[AdmissionDecision] = Field(
        default_factory=list,
        description="The latest releases judged (admitted, denied, admitted as exceptions), newest first.",
    )


class IncidentAlert(StatusModel):
    fingerprint: str = Field(description="Alertmanager's fingerprint of the alert.")
    alertname: str = Field(default="", description="Name of the alert.")
    slo: str = Field(default="", description="SLO the alert is about.")
    severity: str = Field(default="", description="The alert's severity label.")
    status: Literal["firing", "resolved"] = Field(description="firing or resolved, as last notified.")
    starts_at: str = Field(description="When it started firing (RFC 3339).")
    ends_at: str = Field(default="", description="When it resolved (RFC 3339); empty while firing.")


class TimelineEntry(StatusModel):
    at: str = Field(description="When (RFC 3339).")
    event: str = Field(description="What happened, in one line.")


class IncidentStatus(StatusModel):
    state: Literal["Open", "Resolved"] = Field(default="Open", description="Open until every alert has resolved.")
    group_key: str = Field(default="", description="Alertmanager's key of the alert group the incident follows.")
    slos: list[str] = Field(default_factory=list, description="SLOs whose alerts are in the incident.")
    alerts: list[IncidentAlert] = Field(default_factory=list, description="Every alert of the group, by fingerprint.")
    timeline: list[TimelineEntry] = Field(default_factory=list, description="What happened, oldest first.")
    started_at: str = Field(default="", description="First firing (RFC 3339).")
    notified_at: str = Field(default="", description="When the first notification reached the operator (RFC 3339).")
    resolved_at: str = Field(default="", description="When the last alert resolved (RFC 3339).")
    budget_consumed: dict[str, float] = Field(
        default_factory=dict, description="Share of each SLO's error budget spent over the incident's span."
    )
    budget_spent: str = Field(default="", description="The largest of budgetConsumed, as a percentage.")
    postmortem_required: bool = Field(default=False, description="Whether a postmortem is required.")
    postmortem_reason: str = Field(default="", description="Why a postmortem is required.")
    postmortem_draft: str = Field(default="", description="ConfigMap holding the prefilled postmortem draft.")
