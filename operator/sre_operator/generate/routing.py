"""A plan's alert routing: an AlertmanagerConfig and a raw Alertmanager configuration. Pure.

One tree, two dialects: ``routing_tree`` says what routes where, and ``alertmanager_config``
and ``raw_routing`` write it as each form spells it. Alerts of the plan's service (and namespace) are
grouped by alertname, service and slo; pages (severity critical) go to the
page receiver, tickets (severity warning, the no-data alert among them) to
the ticket receiver, and anything else of the service to a receiver that
notifies nobody, never to the installation's default receiver. A page
silences the tickets of the same SLO, and a fast burn the slow burn of the
same SLO. Tickets wait for business hours when the plan names them.

Secrets are referenced, never copied: the AlertmanagerConfig names them with
SecretKeySelectors (the Prometheus Operator reads them); the raw
configuration reads them from files at ``SECRETS_MOUNT/<secret>/<key>``, where
the Prometheus Operator mounts ``Alertmanager.spec.secrets`` and where a
platform team mounts them by hand otherwise.
"""

from __future__ import annotations

import base64
import datetime
import zoneinfo
from dataclasses import dataclass
from typing import Any

import yaml

from sre_operator.durations import format_duration, seconds
from sre_operator.generate import names
from sre_operator.generate.options import IncidentReceiver
from sre_operator.generate.rules import plan_labels
from sre_operator.models.base import SecretKeyRef
from sre_operator.models.plan import BusinessHours, Receiver, ServiceReliabilityPlan

SECRETS_MOUNT = "/etc/alertmanager/secrets"
NULL_RECEIVER = "nobody"
GROUP_BY = ["alertname", "namespace", "service", "slo"]
BUSINESS_HOURS = "business-hours"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Timing:
    group_wait: str
    group_interval: str
    repeat_interval: str


# Pages reach someone fast and repeat until the escalation policy has had its turn; tickets batch.
PAGE_TIMING = Timing("30s", "5m", "1h")
TICKET_TIMING = Timing("5m", "30m", "24h")


def page_timing(plan: ServiceReliabilityPlan) -> Timing:
    """Pages repeat hourly while they fire, but never before the plan's last escalation step is due."""
    steps = plan.spec.incident.escalation if plan.spec.incident else []
    last = max((seconds(s.after) for s in steps), default=0.0)
    repeat = max(seconds(PAGE_TIMING.repeat_interval), last)
    return Timing(PAGE_TIMING.group_wait, PAGE_TIMING.group_interval, format_duration(repeat))


def receiver_name(plan: ServiceReliabilityPlan, role: str) -> str:
    return f"{plan.metadata.name}-{role}"


def secret_file(ref: SecretKeyRef) -> str:
    return f"{SECRETS_MOUNT}/{ref.name}/{ref.key}"


@dataclass(frozen=True)
class Integration:
    """One receiver kind as both forms spell it: its settings list and where its secret goes."""

    configs: str
    """The settings list, snake_case (``pagerduty_configs``); the AlertmanagerConfig's is its camelCase."""
    operator_secret: str
    """The AlertmanagerConfig field holding a SecretKeySelector."""
    raw_secret: str
    """The raw configuration's ``*_file`` field."""


INTEGRATIONS = {
    "pagerduty": Integration("pagerduty_configs", "routingKey", "routing_key_file"),
    "slack": Integration("slack_configs", "apiURL", "api_url_file"),
    "opsgenie": Integration("opsgenie_configs", "apiKey", "api_key_file"),
    "webhook": Integration("webhook_configs", "urlSecret", "url_file"),
    "email": Integration("email_configs", "", ""),
}


