"""Notifications folded into an Incident: repeats change nothing, resolution is per fingerprint."""

from __future__ import annotations

from typing import Any

import pytest

from sre_operator.incidents import NotificationError, incident_name, opens_new_incident, parse_notification, record

GROUP = '{}/{severity="critical"}:{namespace="shop", service="checkout", slo="availability"}'
ZERO = "0001-01-01T00:00:00Z"


def alert(fingerprint: str, status: str, starts: str, ends: str = ZERO, **labels: str) -> dict[str, Any]:
    base = {"alertname": "SLOErrorBudgetFastBurn", "severity": "critical", "slo": "availability"}
    return {
        "status": status,
        "fingerprint": fingerprint,
        "labels": {**base, **labels},
        "annotations": {"summary": "burning"},
        "startsAt": starts,
        "endsAt": ends,
    }


def notification(*alerts: dict[str, Any]) -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": GROUP,
        "status": "firing" if firing else "resolved",
        "receiver": "sre-operator",
        "groupLabels": {"slo": "availability"},
        "alerts": list(alerts),
    }


def fold(*notifications: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, ...]]]:
    status: dict[str, Any] | None = None
    events = []
    for item in notifications:
        parsed = parse_notification(item)
        recorded = record(status, parsed.group_key, parsed.alerts)
        status = recorded.status
        events.append(recorded.new_events)
    assert status is not None
    return status, events


def test_a_page_opens_an_incident_with_its_first_firing_on_the_timeline() -> None:
    status, events = fold(notification(alert("a1", "firing", "2026-11-25T14:12:03Z")))
    assert status["state"] == "Open"
    assert status["startedAt"] == "2026-11-25T14:12:03Z"
    assert status["slos"] == ["availability"]
    assert status["timeline"] == [
        {"at": "2026-11-25T14:12:03Z", "event": "SLOErrorBudgetFastBurn firing (slo=availability, severity=critical)"}
    ]
    assert events == [("SLOErrorBudgetFastBurn firing (slo=availability, severity=critical)",)]


def test_a_repeat_notification_changes_nothing() -> None:
    first = notification(alert("a1", "firing", "2026-11-25T14:12:03Z"))
    status, events = fold(first, first, first)
    assert events[1:] == [(), ()]
    assert len(status["timeline"]) == 1


def test_the_incident_resolves_only_when_every_fingerprint_has_resolved() -> None:
    both = notification(
        alert("a1", "firing", "2026-11-25T14:12:03Z"),
        alert("b2", "firing", "2026-11-25T14:20:00Z", slo="latency"),
    )
    one_resolved = notification(
        alert("a1", "resolved", "2026-11-25T14:12:03Z", "2026-11-25T15:00:00Z"),
        alert("b2", "firing", "2026-11-25T14:20:00Z", slo="latency"),
    )
    # Alertmanager's group status says "resolved" only when all are; here it is still firing.
    status, _ = fold(both, one_resolved)
    assert status["state"] == "Open"
    all_resolved = notification(
        alert("a1", "resolved", "2026-11-25T14:12:03Z", "2026-11-25T15:00:00Z"),
        alert("b2", "resolved", "2026-11-25T14:20:00Z", "2026-11-25T15:30:00Z", slo="latency"),
    )
    status, events = fold(both, one_resolved, all_resolved)
    assert status["state"] == "Resolved"
    assert status["resolvedAt"] == "2026-11-25T15:30:00Z"
    assert status["slos"] == ["availability", "latency"]
    assert [e["event"].split(" (")[0] for e in status["timeline"]] == [
        "SLOErrorBudgetFastBurn firing",
        "SLOErrorBudgetFastBurn firing",
        "SLOErrorBudgetFastBurn resolved",
        "SLOErrorBudgetFastBurn resolved",
        "every alert resolved: incident resolved",
    ]
    assert events[-1][-1] == "every alert resolved: incident resolved"


def test_a_ticket_joining_a_page_is_a_severity_change_on_the_timeline() -> None:
    ticket = notification(alert("t1", "firing", "2026-11-25T10:00:00Z", severity="warning"))
    both = notification(
        alert("t1", "firing", "2026-11-25T10:00:00Z", severity="warning"),
        alert("p1", "firing", "2026-11-25T11:00:00Z"),
    )
    status, _ = fold(ticket, both)
    assert status["timeline"][-1]["event"] == "severity changed from warning to critical"


