"""Runbooks and the operations bundle: golden output, and user text that cannot inject Markdown or HTML."""

from __future__ import annotations

import os

import pytest

from sre_operator.generate.documents import operations_bundle, runbooks
from sre_operator.generate.markdown import escape_markdown
from sre_operator.models import parse_document
from tests.conftest import DATA, example_plans

GOLDEN = DATA / "golden"


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), "run with UPDATE_GOLDEN=1 and review the diff"


def test_runbooks_and_bundle_of_the_complete_example_match_their_golden_files() -> None:
    checkout = next(p for p in example_plans() if p.metadata.name == "checkout")
    documents = runbooks(checkout)
    assert sorted(documents) == [
        "availability.md",
        "incident-response.md",
        "index.md",
        "pagerduty-escalation-policy.json",
        "payment-latency.md",
    ]
    golden("checkout.availability.md", documents["availability.md"])
    golden("checkout.incident-response.md", documents["incident-response.md"])
    golden("checkout.operations.md", operations_bundle(checkout))


def test_the_escalation_becomes_a_pagerduty_escalation_policy() -> None:
    import json

    checkout = next(p for p in example_plans() if p.metadata.name == "checkout")
    policy = json.loads(runbooks(checkout)["pagerduty-escalation-policy.json"])["escalation_policy"]
    assert policy["name"] == "checkout (shop)" and policy["type"] == "escalation_policy"
    # Steps at 0m, 5m and 15m: each rule waits until the next step is due; the last 30 minutes before looping.
    rules = [(r["escalation_delay_in_minutes"], r["targets"][0]["id"]) for r in policy["escalation_rules"]]
    assert rules == [(5, "payments-primary"), (10, "payments-secondary"), (30, "payments-manager")]
    batch = next(p for p in example_plans() if p.metadata.name == "nightly-export")
    assert "pagerduty-escalation-policy.json" not in runbooks(batch), "no escalation steps, no policy"


def test_the_incident_guide_says_when_to_declare_and_what_each_severity_demands() -> None:
    batch = next(p for p in example_plans() if p.metadata.name == "nightly-export")
    guide = runbooks(batch)["incident-response.md"]
    assert "## When to declare an incident" in guide
    for name in ("SEV1", "SEV2", "SEV3", "SEV4", "SEV5"):
        assert f"| {name} |" in guide
    assert "Page now; an incident commander within 5 minutes" in guide
    for role in ("Incident commander", "Communications", "Scribe", "Operations"):
        assert f"- {role}: " in guide


def test_every_alert_has_a_runbook_section_with_the_five_headings() -> None:
    for plan in example_plans():
        for slo in plan.spec.slos:
            text = runbooks(plan)[f"{slo.name}.md"]
            for heading in ("### Meaning", "### Impact", "### Diagnosis", "### Mitigation", "### Escalation"):
                assert text.count(heading) == text.count("\n## SLO")


def test_a_minimal_plan_gets_generic_steps_and_its_assumptions_in_the_bundle() -> None:
    batch = next(p for p in example_plans() if p.metadata.name == "nightly-export")
    text = runbooks(batch)["freshness.md"]
    assert "_This runbook has generic steps: add spec.runbooks.entries.freshness to the plan._" in text
    bundle = operations_bundle(batch)
    assert "- No page receiver given: pages route to the Alertmanager default receiver." in bundle


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[click](http://evil.example)", "\\[click\\](http://evil.example)"),  # no link without brackets
        ("![x](http://evil.example/t.png)", "!\\[x\\](http://evil.example/t.png)"),
        ("<script>alert(1)</script>", "\\<script\\>alert(1)\\</script\\>"),
        ("# not a heading\n\n- not a list", "\\# not a heading - not a list"),
        ("- not a list", "\\- not a list"),
        ("1. not a list", "1\\. not a list"),
        ("23.10% of it", "23.10% of it"),
        ("-5% and #tag", "-5% and #tag"),
        ("a | b", "a \\| b"),
        ("&lt;b&gt; and AT&T", "&amp;lt;b&amp;gt; and AT&T"),
        ("Where pages go (spec.alerting.routing.page).", "Where pages go (spec.alerting.routing.page)."),
    ],
)
def test_user_text_is_literal_markdown(text: str, expected: str) -> None:
    assert escape_markdown(text) == expected


def test_injected_markdown_in_a_plan_stays_text() -> None:
    checkout = next(p for p in example_plans() if p.metadata.name == "checkout")
    document = checkout.model_dump(by_alias=True, mode="json")
    document["spec"]["runbooks"]["entries"]["availability"]["diagnosis"] = ["ok\n## Injected heading"]
    parsed = parse_document(document)
    assert parsed.model is not None
    text = runbooks(parsed.model)["availability.md"]  # type: ignore[arg-type]
    assert "\n## Injected heading" not in text
    assert "- ok ## Injected heading" in text  # mid-line: no heading, nothing to escape


def test_every_bundle_has_the_ten_sections_and_says_what_remains_to_decide() -> None:
    for plan in example_plans():
        bundle = operations_bundle(plan)
        numbered = [line.split(".")[0].removeprefix("## ") for line in bundle.splitlines() if line.startswith("## ")]
        assert numbered == [str(n) for n in range(1, 11)], plan.metadata.name
        assert "### What remains to decide" in bundle
    batch = operations_bundle(next(p for p in example_plans() if p.metadata.name == "nightly-export"))
    assert "- Where pages go (spec.alerting.routing.page)." in batch
    checkout = operations_bundle(next(p for p in example_plans() if p.metadata.name == "checkout"))
    assert "| 0.1% of requests; 43 minutes of full outage per 30d |" in checkout  # 0.1% of 30 days, by hand
    assert "Pages go to: PagerDuty (routing key in Secret pagerduty, key routing-key)" in checkout


def test_the_runbook_index_lists_every_slo_and_the_toil_to_automate() -> None:
    checkout = next(p for p in example_plans() if p.metadata.name == "checkout")
    index = runbooks(checkout)["index.md"]
    assert (
        "| availability | 99.9% over 30d | SLOErrorBudgetFastBurn, SLOErrorBudgetSlowBurn, SLOSignalMissing |" in index
    )
    assert "- restart stuck payment workers: liveness probe on queue age (planned)" in index