def _integration(receiver: Receiver, severity: str) -> tuple[Integration, SecretKeyRef | None, dict[str, Any]]:
    """The receiver's kind, its secret and its other settings (snake_case), the same for both forms."""
    if receiver.pagerduty:
        # PagerDuty's own severity, set explicitly so a ticket never arrives as a critical incident.
        return INTEGRATIONS["pagerduty"], receiver.pagerduty.routing_key_secret, {"severity": severity}
    if receiver.slack:
        channel = {"channel": receiver.slack.channel} if receiver.slack.channel else {}
        return INTEGRATIONS["slack"], receiver.slack.api_url_secret, {"send_resolved": True, **channel}
    if receiver.opsgenie:
        priority = "P1" if severity == "critical" else "P3"
        return INTEGRATIONS["opsgenie"], receiver.opsgenie.api_key_secret, {"priority": priority}
    if receiver.webhook:
        return INTEGRATIONS["webhook"], receiver.webhook.url_secret, {"send_resolved": True}
    assert receiver.email is not None
    return INTEGRATIONS["email"], None, {"to": receiver.email.to, "send_resolved": True}


def operator_receiver(name: str, receiver: Receiver | None, severity: str) -> dict[str, Any]:
    """A receiver of the AlertmanagerConfig (camelCase, SecretKeySelectors)."""
    if receiver is None:
        return {"name": name}
    integration, secret, settings = _integration(receiver, severity)
    config = _camel(settings)
    if secret is not None:
        config = {integration.operator_secret: {"name": secret.name, "key": secret.key}, **config}
    return {"name": name, _camel_key(integration.configs): [config]}


def raw_receiver(name: str, receiver: Receiver | None, severity: str) -> dict[str, Any]:
    """A receiver of a raw Alertmanager configuration (snake_case, secrets as ``*_file`` paths)."""
    if receiver is None:
        return {"name": name}
    integration, secret, settings = _integration(receiver, severity)
    config = {integration.raw_secret: secret_file(secret), **settings} if secret is not None else settings
    return {"name": name, integration.configs: [config]}