def test_a_group_firing_again_after_resolution_opens_a_new_incident() -> None:
    resolved_status, _ = fold(
        notification(alert("a1", "firing", "2026-11-25T14:12:03Z")),
        notification(alert("a1", "resolved", "2026-11-25T14:12:03Z", "2026-11-25T15:00:00Z")),
    )
    again = parse_notification(notification(alert("a1", "firing", "2026-11-26T09:00:00Z")))
    assert opens_new_incident(resolved_status, again.alerts)
    late_repeat = parse_notification(
        notification(alert("a1", "resolved", "2026-11-25T14:12:03Z", "2026-11-25T15:00:00Z"))
    )
    assert not opens_new_incident(resolved_status, late_repeat.alerts)
    open_status, _ = fold(notification(alert("a1", "firing", "2026-11-25T14:12:03Z")))
    assert not opens_new_incident(open_status, again.alerts)


def test_incident_names_follow_the_plan_the_first_firing_and_the_slo() -> None:
    assert incident_name("checkout", "2026-11-25T14:12:03Z", ["availability"]) == "checkout-20261125-1412-availability"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "body"),
        ({"version": "3"}, "version"),
        ({**notification(alert("a", "firing", "2026-11-25T14:12:03Z")), "groupKey": ""}, "groupKey"),
        ({**notification(alert("a", "firing", "2026-11-25T14:12:03Z")), "alerts": []}, "alerts"),
        (notification({**alert("a", "firing", "2026-11-25T14:12:03Z"), "fingerprint": 7}), "alerts[0].fingerprint"),
        (notification(alert("a", "firing", "yesterday")), "alerts[0].startsAt"),
        (notification({**alert("a", "firing", "2026-11-25T14:12:03Z"), "labels": {"a": 1}}), "alerts[0].labels.a"),
    ],
)
def test_a_malformed_notification_is_refused_naming_the_field(body: Any, field: str) -> None:
    with pytest.raises(NotificationError) as error:
        parse_notification(body)
    assert str(error.value).startswith(f"{field}:"), error.value
    assert "\n" not in str(error.value)


def test_a_group_seen_first_resolved_is_recorded_with_both_ends() -> None:
    """The operator was down while it fired: the resolved notification still makes a (resolved) incident."""
    late = parse_notification(notification(alert("z9", "resolved", "2026-11-25T14:12:03Z", "2026-11-25T14:40:00Z")))
    assert opens_new_incident(None, late.alerts)
    status = record(None, late.group_key, late.alerts).status
    assert status["state"] == "Resolved"
    assert [e["event"].split(" (")[0] for e in status["timeline"]] == [
        "SLOErrorBudgetFastBurn firing",
        "SLOErrorBudgetFastBurn resolved",
        "every alert resolved: incident resolved",
    ]


def test_only_a_reviewed_postmortem_with_a_link_of_the_plans_own_incidents_meets_a_requirement() -> None:
    from sre_operator.registry import Registry

    def incident(name: str, plan: str, state: str, url: str, started: str) -> dict[str, Any]:
        return {
            "apiVersion": "reliability.dev/v1alpha1",
            "kind": "Incident",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"planRef": {"name": plan}, "postmortem": {"state": state, "url": url}},
            "status": {"slos": ["availability"], "startedAt": started},
        }

    registry = Registry()
    registry.observe(incident("old", "checkout", "Reviewed", "https://pm/1", "2026-11-01T00:00:00Z"))
    registry.observe(incident("new", "checkout", "Closed", "https://pm/2", "2026-11-20T00:00:00Z"))
    registry.observe(incident("draft", "checkout", "Draft", "https://pm/3", "2026-11-25T00:00:00Z"))
    registry.observe(incident("unlinked", "checkout", "Reviewed", "", "2026-11-26T00:00:00Z"))
    registry.observe(incident("other", "search", "Reviewed", "https://pm/9", "2026-11-26T00:00:00Z"))
    assert registry.reviewed_postmortems("shop", "checkout") == {"availability": "https://pm/2"}
    assert registry.reviewed_postmortems("shop", "search") == {"availability": "https://pm/9"}
    registry.observe(incident("new", "checkout", "Closed", "https://pm/2", "2026-11-20T00:00:00Z"), deleted=True)
    assert registry.reviewed_postmortems("shop", "checkout") == {"availability": "https://pm/1"}
