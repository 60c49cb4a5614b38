"""What a rendered report says (pure): figures, pages and incidents of the period with their postmortems, and
the same in the JSON block; user text escaped for Markdown."""

from __future__ import annotations

import datetime
import json
from typing import Any

from sre_operator.models import ServiceReliabilityPlan
from sre_operator.reports import IncidentSummary, figures_from, parse_period, render_report, report_config_map

PLAN = ServiceReliabilityPlan.model_validate(
    {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "ServiceReliabilityPlan",
        "metadata": {"name": "api", "namespace": "shop"},
        "spec": {
            "service": {"name": "api", "owner": {"team": "t"}},
            "slos": [
                {"name": "availability", "objective": 99.9, "indicator": {"ratio": {"errors": "e", "total": "t"}}}
            ],
            "reporting": {"cadence": "weekly", "approvers": ["lead|ops"]},
        },
    }
)
WEEK = parse_period("2026-W47")


def incident(name: str, started: str, **postmortem: Any) -> IncidentSummary:
    return IncidentSummary.from_object(
        {
            "metadata": {"name": name},
            "spec": {"planRef": {"name": "api"}, "severity": "SEV2", "postmortem": postmortem},
            "status": {
                "state": "Resolved",
                "startedAt": started,
                "slos": ["availability"],
                "budgetSpent": "2.3%",
                "postmortemRequired": True,
            },
        }
    )


def render(incidents: list[IncidentSummary] | None) -> tuple[str, dict[str, Any]]:
    figures = figures_from(PLAN, WEEK, {"availability": (0.0005, 168, 7.0)})
    text = render_report(PLAN, WEEK, figures, datetime.date(2026, 11, 26), None, incidents)
    return text, json.loads(text.split("```json\n", 1)[1].split("\n```", 1)[0])


def test_incidents_of_the_period_are_listed_with_their_postmortems() -> None:
    text, data = render(
        [
            incident(
                "api-20261118-1000-availability", "2026-11-18T10:00:00Z", state="Reviewed", url="https://x/pm?a=1"
            ),
            incident("api-20261120-0900-availability", "2026-11-20T09:00:00Z"),
            incident("api-20261124-0900-availability", "2026-11-24T09:00:00Z"),  # the next week: not listed
        ]
    )
    assert "Page alerts firing: availability 7 min." in text
    assert "Incidents started in the period: 2 (SEV2 2)." in text
    assert (
        "| api-20261118-1000-availability | SEV2 | 2026-11-18T10:00:00Z | Resolved | availability | 2.3% |"
        " Reviewed ([link](https://x/pm?a=1)) |"
    ) in text
    assert (
        "| api-20261120-0900-availability | SEV2 | 2026-11-20T09:00:00Z | Resolved | availability | 2.3% | Draft, required |"
        in text
    )
    assert "api-20261124" not in text
    assert [i["name"] for i in data["incidents"]] == [
        "api-20261118-1000-availability",
        "api-20261120-0900-availability",
    ]
    assert data["slos"][0]["paging_minutes"] == 7.0
    assert "lead\\|ops" in text, "an approver's pipe must not break the Markdown"


def test_a_report_without_incident_objects_says_it_does_not_know_them() -> None:
    text, data = render(None)
    assert "Incidents are not known to this report" in text
    assert data["incidents"] is None
    quiet, quiet_data = render([])
    assert "Incidents started in the period: 0 (none)." in quiet
    assert quiet_data["incidents"] == []


def test_the_reports_config_map_belongs_to_the_plan_and_is_left_alone_by_the_children_watch() -> None:
    config_map = report_config_map(PLAN, "uid-1", {"weekly": "# weekly", "calendar-month-utc": "# month"})
    assert sorted(config_map["data"]) == ["calendar-month-utc.md", "weekly.md"]
    assert config_map["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert "app.kubernetes.io/managed-by" not in config_map["metadata"]["labels"]


def test_text_of_a_hand_declared_incident_cannot_break_the_table_or_inject_a_link() -> None:
    hostile = IncidentSummary.from_object(
        {
            "metadata": {"name": "api-hand"},
            "spec": {"severity": "SEV1 | [click](https://evil)", "postmortem": {"state": "Draft"}},
            "status": {"state": "<b>Open</b>", "startedAt": "2026-11-18T10:00:00Z", "slos": ["a|b"]},
        }
    )
    text, _ = render([hostile])
    (row,) = [line for line in text.splitlines() if line.startswith("| api-hand")]
    assert row.count(" | ") == 6, row  # seven cells, as the header has
    assert "[click](" not in row and "<b>" not in row
