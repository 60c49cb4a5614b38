"""What a notification changes in an Incident: pure, so repeats and ordering are table-tested.

Alertmanager sends a group's whole state on every notification and again every ``repeat_interval``;
alerts are told apart by fingerprint. A repeat changes nothing; an incident resolves only when every
alert in it has resolved; a group that fires again after its incident resolved opens a new one.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sre_operator.incidents.notification import Alert
from sre_operator.timestamps import parse_rfc3339, rfc3339

SEVERITY_ORDER = ("critical", "warning", "info")


@dataclass(frozen=True)
class Recorded:
    status: dict[str, Any]
    new_events: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.new_events)


def _rank(severity: str) -> int:
    return SEVERITY_ORDER.index(severity) if severity in SEVERITY_ORDER else len(SEVERITY_ORDER)


def highest_severity(severities: Iterable[str]) -> str:
    """The most urgent of alert severities (critical, then warning, then info); empty if there are none."""
    return min(severities, key=_rank, default="")


def _highest(alerts: Iterable[Mapping[str, Any]]) -> str:
    return highest_severity(a.get("severity", "") for a in alerts if a["status"] == "firing")


def opens_new_incident(previous: Mapping[str, Any] | None, alerts: Iterable[Alert]) -> bool:
    """Whether ``alerts`` start a new incident rather than update ``previous`` (the group's latest one)."""
    if previous is None:  # resolved ones too: a group whose firing was missed (the operator was down) is recorded
        return any(True for _ in alerts)
    if previous.get("state") != "Resolved":
        return False
    resolved_at = previous.get("resolvedAt", "")
    known = {a["fingerprint"]: a for a in previous.get("alerts", [])}
    for alert in alerts:
        if alert.status != "firing":
            continue
        before = known.get(alert.fingerprint)
        if before is None or rfc3339(alert.starts_at) > resolved_at or before["startsAt"] != rfc3339(alert.starts_at):
            return True
    return False


def record(
    previous: Mapping[str, Any] | None,
    group_key: str,
    alerts: Iterable[Alert],
    received_at: datetime.datetime | None = None,
) -> Recorded:
    """The incident status after ``alerts`` (one plan's alerts of one notification) are taken in;
    ``received_at`` (the notification's arrival) is kept from the first one, as when the page came."""
    status: dict[str, Any] = {
        "state": "Open",
        "groupKey": group_key,
        "slos": [],
        "alerts": [],
        "timeline": [],
        "startedAt": "",
        "resolvedAt": "",
        **{k: v for k, v in (previous or {}).items()},
    }
    if previous is None and received_at is not None:
        status["notifiedAt"] = rfc3339(received_at)
    by_fingerprint = {a["fingerprint"]: dict(a) for a in status["alerts"]}
    timeline = [dict(entry) for entry in status["timeline"]]
    before_severity = _highest(by_fingerprint.values())
    events: list[tuple[str, str]] = []
    for alert in alerts:
        name = alert.labels.get("alertname", "alert")
        starts = rfc3339(alert.starts_at)
        ends = rfc3339(alert.ends_at) if alert.ends_at is not None else ""
        known = by_fingerprint.get(alert.fingerprint)
        if known is None:
            by_fingerprint[alert.fingerprint] = {
                "fingerprint": alert.fingerprint,
                "alertname": name,
                "slo": alert.labels.get("slo", ""),
                "severity": alert.labels.get("severity", ""),
                "status": alert.status,
                "startsAt": starts,
                "endsAt": ends,
            }
            events.append((starts, f"{name} firing ({_describe(alert)})"))
            if alert.status == "resolved":
                events.append((ends or starts, f"{name} resolved ({_describe(alert)})"))
        elif known["status"] == "firing" and alert.status == "resolved":
            known.update(status="resolved", endsAt=ends)
            events.append((ends or starts, f"{name} resolved ({_describe(alert)})"))
        elif known["status"] == "resolved" and alert.status == "firing":
            known.update(status="firing", startsAt=starts, endsAt="")
            events.append((starts, f"{name} firing again ({_describe(alert)})"))
    alerts_now = sorted(by_fingerprint.values(), key=lambda a: (a["startsAt"], a["fingerprint"]))
    after_severity = _highest(alerts_now)
    if events and before_severity and after_severity and after_severity != before_severity:
        moment = max(at for at, _ in events)
        events.append((moment, f"severity changed from {before_severity} to {after_severity}"))
    if events and all(a["status"] == "resolved" for a in alerts_now):
        resolved_at = max(a["endsAt"] for a in alerts_now)
        if status["state"] != "Resolved":
            events.append((resolved_at, "every alert resolved: incident resolved"))
        status["state"], status["resolvedAt"] = "Resolved", resolved_at
    elif any(a["status"] == "firing" for a in alerts_now):
        status["state"], status["resolvedAt"] = "Open", ""
    timeline.extend({"at": at, "event": text} for at, text in events)
    timeline.sort(key=lambda entry: entry["at"])
    status["alerts"] = alerts_now
    status["timeline"] = timeline
    status["slos"] = sorted({a["slo"] for a in alerts_now if a["slo"]})
    status["startedAt"] = min((a["startsAt"] for a in alerts_now), default="")
    return Recorded(status, tuple(text for _, text in events))


def _describe(alert: Alert) -> str:
    parts = [f"{k}={alert.labels[k]}" for k in ("slo", "severity") if alert.labels.get(k)]
    return ", ".join(parts) or alert.fingerprint


def incident_name(plan: str, started_at: str, slos: Iterable[str]) -> str:
    """``checkout-20261125-1412-availability``: the plan, the first firing (UTC, to the minute), the SLO."""
    moment = parse_rfc3339(started_at)
    slo = "-".join(sorted(slos)) or "alerts"
    return f"{plan}-{moment:%Y%m%d-%H%M}-{slo}"[:253].rstrip("-.")