def _weekday_ranges(hours: BusinessHours) -> list[tuple[int, int]]:
    ranges = []
    for item in hours.weekdays:
        first, _, last = item.partition(":")
        ranges.append((WEEKDAYS.index(first), WEEKDAYS.index(last or first)))
    return ranges


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def utc_intervals(hours: BusinessHours, on: datetime.date) -> list[dict[str, Any]]:
    """Business hours as UTC day-and-time intervals, at the zone's offset on ``on`` (for the AlertmanagerConfig,
    which has no time-zone field). The offset changes with daylight saving; the caller says so."""
    offset = zoneinfo.ZoneInfo(hours.time_zone).utcoffset(datetime.datetime.combine(on, datetime.time(12)))
    shift = int((offset or datetime.timedelta()).total_seconds() // 60)
    start, end = _minutes(hours.start) - shift, _minutes(hours.end) - shift
    days = sorted({d for first, last in _weekday_ranges(hours) for d in _days(first, last)})
    pieces: dict[tuple[int, int], set[int]] = {}
    for day in days:
        for piece_start, piece_end, day_shift in _split(start, end):
            pieces.setdefault((piece_start, piece_end), set()).add((day + day_shift) % 7)
    return [
        {
            "weekdays": sorted({WEEKDAYS[d] for d in weekdays}, key=WEEKDAYS.index),
            "times": [{"startTime": _clock(a), "endTime": _clock(b)}],
        }
        for (a, b), weekdays in sorted(pieces.items())
    ]


def _days(first: int, last: int) -> list[int]:
    return list(range(first, last + 1)) if first <= last else [*range(first, 7), *range(0, last + 1)]


def _split(start: int, end: int) -> list[tuple[int, int, int]]:
    """A local day's [start, end) in UTC minutes, cut at midnight: (start, end, day shift) pieces."""
    day = 24 * 60
    pieces = []
    for shift in (-1, 0, 1):
        low, high = max(start, shift * day), min(end, (shift + 1) * day)
        if low < high:
            pieces.append((low - shift * day, high - shift * day, shift))
    return pieces


def _operator_matcher(name: str, value: str) -> dict[str, str]:
    return {"name": name, "value": value, "matchType": "="}


def matcher(name: str, value: str) -> str:
    """An Alertmanager matcher string with the value quoted and escaped (no label value can break out)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'{name}="{escaped}"'


INCIDENTS = "incidents"


@dataclass(frozen=True)
class Route:
    receiver: str
    severity: str
    timing: Timing | None = None
    keep_going: bool = False
    """Alertmanager's ``continue``: the routes after this one still see the alert."""
    business_hours: bool = False
    """Active only in the plan's business hours."""


@dataclass(frozen=True)
class Tree:
    """A plan's routing in no dialect: what both the AlertmanagerConfig and the raw configuration say."""

    routes: tuple[Route, ...]
    receivers: tuple[tuple[str, Receiver | None, str], ...]
    """(name, receiver, severity) of the page and ticket receivers."""
    inhibitions: tuple[tuple[dict[str, str], dict[str, str]], ...]
    """(source, target) label sets: a page silences the tickets, a fast burn the slow burn, of the same SLO."""
    incidents: IncidentReceiver | None
    business_hours: BusinessHours | None


def routing_tree(plan: ServiceReliabilityPlan, incidents: IncidentReceiver | None = None) -> Tree | None:
    """The routes, receivers and inhibitions of a plan; None when the plan routes nothing."""
    routing = plan.spec.alerting.routing if plan.spec.alerting else None
    if routing is None:
        return None
    page, ticket = receiver_name(plan, "page"), receiver_name(plan, "ticket")
    routes = [
        Route(page, "critical", page_timing(plan)),
        Route(ticket, "warning", TICKET_TIMING, business_hours=routing.business_hours is not None),
    ]
    if incidents is not None:  # pages go to the operator as well, to become Incidents; the page route follows
        routes.insert(0, Route(receiver_name(plan, INCIDENTS), "critical", keep_going=True))
    service = {names.LABEL_SERVICE: plan.spec.service.name}
    inhibitions = (
        ({**service, "severity": "critical"}, {**service, "severity": "warning"}),
        ({**service, "alertname": names.ALERT_PAGE}, {**service, "alertname": names.ALERT_TICKET}),
    )
    receivers = ((page, routing.page, "critical"), (ticket, routing.ticket, "warning"))
    return Tree(tuple(routes), receivers, inhibitions, incidents, routing.business_hours)


def _timing(timing: Timing) -> dict[str, str]:
    return {
        "group_wait": timing.group_wait,
        "group_interval": timing.group_interval,
        "repeat_interval": timing.repeat_interval,
    }


def _camel_key(key: str) -> str:
    first, *rest = key.split("_")
    return first + "".join(part.title() for part in rest)


def _camel(values: dict[str, Any]) -> dict[str, Any]:
    return {_camel_key(k): v for k, v in values.items()}


def operator_incident_receiver(plan: ServiceReliabilityPlan, incidents: IncidentReceiver) -> dict[str, Any]:
    token = {"name": incidents.token.name, "key": incidents.token.key}
    return {
        "name": receiver_name(plan, INCIDENTS),
        "webhookConfigs": [
            {
                "url": incidents.url,
                "sendResolved": True,
                "httpConfig": {"authorization": {"type": "Bearer", "credentials": token}},
            }
        ],
    }


def raw_incident_receiver(plan: ServiceReliabilityPlan, incidents: IncidentReceiver) -> dict[str, Any]:
    return {
        "name": receiver_name(plan, INCIDENTS),
        "webhook_configs": [
            {
                "url": incidents.url,
                "send_resolved": True,
                "http_config": {"authorization": {"type": "Bearer", "credentials_file": secret_file(incidents.token)}},
            }
        ],
    }


def alertmanager_config(
    plan: ServiceReliabilityPlan, today: datetime.date | None = None, incidents: IncidentReceiver | None = None
) -> dict[str, Any] | None:
    """The tree as an AlertmanagerConfig (monitoring.coreos.com/v1alpha1): camelCase, matcher objects, Secrets
    by reference, time intervals in UTC (the CRD has no time zone); None when the plan routes nothing."""
    tree = routing_tree(plan, incidents)
    if tree is None:
        return None

    def route(item: Route) -> dict[str, Any]:
        found: dict[str, Any] = {"receiver": item.receiver, "matchers": [_operator_matcher("severity", item.severity)]}
        if item.keep_going:
            found["continue"] = True
        if item.timing is not None:
            found.update(_camel(_timing(item.timing)))
        if item.business_hours:
            found["activeTimeIntervals"] = [BUSINESS_HOURS]
        return found

    spec: dict[str, Any] = {
        "route": {
            "receiver": NULL_RECEIVER,
            "groupBy": list(GROUP_BY),
            "matchers": [_operator_matcher(names.LABEL_SERVICE, plan.spec.service.name)],
            "routes": [route(item) for item in tree.routes],
        },
        "receivers": [{"name": NULL_RECEIVER}, *(operator_receiver(*receiver) for receiver in tree.receivers)],
        "inhibitRules": [
            {
                "sourceMatch": [_operator_matcher(k, v) for k, v in source.items()],
                "targetMatch": [_operator_matcher(k, v) for k, v in target.items()],
                "equal": ["namespace", "service", "slo"],
            }
            for source, target in tree.inhibitions
        ],
    }
    if tree.incidents is not None:
        spec["receivers"].append(operator_incident_receiver(plan, tree.incidents))
    if tree.business_hours is not None:
        spec["muteTimeIntervals"] = [  # the CRD's name for every named time interval, active or mute
            {
                "name": BUSINESS_HOURS,
                "timeIntervals": utc_intervals(tree.business_hours, today or datetime.date.today()),
            }
        ]
    return {
        "apiVersion": "monitoring.coreos.com/v1alpha1",
        "kind": "AlertmanagerConfig",
        "metadata": {
            "name": f"{plan.metadata.name}-routing",
            "namespace": plan.metadata.namespace,
            "labels": plan_labels(plan),
        },
        "spec": spec,
    }


def raw_routing(plan: ServiceReliabilityPlan, incidents: IncidentReceiver | None = None) -> dict[str, Any] | None:
    """The tree as raw Alertmanager configuration: the routing subtree, receivers, inhibition rules and time
    intervals a platform team merges (snake_case, matcher strings, secrets as files, the namespace matched)."""
    tree = routing_tree(plan, incidents)
    if tree is None:
        return None
    namespace = matcher("namespace", plan.metadata.namespace)
    hours = f"{plan.metadata.name}-{BUSINESS_HOURS}"

    def route(item: Route) -> dict[str, Any]:
        found: dict[str, Any] = {"receiver": item.receiver, "matchers": [matcher("severity", item.severity)]}
        if item.keep_going:
            found["continue"] = True
        if item.timing is not None:
            found.update(_timing(item.timing))
        if item.business_hours:
            found["active_time_intervals"] = [hours]
        return found

    nobody = receiver_name(plan, NULL_RECEIVER)
    document: dict[str, Any] = {
        "route": {
            "receiver": nobody,
            "group_by": list(GROUP_BY),
            "matchers": [namespace, matcher(names.LABEL_SERVICE, plan.spec.service.name)],
            "routes": [route(item) for item in tree.routes],
        },
        "receivers": [{"name": nobody}, *(raw_receiver(*receiver) for receiver in tree.receivers)],
        "inhibit_rules": [
            {
                "source_matchers": [namespace, *(matcher(k, v) for k, v in source.items())],
                "target_matchers": [namespace, *(matcher(k, v) for k, v in target.items())],
                "equal": ["namespace", "service", "slo"],
            }
            for source, target in tree.inhibitions
        ],
    }
    if tree.incidents is not None:
        document["receivers"].append(raw_incident_receiver(plan, tree.incidents))
    if tree.business_hours is not None:
        business = tree.business_hours
        document["time_intervals"] = [
            {
                "name": hours,
                "time_intervals": [
                    {
                        "weekdays": list(business.weekdays),
                        "times": [{"start_time": business.start, "end_time": business.end}],
                        "location": business.time_zone,
                    }
                ],
            }
        ]
    return document


def standalone_config(plan: ServiceReliabilityPlan, incidents: IncidentReceiver | None = None) -> dict[str, Any] | None:
    """A complete Alertmanager configuration holding only this plan's routing (``amtool check-config`` accepts it)."""
    subtree = raw_routing(plan, incidents)
    if subtree is None:
        return None
    nobody = receiver_name(plan, NULL_RECEIVER)
    config = {
        "route": {"receiver": nobody, "group_by": list(GROUP_BY), "routes": [subtree["route"]]},
        "receivers": subtree["receivers"],
        "inhibit_rules": subtree["inhibit_rules"],
    }
    if "time_intervals" in subtree:
        config["time_intervals"] = subtree["time_intervals"]
    if any("email_configs" in r for r in subtree["receivers"]):
        # E-mail needs an SMTP relay that only the installation knows: a local relay stands in until set.
        config = {"global": {"smtp_smarthost": "localhost:25", "smtp_from": "alertmanager@localhost"}, **config}
    return config


def routing_secret(plan: ServiceReliabilityPlan, incidents: IncidentReceiver | None = None) -> dict[str, Any] | None:
    """The raw configuration as a Secret (``routing.yaml`` to merge, ``alertmanager.yaml`` standalone)."""
    subtree, standalone = raw_routing(plan, incidents), standalone_config(plan, incidents)
    if subtree is None or standalone is None:
        return None
    files = {"routing.yaml": subtree, "alertmanager.yaml": standalone}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": f"{plan.metadata.name}-alertmanager",
            "namespace": plan.metadata.namespace,
            "labels": plan_labels(plan),
        },
        "type": "Opaque",
        # data, not stringData: the API server stores data, and drift is compared against what it stores.
        "data": {name: base64.b64encode(dump_yaml(value).encode()).decode() for name, value in files.items()},
    }


