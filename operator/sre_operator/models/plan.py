"""ServiceReliabilityPlan: a service's whole SRE operating plan (API.md, sections 1 to 9)."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from sre_operator.models.base import (
    ApiModel,
    DnsLabel,
    Duration,
    LabelName,
    Labels,
    LocalRef,
    ObjectMeta,
    SecretKeyRef,
    TimeZone,
    api_config,
    cel_rules,
    exactly_one,
    require_exactly_one,
    whole_match,
)

Tier = Literal["critical", "high", "medium", "low"]
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAY_RANGE_PATTERN = r"^(monday|tuesday|wednesday|thursday|friday|saturday|sunday)(:(monday|tuesday|wednesday|thursday|friday|saturday|sunday))?$"
RoutingOutput = Literal["alertmanagerConfig", "alertmanagerSecret"]


def _default_outputs() -> list[RoutingOutput]:
    return ["alertmanagerConfig"]


CLOCK_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
SEVERITY_PATTERN = r"^SEV[0-9]$"
Clock = Annotated[
    str,
    Field(json_schema_extra={"pattern": CLOCK_PATTERN}),
    whole_match(CLOCK_PATTERN, "a time of day as HH:MM, such as 09:00"),
]
Weekdays = Annotated[
    str,
    Field(json_schema_extra={"pattern": WEEKDAY_RANGE_PATTERN}),
    whole_match(WEEKDAY_RANGE_PATTERN, "a weekday or a range of them, such as monday:friday"),
]
SeverityName = Annotated[
    str,
    Field(json_schema_extra={"pattern": SEVERITY_PATTERN}),
    whole_match(SEVERITY_PATTERN, "a severity name, SEV0 to SEV9"),
]


# 1. Service context ---------------------------------------------------------------------------------------------


class Owner(ApiModel):
    team: str = Field(min_length=1, max_length=253, description="Team that owns the service and its SLOs.")
    contact: str = Field(default="", max_length=253, description="How to reach the team, such as a chat channel.")


class Journey(ApiModel):
    name: DnsLabel = Field(description="Short name of the critical user journey, unique in the plan.")
    description: str = Field(default="", max_length=1024, description="What the user is doing, in one sentence.")


class Service(ApiModel):
    name: DnsLabel = Field(description="Service name; becomes the 'service' label of every rule and alert.")
    tier: Tier | None = Field(
        default=None,
        description="Business criticality: critical, high, medium or low (default medium, recorded in status.assumptions).",
    )
    owner: Owner = Field(description="Owning team.")
    journeys: list[Journey] = Field(
        default_factory=list, max_length=50, description="Critical user journeys the SLOs protect."
    )


# 2. SLIs and SLOs ------------------------------------------------------------------------------------------------


class RatioIndicator(ApiModel):
    model_config = cel_rules(exactly_one(["errors", "good"], "must be given"))

    errors: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="Counter selector of failed events. Give errors or good, not both.",
    )
    good: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="Counter selector of good events. Give errors or good, not both.",
    )
    total: str = Field(min_length=1, max_length=4096, description="Counter selector of all events.")
    group_by: list[LabelName] = Field(
        default_factory=list,
        max_length=10,
        description="Labels kept on the SLI, giving one SLO series per value (per route, per tenant).",
    )

    @model_validator(mode="after")
    def _errors_or_good(self) -> RatioIndicator:
        require_exactly_one(self, ["errors", "good"], "must be given")
        return self


class LatencyIndicator(ApiModel):
    histogram: str = Field(
        min_length=1,
        max_length=4096,
        description="Histogram base name with matchers; its _bucket and _count series are used.",
    )
    threshold: float = Field(
        gt=0,
        description="Requests slower than this many seconds count as errors; must be a bucket boundary of the histogram.",
    )
    group_by: list[LabelName] = Field(default_factory=list, max_length=10, description="Labels kept on the SLI.")


class ExpressionIndicator(ApiModel):
    error_ratio: str = Field(
        min_length=1,
        max_length=8192,
        description="PromQL returning an error ratio between 0 and 1, with $window where the range goes.",
    )


class Indicator(ApiModel):
    model_config = cel_rules(exactly_one(["ratio", "latency", "expression"], "must be given"))

    ratio: RatioIndicator | None = Field(
        default=None, description="Errors (or good events) over total events, from counters."
    )
    latency: LatencyIndicator | None = Field(
        default=None, description="Share of requests slower than a threshold, from a histogram."
    )
    expression: ExpressionIndicator | None = Field(default=None, description="A raw error-ratio expression.")
    scrape_interval: Duration | None = Field(
        default=None,
        description=(
            "How often Prometheus scrapes the indicator's series (default 30s, the Prometheus Operator's). The rules"
            " evaluate once per tile, the shortest of 1m, 2m30s, 5m, 10m, 15m and 30m at least this long. Give the"
            " slowest interval the series are scraped at."
        ),
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Indicator:
        require_exactly_one(self, ["ratio", "latency", "expression"], "must be given")
        return self


class SloAlerting(ApiModel):
    page: bool = Field(default=True, description="Page (severity critical) on fast budget burn.")
    ticket: bool = Field(default=True, description="Open a ticket (severity warning) on slow budget burn.")
    min_request_rate: float | None = Field(
        default=None,
        ge=0,
        description="Requests per second below which burn alerts stay quiet (low-traffic guard). Ratio and latency indicators only.",
    )
    no_data_for: Duration | None = Field(default=None, description="Alert when the SLI has had no data for this long.")
    labels: Labels = Field(default_factory=dict, description="Labels added to this SLO's alerts.")


class Calendar(ApiModel):
    period: Literal["week", "month", "quarter"] = Field(description="Calendar period budgets are reported for.")
    time_zone: TimeZone = Field(default="UTC", description="IANA time zone the period starts in.")


class Slo(ApiModel):
    name: DnsLabel = Field(description="SLO name, unique in the plan; becomes the 'slo' label.")
    journey: DnsLabel | None = Field(
        default=None, description="Name of the journey (spec.service.journeys) this SLO protects."
    )
    description: str = Field(default="", max_length=1024, description="What the SLO promises, in one sentence.")
    objective: float = Field(gt=0, lt=100, description="Target percentage of good events, such as 99.9.")
    window: Duration | None = Field(
        default=None,
        description="Rolling window of the SLO, between 7d and 90d (default 30d, recorded in status.assumptions).",
    )
    calendar: Calendar | None = Field(default=None, description="Also report budgets per calendar period.")
    indicator: Indicator = Field(
        description="How good and bad events are measured: exactly one of ratio, latency, expression."
    )
    alerting: SloAlerting = Field(default_factory=SloAlerting, description="Alerting for this SLO.")


# 3. Alerting and paging ------------------------------------------------------------------------------------------


class PagerDuty(ApiModel):
    routing_key_secret: SecretKeyRef = Field(description="Secret holding the Events API v2 routing key.")


class Slack(ApiModel):
    api_url_secret: SecretKeyRef = Field(alias="apiURLSecret", description="Secret holding the incoming-webhook URL.")
    channel: str = Field(default="", max_length=80, description="Channel to post to.")


class Opsgenie(ApiModel):
    api_key_secret: SecretKeyRef = Field(description="Secret holding the Opsgenie API key.")


class Webhook(ApiModel):
    url_secret: SecretKeyRef = Field(alias="urlSecret", description="Secret holding the webhook URL.")


class Email(ApiModel):
    to: str = Field(min_length=3, max_length=320, description="Address to send to.")


class Receiver(ApiModel):
    model_config = cel_rules(exactly_one(["pagerduty", "slack", "opsgenie", "webhook", "email"], "must be given"))

    pagerduty: PagerDuty | None = Field(default=None, description="Send to PagerDuty.")
    slack: Slack | None = Field(default=None, description="Send to Slack.")
    opsgenie: Opsgenie | None = Field(default=None, description="Send to Opsgenie.")
    webhook: Webhook | None = Field(default=None, description="Send to a webhook.")
    email: Email | None = Field(default=None, description="Send e-mail.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Receiver:
        require_exactly_one(self, ["pagerduty", "slack", "opsgenie", "webhook", "email"], "must be given")
        return self


class BusinessHours(ApiModel):
    time_zone: TimeZone = Field(default="UTC", description="IANA time zone of the hours.")
    weekdays: list[Weekdays] = Field(
        default_factory=lambda: ["monday:friday"], description="Days or ranges of days, such as monday:friday."
    )
    start: Clock = Field(default="09:00", description="Start of the working day, HH:MM.")
    end: Clock = Field(default="17:00", description="End of the working day, HH:MM.")


class Routing(ApiModel):
    page: Receiver | None = Field(default=None, description="Where pages (severity critical) go.")
    ticket: Receiver | None = Field(default=None, description="Where tickets (severity warning) go.")
    business_hours: BusinessHours | None = Field(
        default=None, description="Tickets are delivered only inside these hours."
    )
    outputs: list[RoutingOutput] = Field(
        default_factory=_default_outputs,
        description="Forms of routing to generate: alertmanagerConfig and/or alertmanagerSecret (raw configuration).",
    )


class PlanAlerting(ApiModel):
    labels: Labels = Field(default_factory=dict, description="Labels added to every alert of the plan.")
    routing: Routing | None = Field(default=None, description="Routing of pages and tickets.")


# 4. Incident command ---------------------------------------------------------------------------------------------


class Roles(ApiModel):
    incident_commander: str = Field(
        default="", max_length=253, description="Who leads incidents (a person, rota or schedule)."
    )
    communications: str = Field(default="", max_length=253, description="Who keeps stakeholders informed.")
    scribe: str = Field(default="", max_length=253, description="Who keeps the incident timeline.")


class EscalationStep(ApiModel):
    after: Duration = Field(description="Time after the page at which this step is notified.")
    notify: str = Field(min_length=1, max_length=253, description="Who is notified.")


class Severity(ApiModel):
    name: SeverityName = Field(min_length=1, max_length=16, description="Severity name, SEV0 to SEV9.")
    description: str = Field(default="", max_length=1024, description="When this severity applies.")


class Incident(ApiModel):
    roles: Roles | None = Field(default=None, description="Incident roles.")
    escalation: list[EscalationStep] = Field(
        default_factory=list, max_length=20, description="Escalation steps, in order of 'after'."
    )
    severities: list[Severity] = Field(
        default_factory=list, max_length=10, description="Override of the default SEV1..SEV5 model."
    )


# 5. Capacity and resilience --------------------------------------------------------------------------------------


class WorkloadRef(ApiModel):
    kind: Literal["Deployment", "StatefulSet", "DaemonSet", "Rollout"] = Field(description="Workload kind.")
    name: DnsLabel = Field(description="Workload name in the plan's namespace.")


class Saturation(ApiModel):
    cpu_percent: int | None = Field(default=None, ge=1, le=100, description="CPU utilisation that counts as saturated.")
    memory_percent: int | None = Field(
        default=None, ge=1, le=100, description="Memory utilisation that counts as saturated."
    )


class Capacity(ApiModel):
    workloads: list[WorkloadRef] = Field(
        default_factory=list, max_length=50, description="Workloads that serve the service."
    )
    saturation: Saturation | None = Field(default=None, description="Saturation thresholds.")
    min_replicas: int | None = Field(default=None, ge=1, description="Fewest replicas each workload should run.")
    require_pod_disruption_budget: bool = Field(
        default=False, description="Each workload must be covered by a PodDisruptionBudget."
    )


# 6. Runbooks and automation --------------------------------------------------------------------------------------


class RunbookEntry(ApiModel):
    diagnosis: list[str] = Field(default_factory=list, max_length=50, description="Steps to find the cause.")
    mitigation: list[str] = Field(default_factory=list, max_length=50, description="Steps to stop the bleeding.")


class Automation(ApiModel):
    toil: str = Field(min_length=1, max_length=512, description="The manual work to remove.")
    action: str = Field(default="", max_length=1024, description="What automates it.")
    status: Literal["planned", "inProgress", "done"] = Field(
        default="planned", description="planned, inProgress or done."
    )


class Runbooks(ApiModel):
    base_url: str = Field(
        default="",
        alias="baseURL",
        max_length=2048,
        description="Where runbook_url annotations point; default: the operator's own runbook server.",
    )
    entries: dict[str, RunbookEntry] = Field(default_factory=dict, description="Runbook content per SLO name.")
    automation: list[Automation] = Field(default_factory=list, max_length=50, description="Toil and its automation.")


# 7. Postmortems --------------------------------------------------------------------------------------------------


class PostmortemTriggers(ApiModel):
    budget_consumed_percent: float | None = Field(
        default=None,
        gt=0,
        le=100,
        description="A single incident that spends this share of a budget needs a postmortem.",
    )
    severities: list[str] = Field(
        default_factory=list, max_length=10, description="Incident severities that always need a postmortem."
    )


class CorrectiveAction(ApiModel):
    id: str = Field(min_length=1, max_length=64, description="Identifier, such as CA-1.")
    title: str = Field(min_length=1, max_length=512, description="What will be done.")
    owner: str = Field(default="", max_length=253, description="Who does it.")
    priority: Literal["P0", "P1", "P2", "P3"] = Field(default="P2", description="P0 (most urgent) to P3.")
    due: datetime.date | None = Field(default=None, description="Due date, YYYY-MM-DD.")
    status: Literal["open", "inProgress", "done", "wontFix"] = Field(
        default="open", description="open, inProgress, done or wontFix."
    )


class Postmortem(ApiModel):
    triggers: PostmortemTriggers | None = Field(default=None, description="When a postmortem is required.")
    corrective_actions: list[CorrectiveAction] = Field(
        default_factory=list, max_length=200, description="Corrective actions from postmortems."
    )


# 8 and 9. Release gating and reporting ---------------------------------------------------------------------------


class Release(ApiModel):
    policy_ref: str = Field(
        min_length=1, max_length=253, description="Name of the ErrorBudgetPolicy that gates this service's releases."
    )


class Reporting(ApiModel):
    cadence: Literal["daily", "weekly", "biweekly", "monthly", "quarterly"] = Field(
        description="How often the SLO report is reviewed."
    )
    approvers: list[str] = Field(default_factory=list, max_length=20, description="Who approves the plan.")
    review_by: datetime.date | None = Field(default=None, description="Date by which the plan is reviewed again.")


class PlanSpec(ApiModel):
    service: Service = Field(description="1. Service context.")
    slos: list[Slo] = Field(min_length=1, max_length=100, description="2. SLIs and SLOs; at least one.")
    alerting: PlanAlerting | None = Field(default=None, description="3. Alerting and paging.")
    incident: Incident | None = Field(default=None, description="4. Incident command and escalation.")
    capacity: Capacity | None = Field(default=None, description="5. Capacity and resilience.")
    runbooks: Runbooks | None = Field(default=None, description="6. Runbooks and automation.")
    postmortem: Postmortem | None = Field(default=None, description="7. Postmortems and corrective actions.")
    release: Release | None = Field(default=None, description="8. Release reliability gate.")
    reporting: Reporting | None = Field(default=None, description="9. Reporting cadence.")


class ServiceReliabilityPlan(ApiModel):
    """A service's SRE operating plan."""

    api_version: str = Field(alias="apiVersion")
    kind: Literal["ServiceReliabilityPlan"]
    metadata: ObjectMeta = Field(default_factory=ObjectMeta)
    spec: PlanSpec

    model_config = api_config(extra="ignore")


__all__ = ["LocalRef", "PlanSpec", "ServiceReliabilityPlan", "Slo"]
