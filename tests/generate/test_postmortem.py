"""The postmortem draft: prefilled with what the operator knows, the rest left for people, user text escaped."""

from __future__ import annotations

from typing import Any

from sre_operator.generate.postmortem import postmortem_config_map
from tests.conftest import example_plans


def incident(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "reliability.dev/v1alpha1",
        "kind": "Incident",
        "metadata": {"name": "checkout-20261125-1412-availability", "namespace": "shop", "uid": "u-1"},
        "spec": {"planRef": {"name": "checkout"}, "severity": "SEV2", **spec},
        "status": {
            "state": "Resolved",
            "slos": ["availability"],
            "alerts": [{"alertname": "SLOErrorBudgetFastBurn", "startsAt": "2026-11-25T14:12:00Z"}],
            "timeline": [
                {"at": "2026-11-25T14:12:00Z", "event": "SLOErrorBudgetFastBurn firing (slo=availability)"},
                {"at": "2026-11-25T15:42:00Z", "event": "every alert resolved: incident resolved"},
            ],
            "startedAt": "2026-11-25T14:12:00Z",
            "notifiedAt": "2026-11-25T14:13:30Z",
            "resolvedAt": "2026-11-25T15:42:00Z",
            "budgetConsumed": {"availability": 0.231},
            "postmortemRequired": True,
            "postmortemReason": "spent 23% of the availability budget (policy outage rule: 20%; at least one P0 action)",
        },
    }


def checkout() -> Any:
    return next(p for p in example_plans() if p.metadata.name == "checkout")


def test_the_draft_is_prefilled_with_impact_detection_and_timeline() -> None:
    draft = postmortem_config_map(checkout(), incident(summary="Checkout availability fast burn"))
    assert draft["metadata"]["name"] == "checkout-20261125-1412-availability-postmortem"
    assert draft["metadata"]["ownerReferences"][0]["uid"] == "u-1"
    # Not labelled as a generated child: the plan's repairs must never treat it as a stray.
    assert "app.kubernetes.io/managed-by" not in draft["metadata"]["labels"]
    text = draft["data"]["postmortem.md"]
    assert text.startswith("# Postmortem: Checkout availability fast burn")
    assert "| Duration | 1 h 30 min (`2026-11-25T14:12:00Z` to `2026-11-25T15:42:00Z`) |" in text
    assert "| Budget spent, SLO availability | 23.10% of the 30d budget |" in text
    assert "| Journeys affected | place-order |" in text
    assert "the operator's receiver at 2026-11-25T14:13:30Z, 2 min after the alert started" in text
    assert "| `2026-11-25T15:42:00Z` | every alert resolved: incident resolved |" in text
    for section in ("## Root causes", "## Trigger", "## Resolution", "## Action items", "### What went well",
                    "### What went wrong", "### Where we got lucky"):  # fmt: skip
        assert section in text
    assert "at least one P0 action_ | | P0 |" in text


def test_user_text_cannot_inject_markdown() -> None:
    draft = postmortem_config_map(checkout(), incident(summary="[click](http://evil) <script>x</script>\n# owned"))
    text = draft["data"]["postmortem.md"]
    assert "[click](http://evil)" not in text and "<script>" not in text
    assert "\n# owned" not in text