def dump_yaml(value: Any) -> str:
    return yaml.safe_dump(value, sort_keys=False, width=10_000, allow_unicode=True)


def business_hours_assumption(plan: ServiceReliabilityPlan, config: dict[str, Any]) -> str | None:
    """What converting business hours to UTC for an AlertmanagerConfig assumes, in one sentence."""
    routing = plan.spec.alerting.routing if plan.spec.alerting else None
    hours = routing.business_hours if routing else None
    intervals = (config.get("spec") or {}).get("muteTimeIntervals") or []
    if hours is None or not intervals or hours.time_zone == "UTC":
        return None
    written = "; ".join(
        f"{', '.join(i['weekdays'])} {i['times'][0]['startTime']}-{i['times'][0]['endTime']}"
        for i in intervals[0]["timeIntervals"]
    )
    return (
        f"Business hours {hours.start}-{hours.end} {hours.time_zone} are written to the AlertmanagerConfig in UTC "
        f"({written}), which has no time-zone field: the offset is today's, and after a daylight-saving change "
        "the hours are rewritten at the next drift check."
    )


def receiver_summary(receiver: Receiver | None) -> str:
    """A receiver in words, naming where its secret lives and never its value."""
    if receiver is None:
        return "not given: the Alertmanager default receiver"
    if receiver.pagerduty:
        ref = receiver.pagerduty.routing_key_secret
        return f"PagerDuty (routing key in Secret {ref.name}, key {ref.key})"
    if receiver.slack:
        ref = receiver.slack.api_url_secret
        channel = f" {receiver.slack.channel}" if receiver.slack.channel else ""
        return f"Slack{channel} (webhook URL in Secret {ref.name}, key {ref.key})"
    if receiver.opsgenie:
        ref = receiver.opsgenie.api_key_secret
        return f"Opsgenie (API key in Secret {ref.name}, key {ref.key})"
    if receiver.webhook:
        ref = receiver.webhook.url_secret
        return f"a webhook (URL in Secret {ref.name}, key {ref.key})"
    assert receiver.email is not None
    return f"e-mail to {receiver.email.to}"
